import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalCertificateAuthority, RDS_CA_BUNDLE_ENV } from '../../../local/postgres/tls.ts';

const dir = mkdtempSync(join(tmpdir(), 'nightshift-tls-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('LocalCertificateAuthority', () => {
  describe('makes a CA', () => {
    it('self-signs a CA certificate valid now, that may sign certificates', async () => {
      const ca = new X509Certificate((await LocalCertificateAuthority.create()).certificatePem);
      expect(ca.ca).toBe(true);
      expect(ca.subject).toContain('CN=Nightshift local RDS CA');
      expect(ca.issuer).toBe(ca.subject);
      expect(ca.verify(ca.publicKey)).toBe(true);
      expect(Date.parse(ca.validFrom)).toBeLessThan(Date.now());
      expect(Date.parse(ca.validTo)).toBeGreaterThan(Date.now() + 365 * 24 * 3600_000);
    });

    it('makes a different CA each time', async () => {
      const [a, b] = await Promise.all([
        LocalCertificateAuthority.create(),
        LocalCertificateAuthority.create(),
      ]);
      expect(a.certificatePem).not.toBe(b.certificatePem);
    });
  });

  describe('issues server certificates', () => {
    it('signs a certificate for localhost, 127.0.0.1 and ::1 that is no CA, with a PKCS #8 key', async () => {
      const authority = await LocalCertificateAuthority.create();
      const ca = new X509Certificate(authority.certificatePem);
      const issued = await authority.issueServerCertificate();
      const cert = new X509Certificate(issued.certificatePem);
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(cert.checkIssued(ca)).toBe(true);
      expect(cert.ca).toBe(false);
      expect(cert.checkHost('localhost')).toBe('localhost');
      expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(cert.checkIP('::1')).toBe('::1');
      expect(cert.checkHost('example.com')).toBeUndefined();
      expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // serverAuth
      expect(issued.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    });

    it('does not verify against another CA', async () => {
      const [authority, other] = await Promise.all([
        LocalCertificateAuthority.create(),
        LocalCertificateAuthority.create(),
      ]);
      const cert = new X509Certificate((await authority.issueServerCertificate()).certificatePem);
      expect(cert.verify(new X509Certificate(other.certificatePem).publicKey)).toBe(false);
    });
  });

  describe('writes the CA bundle', () => {
    it('writes the CA certificate as a PEM file anyone may read, the file runbooks trust', async () => {
      const authority = await LocalCertificateAuthority.create();
      const path = join(dir, 'bundle.pem');
      await authority.writeBundle(path);
      expect(readFileSync(path, 'utf8').trim()).toBe(authority.certificatePem.trim());
      expect(statSync(path).mode & 0o777).toBe(0o644);
      expect(RDS_CA_BUNDLE_ENV).toBe('NIGHTSHIFT_RDS_CA_BUNDLE');
    });
  });
});

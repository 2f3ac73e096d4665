/**
 * TLS for the local world's databases: a certificate authority generated when the world starts, and a
 * server certificate per database server, for `localhost`, `127.0.0.1` and `::1`, signed by it. Clients
 * trust the CA through a PEM bundle file, the way runbooks trust Amazon's RDS CA bundle: the world puts its
 * path in {@link RDS_CA_BUNDLE_ENV}, and a runbook passes the file's contents to `pg` as
 * `ssl: { ca, rejectUnauthorized: true }`. Keys are ECDSA P-256 made with WebCrypto (no openssl CLI).
 *
 * @module
 */
import { webcrypto } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
// @peculiar/x509 needs a Reflect metadata polyfill loaded before it.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

/** The environment variable naming the PEM file of CA certificates that runbooks trust for RDS. */
export const RDS_CA_BUNDLE_ENV = 'NIGHTSHIFT_RDS_CA_BUNDLE';

/** Host names and addresses a server certificate is issued for by default. */
export const LOCAL_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/** A server's certificate (PEM) and its private key (PKCS #8 PEM). */
export interface ServerCertificate {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

const crypto = webcrypto;
const KEY: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const DAY = 24 * 60 * 60 * 1000;

/** Certificates are checked by OpenSSL against the machine's real time, not the world's virtual clock. */
const validity = () => ({
  notBefore: new Date(Date.now() - DAY),
  notAfter: new Date(Date.now() + 3650 * DAY),
});

const isAddress = (host: string) => /^[0-9.]+$/.test(host) || host.includes(':');

/**
 * A self-signed certificate authority that lives as long as the world: it issues the servers' certificates
 * and its certificate is the bundle clients trust. Its private key never leaves the process.
 */
export class LocalCertificateAuthority {
  private constructor(
    private readonly keys: webcrypto.CryptoKeyPair,
    private readonly certificate: x509.X509Certificate,
  ) {}

  /** Generates a new CA (a fresh key pair and a self-signed certificate valid for ten years). */
  static async create(commonName = 'Nightshift local RDS CA'): Promise<LocalCertificateAuthority> {
    const keys = (await crypto.subtle.generateKey(KEY, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const certificate = await x509.X509CertificateGenerator.createSelfSigned(
      {
        name: `CN=${commonName}, O=Nightshift`,
        keys,
        signingAlgorithm: SIGNING,
        ...validity(),
        extensions: [
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        ],
      },
      crypto,
    );
    return new LocalCertificateAuthority(keys, certificate);
  }

  /** The CA's certificate, PEM: the contents of the CA bundle. */
  get certificatePem(): string {
    return this.certificate.toString('pem');
  }

  /**
   * Issues a server certificate (and a new key) for the given host names and IP addresses, signed by this CA.
   *
   * @param hosts Subject alternative names; the first is also the common name. @default {@link LOCAL_HOSTS}
   */
  async issueServerCertificate(hosts: readonly string[] = LOCAL_HOSTS): Promise<ServerCertificate> {
    const keys = (await crypto.subtle.generateKey(KEY, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const certificate = await x509.X509CertificateGenerator.create(
      {
        subject: `CN=${hosts[0] ?? 'localhost'}, O=Nightshift`,
        issuer: this.certificate.subject,
        publicKey: keys.publicKey,
        signingKey: this.keys.privateKey,
        signingAlgorithm: SIGNING,
        ...validity(),
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension(
            hosts.map((host) => ({ type: isAddress(host) ? 'ip' : 'dns', value: host })),
          ),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
          await x509.AuthorityKeyIdentifierExtension.create(this.keys.publicKey, false, crypto),
        ],
      },
      crypto,
    );
    const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
    return {
      certificatePem: certificate.toString('pem'),
      privateKeyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
    };
  }

  /** Writes the CA bundle (this CA's certificate, PEM) to `path`, readable by anyone (it holds no secret). */
  async writeBundle(path: string): Promise<void> {
    await writeFile(path, `${this.certificatePem}\n`, { mode: 0o644 });
  }
}

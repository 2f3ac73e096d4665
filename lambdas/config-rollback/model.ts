/**
 * The data config rollback reasons about. Times are epoch milliseconds. Config rollback runs inside the ECS
 * rollback function (one alarm, one observation, one claim per service) and owns config changes.
 */

/** How a service reads a config parameter, as configured. */
export interface ConfigSelector {
  readonly parameter?: string;
  readonly path?: string;
  readonly readsAt: 'start' | 'run-time';
  readonly cacheTtlSeconds: number;
}

/** Whether the selector names the parameter, or a path above it. */
export function selects(selector: ConfigSelector, parameter: string): boolean {
  return (
    selector.parameter === parameter || (selector.path !== undefined && parameter.startsWith(selector.path))
  );
}

/** One version of a parameter, from GetParameterHistory. */
export interface ConfigVersion {
  readonly version: number;
  /** The value as SSM returned it without decryption (a SecureString's is ciphertext). Never logged. */
  readonly value: string;
  readonly type: string;
  readonly tier?: string;
  readonly dataType?: string;
  readonly modifiedAt: number;
  readonly modifiedBy?: string;
  readonly labels: readonly string[];
}

/** A parameter's history and how the service reads it. */
export interface ConfigHistory {
  readonly name: string;
  readonly readsAt: 'start' | 'run-time';
  readonly cacheTtlMs: number;
  /** Oldest first. */
  readonly versions: readonly ConfigVersion[];
}

/** The label Nightshift puts on the version it wrote back: which version it restored. */
export const RESTORED_LABEL_PREFIX = 'nightshift-restored-v';

export function restoredLabel(version: number): string {
  return `${RESTORED_LABEL_PREFIX}${version}`;
}

/** The version a Nightshift write restored, from its label; undefined for any other version. */
export function restoredFrom(version: ConfigVersion): number | undefined {
  const label = version.labels.find((l) => l.startsWith(RESTORED_LABEL_PREFIX));
  const n = label === undefined ? Number.NaN : Number(label.slice(RESTORED_LABEL_PREFIX.length));
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** The config part of a claim: which parameter is written back to which version, and what was written. */
export interface ConfigClaimPart {
  readonly parameter: string;
  /** The suspect version (the change rolled back). */
  readonly fromVersion: number;
  /** The known-good version whose value is written back. */
  readonly toVersion: number;
  /** The parameter's latest version when the rollback was planned: a write after it is looked for on resume. */
  readonly latestVersion: number;
  readonly readsAt: 'start' | 'run-time';
  readonly cacheTtlMs: number;
  /** The version Nightshift wrote, and when. */
  readonly writtenVersion?: number;
  readonly writtenAt?: number;
}

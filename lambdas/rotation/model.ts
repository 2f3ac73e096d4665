/**
 * Rotation of SSM-stored secrets: one protocol for every kind, a reconciler per secret. What is observed,
 * the policy config gives, and the steps. Pure data.
 *
 * The parameter's plain name always returns a value that works: the new value waits in a companion
 * parameter (`<name>.pending`, same KMS key) until it has been set where it is checked and tested; only
 * then is it put under the plain name (a new version, labelled `current`, the version before it labelled
 * `previous` and still readable as `<name>:previous` through the grace period).
 *
 * @module
 */

/** How a secret's new value comes to be and where it is checked. */
export const ROTATION_KINDS = ['generated', 'postgres-single', 'postgres-alternating', 'external'] as const;
export type RotationKind = (typeof ROTATION_KINDS)[number];

/** The labels Nightshift owns on a rotated parameter's versions (SSM's rules: letters first, ≤ 100). */
export const CURRENT = 'current';
export const PREVIOUS = 'previous';
export const OWN_LABELS: readonly string[] = [CURRENT, PREVIOUS];

/** The companion parameter that holds a rotation's new value until it is finished. */
export const pendingName = (name: string) => `${name}.pending`;

/**
 * The steps, in order: `create` the new value in the pending place; `set` it where it is checked (a
 * database role's password; nothing for a generated key both sides read); `test` that it works; `finish`:
 * put it under the plain name and move the labels. Each is idempotent by the rotation id.
 */
export const STEPS = ['create', 'set', 'test', 'finish'] as const;
export type RotationStep = (typeof STEPS)[number];

/** One version of the main parameter, as GetParameterHistory shows it. */
export interface VersionInfo {
  readonly version: number;
  readonly labels: readonly string[];
  /** LastModifiedDate, epoch ms. */
  readonly at: number;
}

/** What a rotation run observed of one secret. */
export interface ObservedSecret {
  readonly name: string;
  /** The main parameter's versions, oldest first; empty when it does not exist. */
  readonly versions: readonly VersionInfo[];
  /**
   * The pending companion, when it exists: the rotation it was created for (from its description;
   * `undefined` when a person put it there, as for an `external` secret) and when.
   */
  readonly pending?: {
    readonly rotationId?: string;
    readonly at: number;
    /** A SecureString: a String value has sat unencrypted and is never promoted. */
    readonly secure: boolean;
  };
  /** Whether the main parameter's latest version already holds the pending value (finish's put is done). */
  readonly latestIsPending: boolean;
  /** The per-secret lock, when an item exists. */
  readonly lock?: {
    readonly rotationId: string;
    /** The last step it finished; none yet when absent. */
    readonly step?: RotationStep;
    readonly owner: string;
    readonly leaseUntil: number;
    /**
     * The version `finish` put under the plain name, recorded before the pending value is deleted: the proof
     * that a rotation whose pending value is gone did finish (a person may delete it too).
     */
    readonly putVersion?: number;
    /** The digest this function pinned for the pending value (the proof that it made or tested it). */
    readonly pendingDigest?: string;
    /** An external value the check refused: not presented to the issuer again. */
    readonly refusedDigest?: string;
  };
  /** When the last rotation finished, from the state table; else the `current` version's date is used. */
  readonly lastRotatedAt?: number;
}

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** When a rotation may start: days of the week and an hour range, UTC (`endHour` exclusive). */
export interface RotationWindow {
  readonly days: readonly Weekday[];
  readonly startHour: number;
  readonly endHour: number;
}

/** What config says about one secret's rotation. */
export interface RotationPolicy {
  readonly kind: RotationKind;
  /** Days between rotations. */
  readonly cadenceDays: number;
  /** Days the previous value stays readable after a rotation (consumers and verifiers accept both). */
  readonly graceDays: number;
  readonly window?: RotationWindow;
  /** `external`: days before the due date that a warning is raised. @default 30 */
  readonly noticeDays?: number;
}

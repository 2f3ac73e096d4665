import { humanDuration } from '#shared/time';
import type { AlarmWindow, RevisionRecord } from '../ecs-rollback/model.ts';
import { type ConfigHistory, type ConfigVersion, restoredFrom } from './model.ts';

/** What the runbook concludes about one version of a config parameter. */
export interface ConfigTenure {
  readonly parameter: string;
  readonly readsAt: 'start' | 'run-time';
  readonly cacheTtlMs: number;
  readonly version: ConfigVersion;
  /** When the next version was written (it stops being current then); undefined for the latest. */
  readonly supersededAt?: number;
  /** When it can first have reached the service; undefined if it never did. */
  readonly effectiveAt?: number;
  /** The version Nightshift restored when it wrote this one back; such a version is never a suspect. */
  readonly restores?: number;
  readonly knownGood: boolean;
  readonly reason: string;
}

function overlaps(window: AlarmWindow, from: number, to: number): boolean {
  return window.start < to && (window.end === undefined || window.end > from);
}

/**
 * When a version written at `writtenAt` can first have reached the service. Run-time readers: the write
 * plus the cache TTL. Start-time readers: the first deployment that completed after the write (a same-revision
 * `force-new-deployment` counts: it is that config's deployment), or — for the revision that was primary when
 * Nightshift first saw the service — its creation, if that came after the write.
 */
export function effectiveAt(
  history: Pick<ConfigHistory, 'readsAt' | 'cacheTtlMs'>,
  writtenAt: number,
  revisions: readonly RevisionRecord[],
): number | undefined {
  if (history.readsAt === 'run-time') return writtenAt + history.cacheTtlMs;
  const reached = revisions
    .map((r) =>
      r.completedAt !== undefined
        ? r.completedAt
        : r.origin === 'bootstrap' && r.primarySince > writtenAt
          ? r.primarySince
          : undefined,
    )
    .filter((t): t is number => t !== undefined && t > writtenAt);
  return reached.length > 0 ? Math.min(...reached) : undefined;
}

/**
 * Known-good is earned as for a task definition: a version is known-good once it was in effect and current
 * for the bake window with none of the service's alarms in ALARM in that time. A version Nightshift wrote back
 * inherits known-good from the version it restored. A version superseded before it took effect never did.
 */
export function assessConfig(
  history: ConfigHistory,
  revisions: readonly RevisionRecord[],
  windows: readonly AlarmWindow[],
  now: number,
  bakeMs: number,
): ConfigTenure[] {
  const versions = history.versions;
  const earned = versions.map((version, i): ConfigTenure => {
    const supersededAt = versions[i + 1]?.modifiedAt;
    const base = {
      parameter: history.name,
      readsAt: history.readsAt,
      cacheTtlMs: history.cacheTtlMs,
      version,
      supersededAt,
      restores: verifiedRestore(versions, version),
    };
    const effective = effectiveAt(history, version.modifiedAt, revisions);
    if (effective === undefined || (supersededAt !== undefined && effective >= supersededAt)) {
      return { ...base, knownGood: false, reason: 'never reached the service' };
    }
    const withEffect = { ...base, effectiveAt: effective };
    const bakeEnd = effective + bakeMs;
    const until = Math.min(supersededAt ?? now, now);
    if (until < bakeEnd) {
      const held = Math.max(0, until - effective);
      return {
        ...withEffect,
        knownGood: false,
        reason: `in effect for ${humanDuration(held)} of a ${humanDuration(bakeMs)} bake window`,
      };
    }
    const noisy = windows.find((w) => overlaps(w, effective, bakeEnd));
    if (noisy) {
      return {
        ...withEffect,
        knownGood: false,
        reason: `alarm ${noisy.alarmName} was in ALARM during its bake window`,
      };
    }
    return {
      ...withEffect,
      knownGood: true,
      reason: `in effect and current through the ${humanDuration(bakeMs)} bake window with alarms quiet`,
    };
  });
  const good = new Set(earned.filter((t) => t.knownGood).map((t) => t.version.version));
  return earned.map((t) => {
    if (t.restores === undefined) return t;
    // A write-back of a version that is not known-good proves nothing: an ordinary change (a suspect too).
    if (!good.has(t.restores)) return { ...t, restores: undefined };
    return t.effectiveAt !== undefined
      ? { ...t, knownGood: true, reason: `Nightshift's write-back of known-good v${t.restores}` }
      : t;
  });
}

/**
 * The version a write-back restored, believed only when the labelled version holds that earlier version's
 * value and type: anyone with `ssm:LabelParameterVersion` can put the label on any version, and a forged
 * label must neither exempt a change from suspicion nor hand a value known-good it never earned.
 */
function verifiedRestore(versions: readonly ConfigVersion[], version: ConfigVersion): number | undefined {
  const restores = restoredFrom(version);
  if (restores === undefined || restores >= version.version) return undefined;
  const source = versions.find((v) => v.version === restores);
  return source !== undefined && source.value === version.value && source.type === version.type
    ? restores
    : undefined;
}

/** The suspect config change of an alarm episode, and what to do about it. */
export type ConfigDecision =
  | {
      readonly kind: 'rollback';
      readonly suspect: ConfigTenure;
      readonly target: ConfigTenure;
      readonly latestVersion: number;
      readonly reason: string;
    }
  | { readonly kind: 'refuse'; readonly suspect: ConfigTenure; readonly reason: string };

/** `/webhooks/api/WEBHOOK_TIMEOUT_MS v4`. */
export function versionLabel(parameter: string, version: number): string {
  return `${parameter} v${version}`;
}

/**
 * The config change an alarm is blamed on, if any: of the versions in effect when the alarm entered ALARM,
 * the most recent change that took effect within the bake window before it, was written after the current
 * task definition first became primary (a config written before a deployment of a new revision is that
 * deployment's change: the task-definition rollback owns it), is not known-good, and is not Nightshift's own
 * write-back. Undefined leaves the episode to the task-definition plan.
 */
export function planConfig(o: {
  readonly tenures: readonly (readonly ConfigTenure[])[];
  readonly alarmStart: number;
  readonly alarmName: string;
  readonly bakeMs: number;
  /** When the service's current task definition first became primary. */
  readonly revisionSince: number;
}): ConfigDecision | undefined {
  let suspect: { tenure: ConfigTenure; all: readonly ConfigTenure[] } | undefined;
  for (const all of o.tenures) {
    const inEffect = all.filter((t) => t.effectiveAt !== undefined && t.effectiveAt <= o.alarmStart).at(-1);
    if (!inEffect || inEffect.effectiveAt === undefined) continue;
    if (o.alarmStart - inEffect.effectiveAt > o.bakeMs) continue;
    if (inEffect.version.modifiedAt <= o.revisionSince) continue;
    if (inEffect.knownGood || inEffect.restores !== undefined) continue;
    if ((suspect?.tenure.effectiveAt ?? Number.NEGATIVE_INFINITY) < inEffect.effectiveAt) {
      suspect = { tenure: inEffect, all };
    }
  }
  if (!suspect) return undefined;
  const s = suspect.tenure;
  const label = versionLabel(s.parameter, s.version.version);
  const age = humanDuration(o.alarmStart - (s.effectiveAt ?? 0));
  const why = `${label} reached the service ${age} before alarm ${o.alarmName} and is not known-good`;
  if (s.version.type === 'SecureString') {
    return {
      kind: 'refuse',
      suspect: s,
      reason: `${why}, but it is a SecureString: config rollback writes String and StringList parameters only`,
    };
  }
  const latest = suspect.all.at(-1)?.version;
  if (latest && latest.version > s.version.version) {
    return {
      kind: 'refuse',
      suspect: s,
      reason: `${why}, but v${latest.version} was written after it and has not reached the service yet: someone is changing it; not overwriting their value`,
    };
  }
  const target = suspect.all.filter((t) => t.knownGood && t.version.version < s.version.version).at(-1);
  if (!target) {
    return { kind: 'refuse', suspect: s, reason: `${why}; no earlier known-good version to restore` };
  }
  if (target.version.type !== s.version.type) {
    return {
      kind: 'refuse',
      suspect: s,
      reason: `${why}; known-good v${target.version.version} is a ${target.version.type}, the parameter now a ${s.version.type}`,
    };
  }
  return {
    kind: 'rollback',
    suspect: s,
    target,
    latestVersion: suspect.all.at(-1)?.version.version ?? s.version.version,
    reason: `${why}; writing known-good v${target.version.version} back`,
  };
}

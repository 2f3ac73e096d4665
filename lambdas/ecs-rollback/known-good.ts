import { humanDuration } from '#shared/time';
import type { AlarmWindow, RevisionRecord } from './model.ts';

/** What the runbook concludes about one revision record. */
export interface RevisionAssessment {
  readonly record: RevisionRecord;
  /** When another deployment replaced it as primary; undefined while it is still the latest record. */
  readonly tenureEnd?: number;
  readonly knownGood: boolean;
  readonly reason: string;
}

function overlaps(window: AlarmWindow, from: number, to: number): boolean {
  return window.start < to && (window.end === undefined || window.end > from);
}

/**
 * Known-good is earned: a revision becomes known-good once it stayed the service's primary revision for the
 * bake window after its deployment completed, with none of the service's alarms in ALARM in that time.
 * A revision Nightshift deployed as a rollback inherits known-good from its source.
 *
 * Tenure ends when the next recorded deployment became primary. A deployment ECS rolled back on its own
 * (circuit breaker) also ends the tenure of the revision before it: conservative, never optimistic.
 */
export function assessRevisions(
  records: readonly RevisionRecord[],
  windows: readonly AlarmWindow[],
  now: number,
  bakeMs: number,
): RevisionAssessment[] {
  const ordered = [...records].sort((a, b) => a.primarySince - b.primarySince);
  const earned = ordered.map((record, i): RevisionAssessment => {
    const tenureEnd = ordered[i + 1]?.primarySince;
    if (record.origin === 'rollback') return { record, tenureEnd, knownGood: false, reason: 'rollback' };
    if (record.completedAt === undefined) {
      return { record, tenureEnd, knownGood: false, reason: 'deployment never completed' };
    }
    const bakeEnd = record.completedAt + bakeMs;
    const until = Math.min(tenureEnd ?? now, now);
    if (until < bakeEnd) {
      const held = Math.max(0, until - record.completedAt);
      return {
        record,
        tenureEnd,
        knownGood: false,
        reason: `primary for ${humanDuration(held)} of a ${humanDuration(bakeMs)} bake window`,
      };
    }
    const noisy = windows.find((w) => overlaps(w, record.completedAt ?? 0, bakeEnd));
    if (noisy) {
      return {
        record,
        tenureEnd,
        knownGood: false,
        reason: `alarm ${noisy.alarmName} was in ALARM during its bake window`,
      };
    }
    return {
      record,
      tenureEnd,
      knownGood: true,
      reason: `stayed primary through the ${humanDuration(bakeMs)} bake window with alarms quiet`,
    };
  });
  const goodArns = new Set(earned.filter((a) => a.knownGood).map((a) => a.record.taskDefinitionArn));
  return earned.map((a) => {
    if (a.record.origin !== 'rollback') return a;
    const source = a.record.inheritsFrom;
    if (source !== undefined && goodArns.has(source)) {
      return { ...a, knownGood: true, reason: `Nightshift rollback of known-good ${source}` };
    }
    const quiet = bakedAfterEpisode(a.record, a.tenureEnd, windows, now, bakeMs);
    return quiet
      ? { ...a, knownGood: true, reason: quiet }
      : {
          ...a,
          reason: `Nightshift rollback of ${source ?? 'an unknown revision'} that is no longer known-good`,
        };
  });
}

/**
 * A Nightshift deployment completes while the alarms of the episode it ends still fire (a config rollback's
 * redeployment of a revision that never earned known-good, say): its bake window starts once those alarms
 * cleared. A reason when it stayed primary through that window with every alarm quiet.
 */
function bakedAfterEpisode(
  record: RevisionRecord,
  tenureEnd: number | undefined,
  windows: readonly AlarmWindow[],
  now: number,
  bakeMs: number,
): string | undefined {
  if (record.completedAt === undefined) return undefined;
  let start = record.completedAt;
  for (;;) {
    const open = windows.filter((w) => w.start <= start && (w.end === undefined || w.end > start));
    if (open.length === 0) break;
    if (open.some((w) => w.end === undefined)) return undefined;
    start = Math.max(...open.map((w) => w.end ?? start));
  }
  const bakeEnd = start + bakeMs;
  if (Math.min(tenureEnd ?? now, now) < bakeEnd) return undefined;
  if (windows.some((w) => overlaps(w, start, bakeEnd))) return undefined;
  return `Nightshift's deployment, primary through the ${humanDuration(bakeMs)} bake window after its episode's alarms cleared, with alarms quiet`;
}

/** True when any record of the revision is known-good. */
export function isKnownGood(assessments: readonly RevisionAssessment[], taskDefinitionArn: string): boolean {
  return assessments.some((a) => a.knownGood && a.record.taskDefinitionArn === taskDefinitionArn);
}

/** The most recent known-good revision other than `current`, with its best record (stored JSON and digests). */
export function selectRollbackTarget(
  assessments: readonly RevisionAssessment[],
  current: string,
): RevisionRecord | undefined {
  const candidates = assessments.filter((a) => a.knownGood && a.record.taskDefinitionArn !== current);
  const latest = candidates.at(-1)?.record;
  if (!latest) return undefined;
  // Prefer the record of that revision that carries its definition and digests.
  const same = candidates
    .filter((a) => a.record.taskDefinitionArn === latest.taskDefinitionArn)
    .map((a) => a.record);
  return same.reverse().find((r) => r.taskDefinitionJson !== undefined) ?? latest;
}

/** The records plus the primary deployment ECS shows now, if no record of it exists yet. */
export function withObservedPrimary(
  records: readonly RevisionRecord[],
  primary: { id: string; taskDefinitionArn: string; createdAt: number },
): RevisionRecord[] {
  if (records.some((r) => r.deploymentId === primary.id)) return [...records];
  return [
    ...records,
    {
      deploymentId: primary.id,
      taskDefinitionArn: primary.taskDefinitionArn,
      primarySince: primary.createdAt,
      origin: 'deployment',
    },
  ];
}

/** When the current revision's unbroken run as primary began: its records back to another revision's. */
export function tenureStart(
  records: readonly RevisionRecord[],
  current: string,
  observedSince: number,
): number {
  const ordered = [...records].sort((a, b) => a.primarySince - b.primarySince);
  let start = observedSince;
  for (let i = ordered.length - 1; i >= 0; i--) {
    const r = ordered[i];
    if (!r || r.taskDefinitionArn !== current) break;
    start = Math.min(start, r.primarySince);
  }
  return start;
}

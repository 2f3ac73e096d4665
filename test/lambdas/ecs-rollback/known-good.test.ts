import { describe, expect, it } from 'vitest';
import { assessRevisions } from '../../../lambdas/ecs-rollback/known-good.ts';
import type { AlarmWindow, RevisionRecord } from '../../../lambdas/ecs-rollback/model.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const BAKE = 2 * HOUR;
const T0 = Date.parse('2026-11-20T09:00:00.000Z');
const td = (rev: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/webhooks-api:${rev}`;

/** rev 2, a person's deployment that never baked; then Nightshift's redeployment of it (a config rollback). */
const person: RevisionRecord = {
  deploymentId: 'ecs-svc/2',
  taskDefinitionArn: td(2),
  primarySince: T0 - 30 * MIN,
  completedAt: T0 - 25 * MIN,
  origin: 'deployment',
};
const nightshift: RevisionRecord = {
  deploymentId: 'ecs-svc/forced',
  taskDefinitionArn: td(2),
  primarySince: T0,
  completedAt: T0 + 5 * MIN,
  origin: 'rollback',
  inheritsFrom: td(2),
};
const alarm = (start: number, end?: number): AlarmWindow => ({
  alarmName: 'webhooks-api-5xx-rate-high',
  start,
  ...(end === undefined ? {} : { end }),
});

const assess = (windows: AlarmWindow[], now: number, next?: RevisionRecord) =>
  assessRevisions([person, nightshift, ...(next ? [next] : [])], windows, now, BAKE).find(
    (a) => a.record.deploymentId === 'ecs-svc/forced',
  );

describe("a Nightshift deployment whose source is not known-good: a bake after its episode's alarms", () => {
  it.each([
    [
      'the alarm cleared a minute after it completed, then quiet for the bake',
      [alarm(T0 - 10 * MIN, T0 + 6 * MIN)],
      T0 + 6 * MIN + BAKE,
      true,
    ],
    [
      'quiet, but not yet a whole bake since the alarm cleared',
      [alarm(T0 - 10 * MIN, T0 + 6 * MIN)],
      T0 + 5 * MIN + BAKE,
      false,
    ],
    ['the alarm still fires', [alarm(T0 - 10 * MIN)], T0 + 10 * HOUR, false],
    [
      'another alarm fired during the bake after the episode',
      [alarm(T0 - 10 * MIN, T0 + 6 * MIN), alarm(T0 + HOUR, T0 + HOUR + MIN)],
      T0 + 10 * HOUR,
      false,
    ],
    [
      'a second alarm kept the episode open longer: the bake starts when the last cleared',
      [alarm(T0 - 10 * MIN, T0 + 6 * MIN), alarm(T0 + 5 * MIN, T0 + 30 * MIN)],
      T0 + 30 * MIN + BAKE,
      true,
    ],
    [
      'the same, looked at a minute too early',
      [alarm(T0 - 10 * MIN, T0 + 6 * MIN), alarm(T0 + 5 * MIN, T0 + 30 * MIN)],
      T0 + 29 * MIN + BAKE,
      false,
    ],
  ])('%s → known-good %s', (_what, windows, now, good) => {
    expect(assess(windows, now)?.knownGood).toBe(good);
  });

  it('never after another deployment ended its tenure before the bake was through', () => {
    const next: RevisionRecord = {
      deploymentId: 'ecs-svc/3',
      taskDefinitionArn: td(3),
      primarySince: T0 + HOUR,
      origin: 'deployment',
    };
    expect(assess([alarm(T0 - 10 * MIN, T0 + 6 * MIN)], T0 + 10 * HOUR, next)?.knownGood).toBe(false);
  });

  it('a Nightshift rollback of a known-good source inherits it at once, alarm or not', () => {
    const good: RevisionRecord = { ...person, completedAt: T0 - 5 * HOUR, primarySince: T0 - 5 * HOUR - MIN };
    const [, rollback] = assessRevisions([good, nightshift], [alarm(T0 - 10 * MIN)], T0 + 6 * MIN, BAKE);
    expect(rollback).toMatchObject({ knownGood: true, reason: `Nightshift rollback of known-good ${td(2)}` });
  });
});

import { describe, expect, it } from 'vitest';
import type { ConfigHistory, ConfigVersion } from '../../../lambdas/config-rollback/model.ts';
import { assessConfig, effectiveAt, planConfig } from '../../../lambdas/config-rollback/plan.ts';
import type { RevisionRecord } from '../../../lambdas/ecs-rollback/model.ts';

const MIN = 60_000;
const BAKE = 120 * MIN;
const T = Date.parse('2026-11-20T10:00:00.000Z');
const ARN = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/api:2';

const v = (version: number, modifiedAt: number, extra: Partial<ConfigVersion> = {}): ConfigVersion => ({
  version,
  value: `value-${version}`,
  type: 'String',
  modifiedAt,
  labels: [],
  ...extra,
});
const history = (
  versions: ConfigVersion[],
  readsAt: 'start' | 'run-time' = 'start',
  cacheTtlMs = 5 * MIN,
): ConfigHistory => ({ name: '/app/TIMEOUT', readsAt, cacheTtlMs, versions });
const deployment = (
  primarySince: number,
  completedAt?: number,
  origin: RevisionRecord['origin'] = 'deployment',
) =>
  ({
    deploymentId: `d-${primarySince}`,
    taskDefinitionArn: ARN,
    primarySince,
    completedAt,
    origin,
  }) as RevisionRecord;

describe('effectiveAt', () => {
  it.each([
    ['run-time: the write plus the cache TTL', 'run-time', [], T + 5 * MIN],
    [
      'start: the first deployment completing after the write',
      'start',
      [deployment(T - MIN, T + 3 * MIN), deployment(T + 4 * MIN, T + 9 * MIN)],
      T + 3 * MIN,
    ],
    [
      'start: a deployment completed before the write does not carry it',
      'start',
      [deployment(T - 9 * MIN, T - 4 * MIN)],
      undefined,
    ],
    [
      'start: the bootstrap revision created after the write carries it',
      'start',
      [deployment(T + MIN, undefined, 'bootstrap')],
      T + MIN,
    ],
    ['start: no deployment since the write: never reached the service', 'start', [], undefined],
  ] as const)('%s', (_what, readsAt, revisions, expected) => {
    expect(effectiveAt(history([], readsAt), T, revisions)).toBe(expected);
  });
});

describe('assessConfig', () => {
  const deployments = [
    deployment(T - 10 * 60 * MIN, T - 10 * 60 * MIN + 5 * MIN),
    deployment(T - 15 * MIN, T - 10 * MIN),
  ];
  it('earns known-good through the bake window with alarms quiet, and not while it lasts or when an alarm fired', () => {
    const h = history([v(1, T - 11 * 60 * MIN), v(2, T - 20 * MIN)]);
    const [one, two] = assessConfig(h, deployments, [], T, BAKE);
    expect(one).toMatchObject({ knownGood: true, effectiveAt: T - 10 * 60 * MIN + 5 * MIN });
    expect(two).toMatchObject({ knownGood: false, effectiveAt: T - 10 * MIN });
    expect(two?.reason).toMatch(/in effect for 10 minutes of a 2 hours bake window/);
    const noisy = assessConfig(
      h,
      deployments,
      [{ alarmName: 'a', start: T - 9 * 60 * MIN, end: T - 8 * 60 * MIN }],
      T,
      BAKE,
    );
    expect(noisy[0]).toMatchObject({ knownGood: false });
    expect(noisy[0]?.reason).toMatch(/alarm a was in ALARM/);
  });

  it('a version superseded before it reached the service never took effect', () => {
    const h = history([v(1, T - 11 * 60 * MIN), v(2, T - 30 * MIN), v(3, T - 20 * MIN)]);
    expect(assessConfig(h, deployments, [], T, BAKE)[1]).toMatchObject({
      knownGood: false,
      reason: 'never reached the service',
    });
  });

  it("Nightshift's write-back inherits known-good from the version it restored", () => {
    const h = history([
      v(1, T - 11 * 60 * MIN),
      v(2, T - 20 * MIN),
      v(3, T - 12 * MIN, { labels: ['nightshift-restored-v1'], value: 'value-1' }),
    ]);
    const third = assessConfig(h, [...deployments, deployment(T - 11 * MIN, T - 6 * MIN)], [], T, BAKE)[2];
    expect(third).toMatchObject({ knownGood: true, restores: 1 });
  });

  it.each([
    ['a value other than the restored version’s', { value: 'value-3' }],
    ['another type than the restored version’s', { value: 'value-1', type: 'StringList' }],
    ['a label naming a later version', { value: 'value-1', labels: ['nightshift-restored-v4'] }],
  ])('a forged restored label on a version with %s is not believed', (_what, extra) => {
    const h = history([
      v(1, T - 11 * 60 * MIN),
      v(2, T - 20 * MIN),
      v(3, T - 12 * MIN, { labels: ['nightshift-restored-v1'], ...extra }),
    ]);
    const third = assessConfig(h, [...deployments, deployment(T - 11 * MIN, T - 6 * MIN)], [], T, BAKE)[2];
    expect(third).toMatchObject({ knownGood: false, restores: undefined });
  });
});

describe('planConfig', () => {
  const deployments = [
    deployment(T - 10 * 60 * MIN, T - 10 * 60 * MIN + 5 * MIN),
    deployment(T - 15 * MIN, T - 10 * MIN),
  ];
  const plan = (
    versions: ConfigVersion[],
    revisionSince = T - 5 * 60 * MIN,
    readsAt: 'start' | 'run-time' = 'start',
  ) =>
    planConfig({
      tenures: [assessConfig(history(versions, readsAt), deployments, [], T, BAKE)],
      alarmStart: T - MIN,
      alarmName: 'api-5xx',
      bakeMs: BAKE,
      revisionSince,
    });

  it.each([
    [
      'the change in effect within the bake window is rolled back to the known-good version',
      [v(1, T - 11 * 60 * MIN), v(2, T - 20 * MIN)],
      T - 5 * 60 * MIN,
      'rollback',
    ],
    [
      'a config written before the current revision first became primary is that deployment’s',
      [v(1, T - 11 * 60 * MIN), v(2, T - 20 * MIN)],
      T - 15 * MIN,
      undefined,
    ],
    ['a known-good version in effect is no suspect', [v(1, T - 11 * 60 * MIN)], T - 12 * 60 * MIN, undefined],
    [
      'a newer version not yet in effect is someone’s change in progress: refused',
      [v(1, T - 11 * 60 * MIN), v(2, T - 20 * MIN), v(3, T - 5 * MIN)],
      T - 5 * 60 * MIN,
      'refuse',
    ],
    ['no earlier known-good version: refused', [v(1, T - 20 * MIN)], T - 5 * 60 * MIN, 'refuse'],
    [
      'a SecureString: refused',
      [v(1, T - 11 * 60 * MIN, { type: 'SecureString' }), v(2, T - 20 * MIN, { type: 'SecureString' })],
      T - 5 * 60 * MIN,
      'refuse',
    ],
    [
      "Nightshift's own write-back is never a suspect",
      [
        v(1, T - 11 * 60 * MIN),
        v(2, T - 40 * MIN),
        v(3, T - 20 * MIN, { labels: ['nightshift-restored-v1'], value: 'value-1' }),
      ],
      T - 5 * 60 * MIN,
      undefined,
    ],
    [
      'a write-back labelled as restoring a version that is not known-good is an ordinary change',
      [
        v(1, T - 11 * 60 * MIN),
        v(2, T - 40 * MIN),
        v(3, T - 20 * MIN, { labels: ['nightshift-restored-v2'], value: 'value-2' }),
      ],
      T - 5 * 60 * MIN,
      'rollback',
    ],
    [
      'a bad change someone labelled nightshift-restored-v1 is still the suspect',
      [v(1, T - 11 * 60 * MIN), v(2, T - 20 * MIN, { labels: ['nightshift-restored-v1'] })],
      T - 5 * 60 * MIN,
      'rollback',
    ],
  ] as const)('%s', (_what, versions, since, kind) => {
    expect(plan([...versions], since)?.kind).toBe(kind);
  });

  it('names the parameter, the versions and the alarm in its reason', () => {
    const decision = plan([v(1, T - 11 * 60 * MIN), v(2, T - 20 * MIN)]);
    expect(decision?.reason).toBe(
      '/app/TIMEOUT v2 reached the service 9 minutes before alarm api-5xx and is not known-good; writing known-good v1 back',
    );
  });
});

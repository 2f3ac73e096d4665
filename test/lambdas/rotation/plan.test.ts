import { describe, expect, it } from 'vitest';
import { GeneratedValueError, generateValue, SAFE_ALPHABET } from '../../../lambdas/rotation/generate.ts';
import type { ObservedSecret, RotationPolicy, VersionInfo } from '../../../lambdas/rotation/model.ts';
import { dueAt, planFinish, planRotation, windowOpensAt } from '../../../lambdas/rotation/plan.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-12-02T12:00:00Z'); // a Wednesday
const NAME = '/webhooks/api-key';
const ME = 'run-1';
const quarterly: RotationPolicy = { kind: 'generated', cadenceDays: 90, graceDays: 7 };
const v = (version: number, labels: string[] = [], at = T0 - 100 * DAY + version * 1000): VersionInfo => ({
  version,
  labels,
  at,
});
const observed = (o: Partial<ObservedSecret> = {}): ObservedSecret => ({
  name: NAME,
  versions: [v(1, ['previous']), v(2, ['current'])],
  latestIsPending: false,
  ...o,
});

describe('planRotation: when a rotation runs', () => {
  const rotatedAt = (days: number) => ({ lastRotatedAt: T0 - days * DAY });
  it.each([
    ['not due yet', observed(rotatedAt(10)), quarterly, { kind: 'idle', dueAt: T0 + 80 * DAY }],
    [
      'due: a new rotation, every step, its id the secret and the due date',
      observed(rotatedAt(91)),
      quarterly,
      {
        kind: 'rotate',
        resumed: false,
        rotationId: `${NAME}@${new Date(T0 - DAY).toISOString()}`,
        steps: ['create', 'set', 'test', 'finish'],
      },
    ],
    [
      'due but outside its window (weekdays 10–16 UTC; it is Wednesday 12:00, window Thursday only)',
      observed(rotatedAt(91)),
      { ...quarterly, window: { days: ['thu'], startHour: 10, endHour: 16 } },
      { kind: 'wait', opensAt: Date.parse('2026-12-03T10:00:00Z') },
    ],
    [
      'due and inside its window',
      observed(rotatedAt(91)),
      { ...quarterly, window: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], startHour: 10, endHour: 16 } },
      { kind: 'rotate', resumed: false },
    ],
    [
      'never rotated: due from the current version’s date',
      observed({ versions: [v(1, [], T0 - 200 * DAY)] }),
      quarterly,
      { kind: 'rotate', resumed: false },
    ],
  ])('%s', (_, o, policy, expected) => {
    expect(planRotation(o, policy as RotationPolicy, T0, ME)).toMatchObject(expected);
  });

  it.each([
    [
      'a live lease of another run: leave it alone',
      { lock: { rotationId: 'r', step: 'create', owner: 'run-0', leaseUntil: T0 + 60_000 } },
      { kind: 'busy', leaseUntil: T0 + 60_000 },
    ],
    [
      'a crash after create (pending there, lease expired): resume at once at set, not at the next cadence',
      {
        pending: { secure: true, rotationId: 'r1', at: T0 - 60_000 },
        lock: { rotationId: 'r1', step: 'create', owner: 'run-0', leaseUntil: T0 - 1, pendingDigest: 'd1' },
        ...rotatedAt(1),
      },
      { kind: 'rotate', rotationId: 'r1', resumed: true, steps: ['set', 'test', 'finish'] },
    ],
    [
      'the lock was lost (no item) but pending is there: no record that this function made it, never promoted',
      { pending: { secure: true, rotationId: 'r1', at: T0 - 60_000 } },
      { kind: 'blocked', severity: 'warning', reason: expect.stringContaining('no record of making') },
    ],
    [
      'a pending value naming another rotation than the lock’s (a forged description): never promoted',
      {
        pending: { secure: true, rotationId: 'r2', at: T0 - 60_000 },
        lock: { rotationId: 'r1', step: 'test', owner: 'run-0', leaseUntil: T0 - 1, pendingDigest: 'd1' },
      },
      { kind: 'blocked', severity: 'warning', reason: expect.stringContaining('rotation r2') },
    ],
    [
      'a pending value that is not a SecureString (it sat unencrypted): blocked, critical',
      {
        pending: { secure: false, rotationId: 'r1', at: T0 - 60_000 },
        lock: { rotationId: 'r1', step: 'create', owner: 'run-0', leaseUntil: T0 - 1, pendingDigest: 'd1' },
      },
      { kind: 'blocked', severity: 'critical', reason: expect.stringContaining('not a SecureString') },
    ],
    [
      'the put under the plain name happened: only finish is left (labels, cleanup)',
      {
        pending: { secure: true, rotationId: 'r1', at: T0 - 60_000 },
        latestIsPending: true,
        lock: { rotationId: 'r1', step: 'test', owner: 'run-0', leaseUntil: T0 - 1, pendingDigest: 'd1' },
      },
      { kind: 'rotate', rotationId: 'r1', steps: ['finish'] },
    ],
    [
      'finish ran to its last call (pending gone, the lock past test) but was not recorded: only record it',
      {
        lock: { rotationId: 'r1', step: 'test', owner: 'run-0', leaseUntil: T0 - 1, putVersion: 3 },
        versions: [v(1, ['previous']), v(2), v(3, ['current'], T0 - 60_000)],
      },
      { kind: 'complete', rotationId: 'r1' },
    ],
    [
      'the pending value vanished after test without finish having put it (a person deleted it): abandoned, not recorded as done',
      {
        lock: { rotationId: 'r1', step: 'test', owner: 'run-0', leaseUntil: T0 - 1 },
        versions: [v(1, ['previous']), v(2, ['current'])],
      },
      { kind: 'abandoned', rotationId: 'r1' },
    ],
    [
      'a value in .pending that Nightshift did not put (no rotation in its description): blocked, never promoted',
      { pending: { secure: true, at: T0 - 1000 } },
      { kind: 'blocked', severity: 'warning', reason: expect.stringContaining('did not put') },
    ],
    [
      'its own lease (a retry of this run) does not block it',
      {
        pending: { secure: true, rotationId: 'r1', at: T0 - 60_000 },
        lock: { rotationId: 'r1', step: 'set', owner: ME, leaseUntil: T0 + 60_000, pendingDigest: 'd1' },
      },
      { kind: 'rotate', steps: ['test', 'finish'] },
    ],
  ] as const)('%s', (_, o, expected) => {
    expect(planRotation(observed(o as Partial<ObservedSecret>), quarterly, T0, ME)).toMatchObject(expected);
  });

  describe('the pending value deleted after set (it held the new password or key)', () => {
    const afterSet = { rotationId: 'r1', step: 'set', owner: 'run-0', leaseUntil: T0 - 3_600_000 } as const;
    const single: RotationPolicy = { kind: 'postgres-single', cadenceDays: 90, graceDays: 7 };
    it.each([
      [
        'a single user: blocked, critical — the plain name no longer logs in and only a person can repair it',
        single,
        observed({ lock: afterSet }),
        {
          kind: 'blocked',
          severity: 'critical',
          reason: expect.stringContaining('only copy of the new password'),
        },
      ],
      [
        'a single user after a person put a repaired credential (a version newer than the rotation): given up',
        single,
        observed({
          lock: afterSet,
          versions: [v(1, ['previous']), v(2, ['current']), v(3, [], T0 - 60_000)],
        }),
        { kind: 'abandoned', rotationId: 'r1' },
      ],
      [
        'alternating users: the plain name still works; given up (the other user is recovered next time)',
        { ...single, kind: 'postgres-alternating' },
        observed({ lock: afterSet }),
        { kind: 'abandoned', rotationId: 'r1' },
      ],
      [
        'a generated value (nothing was set): given up',
        quarterly,
        observed({ lock: afterSet }),
        { kind: 'abandoned' },
      ],
    ] as const)('%s', (_, policy, o, expected) => {
      expect(planRotation(o, policy as RotationPolicy, T0, ME)).toMatchObject(expected);
    });
  });

  describe('external (a secret a third party issues)', () => {
    const yearly: RotationPolicy = { kind: 'external', cadenceDays: 365, graceDays: 7 };
    it.each([
      ['more than 30 days ahead: idle until the notice', 300, { kind: 'idle', dueAt: T0 + 35 * DAY }],
      ['due in 20 days: a warning', 345, { kind: 'notice', severity: 'warning' }],
      ['overdue: critical', 370, { kind: 'notice', severity: 'critical' }],
    ])('%s', (_, daysSince, expected) => {
      expect(planRotation(observed({ lastRotatedAt: T0 - daysSince * DAY }), yearly, T0, ME)).toMatchObject(
        expected,
      );
    });
    it('a person put the new value in the pending place: test and finish, no create or set', () => {
      expect(
        planRotation(observed({ pending: { secure: true, at: T0 - 1000 } }), yearly, T0, ME),
      ).toMatchObject({
        kind: 'rotate',
        rotationId: `${NAME}@external@${new Date(T0 - 1000).toISOString()}`,
        steps: ['test', 'finish'],
      });
    });
    it('the value in use put back in the pending place (no rotation of this function put it): blocked, the due date kept', () => {
      expect(
        planRotation(
          observed({
            pending: { secure: true, at: T0 - 1000 },
            latestIsPending: true,
            lastRotatedAt: T0 - 370 * DAY,
          }),
          yearly,
          T0,
          ME,
        ),
      ).toMatchObject({ kind: 'blocked', reason: expect.stringContaining('already in use') });
    });
  });
});

describe('planFinish: the put and the labels, and SSM’s 100 versions', () => {
  it('a put, current to the new version, previous to the old current, then the pending value goes', () => {
    expect(planFinish(observed(), quarterly, T0)).toEqual({
      kind: 'actions',
      actions: [
        { do: 'put' },
        { do: 'label', version: 'latest', labels: ['current'] },
        { do: 'label', version: 2, labels: ['previous'] },
        { do: 'delete-pending' },
      ],
    });
  });

  it('rerun after the put (the latest version holds the pending value): no second put, the same labels', () => {
    const after = observed({
      versions: [v(1, ['previous']), v(2, ['current']), v(3)],
      latestIsPending: true,
    });
    expect(planFinish(after, quarterly, T0)).toEqual({
      kind: 'actions',
      actions: [
        { do: 'label', version: 3, labels: ['current'] },
        { do: 'label', version: 2, labels: ['previous'] },
        { do: 'delete-pending' },
      ],
    });
    // And after the labels moved too: still the same calls (each a no-op on SSM).
    const moved = observed({
      versions: [v(1), v(2, ['previous']), v(3, ['current'])],
      latestIsPending: true,
    });
    expect(planFinish(moved, quarterly, T0)).toEqual(planFinish(after, quarterly, T0));
  });

  const hundred = (oldestLabels: string[], others: (n: number) => string[] = () => []) =>
    Array.from({ length: 100 }, (_, i) => v(i + 1, i === 0 ? oldestLabels : others(i + 1)));

  it.each([
    ['100 versions, the oldest unlabelled: SSM drops it; just put', hundred([]), { kind: 'actions' }],
    [
      'someone else’s label on the oldest: blocked, critical, naming it',
      hundred(['release-2026-01'], (n) => (n === 100 ? ['current'] : [])),
      { kind: 'blocked', severity: 'critical', reason: expect.stringContaining('release-2026-01') },
    ],
    [
      'current is the oldest (99 writes outside Nightshift since): blocked, critical',
      hundred(['current']),
      { kind: 'blocked', severity: 'critical', reason: expect.stringContaining('outside Nightshift') },
    ],
  ])('%s', (_, versions, expected) => {
    expect(planFinish(observed({ versions }), quarterly, T0)).toMatchObject(expected);
  });

  it('previous on the oldest: kept through its grace period, then unlabelled before the put', () => {
    const versions = hundred(['previous'], (n) => (n === 100 ? ['current'] : []));
    const inGrace = versions.map((x) => (x.version === 100 ? { ...x, at: T0 - 2 * DAY } : x));
    expect(planFinish(observed({ versions: inGrace }), quarterly, T0)).toMatchObject({
      kind: 'blocked',
      severity: 'warning',
    });
    const past = versions.map((x) => (x.version === 100 ? { ...x, at: T0 - 8 * DAY } : x));
    expect(planFinish(observed({ versions: past }), quarterly, T0)).toMatchObject({
      kind: 'actions',
      actions: [
        { do: 'unlabel', version: 1, labels: ['previous'] },
        { do: 'put' },
        { do: 'label', version: 'latest', labels: ['current'] },
        { do: 'label', version: 100, labels: ['previous'] },
        { do: 'delete-pending' },
      ],
    });
  });
});

describe('schedule', () => {
  it('due is the last rotation plus the cadence', () => {
    expect(dueAt(observed({ lastRotatedAt: T0 }), quarterly)).toBe(T0 + 90 * DAY);
  });
  it.each([
    ['inside the window: now', '2026-12-02T12:00:00Z', '2026-12-02T12:00:00Z'],
    ['before it opens today', '2026-12-02T06:00:00Z', '2026-12-02T10:00:00Z'],
    ['after it closed: the next window day', '2026-12-02T17:00:00Z', '2026-12-03T10:00:00Z'],
    ['Friday evening: Monday morning', '2026-12-04T18:00:00Z', '2026-12-07T10:00:00Z'],
  ])('%s', (_, now, opens) => {
    const weekdays: RotationPolicy = {
      ...quarterly,
      window: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], startHour: 10, endHour: 16 },
    };
    expect(new Date(windowOpensAt(Date.parse(now), weekdays)).toISOString()).toBe(
      new Date(opens).toISOString(),
    );
  });
});

describe('generated values', () => {
  it('40 characters of the safe alphabet by default, each class present, never the same twice', () => {
    const values = Array.from({ length: 200 }, () => generateValue());
    for (const value of values) {
      expect(value).toHaveLength(40);
      expect([...value].every((c) => SAFE_ALPHABET.includes(c))).toBe(true);
      expect(value).toMatch(/[A-Z]/);
      expect(value).toMatch(/[a-z]/);
      expect(value).toMatch(/[0-9]/);
      expect(value).not.toMatch(/[:/@"'\\%#?&+= $`]/);
    }
    expect(new Set(values).size).toBe(values.length);
  });
  it('length and alphabet from config; too small an alphabet or length is refused, naming the field', () => {
    expect(generateValue({ length: 64, exclude: '-_.' })).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(() => generateValue({ alphabet: 'abc' })).toThrow(GeneratedValueError);
    expect(() => generateValue({ alphabet: 'abc' })).toThrow(/^alphabet: 3 usable/);
    expect(() => generateValue({ length: 8 })).toThrow(/^length: 8/);
  });
});

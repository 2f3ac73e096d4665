import { describe, expect, it } from 'vitest';
import { DEFAULT_CHECKS, judge, verdict } from '../../../lambdas/restore-verify/checks.ts';
import { verifyInstanceId } from '../../../lambdas/restore-verify/identifiers.ts';
import {
  PASSWORD_GRACE_MS,
  planVerification,
  type VerificationRecord,
  type VerifyObservation,
} from '../../../lambdas/restore-verify/plan.ts';

const MIN = 60_000;
const NOW = Date.parse('2026-11-22T04:00:00Z');
const rules = { restoreTimeoutMs: 120 * MIN, instanceTtlMs: 6 * 60 * MIN };
const observe = (o: Partial<VerifyObservation>): VerifyObservation => ({
  now: NOW,
  dueSince: NOW - 7 * 24 * 60 * MIN,
  rules,
  targets: [], // no target is up for a new verification unless a test says so
  snapshots: [
    { database: 'orders', snapshotId: 'nightshift-orders-20261122-0300', createdAt: NOW - 60 * MIN },
  ],
  records: [],
  instances: [],
  passwords: [],
  ...o,
});
const copy = (
  id: string,
  status: string,
  expiresAt?: number,
  kind: 'instance' | 'cluster' = 'instance',
  managed = true,
) => ({
  id,
  kind,
  status,
  managed,
  ...(expiresAt === undefined ? {} : { expiresAt }),
});
const restoring: VerificationRecord = {
  database: 'orders',
  snapshotId: 'nightshift-orders-20261122-0300',
  snapshotTime: NOW - 60 * MIN,
  instanceId: 'nightshift-verify-orders-20261122',
  requestedAt: NOW - 20 * MIN,
  state: 'restoring',
};

describe('verifyInstanceId', () => {
  it('derives the temporary instance from the database and the day', () => {
    expect(verifyInstanceId('orders', NOW)).toBe('nightshift-verify-orders-20261122');
  });

  it('stays within 63 characters and valid, distinct per database, for long names', () => {
    const a = verifyInstanceId('webhook-integration-production-primary-database', NOW);
    const b = verifyInstanceId('webhook-integration-production-primary-database-2', NOW);
    for (const id of [a, b]) {
      expect(id.length).toBeLessThanOrEqual(63);
      expect(id).toMatch(/^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$/);
    }
    expect(a).not.toBe(b);
  });
});

describe('planVerification', () => {
  describe.each<[string, Partial<VerifyObservation>, unknown[]]>([
    [
      'the weekly start restores the newest snapshot',
      { dueSince: NOW - MIN, targets: ['orders'] },
      [
        {
          kind: 'restore',
          create: true,
          record: {
            database: 'orders',
            kind: 'instance',
            snapshotId: 'nightshift-orders-20261122-0300',
            snapshotTime: NOW - 60 * MIN,
            instanceId: 'nightshift-verify-orders-20261122',
            requestedAt: NOW,
            state: 'starting',
          },
          expiresAt: NOW + rules.instanceTtlMs,
        },
      ],
    ],
    [
      'a target verified since the schedule came due is not restored again',
      {
        dueSince: NOW - 60 * MIN,
        records: [{ ...restoring, state: 'verified', requestedAt: NOW - 30 * MIN }],
      },
      [],
    ],
    [
      'a target last verified before the schedule came due is restored',
      {
        dueSince: NOW - MIN,
        targets: ['orders'],
        records: [{ ...restoring, state: 'verified', requestedAt: NOW - 7 * 24 * 60 * MIN }],
      },
      [{ kind: 'restore' }],
    ],
    [
      'the weekly start with no snapshot alerts',
      { dueSince: NOW - MIN, targets: ['orders'], snapshots: [] },
      [{ kind: 'no-snapshot', database: 'orders' }],
    ],
    [
      'the weekly start while one is running leaves it be',
      {
        dueSince: NOW - MIN,
        targets: ['orders'],
        records: [restoring],
        instances: [copy(restoring.instanceId, 'creating')],
      },
      [],
    ],
    [
      'a restore RDS has not confirmed (throttled, 5xx, a lost answer) is requested again, not judged',
      { records: [{ ...restoring, state: 'starting', requestedAt: NOW - 90 * MIN }] },
      [
        {
          kind: 'restore',
          create: false,
          record: { ...restoring, state: 'starting', requestedAt: NOW - 90 * MIN },
          expiresAt: NOW - 90 * MIN + rules.instanceTtlMs,
        },
      ],
    ],
    [
      'an unconfirmed restore whose copy exists is requested again (AlreadyExists confirms it)',
      {
        records: [{ ...restoring, state: 'starting' }],
        instances: [copy(restoring.instanceId, 'available')],
      },
      [{ kind: 'restore', create: false }],
    ],
    [
      'a restore RDS never accepted within the time to live fails',
      { records: [{ ...restoring, state: 'starting', requestedAt: NOW - 7 * 60 * MIN }] },
      [
        {
          kind: 'fail',
          reason:
            'RDS did not accept the restore of nightshift-orders-20261122-0300 within 6 hours (requested again every tick)',
        },
      ],
    ],
    [
      'a restore still creating waits',
      { records: [restoring], instances: [copy(restoring.instanceId, 'creating')] },
      [],
    ],
    [
      'an available restore gets a one-time password',
      { records: [restoring], instances: [copy(restoring.instanceId, 'available')] },
      [{ kind: 'reset-password', record: restoring }],
    ],
    [
      'a copy resetting its password waits',
      {
        records: [{ ...restoring, state: 'resetting' }],
        instances: [copy(restoring.instanceId, 'resetting-master-credentials')],
      },
      [],
    ],
    [
      'a copy available with its one-time password is checked',
      {
        records: [{ ...restoring, state: 'resetting' }],
        instances: [copy(restoring.instanceId, 'available')],
        passwords: [{ copyId: restoring.instanceId, lastModified: NOW - 10 * MIN }],
      },
      [{ kind: 'check' }],
    ],
    [
      'a copy whose state says `resetting` but whose password SSM does not have gets a new one, not 12 failing checks',
      {
        records: [{ ...restoring, state: 'resetting' }],
        instances: [copy(restoring.instanceId, 'available')],
      },
      [{ kind: 'reset-password', record: { ...restoring, state: 'resetting' } }],
    ],
    [
      'a restore past the timeout fails and is deleted',
      {
        records: [{ ...restoring, requestedAt: NOW - 3 * 60 * MIN }],
        instances: [copy(restoring.instanceId, 'creating')],
      },
      [{ kind: 'fail' }, { kind: 'delete-instance', instanceId: restoring.instanceId }],
    ],
    [
      'a failed restore fails and is deleted',
      { records: [restoring], instances: [copy(restoring.instanceId, 'failed')] },
      [{ kind: 'fail', reason: expect.stringContaining('ended failed') }, { kind: 'delete-instance' }],
    ],
    [
      'a verified copy is deleted',
      {
        records: [{ ...restoring, state: 'verified' }],
        instances: [copy(restoring.instanceId, 'available')],
      },
      [{ kind: 'delete-instance', reason: 'its verification is done (verified)' }],
    ],
    [
      "a failed verification's copy is deleted too",
      {
        records: [{ ...restoring, state: 'failed' }],
        instances: [copy(restoring.instanceId, 'available')],
      },
      [{ kind: 'delete-instance' }],
    ],
    [
      'a verification stuck past its time to live fails and its copy is deleted',
      {
        records: [{ ...restoring, state: 'resetting', requestedAt: NOW - 7 * 60 * MIN }],
        instances: [copy(restoring.instanceId, 'available')],
      },
      [
        { kind: 'fail', reason: expect.stringContaining('did not finish within 6 hours') },
        { kind: 'delete-instance' },
      ],
    ],
    [
      'the janitor removes an orphan past its expiry',
      { instances: [copy('nightshift-verify-old-20261101', 'available', NOW - MIN)] },
      [{ kind: 'delete-instance', reason: expect.stringContaining('orphaned') }],
    ],
    [
      'the janitor leaves an orphan before its expiry',
      { instances: [copy('nightshift-verify-old-20261122', 'available', NOW + MIN)] },
      [],
    ],
    [
      'the janitor never touches a nightshift-verify-* copy without nightshift:managed (not one it made)',
      { instances: [copy('nightshift-verify-x', 'available', NOW - MIN, 'instance', false)] },
      [],
    ],
    [
      'the janitor never touches an instance Nightshift did not name',
      { instances: [copy('orders', 'available', NOW - MIN)] },
      [],
    ],
    [
      "a cluster copy's deletion says it is a cluster",
      {
        records: [{ ...restoring, kind: 'cluster', state: 'verified' }],
        instances: [copy(restoring.instanceId, 'available', undefined, 'cluster')],
      },
      [{ kind: 'delete-instance', instanceId: restoring.instanceId, copyKind: 'cluster' }],
    ],
    [
      'the janitor deletes a one-time password whose copy is gone',
      { passwords: [{ copyId: 'nightshift-verify-old-20261101', lastModified: NOW - 60 * MIN }] },
      [
        {
          kind: 'delete-password',
          copyId: 'nightshift-verify-old-20261101',
          reason: 'orphaned one-time password: nightshift-verify-old-20261101 is gone',
        },
      ],
    ],
    [
      'the janitor deletes a one-time password whose copy is being deleted',
      {
        instances: [copy(restoring.instanceId, 'deleting')],
        passwords: [{ copyId: restoring.instanceId, lastModified: NOW - 60 * MIN }],
      },
      [{ kind: 'delete-password', copyId: restoring.instanceId }],
    ],
    [
      'the janitor keeps the password of a copy that is there',
      {
        records: [{ ...restoring, state: 'resetting' }],
        instances: [copy(restoring.instanceId, 'resetting-master-credentials')],
        passwords: [{ copyId: restoring.instanceId, lastModified: NOW - 60 * MIN }],
      },
      [],
    ],
    [
      'the janitor leaves a password younger than its grace period',
      {
        passwords: [
          { copyId: 'nightshift-verify-old-20261122', lastModified: NOW - PASSWORD_GRACE_MS + MIN },
        ],
      },
      [],
    ],
    [
      'an instance already deleting is left alone',
      {
        records: [{ ...restoring, state: 'verified' }],
        instances: [copy(restoring.instanceId, 'deleting')],
      },
      [],
    ],
  ])('when %s', (_when, given, expected) => {
    it('plans exactly that', () => {
      expect(planVerification(observe(given))).toEqual(expected.map((e) => expect.objectContaining(e)));
    });
  });
});

describe('checks', () => {
  it('passes the defaults on a database with rows', () => {
    const values = [1, 3, 1250];
    const outcomes = DEFAULT_CHECKS.map((c, i) => judge(c, values[i], NOW));
    expect(verdict(outcomes)).toEqual({ passed: true, reason: '3 check(s) passed' });
  });

  it('names the failed check on an emptied database', () => {
    const values = [1, 3, 0];
    const v = verdict(DEFAULT_CHECKS.map((c, i) => judge(c, values[i], NOW)));
    expect(v).toEqual({
      passed: false,
      reason: 'check "user tables have rows" failed: got 0, expected at least 1',
    });
  });

  it('judges freshness relative to the snapshot', () => {
    const check = {
      name: 'recent webhooks',
      sql: 'select max(created_at) from webhooks',
      expect: { freshWithinMinutesOfSnapshot: 60 },
    };
    expect(judge(check, new Date(NOW - 30 * MIN), NOW).passed).toBe(true);
    expect(judge(check, new Date(NOW - 90 * MIN), NOW)).toMatchObject({
      passed: false,
      detail: expect.stringContaining('expected no older than'),
    });
    expect(judge(check, null, NOW).passed).toBe(false);
  });
});

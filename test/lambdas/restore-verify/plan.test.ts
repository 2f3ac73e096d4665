import { describe, expect, it } from 'vitest';
import { DEFAULT_CHECKS, judge, verdict } from '../../../lambdas/restore-verify/checks.ts';
import { clusterMemberId, verifyCopyId } from '../../../lambdas/restore-verify/identifiers.ts';
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
    {
      database: 'orders',
      kind: 'instance',
      snapshotId: 'nightshift-orders-20261122-0300',
      createdAt: NOW - 60 * MIN,
    },
  ],
  records: [],
  copies: [],
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
const ORDERS = { id: 'orders', kind: 'instance' } as const;
const restoring: VerificationRecord = {
  database: 'orders',
  kind: 'instance',
  snapshotId: 'nightshift-orders-20261122-0300',
  snapshotTime: NOW - 60 * MIN,
  copyId: 'nightshift-verify-orders-20261122',
  requestedAt: NOW - 20 * MIN,
  state: 'restoring',
};

describe('verifyCopyId', () => {
  it('derives the temporary copy from the database, its kind and the day', () => {
    expect(verifyCopyId('orders', 'instance', NOW)).toBe('nightshift-verify-orders-20261122');
    expect(verifyCopyId('orders', 'cluster', NOW)).toBe('nightshift-verify-orders-20261122-c');
  });

  it('never gives an instance and a cluster the same copy, whatever their names', () => {
    const names = ['orders', 'orders-20261122-c', 'orders-c', 'a'.repeat(63), `${'a'.repeat(62)}b`];
    const ids = names.flatMap((n) => [verifyCopyId(n, 'instance', NOW), verifyCopyId(n, 'cluster', NOW)]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("stays within RDS's limits and valid, distinct per database, for long names; a cluster's member fits too", () => {
    const a = 'webhook-integration-production-primary-database';
    const b = 'webhook-integration-production-primary-database-2';
    for (const kind of ['instance', 'cluster'] as const) {
      const ids = [verifyCopyId(a, kind, NOW), verifyCopyId(b, kind, NOW)];
      for (const id of [...ids, ...(kind === 'cluster' ? ids.map(clusterMemberId) : [])]) {
        expect(id.length).toBeLessThanOrEqual(63);
        expect(id).toMatch(/^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$/);
      }
      expect(ids[0]).not.toBe(ids[1]);
    }
  });
});

describe('planVerification', () => {
  describe.each<[string, Partial<VerifyObservation>, unknown[]]>([
    [
      'the weekly start restores the newest snapshot',
      { dueSince: NOW - MIN, targets: [ORDERS] },
      [
        {
          kind: 'restore',
          create: true,
          record: {
            database: 'orders',
            kind: 'instance',
            snapshotId: 'nightshift-orders-20261122-0300',
            snapshotTime: NOW - 60 * MIN,
            copyId: 'nightshift-verify-orders-20261122',
            requestedAt: NOW,
            state: 'starting',
          },
          expiresAt: NOW + rules.instanceTtlMs,
          runId: 'verify-2026-11-22T03:59:00.000Z',
        },
      ],
    ],
    [
      'an instance and a cluster of the same name are verified apart',
      {
        dueSince: NOW - MIN,
        targets: [ORDERS, { id: 'orders', kind: 'cluster' }],
        snapshots: [
          {
            database: 'orders',
            kind: 'cluster',
            snapshotId: 'nightshift-orders-20261122-0300',
            createdAt: NOW - 60 * MIN,
          },
        ],
        // The instance's verification of this run is done; the cluster's is not.
        records: [
          {
            ...restoring,
            state: 'verified',
            requestedAt: NOW,
            copyId: 'nightshift-verify-orders-20261121',
          },
        ],
      },
      [
        {
          kind: 'restore',
          create: true,
          record: expect.objectContaining({ kind: 'cluster', copyId: 'nightshift-verify-orders-20261122-c' }),
        },
      ],
    ],
    [
      "a cluster's verification in progress neither blocks nor is taken for the instance's of the same name",
      {
        dueSince: NOW - MIN,
        targets: [ORDERS],
        records: [{ ...restoring, kind: 'cluster', copyId: 'nightshift-verify-orders-20261122-c' }],
        copies: [copy('nightshift-verify-orders-20261122-c', 'creating', undefined, 'cluster')],
      },
      [{ kind: 'restore', record: expect.objectContaining({ kind: 'instance' }) }],
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
        targets: [ORDERS],
        records: [{ ...restoring, state: 'verified', requestedAt: NOW - 7 * 24 * 60 * MIN }],
      },
      [{ kind: 'restore' }],
    ],
    [
      'the weekly start with no snapshot alerts',
      { dueSince: NOW - MIN, targets: [ORDERS], snapshots: [] },
      [
        {
          kind: 'no-snapshot',
          reason: 'no available Nightshift snapshot of orders to verify',
          marker: expect.objectContaining({ database: 'orders', kind: 'instance', state: 'failed' }),
        },
      ],
    ],
    [
      'the weekly start while one is running leaves it be',
      {
        dueSince: NOW - MIN,
        targets: [ORDERS],
        records: [restoring],
        copies: [copy(restoring.copyId, 'creating')],
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
        copies: [copy(restoring.copyId, 'available')],
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
      { records: [restoring], copies: [copy(restoring.copyId, 'creating')] },
      [],
    ],
    [
      'an available restore gets a one-time password',
      { records: [restoring], copies: [copy(restoring.copyId, 'available')] },
      [{ kind: 'reset-password', record: restoring }],
    ],
    [
      'a copy resetting its password waits',
      {
        records: [{ ...restoring, state: 'resetting' }],
        copies: [copy(restoring.copyId, 'resetting-master-credentials')],
      },
      [],
    ],
    [
      'a copy available with its one-time password is checked',
      {
        records: [{ ...restoring, state: 'resetting' }],
        copies: [copy(restoring.copyId, 'available')],
        passwords: [{ copyId: restoring.copyId, lastModified: NOW - 10 * MIN }],
      },
      [{ kind: 'check' }],
    ],
    [
      'a copy whose state says `resetting` but whose password SSM does not have gets a new one, not 12 failing checks',
      {
        records: [{ ...restoring, state: 'resetting' }],
        copies: [copy(restoring.copyId, 'available')],
      },
      [{ kind: 'reset-password', record: { ...restoring, state: 'resetting' } }],
    ],
    [
      'a restore past the timeout fails and is deleted',
      {
        records: [{ ...restoring, requestedAt: NOW - 3 * 60 * MIN }],
        copies: [copy(restoring.copyId, 'creating')],
      },
      [{ kind: 'fail' }, { kind: 'delete-copy', copyId: restoring.copyId }],
    ],
    [
      'a failed restore fails and is deleted',
      { records: [restoring], copies: [copy(restoring.copyId, 'failed')] },
      [{ kind: 'fail', reason: expect.stringContaining('ended failed') }, { kind: 'delete-copy' }],
    ],
    [
      'a verified copy is deleted',
      {
        records: [{ ...restoring, state: 'verified' }],
        copies: [copy(restoring.copyId, 'available')],
      },
      [{ kind: 'delete-copy', reason: 'its verification is done (verified)' }],
    ],
    [
      "a failed verification's copy is deleted too",
      {
        records: [{ ...restoring, state: 'failed' }],
        copies: [copy(restoring.copyId, 'available')],
      },
      [{ kind: 'delete-copy' }],
    ],
    [
      'a verification stuck past its time to live fails and its copy is deleted',
      {
        records: [{ ...restoring, state: 'resetting', requestedAt: NOW - 7 * 60 * MIN }],
        copies: [copy(restoring.copyId, 'available')],
      },
      [
        { kind: 'fail', reason: expect.stringContaining('did not finish within 6 hours') },
        { kind: 'delete-copy' },
      ],
    ],
    [
      'the janitor removes an orphan past its expiry',
      { copies: [copy('nightshift-verify-old-20261101', 'available', NOW - MIN)] },
      [{ kind: 'delete-copy', reason: expect.stringContaining('orphaned') }],
    ],
    [
      'the janitor leaves an orphan before its expiry',
      { copies: [copy('nightshift-verify-old-20261122', 'available', NOW + MIN)] },
      [],
    ],
    [
      'the janitor never touches a nightshift-verify-* copy without nightshift:managed (not one it made)',
      { copies: [copy('nightshift-verify-x', 'available', NOW - MIN, 'instance', false)] },
      [],
    ],
    [
      'the janitor never touches an instance Nightshift did not name',
      { copies: [copy('orders', 'available', NOW - MIN)] },
      [],
    ],
    [
      "a cluster copy's deletion says it is a cluster",
      {
        records: [{ ...restoring, kind: 'cluster', state: 'verified' }],
        copies: [copy(restoring.copyId, 'available', undefined, 'cluster')],
      },
      [{ kind: 'delete-copy', copyId: restoring.copyId, copyKind: 'cluster' }],
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
        copies: [copy(restoring.copyId, 'deleting')],
        passwords: [{ copyId: restoring.copyId, lastModified: NOW - 60 * MIN }],
      },
      [{ kind: 'delete-password', copyId: restoring.copyId }],
    ],
    [
      'the janitor keeps the password of a copy that is there',
      {
        records: [{ ...restoring, state: 'resetting' }],
        copies: [copy(restoring.copyId, 'resetting-master-credentials')],
        passwords: [{ copyId: restoring.copyId, lastModified: NOW - 60 * MIN }],
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
        copies: [copy(restoring.copyId, 'deleting')],
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

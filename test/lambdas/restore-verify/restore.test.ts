import {
  CreateDBInstanceCommand,
  DBClusterAlreadyExistsFault,
  DBInstanceAlreadyExistsFault,
  InvalidDBSnapshotStateFault,
  RDSClient,
  RDSServiceException,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  StorageQuotaExceededFault,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { VerificationRecord } from '../../../lambdas/restore-verify/plan.ts';
import { requestRestore, restoreRefusal } from '../../../lambdas/restore-verify/restore.ts';

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
const throttled = new RDSServiceException({
  name: 'Throttling',
  $fault: 'client',
  ...meta(400),
  message: 'Rate exceeded',
});
const unavailable = new RDSServiceException({
  name: 'InternalFailure',
  $fault: 'server',
  ...meta(503),
  message: 'Service unavailable',
});
const timeout = Object.assign(new Error('socket hang up'), { name: 'TimeoutError', ...meta(0) });
const quota = new StorageQuotaExceededFault({ message: 'storage quota reached', ...meta(400) });
const snapshotState = new InvalidDBSnapshotStateFault({
  message: 'DBSnapshot must have state available but actually has deleting',
  ...meta(400),
});

describe('restoreRefusal', () => {
  it.each([
    ['Throttling after the SDK gave up', throttled],
    ['a 5xx', unavailable],
    ['a timeout', timeout],
    ['a bug, not AWS at all', new TypeError('x is undefined')],
  ])('rethrows %s: retried on a later tick, never a verdict', (_what, error) => {
    expect(() => restoreRefusal(error)).toThrow(error);
  });

  it.each([
    [quota, 'StorageQuotaExceededFault: storage quota reached'],
    [
      snapshotState,
      'InvalidDBSnapshotStateFault: DBSnapshot must have state available but actually has deleting',
    ],
  ])("returns RDS's refusal, naming the AWS error: %s", (error, reason) => {
    expect(restoreRefusal(error)).toBe(reason);
  });
});

describe('requestRestore', () => {
  const rds = mockClient(RDSClient);
  beforeEach(() => rds.reset());
  const record = (kind: 'instance' | 'cluster'): VerificationRecord => ({
    database: 'orders',
    kind,
    snapshotId: 'nightshift-orders-20261122-0300',
    snapshotTime: Date.parse('2026-11-22T03:00:00Z'),
    copyId: 'nightshift-verify-orders-20261122',
    requestedAt: Date.parse('2026-11-22T05:00:00Z'),
    state: 'starting',
  });
  const deps = {
    rds: rds as unknown as RDSClient,
    config: {
      dryRun: false,
      targets: { instances: ['orders'], clusters: [] },
      instanceClass: 'db.t4g.micro',
      subnetGroupName: 'verify-subnets',
      securityGroupIds: ['sg-0123456789abcdef0'],
      checks: [],
      restoreTimeoutMinutes: 120,
      instanceTtlHours: 6,
    },
  };
  const restore = (kind: 'instance' | 'cluster', create: boolean) => ({
    kind: 'restore' as const,
    record: record(kind),
    create,
    expiresAt: Date.parse('2026-11-22T11:00:00Z'),
    runId: 'verify-2026-11-22T05:00:00.000Z',
    reason: 'test',
  });
  const tags = [
    { Key: 'nightshift:managed', Value: 'true' },
    { Key: 'nightshift:source-db', Value: 'orders' },
    { Key: 'nightshift:expires-at', Value: '2026-11-22T11:00:00.000Z' },
    { Key: 'nightshift:run-id', Value: 'verify-2026-11-22T05:00:00.000Z' },
  ];

  it('restores an instance tagged at creation, not publicly accessible, into the configured network', async () => {
    rds.on(RestoreDBInstanceFromDBSnapshotCommand).resolves({});
    await expect(requestRestore(restore('instance', true), deps)).resolves.toBeUndefined();
    expect(rds.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)[0]?.args[0].input).toEqual({
      DBInstanceIdentifier: 'nightshift-verify-orders-20261122',
      DBSnapshotIdentifier: 'nightshift-orders-20261122-0300',
      DBInstanceClass: 'db.t4g.micro',
      DBSubnetGroupName: 'verify-subnets',
      VpcSecurityGroupIds: ['sg-0123456789abcdef0'],
      PubliclyAccessible: false,
      MultiAZ: false,
      Tags: tags,
    });
  });

  it('restores a cluster and its member, both tagged at creation', async () => {
    rds.on(RestoreDBClusterFromSnapshotCommand).resolves({}).on(CreateDBInstanceCommand).resolves({});
    await expect(requestRestore(restore('cluster', true), deps)).resolves.toBeUndefined();
    expect(rds.commandCalls(RestoreDBClusterFromSnapshotCommand)[0]?.args[0].input.Tags).toEqual(tags);
    expect(rds.commandCalls(CreateDBInstanceCommand)[0]?.args[0].input).toMatchObject({
      DBInstanceIdentifier: 'nightshift-verify-orders-20261122-1',
      DBClusterIdentifier: 'nightshift-verify-orders-20261122',
      PubliclyAccessible: false,
      Tags: tags,
    });
  });

  it('rethrows throttling so the tick fails and the next one asks again', async () => {
    rds.on(RestoreDBInstanceFromDBSnapshotCommand).rejects(throttled);
    await expect(requestRestore(restore('instance', true), deps)).rejects.toBe(throttled);
  });

  it('returns a refusal as the verdict naming the AWS error', async () => {
    rds.on(RestoreDBInstanceFromDBSnapshotCommand).rejects(quota);
    await expect(requestRestore(restore('instance', true), deps)).resolves.toBe(
      'StorageQuotaExceededFault: storage quota reached',
    );
  });

  it('takes AlreadyExists for the copy an earlier, lost request made when asking again', async () => {
    rds
      .on(RestoreDBClusterFromSnapshotCommand)
      .rejects(new DBClusterAlreadyExistsFault({ message: 'exists', ...meta(400) }))
      .on(CreateDBInstanceCommand)
      .resolves({});
    await expect(requestRestore(restore('cluster', false), deps)).resolves.toBeUndefined();
    expect(rds.commandCalls(CreateDBInstanceCommand)).toHaveLength(1);
  });

  it("refuses a first request whose copy already exists: that copy is not this verification's", async () => {
    rds
      .on(RestoreDBInstanceFromDBSnapshotCommand)
      .rejects(new DBInstanceAlreadyExistsFault({ message: 'DB instance already exists', ...meta(400) }));
    await expect(requestRestore(restore('instance', true), deps)).resolves.toBe(
      'DBInstanceAlreadyExistsFault: DB instance already exists',
    );
  });
});

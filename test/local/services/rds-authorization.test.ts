import {
  AddTagsToResourceCommand,
  CreateDBSnapshotCommand,
  DeleteDBInstanceCommand,
  DeleteDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ListTagsForResourceCommand,
  ModifyDBInstanceCommand,
  RemoveTagsFromResourceCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import { afterEach, describe, expect, it } from 'vitest';
import type { Caller } from '../../../local/endpoint/authorize.ts';
import {
  arn,
  closeWorlds,
  pruner,
  snapshotOnly,
  snapshotter,
  verifier,
  verifierWithoutOptionGroup,
  world,
} from './rds-fixture.ts';

afterEach(closeWorlds);

describe('RdsWorld', () => {
  describe('tags resources', () => {
    it('keeps the tags given at creation, and adds, lists and removes tags by ARN', async () => {
      const { rds, sdk } = await world();
      rds.addInstance({ identifier: 'orders' });
      await sdk.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: 'orders',
          DBSnapshotIdentifier: 'nightshift-1',
          Tags: [
            { Key: 'ManagedBy', Value: 'nightshift' },
            { Key: 'tier', Value: 'daily' },
          ],
        }),
      );
      const snapshotArn = arn('snapshot:nightshift-1');
      await sdk.send(
        new AddTagsToResourceCommand({
          ResourceName: snapshotArn,
          Tags: [
            { Key: 'tier', Value: 'weekly' },
            { Key: 'verified-at', Value: '2026-11-20' },
          ],
        }),
      );
      const list = async () =>
        (await sdk.send(new ListTagsForResourceCommand({ ResourceName: snapshotArn }))).TagList;
      expect(await list()).toEqual([
        { Key: 'ManagedBy', Value: 'nightshift' },
        { Key: 'tier', Value: 'weekly' },
        { Key: 'verified-at', Value: '2026-11-20' },
      ]);
      await sdk.send(
        new RemoveTagsFromResourceCommand({ ResourceName: snapshotArn, TagKeys: ['tier', 'absent'] }),
      );
      expect(await list()).toEqual([
        { Key: 'ManagedBy', Value: 'nightshift' },
        { Key: 'verified-at', Value: '2026-11-20' },
      ]);
      const described = await sdk.send(
        new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'nightshift-1' }),
      );
      expect(described.DBSnapshots?.[0]?.TagList).toEqual(await list());
    });

    it('returns a tag value with XML markup in it (<&>) exactly as it was given', async () => {
      const { rds, sdk } = await world();
      rds.addInstance({ identifier: 'orders', tags: { note: 'a <b> & "c"' } });
      await sdk.send(
        new AddTagsToResourceCommand({
          ResourceName: arn('db:orders'),
          Tags: [{ Key: 'k<&>', Value: '<&>' }],
        }),
      );
      const out = await sdk.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders' }));
      expect(out.DBInstances?.[0]?.TagList).toEqual([
        { Key: 'note', Value: 'a <b> & "c"' },
        { Key: 'k<&>', Value: '<&>' },
      ]);
    });

    it("copies the instance's tags to a snapshot created without tags when CopyTagsToSnapshot is on", async () => {
      const { rds, sdk } = await world();
      rds.addInstance({ identifier: 'orders', copyTagsToSnapshot: true, tags: { team: 'payments' } });
      await sdk.send(
        new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'orders', DBSnapshotIdentifier: 'copy' }),
      );
      await sdk.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: 'orders',
          DBSnapshotIdentifier: 'given',
          Tags: [{ Key: 'ManagedBy', Value: 'nightshift' }],
        }),
      );
      expect([...(rds.snapshots.get('copy')?.tags ?? [])]).toEqual([['team', 'payments']]);
      expect([...(rds.snapshots.get('given')?.tags ?? [])]).toEqual([['ManagedBy', 'nightshift']]);
    });

    it('answers the not-found error of the resource type for an ARN that names nothing', async () => {
      const { sdk } = await world();
      const list = (ResourceName: string) => sdk.send(new ListTagsForResourceCommand({ ResourceName }));
      await expect(list(arn('snapshot:none'))).rejects.toMatchObject({ name: 'DBSnapshotNotFoundFault' });
      await expect(list(arn('db:none'))).rejects.toMatchObject({ name: 'DBInstanceNotFoundFault' });
      await expect(list(arn('cluster:none'))).rejects.toMatchObject({ name: 'DBClusterNotFoundFault' });
      await expect(list(arn('cluster-snapshot:none'))).rejects.toMatchObject({
        name: 'DBClusterSnapshotNotFoundFault',
      });
      await expect(list('arn:aws:rds:us-east-1:123456789012:db:orders')).rejects.toMatchObject({
        name: 'InvalidParameterValue',
      });
    });
  });

  describe('authorizes like IAM, with the resources AWS publishes for each action', () => {
    it('denies deleting a snapshot outside the policy’s nightshift-* resource with AccessDenied (403)', async () => {
      const { rds, client } = await world();
      rds.addSnapshot({ identifier: 'other-snap', source: 'orders' });
      rds.addSnapshot({ identifier: 'nightshift-orders-1', source: 'orders' });
      const sdk = client(pruner);
      await expect(
        sdk.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'other-snap' })),
      ).rejects.toMatchObject({
        name: 'AccessDenied',
        message: `User: ${pruner.principalArn} is not authorized to perform: rds:DeleteDBSnapshot on resource: ${arn('snapshot:other-snap')} because no identity-based policy allows the rds:DeleteDBSnapshot action`,
        $metadata: { httpStatusCode: 403 },
      });
      expect(rds.snapshots.has('other-snap')).toBe(true);
      await sdk.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'nightshift-orders-1' }));
      expect(rds.snapshots.get('nightshift-orders-1')?.status).toBe('deleting');
    });

    it('needs both the db and the snapshot resource for CreateDBSnapshot', async () => {
      const { rds, client } = await world();
      rds.addInstance({ identifier: 'orders' });
      await expect(
        client(snapshotOnly).send(
          new CreateDBSnapshotCommand({
            DBInstanceIdentifier: 'orders',
            DBSnapshotIdentifier: 'nightshift-1',
          }),
        ),
      ).rejects.toMatchObject({
        name: 'AccessDenied',
        message: expect.stringContaining(`rds:CreateDBSnapshot on resource: ${arn('db:orders')}`),
      });
      expect(rds.snapshots.size).toBe(0);
    });

    it('evaluates aws:RequestTag conditions against the tags given at creation', async () => {
      const { rds, client } = await world();
      rds.addInstance({ identifier: 'orders' });
      const sdk = client(snapshotter);
      await expect(
        sdk.send(
          new CreateDBSnapshotCommand({
            DBInstanceIdentifier: 'orders',
            DBSnapshotIdentifier: 'nightshift-1',
          }),
        ),
      ).rejects.toMatchObject({ name: 'AccessDenied' });
      await sdk.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: 'orders',
          DBSnapshotIdentifier: 'nightshift-1',
          Tags: [{ Key: 'ManagedBy', Value: 'nightshift' }],
        }),
      );
      expect(rds.snapshots.get('nightshift-1')?.status).toBe('creating');
    });

    it('authorizes listing all snapshots against the wildcard snapshot ARN', async () => {
      const { client } = await world();
      await expect(client(snapshotOnly).send(new DescribeDBSnapshotsCommand({}))).rejects.toMatchObject({
        name: 'AccessDenied',
        message: expect.stringContaining(`rds:DescribeDBSnapshots on resource: ${arn('snapshot:*')}`),
      });
      await expect(client(pruner).send(new DescribeDBSnapshotsCommand({}))).resolves.toMatchObject({
        DBSnapshots: [],
      });
    });
    it('authorizes a restore against the new instance, the snapshot, and the option group, parameter group and subnet group', async () => {
      const { rds, client } = await world();
      rds.addSnapshot({ identifier: 'nightshift-orders-1', source: 'orders' });
      rds.addSnapshot({ identifier: 'manual-orders-1', source: 'orders' });
      const restore = (
        caller: Caller,
        DBInstanceIdentifier: string,
        DBSnapshotIdentifier = 'nightshift-orders-1',
      ) =>
        client(caller).send(
          new RestoreDBInstanceFromDBSnapshotCommand({
            DBInstanceIdentifier,
            DBSnapshotIdentifier,
            DBSubnetGroupName: 'verify-subnets',
          }),
        );
      const denied = (resource: string) => ({
        name: 'AccessDenied',
        message: expect.stringContaining(
          `rds:RestoreDBInstanceFromDBSnapshot on resource: ${arn(resource)} `,
        ),
      });
      await expect(restore(verifier, 'orders-copy')).rejects.toMatchObject(denied('db:orders-copy'));
      await expect(restore(verifier, 'nightshift-verify-a', 'manual-orders-1')).rejects.toMatchObject(
        denied('snapshot:manual-orders-1'),
      );
      await expect(restore(verifierWithoutOptionGroup, 'nightshift-verify-a')).rejects.toMatchObject(
        denied('og:default:postgres-16'),
      );
      await expect(restore(verifier, 'nightshift-verify-a')).resolves.toMatchObject({
        DBInstance: { DBInstanceIdentifier: 'nightshift-verify-a' },
      });
    });

    it('lets a policy modify and delete only the instances it names', async () => {
      const { rds, client } = await world();
      rds.addInstance({ identifier: 'orders' });
      rds.addInstance({ identifier: 'nightshift-verify-orders' });
      const sdk = client(verifier);
      await expect(
        sdk.send(
          new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'orders', MasterUserPassword: 'a-New-Pass-1' }),
        ),
      ).rejects.toMatchObject({
        name: 'AccessDenied',
        message: expect.stringContaining(`rds:ModifyDBInstance on resource: ${arn('db:orders')}`),
      });
      await expect(
        sdk.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: 'orders', SkipFinalSnapshot: true })),
      ).rejects.toMatchObject({ name: 'AccessDenied' });
      await sdk.send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: 'nightshift-verify-orders',
          MasterUserPassword: 'a-New-Pass-1',
        }),
      );
      await sdk.send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: 'nightshift-verify-orders',
          SkipFinalSnapshot: true,
        }),
      );
      // A final snapshot needs rds:CreateDBSnapshot on it as well.
      rds.addInstance({ identifier: 'nightshift-verify-2' });
      await expect(
        sdk.send(
          new DeleteDBInstanceCommand({
            DBInstanceIdentifier: 'nightshift-verify-2',
            FinalDBSnapshotIdentifier: 'nightshift-final',
          }),
        ),
      ).rejects.toMatchObject({
        message: expect.stringContaining(
          `rds:CreateDBSnapshot on resource: ${arn('snapshot:nightshift-final')}`,
        ),
      });
      expect(rds.instances.get('orders')?.status).toBe('available');
      expect(rds.instances.get('nightshift-verify-orders')?.status).toBe('deleting');
    });
  });
});

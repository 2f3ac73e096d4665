import {
  AddTagsToResourceCommand,
  CreateDBInstanceCommand,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  ModifyDBClusterCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  type RestoreDBInstanceFromDBSnapshotCommandInput,
} from '@aws-sdk/client-rds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT, iamWorld, REGION } from './iam-world.ts';

let w: Awaited<ReturnType<typeof iamWorld>>;
let verify: RDSClient;
const MANAGED = { 'nightshift:managed': 'true' };
const arn = (type: string, id: string) => `arn:aws:rds:${REGION}:${ACCOUNT}:${type}:${id}`;
const denied = { name: 'AccessDenied' };
const copyTags = [
  { Key: 'nightshift:managed', Value: 'true' },
  { Key: 'nightshift:source-db', Value: 'orders-db' },
  { Key: 'nightshift:expires-at', Value: '2026-11-16T14:00:00.000Z' },
];

beforeAll(async () => {
  w = await iamWorld();
  verify = new RDSClient(w.as('RestoreVerify'));
  const { rds } = w.world;
  rds.addInstance({ identifier: 'orders-db' });
  rds.addSnapshot({ identifier: 'nightshift-orders-db-20261116-0300', source: 'orders-db', tags: MANAGED });
  // Someone else's snapshot that happens to carry Nightshift's prefix.
  rds.addSnapshot({ identifier: 'nightshift-x', source: 'orders-db' });
  rds.addInstance({ identifier: 'nightshift-verify-tagged', tags: MANAGED });
  rds.addInstance({ identifier: 'nightshift-verify-x' });
  rds.addCluster({ identifier: 'nightshift-verify-c', engine: 'aurora-postgresql', tags: MANAGED });
  rds.addCluster({ identifier: 'nightshift-verify-u', engine: 'aurora-postgresql' });
  rds.addClusterSnapshot({
    identifier: 'nightshift-orders-cluster-1',
    source: 'orders-cluster',
    tags: MANAGED,
  });
});
afterAll(() => w.close());

const restore = (input: Partial<RestoreDBInstanceFromDBSnapshotCommandInput>) =>
  verify.send(
    new RestoreDBInstanceFromDBSnapshotCommand({
      DBInstanceIdentifier: 'nightshift-verify-new',
      DBSnapshotIdentifier: 'nightshift-orders-db-20261116-0300',
      DBSubnetGroupName: 'webhooks-private',
      PubliclyAccessible: false,
      Tags: copyTags,
      ...input,
    }),
  );

describe('restore verification permissions in the local world, by the synthesized policy', () => {
  describe('create and restore: private, tagged copies of its own snapshots only', () => {
    const copy = arn('db', 'nightshift-verify-new');
    it.each<[string, Partial<RestoreDBInstanceFromDBSnapshotCommandInput>, string]>([
      ['a publicly accessible copy', { PubliclyAccessible: true }, copy],
      ['a copy that does not say it is private', { PubliclyAccessible: undefined }, copy],
      ['an untagged copy', { Tags: undefined }, copy],
      ['a copy with a tag outside nightshift:*', { Tags: [...copyTags, { Key: 'owner', Value: 'x' }] }, copy],
      [
        'a copy not named nightshift-verify-*',
        { DBInstanceIdentifier: 'orders-copy' },
        arn('db', 'orders-copy'),
      ],
      [
        "a restore of a snapshot Nightshift did not tag (someone's nightshift-x)",
        { DBSnapshotIdentifier: 'nightshift-x' },
        arn('snapshot', 'nightshift-x'),
      ],
      ['a restore into another subnet group', { DBSubnetGroupName: 'default' }, arn('subgrp', 'default')],
    ])('refuses %s', async (_what, input, resource) => {
      await expect(restore(input)).rejects.toMatchObject({
        ...denied,
        message: expect.stringContaining(`rds:RestoreDBInstanceFromDBSnapshot on resource: ${resource} `),
      });
      expect(
        w.world.rds.instances.has((input.DBInstanceIdentifier ?? 'nightshift-verify-new').toLowerCase()),
      ).toBe(false);
    });

    it('restores a private, tagged copy of its own snapshot', async () => {
      await expect(restore({})).resolves.toMatchObject({
        DBInstance: { DBInstanceIdentifier: 'nightshift-verify-new' },
      });
    });

    it('adds only private, tagged instances, and only to tagged cluster copies', async () => {
      const member = (
        DBInstanceIdentifier: string,
        DBClusterIdentifier: string,
        PubliclyAccessible = false,
      ) =>
        verify.send(
          new CreateDBInstanceCommand({
            DBInstanceIdentifier,
            DBClusterIdentifier,
            Engine: 'aurora-postgresql',
            DBInstanceClass: 'db.t4g.medium',
            PubliclyAccessible,
            Tags: copyTags,
          }),
        );
      await expect(member('nightshift-verify-u-1', 'nightshift-verify-u')).rejects.toMatchObject(denied);
      await expect(member('nightshift-verify-c-1', 'nightshift-verify-c', true)).rejects.toMatchObject(
        denied,
      );
      await expect(member('nightshift-verify-c-1', 'nightshift-verify-c')).resolves.toBeDefined();
    });

    it('restores clusters only into tagged copies', async () => {
      const restoreCluster = (Tags?: typeof copyTags) =>
        verify.send(
          new RestoreDBClusterFromSnapshotCommand({
            DBClusterIdentifier: 'nightshift-verify-rc',
            SnapshotIdentifier: 'nightshift-orders-cluster-1',
            Engine: 'aurora-postgresql',
            DBSubnetGroupName: 'webhooks-private',
            Tags,
          }),
        );
      await expect(restoreCluster()).rejects.toMatchObject(denied);
      await expect(restoreCluster(copyTags)).resolves.toBeDefined();
    });
  });

  describe('modify and delete: tagged nightshift-verify-* copies only', () => {
    const password = 'a-One-Time-Pass-1';

    it('refuses to modify or delete an untagged nightshift-verify-x', async () => {
      await expect(
        verify.send(
          new ModifyDBInstanceCommand({
            DBInstanceIdentifier: 'nightshift-verify-x',
            MasterUserPassword: password,
          }),
        ),
      ).rejects.toMatchObject(denied);
      await expect(
        verify.send(
          new DeleteDBInstanceCommand({
            DBInstanceIdentifier: 'nightshift-verify-x',
            SkipFinalSnapshot: true,
          }),
        ),
      ).rejects.toMatchObject(denied);
      await expect(
        verify.send(
          new ModifyDBClusterCommand({
            DBClusterIdentifier: 'nightshift-verify-u',
            MasterUserPassword: password,
          }),
        ),
      ).rejects.toMatchObject(denied);
      await expect(
        verify.send(
          new DeleteDBClusterCommand({ DBClusterIdentifier: 'nightshift-verify-u', SkipFinalSnapshot: true }),
        ),
      ).rejects.toMatchObject(denied);
      expect(w.world.rds.instances.get('nightshift-verify-x')?.status).toBe('available');
      expect(w.world.rds.clusters.get('nightshift-verify-u')?.status).toBe('available');
    });

    it("refuses to rewrite a copy's tags (an expiry the janitor trusts)", async () => {
      await expect(
        verify.send(
          new AddTagsToResourceCommand({
            ResourceName: arn('db', 'nightshift-verify-tagged'),
            Tags: [
              { Key: 'nightshift:managed', Value: 'true' },
              { Key: 'nightshift:expires-at', Value: '2000-01-01T00:00:00.000Z' },
            ],
          }),
        ),
      ).rejects.toMatchObject(denied);
    });

    it('refuses to modify a database that is not a copy', async () => {
      await expect(
        verify.send(
          new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'orders-db', MasterUserPassword: password }),
        ),
      ).rejects.toMatchObject(denied);
    });

    it('resets and deletes its tagged copies', async () => {
      await verify.send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: 'nightshift-verify-tagged',
          MasterUserPassword: password,
        }),
      );
      await verify.send(
        new ModifyDBClusterCommand({
          DBClusterIdentifier: 'nightshift-verify-c',
          MasterUserPassword: password,
        }),
      );
      await verify.send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: 'nightshift-verify-tagged',
          SkipFinalSnapshot: true,
        }),
      );
      expect(w.world.rds.instances.get('nightshift-verify-tagged')?.status).toBe('deleting');
    });
  });

  describe('snapshot tags', () => {
    const tag = (id: string, Key = 'nightshift:verified-at') =>
      verify.send(
        new AddTagsToResourceCommand({
          ResourceName: arn('snapshot', id),
          Tags: [{ Key, Value: '2026-11-16T06:00:00.000Z' }],
        }),
      );

    it('marks its own tagged snapshots verified', async () => {
      await tag('nightshift-orders-db-20261116-0300');
      expect(
        w.world.rds.snapshots.get('nightshift-orders-db-20261116-0300')?.tags.get('nightshift:verified-at'),
      ).toBe('2026-11-16T06:00:00.000Z');
    });

    it("refuses other tags on them, and any tag on someone else's nightshift-x", async () => {
      await expect(tag('nightshift-orders-db-20261116-0300', 'nightshift:expires-at')).rejects.toMatchObject(
        denied,
      );
      await expect(tag('nightshift-x')).rejects.toMatchObject(denied);
      await expect(tag('nightshift-x', 'nightshift:managed')).rejects.toMatchObject(denied);
      expect(w.world.rds.snapshots.get('nightshift-x')?.tags.size).toBe(0);
    });
  });
});

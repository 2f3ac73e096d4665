import {
  AddTagsToResourceCommand,
  CreateDBSnapshotCommand,
  type CreateDBSnapshotCommandInput,
  DeleteDBSnapshotCommand,
  RDSClient,
  RemoveTagsFromResourceCommand,
} from '@aws-sdk/client-rds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT, iamWorld, REGION } from './iam-world.ts';

let w: Awaited<ReturnType<typeof iamWorld>>;
let snapshots: RDSClient;
const OWN = 'nightshift-webhooks-db-20261101-0300';
const FOREIGN = 'nightshift-x';
const arn = (id: string) => `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:${id}`;
const denied = { name: 'AccessDenied' };
const creationTags = [
  { Key: 'nightshift:managed', Value: 'true' },
  { Key: 'nightshift:tier', Value: 'daily' },
  { Key: 'nightshift:expires-at', Value: '2026-11-23T03:00:00.000Z' },
  { Key: 'nightshift:source-db', Value: 'webhooks-db' },
  { Key: 'nightshift:run-id', Value: 'run-2026-11-16T03:00:00.000Z' },
];

beforeAll(async () => {
  w = await iamWorld();
  snapshots = new RDSClient(w.as('RdsSnapshots'));
  const { rds } = w.world;
  rds.addInstance({ identifier: 'webhooks-db', tags: { 'nightshift:backup': 'true' } });
  rds.addSnapshot({
    identifier: OWN,
    source: 'webhooks-db',
    tags: { 'nightshift:managed': 'true', 'nightshift:expires-at': '2027-11-01T03:00:00.000Z' },
  });
  // Someone else's manual snapshot that happens to start with nightshift-.
  rds.addSnapshot({ identifier: FOREIGN, source: 'webhooks-db' });
});
afterAll(() => w.close());

const tag = (id: string, tags: { Key: string; Value: string }[]) =>
  snapshots.send(new AddTagsToResourceCommand({ ResourceName: arn(id), Tags: tags }));
const create = (input: Partial<CreateDBSnapshotCommandInput>) =>
  snapshots.send(
    new CreateDBSnapshotCommand({
      DBInstanceIdentifier: 'webhooks-db',
      DBSnapshotIdentifier: 'nightshift-webhooks-db-20261116-0300',
      Tags: creationTags,
      ...input,
    }),
  );

describe('snapshot permissions in the local world, by the synthesized policy', () => {
  it("cannot delete someone else's nightshift-x snapshot: the name is not enough (finding 10)", async () => {
    await expect(
      snapshots.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: FOREIGN })),
    ).rejects.toMatchObject({
      ...denied,
      message: expect.stringContaining(`rds:DeleteDBSnapshot on resource: ${arn(FOREIGN)}`),
    });
    expect(w.world.rds.snapshots.get(FOREIGN)?.status).toBe('available');
  });

  it('cannot put anything but a whole set of nightshift tags on a snapshot', async () => {
    await expect(
      tag(FOREIGN, [{ Key: 'nightshift:expires-at', Value: '2000-01-01T00:00:00.000Z' }]),
    ).rejects.toMatchObject(denied);
    await expect(tag(FOREIGN, [...creationTags, { Key: 'owner', Value: 'x' }])).rejects.toMatchObject(denied);
    expect(w.world.rds.snapshots.get(FOREIGN)?.tags.size).toBe(0);
  });

  it("cannot rewrite its own snapshots' tags (an expiry brought forward would prune a monthly) nor remove them", async () => {
    await expect(
      tag(OWN, [
        { Key: 'nightshift:managed', Value: 'true' },
        { Key: 'nightshift:expires-at', Value: '2000-01-01T00:00:00.000Z' },
      ]),
    ).rejects.toMatchObject(denied);
    await expect(
      snapshots.send(
        new RemoveTagsFromResourceCommand({ ResourceName: arn(OWN), TagKeys: ['nightshift:managed'] }),
      ),
    ).rejects.toMatchObject(denied);
    expect(w.world.rds.snapshots.get(OWN)?.tags.get('nightshift:expires-at')).toBe(
      '2027-11-01T03:00:00.000Z',
    );
  });

  it.each<[string, Partial<CreateDBSnapshotCommandInput>]>([
    ['an untagged snapshot', { Tags: undefined }],
    ['a snapshot without nightshift:managed', { Tags: creationTags.slice(1) }],
    ['a snapshot with a tag outside nightshift:*', { Tags: [...creationTags, { Key: 'owner', Value: 'x' }] }],
    ['a snapshot not named nightshift-*', { DBSnapshotIdentifier: 'webhooks-db-copy' }],
  ])('cannot create %s', async (_what, input) => {
    await expect(create(input)).rejects.toMatchObject(denied);
    expect(
      w.world.rds.snapshots.has(
        (input.DBSnapshotIdentifier ?? 'nightshift-webhooks-db-20261116-0300').toLowerCase(),
      ),
    ).toBe(false);
  });

  it('creates its snapshots tagged, and deletes the ones that carry nightshift:managed', async () => {
    await create({});
    expect(
      w.world.rds.snapshots.get('nightshift-webhooks-db-20261116-0300')?.tags.get('nightshift:managed'),
    ).toBe('true');
    // A second delivery of the run finds the name taken: RDS says so, IAM does not refuse it.
    await expect(create({})).rejects.toMatchObject({ name: 'DBSnapshotAlreadyExistsFault' });
    await snapshots.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: OWN }));
    // A delete takes time on RDS, as in the local world: accepted now, gone later.
    expect(w.world.rds.snapshots.get(OWN)?.status).toBe('deleting');
  });
});

import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT, iamWorld, REGION } from './iam-world.ts';

const SERVICE = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/webhooks-prod/webhooks-api`;
let w: Awaited<ReturnType<typeof iamWorld>>;
const documents = (config: DynamoDBClientConfig) => DynamoDBDocumentClient.from(new DynamoDBClient(config));
let operator: DynamoDBDocumentClient;

beforeAll(async () => {
  w = await iamWorld();
  operator = documents(w.world.operatorConfig());
  // An audit entry of the snapshot function, as its runs write them.
  await operator.send(
    new PutCommand({
      TableName: w.tableName,
      Item: { pk: 'audit#rds-snapshots', sk: '2026-11-16T03:00:00.000Z#1', action: 'create-snapshot' },
    }),
  );
});
afterAll(() => w.close());

const denied = { name: 'AccessDeniedException' };
const put = (client: DynamoDBDocumentClient, pk: string, sk: string, extra: Record<string, unknown> = {}) =>
  client.send(new PutCommand({ TableName: w.tableName, Item: { pk, sk, ...extra } }));
const stored = async (pk: string, sk: string) =>
  (await operator.send(new GetCommand({ TableName: w.tableName, Key: { pk, sk } }))).Item;

describe('state table access in the local world, by the synthesized policies', () => {
  describe('the snapshot function', () => {
    const snapshots = () => documents(w.as('RdsSnapshots'));

    it('cannot plant a rev# record in the rollback history (finding 4)', async () => {
      const forged = { taskDefinition: { image: 'attacker.example.com/backdoor' } };
      await expect(
        put(snapshots(), `ecs-rollback#${SERVICE}`, 'rev#webhooks-api:77', forged),
      ).rejects.toMatchObject(denied);
      await expect(put(snapshots(), `svc#${SERVICE}`, 'rev#webhooks-api:77', forged)).rejects.toMatchObject(
        denied,
      );
      await expect(put(snapshots(), `claim#${SERVICE}`, 'claim')).rejects.toMatchObject(denied);
      expect(await stored(`ecs-rollback#${SERVICE}`, 'rev#webhooks-api:77')).toBeUndefined();
    });

    it('cannot delete or rewrite an audit entry, even its own', async () => {
      const key = { pk: 'audit#rds-snapshots', sk: '2026-11-16T03:00:00.000Z#1' };
      await expect(
        snapshots().send(new DeleteCommand({ TableName: w.tableName, Key: key })),
      ).rejects.toMatchObject(denied);
      await expect(
        snapshots().send(
          new UpdateCommand({
            TableName: w.tableName,
            Key: key,
            UpdateExpression: 'SET #a = :a',
            ExpressionAttributeNames: { '#a': 'action' },
            ExpressionAttributeValues: { ':a': 'nothing' },
          }),
        ),
      ).rejects.toMatchObject(denied);
      expect((await stored(key.pk, key.sk))?.action).toBe('create-snapshot');
    });

    it("cannot write another runbook's audit, nor read the table by Scan", async () => {
      await expect(put(snapshots(), 'audit#ecs-rollback', 'x')).rejects.toMatchObject(denied);
      await expect(snapshots().send(new ScanCommand({ TableName: w.tableName }))).rejects.toMatchObject(
        denied,
      );
    });

    it('adds and reads its own audit entries', async () => {
      await put(snapshots(), 'audit#rds-snapshots', '2026-11-17T03:00:00.000Z#2', { action: 'prune' });
      const { Items } = await snapshots().send(
        new QueryCommand({
          TableName: w.tableName,
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': 'audit#rds-snapshots' },
        }),
      );
      expect(Items?.map((i) => i.action)).toEqual(['create-snapshot', 'prune']);
    });
  });

  describe('the rollback function', () => {
    const rollback = () => documents(w.as('EcsRollback'));

    it('writes, updates, reads and deletes its history and claims', async () => {
      await put(rollback(), `ecs-rollback#${SERVICE}`, 'rev#d-1', { taskDefinitionArn: 'td:1' });
      await put(rollback(), `claim#${SERVICE}`, 'claim', { stage: 'claimed' });
      await rollback().send(
        new UpdateCommand({
          TableName: w.tableName,
          Key: { pk: `claim#${SERVICE}`, sk: 'claim' },
          UpdateExpression: 'SET stage = :s',
          ConditionExpression: 'stage = :c',
          ExpressionAttributeValues: { ':s': 'published', ':c': 'claimed' },
        }),
      );
      const { Items } = await rollback().send(
        new QueryCommand({
          TableName: w.tableName,
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': `ecs-rollback#${SERVICE}` },
        }),
      );
      expect(Items?.map((i) => i.sk)).toEqual(['rev#d-1']);
      await rollback().send(
        new DeleteCommand({ TableName: w.tableName, Key: { pk: `ecs-rollback#${SERVICE}`, sk: 'rev#d-1' } }),
      );
      expect((await stored(`claim#${SERVICE}`, 'claim'))?.stage).toBe('published');
      await put(rollback(), 'audit#ecs-rollback', '2026-11-16T08:00:00.000Z#1');
    });

    it("cannot touch restore verification's records or the snapshot function's audit", async () => {
      await expect(put(rollback(), 'restore-verify', 'nightshift-verify-x')).rejects.toMatchObject(denied);
      await expect(
        rollback().send(
          new DeleteCommand({
            TableName: w.tableName,
            Key: { pk: 'audit#rds-snapshots', sk: '2026-11-16T03:00:00.000Z#1' },
          }),
        ),
      ).rejects.toMatchObject(denied);
    });
  });

  describe('the restore verification function', () => {
    const verify = () => documents(w.as('RestoreVerify'));

    it('writes and moves its verification records', async () => {
      await put(verify(), 'restore-verify', 'nightshift-verify-orders-db', { state: 'restoring' });
      await verify().send(
        new UpdateCommand({
          TableName: w.tableName,
          Key: { pk: 'restore-verify', sk: 'nightshift-verify-orders-db' },
          UpdateExpression: 'SET #s = :s',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: { ':s': 'checking' },
        }),
      );
      await put(verify(), 'restore-verify#marker', 'no-snapshot');
      expect((await stored('restore-verify', 'nightshift-verify-orders-db'))?.state).toBe('checking');
      await put(verify(), 'audit#restore-verify', '2026-11-16T08:00:00.000Z#1');
    });

    it('cannot write rollback history', async () => {
      await expect(put(verify(), `ecs-rollback#${SERVICE}`, 'rev#d-9')).rejects.toMatchObject(denied);
    });
  });
});

import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../local/endpoint/authorize.ts';
import { dynamoNeeds } from '../../../local/endpoint/dynamo-authorization.ts';
import { AwsServiceError } from '../../../local/endpoint/errors.ts';
import { LocalEndpoint } from '../../../local/endpoint/server.ts';

const TABLE = 'state';
const keys = new Map([[TABLE, 'pk']]);
const S = (v: string) => ({ S: v });

describe('dynamoNeeds', () => {
  const leading = (operation: string, input: Record<string, unknown>) =>
    dynamoNeeds(operation, { TableName: TABLE, ...input }, keys).map((n) => ({
      action: n.action,
      keys: n.context?.['dynamodb:LeadingKeys'],
      enclosing: n.context?.['dynamodb:EnclosingOperation'],
    }));

  it.each([
    ['GetItem', { Key: { pk: S('a#1'), sk: S('x') } }],
    ['PutItem', { Item: { pk: S('a#1'), sk: S('x'), v: S('y') } }],
    ['UpdateItem', { Key: { pk: S('a#1'), sk: S('x') } }],
    ['DeleteItem', { Key: { pk: S('a#1'), sk: S('x') } }],
  ])('carries the partition key of %s', (operation, input) => {
    expect(leading(operation, input)).toEqual([
      { action: `dynamodb:${operation}`, keys: ['a#1'], enclosing: undefined },
    ]);
  });

  it.each([
    ['pk = :p', {}, { ':p': S('a#1') }],
    ['#k = :p AND begins_with(sk, :s)', { '#k': 'pk' }, { ':p': S('a#1'), ':s': S('rev#') }],
    ['(:p = pk) AND sk <= :s', {}, { ':p': S('a#1'), ':s': S('z') }],
  ])('reads the partition key equality of the Query %s', (expression, names, values) => {
    expect(
      leading('Query', {
        KeyConditionExpression: expression,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    ).toEqual([{ action: 'dynamodb:Query', keys: ['a#1'], enclosing: undefined }]);
  });

  it('reads legacy KeyConditions', () => {
    expect(
      leading('Query', { KeyConditions: { pk: { ComparisonOperator: 'EQ', AttributeValueList: [S('b')] } } }),
    ).toEqual([{ action: 'dynamodb:Query', keys: ['b'], enclosing: undefined }]);
  });

  it('refuses a Query without an equality on the partition key', () => {
    expect(() =>
      leading('Query', { KeyConditionExpression: 'sk = :s', ExpressionAttributeValues: { ':s': S('x') } }),
    ).toThrow(/missed key schema element: pk/);
  });

  it('carries every key of a batch, per table', () => {
    const needs = dynamoNeeds(
      'BatchWriteItem',
      {
        RequestItems: {
          [TABLE]: [
            { PutRequest: { Item: { pk: S('a#1'), sk: S('1') } } },
            { DeleteRequest: { Key: { pk: S('b#2'), sk: S('2') } } },
            { PutRequest: { Item: { pk: S('a#1'), sk: S('3') } } },
          ],
        },
      },
      keys,
    );
    expect(needs).toEqual([
      {
        action: 'dynamodb:BatchWriteItem',
        resourceType: 'table',
        values: { TableName: TABLE },
        context: { 'dynamodb:LeadingKeys': ['a#1', 'b#2'] },
      },
    ]);
    expect(
      dynamoNeeds(
        'BatchGetItem',
        {
          RequestItems: {
            [TABLE]: {
              Keys: [
                { pk: S('a'), sk: S('1') },
                { pk: S('c'), sk: S('1') },
              ],
            },
          },
        },
        keys,
      ).map((n) => n.context?.['dynamodb:LeadingKeys']),
    ).toEqual([['a', 'c']]);
  });

  it('authorizes each transaction item as its own action with its key', () => {
    const needs = dynamoNeeds(
      'TransactWriteItems',
      {
        TransactItems: [
          { Put: { TableName: TABLE, Item: { pk: S('a#1'), sk: S('1') } } },
          { ConditionCheck: { TableName: TABLE, Key: { pk: S('claim#1'), sk: S('claim') } } },
          { Update: { TableName: TABLE, Key: { pk: S('a#1'), sk: S('2') } } },
        ],
      },
      keys,
    );
    expect(needs.map((n) => [n.action, n.context])).toEqual([
      [
        'dynamodb:PutItem',
        { 'dynamodb:EnclosingOperation': 'TransactWriteItems', 'dynamodb:LeadingKeys': ['a#1'] },
      ],
      [
        'dynamodb:ConditionCheckItem',
        { 'dynamodb:EnclosingOperation': 'TransactWriteItems', 'dynamodb:LeadingKeys': ['claim#1'] },
      ],
      [
        'dynamodb:UpdateItem',
        { 'dynamodb:EnclosingOperation': 'TransactWriteItems', 'dynamodb:LeadingKeys': ['a#1'] },
      ],
    ]);
  });

  it.each([
    ['Scan', {}, 'dynamodb:Scan'],
    ['ExecuteStatement', { Statement: `SELECT * FROM "${TABLE}" WHERE pk = 'a'` }, 'dynamodb:PartiQLSelect'],
    ['ExecuteStatement', { Statement: `INSERT INTO "${TABLE}" VALUE {'pk': 'a'}` }, 'dynamodb:PartiQLInsert'],
    ['ExecuteStatement', { Statement: `DELETE FROM "${TABLE}" WHERE pk = 'a'` }, 'dynamodb:PartiQLDelete'],
  ])('gives %s no leading keys (%s)', (operation, input, action) => {
    const [need, ...rest] = dynamoNeeds(operation, { ...input, TableName: TABLE }, keys);
    expect(rest).toEqual([]);
    expect(need).toEqual({
      action,
      resourceType: 'table',
      values: { TableName: TABLE },
      context: {},
    });
  });

  it('refuses a keyed request on a table whose key schema is unknown', () => {
    expect(() => dynamoNeeds('GetItem', { TableName: 'other', Key: { pk: S('a') } }, keys)).toThrow(
      AwsServiceError,
    );
  });

  it('refuses a key without the partition key attribute', () => {
    expect(() => leading('PutItem', { Item: { id: S('a') } })).toThrow(/pk is missing/);
  });
});

describe('LocalEndpoint › DynamoDB', () => {
  const account = '123456789012';
  const region = 'eu-west-1';
  const tableArn = `arn:aws:dynamodb:${region}:${account}:table/${TABLE}`;
  const caller = (name: string, statements: unknown[]): Caller => ({
    accessKeyId: `AKIA${name.toUpperCase().padEnd(16, '0')}`,
    secretAccessKey: `${name}-secret`,
    principalArn: `arn:aws:sts::${account}:assumed-role/${name}/fn`,
    policies: [{ Version: '2012-10-17', Statement: statements as never }],
  });
  const own = caller('own', [
    {
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
      Resource: tableArn,
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['mine#*'] } },
    },
  ]);
  // The mistake the house rules forbid: Scan under the same condition, which holds for a request with no key.
  const scanner = caller('scanner', [
    {
      Effect: 'Allow',
      Action: 'dynamodb:Scan',
      Resource: tableArn,
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['mine#*'] } },
    },
  ]);
  const callers = new Map([own, scanner].map((c) => [c.accessKeyId, c]));
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  let endpoint: LocalEndpoint;
  const client = (c: Caller) =>
    new DynamoDBClient({
      endpoint: endpoint.url,
      region,
      credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
      maxAttempts: 1,
    });

  beforeAll(async () => {
    await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', () => resolve()));
    const port = (dynamo.address() as AddressInfo).port;
    const direct = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${port}`,
      region,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    await direct.send(
      new CreateTableCommand({
        TableName: TABLE,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await direct.send(new PutItemCommand({ TableName: TABLE, Item: { pk: S('theirs#1'), sk: S('x') } }));
    direct.destroy();
    endpoint = new LocalEndpoint({
      account,
      region,
      services: [],
      callerFor: (key) => callers.get(key),
      dynamoPort: port,
      dynamoPartitionKeys: keys,
    });
    await endpoint.listen();
  });
  afterAll(async () => {
    await endpoint.close();
    await new Promise<void>((resolve) => dynamo.close(() => resolve()));
  });

  it('lets a caller write and read items under its own partition keys', async () => {
    await client(own).send(new PutItemCommand({ TableName: TABLE, Item: { pk: S('mine#1'), sk: S('a') } }));
    const got = await client(own).send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: S('mine#1'), sk: S('a') } }),
    );
    expect(got.Item?.pk).toEqual(S('mine#1'));
    const queried = await client(own).send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': S('mine#1') },
      }),
    );
    expect(queried.Count).toBe(1);
  });

  it("refuses a write, a read and a query under another's partition key", async () => {
    await expect(
      client(own).send(new PutItemCommand({ TableName: TABLE, Item: { pk: S('theirs#1'), sk: S('b') } })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(
      client(own).send(new GetItemCommand({ TableName: TABLE, Key: { pk: S('theirs#1'), sk: S('x') } })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(
      client(own).send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': S('theirs#1') },
        }),
      ),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('lets a Scan through a ForAllValues condition on LeadingKeys: it carries no key', async () => {
    const scanned = await client(scanner).send(new ScanCommand({ TableName: TABLE }));
    expect(scanned.Items?.map((i) => i.pk?.S)).toContain('theirs#1');
  });
});

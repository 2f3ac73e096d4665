import { readFileSync } from 'node:fs';
import {
  DeleteParameterCommand,
  DeleteParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersByPathCommand,
  LabelParameterVersionCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Caller } from '../../../local/endpoint/authorize.ts';
import { LocalEndpoint } from '../../../local/endpoint/server.ts';
import type { PolicyStatement } from '../../../local/iam/policy.ts';
import type { AwsEvent } from '../../../local/services/envelope.ts';
import { SsmWorld } from '../../../local/services/ssm.ts';
import { VirtualClock } from '../../../local/world/clock.ts';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const ARN = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter`;
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KEY_ID}`;

const role = (name: string, ...Statement: PolicyStatement[]): Caller => ({
  accessKeyId: `AKIA${name.toUpperCase().padEnd(16, '0')}`,
  secretAccessKey: `${name}-secret`,
  principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${name}/fn`,
  policies: [{ Version: '2012-10-17', Statement }],
});
const ssmOn = (Resource: string): PolicyStatement => ({
  Effect: 'Allow',
  Action: [
    'ssm:GetParameter',
    'ssm:GetParameters',
    'ssm:GetParameterHistory',
    'ssm:GetParametersByPath',
    'ssm:PutParameter',
  ],
  Resource,
});
const decryptVia = (region: string): PolicyStatement => ({
  Effect: 'Allow',
  Action: 'kms:Decrypt',
  Resource: KEY_ARN,
  Condition: {
    StringEquals: {
      'kms:ViaService': `ssm.${region}.amazonaws.com`,
      'kms:EncryptionContext:PARAMETER_ARN': `${ARN}/secure/db-password`,
    },
  },
});
/** May read and write /secure/*, but may use no KMS key. */
const reader = role('reader', ssmOn(`${ARN}/secure/*`));
/** Also may decrypt the customer key, via SSM in this region, for /secure/db-password. */
const decrypter = role('decrypter', ssmOn(`${ARN}/secure/*`), decryptVia(REGION));
/** May decrypt the key, but only via SSM in another region. */
const elsewhere = role('elsewhere', ssmOn(`${ARN}/secure/*`), decryptVia('us-east-1'));
/** May also encrypt under the key (a customer-key SecureString put). */
const writer = role('writer', ssmOn(`${ARN}/secure/*`), {
  Effect: 'Allow',
  Action: 'kms:Encrypt',
  Resource: KEY_ARN,
  Condition: { StringEquals: { 'kms:ViaService': `ssm.${REGION}.amazonaws.com` } },
});
const operator: Caller = {
  accessKeyId: 'AKIAOPERATOR00000000',
  secretAccessKey: 'operator-secret',
  principalArn: `arn:aws:iam::${ACCOUNT}:user/sandbox-operator`,
  policies: 'unrestricted',
};
const callers = [reader, decrypter, elsewhere, writer, operator];

const clock = new VirtualClock(Date.parse('2026-11-20T00:00:00Z'));
const events: AwsEvent[] = [];
const ssm = new SsmWorld({ account: ACCOUNT, region: REGION, clock, emit: (e) => events.push(e) });
const endpoint = new LocalEndpoint({
  account: ACCOUNT,
  region: REGION,
  services: [ssm],
  callerFor: (key) => callers.find((c) => c.accessKeyId === key),
});
const client = (c: Caller) =>
  new SSMClient({
    endpoint: endpoint.url,
    region: REGION,
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
    maxAttempts: 1,
  });

beforeAll(async () => {
  await endpoint.listen();
  ssm.keys.add(KEY_ID, 'alias/nightshift-secrets');
  ssm.put('/secure/db-password', 'hunter2-customer', {
    type: 'SecureString',
    keyId: 'alias/nightshift-secrets',
  });
  ssm.put('/secure/api-token', 'token-managed', 'SecureString');
});
afterAll(() => endpoint.close());

describe('SecureString under KMS keys', () => {
  it('refuses WithDecryption on a customer key without kms:Decrypt, naming the key', async () => {
    await expect(
      client(reader).send(new GetParameterCommand({ Name: '/secure/db-password', WithDecryption: true })),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining(`is not authorized to perform: kms:Decrypt on resource: ${KEY_ARN}`),
    });
    await expect(
      client(reader).send(new GetParametersByPathCommand({ Path: '/secure', WithDecryption: true })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('answers the encrypted value (base64, never the secret) without WithDecryption, whatever the key', async () => {
    const got = await client(reader).send(new GetParameterCommand({ Name: '/secure/db-password' }));
    expect(got.Parameter?.Type).toBe('SecureString');
    expect(got.Parameter?.Value).toMatch(/^[A-Za-z0-9+/=]+$/);
    expect(got.Parameter?.Value).not.toContain('hunter2');
  });

  it('decrypts with kms:Decrypt via SSM in the region for that parameter ARN, not via another region', async () => {
    const got = await client(decrypter).send(
      new GetParameterCommand({ Name: '/secure/db-password', WithDecryption: true }),
    );
    expect(got.Parameter?.Value).toBe('hunter2-customer');
    await expect(
      client(elsewhere).send(new GetParameterCommand({ Name: '/secure/db-password', WithDecryption: true })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('needs no key permission for the AWS managed alias/aws/ssm', async () => {
    const got = await client(reader).send(
      new GetParameterCommand({ Name: '/secure/api-token', WithDecryption: true }),
    );
    expect(got.Parameter?.Value).toBe('token-managed');
    const history = await client(reader).send(new GetParameterHistoryCommand({ Name: '/secure/api-token' }));
    expect(history.Parameters?.[0]?.KeyId).toBe('alias/aws/ssm');
  });

  it('shows the KeyId in the history and needs kms:Decrypt there too', async () => {
    const history = await client(reader).send(
      new GetParameterHistoryCommand({ Name: '/secure/db-password' }),
    );
    expect(history.Parameters?.[0]).toMatchObject({
      KeyId: 'alias/nightshift-secrets',
      Type: 'SecureString',
    });
    await expect(
      client(reader).send(
        new GetParameterHistoryCommand({ Name: '/secure/db-password', WithDecryption: true }),
      ),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('needs kms:Encrypt on a customer key to put a SecureString, none on alias/aws/ssm; an unknown alias is InvalidKeyId', async () => {
    const secure = (Name: string, KeyId?: string) =>
      new PutParameterCommand({ Name, Value: 'v', Type: 'SecureString', KeyId, Overwrite: true });
    await expect(
      client(reader).send(secure('/secure/new', 'alias/nightshift-secrets')),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining(`kms:Encrypt on resource: ${KEY_ARN}`),
    });
    expect((await client(writer).send(secure('/secure/new', KEY_ARN))).Version).toBe(1);
    expect((await client(reader).send(secure('/secure/managed'))).Version).toBe(1);
    await expect(client(writer).send(secure('/secure/other', 'alias/nobody'))).rejects.toMatchObject({
      name: 'InvalidKeyId',
    });
  });
});

describe('IAM by parameter ARN', () => {
  it('denies what the policy does not allow, naming the action and the parameter ARN', async () => {
    await expect(
      client(reader).send(new PutParameterCommand({ Name: '/app/url', Value: 'x', Type: 'String' })),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining(
        `not authorized to perform: ssm:PutParameter on resource: ${ARN}/app/url`,
      ),
    });
    await expect(
      client(reader).send(new LabelParameterVersionCommand({ Name: '/secure/api-token', Labels: ['x'] })),
    ).rejects.toMatchObject({
      message: expect.stringContaining(`ssm:LabelParameterVersion on resource: ${ARN}/secure/api-token`),
    });
    await expect(
      client(reader).send(new DeleteParametersCommand({ Names: ['/secure/api-token'] })),
    ).rejects.toMatchObject({
      message: expect.stringContaining(`ssm:DeleteParameters on resource: ${ARN}/secure/api-token`),
    });
  });

  it('authorizes a selector against the parameter it selects', async () => {
    const got = await client(reader).send(new GetParameterCommand({ Name: '/secure/api-token:1' }));
    expect(got.Parameter).toMatchObject({ Version: 1, Selector: ':1' });
  });
});

describe('Parameter Store Change events', () => {
  const fixture = (file: string) =>
    JSON.parse(readFileSync(new URL(`../../fixtures/events/${file}`, import.meta.url), 'utf8')) as AwsEvent;
  const shape = (e: AwsEvent) => ({
    keys: Object.keys(e).sort(),
    detailKeys: Object.keys(e.detail).sort(),
    source: e.source,
    detailType: e['detail-type'],
    version: e.version,
    time: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(e.time),
  });
  beforeEach(() => {
    events.length = 0;
  });

  it('emits Create, Update, LabelParameterVersion and Delete, shaped like AWS’s documented examples', async () => {
    const op = client(operator);
    await op.send(
      new PutParameterCommand({
        Name: 'MyExampleParameter',
        Value: 'v1',
        Type: 'String',
        Description: 'Sample Parameter',
      }),
    );
    await op.send(new PutParameterCommand({ Name: 'MyExampleParameter', Value: 'v2', Overwrite: true }));
    await op.send(new LabelParameterVersionCommand({ Name: 'MyExampleParameter', Labels: ['prod'] }));
    await op.send(new DeleteParameterCommand({ Name: 'MyExampleParameter' }));
    expect(events.map((e) => e.detail.operation)).toEqual([
      'Create',
      'Update',
      'LabelParameterVersion',
      'Delete',
    ]);
    const documented = {
      Create: fixture('ssm-parameter-store-change.json'),
      Update: fixture('ssm-parameter-store-change-update.json'),
      Delete: fixture('ssm-parameter-store-change-delete.json'),
    };
    for (const e of events) {
      const like = documented[e.detail.operation as keyof typeof documented] ?? documented.Update;
      expect(shape(e)).toEqual(shape(like));
      expect(e).toMatchObject({
        account: ACCOUNT,
        region: REGION,
        resources: [`${ARN}/MyExampleParameter`],
        detail: { name: 'MyExampleParameter', type: 'String', description: 'Sample Parameter' },
      });
    }
    for (const op of ['Create', 'Update', 'Delete'] as const) {
      const e = events.find((x) => x.detail.operation === op);
      const { id: _i, time: _t, account: _a, region: _r, resources: _res, ...rest } = documented[op];
      const { id: _i2, time: _t2, account: _a2, region: _r2, resources: _res2, ...ours } = e as AwsEvent;
      expect(ours).toEqual(rest);
    }
  });

  it('emits one Delete per parameter DeleteParameters deletes, answering the missing as InvalidParameters', async () => {
    ssm.put('/gone/a', 'a');
    ssm.put('/gone/b', 'b');
    events.length = 0;
    const answer = await client(operator).send(
      new DeleteParametersCommand({ Names: ['/gone/a', '/gone/missing', '/gone/b'] }),
    );
    expect(answer).toMatchObject({
      DeletedParameters: ['/gone/a', '/gone/b'],
      InvalidParameters: ['/gone/missing'],
    });
    expect(events.map((e) => [e.detail.operation, e.detail.name, e.resources[0]])).toEqual([
      ['Delete', '/gone/a', `${ARN}/gone/a`],
      ['Delete', '/gone/b', `${ARN}/gone/b`],
    ]);
    await expect(
      client(operator).send(new DeleteParameterCommand({ Name: '/gone/a' })),
    ).rejects.toMatchObject({
      name: 'ParameterNotFound',
    });
  });
});

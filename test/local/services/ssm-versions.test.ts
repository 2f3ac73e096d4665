import {
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  PutParameterCommand,
  paginateGetParameterHistory,
  SSMClient,
  UnlabelParameterVersionCommand,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../local/endpoint/authorize.ts';
import { LocalEndpoint } from '../../../local/endpoint/server.ts';
import { SsmWorld } from '../../../local/services/ssm.ts';
import { VirtualClock } from '../../../local/world/clock.ts';

const T0 = Date.parse('2026-11-20T00:00:00Z');
const operator: Caller = {
  accessKeyId: 'AKIAOPERATOR00000000',
  secretAccessKey: 'operator-secret',
  principalArn: 'arn:aws:iam::123456789012:user/sandbox-operator',
  policies: 'unrestricted',
};
const clock = new VirtualClock(T0);
const ssm = new SsmWorld({ account: '123456789012', region: 'eu-west-1', clock });
const endpoint = new LocalEndpoint({
  account: '123456789012',
  region: 'eu-west-1',
  services: [ssm],
  callerFor: (key) => (key === operator.accessKeyId ? operator : undefined),
});
let client: SSMClient;

beforeAll(async () => {
  await endpoint.listen();
  client = new SSMClient({
    endpoint: endpoint.url,
    region: 'eu-west-1',
    credentials: { accessKeyId: operator.accessKeyId, secretAccessKey: operator.secretAccessKey },
    maxAttempts: 1,
  });
});
afterAll(() => endpoint.close());

const put = (
  Name: string,
  Value: string,
  more: Partial<ConstructorParameters<typeof PutParameterCommand>[0]> = {},
) => client.send(new PutParameterCommand({ Name, Value, Type: 'String', Overwrite: true, ...more }));

describe('SsmWorld versions (PutParameter)', () => {
  it('makes version n+1 on every overwrite, dated by the clock, and refuses to overwrite without Overwrite', async () => {
    expect(await put('/v/app/url', 'https://one.test', { Overwrite: false })).toMatchObject({
      Version: 1,
      Tier: 'Standard',
    });
    await clock.advance(60_000);
    expect((await put('/v/app/url', 'https://two.test')).Version).toBe(2);
    await expect(put('/v/app/url', 'https://three.test', { Overwrite: false })).rejects.toMatchObject({
      name: 'ParameterAlreadyExists',
      message:
        'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
    });
    const got = await client.send(new GetParameterCommand({ Name: '/v/app/url' }));
    expect(got.Parameter).toMatchObject({
      Name: '/v/app/url',
      Value: 'https://two.test',
      Version: 2,
      ARN: 'arn:aws:ssm:eu-west-1:123456789012:parameter/v/app/url',
      LastModifiedDate: new Date(T0 + 60_000),
    });
    expect(ssm.history('/v/app/url').map((v) => [v.version, v.value, v.lastModified])).toEqual([
      [1, 'https://one.test', T0],
      [2, 'https://two.test', T0 + 60_000],
    ]);
  });

  it('keeps the type: an overwrite with another type is refused, one without a Type keeps it', async () => {
    await expect(put('/v/app/url', 'x', { Type: 'SecureString' })).rejects.toMatchObject({
      name: 'HierarchyTypeMismatchException',
    });
    await client.send(
      new PutParameterCommand({ Name: '/v/app/url', Value: 'https://three.test', Overwrite: true }),
    );
    expect(ssm.parameters.get('/v/app/url')).toMatchObject({ type: 'String', version: 3 });
    await expect(
      client.send(new PutParameterCommand({ Name: '/v/untyped', Value: 'x' })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('holds a Standard value to 4,096 characters', async () => {
    await put('/v/big', 'x'.repeat(4096));
    await expect(put('/v/big', 'x'.repeat(4097))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining(
        'Standard tier parameters support a maximum parameter value of 4096 characters',
      ),
    });
    expect(ssm.parameters.get('/v/big')?.version).toBe(1);
  });

  it('enforces AWS naming rules: characters, reserved prefixes, fully qualified paths, 15 levels', async () => {
    for (const bad of ['/aws/mine', 'ssm-thing', '/SSM/x', '/has space', '/semi;colon', 'no/leading/slash']) {
      await expect(put(bad, 'v')).rejects.toMatchObject({ name: 'ValidationException' });
    }
    const levels = (n: number) => `/${Array.from({ length: n }, (_, i) => `l${i}`).join('/')}`;
    expect((await put(levels(15), 'deep')).Version).toBe(1);
    await expect(put(levels(16), 'too deep')).rejects.toMatchObject({
      name: 'HierarchyLevelLimitExceededException',
    });
    await expect(put(`/${'n'.repeat(1000)}`, 'long')).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

describe('the 100-version limit', () => {
  const name = '/v/trap';
  beforeAll(() => {
    for (let i = 1; i <= 100; i++) ssm.put(name, `value-${i}`, 'String');
  });

  it('refuses the 101st version while the oldest has a label, naming the version, and drops it once the label moved', async () => {
    await client.send(
      new LabelParameterVersionCommand({ Name: name, ParameterVersion: 1, Labels: ['golden'] }),
    );
    await expect(put(name, 'value-101')).rejects.toMatchObject({
      name: 'ParameterMaxVersionLimitExceeded',
      message:
        "You attempted to create a new version of /v/trap by calling the PutParameter API with the overwrite flag. Version 1, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.",
    });
    expect(ssm.history(name)).toHaveLength(100);
    expect(ssm.parameters.get(name)?.version).toBe(100);

    await client.send(
      new LabelParameterVersionCommand({ Name: name, ParameterVersion: 50, Labels: ['golden'] }),
    );
    expect(ssm.labelsOf(name)).toEqual({ golden: 50 });
    expect((await put(name, 'value-101')).Version).toBe(101);
    const kept = ssm.history(name);
    expect(kept).toHaveLength(100);
    expect([kept[0]?.version, kept.at(-1)?.version]).toEqual([2, 101]);
  });
});

describe('labels (LabelParameterVersion / UnlabelParameterVersion)', () => {
  const name = '/v/labelled';
  beforeAll(() => {
    for (let i = 1; i <= 3; i++) ssm.put(name, `value-${i}`, 'String');
  });

  it('answers invalid labels in a successful response and applies only the valid ones, to the latest version by default', async () => {
    const invalid = ['1st', 'aws-x', 'SSMy', 'has space', 'l'.repeat(101), 'colon:no'];
    const answer = await client.send(
      new LabelParameterVersionCommand({
        Name: name,
        Labels: ['prod', 'ok.name-1_', ...invalid.slice(0, 4)],
      }),
    );
    expect(answer.$metadata.httpStatusCode).toBe(200);
    expect(answer.ParameterVersion).toBe(3);
    expect(answer.InvalidLabels).toEqual(invalid.slice(0, 4));
    const more = await client.send(
      new LabelParameterVersionCommand({ Name: name, Labels: invalid.slice(4) }),
    );
    expect(more.InvalidLabels).toEqual(invalid.slice(4));
    expect(ssm.labelsOf(name)).toEqual({ prod: 3, 'ok.name-1_': 3 });
  });

  it('moves a label: one version at a time; shows labels in the history', async () => {
    await client.send(
      new LabelParameterVersionCommand({ Name: name, ParameterVersion: 1, Labels: ['prod'] }),
    );
    expect(ssm.labelsOf(name)).toEqual({ prod: 1, 'ok.name-1_': 3 });
    const history = await client.send(new GetParameterHistoryCommand({ Name: name }));
    expect(history.Parameters?.map((p) => [p.Version, p.Labels])).toEqual([
      [1, ['prod']],
      [2, []],
      [3, ['ok.name-1_']],
    ]);
  });

  it('allows at most 10 labels on a version, changing nothing when asked for more', async () => {
    const nine = Array.from({ length: 9 }, (_, i) => `l${i}`);
    await client.send(new LabelParameterVersionCommand({ Name: name, ParameterVersion: 2, Labels: nine }));
    await client.send(
      new LabelParameterVersionCommand({ Name: name, ParameterVersion: 2, Labels: ['l0', 'tenth'] }),
    );
    await expect(
      client.send(
        new LabelParameterVersionCommand({ Name: name, ParameterVersion: 2, Labels: ['eleventh'] }),
      ),
    ).rejects.toMatchObject({
      name: 'ParameterVersionLabelLimitExceeded',
      message: 'A parameter version can have a maximum of ten labels.',
    });
    // Moving a label onto the full version is refused too; the label stays where it was.
    await expect(
      client.send(new LabelParameterVersionCommand({ Name: name, ParameterVersion: 2, Labels: ['prod'] })),
    ).rejects.toMatchObject({ name: 'ParameterVersionLabelLimitExceeded' });
    expect(ssm.labelsOf(name).prod).toBe(1);
    expect(ssm.history(name)[1]?.labels).toHaveLength(10);
  });

  it('answers ParameterVersionNotFound and ParameterNotFound', async () => {
    await expect(
      client.send(new LabelParameterVersionCommand({ Name: name, ParameterVersion: 9, Labels: ['x'] })),
    ).rejects.toMatchObject({ name: 'ParameterVersionNotFound' });
    await expect(
      client.send(new LabelParameterVersionCommand({ Name: '/v/nothing', Labels: ['x'] })),
    ).rejects.toMatchObject({ name: 'ParameterNotFound' });
  });

  it('unlabels the labels on the version, answering the others as invalid', async () => {
    const answer = await client.send(
      new UnlabelParameterVersionCommand({
        Name: name,
        ParameterVersion: 2,
        Labels: ['l0', 'prod', 'never'],
      }),
    );
    expect(answer).toMatchObject({ RemovedLabels: ['l0'], InvalidLabels: ['prod', 'never'] });
    expect(ssm.labelsOf(name).l0).toBeUndefined();
    await expect(
      client.send(new UnlabelParameterVersionCommand({ Name: name, ParameterVersion: 7, Labels: ['l1'] })),
    ).rejects.toMatchObject({ name: 'ParameterVersionNotFound' });
  });
});

describe('selectors (name:version, name:label)', () => {
  const name = '/v/selected';
  beforeAll(() => {
    for (let i = 1; i <= 3; i++) ssm.put(name, `value-${i}`, 'String');
    ssm.label(name, ['stable'], 2);
  });

  it('GetParameter answers the version or label asked for, with its Selector', async () => {
    const byVersion = await client.send(new GetParameterCommand({ Name: `${name}:1` }));
    expect(byVersion.Parameter).toMatchObject({ Name: name, Value: 'value-1', Version: 1, Selector: ':1' });
    const byLabel = await client.send(new GetParameterCommand({ Name: `${name}:stable` }));
    expect(byLabel.Parameter).toMatchObject({
      Name: name,
      Value: 'value-2',
      Version: 2,
      Selector: ':stable',
    });
    const latest = await client.send(new GetParameterCommand({ Name: name }));
    expect(latest.Parameter).toMatchObject({ Value: 'value-3', Version: 3 });
    expect(latest.Parameter?.Selector).toBeUndefined();
  });

  it('answers ParameterVersionNotFound for a version it does not keep, ParameterNotFound for a label nobody set', async () => {
    await expect(client.send(new GetParameterCommand({ Name: `${name}:9` }))).rejects.toMatchObject({
      name: 'ParameterVersionNotFound',
      message: 'Systems Manager could not find version 9 of /v/selected. Verify the version and try again.',
    });
    await expect(client.send(new GetParameterCommand({ Name: `${name}:nolabel` }))).rejects.toMatchObject({
      name: 'ParameterNotFound',
    });
  });

  it('GetParameters answers the ones it has and lists the rest as InvalidParameters, without an error', async () => {
    const answer = await client.send(
      new GetParametersCommand({
        Names: [`${name}:stable`, `${name}:9`, '/v/missing', name, `${name}:nolabel`],
      }),
    );
    expect(answer.Parameters?.map((p) => [p.Version, p.Selector])).toEqual([
      [2, ':stable'],
      [3, undefined],
    ]);
    expect(answer.InvalidParameters).toEqual([`${name}:9`, '/v/missing', `${name}:nolabel`]);
    await expect(
      client.send(new GetParametersCommand({ Names: Array.from({ length: 11 }, (_, i) => `/v/n${i}`) })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

describe('GetParameterHistory', () => {
  const name = '/v/history';
  beforeAll(async () => {
    for (let i = 1; i <= 120; i++) {
      ssm.put(name, `value-${i}`, 'String');
      await clock.advance(1000);
    }
  });

  it('keeps 120 versions at 100 and answers them oldest first in pages of 50', async () => {
    const pages = [];
    for await (const page of paginateGetParameterHistory({ client, pageSize: 50 }, { Name: name }))
      pages.push(page.Parameters ?? []);
    expect(pages.map((p) => p.length)).toEqual([50, 50]);
    const versions = pages.flat().map((p) => p.Version);
    expect(versions[0]).toBe(21);
    expect(versions.at(-1)).toBe(120);
    expect(versions).toEqual([...versions].sort((a = 0, b = 0) => a - b));
    const first = await client.send(new GetParameterHistoryCommand({ Name: name }));
    expect(first.Parameters).toHaveLength(50);
    expect(first.NextToken).toBeDefined();
    expect(first.Parameters?.[0]).toMatchObject({
      Name: name,
      Type: 'String',
      Value: 'value-21',
      Labels: [],
      LastModifiedUser: 'arn:aws:iam::123456789012:user/sandbox-operator',
    });
  });

  it('refuses MaxResults outside 1–50, a forged token and an unknown name', async () => {
    for (const MaxResults of [0, 51]) {
      await expect(
        client.send(new GetParameterHistoryCommand({ Name: name, MaxResults })),
      ).rejects.toMatchObject({ name: 'ValidationException' });
    }
    await expect(
      client.send(new GetParameterHistoryCommand({ Name: name, NextToken: 'forged' })),
    ).rejects.toMatchObject({ name: 'InvalidNextToken' });
    await expect(client.send(new GetParameterHistoryCommand({ Name: '/v/none' }))).rejects.toMatchObject({
      name: 'ParameterNotFound',
    });
  });
});

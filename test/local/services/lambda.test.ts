/**
 * The local Lambda's Invoke, as AWS answers it (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html):
 * the body is the event as it is, errors of the function are 200 with X-Amz-Function-Error, the request
 * limit is 6 MB in bytes, a qualified name is its own IAM resource.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../local/endpoint/authorize.ts';
import { LocalEndpoint } from '../../../local/endpoint/server.ts';
import { LambdaWorld } from '../../../local/services/lambda.ts';

const lambda = new LambdaWorld({ account: '123456789012', region: 'eu-west-1' });
const aliasOnly: Caller = {
  accessKeyId: 'AKIAALIASONLY0000000',
  secretAccessKey: 'alias-only',
  principalArn: 'arn:aws:sts::123456789012:assumed-role/r/s',
  policies: [
    {
      Statement: {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: 'arn:aws:lambda:eu-west-1:123456789012:function:echo:live',
      },
    },
  ],
};
const operator: Caller = {
  accessKeyId: 'AKIAOPERATOR00000000',
  secretAccessKey: 'operator',
  principalArn: 'arn:aws:iam::123456789012:user/operator',
  policies: 'unrestricted',
};
const endpoint = new LocalEndpoint({
  account: '123456789012',
  region: 'eu-west-1',
  services: [],
  restServices: [lambda],
  callerFor: (key) => [aliasOnly, operator].find((c) => c.accessKeyId === key),
});
const clientAs = (c: Caller) =>
  new LambdaClient({
    endpoint: endpoint.url,
    region: 'eu-west-1',
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
    maxAttempts: 1,
  });
const invoke = (c: Caller, FunctionName: string, payload: string, Qualifier?: string) =>
  clientAs(c).send(
    new InvokeCommand({
      FunctionName,
      Payload: new TextEncoder().encode(payload),
      ...(Qualifier ? { Qualifier } : {}),
    }),
  );
const text = (p?: Uint8Array) => (p ? new TextDecoder().decode(p) : '');

beforeAll(async () => {
  await endpoint.listen();
  lambda.define('echo', async (event) => event);
  lambda.define('boom', async () => {
    throw new TypeError('upstream down');
  });
  lambda.define('slow', () => new Promise((resolve) => setTimeout(() => resolve('late'), 500)), {
    timeoutMs: 100,
  });
});
afterAll(() => endpoint.close());

describe('local Lambda Invoke', () => {
  it('passes the body as the event, whatever JSON it is, and answers the result as it is', async () => {
    expect(text((await invoke(operator, 'echo', '{"FunctionName":"x","a":1}')).Payload)).toBe(
      '{"FunctionName":"x","a":1}',
    );
    expect(text((await invoke(operator, 'echo', '[1,2]')).Payload)).toBe('[1,2]');
    await expect(invoke(operator, 'echo', '{not json')).rejects.toMatchObject({
      name: 'InvalidRequestContentException',
    });
  });

  it('a function that throws or outlives its timeout: 200 with X-Amz-Function-Error Unhandled', async () => {
    const boom = await invoke(operator, 'boom', '{}');
    expect(boom.FunctionError).toBe('Unhandled');
    expect(JSON.parse(text(boom.Payload))).toEqual({ errorType: 'TypeError', errorMessage: 'upstream down' });
    const slow = await invoke(operator, 'slow', '{}');
    expect(slow.FunctionError).toBe('Unhandled');
    expect(text(slow.Payload)).toContain('Task timed out after 0.10 seconds');
  });

  it('a request over 6 MB in bytes is refused; an unknown function is not found', async () => {
    const big = `"${'é'.repeat(3.2 * 1024 * 1024)}"`; // 3.2 M characters, 6.4 MB
    await expect(invoke(operator, 'echo', big)).rejects.toMatchObject({ name: 'RequestTooLargeException' });
    await expect(invoke(operator, 'nobody', '{}')).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('IAM: a policy on the alias allows the alias (by name or Qualifier), not the function itself', async () => {
    expect(text((await invoke(aliasOnly, 'echo:live', '1')).Payload)).toBe('1');
    expect(text((await invoke(aliasOnly, 'echo', '2', 'live')).Payload)).toBe('2');
    await expect(invoke(aliasOnly, 'echo', '3')).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(
      invoke(aliasOnly, 'arn:aws:lambda:eu-west-1:999999999999:function:echo:live', '4'),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});

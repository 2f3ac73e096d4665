/**
 * A `generated` secret tested by a Lambda function the user names, in the local Lambda (`Invoke`): the
 * function gets the names, never the value, reads `.pending` itself and answers `{ ok }`. The rotation
 * function may invoke only the configured function (IAM, as the construct grants it).
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kindSteps } from '../../../lambdas/rotation/kinds.ts';
import type { LambdaCheckEvent } from '../../../lambdas/rotation/lambda-check.ts';
import { rotateSecret, type SecretConfig } from '../../../lambdas/rotation/rotate.ts';
import type { Caller } from '../../../local/endpoint/authorize.ts';
import { LocalEndpoint } from '../../../local/endpoint/server.ts';
import { LambdaWorld } from '../../../local/services/lambda.ts';
import { clock, DAY, deps, events, operatorSsm, plain, secret, T0 } from './rotation-fixture.ts';

const lambda = new LambdaWorld({ account: '123456789012', region: 'eu-west-1' });
const CHECK = 'webhooks-api-key-check';
const rotationRole: Caller = {
  accessKeyId: 'AKIAROTATIONROLE0000',
  secretAccessKey: 'rotation-secret',
  principalArn: 'arn:aws:sts::123456789012:assumed-role/rotation/fn',
  policies: [
    {
      Statement: {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: `arn:aws:lambda:eu-west-1:123456789012:function:${CHECK}`,
      },
    },
  ],
};
const endpoint = new LocalEndpoint({
  account: '123456789012',
  region: 'eu-west-1',
  services: [],
  restServices: [lambda],
  callerFor: (key) => (key === rotationRole.accessKeyId ? rotationRole : undefined),
});
let client: LambdaClient;
beforeAll(async () => {
  await endpoint.listen();
  client = new LambdaClient({
    endpoint: endpoint.url,
    region: 'eu-west-1',
    credentials: { accessKeyId: rotationRole.accessKeyId, secretAccessKey: rotationRole.secretAccessKey },
    maxAttempts: 1,
  });
});
afterAll(() => endpoint.close());

/** The user's check: reads the pending value itself and says what `judge` says of it. */
function defineCheck(judge: (value: string) => unknown, name = CHECK) {
  const seen: LambdaCheckEvent[] = [];
  lambda.define(name, async (event) => {
    const e = event as LambdaCheckEvent;
    seen.push(e);
    const out = await operatorSsm().send(
      new GetParameterCommand({ Name: e.pendingParameter, WithDecryption: true }),
    );
    return judge(out.Parameter?.Value ?? '');
  });
  return seen;
}
/** A generated secret written at T0 with a Lambda test; each case then runs 91 days on (due). */
async function tested(name = CHECK): Promise<SecretConfig> {
  clock.set(T0);
  return {
    ...(await secret()),
    test: {
      lambda: { functionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${name}`, timeoutMs: 500 },
    },
  };
}
const lambdaDeps = () => deps({ kinds: kindSteps({ lambda: () => client }) });
/** The plain name's value when the case started (what is in use). */
const KEYS = { current: '' };
const eventsOf = () =>
  events.commandCalls(PutEventsCommand).map((c) => {
    const e = c.args[0].input.Entries?.[0];
    return { type: e?.DetailType, detail: JSON.parse(e?.Detail ?? '{}') as Record<string, unknown> };
  });

describe('rotateSecret: a generated value tested by a Lambda function the user names', () => {
  it('invokes it with the names only; its yes finishes the rotation', async () => {
    const s = await tested();
    clock.set(T0 + 91 * DAY);
    let judged = '';
    const seen = defineCheck((value) => {
      judged = value;
      return { ok: true };
    });
    expect(await rotateSecret(s, lambdaDeps())).toMatchObject({ outcome: 'rotated' });
    expect(seen).toEqual([
      {
        nightshift: 'rotation-test',
        parameter: s.parameter,
        pendingParameter: `${s.parameter}.pending`,
        pendingVersion: 1,
        rotationId: expect.any(String),
      },
    ]);
    expect(await plain(s.parameter)).toBe(judged);
    expect(JSON.stringify(lambda.invocations)).not.toContain(judged);
  });

  it.each<[string, (value: string) => unknown, RegExp]>([
    [
      'refuses it (its reason quoted, the value never)',
      (v) => ({ ok: false, reason: `${v} is revoked` }),
      /refused the new value: <a value> is revoked; the plain name keeps the old one/,
    ],
    [
      'echoes the value encoded (base64, JSON, URL)',
      (v) => ({
        ok: false,
        reason: `${Buffer.from(v).toString('base64')} / ${JSON.stringify(v)} / ${encodeURIComponent(v)}`,
      }),
      /refused the new value: <a value> <a value> <a value>; the plain name/,
    ],
    [
      'quotes the value in use, a Basic header of it, or a long prefix of the new one',
      (v) => ({
        ok: false,
        reason: `expected ${KEYS.current} not ${Buffer.from(`client:${v}`).toString('base64')} nor ${v.slice(0, -1)}`,
      }),
      /refused the new value: expected <a value> not <long token> nor <long token>; the plain name/,
    ],
    [
      'throws',
      () => Promise.reject(new TypeError('upstream down')),
      /failed \(Unhandled: TypeError upstream down\)/,
    ],
    [
      'answers something else',
      () => ({ status: 'fine' }),
      /answered neither \{"ok": true\} nor \{"ok": false\}/,
    ],
  ])('when it %s: Rotation Failed, nothing finished, no value anywhere', async (_what, judge, message) => {
    const s = await tested();
    clock.set(T0 + 91 * DAY);
    const before = await plain(s.parameter);
    KEYS.current = before ?? '';
    defineCheck(judge);
    await expect(rotateSecret(s, lambdaDeps())).rejects.toThrow(message);
    expect(await plain(s.parameter)).toBe(before);
    const failed = eventsOf().find((e) => e.type === 'Rotation Failed' && e.detail.parameter === s.parameter);
    expect(String(failed?.detail.reason)).toMatch(message);
    const pending = (
      await operatorSsm().send(
        new GetParameterCommand({ Name: `${s.parameter}.pending`, WithDecryption: true }),
      )
    ).Parameter?.Value;
    expect(JSON.stringify(eventsOf())).not.toContain(pending);
  });

  it('a function that does not answer in timeoutMs fails the step (tried again next run) instead of holding the run', async () => {
    const s = await tested();
    clock.set(T0 + 91 * DAY);
    let release: () => void = () => undefined;
    lambda.define(
      CHECK,
      () =>
        new Promise((resolve) => {
          release = () => resolve({ ok: true });
        }),
    );
    await expect(rotateSecret(s, lambdaDeps())).rejects.toThrow(
      /could not be invoked: (TimeoutError|AbortError)/,
    );
    release();
  });

  it('the pending place rewritten while the function ran (even to the same value): not finished', async () => {
    const s = await tested();
    clock.set(T0 + 91 * DAY);
    lambda.define(CHECK, async (event) => {
      const e = event as LambdaCheckEvent;
      const out = await operatorSsm().send(
        new GetParameterCommand({ Name: e.pendingParameter, WithDecryption: true }),
      );
      // Someone writes the same value again: a new version of the pending place.
      await operatorSsm().send(
        new PutParameterCommand({
          Name: e.pendingParameter,
          Value: out.Parameter?.Value ?? '',
          Type: 'SecureString',
          Overwrite: true,
        }),
      );
      return { ok: true };
    });
    const before = await plain(s.parameter);
    await expect(rotateSecret(s, lambdaDeps())).rejects.toThrow(/\.pending changed while the Lambda check/);
    expect(await plain(s.parameter)).toBe(before);
  });

  it('a function the rotation may not invoke (IAM) fails the step with the reason', async () => {
    const s = await tested('someone-elses-function');
    clock.set(T0 + 91 * DAY);
    defineCheck(() => ({ ok: true }), 'someone-elses-function');
    await expect(rotateSecret(s, lambdaDeps())).rejects.toThrow(
      /could not be invoked: AccessDeniedException/,
    );
  });
});

/**
 * `external` (a value a third party issues: a person puts it in the pending place) and the HTTPS check a
 * `generated` or `external` value must pass, against a real HTTPS server with its own CA: notices before and
 * after the due date, the person's value tested (basic auth at a token endpoint) and finished, a refused
 * value kept out of the plain name, and the age metric the staleness alarm reads.
 */

import { createServer, globalAgent, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { rootCertificates } from 'node:tls';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpsCheck } from '../../../lambdas/rotation/https-check.ts';
import { pendingName } from '../../../lambdas/rotation/model.ts';
import { rotateSecret, type SecretConfig } from '../../../lambdas/rotation/rotate.ts';
import { LocalCertificateAuthority } from '../../../local/postgres/tls.ts';
import {
  clock,
  crashing,
  DAY,
  deps,
  events,
  labelled,
  metrics,
  operatorSsm,
  plain,
  published,
  ssm,
  T0,
} from './rotation-fixture.ts';

/** What the issuer accepts as the client's secret, and how it answers otherwise. */
const accepted = new Set<string>();
let answer: 'check' | 'hang' | 'redirect' = 'check';
const seen: { method: string; path: string; authorization: string; body: string }[] = [];
let server: Server;
let base = '';

beforeAll(async () => {
  const ca = await LocalCertificateAuthority.create('rotation check CA');
  const cert = await ca.issueServerCertificate();
  // As NODE_EXTRA_CA_CERTS does for the function's process.
  globalAgent.options.ca = [...rootCertificates, ca.certificatePem];
  server = createServer({ cert: cert.certificatePem, key: cert.privateKeyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const authorization = req.headers.authorization ?? '';
      seen.push({
        method: req.method ?? '',
        path: req.url ?? '',
        authorization,
        body: Buffer.concat(chunks).toString(),
      });
      if (answer === 'hang') return;
      if (answer === 'redirect') return res.writeHead(302, { location: 'https://elsewhere.example/' }).end();
      // An OAuth token endpoint: client_credentials with the client's id and secret in basic auth.
      const [scheme, token = ''] = authorization.split(' ');
      const secret =
        scheme === 'Basic' ? Buffer.from(token, 'base64').toString().split(':').slice(1).join(':') : token;
      const ok = accepted.has(secret);
      res
        .writeHead(ok ? 200 : 401, { 'content-type': 'application/json' })
        .end(ok ? '{"access_token":"t"}' : '{"error":"invalid_client"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

let n = 0;
const tokenCheck = (): HttpsCheck => ({
  url: `${base}/oauth/token`,
  method: 'POST',
  present: { scheme: 'basic', username: 'clio-client' },
  form: 'grant_type=client_credentials',
  timeoutMs: 1000,
});
/** An OAuth client secret, issued yearly, its one version put at T0. */
async function oauthSecret(check: HttpsCheck | 'none' = tokenCheck()): Promise<SecretConfig> {
  n += 1;
  const parameter = `/webhooks/clio-client-secret-${n}`;
  clock.set(T0);
  await operatorSsm().send(
    new PutParameterCommand({ Name: parameter, Value: `issued-one-${n}`, Type: 'SecureString' }),
  );
  return {
    parameter,
    policy: { kind: 'external', cadenceDays: 365, graceDays: 7, noticeDays: 30 },
    ...(check === 'none' ? {} : { test: { https: check } }),
  };
}
/** The person's move: the issuer's new value into the pending place. */
const personPuts = (s: SecretConfig, value: string) =>
  operatorSsm().send(
    new PutParameterCommand({
      Name: pendingName(s.parameter),
      Value: value,
      Type: 'SecureString',
      Overwrite: true,
    }),
  );
const eventsOf = () =>
  events.commandCalls(PutEventsCommand).map((c) => {
    const e = c.args[0].input.Entries?.[0];
    return { type: e?.DetailType, detail: JSON.parse(e?.Detail ?? '{}') as Record<string, unknown> };
  });

describe('rotateSecret: external', () => {
  it('quiet until 30 days before; a warning then, once per due date; critical when overdue', async () => {
    const s = await oauthSecret();
    clock.set(T0 + 300 * DAY);
    expect(await rotateSecret(s, deps())).toMatchObject({ outcome: 'not-due', plan: { kind: 'idle' } });
    expect(published()).toEqual([]);
    clock.set(T0 + 345 * DAY);
    const soon = await rotateSecret(s, deps());
    expect(soon).toMatchObject({ outcome: 'not-due', plan: { kind: 'notice', severity: 'warning' } });
    clock.set(T0 + 345 * DAY + 3_600_000);
    await rotateSecret(s, deps());
    const [first, again] = eventsOf();
    expect(first).toMatchObject({
      type: 'Rotation Due Soon',
      detail: {
        severity: 'warning',
        parameter: s.parameter,
        reason: expect.stringContaining('falls due in 20 day(s)'),
      },
    });
    // The same notice an hour later has the same key: the router keeps one alert.
    expect(again?.detail.eventKey).toBe(first?.detail.eventKey);
    events.resetHistory();
    clock.set(T0 + 367 * DAY);
    await rotateSecret(s, deps());
    expect(eventsOf()[0]).toMatchObject({
      type: 'Rotation Overdue',
      detail: { severity: 'critical', reason: expect.stringContaining('2 day(s) overdue') },
    });
    // Nothing was written: the plain name keeps the issued value, no pending place was made.
    expect(await plain(s.parameter)).toBe(`issued-one-${n}`);
    await expect(plain(pendingName(s.parameter))).rejects.toMatchObject({ name: 'ParameterNotFound' });
  });

  it("the person's value is tested at the issuer's token endpoint and finished; the next due date is a year on", async () => {
    const s = await oauthSecret();
    accepted.add(`issued-two-${n}`);
    clock.set(T0 + 350 * DAY);
    await personPuts(s, `issued-two-${n}`);
    seen.length = 0;
    const out = await rotateSecret(s, deps());
    expect(out).toMatchObject({ outcome: 'rotated', steps: ['test', 'finish'] });
    expect(seen).toEqual([
      {
        method: 'POST',
        path: '/oauth/token',
        authorization: `Basic ${Buffer.from(`clio-client:issued-two-${n}`).toString('base64')}`,
        body: 'grant_type=client_credentials',
      },
    ]);
    expect(await plain(s.parameter)).toBe(`issued-two-${n}`);
    expect(await labelled(s.parameter, 'previous')).toBe(`issued-one-${n}`);
    await expect(plain(pendingName(s.parameter))).rejects.toMatchObject({ name: 'ParameterNotFound' });
    // Started by a person: no Rotation Started, only the outcome.
    expect(published()).toEqual(['Rotation Succeeded']);
    clock.set(T0 + 350 * DAY + 300 * DAY);
    expect(await rotateSecret(s, deps())).toMatchObject({ outcome: 'not-due', plan: { kind: 'idle' } });
  });

  it('a value the issuer refuses: Rotation Failed (critical, no value in it), the plain name unchanged; the corrected value finishes', async () => {
    const s = await oauthSecret();
    clock.set(T0 + 350 * DAY);
    await personPuts(s, `typo-${n}`);
    await expect(rotateSecret(s, deps())).rejects.toThrow(
      /answered 401: the new value is not accepted there/,
    );
    const failed = eventsOf().find((e) => e.type === 'Rotation Failed');
    expect(failed?.detail).toMatchObject({ severity: 'critical', parameter: s.parameter });
    expect(JSON.stringify(eventsOf())).not.toContain(`typo-${n}`);
    expect(await plain(s.parameter)).toBe(`issued-one-${n}`);
    // The person corrects it: a new pending version, a new rotation, at once.
    accepted.add(`issued-two-${n}`);
    clock.set(T0 + 350 * DAY + 600_000);
    await personPuts(s, `issued-two-${n}`);
    expect(await rotateSecret(s, deps())).toMatchObject({ outcome: 'rotated', steps: ['test', 'finish'] });
    expect(await plain(s.parameter)).toBe(`issued-two-${n}`);
  });

  it('without a check the value is finished as the person put it; Nightshift never makes an external value', async () => {
    const s = await oauthSecret('none');
    clock.set(T0 + 400 * DAY);
    expect(await rotateSecret(s, deps())).toMatchObject({ outcome: 'not-due', plan: { kind: 'notice' } });
    await personPuts(s, `issued-two-${n}`);
    expect(await rotateSecret(s, deps())).toMatchObject({ outcome: 'rotated', steps: ['test', 'finish'] });
    expect(await plain(s.parameter)).toBe(`issued-two-${n}`);
  });

  it('an issuer that does not answer, or redirects, fails the check within its deadline', async () => {
    const s = await oauthSecret();
    clock.set(T0 + 350 * DAY);
    await personPuts(s, `issued-two-${n}`);
    accepted.add(`issued-two-${n}`);
    answer = 'hang';
    try {
      await expect(rotateSecret(s, deps())).rejects.toThrow(/got no answer: no answer within 1000 ms/);
      answer = 'redirect';
      await expect(rotateSecret(s, deps())).rejects.toThrow(/answered 302/);
    } finally {
      answer = 'check';
    }
    expect(await plain(s.parameter)).toBe(`issued-one-${n}`);
    expect(await rotateSecret(s, deps())).toMatchObject({ outcome: 'rotated' });
  });
});

describe('external: a crash at every step boundary after the person put the value', () => {
  // The external steps are test and finish (the put under the plain name, two labels, the deletion).
  const FAULTS = [
    ['PutParameterCommand', 1, 'before'],
    ['PutParameterCommand', 1, 'after'],
    ['LabelParameterVersionCommand', 1, 'before'],
    ['LabelParameterVersionCommand', 1, 'after'],
    ['LabelParameterVersionCommand', 2, 'before'],
    ['LabelParameterVersionCommand', 2, 'after'],
    ['DeleteParameterCommand', 1, 'before'],
    ['DeleteParameterCommand', 1, 'after'],
  ] as const;
  it.each(FAULTS)(
    'crash %s #%i %s: the plain name holds a value the issuer accepts throughout; the next run converges to one new version',
    async (command, at, when) => {
      const s = await oauthSecret();
      accepted.add(`issued-one-${n}`);
      accepted.add(`issued-two-${n}`);
      clock.set(T0 + 350 * DAY);
      await personPuts(s, `issued-two-${n}`);
      await expect(rotateSecret(s, deps({ ssm: crashing(command, at, when) }))).rejects.toThrow('crash');
      expect(accepted.has((await plain(s.parameter)) ?? '')).toBe(true);
      clock.set(T0 + 350 * DAY + 120_000);
      const out = await rotateSecret(s, deps());
      expect(['rotated', 'not-due']).toContain(out.outcome);
      expect(await plain(s.parameter)).toBe(`issued-two-${n}`);
      expect(await labelled(s.parameter, 'current')).toBe(`issued-two-${n}`);
      expect(await labelled(s.parameter, 'previous')).toBe(`issued-one-${n}`);
      expect(ssm.history(s.parameter)).toHaveLength(2);
      await expect(plain(pendingName(s.parameter))).rejects.toMatchObject({ name: 'ParameterNotFound' });
      // Not due again for a year.
      clock.set(T0 + 350 * DAY + 300 * DAY);
      expect(await rotateSecret(s, deps())).toMatchObject({ outcome: 'not-due', plan: { kind: 'idle' } });
    },
  );
});

describe('a pending value swapped by someone who may write .pending', () => {
  it('generated: the value swapped after create is never finished (its digest was pinned before the put); deleting it gives the rotation up', async () => {
    n += 1;
    const parameter = `/webhooks/swapped-${n}`;
    clock.set(T0);
    await operatorSsm().send(
      new PutParameterCommand({ Name: parameter, Value: `key-one-${n}`, Type: 'SecureString' }),
    );
    const s: SecretConfig = { parameter, policy: { kind: 'generated', cadenceDays: 90, graceDays: 7 } };
    clock.set(T0 + 91 * DAY);
    await expect(rotateSecret(s, deps({ ssm: crashing('PutParameterCommand', 1, 'after') }))).rejects.toThrow(
      'crash',
    );
    const description = ssm.history(pendingName(parameter)).at(-1)?.description;
    await operatorSsm().send(
      new PutParameterCommand({
        Name: pendingName(parameter),
        Value: 'attacker-chosen-key',
        Type: 'SecureString',
        Description: description,
        Overwrite: true,
      }),
    );
    clock.set(T0 + 91 * DAY + 120_000);
    await expect(rotateSecret(s, deps())).rejects.toMatchObject({ name: 'PendingChangedError' });
    expect(eventsOf().find((e) => e.type === 'Rotation Failed')?.detail.severity).toBe('critical');
    expect(await plain(parameter)).toBe(`key-one-${n}`);
    expect(JSON.stringify(eventsOf())).not.toContain('attacker-chosen-key');
    await operatorSsm().send(new DeleteParameterCommand({ Name: pendingName(parameter) }));
    clock.set(T0 + 91 * DAY + 240_000);
    expect(await rotateSecret(s, deps())).toMatchObject({ outcome: 'rotated' });
    expect(await plain(parameter)).not.toMatch(/^(attacker-chosen-key|key-one-)/);
  });

  it('external: a value swapped after it was tested, before finish put it, is refused (by its digest; put later, it is a new rotation and tested again)', async () => {
    const s = await oauthSecret();
    accepted.add(`issued-two-${n}`);
    clock.set(T0 + 350 * DAY);
    await personPuts(s, `issued-two-${n}`);
    await expect(
      rotateSecret(s, deps({ ssm: crashing('PutParameterCommand', 1, 'before') })),
    ).rejects.toThrow('crash');
    await personPuts(s, `untested-${n}`);
    clock.set(T0 + 350 * DAY + 120_000);
    await expect(rotateSecret(s, deps())).rejects.toMatchObject({ name: 'PendingChangedError' });
    expect(await plain(s.parameter)).toBe(`issued-one-${n}`);
    // A value put at another time is another rotation (the person's new attempt): tested before anything.
    clock.set(T0 + 350 * DAY + 600_000);
    await personPuts(s, `untested-${n}-again`);
    await expect(rotateSecret(s, deps())).rejects.toThrow(/answered 401/);
    expect(await plain(s.parameter)).toBe(`issued-one-${n}`);
  });
});

describe('values a person (or whoever may write .pending) puts', () => {
  it('a forged rotation description on a generated secret that is not due: never promoted (no record that this function made it)', async () => {
    n += 1;
    const parameter = `/webhooks/forged-${n}`;
    clock.set(T0);
    await operatorSsm().send(
      new PutParameterCommand({ Name: parameter, Value: `key-one-${n}`, Type: 'SecureString' }),
    );
    const s: SecretConfig = { parameter, policy: { kind: 'generated', cadenceDays: 90, graceDays: 7 } };
    await operatorSsm().send(
      new PutParameterCommand({
        Name: pendingName(parameter),
        Value: 'attacker-chosen-key',
        Type: 'SecureString',
        Description: `nightshift rotation ${parameter}@2027-03-02T12:00:00.000Z`,
      }),
    );
    clock.set(T0 + DAY);
    expect(await rotateSecret(s, deps())).toMatchObject({ outcome: 'blocked' });
    expect(await rotateSecret(s, deps())).toMatchObject({ outcome: 'blocked' });
    expect(await plain(parameter)).toBe(`key-one-${n}`);
    const keys = eventsOf()
      .filter((e) => e.type === 'Rotation Blocked')
      .map((e) => e.detail.eventKey);
    // Said every run, under one key: one alert.
    expect(new Set(keys).size).toBe(1);
  });

  it('external: the value in use, or the previous one, put back in the pending place is not a rotation (the due date stays)', async () => {
    const s = await oauthSecret();
    accepted.add(`issued-one-${n}`);
    clock.set(T0 + 370 * DAY);
    await personPuts(s, `issued-one-${n}`);
    expect(await rotateSecret(s, deps())).toMatchObject({
      outcome: 'blocked',
      reason: expect.stringContaining('already in use'),
    });
    expect(ssm.history(s.parameter)).toHaveLength(1);
    // A real rotation, then the old value put back.
    await operatorSsm().send(new DeleteParameterCommand({ Name: pendingName(s.parameter) }));
    accepted.add(`issued-two-${n}`);
    clock.set(T0 + 370 * DAY + 60_000);
    await personPuts(s, `issued-two-${n}`);
    expect(await rotateSecret(s, deps())).toMatchObject({ outcome: 'rotated' });
    clock.set(T0 + 370 * DAY + 120_000);
    await personPuts(s, `issued-one-${n}`);
    expect(await rotateSecret(s, deps())).toMatchObject({
      outcome: 'blocked',
      reason: expect.stringContaining('the previous one'),
    });
    expect(await plain(s.parameter)).toBe(`issued-two-${n}`);
  });

  it('external: a value the issuer refused is not presented again (one request, then blocked until another value)', async () => {
    const s = await oauthSecret();
    clock.set(T0 + 350 * DAY);
    await personPuts(s, `wrong-${n}`);
    seen.length = 0;
    await expect(rotateSecret(s, deps())).rejects.toMatchObject({ name: 'CheckRefusedError' });
    for (let i = 1; i <= 3; i++) {
      clock.set(T0 + 350 * DAY + i * 3_600_000);
      expect(await rotateSecret(s, deps())).toMatchObject({
        outcome: 'blocked',
        reason: expect.stringContaining('refused'),
      });
    }
    expect(seen).toHaveLength(1);
    accepted.add(`issued-two-${n}`);
    clock.set(T0 + 351 * DAY);
    await personPuts(s, `issued-two-${n}`);
    expect(await rotateSecret(s, deps())).toMatchObject({ outcome: 'rotated' });
    expect(seen).toHaveLength(2);
  });

  it('a pending value put as a String (it sat unencrypted) is never promoted: blocked, critical', async () => {
    const s = await oauthSecret();
    clock.set(T0 + 350 * DAY);
    await operatorSsm().send(
      new PutParameterCommand({ Name: pendingName(s.parameter), Value: `issued-two-${n}`, Type: 'String' }),
    );
    expect(await rotateSecret(s, deps())).toMatchObject({
      outcome: 'blocked',
      reason: expect.stringContaining('not a SecureString'),
    });
    expect(await plain(s.parameter)).toBe(`issued-one-${n}`);
  });
});

describe('rotateSecret: generated with an HTTPS check, and the age metric', () => {
  it('a generated key the checking service refuses is never finished; one it accepts is', async () => {
    n += 1;
    const parameter = `/webhooks/partner-key-${n}`;
    clock.set(T0);
    await operatorSsm().send(
      new PutParameterCommand({ Name: parameter, Value: `key-one-${n}`, Type: 'SecureString' }),
    );
    const s: SecretConfig = {
      parameter,
      policy: { kind: 'generated', cadenceDays: 90, graceDays: 7 },
      test: {
        https: { url: `${base}/whoami`, method: 'GET', present: { scheme: 'bearer' }, timeoutMs: 1000 },
      },
    };
    clock.set(T0 + 91 * DAY);
    await expect(rotateSecret(s, deps())).rejects.toThrow(
      /GET https:\/\/127\.0\.0\.1:\d+\/whoami\) answered 401/,
    );
    expect(await plain(parameter)).toBe(`key-one-${n}`);
    // The service learns the pending key (as one that reads .pending would); the resumed run finishes.
    accepted.add((await plain(pendingName(parameter))) ?? '');
    seen.length = 0;
    expect(await rotateSecret(s, deps())).toMatchObject({ outcome: 'rotated', steps: ['test', 'finish'] });
    expect(seen[0]?.authorization).toBe(`Bearer ${await plain(parameter)}`);
  });

  it('each run publishes SecretAgeDays: days since the last rotation, 0 right after one', async () => {
    n += 1;
    const parameter = `/webhooks/age-${n}`;
    clock.set(T0);
    await operatorSsm().send(
      new PutParameterCommand({ Name: parameter, Value: `v-${n}`, Type: 'SecureString' }),
    );
    const s: SecretConfig = { parameter, policy: { kind: 'generated', cadenceDays: 90, graceDays: 7 } };
    const ages = () =>
      metrics.filter((m) => m.dimensions?.parameter === parameter).map((m) => [m.name, m.value]);
    clock.set(T0 + 30 * DAY);
    await rotateSecret(s, deps());
    clock.set(T0 + 91 * DAY);
    await rotateSecret(s, deps());
    clock.set(T0 + 101 * DAY);
    await rotateSecret(s, deps());
    expect(ages()).toEqual([
      ['SecretAgeDays', 30],
      ['SecretAgeDays', 91],
      ['SecretAgeDays', 0],
      ['SecretAgeDays', 10],
    ]);
  });
});

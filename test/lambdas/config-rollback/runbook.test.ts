import { GetParameterHistoryCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  parseManualConfigRollback,
  runManualConfigRollback,
} from '../../../lambdas/config-rollback/manual.ts';
import type { RollbackRuntimeConfig } from '../../../lambdas/ecs-rollback/config.ts';
import { SERVICE_ARN, td } from '../ecs-rollback/fake-ecs.ts';
import {
  deploymentEvent,
  deps,
  fire,
  h,
  MIN,
  performed,
  run,
  T0,
  useRollbackHarness,
} from '../ecs-rollback/harness.ts';
import { PARAM, putConfig, useConfigSsm, withApiConfig } from './config-ssm.ts';

/**
 * Config rollback on the ECS rollback harness (ECS, CloudWatch and EventBridge fakes, dynalite) with the
 * local SSM on loopback: real versions, labels, history pages. History: rev 1 baked 5 h ago, rev 2 primary
 * since T0 − 30 min; `WEBHOOK_TIMEOUT_MS` v1 (5000) written before rev 1 completed.
 */
useRollbackHarness();

let ssm: SSMClient;
useConfigSsm((client) => {
  ssm = client;
});

const withConfig = (readsAt: 'start' | 'run-time', cacheTtlSeconds = 60): RollbackRuntimeConfig =>
  withApiConfig([{ parameter: PARAM, readsAt, cacheTtlSeconds }]);
let config = withConfig('start');
const runC = (event: unknown, owner?: string, overrides: Parameters<typeof run>[2] = {}) =>
  run(event, owner, { config, ssm, ...overrides });

const put = (Value: string, type: 'String' | 'SecureString' = 'String') => putConfig(ssm, Value, { type });
async function history() {
  const out = await ssm.send(new GetParameterHistoryCommand({ Name: PARAM, MaxResults: 50 }));
  return out.Parameters ?? [];
}
const rolledBack = () => h.bus.published.filter((e) => e.detailType === 'Config Rolled Back');

/** The bad value written at `writtenAt`; for start readers, a forced deployment of rev 2 that completes. */
async function badChange(writtenAt: number, value = '1') {
  h.now = writtenAt;
  await put(value);
  if (config.services[0]?.config?.[0]?.readsAt === 'start') {
    h.now = writtenAt + 2 * MIN;
    h.world.state.deploymentId = 'ecs-svc/by-hand';
    h.world.state.primaryCreatedAt = new Date(h.now);
    await runC(deploymentEvent('SERVICE_DEPLOYMENT_IN_PROGRESS', 'ecs-svc/by-hand', h.now));
    h.now = writtenAt + 5 * MIN;
    h.world.state.rolloutState = 'COMPLETED';
    await runC(deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', 'ecs-svc/by-hand', h.now));
  }
  h.now = T0;
}

beforeEach(() => {
  config = withConfig('start');
});

describe('config rollback', () => {
  it('writes the known-good value back, labelled, redeploys a start-time reader once, and the ECS rollback does not act', async () => {
    await badChange(T0 - 20 * MIN);
    const event = fire('webhooks-api-5xx-rate-high', T0 - MIN);
    const result = await runC(event);
    expect(result.plan?.kind).toBe('config-rollback');
    const versions = await history();
    expect(versions.map((v) => [v.Version, v.Value])).toEqual([
      [1, '5000'],
      [2, '1'],
      [3, '5000'],
    ]);
    expect(versions.at(-1)?.Labels).toEqual(['nightshift-restored-v1']);
    expect(h.world.state.updates).toEqual([{ force: true }]);
    expect(performed()).toEqual([]);
    expect(rolledBack()).toHaveLength(1);
    expect(rolledBack()[0]?.detail).toMatchObject({ parameter: PARAM, from: 2, restored: 1, written: 3 });
    // No value in the event: only versions.
    expect(JSON.stringify(rolledBack())).not.toContain('5000');

    // Redelivered, and a second alarm of the episode: handled, nothing more written or deployed.
    await runC(event);
    await runC(fire('webhooks-api-success-rate-low', T0));
    expect((await history()).length).toBe(3);
    expect(h.world.state.updates).toHaveLength(1);
  });

  it('20 concurrent deliveries make one write and one redeployment', async () => {
    await badChange(T0 - 20 * MIN);
    const event = fire('webhooks-api-5xx-rate-high', T0 - MIN);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => runC(event)));
    const failed = results.filter((r) => r.status === 'rejected');
    for (const f of failed) expect(String((f as PromiseRejectedResult).reason)).toMatch(/ClaimBusy|claimed/);
    // Those that found it in flight are retried, as Lambda would.
    h.now += 2 * 60_000;
    for (const _ of failed) await runC(event);
    expect((await history()).length).toBe(3);
    expect(h.world.state.updates).toEqual([{ force: true }]);
    expect(rolledBack()).toHaveLength(1);
  });

  it("Nightshift's write-back is never a suspect: an alarm after it, once the episode ended, escalates instead of looping", async () => {
    await badChange(T0 - 20 * MIN);
    await runC(fire('webhooks-api-5xx-rate-high', T0 - MIN));
    // The redeployment completes; later the alarm fires again.
    h.now = T0 + 5 * MIN;
    h.world.state.rolloutState = 'COMPLETED';
    await runC(deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', 'ecs-svc/forced-1', h.now));
    h.now = T0 + 40 * MIN;
    const again = await runC(fire('webhooks-api-5xx-rate-high', T0 + 39 * MIN));
    expect(again.plan?.kind).toBe('escalate');
    expect((await history()).length).toBe(3);
    expect(h.world.state.updates).toHaveLength(1);
    expect(h.bus.published.filter((e) => e.detailType === 'Rollback Ineffective')).toHaveLength(1);
  });

  it('a run-time reader is not redeployed: the change takes effect at the write plus the cache TTL', async () => {
    config = withConfig('run-time', 120);
    await badChange(T0 - 20 * MIN);
    const result = await runC(fire('webhooks-api-5xx-rate-high', T0 - MIN));
    expect(result.plan?.kind).toBe('config-rollback');
    expect((await history()).at(-1)?.Value).toBe('5000');
    expect(h.world.state.updates).toEqual([]);
    expect(rolledBack()[0]?.detail).toMatchObject({ redeployed: false });
  });

  it('a config change not yet in effect is no suspect: the alarm is left to the task-definition plan', async () => {
    config = withConfig('run-time', 600);
    await badChange(T0 - 5 * MIN); // reaches the app at T0 + 5 min
    const result = await runC(fire('webhooks-api-5xx-rate-high', T0 - MIN));
    expect(result.plan?.kind).toBe('rollback');
    expect((await history()).length).toBe(2);
  });

  it('a config written before the current revision was deployed belongs to that deployment: the ECS rollback owns it', async () => {
    config = withConfig('run-time', 60);
    await badChange(T0 - 40 * MIN); // before rev 2 became primary at T0 − 30 min
    const result = await runC(fire('webhooks-api-5xx-rate-high', T0 - MIN));
    expect(result.plan?.kind).toBe('rollback');
    expect(performed()).toHaveLength(1);
    expect((await history()).length).toBe(2);
    expect(rolledBack()).toEqual([]);
  });

  it('a SecureString suspect is refused with the reason, and nothing is written', async () => {
    config = withConfig('run-time', 60);
    const SECRET = '/webhooks/api/SIGNING_KEY';
    const [service] = config.services;
    config = {
      ...config,
      services: [
        {
          ...(service as NonNullable<typeof service>),
          config: [{ path: '/webhooks/api/', readsAt: 'run-time', cacheTtlSeconds: 60 }],
        },
      ],
    };
    h.now = T0 - 5 * 60 * MIN - 10 * MIN;
    await ssm.send(new PutParameterCommand({ Name: SECRET, Value: 'old-key', Type: 'SecureString' }));
    h.now = T0 - 19 * MIN;
    await ssm.send(
      new PutParameterCommand({ Name: SECRET, Value: 'secret-value', Type: 'SecureString', Overwrite: true }),
    );
    h.now = T0;
    const result = await runC(fire('webhooks-api-5xx-rate-high', T0 - MIN));
    expect(result.plan).toMatchObject({ kind: 'no-action' });
    expect(result.plan?.reason).toMatch(/SIGNING_KEY v2 .*SecureString/);
    expect((await history()).length).toBe(1);
    expect(JSON.stringify(h.bus.published)).not.toContain('secret-value');
    expect(h.world.state.updates).toEqual([]);
  });

  it("a secret Nightshift rotates is never a suspect: a rotation after a bad deploy leaves the deploy's rollback to act", async () => {
    const SECRET = '/webhooks/api/DB_PASSWORD';
    const [service] = config.services;
    config = {
      ...config,
      rotatedParameters: [SECRET],
      services: [
        {
          ...(service as NonNullable<typeof service>),
          config: [{ path: '/webhooks/api/', readsAt: 'run-time', cacheTtlSeconds: 60 }],
        },
      ],
    };
    h.now = T0 - 5 * 60 * MIN - 10 * MIN;
    await ssm.send(new PutParameterCommand({ Name: SECRET, Value: 'old-password', Type: 'SecureString' }));
    h.now = T0 - 20 * MIN; // rev 2 became primary at T0 − 30 min; the rotation finished after it
    await ssm.send(
      new PutParameterCommand({ Name: SECRET, Value: 'new-password', Type: 'SecureString', Overwrite: true }),
    );
    await ssm.send(
      new PutParameterCommand({ Name: `${SECRET}.pending`, Value: 'next', Type: 'SecureString' }),
    );
    h.now = T0;
    const result = await runC(fire('webhooks-api-5xx-rate-high', T0 - MIN));
    expect(result.plan?.kind).toBe('rollback');
    expect(performed()).toHaveLength(1);
    expect(rolledBack()).toEqual([]);
  });

  it('a crash after the write resumes by labelling that write, never writing twice', async () => {
    await badChange(T0 - 20 * MIN);
    const event = fire('webhooks-api-5xx-rate-high', T0 - MIN);
    let labelFaults = 1;
    const faulty = new Proxy(ssm, {
      get(target, prop, receiver) {
        if (prop !== 'send') return Reflect.get(target, prop, receiver);
        return async (command: { constructor: { name: string } }) => {
          if (command.constructor.name === 'LabelParameterVersionCommand' && labelFaults-- > 0) {
            throw Object.assign(new Error('injected'), { name: 'InternalServerError', $metadata: {} });
          }
          return target.send(command as never);
        };
      },
    });
    await expect(runC(event, undefined, { ssm: faulty })).rejects.toThrow(/injected/);
    expect((await history()).length).toBe(3);
    h.now += 1000; // Lambda's retry
    await runC(event);
    const versions = await history();
    expect(versions.length).toBe(3);
    expect(versions.at(-1)?.Labels).toEqual(['nightshift-restored-v1']);
    expect(h.world.state.updates).toEqual([{ force: true }]);
    expect(rolledBack()).toHaveLength(1);
  });

  it('a person writing the parameter between the plan and the write-back stops the rollback: their value is not overwritten', async () => {
    await badChange(T0 - 20 * MIN);
    const event = fire('webhooks-api-5xx-rate-high', T0 - MIN);
    let historyReads = 0;
    const racing = new Proxy(ssm, {
      get(target, prop, receiver) {
        if (prop !== 'send') return Reflect.get(target, prop, receiver);
        return async (command: { constructor: { name: string } }) => {
          // The plan reads the history once; the person's write lands before the write-back reads it again.
          if (command.constructor.name === 'GetParameterHistoryCommand' && ++historyReads === 2) {
            await put('2500');
          }
          return target.send(command as never);
        };
      },
    });
    const first = await runC(event, undefined, { ssm: racing });
    expect(first.result.outcome).toBe('skipped');
    expect((await history()).map((v) => v.Value)).toEqual(['5000', '1', '2500']);
    expect(h.world.state.updates).toEqual([]);
    expect(td(2)).toBe(h.world.state.primary);
    // The episode is decided once: skipped and announced, not retried into an overwrite.
    expect(h.bus.published.filter((e) => e.detailType === 'Config Rollback Skipped')).toHaveLength(1);
    // Nothing was deployed: the claim ended at once (a rotation's redeployment is not held up by it).
    expect(await h.store.loadClaim(SERVICE_ARN)).toMatchObject({ skipped: true, completedAt: h.now });
    h.now += 1000;
    const retry = await runC(event);
    expect(retry.plan).toMatchObject({ kind: 'no-action', duplicate: true });
    expect(retry.plan?.reason).toMatch(/skipped .*changed after the rollback was planned/);
    // A new episode plans afresh: the newer version, not yet in effect, is someone's fix in progress.
    h.now += 3 * 60 * MIN;
    const later = await runC(fire('webhooks-api-5xx-rate-high', h.now - MIN));
    expect(later.plan?.kind).not.toBe('config-rollback');
    expect((await history()).length).toBe(3);
  });

  describe('manual rollback (direct invoke)', () => {
    const manual = async (body: unknown, owner: string = crypto.randomUUID(), redriven = false) =>
      runManualConfigRollback(parseManualConfigRollback(body), deps(owner, { config, ssm }), redriven);

    it('writes the named version back, labelled, and redeploys a start-time reader; a retry of the same invocation does nothing more', async () => {
      await badChange(T0 - 20 * MIN);
      const body = { configRollback: { parameter: PARAM, version: 1, reason: 'timeouts after the change' } };
      const out = await manual(body, 'request-1');
      expect(out.result.outcome).toBe('performed');
      const versions = await history();
      expect(versions.at(-1)).toMatchObject({
        Version: 3,
        Value: '5000',
        Labels: ['nightshift-restored-v1'],
      });
      expect(h.world.state.updates).toEqual([{ force: true }]);
      const again = await manual(body, 'request-1');
      expect(again.plan).toMatchObject({ kind: 'no-action', duplicate: true });
      expect((await history()).length).toBe(3);
    });

    it.each([
      [{ configRollback: { parameter: PARAM, version: 0 } }, /configRollback\.version/],
      [
        { configRollback: { parameter: PARAM, version: 9 } },
        /configRollback\.version: 9 is not in the history .*versions 1–1/,
      ],
      [
        { configRollback: { parameter: '/other/PARAM', version: 1 } },
        /configRollback\.parameter: "\/other\/PARAM" is not config/,
      ],
      [{ configRollback: { version: 1 } }, /configRollback\.parameter/],
    ])('refuses bad input %j naming the field, changing nothing', async (body, message) => {
      await expect(manual(body)).rejects.toThrow(message);
      expect((await history()).length).toBe(1);
      expect(h.world.state.updates).toEqual([]);
    });

    it('is refused when redriven from the dead-letter queue, and held by dry-run', async () => {
      await badChange(T0 - 20 * MIN);
      const body = { configRollback: { parameter: PARAM, version: 1 } };
      await expect(manual(body, 'r', true)).rejects.toThrow(/redriven .* refused/);
      config = { ...config, dryRun: true };
      const held = await manual(body);
      expect(held.result.outcome).toBe('planned');
      expect((await history()).length).toBe(2);
    });
  });
});

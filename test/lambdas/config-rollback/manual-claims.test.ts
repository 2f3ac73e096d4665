import type { SSMClient } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import {
  parseManualConfigRollback,
  runManualConfigRollback,
} from '../../../lambdas/config-rollback/manual.ts';
import type { RollbackRuntimeConfig } from '../../../lambdas/ecs-rollback/config.ts';
import { SERVICE_ARN, td } from '../ecs-rollback/fake-ecs.ts';
import {
  config as baseConfig,
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

useRollbackHarness();
let ssm: SSMClient;
useConfigSsm((client) => {
  ssm = client;
});
const [service] = baseConfig.services;
const api = service as NonNullable<typeof service>;
const selector = { path: '/webhooks/api/', readsAt: 'start' as const, cacheTtlSeconds: 60 };
const config = withApiConfig([selector]);
const put = (Value: string) => putConfig(ssm, Value);
const manual = (body: unknown, with_: RollbackRuntimeConfig = config) =>
  runManualConfigRollback(
    parseManualConfigRollback(body),
    deps(crypto.randomUUID(), { config: with_, ssm }),
    false,
  );

describe('manual config rollback and the claims of others', () => {
  it("never takes over a task-definition rollback stopped part-way: the alarm's retry finishes and announces it", async () => {
    h.now = T0;
    const event = fire('webhooks-api-5xx-rate-high', T0 - MIN);
    h.bus.control.failNext = 1; // Rollback Performed fails to publish: UpdateService made, the claim at 'updated'
    await expect(run(event, undefined, { config: baseConfig, ssm })).rejects.toThrow();
    expect(h.world.state.primary).toBe(td(1));
    expect(await h.store.loadClaim(SERVICE_ARN)).toMatchObject({ stage: 'updated' });
    h.now += 2 * MIN; // the lease has run out; the alarm's retry has not come yet
    const refused = await manual({ configRollback: { parameter: PARAM, version: 1 } }).catch((e: Error) => e);
    expect((refused as Error).name).toBe('ClaimBusyError');
    expect((refused as Error).message).toContain('stage updated');
    const retry = await run(event, undefined, { config: baseConfig, ssm });
    expect(retry.result.outcome).toBe('performed');
    expect(performed()).toHaveLength(1);
  });

  it('asks which service when more than one reads the parameter, and takes the named one', async () => {
    const worker = {
      ...api,
      name: 'worker',
      service: 'webhooks-worker',
      serviceArn: `${SERVICE_ARN}-worker`,
    };
    const shared: RollbackRuntimeConfig = {
      ...config,
      services: [
        { ...api, config: [selector] },
        { ...worker, config: [selector] },
      ],
    };
    h.now = T0;
    await put('1');
    const ambiguous = await manual({ configRollback: { parameter: PARAM, version: 1 } }, shared).catch(
      (e: Error) => e,
    );
    expect((ambiguous as Error).message).toContain(
      'configRollback.service: /webhooks/api/WEBHOOK_TIMEOUT_MS is config of api, worker',
    );
    const wrong = await manual(
      { configRollback: { parameter: PARAM, version: 1, service: 'billing' } },
      shared,
    ).catch((e: Error) => e);
    expect((wrong as Error).message).toContain('configRollback.service: "billing" does not read');
    const named = await manual({ configRollback: { parameter: PARAM, version: 1, service: 'api' } }, shared);
    expect(named.plan).toMatchObject({ kind: 'config-rollback', service: 'api' });
  });
});

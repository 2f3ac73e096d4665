/**
 * Config rollback's tests on the ECS rollback harness with the local SSM on loopback (real versions, labels,
 * history pages): its lifecycle, a fresh history per test with `WEBHOOK_TIMEOUT_MS` v1 = 5000 written
 * before rev 1 completed, and the harness's one service reading the config it is given.
 */
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { RollbackRuntimeConfig, RuntimeService } from '../../../lambdas/ecs-rollback/config.ts';
import { localSsm } from '../../support/local-ssm.ts';
import { config as baseConfig, freshHistory, h } from '../ecs-rollback/harness.ts';

export const PARAM = '/webhooks/api/WEBHOOK_TIMEOUT_MS';

/** Writes a new version of a parameter (`PARAM` unless named). */
export const putConfig = (
  ssm: SSMClient,
  Value: string,
  o: { readonly name?: string; readonly type?: 'String' | 'SecureString' } = {},
) =>
  ssm.send(
    new PutParameterCommand({ Name: o.name ?? PARAM, Value, Type: o.type ?? 'String', Overwrite: true }),
  );

/** The harness's config with its service reading `selectors` (and any other fields given). */
export function withApiConfig(
  selectors: NonNullable<RuntimeService['config']>,
  extra: Partial<RollbackRuntimeConfig> = {},
): RollbackRuntimeConfig {
  const [service] = baseConfig.services;
  if (!service) throw new Error('harness has no service');
  return { ...baseConfig, ...extra, services: [{ ...service, config: selectors }] };
}

/**
 * Starts the local SSM for the file (after `useRollbackHarness()`), hands its operator client to `bind`,
 * and before each test restores SSM from the harness's mock, clears every parameter and makes a fresh
 * history with v1 of `PARAM`.
 */
export function useConfigSsm(bind: (client: SSMClient) => void): void {
  const local = localSsm({ now: () => h.now });
  let client: SSMClient;
  beforeAll(async () => {
    await local.endpoint.listen();
    client = local.client({ maxAttempts: 1 });
    bind(client);
  });
  afterAll(() => local.endpoint.close());
  beforeEach(async () => {
    h.bus.ssm.restore(); // the harness mocks every SSMClient; these tests talk to the local SSM
    h.world.state.now = () => h.now;
    for (const name of [...local.ssm.parameters.keys()]) local.ssm.parameters.delete(name);
    await freshHistory(async () => {
      await putConfig(client, '5000');
    });
  });
}

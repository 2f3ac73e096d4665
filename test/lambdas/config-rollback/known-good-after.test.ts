import type { SSMClient } from '@aws-sdk/client-ssm';
import { expect, it } from 'vitest';
import { assessRevisions } from '../../../lambdas/ecs-rollback/known-good.ts';
import { SERVICE_ARN, td } from '../ecs-rollback/fake-ecs.ts';
import {
  alarmEvent,
  deploymentEvent,
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
const config = withApiConfig([{ parameter: PARAM, readsAt: 'start', cacheTtlSeconds: 60 }]);
const runC = (e: unknown) => run(e, undefined, { config, ssm });
const put = (Value: string) => putConfig(ssm, Value);

it("the config rollback's redeployment of a revision that was never known-good earns it by a quiet bake after its episode", async () => {
  // bad config at T-20m, forced deploy by hand completes at T-15m (as in runbook.test.ts badChange)
  h.now = T0 - 20 * MIN;
  await put('1');
  h.now = T0 - 18 * MIN;
  h.world.state.deploymentId = 'ecs-svc/by-hand';
  h.world.state.primaryCreatedAt = new Date(h.now);
  await runC(deploymentEvent('SERVICE_DEPLOYMENT_IN_PROGRESS', 'ecs-svc/by-hand', h.now));
  h.now = T0 - 15 * MIN;
  h.world.state.rolloutState = 'COMPLETED';
  await runC(deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', 'ecs-svc/by-hand', h.now));
  h.now = T0;
  const r = await runC(fire('webhooks-api-5xx-rate-high', T0 - MIN));
  expect(r.plan?.kind).toBe('config-rollback');
  h.now = T0 + 5 * MIN;
  h.world.state.rolloutState = 'COMPLETED';
  await runC(deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', 'ecs-svc/forced-1', h.now));
  // the alarm clears; rev 2 with the restored config then runs quietly for 10 hours
  h.now = T0 + 6 * MIN;
  h.cw.transition('webhooks-api-5xx-rate-high', 'OK', h.now);
  await runC(alarmEvent('webhooks-api-5xx-rate-high', h.now, 'OK'));
  h.now = T0 + 10 * 60 * MIN;
  const stored = await h.store.load(SERVICE_ARN);
  const forced = stored.revisions.find((x) => x.deploymentId === 'ecs-svc/forced-1');
  const kg = assessRevisions(
    stored.revisions,
    stored.alarmWindows,
    h.now,
    config.bakeWindowMinutes * MIN,
  ).map((a) => `${a.record.deploymentId}:${a.knownGood}:${a.reason}`);
  // Nightshift's own (never a suspect), and it earns known-good once its episode's alarm cleared.
  expect(forced?.origin).toBe('rollback');
  expect(kg.some((s) => s.startsWith('ecs-svc/forced-1:true'))).toBe(true);

  // A bad rev 3 ships: the rollback goes to rev 2 (10 quiet hours with the restored config), not rev 1.
  const d2 = h.world.state.definitions.get(td(2));
  h.world.state.definitions.set(td(3), { ...d2, taskDefinitionArn: td(3), revision: 3 });
  h.world.state.primary = td(3);
  h.world.state.deploymentId = undefined;
  h.world.state.primaryCreatedAt = new Date(h.now);
  h.world.state.rolloutState = 'IN_PROGRESS';
  await runC(deploymentEvent('SERVICE_DEPLOYMENT_IN_PROGRESS', 'ecs-svc/3', h.now));
  h.now += 5 * MIN;
  h.world.state.rolloutState = 'COMPLETED';
  await runC(deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', 'ecs-svc/3', h.now));
  h.now += 5 * MIN;
  const p = await runC(fire('webhooks-api-5xx-rate-high', h.now - MIN));
  expect(p.plan?.kind).toBe('rollback');
  expect(performed()[0]?.detail.to).toBe(td(2));
});

import {
  GetParameterHistoryCommand,
  LabelParameterVersionCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { parseRollbackEvent } from '../../../lambdas/ecs-rollback/events.ts';
import { runRollbackRunbook } from '../../../lambdas/ecs-rollback/runbook.ts';
import {
  BOUNDS,
  deploymentEvent,
  deps,
  fire,
  h,
  MIN,
  ORIGIN,
  run,
  T0,
  useRollbackHarness,
} from '../ecs-rollback/harness.ts';
import { PARAM, putConfig, useConfigSsm, withApiConfig } from './config-ssm.ts';

/**
 * `Parameter Store Change` events of configured parameters: an audit line each, who wrote which version
 * (Nightshift's own write-back recognised by its claim), never a value. Event shape from
 * test/fixtures/events/ssm-parameter-store-change-update.json (AWS's documented sample).
 */
useRollbackHarness();
let ssm: SSMClient;
useConfigSsm((client) => {
  ssm = client;
});
const config = withApiConfig(
  [
    { parameter: PARAM, readsAt: 'start', cacheTtlSeconds: 300 },
    { path: '/webhooks/api/flags/', readsAt: 'run-time', cacheTtlSeconds: 60 },
    { path: '/webhooks/api/', readsAt: 'run-time', cacheTtlSeconds: 60 },
  ],
  { rotatedParameters: ['/webhooks/api/DB_PASSWORD'] },
);
const put = (Value: string, name = PARAM) => putConfig(ssm, Value, { name });

function change(name: string, operation = 'Update', at = h.now ?? T0, extra: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'Parameter Store Change',
    source: 'aws.ssm',
    account: ORIGIN.account,
    time: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: ORIGIN.region,
    resources: [`arn:aws:ssm:${ORIGIN.region}:${ORIGIN.account}:parameter/${name.replace(/^\//, '')}`],
    detail: { operation, name, type: 'String', description: 'Sample Parameter' },
    ...extra,
  };
}
const onChange = async (event: unknown) =>
  runRollbackRunbook(
    parseRollbackEvent(event, { now: h.now, bounds: BOUNDS, origin: ORIGIN }),
    deps('c', { config, ssm }),
  );
const audited = async () => (await h.audit.list('ecs-rollback')).filter((e) => e.action === 'config-change');

describe('Parameter Store Change of a configured parameter', () => {
  it('is an audit line: the version, who wrote it, when it reaches the service; no value', async () => {
    h.now = T0 - 20 * MIN;
    await put('1');
    const out = await onChange(change(PARAM));
    expect(out.result.outcome).toBe('recorded');
    const [line] = await audited();
    expect(line).toMatchObject({
      subject: 'api',
      outcome: 'performed',
      details: { parameter: PARAM, latestVersion: 2, own: false },
    });
    expect(line?.reason).toMatch(
      /^\/webhooks\/api\/WEBHOOK_TIMEOUT_MS Update: latest v2 \(String, .*\) by arn:aws:/,
    );
    expect(line?.reason).toContain('it reaches api with its next deployment (read at start)');
    expect(JSON.stringify(await audited())).not.toMatch(/"1"|5000/);
  });

  it("recognises Nightshift's own write-back (and its label) by the version its claim recorded", async () => {
    h.now = T0 - 20 * MIN;
    await put('1');
    h.now = T0 - 18 * MIN;
    h.world.state.deploymentId = 'ecs-svc/by-hand';
    h.world.state.primaryCreatedAt = new Date(h.now);
    await run(deploymentEvent('SERVICE_DEPLOYMENT_IN_PROGRESS', 'ecs-svc/by-hand', h.now), undefined, {
      config,
      ssm,
    });
    h.now = T0 - 15 * MIN;
    h.world.state.rolloutState = 'COMPLETED';
    await run(deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', 'ecs-svc/by-hand', h.now), undefined, {
      config,
      ssm,
    });
    h.now = T0;
    const rolled = await run(fire('webhooks-api-5xx-rate-high', T0 - MIN), undefined, { config, ssm });
    expect(rolled.plan?.kind).toBe('config-rollback');
    const history = (await ssm.send(new GetParameterHistoryCommand({ Name: PARAM }))).Parameters ?? [];
    expect(history.at(-1)?.Version).toBe(3);
    await onChange(change(PARAM));
    await onChange(change(PARAM, 'LabelParameterVersion'));
    const lines = await audited();
    expect(lines.map((l) => l.details?.own)).toEqual([true, true]);
    expect(lines.find((l) => l.details?.operation === 'Update')?.reason).toMatch(
      /Update: latest v3 \(String, .*\): Nightshift's own write-back of v1 \(episode /,
    );
  });

  it('a path reader hears of changes below the path; a secret Nightshift rotates is said to be its own', async () => {
    h.now = T0;
    await put('on', '/webhooks/api/flags/NEW_CHECKOUT');
    await onChange(change('/webhooks/api/flags/NEW_CHECKOUT', 'Create'));
    await onChange(change('/webhooks/api/DB_PASSWORD.pending', 'Create'));
    const lines = await audited();
    const flag = lines.find((l) => l.details?.parameter === '/webhooks/api/flags/NEW_CHECKOUT');
    const secret = lines.find((l) => l.details?.parameter === '/webhooks/api/DB_PASSWORD.pending');
    expect(flag?.reason).toContain('Create: latest v1 (String');
    expect(flag?.reason).toContain('it reaches api within 60 s (read at run time)');
    expect(secret?.reason).toBe(
      "/webhooks/api/DB_PASSWORD.pending Create: Nightshift's rotation of a secret (never a config suspect)",
    );
  });

  it("a person's label on an old version is a label moved, never a version written nor Nightshift's own", async () => {
    h.now = T0;
    await put('1');
    await ssm.send(
      new LabelParameterVersionCommand({ Name: PARAM, ParameterVersion: 1, Labels: ['stable'] }),
    );
    await onChange(change(PARAM, 'LabelParameterVersion'));
    const [line] = await audited();
    expect(line?.reason).toBe(
      `${PARAM} LabelParameterVersion: a label was moved (the event names no version; the latest is v2)`,
    );
    expect(line?.details?.own).toBe(false);
  });

  it('a deleted parameter is said to be deleted', async () => {
    h.now = T0;
    await onChange(change('/webhooks/api/flags/GONE', 'Delete'));
    expect((await audited())[0]?.reason).toBe(
      '/webhooks/api/flags/GONE Delete: the parameter has no versions (deleted)',
    );
  });

  it.each<[string, unknown, RegExp]>([
    [
      'a parameter no service reads',
      change('/billing/KEY'),
      /detail.name "\/billing\/KEY" is config of no service/,
    ],
    [
      'an ARN of another parameter',
      change(PARAM, 'Update', T0, {
        resources: [`arn:aws:ssm:${ORIGIN.region}:${ORIGIN.account}:parameter/other`],
      }),
      /resources\[0\] .* is not the ARN of detail.name/,
    ],
    [
      'an unknown operation',
      { ...change(PARAM), detail: { operation: 'Rename', name: PARAM } },
      /detail.operation/,
    ],
    ['another account', change(PARAM, 'Update', T0, { account: '999999999999' }), /999999999999/],
    ['a time outside a real delivery', change(PARAM, 'Update', T0 - 3 * 60 * MIN), /time/],
  ])('%s is refused with the field named, and nothing is recorded', async (_what, event, message) => {
    h.now = T0;
    await expect(onChange(event)).rejects.toThrow(message);
    expect(await audited()).toEqual([]);
  });
});

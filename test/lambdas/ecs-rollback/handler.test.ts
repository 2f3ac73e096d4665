import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RollbackRuntimeConfig } from '../../../lambdas/ecs-rollback/config.ts';
import { startStateTable } from '../../support/dynamo.ts';
import { ACCOUNT, CLUSTER, fakeBusAndSsm, fakeEcs, REGION, SERVICE, SERVICE_ARN } from './fake-ecs.ts';

/**
 * The handler as Lambda runs it: environment from the construct, clients from the SDK's standard chain
 * (DynamoDB is dynalite through AWS_ENDPOINT_URL_DYNAMODB; ECS, SSM and EventBridge are mocks), logs and
 * metrics as Powertools writes them to stdout.
 */
const config: RollbackRuntimeConfig = {
  dryRun: false,
  bakeWindowMinutes: 120,
  cooldownMinutes: 30,
  leaveInProgressToEcs: true,
  deploymentAlarmConflict: 'suspend',
  auditRetentionDays: 30,
  leaseSeconds: 90,
  services: [
    {
      name: 'api',
      cluster: CLUSTER,
      service: SERVICE,
      serviceArn: SERVICE_ARN,
      taskDefinitionFamily: SERVICE,
      alarms: [{ prefix: 'webhooks-api-' }],
    },
  ],
};

let table: Awaited<ReturnType<typeof startStateTable>>;
let handler: (event: unknown, context: Context) => Promise<unknown>;
const output: string[] = [];

beforeAll(async () => {
  table = await startStateTable();
  vi.stubEnv('AWS_REGION', REGION);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', `http://127.0.0.1:${table.port}`);
  vi.stubEnv('NIGHTSHIFT_STATE_TABLE', table.tableName);
  vi.stubEnv('NIGHTSHIFT_EVENT_BUS', 'nightshift');
  vi.stubEnv('NIGHTSHIFT_KILL_SWITCH_PARAMETER', '/nightshift/kill-switch');
  vi.stubEnv('NIGHTSHIFT_RUNBOOK_CONFIG', JSON.stringify(config));
  vi.stubEnv('NIGHTSHIFT_ACCOUNT', ACCOUNT);
  vi.stubEnv('NIGHTSHIFT_REGION', REGION);
  vi.stubEnv('NIGHTSHIFT_MAX_EVENT_AGE_SECONDS', '7500');
  vi.stubEnv('NIGHTSHIFT_CLOCK_SKEW_SECONDS', '300');
  vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'nightshift-ecs-rollback');
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      output.push(String(chunk));
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    });
  }
  ({ handler } = (await import('../../../lambdas/ecs-rollback/handler.ts')) as unknown as {
    handler: typeof handler;
  });
});
afterAll(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await table.stop();
});

const context = {
  awsRequestId: 'req-1',
  functionName: 'nightshift-ecs-rollback',
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:nightshift-ecs-rollback`,
  memoryLimitInMB: '256',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

describe('ecs-rollback handler', () => {
  it('names the guarded service in its "finished" line without the key Powertools reserves', async () => {
    const world = fakeEcs();
    const bus = fakeBusAndSsm();
    world.state.primaryCreatedAt = new Date(Date.now() - 10 * 60_000);
    const at = new Date().toISOString();
    await handler(
      {
        version: '0',
        id: 'e1',
        'detail-type': 'ECS Deployment State Change',
        source: 'aws.ecs',
        account: ACCOUNT,
        time: at,
        region: REGION,
        resources: [SERVICE_ARN],
        detail: {
          eventType: 'INFO',
          eventName: 'SERVICE_DEPLOYMENT_COMPLETED',
          deploymentId: 'ecs-svc/2',
          updatedAt: at,
        },
      },
      context,
    );
    world.ecs.restore();
    bus.events.restore();
    bus.ssm.restore();

    const lines = output
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('{'));
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const finished = records.find((r) => r.message === 'ecs-rollback finished for api');
    expect(finished).toMatchObject({
      guardedService: 'api',
      outcome: 'recorded',
      service: 'nightshift-ecs-rollback',
    });
    expect(output.join('')).not.toMatch(/reserved key|has already been added/);
    const emf = records.find((r) => r._aws !== undefined);
    expect(emf).toMatchObject({
      guardedService: 'api',
      service: 'ecs-rollback',
      outcome_recorded: 1,
    });
  });
});

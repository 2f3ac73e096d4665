import { readFileSync } from 'node:fs';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SSMClient } from '@aws-sdk/client-ssm';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { claimTtlMs, type RollbackRuntimeConfig } from '../../../lambdas/ecs-rollback/config.ts';
import { parseRollbackEvent } from '../../../lambdas/ecs-rollback/events.ts';
import { type RunbookDeps, runRollbackRunbook } from '../../../lambdas/ecs-rollback/runbook.ts';
import { RollbackStore } from '../../../lambdas/ecs-rollback/store.ts';
import { AuditLog } from '../../../lambdas/shared/audit.ts';
import { EventPublisher } from '../../../lambdas/shared/publisher.ts';
import { createStateTable, startStateTable } from '../../support/dynamo.ts';
import {
  ACCOUNT,
  CLUSTER,
  fakeBusAndSsm,
  fakeCloudWatch,
  fakeEcs,
  REGION,
  SERVICE,
  SERVICE_ARN,
  td,
} from './fake-ecs.ts';

/**
 * The ECS rollback runbook end to end on one test clock: DynamoDB is dynalite (a table per test), ECS,
 * CloudWatch, EventBridge and SSM are stateful fakes. `useRollbackHarness()` registers the hooks; tests read
 * and move `h.now` and look at `h.world`, `h.bus`, `h.cw`.
 */
export const MIN = 60_000;
export const T0 = Date.parse('2026-11-20T10:00:00.000Z');
export const config: RollbackRuntimeConfig = {
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
/** A real delivery is at most 2 h 5 min old here (rule and function max event ages, skew 5 min). */
export const BOUNDS = { maxAgeMs: 125 * MIN, maxSkewMs: 5 * MIN };
export const ORIGIN = { account: ACCOUNT, region: REGION };

const alarmFixture = JSON.parse(
  readFileSync(
    new URL('../../fixtures/events/cloudwatch-alarm-state-change-single-metric.json', import.meta.url),
    'utf8',
  ),
);

/** The documentation's alarm event, renamed and moved; timestamps in CloudWatch's own `+0000` form. */
export function alarmEvent(name: string, enteredAt: number, value = 'ALARM') {
  const ts = new Date(enteredAt).toISOString().replace('Z', '+0000');
  return {
    ...alarmFixture,
    account: ACCOUNT,
    region: REGION,
    time: new Date(enteredAt).toISOString().replace('.000Z', 'Z'),
    resources: [`arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`],
    detail: {
      ...alarmFixture.detail,
      alarmName: name,
      state: { ...alarmFixture.detail.state, value, timestamp: ts },
    },
  };
}

export function deploymentEvent(eventName: string, deploymentId: string, at: number) {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'ECS Deployment State Change',
    source: 'aws.ecs',
    account: ACCOUNT,
    time: new Date(at).toISOString(),
    region: REGION,
    resources: [SERVICE_ARN],
    detail: {
      eventType: 'INFO',
      eventName,
      deploymentId,
      updatedAt: new Date(at).toISOString(),
      reason: 'test',
    },
  };
}

interface Harness {
  table: Awaited<ReturnType<typeof startStateTable>>;
  tableName: string;
  now: number;
  world: ReturnType<typeof fakeEcs>;
  bus: ReturnType<typeof fakeBusAndSsm>;
  cw: ReturnType<typeof fakeCloudWatch>;
  store: RollbackStore;
  audit: AuditLog;
  /** The document client the store writes through (a test may wrap it to inject faults). */
  documents: DynamoDBDocumentClient;
}
export const h = {} as Harness;

let tableN = 0;

/** Registers the hooks: one dynalite per file, a fresh table, fakes and history before each test. */
export function useRollbackHarness(): void {
  beforeAll(async () => {
    h.table = await startStateTable();
  });
  afterAll(async () => {
    await h.table.stop();
  });
  beforeEach(async () => {
    h.world = fakeEcs();
    h.bus = fakeBusAndSsm();
    h.cw = fakeCloudWatch();
    await freshHistory();
  });
  afterEach(() => {
    h.cw.cloudwatch.restore();
    h.world.ecs.restore();
    h.bus.events.restore();
    h.bus.ssm.restore();
  });
}

/** A fresh table with the standard history; `prelude` runs first, at T0 − 5 h 10 min. */
export async function freshHistory(prelude?: () => Promise<void>) {
  tableN += 1;
  h.tableName = `state-${tableN}`;
  await createStateTable(h.table.client, h.tableName);
  useDocuments(h.table.documents);
  if (prelude) {
    h.now = T0 - 5 * 60 * MIN - 10 * MIN;
    await prelude();
  }
  await history();
}

/** Points the store and the audit log at a document client (e.g. one that injects faults). */
export function useDocuments(documents: DynamoDBDocumentClient) {
  h.documents = documents;
  h.store = new RollbackStore(documents, h.tableName, claimTtlMs(config));
  h.audit = new AuditLog(documents, h.tableName, 30);
}

export function deps(owner: string, overrides: Partial<RunbookDeps> = {}): RunbookDeps {
  return {
    ecs: new ECSClient({ region: REGION }),
    ssm: new SSMClient({ region: REGION }),
    cloudwatch: new CloudWatchClient({ region: REGION }),
    store: h.store,
    audit: h.audit,
    publisher: new EventPublisher(new EventBridgeClient({ region: REGION }), 'default'),
    clock: () => h.now,
    owner,
    leaseMs: config.leaseSeconds * 1000,

    config,
    killSwitchParameter: '/nightshift/kill-switch',
    ...overrides,
  };
}

/** What the handler does: check the event against the clock and the stack's origin, then run. */
export async function run(
  event: unknown,
  owner: string = crypto.randomUUID(),
  overrides: Partial<RunbookDeps> = {},
) {
  return runRollbackRunbook(
    parseRollbackEvent(event, { now: h.now, bounds: BOUNDS, origin: ORIGIN }),
    deps(owner, overrides),
  );
}

/** The alarm really changes state (CloudWatch records it) and its event is delivered. */
export function fire(name: string, at: number, value = 'ALARM') {
  h.cw.transition(name, value, at);
  return alarmEvent(name, at, value);
}

export const performed = () => h.bus.published.filter((e) => e.detailType === 'Rollback Performed');

/** rev 1 deployed and baked 5 h ago; rev 2 deployed 30 min ago and completed 25 min ago. */
export async function history() {
  const { world } = h;
  h.now = T0 - 5 * 60 * MIN;
  world.state.primary = td(1);
  world.state.primaryCreatedAt = new Date(h.now - 5 * MIN);
  await run(deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', 'ecs-svc/1', h.now));
  h.now = T0 - 30 * MIN;
  world.state.primary = td(2);
  world.state.primaryCreatedAt = new Date(h.now);
  world.state.rolloutState = 'IN_PROGRESS';
  await run(deploymentEvent('SERVICE_DEPLOYMENT_IN_PROGRESS', 'ecs-svc/2', h.now));
  h.now = T0 - 25 * MIN;
  world.state.rolloutState = 'COMPLETED';
  await run(deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', 'ecs-svc/2', h.now));
  h.now = T0;
}

/** Items the runbook keeps about the service (history and claim) plus its audit entries. */
export async function itemCount(): Promise<number> {
  let count = 0;
  for (const pk of [`ecs-rollback#${SERVICE_ARN}`, `claim#${SERVICE_ARN}`]) {
    const items = await h.table.documents.send(
      new QueryCommand({
        TableName: h.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
      }),
    );
    count += items.Items?.length ?? 0;
  }
  const auditItems = await new AuditLog(h.table.documents, h.tableName, 30).list('ecs-rollback');
  return count + auditItems.length;
}

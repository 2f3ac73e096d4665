import { readFileSync } from 'node:fs';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RollbackRuntimeConfig } from '../../../lambdas/ecs-rollback/config.ts';
import { parseRollbackEvent } from '../../../lambdas/ecs-rollback/events.ts';
import { type RunbookDeps, runRollbackRunbook } from '../../../lambdas/ecs-rollback/runbook.ts';
import { RollbackStore } from '../../../lambdas/ecs-rollback/store.ts';
import { AuditLog } from '../../../lambdas/shared/audit.ts';
import { ForeignEventError, InvalidEventError } from '../../../lambdas/shared/errors.ts';
import { EventPublisher } from '../../../lambdas/shared/publisher.ts';
import { createStateTable, startStateTable } from '../../support/dynamo.ts';
import {
  ACCOUNT,
  CLUSTER,
  DIGEST,
  fakeBusAndSsm,
  fakeEcs,
  REGION,
  SERVICE,
  SERVICE_ARN,
  td,
} from './fake-ecs.ts';

const MIN = 60_000;
const T0 = Date.parse('2026-11-20T10:00:00.000Z');
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

const alarmFixture = JSON.parse(
  readFileSync(
    new URL('../../fixtures/events/cloudwatch-alarm-state-change-single-metric.json', import.meta.url),
    'utf8',
  ),
);
/** The documentation's alarm event, renamed; timestamps in CloudWatch's own `+0000` form. */
function alarmEvent(name: string, enteredAt: number, value = 'ALARM') {
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
function deploymentEvent(eventName: string, deploymentId: string, at: number) {
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

let table: Awaited<ReturnType<typeof startStateTable>>;
let tableN = 0;
let currentTable = '';
let now = T0;
let world: ReturnType<typeof fakeEcs>;
let bus: ReturnType<typeof fakeBusAndSsm>;
let store: RollbackStore;
let audit: AuditLog;

beforeAll(async () => {
  table = await startStateTable();
});
afterAll(async () => {
  await table.stop();
});

async function freshTable() {
  // A table per test keeps tests independent on one dynalite.
  tableN += 1;
  currentTable = `state-${tableN}`;
  await createStateTable(table.client, currentTable);
  return currentTable;
}

function deps(owner: string, overrides: Partial<RunbookDeps> = {}): RunbookDeps {
  return {
    ecs: new ECSClient({ region: 'eu-west-1' }),
    ssm: new SSMClient({ region: 'eu-west-1' }),
    store,
    audit,
    publisher: new EventPublisher(new EventBridgeClient({ region: 'eu-west-1' }), 'default'),
    clock: () => now,
    owner,
    leaseMs: config.leaseSeconds * 1000,
    config,
    killSwitchParameter: '/nightshift/kill-switch',
    ...overrides,
  };
}

/** A real delivery is at most 2 h 5 min old here (rule and function max event ages, skew 5 min). */
const BOUNDS = { maxAgeMs: 125 * MIN, maxSkewMs: 5 * MIN };

/** What the handler does: check the event against the clock and the stack's origin, then run. */
const run = async (
  event: unknown,
  owner: string = crypto.randomUUID(),
  overrides: Partial<RunbookDeps> = {},
) =>
  runRollbackRunbook(
    parseRollbackEvent(event, { now, bounds: BOUNDS, origin: { account: ACCOUNT, region: REGION } }),
    deps(owner, overrides),
  );

const performed = () => bus.published.filter((e) => e.detailType === 'Rollback Performed');

/** rev 1 deployed and baked 5 h ago; rev 2 deployed 30 min ago and completed 25 min ago. */
async function history() {
  now = T0 - 5 * 60 * MIN;
  world.state.primary = td(1);
  world.state.primaryCreatedAt = new Date(now - 5 * MIN);
  await run(deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', 'ecs-svc/1', now));
  now = T0 - 30 * MIN;
  world.state.primary = td(2);
  world.state.primaryCreatedAt = new Date(now);
  world.state.rolloutState = 'IN_PROGRESS';
  await run(deploymentEvent('SERVICE_DEPLOYMENT_IN_PROGRESS', 'ecs-svc/2', now));
  now = T0 - 25 * MIN;
  world.state.rolloutState = 'COMPLETED';
  await run(deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', 'ecs-svc/2', now));
  now = T0;
}

beforeEach(async () => {
  const name = await freshTable();
  store = new RollbackStore(table.documents, name);
  audit = new AuditLog(table.documents, name, 30);
  world = fakeEcs();
  bus = fakeBusAndSsm();
  await history();
});
afterEach(() => {
  world.ecs.restore();
  bus.events.restore();
  bus.ssm.restore();
});

describe('ecs-rollback runbook', () => {
  describe('records known-good history', () => {
    it('records a completed deployment with its definition and the digests ECS resolved', async () => {
      const state = await store.load(SERVICE_ARN);
      const rev1 = state.revisions.find((r) => r.taskDefinitionArn === td(1));
      expect(rev1).toMatchObject({ origin: 'deployment', imageDigests: { app: DIGEST(1) } });
      expect(JSON.parse(rev1?.taskDefinitionJson ?? '{}')).toMatchObject({
        family: SERVICE,
        containerDefinitions: [{ name: 'app' }],
      });
    });

    it('keeps the first time a deployment became primary when its events arrive again or out of order', async () => {
      await run(deploymentEvent('SERVICE_DEPLOYMENT_IN_PROGRESS', 'ecs-svc/2', T0));
      const rev2 = (await store.load(SERVICE_ARN)).revisions.find((r) => r.deploymentId === 'ecs-svc/2');
      expect(rev2?.primarySince).toBe(T0 - 30 * MIN);
    });
  });

  describe('keeps its state under the agreed keys', () => {
    it('keeps history under ecs-rollback#<serviceArn> and the claim alone under claim#<serviceArn>', async () => {
      await run(alarmEvent('webhooks-api-5xx-rate-high', T0 - MIN));
      const keysOf = async (pk: string) =>
        (
          await table.documents.send(
            new QueryCommand({
              TableName: currentTable,
              KeyConditionExpression: 'pk = :pk',
              ExpressionAttributeValues: { ':pk': pk },
            }),
          )
        ).Items?.map((i) => String(i.sk).split('#')[0]) ?? [];
      expect(new Set(await keysOf(`ecs-rollback#${SERVICE_ARN}`))).toEqual(new Set(['rev', 'alarm']));
      expect(await keysOf(`claim#${SERVICE_ARN}`)).toEqual(['claim']);
    });
  });

  describe('acts once per episode', () => {
    it('rolls back exactly once for 100 concurrent deliveries of one alarm, and every invocation succeeds', async () => {
      const event = alarmEvent('webhooks-api-5xx-rate-high', T0 - MIN);
      const results = await Promise.allSettled(Array.from({ length: 100 }, () => run(event)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(100);
      expect(world.state.updates).toEqual([{ taskDefinition: td(1), alarmsEnabled: undefined }]);
      expect(performed()).toHaveLength(1);
      expect(performed()[0]?.detail).toMatchObject({
        service: 'api',
        from: td(2),
        to: td(1),
        alarm: 'webhooks-api-5xx-rate-high',
      });
      expect(String(performed()[0]?.detail.pipeline)).toContain('Do not redeploy');
      const outcomes = results.map((r) => (r.status === 'fulfilled' ? r.value.result.outcome : 'rejected'));
      expect(outcomes.filter((o) => o === 'performed')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'skipped')).toHaveLength(99);
    });

    it('rolls back once when two different alarms of the service arrive together', async () => {
      await Promise.all([
        run(alarmEvent('webhooks-api-5xx-rate-high', T0 - MIN)),
        run(alarmEvent('webhooks-api-unhealthy-hosts', T0 - MIN + 10_000)),
      ]);
      expect(world.state.updates).toHaveLength(1);
      expect(performed()).toHaveLength(1);
    });

    it('answers a late duplicate with "already handled" and changes nothing', async () => {
      const event = alarmEvent('webhooks-api-5xx-rate-high', T0 - MIN);
      await run(event);
      now += 5 * MIN;
      const again = await run(event);
      expect(again.result).toMatchObject({
        outcome: 'skipped',
        reason: expect.stringContaining('already handled'),
      });
      expect(world.state.updates).toHaveLength(1);
    });

    it('publishes exactly once and does not update again when PutEvents failed after UpdateService', async () => {
      bus.control.failNext = 1;
      const event = alarmEvent('webhooks-api-5xx-rate-high', T0 - MIN);
      await expect(run(event)).rejects.toThrow('boom');
      expect(world.state.updates).toHaveLength(1);
      expect(performed()).toHaveLength(0);
      now += 60_000; // the Lambda retry arrives a minute later
      const retry = await run(event);
      expect(retry.result.outcome).toBe('performed');
      expect(world.state.updates).toHaveLength(1);
      expect(performed()).toHaveLength(1);
    });

    it('resumes a claim whose invocation timed out once its lease has passed', async () => {
      const event = alarmEvent('webhooks-api-5xx-rate-high', T0 - MIN);
      // The first invocation claims and dies before UpdateService (no chance to release its lease).
      const claim = {
        episodeId: `${event.resources[0]}@${event.detail.state.timestamp}`,
        alarmName: 'webhooks-api-5xx-rate-high',
        episodeStart: T0 - MIN,
        stage: 'registered' as const,
        leaseUntil: T0 + 90_000,
        owner: 'dead-invocation',
        fromTaskDefinitionArn: td(2),
        toTaskDefinitionArn: td(1),
        deployTaskDefinitionArn: td(1),
        pin: false,
        suspendDeploymentAlarms: false,
        reason: 'r',
      };
      expect(await store.acquire(SERVICE_ARN, claim, undefined)).toBe(true);
      const early = await run(event);
      expect(early.result.reason).toContain('being rolled back by another invocation');
      expect(world.state.updates).toHaveLength(0);
      now = T0 + 91_000;
      const late = await run(event);
      expect(late.result.outcome).toBe('performed');
      expect(world.state.updates).toHaveLength(1);
      expect(performed()).toHaveLength(1);
    });
  });

  describe('never loops', () => {
    it('escalates once, and does not roll back again, when an alarm fires after the rollback', async () => {
      await run(alarmEvent('webhooks-api-5xx-rate-high', T0 - MIN));
      now = T0 + 5 * MIN;
      world.state.rolloutState = 'COMPLETED';
      world.state.primaryCreatedAt = new Date(T0);
      await run(deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', 'ecs-svc/1', now));
      now = T0 + 40 * MIN;
      await run(alarmEvent('webhooks-api-5xx-rate-high', T0 + 39 * MIN));
      await run(alarmEvent('webhooks-api-unhealthy-hosts', T0 + 39 * MIN + 30_000));
      expect(world.state.updates).toHaveLength(1);
      const ineffective = bus.published.filter((e) => e.detailType === 'Rollback Ineffective');
      expect(ineffective).toHaveLength(1);
      expect(ineffective[0]?.detail).toMatchObject({
        severity: 'critical',
        service: 'api',
        current: td(1),
        rolledBackFrom: td(2),
      });
    });
  });

  describe('never loses a page or repeats an announcement', () => {
    it('sends the Rollback Ineffective page on the retry when publishing it failed', async () => {
      await run(alarmEvent('webhooks-api-5xx-rate-high', T0 - MIN));
      now = T0 + 5 * MIN;
      world.state.rolloutState = 'COMPLETED';
      await run(deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', 'ecs-svc/1', now));
      now = T0 + 40 * MIN;
      bus.control.failNext = 1;
      const late = alarmEvent('webhooks-api-unhealthy-hosts', T0 + 39 * MIN);
      await expect(run(late)).rejects.toThrow('boom');
      now += 60_000;
      await run(late);
      expect(bus.published.filter((e) => e.detailType === 'Rollback Ineffective')).toHaveLength(1);
    });

    it('announces a no-action decision once per episode however often the alarm is delivered', async () => {
      world.state.controller = 'CODE_DEPLOY';
      const event = alarmEvent('webhooks-api-5xx-rate-high', T0 - MIN);
      const results = await Promise.all([run(event), run(event), run(event)]);
      expect(bus.published.filter((e) => e.detailType === 'Rollback Skipped')).toHaveLength(1);
      expect(results.map((r) => r.result.outcome)).toEqual(['skipped', 'skipped', 'skipped']);
    });
  });

  describe('deploys exactly what ran', () => {
    it('re-registers an INACTIVE known-good revision pinned to its recorded digests', async () => {
      const def = world.state.definitions.get(td(1));
      if (def) def.status = 'INACTIVE';
      await run(alarmEvent('webhooks-api-5xx-rate-high', T0 - MIN));
      expect(world.state.registered).toHaveLength(1);
      expect(world.state.registered[0]?.containerDefinitions?.[0]?.image).toBe(
        `123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@${DIGEST(1)}`,
      );
      expect(world.state.registered[0]?.tags).toContainEqual({ key: 'nightshift:rollback-of', value: td(1) });
      expect(world.state.updates).toEqual([{ taskDefinition: td(3), alarmsEnabled: undefined }]);
      expect(performed()[0]?.detail).toMatchObject({ to: td(3), knownGood: td(1) });
    });

    it('re-registers a :latest-tagged known-good revision pinned to its recorded digests', async () => {
      world.ecs.restore();
      world = fakeEcs({ image: () => '123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:latest' });
      await freshHistory();
      await run(alarmEvent('webhooks-api-5xx-rate-high', T0 - MIN));
      expect(world.state.registered[0]?.containerDefinitions?.[0]?.image).toBe(
        `123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@${DIGEST(1)}`,
      );
      expect(world.state.updates.map((u) => u.taskDefinition)).toEqual([td(3)]);
    });
  });

  describe('deployment alarms', () => {
    it('suspends alarm-based rollback for its own deployment and restores it when that completes', async () => {
      world.state.deploymentAlarms = {
        alarmNames: ['webhooks-api-5xx-rate-high'],
        enable: true,
        rollback: true,
      };
      await run(alarmEvent('webhooks-api-5xx-rate-high', T0 - MIN));
      expect(world.state.updates[0]).toEqual({ taskDefinition: td(1), alarmsEnabled: false });
      now = T0 + 5 * MIN;
      world.state.rolloutState = 'COMPLETED';
      await run(deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', 'ecs-svc/1', now));
      expect(world.state.updates[1]).toEqual({ taskDefinition: undefined, alarmsEnabled: true });
      expect(world.state.deploymentAlarms.enable).toBe(true);
    });
  });

  describe('stops when told to', () => {
    it.each([
      ['dry-run', { config: { ...config, dryRun: true } }, 'dry-run'],
      ['the kill switch is on', {}, 'kill switch /nightshift/kill-switch is on'],
      ['the kill switch cannot be read', {}, 'could not be read'],
    ])('only plans when %s, and returns the plan', async (what, overrides, reason) => {
      if (what === 'the kill switch is on')
        bus.ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'on' } });
      if (what === 'the kill switch cannot be read') {
        bus.ssm
          .on(GetParameterCommand)
          .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException', $metadata: {} }));
      }
      const result = await run(alarmEvent('webhooks-api-5xx-rate-high', T0 - MIN), 'x', overrides);
      expect(result.plan).toMatchObject({ kind: 'rollback', from: td(2), to: td(1) });
      expect(result.result).toMatchObject({ outcome: 'planned', reason: expect.stringContaining(reason) });
      expect(world.state.updates).toHaveLength(0);
      expect(performed()).toHaveLength(0);
    });

    it('acts when the kill switch holds another value', async () => {
      bus.ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'off' } });
      await run(alarmEvent('webhooks-api-5xx-rate-high', T0 - MIN));
      expect(world.state.updates).toHaveLength(1);
    });
  });

  describe('rejects bad input and changes nothing', () => {
    it.each([
      [
        'an event of another type',
        { 'detail-type': 'EC2 Instance State-change Notification', detail: {} },
        /unsupported event: detail-type "EC2 Instance State-change Notification"/,
      ],
      [
        'an alarm event without a state',
        (() => {
          const e = alarmEvent('webhooks-api-5xx-rate-high', T0);
          delete e.detail.state;
          return e;
        })(),
        /malformed CloudWatch Alarm State Change event: detail.state/,
      ],
      [
        'a timestamp that is not a time',
        (() => {
          const e = alarmEvent('webhooks-api-5xx-rate-high', T0);
          e.detail.state.timestamp = 'yesterday';
          return e;
        })(),
        /detail.state.timestamp: not an ISO-8601 timestamp/,
      ],
    ])('rejects %s with a clear error', async (_what, event, message) => {
      const before = await itemCount();
      await expect(run(event)).rejects.toThrow(InvalidEventError);
      await expect(run(event)).rejects.toThrow(message);
      expect(await itemCount()).toBe(before);
      expect(world.state.updates).toHaveLength(0);
    });

    const alarm = () => alarmEvent('webhooks-api-5xx-rate-high', T0 - MIN);
    const deployment = () => deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', 'ecs-svc/2', T0 - MIN);
    const MB = 'x'.repeat(1024 * 1024);
    it.each([
      [
        'an alarm from account 999999999999',
        { ...alarm(), account: '999999999999' },
        ForeignEventError,
        /account "999999999999" is not this stack's account 123456789012/,
      ],
      [
        'an alarm from another Region',
        { ...alarm(), region: 'us-east-1' },
        ForeignEventError,
        /region "us-east-1" is not this stack's Region eu-west-1/,
      ],
      [
        'a deployment from account 999999999999',
        { ...deployment(), account: '999999999999' },
        ForeignEventError,
        /account "999999999999"/,
      ],
      [
        'a deployment from another Region',
        { ...deployment(), region: 'ap-south-2' },
        ForeignEventError,
        /region "ap-south-2"/,
      ],
      [
        'a 1 MB alarm name',
        { ...alarm(), detail: { ...alarm().detail, alarmName: MB } },
        InvalidEventError,
        /detail\.alarmName: Too big: expected string to have <=255 characters/,
      ],
      [
        'a 1 MB deploymentId',
        { ...deployment(), detail: { ...deployment().detail, deploymentId: MB } },
        InvalidEventError,
        /detail\.deploymentId: Too big: expected string to have <=256 characters/,
      ],
      [
        'a 1 MB state reason',
        { ...alarm(), detail: { ...alarm().detail, state: { ...alarm().detail.state, reason: MB } } },
        InvalidEventError,
        /detail\.state\.reason: Too big/,
      ],
      [
        'a 1 MB alarm tag',
        { ...alarm(), detail: { ...alarm().detail, alarmTags: { 'nightshift:service': MB } } },
        InvalidEventError,
        /detail\.alarmTags\.nightshift:service: Too big/,
      ],
      ['a 1 MB resource', { ...alarm(), resources: [MB] }, InvalidEventError, /resources\.0: Too big/],
      [
        'an alarm that entered ALARM in 2099',
        {
          ...alarm(),
          detail: {
            ...alarm().detail,
            state: { ...alarm().detail.state, timestamp: '2099-01-01T00:00:00.000+0000' },
          },
        },
        InvalidEventError,
        /detail\.state\.timestamp: 2099-01-01T00:00:00\.000\+0000 is .* after now/,
      ],
      [
        'an alarm that entered ALARM in 1970',
        {
          ...alarm(),
          detail: {
            ...alarm().detail,
            state: { ...alarm().detail.state, timestamp: '1970-01-01T00:00:00.000+0000' },
          },
        },
        InvalidEventError,
        /detail\.state\.timestamp: 1970-01-01T00:00:00\.000\+0000 is .* before now/,
      ],
      [
        'an alarm event sent in 2099',
        { ...alarm(), time: '2099-01-01T00:00:00Z' },
        InvalidEventError,
        /^time: 2099-01-01T00:00:00Z is/,
      ],
      [
        'an alarm that left ALARM in 1970',
        (() => {
          const e = alarmEvent('webhooks-api-5xx-rate-high', T0, 'OK');
          e.detail.state.timestamp = '1970-01-01T00:00:00.000+0000';
          return e;
        })(),
        InvalidEventError,
        /detail\.state\.timestamp: 1970/,
      ],
      [
        'a deployment completed in 2099',
        { ...deployment(), detail: { ...deployment().detail, updatedAt: '2099-01-01T00:00:00Z' } },
        InvalidEventError,
        /detail\.updatedAt: 2099-01-01T00:00:00Z is/,
      ],
      [
        'a deployment completed in 1970',
        { ...deployment(), detail: { ...deployment().detail, updatedAt: '1970-01-01T00:00:00Z' } },
        InvalidEventError,
        /detail\.updatedAt: 1970-01-01T00:00:00Z is/,
      ],
      [
        'a deployment event sent in 1970',
        { ...deployment(), time: '1970-01-01T00:00:00Z' },
        InvalidEventError,
        /^time: 1970-01-01T00:00:00Z is/,
      ],
    ])('refuses %s, naming the field, and changes nothing', async (_what, event, type, message) => {
      const before = await itemCount();
      await expect(run(event)).rejects.toThrow(type);
      await expect(run(event)).rejects.toThrow(message);
      expect(await itemCount()).toBe(before);
      expect(world.state.updates).toHaveLength(0);
      expect(bus.published).toHaveLength(0);
    });

    it('takes an alarm older than a delivery can be only through an operator redrive', async () => {
      const old = alarmEvent('webhooks-api-5xx-rate-high', T0 - 3 * 60 * MIN);
      const context = (redrive?: { reason: string }) => ({
        now,
        bounds: BOUNDS,
        origin: { account: ACCOUNT, region: REGION },
        redrive,
      });
      expect(() => parseRollbackEvent(old, context())).toThrow(/before now/);
      expect(parseRollbackEvent(old, context({ reason: 'DLQ after outage' }))).toMatchObject({
        type: 'alarm',
        stateAt: T0 - 3 * 60 * MIN,
      });
    });

    it('rejects an alarm that guards no configured service, naming it', async () => {
      await expect(run(alarmEvent('billing-5xx', T0))).rejects.toThrow(
        'alarm billing-5xx guards no configured service',
      );
    });
  });
});

async function freshHistory() {
  const name = await freshTable();
  store = new RollbackStore(table.documents, name);
  audit = new AuditLog(table.documents, name, 30);
  await history();
}

async function itemCount(): Promise<number> {
  let count = 0;
  for (const pk of [`ecs-rollback#${SERVICE_ARN}`, `claim#${SERVICE_ARN}`]) {
    const items = await table.documents.send(
      new QueryCommand({
        TableName: currentTable,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
      }),
    );
    count += items.Items?.length ?? 0;
  }
  const auditItems = await audit.list('ecs-rollback');
  return count + auditItems.length;
}

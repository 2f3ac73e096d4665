import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../lambdas/shared/audit.ts';
import { PLANTED_SECRET } from '../../../local/sandbox/webhooks-app.ts';
import type { LocalWorld } from '../../../local/world/world.ts';
import { MIN, published, suspectDeployment, synthesizeAssembly, withoutAction } from './world-fixture.ts';

let assembly: ReturnType<typeof synthesizeAssembly>;
let world: LocalWorld | undefined;

beforeAll(() => {
  assembly = synthesizeAssembly();
});
afterAll(() => assembly.remove());
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe('ecs-rollback in the local world (bundled handler, IAM from the template)', () => {
  describe('acts once', () => {
    it('rolls back once for 100 concurrent deliveries of one alarm episode; those that found it in flight are retried, none dead-lettered', async () => {
      const s = await suspectDeployment(assembly);
      world = s.world;
      await s.app.setAlarm(s.alarms.successRate, 'ALARM', 'webhook success rate 81% < 95%');
      const event = world.routed.at(-1);
      if (!event) throw new Error('no alarm event was routed');
      for (let i = 0; i < 99; i++) world.route(event);
      await world.settle();
      const deliveries = world.deliveries.filter((d) => d.event === event);
      expect(deliveries).toHaveLength(100);
      // A delivery that finds the rollback in flight cannot know it will finish: it fails, never "already handled".
      const failed = deliveries.filter((d) => !d.result.ok);
      expect(failed.filter((d) => !/retry to see/.test(d.result.error?.message ?? ''))).toEqual([]);
      await world.advance(4 * MIN); // Lambda's retries
      expect(s.app.rollbacksBy(s.app.api)).toHaveLength(1);
      expect(published(world, 'Rollback Performed')).toHaveLength(1);
      expect(world.deadLetters.size).toBe(0);
    });

    it('rolls back once when two alarms of the service fire together', async () => {
      const s = await suspectDeployment(assembly);
      world = s.world;
      await Promise.all([
        s.app.setAlarm(s.alarms.successRate, 'ALARM', 'success rate'),
        s.app.setAlarm(s.alarms.unhealthy, 'ALARM', 'unhealthy hosts'),
      ]);
      await world.settle();
      expect(s.app.rollbacksBy(s.app.api)).toHaveLength(1);
      expect(published(world, 'Rollback Performed')).toHaveLength(1);
    });

    it('publishes exactly one event and does not update again when PutEvents fails after UpdateService', async () => {
      const s = await suspectDeployment(assembly);
      world = s.world;
      // More failures than the SDK's attempts, so the invocation fails after its UpdateService.
      world.inject({ service: 'events', operation: 'PutEvents', kind: 'server-error', count: 5 });
      await s.app.setAlarm(s.alarms.successRate, 'ALARM', 'success rate');
      await world.settle();
      expect(s.app.rollbacksBy(s.app.api)).toHaveLength(1);
      expect(published(world, 'Rollback Performed')).toHaveLength(0);
      expect(world.deliveries.filter((d) => !d.result.ok)).toHaveLength(1);
      await world.advance(MIN); // Lambda retries the async invocation a minute later
      expect(s.app.rollbacksBy(s.app.api)).toHaveLength(1);
      expect(published(world, 'Rollback Performed')).toHaveLength(1);
      expect(world.deadLetters.size).toBe(0);
    });
  });

  describe('never loops', () => {
    it('escalates once and never rolls back again when alarms fire after the rollback', async () => {
      const s = await suspectDeployment(assembly);
      world = s.world;
      await s.app.setAlarm(s.alarms.successRate, 'ALARM', 'success rate');
      await world.advance(6 * MIN); // the rollback deployment completes
      await s.app.setAlarm(s.alarms.successRate, 'OK', 'recovered');
      await world.advance(10 * MIN);
      await s.app.setAlarm(s.alarms.unhealthy, 'ALARM', 'unhealthy hosts');
      await world.settle();
      await s.app.setAlarm(s.alarms.successRate, 'ALARM', 'success rate again');
      await world.settle();
      expect(s.app.rollbacksBy(s.app.api)).toHaveLength(1);
      const ineffective = published(world, 'Rollback Ineffective');
      expect(ineffective).toHaveLength(1);
      expect(ineffective[0]?.detail).toMatchObject({ severity: 'critical', service: 'api' });
    });
  });

  describe("when ECS fails Nightshift's rollback", () => {
    it('pages once that the rollback failed, then escalates instead of rolling back again', async () => {
      // A deployment alarm Nightshift does not watch is red: ECS fails the rollback and returns to rev 2.
      const s = await suspectDeployment(assembly, { apiDeploymentAlarms: ['webhooks-api-latency-p99'] });
      world = s.world;
      await s.app.setAlarm('webhooks-api-latency-p99', 'ALARM', 'p99 latency 4.1 s > 2 s');
      await s.app.setAlarm(s.alarms.successRate, 'ALARM', 'success rate');
      await world.advance(12 * MIN); // rollback fails after 5 min; ECS rolls back to rev 2 in 5 more
      expect(s.app.running(s.app.api).taskDefinition).toBe(s.rev2);
      expect(published(world, 'Rollback Failed')).toHaveLength(1);
      await s.app.setAlarm(s.alarms.unhealthy, 'ALARM', 'unhealthy hosts');
      await world.advance(3 * 60 * MIN); // and much later, once more
      await s.app.setAlarm(s.alarms.successRate, 'OK', 'ok');
      await s.app.setAlarm(s.alarms.successRate, 'ALARM', 'success rate again');
      await world.settle();
      expect(s.app.rollbacksBy(s.app.api)).toHaveLength(1);
      expect(published(world, 'Rollback Ineffective')).toHaveLength(1);
      expect(world.deliveries.every((d) => d.result.ok)).toBe(true);
    });
  });

  describe('deploys what ran', () => {
    it('re-registers an INACTIVE known-good revision pinned to the digests it ran with', async () => {
      const s = await suspectDeployment(assembly);
      world = s.world;
      const rev1Digest = world.registry.resolve(s.app.image(s.app.api, 'v1'));
      await s.app.deregister(s.rev1);
      world.registry.push(s.app.image(s.app.api, 'v1')); // the tag moved since: only the digest is the truth
      await s.app.setAlarm(s.alarms.successRate, 'ALARM', 'success rate');
      await world.advance(6 * MIN);
      const running = s.app.running(s.app.api);
      expect(running.taskDefinition).not.toBe(s.rev1);
      expect(running.image.endsWith(`@${rev1Digest}`)).toBe(true);
      expect(published(world, 'Rollback Performed')[0]?.detail.reregistered).toContain('is INACTIVE');
    });
  });

  describe('stops when told to', () => {
    it('only plans while the kill-switch parameter (which the stack never creates) is on', async () => {
      const s = await suspectDeployment(assembly);
      world = s.world;
      const ssm = new SSMClient(world.operatorConfig());
      await ssm.send(
        new PutParameterCommand({ Name: '/nightshift/kill-switch', Value: 'on', Type: 'String' }),
      );
      await s.app.setAlarm(s.alarms.successRate, 'ALARM', 'success rate');
      await world.settle();
      expect(s.app.rollbacksBy(s.app.api)).toHaveLength(0);
      expect(published(world, 'Rollback Performed')).toHaveLength(0);
      const documents = DynamoDBDocumentClient.from(new DynamoDBClient(world.operatorConfig()));
      const audit = await new AuditLog(documents, world.app.tables[0]?.tableName ?? '', 1).list(
        'ecs-rollback',
      );
      expect(audit.find((e) => e.outcome === 'planned')?.reason).toContain(
        'not carried out: kill switch /nightshift/kill-switch is on',
      );
    });
  });

  describe('keeps secrets', () => {
    it("never writes a task definition's plain-text secret to logs, events or the audit log", async () => {
      const s = await suspectDeployment(assembly);
      world = s.world;
      await s.app.setAlarm(s.alarms.successRate, 'ALARM', 'success rate');
      await world.advance(6 * MIN);
      const logs = [...world.lambdas.values()].flatMap((l) => l.logs);
      expect(logs.length).toBeGreaterThan(0);
      expect(JSON.stringify(logs)).not.toContain(PLANTED_SECRET);
      expect(JSON.stringify(world.events.published)).not.toContain(PLANTED_SECRET);
      const documents = DynamoDBDocumentClient.from(new DynamoDBClient(world.operatorConfig()));
      const audit = await new AuditLog(documents, world.app.tables[0]?.tableName ?? '', 1).list(
        'ecs-rollback',
      );
      expect(audit.some((e) => e.action === 'rollback' && e.outcome === 'performed')).toBe(true);
      expect(JSON.stringify(audit)).not.toContain(PLANTED_SECRET);
    });
  });

  describe("copes with faults through the SDK's own retries", () => {
    it('rolls back once despite throttling, 5xx, latency and a dropped connection', async () => {
      const s = await suspectDeployment(assembly);
      world = s.world;
      world.inject({ service: 'ecs', operation: 'DescribeServices', kind: 'throttle', count: 2 });
      world.inject({ service: 'ecs', operation: 'UpdateService', kind: 'server-error', count: 1 });
      world.inject({ service: 'ecs', operation: 'DescribeTaskDefinition', kind: 'drop', count: 1 });
      world.inject({ service: 'dynamodb', operation: 'PutItem', kind: 'latency', latencyMs: 50, count: 3 });
      await s.app.setAlarm(s.alarms.successRate, 'ALARM', 'success rate');
      await world.settle();
      expect(world.endpoint.faults.injected).toHaveLength(7);
      expect(world.deliveries.every((d) => d.result.ok)).toBe(true);
      expect(s.app.rollbacksBy(s.app.api)).toHaveLength(1);
      expect(published(world, 'Rollback Performed')).toHaveLength(1);
    });
  });

  describe('rejects bad input', () => {
    it('fails a malformed alarm event with a clear error, changes nothing, and dead-letters it after retries', async () => {
      const s = await suspectDeployment(assembly);
      world = s.world;
      const good = world.routed.find((e) => e['detail-type'] === 'CloudWatch Alarm State Change');
      if (!good) throw new Error('no alarm event');
      const { state: _state, ...detail } = { ...good.detail, alarmName: s.alarms.successRate } as Record<
        string,
        unknown
      >;
      world.route({ ...good, id: 'malformed', detail });
      await world.advance(3 * MIN);
      const failed = world.deliveries.filter((d) => d.event.id === 'malformed');
      expect(failed).toHaveLength(1);
      expect(failed[0]?.result.error?.message).toContain(
        'malformed CloudWatch Alarm State Change event: detail.state',
      );
      expect(s.app.rollbacksBy(s.app.api)).toHaveLength(0);
      expect([...world.deadLetters.values()].flat()).toHaveLength(1);
    });

    it('refuses a forged ALARM that CloudWatch does not confirm, changes nothing, and dead-letters it after retries', async () => {
      const s = await suspectDeployment(assembly);
      world = s.world;
      // A real alarm of the api, OK in CloudWatch since install; the forged event says it just entered ALARM.
      const real = world.routed.find(
        (e) =>
          e['detail-type'] === 'CloudWatch Alarm State Change' &&
          (e.detail as { alarmName?: string }).alarmName === s.alarms.successRate,
      );
      if (!real) throw new Error('no alarm event of the api');
      const detail = real.detail as { state: Record<string, unknown> };
      const at = new Date(world.clock.now()).toISOString();
      world.route({
        ...real,
        id: 'forged',
        time: at.replace(/\.\d{3}Z$/, 'Z'),
        detail: {
          ...detail,
          state: { ...detail.state, value: 'ALARM', timestamp: at.replace('Z', '+0000') },
        },
      });
      await world.advance(4 * MIN); // both Lambda retries
      const attempts = world.deliveries.filter((d) => d.event.id === 'forged');
      expect(attempts).toHaveLength(1);
      expect(attempts[0]?.result.error?.message).toContain(
        `alarm ${s.alarms.successRate}: CloudWatch does not confirm it entered ALARM`,
      );
      expect(attempts[0]?.result.error?.message).toContain('it is OK since');
      expect(s.app.rollbacksBy(s.app.api)).toHaveLength(0);
      expect(s.app.running(s.app.api).taskDefinition).toBe(s.rev2);
      expect(published(world, 'Rollback Performed')).toHaveLength(0);
      expect([...world.deadLetters.values()].flat()).toHaveLength(1);
    });
  });
});

describe('IAM in the local world', () => {
  let broken: ReturnType<typeof synthesizeAssembly>;
  beforeAll(() => {
    broken = synthesizeAssembly(withoutAction('ecs:UpdateService'));
  });
  afterAll(() => broken.remove());

  it("fails with AccessDenied when the function's policy lacks a permission it uses, and changes nothing", async () => {
    const s = await suspectDeployment(broken);
    world = s.world;
    await s.app.setAlarm(s.alarms.successRate, 'ALARM', 'success rate');
    await world.advance(4 * MIN); // both Lambda retries
    const attempts = world.endpoint.calls.filter(
      (c) => c.operation === 'UpdateService' && c.error === 'AccessDeniedException',
    );
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(world.deliveries.find((d) => !d.result.ok)?.result.error?.message).toContain(
      'is not authorized to perform: ecs:UpdateService',
    );
    expect(s.app.running(s.app.api).taskDefinition).toBe(s.rev2);
    expect(published(world, 'Rollback Performed')).toHaveLength(0);
    expect([...world.deadLetters.values()].flat()).toHaveLength(1);
  });
});

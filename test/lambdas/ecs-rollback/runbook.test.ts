import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DIGEST, fakeEcs, SERVICE, SERVICE_ARN, td } from './fake-ecs.ts';
import {
  config,
  deploymentEvent,
  fire,
  freshHistory,
  h,
  MIN,
  performed,
  run,
  T0,
  useRollbackHarness,
} from './harness.ts';

useRollbackHarness();

describe('ecs-rollback runbook', () => {
  describe('records known-good history', () => {
    it('records a completed deployment with its definition and the digests ECS resolved', async () => {
      const state = await h.store.load(SERVICE_ARN);
      const rev1 = state.revisions.find((r) => r.taskDefinitionArn === td(1));
      expect(rev1).toMatchObject({ origin: 'deployment', imageDigests: { app: DIGEST(1) } });
      expect(JSON.parse(rev1?.taskDefinitionJson ?? '{}')).toMatchObject({
        family: SERVICE,
        containerDefinitions: [{ name: 'app' }],
      });
    });

    it('keeps the first time a deployment became primary when its events arrive again or out of order', async () => {
      await run(deploymentEvent('SERVICE_DEPLOYMENT_IN_PROGRESS', 'ecs-svc/2', T0));
      const rev2 = (await h.store.load(SERVICE_ARN)).revisions.find((r) => r.deploymentId === 'ecs-svc/2');
      expect(rev2?.primarySince).toBe(T0 - 30 * MIN);
    });
  });

  describe('keeps its state under the agreed keys', () => {
    it('keeps history under ecs-rollback#<serviceArn> and the claim alone under claim#<serviceArn>', async () => {
      await run(fire('webhooks-api-5xx-rate-high', T0 - MIN));
      const keysOf = async (pk: string) =>
        (
          await h.table.documents.send(
            new QueryCommand({
              TableName: h.tableName,
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
    it('rolls back exactly once for 100 concurrent deliveries of one alarm; those that found it in flight fail and their retries succeed', async () => {
      const event = fire('webhooks-api-5xx-rate-high', T0 - MIN);
      const results = await Promise.allSettled(Array.from({ length: 100 }, () => run(event)));
      expect(h.world.state.updates).toEqual([{ taskDefinition: td(1), alarmsEnabled: undefined }]);
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
      // A delivery that saw the claim in flight is never "already handled": it fails, and Lambda retries it.
      for (const r of results) {
        if (r.status === 'rejected') expect((r.reason as Error).name).toBe('ClaimBusyError');
        else if (r.value.result.outcome !== 'performed')
          expect(r.value.result.reason).toContain('already handled: rolled back');
      }
      h.now += 60_000;
      const retries = await Promise.all(results.filter((r) => r.status === 'rejected').map(() => run(event)));
      for (const r of retries) expect(r.result.reason).toContain('already handled: rolled back');
      expect(h.world.state.updates).toHaveLength(1);
      expect(performed()).toHaveLength(1);
    });

    it('rolls back once when two different alarms of the service arrive together', async () => {
      const events = [
        fire('webhooks-api-5xx-rate-high', T0 - MIN),
        fire('webhooks-api-unhealthy-hosts', T0 - MIN + 10_000),
      ];
      const results = await Promise.allSettled(events.map((e) => run(e)));
      h.now += 60_000;
      for (const [i, r] of results.entries()) if (r.status === 'rejected') await run(events[i]);
      expect(h.world.state.updates).toHaveLength(1);
      expect(performed()).toHaveLength(1);
    });

    it('answers a late duplicate with "already handled" and changes nothing', async () => {
      const event = fire('webhooks-api-5xx-rate-high', T0 - MIN);
      await run(event);
      h.now += 5 * MIN;
      const again = await run(event);
      expect(again.result).toMatchObject({
        outcome: 'skipped',
        reason: expect.stringContaining('already handled'),
      });
      expect(h.world.state.updates).toHaveLength(1);
    });

    it('publishes exactly once and does not update again when PutEvents failed after UpdateService', async () => {
      h.bus.control.failNext = 1;
      const event = fire('webhooks-api-5xx-rate-high', T0 - MIN);
      await expect(run(event)).rejects.toThrow('boom');
      expect(h.world.state.updates).toHaveLength(1);
      expect(performed()).toHaveLength(0);
      h.now += 60_000; // the Lambda retry arrives a minute later
      const retry = await run(event);
      expect(retry.result.outcome).toBe('performed');
      expect(h.world.state.updates).toHaveLength(1);
      expect(performed()).toHaveLength(1);
      // Both attempts name the same action: the alert router deduplicates on detail.eventKey.
      const keys = h.bus.attempted
        .filter((e) => e.detailType === 'Rollback Performed')
        .map((e) => e.detail.eventKey);
      expect(keys).toEqual([
        `ecs-rollback#${performed()[0]?.detail.serviceArn}#${performed()[0]?.detail.episode}#performed`,
        keys[0],
      ]);
    });

    it('resumes a claim whose invocation timed out once its lease has passed', async () => {
      const event = fire('webhooks-api-5xx-rate-high', T0 - MIN);
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
      expect(await h.store.acquire(SERVICE_ARN, claim, undefined, h.now)).toBe(true);
      // While the lease holds, a delivery fails (to be retried): never "already handled".
      await expect(run(event)).rejects.toThrow(/this episode is being rolled back \(stage registered/);
      expect(h.world.state.updates).toHaveLength(0);
      h.now = T0 + 91_000;
      const late = await run(event);
      expect(late.result.outcome).toBe('performed');
      expect(h.world.state.updates).toHaveLength(1);
      expect(performed()).toHaveLength(1);
    });
  });

  describe('never loops', () => {
    it('escalates once, and does not roll back again, when an alarm fires after the rollback', async () => {
      await run(fire('webhooks-api-5xx-rate-high', T0 - MIN));
      h.now = T0 + 5 * MIN;
      h.world.state.rolloutState = 'COMPLETED';
      h.world.state.primaryCreatedAt = new Date(T0);
      await run(deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', 'ecs-svc/1', h.now));
      h.now = T0 + 40 * MIN;
      await run(fire('webhooks-api-5xx-rate-high', T0 + 39 * MIN));
      await run(fire('webhooks-api-unhealthy-hosts', T0 + 39 * MIN + 30_000));
      expect(h.world.state.updates).toHaveLength(1);
      const ineffective = h.bus.published.filter((e) => e.detailType === 'Rollback Ineffective');
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
      await run(fire('webhooks-api-5xx-rate-high', T0 - MIN));
      h.now = T0 + 5 * MIN;
      h.world.state.rolloutState = 'COMPLETED';
      await run(deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', 'ecs-svc/1', h.now));
      h.now = T0 + 40 * MIN;
      h.bus.control.failNext = 1;
      const late = fire('webhooks-api-unhealthy-hosts', T0 + 39 * MIN);
      await expect(run(late)).rejects.toThrow('boom');
      h.now += 60_000;
      await run(late);
      expect(h.bus.published.filter((e) => e.detailType === 'Rollback Ineffective')).toHaveLength(1);
    });

    it('announces a no-action decision once per episode however often the alarm is delivered', async () => {
      h.world.state.controller = 'CODE_DEPLOY';
      const event = fire('webhooks-api-5xx-rate-high', T0 - MIN);
      const first = await Promise.allSettled([run(event), run(event), run(event)]);
      const busy = first.filter((r) => r.status === 'rejected');
      expect(busy.every((r) => (r.reason as Error).name === 'ClaimBusyError')).toBe(true);
      h.now += MIN; // the retries of those that found the announcement in flight
      const retried = await Promise.all(busy.map(() => run(event)));
      const outcomes = [...first.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])), ...retried];
      expect(outcomes.map((r) => r.result.outcome)).toEqual(['skipped', 'skipped', 'skipped']);
      expect(h.bus.published.filter((e) => e.detailType === 'Rollback Skipped')).toHaveLength(1);
    });

    it('sends a no-action announcement on the retry when publishing it failed and releasing it failed too', async () => {
      h.world.state.controller = 'CODE_DEPLOY';
      const event = fire('webhooks-api-5xx-rate-high', T0 - MIN);
      h.bus.control.failNext = 1;
      const store = h.store;
      const release = store.releaseAnnouncement.bind(store);
      store.releaseAnnouncement = async () => {
        store.releaseAnnouncement = release;
        throw Object.assign(new Error('DynamoDB down'), { name: 'InternalServerError' });
      };
      await expect(run(event)).rejects.toThrow(/releasing the announcement failed too/);
      h.now += MIN; // the lease (90 s) still holds: the retry fails again rather than call it handled
      await expect(run(event)).rejects.toThrow(/is announcing the decision/);
      h.now += 2 * MIN;
      expect((await run(event)).result).toMatchObject({ action: 'no-action', outcome: 'skipped' });
      expect(h.bus.published.filter((e) => e.detailType === 'Rollback Skipped')).toHaveLength(1);
    });
  });

  describe('deploys exactly what ran', () => {
    it('re-registers an INACTIVE known-good revision pinned to its recorded digests', async () => {
      const def = h.world.state.definitions.get(td(1));
      if (def) def.status = 'INACTIVE';
      await run(fire('webhooks-api-5xx-rate-high', T0 - MIN));
      expect(h.world.state.registered).toHaveLength(1);
      expect(h.world.state.registered[0]?.containerDefinitions?.[0]?.image).toBe(
        `123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@${DIGEST(1)}`,
      );
      expect(h.world.state.registered[0]?.tags).toContainEqual({
        key: 'nightshift:rollback-of',
        value: td(1),
      });
      expect(h.world.state.updates).toEqual([{ taskDefinition: td(3), alarmsEnabled: undefined }]);
      expect(performed()[0]?.detail).toMatchObject({ to: td(3), knownGood: td(1) });
    });

    it('re-registers a :latest-tagged known-good revision pinned to its recorded digests', async () => {
      h.world.ecs.restore();
      h.world = fakeEcs({ image: () => '123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:latest' });
      await freshHistory();
      await run(fire('webhooks-api-5xx-rate-high', T0 - MIN));
      expect(h.world.state.registered[0]?.containerDefinitions?.[0]?.image).toBe(
        `123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@${DIGEST(1)}`,
      );
      expect(h.world.state.updates.map((u) => u.taskDefinition)).toEqual([td(3)]);
    });
  });

  describe('deployment alarms', () => {
    it('suspends alarm-based rollback for its own deployment and restores it when that completes', async () => {
      h.world.state.deploymentAlarms = {
        alarmNames: ['webhooks-api-5xx-rate-high'],
        enable: true,
        rollback: true,
      };
      await run(fire('webhooks-api-5xx-rate-high', T0 - MIN));
      expect(h.world.state.updates[0]).toEqual({ taskDefinition: td(1), alarmsEnabled: false });
      h.now = T0 + 5 * MIN;
      h.world.state.rolloutState = 'COMPLETED';
      await run(deploymentEvent('SERVICE_DEPLOYMENT_COMPLETED', 'ecs-svc/1', h.now));
      expect(h.world.state.updates[1]).toEqual({ taskDefinition: undefined, alarmsEnabled: true });
      expect(h.world.state.deploymentAlarms.enable).toBe(true);
    });
  });

  describe('stops when told to', () => {
    it.each([
      ['dry-run', { config: { ...config, dryRun: true } }, 'dry-run'],
      ['the kill switch is on', {}, 'kill switch /nightshift/kill-switch is on'],
      ['the kill switch cannot be read', {}, 'could not be read'],
    ])('only plans when %s, and returns the plan', async (what, overrides, reason) => {
      if (what === 'the kill switch is on')
        h.bus.ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'on' } });
      if (what === 'the kill switch cannot be read') {
        h.bus.ssm
          .on(GetParameterCommand)
          .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException', $metadata: {} }));
      }
      const result = await run(fire('webhooks-api-5xx-rate-high', T0 - MIN), 'x', overrides);
      expect(result.plan).toMatchObject({ kind: 'rollback', from: td(2), to: td(1) });
      expect(result.result).toMatchObject({ outcome: 'planned', reason: expect.stringContaining(reason) });
      expect(h.world.state.updates).toHaveLength(0);
      expect(performed()).toHaveLength(0);
    });

    it('acts when the kill switch holds another value', async () => {
      h.bus.ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'off' } });
      await run(fire('webhooks-api-5xx-rate-high', T0 - MIN));
      expect(h.world.state.updates).toHaveLength(1);
    });
  });
});

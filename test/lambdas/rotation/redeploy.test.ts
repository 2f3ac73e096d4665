import { type ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { nightshiftAlert, nightshiftEventSchema } from '../../../lambdas/alerts/nightshift-alert.ts';
import { RotationLocks } from '../../../lambdas/rotation/lock.ts';
import { redeployConsumers, rotateAndRedeploy } from '../../../lambdas/rotation/redeploy.ts';
import { RedeployStore, type StartReader } from '../../../lambdas/rotation/redeploy-store.ts';
import { rotateSecret, type SecretConfig } from '../../../lambdas/rotation/rotate.ts';
import { claimKey } from '../../../lambdas/shared/service-claim.ts';
import {
  clock,
  DAY,
  deps,
  ecs,
  events,
  made,
  operatorEcs,
  operatorSsm,
  plain,
  published,
  secret,
  stateTable,
  T0,
} from './rotation-fixture.ts';

const MIN = 60_000;
const ACCOUNT = '123456789012';

/** An ECS service in the local world, running one revision. */
function service(name: string, cluster = 'prod'): StartReader {
  const family = `${cluster}-${name}`;
  ecs.register({ family, containerDefinitions: [{ name: 'app', image: `${family}:1` }] });
  ecs.createService({ cluster, serviceName: name, taskDefinition: family, desiredCount: 1 });
  return {
    cluster,
    service: name,
    serviceArn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:service/${cluster}/${name}`,
  };
}

/** A due generated secret with these start readers (what the construct passes for `readsAt: 'start'`). */
async function consumed(...names: string[]): Promise<SecretConfig & { startReaders: StartReader[] }> {
  const s = await secret();
  return { ...s, startReaders: names.map((n) => service(`${n}-${made.n}`)) };
}

/** Every UpdateService the local ECS accepted for the service. */
const updatesOf = (r: StartReader) => ecs.updates.filter((u) => u.service === r.service);

/**
 * The ECS client as the function uses it, recording each UpdateService input and the value the plain name
 * returned at that moment (the proof that the redeployment came after finish).
 */
function recordingEcs(parameter: string, fail?: { error: string; when: 'before' | 'after' }) {
  const calls: { input: unknown; plainAtCall?: string }[] = [];
  const client = new Proxy(operatorEcs(), {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return async (cmd: { input: unknown }) => {
        if (cmd instanceof UpdateServiceCommand) {
          const value = (
            await operatorSsm().send(new GetParameterCommand({ Name: parameter, WithDecryption: true }))
          ).Parameter?.Value;
          calls.push({ input: cmd.input, ...(value ? { plainAtCall: value } : {}) });
          if (fail?.when === 'before') throw Object.assign(new Error(fail.error), { name: fail.error });
          const out = await target.send(cmd as never);
          if (fail?.when === 'after') throw Object.assign(new Error(fail.error), { name: fail.error });
          return out;
        }
        return target.send(cmd as never);
      };
    },
  }) as ECSClient;
  return { client, calls };
}

const claimOf = async (r: StartReader) =>
  (
    await stateTable().documents.send(
      new GetCommand({
        TableName: stateTable().tableName,
        Key: claimKey(r.serviceArn),
        ConsistentRead: true,
      }),
    )
  ).Item;
const owed = async (parameter: string) =>
  Object.keys(
    (await new RedeployStore(stateTable().documents, stateTable().tableName).pending(parameter))?.pending ??
      {},
  );
/** A rollback's claim, as the ECS rollback function writes it. */
const putRollbackClaim = (r: StartReader, claim: Record<string, unknown>) =>
  stateTable().documents.send(
    new PutCommand({
      TableName: stateTable().tableName,
      Item: {
        ...claimKey(r.serviceArn),
        kind: 'task-definition',
        episodeId: `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:${r.service}-5xx@${new Date(clock.now()).toISOString()}`,
        alarmName: `${r.service}-5xx`,
        owner: 'rollback-run',
        reason: 'alarm fired after a deployment',
        ...claim,
      },
    }),
  );
const eventsOf = (detailType: string) =>
  events
    .commandCalls(PutEventsCommand)
    .map((c) => c.args[0].input.Entries?.[0])
    .filter((e) => e?.DetailType === detailType)
    .map((e) => ({ ...JSON.parse(String(e?.Detail)), resources: e?.Resources }));

describe('rotation: redeploying the consumers that read at start', () => {
  it('once the plain name returns the new value: one forced deployment of the same revision per start reader, never again', async () => {
    clock.set(T0);
    const s = await consumed('api', 'worker');
    const runTime = service(`reporting-${made.n}`); // reads at run time: not among the start readers
    const [api, worker] = s.startReaders;
    if (!api || !worker) throw new Error('two start readers');
    clock.set(T0 + 91 * DAY);
    const { client, calls } = recordingEcs(s.parameter);
    const out = await rotateAndRedeploy(s, deps({ ecs: client }));
    expect(out.rotation).toMatchObject({ outcome: 'rotated' });
    expect(out.redeploy).toMatchObject({
      outcome: 'worked',
      consumers: [
        { service: `prod/${api.service}`, result: 'redeployed' },
        { service: `prod/${worker.service}`, result: 'redeployed' },
      ],
    });
    const fresh = await plain(s.parameter);
    expect(fresh).not.toBe(`old-value-${made.n}`);
    // Exactly cluster + service + forceNewDeployment: no task definition, count or configuration changed.
    expect(calls.map((c) => c.input)).toEqual([
      { cluster: 'prod', service: api.service, forceNewDeployment: true },
      { cluster: 'prod', service: worker.service, forceNewDeployment: true },
    ]);
    expect(calls.map((c) => c.plainAtCall)).toEqual([fresh, fresh]);
    expect(updatesOf(api)).toEqual([expect.objectContaining({ taskDefinition: undefined })]);
    expect(updatesOf(worker)).toHaveLength(1);
    expect(updatesOf(runTime)).toEqual([]);
    // The claim, as the contract with the rollbacks has it.
    const rotationId = out.rotation.outcome === 'rotated' ? out.rotation.rotationId : '';
    const now = clock.now();
    expect(await claimOf(api)).toEqual({
      ...claimKey(api.serviceArn),
      kind: 'redeploy',
      runbook: 'rotation',
      episodeId: `rotation:${s.parameter}@${rotationId}`,
      stage: 'published',
      owner: expect.any(String),
      leaseUntil: 0,
      claimedAt: now,
      updatedAt: now,
      reason: 'no claim on the service',
      expiresAt: Math.floor(now / 1000) + 86_400,
    });
    expect(published()).toEqual([
      'Rotation Started',
      'Rotation Succeeded',
      'Consumers Redeployed',
      'Consumers Redeployed',
    ]);
    expect(eventsOf('Consumers Redeployed')[0]).toMatchObject({
      severity: 'info',
      parameter: s.parameter,
      service: api.service,
      cluster: 'prod',
      resources: [api.serviceArn],
      eventKey: expect.stringMatching(new RegExp(`^rotation#${s.parameter}#${rotationId}#redeployed-`)),
    });
    expect(await owed(s.parameter)).toEqual([]);
    // Later runs, and a rollback that later takes the claim over and publishes: nothing redeployed again.
    clock.set(now + 60 * MIN);
    expect((await rotateAndRedeploy(s, deps({ ecs: client }))).redeploy).toEqual({ outcome: 'none' });
    clock.set(now + 120 * MIN);
    await rotateAndRedeploy(s, deps({ ecs: client }));
    expect(calls).toHaveLength(2);
    expect(JSON.stringify(events.commandCalls(PutEventsCommand).map((c) => c.args[0].input))).not.toContain(
      String(fresh),
    );
  });

  it('a secret without start readers: nothing redeployed, no claim taken', async () => {
    clock.set(T0);
    const s = await secret();
    const runTime = service(`reporting-${made.n}`);
    clock.set(T0 + 91 * DAY);
    const out = await rotateAndRedeploy(s, deps());
    expect(out).toMatchObject({ rotation: { outcome: 'rotated' }, redeploy: { outcome: 'none' } });
    expect(updatesOf(runTime)).toEqual([]);
    expect(await claimOf(runTime)).toBeUndefined();
  });

  describe('never during a rollback or its cooldown', () => {
    it('a rollback in flight (unfinished, lease live): deferred with a warning, still owed; in its cooldown: deferred again; after it: redeployed', async () => {
      clock.set(T0);
      const s = await consumed('api');
      const [api] = s.startReaders;
      if (!api) throw new Error('one start reader');
      clock.set(T0 + 91 * DAY);
      await putRollbackClaim(api, {
        stage: 'updated',
        leaseUntil: clock.now() + 90_000,
        updatedAt: clock.now(),
      });
      const first = await rotateAndRedeploy(s, deps());
      expect(first.rotation).toMatchObject({ outcome: 'rotated' });
      expect(first.redeploy).toMatchObject({
        outcome: 'worked',
        consumers: [{ result: 'deferred', reason: expect.stringMatching(/rollback .* is in flight/) }],
      });
      expect(updatesOf(api)).toEqual([]);
      expect(await owed(s.parameter)).toEqual([api.serviceArn]);
      const [deferred] = eventsOf('Consumers Redeploy Deferred');
      expect(deferred).toMatchObject({
        severity: 'warning',
        parameter: s.parameter,
        service: api.service,
        resources: [api.serviceArn],
        reason: expect.stringMatching(
          new RegExp(
            `prod/${api.service} reads ${s.parameter} only at start and is not redeployed yet: rollback .* in flight.*7-day grace period`,
          ),
        ),
      });
      // The rollback's claim is left exactly as it was.
      expect(await claimOf(api)).toMatchObject({
        kind: 'task-definition',
        stage: 'updated',
        owner: 'rollback-run',
      });
      // The next scheduled run, the rollback still in flight: the same warning (its key), nothing deployed.
      clock.set(clock.now() + 60_000);
      await rotateAndRedeploy(s, deps());
      expect(new Set(eventsOf('Consumers Redeploy Deferred').map((e) => e.eventKey)).size).toBe(1);
      expect(updatesOf(api)).toEqual([]);
      // The rollback published and completed; its cooldown runs 30 minutes.
      const done = clock.now();
      await putRollbackClaim(api, {
        stage: 'published',
        leaseUntil: done,
        updatedAt: done - 5 * MIN,
        completedAt: done,
        cooldownUntil: done + 30 * MIN,
      });
      clock.set(done + 10 * MIN);
      const cooling = await rotateAndRedeploy(s, deps());
      expect(cooling.redeploy).toMatchObject({
        consumers: [
          {
            result: 'deferred',
            reason: expect.stringContaining(`cooldown until ${new Date(done + 30 * MIN).toISOString()}`),
          },
        ],
      });
      expect(eventsOf('Consumers Redeploy Deferred').at(-1)).toMatchObject({
        deferredUntil: new Date(done + 30 * MIN).toISOString(),
      });
      expect(updatesOf(api)).toEqual([]);
      expect(await owed(s.parameter)).toEqual([api.serviceArn]);
      // The run after the cooldown: redeployed once.
      clock.set(done + 31 * MIN);
      const after = await rotateAndRedeploy(s, deps());
      expect(after).toMatchObject({
        rotation: { outcome: 'not-due' },
        redeploy: { consumers: [{ result: 'redeployed' }] },
      });
      expect(updatesOf(api)).toHaveLength(1);
      expect(await claimOf(api)).toMatchObject({ kind: 'redeploy', stage: 'published' });
      expect(await owed(s.parameter)).toEqual([]);
      expect(published().filter((t) => t === 'Consumers Redeployed')).toHaveLength(1);
    });

    it('a rollback published within its cooldown, before the rotation finished: deferred; the run after the cooldown redeploys', async () => {
      clock.set(T0);
      const s = await consumed('api');
      const [api] = s.startReaders;
      if (!api) throw new Error('one start reader');
      clock.set(T0 + 91 * DAY);
      const now = clock.now();
      await putRollbackClaim(api, {
        kind: 'config',
        stage: 'published',
        leaseUntil: now - MIN,
        updatedAt: now - 10 * MIN,
        failedAt: now - 2 * MIN,
        cooldownUntil: now + 20 * MIN,
      });
      const first = await rotateAndRedeploy(s, deps());
      expect(first.redeploy).toMatchObject({ consumers: [{ result: 'deferred' }] });
      expect(eventsOf('Consumers Redeploy Deferred')).toEqual([
        expect.objectContaining({ reason: expect.stringContaining('is in its cooldown until') }),
      ]);
      expect(updatesOf(api)).toEqual([]);
      clock.set(now + 20 * MIN);
      expect((await rotateAndRedeploy(s, deps())).redeploy).toMatchObject({
        consumers: [{ result: 'redeployed', reason: expect.stringContaining('its cooldown passed') }],
      });
      expect(updatesOf(api)).toHaveLength(1);
    });

    it('a rollback that takes the claim between this run looking and writing: the write loses, deferred, never redeployed', async () => {
      clock.set(T0);
      const s = await consumed('api');
      const [api] = s.startReaders;
      if (!api) throw new Error('one start reader');
      clock.set(T0 + 91 * DAY);
      await rotateSecret(s, deps());
      // The rollback's claim lands just before this run's conditional write (which observed no claim).
      let raced = false;
      const documents = new Proxy(stateTable().documents, {
        get(target, prop, receiver) {
          if (prop !== 'send') return Reflect.get(target, prop, receiver);
          return async (cmd: { input: { Item?: { pk?: string } } }) => {
            if (!raced && cmd instanceof PutCommand && cmd.input.Item?.pk === claimKey(api.serviceArn).pk) {
              raced = true;
              await putRollbackClaim(api, { stage: 'claimed', leaseUntil: clock.now() + 90_000 });
            }
            return target.send(cmd as never);
          };
        },
      }) as DynamoDBDocumentClient;
      const out = await redeployConsumers(
        s,
        deps({ redeploys: new RedeployStore(documents, stateTable().tableName) }),
      );
      expect(raced).toBe(true);
      expect(out).toMatchObject({
        consumers: [{ result: 'deferred', reason: expect.stringContaining('in flight') }],
      });
      expect(updatesOf(api)).toEqual([]);
      expect(await claimOf(api)).toMatchObject({ kind: 'task-definition', owner: 'rollback-run' });
      expect(await owed(s.parameter)).toEqual([api.serviceArn]);
    });

    it('a single-user credential: the deferral warning says its running tasks cannot log in meanwhile', async () => {
      clock.set(T0 + 91 * DAY);
      const api = service(`db-api-${crypto.randomUUID().slice(0, 8)}`);
      const parameter = `/webhooks/db-single-${crypto.randomUUID().slice(0, 8)}`;
      const s: SecretConfig = {
        parameter,
        policy: { kind: 'postgres-single', cadenceDays: 90, graceDays: 7 },
        startReaders: [api],
      };
      // A finished single-user rotation, as `complete` records it.
      await new RotationLocks(stateTable().documents, stateTable().tableName).complete(
        parameter,
        'run-1',
        `${parameter}@2026-12-01T00:00:00.000Z`,
        clock.now(),
        [api],
      );
      await putRollbackClaim(api, { stage: 'claimed', leaseUntil: clock.now() + 90_000 });
      const out = await redeployConsumers(s, deps());
      expect(out).toMatchObject({ consumers: [{ result: 'deferred' }] });
      expect(eventsOf('Consumers Redeploy Deferred')).toEqual([
        expect.objectContaining({
          severity: 'warning',
          reason: expect.stringMatching(
            /cannot log in until then: the single user's old password stopped working/,
          ),
        }),
      ]);
      // As the alert router renders it: a warning about the service, saying what Nightshift did not do yet.
      const entry = events.commandCalls(PutEventsCommand).at(-1)?.args[0].input.Entries?.[0];
      const raw = {
        source: 'nightshift',
        'detail-type': entry?.DetailType,
        time: new Date(clock.now()).toISOString(),
        region: 'eu-west-1',
        account: ACCOUNT,
        resources: entry?.Resources ?? [],
        detail: JSON.parse(String(entry?.Detail)),
      };
      const alert = nightshiftAlert(nightshiftEventSchema.parse(raw), clock.now(), raw.detail);
      expect(alert).toMatchObject({
        severity: 'warning',
        title: `Consumers Redeploy Deferred: ${api.service}`,
        service: api.service,
        resource: api.serviceArn,
        action: expect.stringContaining('did not redeploy this consumer yet'),
        reason: expect.stringContaining('cannot log in'),
      });
    });
  });

  describe('concurrency', () => {
    it('20 concurrent runs of a due secret: one rotation, one UpdateService per consumer', async () => {
      clock.set(T0);
      const s = await consumed('api', 'worker');
      clock.set(T0 + 91 * DAY);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, () => rotateAndRedeploy(s, deps())),
      );
      expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
      // Whatever a run found busy, the next run settles (and redeploys nothing twice).
      await rotateAndRedeploy(s, deps());
      for (const r of s.startReaders) expect(updatesOf(r)).toHaveLength(1);
      expect(await owed(s.parameter)).toEqual([]);
    });

    it('20 concurrent runs on the redeployments a finished rotation owes: one UpdateService per consumer, no warning', async () => {
      clock.set(T0);
      const s = await consumed('api', 'worker');
      clock.set(T0 + 91 * DAY);
      await rotateSecret(s, deps());
      const outcomes = await Promise.all(Array.from({ length: 20 }, () => redeployConsumers(s, deps())));
      for (const r of s.startReaders) expect(updatesOf(r)).toHaveLength(1);
      const results = outcomes.flatMap((o) =>
        o.outcome === 'worked' ? o.consumers.map((c) => c.result) : [],
      );
      expect(results.filter((r) => r === 'redeployed')).toHaveLength(2);
      expect(results.every((r) => ['redeployed', 'already-redeployed', 'busy'].includes(r))).toBe(true);
      expect(published().filter((t) => t === 'Consumers Redeploy Deferred')).toEqual([]);
      expect(published().filter((t) => t === 'Consumers Redeployed')).toHaveLength(2);
    });
  });

  describe('faults never read as "redeployed"', () => {
    it('the claim write fails: no UpdateService, no Consumers Redeployed, the run fails, still owed; the next run redeploys once', async () => {
      clock.set(T0);
      const s = await consumed('api');
      const [api] = s.startReaders;
      if (!api) throw new Error('one start reader');
      clock.set(T0 + 91 * DAY);
      const failing = new Proxy(stateTable().documents, {
        get(target, prop, receiver) {
          if (prop !== 'send') return Reflect.get(target, prop, receiver);
          return async (cmd: { input: { Item?: { pk?: string } } }) => {
            if (cmd instanceof PutCommand && cmd.input.Item?.pk?.startsWith('claim#')) {
              throw Object.assign(new Error('Throughput exceeds the current capacity'), {
                name: 'ProvisionedThroughputExceededException',
              });
            }
            return target.send(cmd as never);
          };
        },
      }) as DynamoDBDocumentClient;
      await expect(
        rotateAndRedeploy(s, deps({ redeploys: new RedeployStore(failing, stateTable().tableName) })),
      ).rejects.toMatchObject({
        name: 'RedeployError',
        message: expect.stringContaining('ProvisionedThroughputExceeded'),
      });
      expect(updatesOf(api)).toEqual([]);
      expect(published()).not.toContain('Consumers Redeployed');
      expect(eventsOf('Consumers Redeploy Failed')).toEqual([
        expect.objectContaining({ severity: 'warning', reason: expect.stringContaining('did not complete') }),
      ]);
      expect(await owed(s.parameter)).toEqual([api.serviceArn]);
      expect(await claimOf(api)).toBeUndefined();
      clock.set(clock.now() + 60 * MIN);
      await rotateAndRedeploy(s, deps());
      expect(updatesOf(api)).toHaveLength(1);
      expect(await owed(s.parameter)).toEqual([]);
    });

    it("UpdateService fails: the claim's lease ends at once (a rollback need not wait), still owed, redeployed by the next run", async () => {
      clock.set(T0);
      const s = await consumed('api');
      const [api] = s.startReaders;
      if (!api) throw new Error('one start reader');
      clock.set(T0 + 91 * DAY);
      const { client } = recordingEcs(s.parameter, { error: 'ThrottlingException', when: 'before' });
      await expect(rotateAndRedeploy(s, deps({ ecs: client }))).rejects.toMatchObject({
        name: 'RedeployError',
      });
      expect(updatesOf(api)).toEqual([]);
      expect(await claimOf(api)).toMatchObject({
        kind: 'redeploy',
        stage: 'claimed',
        leaseUntil: clock.now() - 1,
      });
      expect(await owed(s.parameter)).toEqual([api.serviceArn]);
      await rotateAndRedeploy(s, deps());
      expect(updatesOf(api)).toHaveLength(1);
      expect(await claimOf(api)).toMatchObject({ stage: 'published' });
    });

    it('UpdateService answers an error after ECS accepted it: the next run redeploys once more (harmless), then never again', async () => {
      clock.set(T0);
      const s = await consumed('api');
      const [api] = s.startReaders;
      if (!api) throw new Error('one start reader');
      clock.set(T0 + 91 * DAY);
      const { client } = recordingEcs(s.parameter, { error: 'TimeoutError', when: 'after' });
      await expect(rotateAndRedeploy(s, deps({ ecs: client }))).rejects.toMatchObject({
        name: 'RedeployError',
      });
      expect(updatesOf(api)).toHaveLength(1);
      expect(published()).not.toContain('Consumers Redeployed');
      expect(await owed(s.parameter)).toEqual([api.serviceArn]);
      await rotateAndRedeploy(s, deps());
      await rotateAndRedeploy(s, deps());
      expect(updatesOf(api)).toHaveLength(2);
      expect(await owed(s.parameter)).toEqual([]);
    });

    it('a crash after UpdateService, before the claim is published: busy while its lease lives, then redeployed once more', async () => {
      clock.set(T0);
      const s = await consumed('api');
      const [api] = s.startReaders;
      if (!api) throw new Error('one start reader');
      clock.set(T0 + 91 * DAY);
      await rotateSecret(s, deps());
      // The state a crash right after UpdateService leaves: the claim this run took, never published.
      const dying = new Proxy(stateTable().documents, {
        get(target, prop, receiver) {
          if (prop !== 'send') return Reflect.get(target, prop, receiver);
          return async (cmd: { input: { Key?: { pk?: string } } }) => {
            if (cmd.constructor.name === 'UpdateCommand' && cmd.input.Key?.pk?.startsWith('claim#')) {
              throw Object.assign(new Error('crash'), { name: 'Crash' });
            }
            return target.send(cmd as never);
          };
        },
      }) as DynamoDBDocumentClient;
      await redeployConsumers(
        s,
        deps({ redeploys: new RedeployStore(dying, stateTable().tableName), leaseMs: 60_000 }),
      );
      expect(updatesOf(api)).toHaveLength(1);
      expect(await claimOf(api)).toMatchObject({
        kind: 'redeploy',
        stage: 'claimed',
        leaseUntil: clock.now() + 60_000,
      });
      expect(await owed(s.parameter)).toEqual([api.serviceArn]);
      // Its lease lives: another run leaves it alone (no warning, still owed).
      expect(await redeployConsumers(s, deps())).toMatchObject({ consumers: [{ result: 'busy' }] });
      expect(updatesOf(api)).toHaveLength(1);
      clock.set(clock.now() + 2 * MIN);
      await rotateAndRedeploy(s, deps());
      await rotateAndRedeploy(s, deps());
      expect(updatesOf(api)).toHaveLength(2);
      expect(await claimOf(api)).toMatchObject({ stage: 'published' });
      expect(await owed(s.parameter)).toEqual([]);
    });
  });

  it('the kill switch on, or a dry run: planned, nothing deployed, still owed', async () => {
    clock.set(T0);
    const s = await consumed('api');
    const [api] = s.startReaders;
    if (!api) throw new Error('one start reader');
    clock.set(T0 + 91 * DAY);
    await rotateSecret(s, deps());
    expect(await redeployConsumers(s, deps({ dryRun: true }))).toMatchObject({
      outcome: 'planned',
      reason: expect.stringContaining('dry run'),
    });
    await operatorSsm().send(
      new PutParameterCommand({
        Name: '/nightshift/kill-switch',
        Value: 'on',
        Type: 'String',
        Overwrite: true,
      }),
    );
    try {
      expect(await redeployConsumers(s, deps())).toMatchObject({ outcome: 'planned' });
    } finally {
      await operatorSsm().send(
        new PutParameterCommand({
          Name: '/nightshift/kill-switch',
          Value: 'off',
          Type: 'String',
          Overwrite: true,
        }),
      );
    }
    expect(updatesOf(api)).toEqual([]);
    expect(await owed(s.parameter)).toEqual([api.serviceArn]);
  });

  it('a newer rotation replaces the list an older one left owed: one redeployment serves both', async () => {
    clock.set(T0);
    const s = await consumed('api');
    const [api] = s.startReaders;
    if (!api) throw new Error('one start reader');
    const locks = new RotationLocks(stateTable().documents, stateTable().tableName);
    await locks.complete(s.parameter, 'run-1', 'r1', clock.now(), [api]);
    await locks.complete(s.parameter, 'run-2', 'r2', clock.now(), [api]);
    await redeployConsumers(s, deps());
    expect(updatesOf(api)).toHaveLength(1);
    expect(await claimOf(api)).toMatchObject({ episodeId: `rotation:${s.parameter}@r2` });
    await stateTable().documents.send(
      new DeleteCommand({
        TableName: stateTable().tableName,
        Key: { pk: `rotation#${s.parameter}`, sk: 'state' },
      }),
    );
  });
});

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { claimTtlMs } from '../../../lambdas/ecs-rollback/config.ts';
import type { RollbackClaim } from '../../../lambdas/ecs-rollback/model.ts';
import { SERVICE_ARN, td } from './fake-ecs.ts';
import { config, fire, h, MIN, performed, run, T0, useDocuments, useRollbackHarness } from './harness.ts';

useRollbackHarness();

type Transition = 'acquire' | 'registered' | 'updated' | 'published' | 'release';
type Mode = 'throw' | 'timeout';

/** Which claim write a command is, or undefined for any other command. */
function transitionOf(command: { input: Record<string, unknown> }): Transition | undefined {
  const input = command.input as {
    Item?: { pk?: string };
    Key?: { pk?: string };
    ConditionExpression?: string;
    ExpressionAttributeValues?: Record<string, unknown>;
  };
  const key = input.Item?.pk ?? input.Key?.pk;
  if (!key?.startsWith('claim#')) return undefined;
  if (input.Item) return 'acquire';
  if (input.ConditionExpression?.includes('#stage <> :published')) return 'release';
  const values = Object.values(input.ExpressionAttributeValues ?? {});
  for (const stage of ['registered', 'updated', 'published'] as const) {
    if (input.ConditionExpression === '#owner = :owner' && values.includes(stage)) return stage;
  }
  return undefined;
}

/**
 * DynamoDB failing at one claim transition: `throw` fails the write before it lands, `timeout` lets it land
 * and loses the answer. `times` writes of that transition fail; `thenDown` fails every write after it, until
 * the invocation ends (the retry loop brings DynamoDB back).
 */
function faultyDocuments(at: Transition, mode: Mode, options: { times?: number; thenDown?: boolean } = {}) {
  const real = h.table.documents;
  const fault = { left: options.times ?? 1, down: false, fired: 0 };
  const fail = () =>
    Object.assign(new Error(`injected ${mode} at ${at}`), {
      name: mode === 'timeout' ? 'TimeoutError' : 'InternalServerError',
      $retryable: {},
    });
  const documents = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return async (command: { input: Record<string, unknown> }) => {
        const writes = !(command instanceof QueryCommand);
        if (fault.down && writes) throw fail();
        if (fault.left > 0 && transitionOf(command) === at) {
          fault.left -= 1;
          fault.fired += 1;
          if (options.thenDown) fault.down = true;
          if (mode === 'timeout') await target.send(command as never);
          throw fail();
        }
        return target.send(command as never);
      };
    },
  }) as DynamoDBDocumentClient;
  useDocuments(documents);
  return fault;
}

/** Lambda's asynchronous invocation: the first attempt and two retries, about 1 and 2 minutes apart. */
async function deliverWithRetries(event: unknown, fault?: { down: boolean }) {
  const errors: string[] = [];
  for (const delay of [0, 60_000, 120_000]) {
    h.now += delay;
    if (fault) fault.down = false;
    try {
      const result = await run(event);
      return { result, errors };
    } catch (error) {
      errors.push((error as Error).name);
    }
  }
  return { result: undefined, errors };
}

const transitions: Transition[] = ['acquire', 'registered', 'updated', 'published', 'release'];
const modes: Mode[] = ['throw', 'timeout'];

describe('ecs-rollback act-once under DynamoDB faults', () => {
  describe.each(transitions.flatMap((t) => modes.map((m) => [t, m] as const)))(
    'DynamoDB fails at %s (%s)',
    (at, mode) => {
      it('ends, after retries, with exactly one UpdateService and one Rollback Performed', async () => {
        const event = fire('webhooks-api-5xx-rate-high', T0 - MIN);
        // A release happens only after a failure: PutEvents failing once makes act release its lease.
        if (at === 'release') h.bus.control.failNext = 1;
        const fault = faultyDocuments(at, mode);
        const { result, errors } = await deliverWithRetries(event);
        expect(fault.fired).toBe(1);
        expect(result?.result.outcome).toBe('performed');
        expect(errors).not.toContain('ClaimLostError');
        expect(h.world.state.updates).toEqual([{ taskDefinition: td(1), alarmsEnabled: undefined }]);
        expect(performed()).toHaveLength(1);
      });
    },
  );

  describe.each(['acquire', 'registered', 'updated', 'release'] as const)(
    'DynamoDB down from %s to the end of the invocation (finding 2)',
    (at) => {
      it('never answers "already handled": the retry fails while the lease holds, then resumes', async () => {
        const event = fire('webhooks-api-5xx-rate-high', T0 - MIN);
        if (at === 'release') h.bus.control.failNext = 1;
        const fault = faultyDocuments(at, 'throw', { thenDown: true });
        const { result, errors } = await deliverWithRetries(event, fault);
        expect(fault.fired).toBe(1);
        expect(result?.result.outcome).toBe('performed');
        expect(result?.result.reason).not.toContain('already handled');
        expect(errors.length).toBeGreaterThanOrEqual(1);
        expect(h.world.state.updates).toEqual([{ taskDefinition: td(1), alarmsEnabled: undefined }]);
        expect(performed()).toHaveLength(1);
      });
    },
  );

  it('fails (for a retry) instead of "already handled" when the release failed and the lease still holds', async () => {
    const event = fire('webhooks-api-5xx-rate-high', T0 - MIN);
    h.bus.control.failNext = 1;
    faultyDocuments('release', 'throw');
    await expect(run(event)).rejects.toMatchObject({ name: 'RollbackIncompleteError' });
    h.now += 60_000; // the first retry: the lease (90 s) has not run out
    await expect(run(event)).rejects.toMatchObject({ name: 'ClaimBusyError' });
    expect(performed()).toHaveLength(0);
    h.now += 120_000;
    expect((await run(event)).result.outcome).toBe('performed');
    expect(performed()).toHaveLength(1);
    expect(h.world.state.updates).toHaveLength(1);
  });
});

describe('ecs-rollback stale claims (finding 3)', () => {
  const stale = (stage: RollbackClaim['stage']): RollbackClaim => ({
    episodeId:
      'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:webhooks-api-old@2026-11-17T10:00:00.000+0000',
    alarmName: 'webhooks-api-old',
    episodeStart: T0 - 3 * 24 * 60 * MIN,
    stage,
    leaseUntil: stage === 'published' ? 0 : T0 - 3 * 24 * 60 * MIN + 90_000,
    owner: 'dead-invocation',
    fromTaskDefinitionArn: td(9),
    toTaskDefinitionArn: td(8),
    deployTaskDefinitionArn: stage === 'claimed' ? undefined : td(8),
    pin: false,
    suspendDeploymentAlarms: false,
    reason: 'an old rollback',
    updatedAt: stage === 'updated' || stage === 'published' ? T0 - 3 * 24 * 60 * MIN : undefined,
  });

  it.each(['claimed', 'registered', 'updated', 'published'] as const)(
    'a %s claim whose lease (and cooldown) passed does not block the next episode',
    async (stage) => {
      expect(await h.store.acquire(SERVICE_ARN, stale(stage), undefined, T0 - 3 * 24 * 60 * MIN)).toBe(true);
      const result = await run(fire('webhooks-api-5xx-rate-high', T0 - MIN));
      expect(result.result.outcome).toBe('performed');
      expect(h.world.state.updates).toEqual([{ taskDefinition: td(1), alarmsEnabled: undefined }]);
      expect(performed()).toHaveLength(1);
      expect((await h.store.loadClaim(SERVICE_ARN))?.stage).toBe('published');
    },
  );

  it('gives every claim a TTL of at least the bake window plus the cooldown', async () => {
    await run(fire('webhooks-api-5xx-rate-high', T0 - MIN));
    const out = await h.table.documents.send(
      new QueryCommand({
        TableName: h.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `claim#${SERVICE_ARN}` },
      }),
    );
    const expiresAt = Number(out.Items?.[0]?.expiresAt);
    const atLeast = (config.bakeWindowMinutes + config.cooldownMinutes) * 60;
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(h.now / 1000) + atLeast);
    expect(expiresAt * 1000).toBeLessThanOrEqual(h.now + claimTtlMs(config) + 1000);
  });
});

describe("ecs-rollback re-registers from ECS's own copy (finding 4)", () => {
  it('ignores a forged rev# JSON for a revision ECS still describes (INACTIVE)', async () => {
    const def = h.world.state.definitions.get(td(1));
    if (def) def.status = 'INACTIVE';
    const rev1 = (await h.store.load(SERVICE_ARN)).revisions.find((r) => r.taskDefinitionArn === td(1));
    if (!rev1) throw new Error('no record of revision 1');
    const forged = JSON.parse(rev1.taskDefinitionJson ?? '{}');
    forged.containerDefinitions[0].image = 'attacker.example.com/backdoor:latest';
    await h.store.putRevision(SERVICE_ARN, { ...rev1, taskDefinitionJson: JSON.stringify(forged) }, h.now);

    await run(fire('webhooks-api-5xx-rate-high', T0 - MIN));
    expect(h.world.state.registered).toHaveLength(1);
    const images = (h.world.state.registered[0]?.containerDefinitions ?? []).map((c) => c.image);
    expect(images.join(' ')).not.toContain('attacker.example.com');
    expect(images[0]).toMatch(/^123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/api@sha256:/);
    expect(h.world.state.updates).toEqual([{ taskDefinition: td(3), alarmsEnabled: undefined }]);
  });
});

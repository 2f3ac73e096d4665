import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { InvalidClaimError, parseClaimItem } from '../../../lambdas/ecs-rollback/claim-item.ts';
import { claimKey } from '../../../lambdas/shared/service-claim.ts';
import { SERVICE_ARN } from './fake-ecs.ts';
import { fire, h, history, itemCount, MIN, run, T0, useRollbackHarness } from './harness.ts';

const rollback = {
  episodeId: 'e',
  owner: 'o',
  stage: 'published',
  leaseUntil: 0,
  alarmName: 'webhooks-api-5xx-rate-high',
  episodeStart: T0,
  fromTaskDefinitionArn: 'arn:from',
  toTaskDefinitionArn: 'arn:to',
  pin: false,
  suspendDeploymentAlarms: false,
  reason: 'r',
};

describe('the claim item is checked before it is believed', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown kind', { ...rollback, kind: 'redeploy-v2' }, 'kind is "redeploy-v2"'],
    ['an unknown stage', { ...rollback, stage: 'done' }, 'stage is "done"'],
    [
      'a rollback without its target',
      { ...rollback, toTaskDefinitionArn: undefined },
      'toTaskDefinitionArn is undefined',
    ],
    [
      'a lease that is not a number',
      { ...rollback, leaseUntil: '9999999999999' },
      'leaseUntil is "9999999999999"',
    ],
    ['a config claim without its part', { ...rollback, kind: 'config' }, 'config is undefined'],
    [
      'a config part with a bad version',
      {
        ...rollback,
        kind: 'config',
        config: {
          parameter: '/p',
          fromVersion: 'x',
          toVersion: 1,
          latestVersion: 2,
          readsAt: 'start',
          cacheTtlMs: 0,
        },
      },
      'config.fromVersion is "x"',
    ],
    [
      'a config part read at an unknown time',
      {
        ...rollback,
        kind: 'config',
        config: {
          parameter: '/p',
          fromVersion: 2,
          toVersion: 1,
          latestVersion: 2,
          readsAt: 'boot',
          cacheTtlMs: 0,
        },
      },
      'config.readsAt is "boot"',
    ],
  ])('%s: an InvalidClaimError naming the field and value', (_what, item, field) => {
    const parse = () => parseClaimItem(SERVICE_ARN, item);
    expect(parse).toThrow(InvalidClaimError);
    expect(parse).toThrow(field);
  });

  it("accepts the claims Nightshift writes: a rollback's, a config rollback's, a rotation's redeploy", () => {
    expect(parseClaimItem(SERVICE_ARN, rollback).episodeId).toBe('e');
    const config = {
      parameter: '/p',
      fromVersion: 2,
      toVersion: 1,
      latestVersion: 2,
      readsAt: 'start',
      cacheTtlMs: 0,
    };
    expect(parseClaimItem(SERVICE_ARN, { ...rollback, kind: 'config', config }).kind).toBe('config');
    const redeploy = {
      kind: 'redeploy',
      episodeId: 'rotation:/p@r',
      owner: 'o',
      stage: 'claimed',
      leaseUntil: 1,
      reason: 'r',
      claimedAt: 1,
    };
    expect(parseClaimItem(SERVICE_ARN, redeploy).kind).toBe('redeploy');
  });
});

describe('a forged claim in the table', () => {
  useRollbackHarness();

  it('fails the alarm with a clear error (retried, then the failure destination) and changes nothing', async () => {
    await history();
    await h.documents.send(
      new PutCommand({
        TableName: h.tableName,
        Item: { ...claimKey(SERVICE_ARN), ...rollback, kind: 'redeploy-v2' },
      }),
    );
    const items = await itemCount();
    h.now = T0;
    const failed = await run(fire('webhooks-api-5xx-rate-high', T0 - MIN)).catch((e: Error) => e);
    expect((failed as Error).name).toBe('InvalidClaimError');
    expect((failed as Error).message).toContain('not one Nightshift wrote: kind is "redeploy-v2"');
    expect(h.world.state.updates).toHaveLength(0);
    expect(await itemCount()).toBe(items);
  });
});

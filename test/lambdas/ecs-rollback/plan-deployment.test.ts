import { describe, expect, it } from 'vitest';
import type { DeploymentView, RollbackClaim } from '../../../lambdas/ecs-rollback/model.ts';
import {
  type DeploymentObservation,
  type DeploymentPlan,
  planDeployment,
} from '../../../lambdas/ecs-rollback/plan-deployment.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.parse('2026-11-20T09:00:00.000Z');
const td = (rev: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/webhooks-api:${rev}`;

const deployment = (rev: number, status: string, createdAt: number): DeploymentView => ({
  id: `ecs-svc/${rev}`,
  status,
  taskDefinitionArn: td(rev),
  createdAt,
  rolloutState: status === 'PRIMARY' ? 'IN_PROGRESS' : 'COMPLETED',
});

/** rev 2 deploying since T0 over rev 1; the event arrives a minute later. */
function observe(overrides: Partial<DeploymentObservation> = {}): DeploymentObservation {
  return {
    now: T0 + MIN,
    bakeMs: 2 * HOUR,
    bakeWindowMinutes: 120,
    eventName: 'SERVICE_DEPLOYMENT_COMPLETED',
    deploymentId: 'ecs-svc/2',
    reportedAt: T0 + 50_000,
    service: {
      name: 'api',
      arn: 'arn:aws:ecs:eu-west-1:123456789012:service/webhooks-prod/webhooks-api',
      controller: 'ECS',
      deployments: [deployment(2, 'PRIMARY', T0), deployment(1, 'ACTIVE', T0 - 3 * HOUR)],
    },
    revisions: [
      {
        deploymentId: 'ecs-svc/1',
        taskDefinitionArn: td(1),
        primarySince: T0 - 3 * HOUR,
        origin: 'deployment',
      },
    ],
    ...overrides,
  };
}

/** Nightshift rolled back rev 3 → rev 2 (deployed as rev 2) at T0 − 1 min. */
const claim = (o: Partial<RollbackClaim> = {}): RollbackClaim => ({
  episodeId: 'e',
  alarmName: 'webhooks-api-5xx-rate-high',
  episodeStart: T0 - 5 * MIN,
  stage: 'published',
  leaseUntil: 0,
  owner: 'x',
  fromTaskDefinitionArn: td(3),
  toTaskDefinitionArn: td(2),
  deployTaskDefinitionArn: td(2),
  pin: false,
  suspendDeploymentAlarms: true,
  reason: 'r',
  updatedAt: T0 - MIN,
  ...o,
});

describe('planDeployment', () => {
  it.each<[string, Partial<DeploymentObservation>, Partial<DeploymentPlan> & Record<string, unknown>]>([
    [
      'a completed deployment becomes a candidate, completed when ECS says',
      {},
      {
        kind: 'record-candidate',
        origin: 'deployment',
        completedAt: T0 + 50_000,
        completeRollback: undefined,
      },
    ],
    [
      'a completion ECS dates before the deployment existed is taken at its creation',
      { reportedAt: T0 - HOUR },
      { kind: 'record-candidate', completedAt: T0 },
    ],
    [
      "Nightshift's own rollback deployment inherits known-good, and its completion is noted",
      { claim: claim() },
      {
        kind: 'record-candidate',
        origin: 'rollback',
        inheritsFrom: td(2),
        completeRollback: { restoreDeploymentAlarms: true, episodeId: 'e' },
      },
    ],
    [
      "Nightshift's rollback whose completion was already noted is only recorded",
      { claim: claim({ completedAt: T0 + 30_000 }) },
      { kind: 'record-candidate', origin: 'rollback', completeRollback: undefined },
    ],
    [
      "a later deployment of the same revision (a restart after Nightshift's completed) is not Nightshift's own",
      { claim: claim({ completedAt: T0 - 30_000 }) },
      {
        kind: 'record-candidate',
        origin: 'deployment',
        inheritsFrom: undefined,
        completeRollback: undefined,
      },
    ],
    [
      'an event for a deployment ECS no longer shows is not recorded',
      { deploymentId: 'ecs-svc/9' },
      { kind: 'skip', action: 'record-candidate', reason: expect.stringContaining('no longer current') },
    ],
    [
      'a deployment becoming primary is recorded, with no bootstrap when history exists',
      { eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS' },
      {
        kind: 'record-deployment',
        bootstrap: [],
        reason: 'webhooks-api:2 became primary (deployment ecs-svc/2)',
      },
    ],
    [
      'the first deployment seen bootstraps the revisions it replaces',
      { eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', revisions: [] },
      { kind: 'record-deployment', bootstrap: [deployment(1, 'ACTIVE', T0 - 3 * HOUR)] },
    ],
    [
      "another deployment's failure is only noted",
      { eventName: 'SERVICE_DEPLOYMENT_FAILED', eventReason: 'circuit breaker' },
      { kind: 'skip', action: 'deployment-failed', reason: 'deployment ecs-svc/2 failed: circuit breaker' },
    ],
    [
      "the failure of Nightshift's own rollback deployment pages",
      { eventName: 'SERVICE_DEPLOYMENT_FAILED', claim: claim() },
      {
        kind: 'rollback-failed',
        deployed: td(2),
        restoreDeploymentAlarms: true,
        reason:
          "Nightshift's rollback deployment of webhooks-api:2 failed (deployment ecs-svc/2); ECS may have returned to webhooks-api:3",
      },
    ],
    [
      "a failed deployment ECS already removed is Nightshift's while its rollback is recent",
      { eventName: 'SERVICE_DEPLOYMENT_FAILED', deploymentId: 'ecs-svc/9', claim: claim() },
      { kind: 'rollback-failed' },
    ],
    [
      "a failed deployment ECS already removed is not Nightshift's a bake window after its rollback",
      {
        eventName: 'SERVICE_DEPLOYMENT_FAILED',
        deploymentId: 'ecs-svc/9',
        claim: claim(),
        now: T0 + 3 * HOUR,
      },
      { kind: 'skip', action: 'deployment-failed' },
    ],
    [
      'a failure after the rollback completed is not a failed rollback',
      { eventName: 'SERVICE_DEPLOYMENT_FAILED', claim: claim({ completedAt: T0 }) },
      { kind: 'skip', action: 'deployment-failed' },
    ],
    [
      "a failure during a rotation's redeployment (a deployment ECS already removed) is not a failed rollback",
      {
        eventName: 'SERVICE_DEPLOYMENT_FAILED',
        deploymentId: 'ecs-svc/gone',
        claim: {
          kind: 'redeploy',
          episodeId: 'rotation:/p@r1',
          stage: 'published',
          owner: 'o',
          leaseUntil: 0,
          reason: 'r',
          updatedAt: T0,
        } as never,
      },
      { kind: 'skip', action: 'deployment-failed' },
    ],
    [
      'a failure already paged is not paged again',
      { eventName: 'SERVICE_DEPLOYMENT_FAILED', claim: claim({ failedAt: T0 }) },
      { kind: 'skip' },
    ],
    [
      'a failure while the rollback claim is not yet published is only noted',
      { eventName: 'SERVICE_DEPLOYMENT_FAILED', claim: claim({ stage: 'updated' }) },
      { kind: 'skip' },
    ],
  ])('%s', (_what, overrides, expected) => {
    expect(planDeployment(observe(overrides))).toMatchObject(expected);
  });
});

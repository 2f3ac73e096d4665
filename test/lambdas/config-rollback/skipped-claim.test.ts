import { describe, expect, it } from 'vitest';
import type { RevisionRecord, RollbackClaim } from '../../../lambdas/ecs-rollback/model.ts';
import { planAlarm } from '../../../lambdas/ecs-rollback/plan.ts';
import { planRedeploy } from '../../../lambdas/rotation/redeploy-plan.ts';

const MIN = 60_000;
const BAKE = 120 * MIN;
const T = Date.parse('2026-11-20T10:00:00.000Z');
const ARN = (r: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/api:${r}`;

/** A config rollback decided against part-way an hour ago (the parameter changed under it): nothing deployed. */
const skipped: RollbackClaim = {
  kind: 'config',
  episodeId: 'e0',
  alarmName: 'a',
  episodeStart: T - 60 * MIN,
  stage: 'published',
  leaseUntil: 0,
  owner: 'o',
  fromTaskDefinitionArn: ARN(1),
  toTaskDefinitionArn: ARN(1),
  pin: false,
  suspendDeploymentAlarms: false,
  reason: '/app/T changed after the rollback was planned',
  skipped: true,
  completedAt: T - 59 * MIN,
  cooldownUntil: T - 59 * MIN,
  config: {
    parameter: '/app/T',
    fromVersion: 2,
    toVersion: 1,
    latestVersion: 2,
    readsAt: 'start',
    cacheTtlMs: 0,
  },
};
const revisions: RevisionRecord[] = [
  {
    deploymentId: 'd1',
    taskDefinitionArn: ARN(1),
    primarySince: T - 5 * 60 * MIN,
    completedAt: T - 5 * 60 * MIN + 5 * MIN,
    origin: 'deployment',
  },
  {
    deploymentId: 'd2',
    taskDefinitionArn: ARN(2),
    primarySince: T - 30 * MIN,
    completedAt: T - 25 * MIN,
    origin: 'deployment',
  },
];

const TARGET = { taskDefinitionArn: ARN(1), status: 'ACTIVE', mutableImages: [] };

/** An alarm of api (on rev 2, deployed 30 minutes ago) planned with `claim` on record. */
function planWith(
  alarm: { readonly name: string; readonly id: string; readonly start: number },
  claim: RollbackClaim,
  target?: typeof TARGET,
) {
  return planAlarm({
    now: T,
    rules: {
      bakeMs: BAKE,
      cooldownMs: 30 * MIN,
      leaveInProgressToEcs: true,
      deploymentAlarmConflict: 'suspend',
    },
    service: {
      name: 'api',
      arn: 'svc',
      controller: 'ECS',
      deployments: [
        {
          id: 'd2',
          status: 'PRIMARY',
          taskDefinitionArn: ARN(2),
          createdAt: T - 30 * MIN,
          rolloutState: 'COMPLETED',
        },
      ],
    },
    episode: { alarmName: alarm.name, alarmArn: `arn${alarm.name}`, start: alarm.start, id: alarm.id },
    revisions,
    alarmWindows: [{ alarmName: alarm.name, start: alarm.start }],
    claim,
    ...(target ? { target } : {}),
  });
}

describe('a skipped config rollback changed nothing and holds nothing up', () => {
  it("does not defer a rotation's redeployment", () => {
    expect(planRedeploy({ claim: skipped, episodeId: 'rotation:/p@r1', owner: 'me', now: T }).do).not.toBe(
      'defer',
    );
  });

  it("does not swallow a new deployment's alarm as part of its episode", () => {
    const plan = planWith({ name: 'b', id: 'e-new', start: T - MIN }, skipped, TARGET);
    expect(plan).toMatchObject({ kind: 'rollback', from: ARN(2), to: ARN(1) });
  });

  it('owns no other alarm, even one that entered ALARM before the skip was decided', () => {
    const plan = planWith(
      { name: 'b', id: 'e-b', start: T - 59.5 * MIN },
      { ...skipped, completedAt: T - 59 * MIN },
      TARGET,
    );
    expect(plan).not.toMatchObject({ duplicate: true });
  });

  it('its own episode is still already handled (a repeat delivery says skipped)', () => {
    const plan = planWith({ name: 'a', id: 'e0', start: T - 60 * MIN }, skipped);
    expect(plan).toMatchObject({ kind: 'no-action', duplicate: true });
    expect(plan.reason).toContain('already handled: skipped');
  });
});

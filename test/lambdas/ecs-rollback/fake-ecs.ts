import {
  CloudWatchClient,
  DescribeAlarmHistoryCommand,
  type DescribeAlarmHistoryCommandInput,
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandInput,
} from '@aws-sdk/client-cloudwatch';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type TaskDefinition,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';
export const CLUSTER = 'webhooks-prod';
export const SERVICE = 'webhooks-api';
export const SERVICE_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${CLUSTER}/${SERVICE}`;
export const td = (rev: number, family = SERVICE) =>
  `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${rev}`;
export const DIGEST = (rev: number) => `sha256:${String(rev).repeat(64).slice(0, 64)}`;

/**
 * Minimal stateful ECS behind aws-sdk-client-mock: revisions, one service with a primary deployment,
 * running tasks with digests. Enough for act to be judged by what ECS ends up running.
 */
export function fakeEcs(options: { image?: (rev: number) => string } = {}) {
  const image =
    options.image ?? ((rev: number) => `123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@${DIGEST(rev)}`);
  const definitions = new Map<string, TaskDefinition>();
  const register = (input: RegisterTaskDefinitionCommandInput): TaskDefinition => {
    const revision = [...definitions.values()].filter((d) => d.family === input.family).length + 1;
    const def: TaskDefinition = {
      ...input,
      taskDefinitionArn: td(revision, input.family),
      revision,
      status: 'ACTIVE',
    } as TaskDefinition;
    definitions.set(def.taskDefinitionArn ?? '', def);
    return def;
  };
  for (const rev of [1, 2]) {
    register({
      family: SERVICE,
      containerDefinitions: [{ name: 'app', image: image(rev), essential: true }],
      taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/webhooks-api-task`,
    });
  }
  const state = {
    primary: td(2),
    primaryCreatedAt: new Date(0),
    rolloutState: 'COMPLETED',
    controller: 'ECS',
    deploymentAlarms: undefined as undefined | { alarmNames: string[]; enable: boolean; rollback: boolean },
    updates: [] as { taskDefinition?: string; alarmsEnabled?: boolean; force?: boolean }[],
    /** The primary deployment's id when a forced deployment replaced it (else `ecs-svc/<revision>`). */
    deploymentId: undefined as string | undefined,
    /** The fake's clock for forced deployments' creation times. */
    now: () => 0,
    registered: [] as RegisterTaskDefinitionCommandInput[],
    definitions,
  };
  const ecs = mockClient(ECSClient);
  ecs.on(DescribeServicesCommand).callsFake(async () => ({
    services: [
      {
        serviceArn: SERVICE_ARN,
        serviceName: SERVICE,
        deploymentController: { type: state.controller },
        deploymentConfiguration: state.deploymentAlarms
          ? { maximumPercent: 200, minimumHealthyPercent: 100, alarms: state.deploymentAlarms }
          : { maximumPercent: 200, minimumHealthyPercent: 100 },
        deployments: [
          {
            id: state.deploymentId ?? `ecs-svc/${state.primary.split(':').at(-1)}`,
            status: 'PRIMARY',
            taskDefinition: state.primary,
            createdAt: state.primaryCreatedAt,
            rolloutState: state.rolloutState,
          },
        ],
      },
    ],
  }));
  ecs.on(DescribeTaskDefinitionCommand).callsFake(async (input: { taskDefinition: string }) => {
    const def = definitions.get(input.taskDefinition);
    if (!def)
      throw Object.assign(new Error('Unable to describe task definition.'), {
        name: 'ClientException',
        $metadata: {},
      });
    return { taskDefinition: def };
  });
  ecs.on(RegisterTaskDefinitionCommand).callsFake(async (input: RegisterTaskDefinitionCommandInput) => {
    state.registered.push(input);
    return { taskDefinition: register(input) };
  });
  ecs
    .on(UpdateServiceCommand)
    .callsFake(
      async (input: {
        taskDefinition?: string;
        forceNewDeployment?: boolean;
        deploymentConfiguration?: { alarms?: { enable?: boolean } };
      }) => {
        state.updates.push({
          taskDefinition: input.taskDefinition,
          alarmsEnabled: input.deploymentConfiguration?.alarms?.enable,
          ...(input.forceNewDeployment ? { force: true } : {}),
        });
        if (input.forceNewDeployment) {
          state.deploymentId = `ecs-svc/forced-${state.updates.filter((u) => u.force).length}`;
          state.primaryCreatedAt = new Date(state.now());
          state.rolloutState = 'IN_PROGRESS';
        }
        if (input.taskDefinition) {
          const def = definitions.get(input.taskDefinition);
          if (def?.status !== 'ACTIVE') {
            throw Object.assign(new Error('TaskDefinition is inactive'), {
              name: 'ClientException',
              $metadata: {},
            });
          }
          state.primary = input.taskDefinition;
          state.deploymentId = undefined;
          state.rolloutState = 'IN_PROGRESS';
        }
        if (input.deploymentConfiguration?.alarms && state.deploymentAlarms) {
          state.deploymentAlarms = {
            ...state.deploymentAlarms,
            enable: input.deploymentConfiguration.alarms.enable ?? false,
          };
        }
        return {};
      },
    );
  ecs.on(ListTasksCommand).resolves({ taskArns: [`arn:aws:ecs:${REGION}:${ACCOUNT}:task/${CLUSTER}/t1`] });
  ecs.on(DescribeTasksCommand).callsFake(async () => {
    const rev = Number(state.primary.split(':').at(-1));
    return {
      tasks: [{ taskDefinitionArn: state.primary, containers: [{ name: 'app', imageDigest: DIGEST(rev) }] }],
    };
  });
  return { ecs, state };
}

/** EventBridge and SSM mocks: events captured, kill switch value settable. */
export function fakeBusAndSsm() {
  const events = mockClient(EventBridgeClient);
  const published: { detailType: string; detail: Record<string, unknown> }[] = [];
  /** Every entry PutEvents was given, the failed calls' included. */
  const attempted: { detailType: string; detail: Record<string, unknown> }[] = [];
  const control = { failNext: 0 };
  events
    .on(PutEventsCommand)
    .callsFake(async (input: { Entries: { DetailType: string; Detail: string }[] }) => {
      for (const e of input.Entries)
        attempted.push({ detailType: e.DetailType, detail: JSON.parse(e.Detail) });
      if (control.failNext > 0) {
        control.failNext -= 1;
        throw Object.assign(new Error('boom'), { name: 'InternalException', $metadata: {} });
      }
      for (const e of input.Entries)
        published.push({ detailType: e.DetailType, detail: JSON.parse(e.Detail) });
      return { FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'e' })) };
    });
  const ssm = mockClient(SSMClient);
  ssm
    .on(GetParameterCommand)
    .rejects(Object.assign(new Error('not found'), { name: 'ParameterNotFound', $metadata: {} }));
  return { events, ssm, published, attempted, control };
}

/**
 * CloudWatch behind aws-sdk-client-mock: alarms with their state and last transition, and the history of
 * every transition (kept after a delete, as CloudWatch does). Pages of two, so callers must paginate.
 */
export function fakeCloudWatch() {
  const alarms = new Map<string, { state: string; transitionedAt: number }>();
  const history: { name: string; at: number; to: string }[] = [];
  const cloudwatch = mockClient(CloudWatchClient);
  const page = <T>(items: T[], token: string | undefined) => {
    const start = Number(token ?? 0);
    const next = start + 2 < items.length ? String(start + 2) : undefined;
    return { items: items.slice(start, start + 2), next };
  };
  cloudwatch.on(DescribeAlarmsCommand).callsFake(async (input: DescribeAlarmsCommandInput) => {
    const names = (input.AlarmNames ?? []).filter((n) => alarms.has(n));
    const { items, next } = page(names, input.NextToken);
    return {
      MetricAlarms: items.map((name) => ({
        AlarmName: name,
        AlarmArn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`,
        StateValue: alarms.get(name)?.state,
        StateTransitionedTimestamp: new Date(alarms.get(name)?.transitionedAt ?? 0),
      })),
      CompositeAlarms: [],
      NextToken: next,
    };
  });
  cloudwatch.on(DescribeAlarmHistoryCommand).callsFake(async (input: DescribeAlarmHistoryCommandInput) => {
    const from = input.StartDate?.getTime() ?? 0;
    const to = input.EndDate?.getTime() ?? Number.POSITIVE_INFINITY;
    const matching = history.filter(
      (h) =>
        h.name === input.AlarmName && h.at >= from && h.at <= to && input.HistoryItemType === 'StateUpdate',
    );
    const { items, next } = page(matching.reverse(), input.NextToken);
    return {
      AlarmHistoryItems: items.map((h) => ({
        AlarmName: h.name,
        AlarmType: 'MetricAlarm' as const,
        Timestamp: new Date(h.at),
        HistoryItemType: 'StateUpdate' as const,
        HistorySummary: `Alarm updated to ${h.to}`,
        HistoryData: JSON.stringify({ version: '1.0', newState: { stateValue: h.to } }),
      })),
      NextToken: next,
    };
  });
  return {
    cloudwatch,
    alarms,
    history,
    /** The alarm changes state, as CloudWatch records it. */
    transition(name: string, to: string, at: number) {
      alarms.set(name, { state: to, transitionedAt: at });
      history.push({ name, at, to });
    },
    /** The alarm is deleted; its history stays. */
    remove(name: string) {
      alarms.delete(name);
    },
  };
}

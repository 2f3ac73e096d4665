import { fileURLToPath } from 'node:url';
import { Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { RUNBOOK_ENV, type RunbookEnvVariables } from '#shared/env';
import { NIGHTSHIFT_ROLE_PATH } from './bus-policy.ts';
import type { StateTable } from './state-table.ts';

/** What every runbook shares: where it keeps state, publishes, reads the kill switch, parks failures, alerts. */
export interface RunbookCommonProps {
  readonly stateTable: StateTable;
  readonly eventBus: events.IEventBus;
  /** The SSM parameter the stack never creates; the function may only read it. */
  readonly killSwitchParameter: string;
  /** Queue that receives events whose invocation failed after all retries. */
  readonly deadLetterQueue: sqs.IQueue;
  /** Topic the function's error alarm notifies. */
  readonly alarmTopic: sns.ITopic;
  /** Days audit entries are kept. @default 400 */
  readonly auditRetentionDays?: number;
  /** Days the function's logs are kept. @default 90 */
  readonly logRetentionDays?: number;
}

/**
 * The state-table partitions a function may touch (`dynamodb:LeadingKeys`). Besides these, every function
 * may add entries to its own audit partition `audit#<runbook>` and read them back (PutItem and Query there,
 * no Update or Delete). No function is ever granted Scan or PartiQL: they carry no partition key, so a
 * `ForAllValues` condition on `dynamodb:LeadingKeys` would hold for them vacuously.
 *
 * @example { own: ['ecs-rollback#*', 'claim#*'] }
 */
export interface StateKeys {
  /**
   * Partition keys the function reads and writes (GetItem, Query, PutItem, UpdateItem, DeleteItem,
   * ConditionCheckItem), as IAM `StringLike` patterns, e.g. `['ecs-rollback#*', 'claim#*']`.
   */
  readonly own: readonly string[];
  /** Partition keys the function may only read (GetItem, Query), e.g. `['audit#*']` for a digest. @default none */
  readonly readOnly?: readonly string[];
}

/** What every runbook's runtime config holds besides its own settings; the construct fills it in. */
export interface CommonRuntimeConfig {
  readonly auditRetentionDays: number;
}

/**
 * The settings a construct passes for runtime config `C` (what the house wrapper adds, left out). With no
 * `C` given it is `never`: a function without its runtime's type would otherwise accept any settings.
 */
export type RunbookSettings<C extends CommonRuntimeConfig> = [C] extends [never]
  ? never
  : Omit<C, keyof CommonRuntimeConfig>;

/**
 * Properties of a {@link RunbookFunction}. `C` is the runtime config type the function parses (its
 * schema's `z.infer`), so a setting the construct drops, adds or mistypes fails `tsc`.
 */
export interface RunbookFunctionProps<C extends CommonRuntimeConfig = never> {
  /** Runbook name; also names the function's folder under `lambdas/` and its audit partition `audit#<runbook>`. */
  readonly runbook: string;
  readonly common: RunbookCommonProps;
  /** The state-table partitions this function owns; nothing else in the table is readable or writable. */
  readonly stateKeys: StateKeys;
  /** The runbook's own configuration, passed as JSON in `NIGHTSHIFT_RUNBOOK_CONFIG`. */
  readonly runbookConfig: RunbookSettings<C>;
  /** @default Duration.seconds(60) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** Environment variables besides the ones the house wrapper sets. @default {} */
  readonly environment?: Record<string, string>;
  /** Files shipped beside the bundle (name in the asset → source path), e.g. a CA bundle. @default none */
  readonly bundleFiles?: Record<string, string>;
  /**
   * How long EventBridge keeps retrying delivery of an event to the function (the rule target's maximum
   * event age). With the function's own asynchronous maximum event age and the clock skew it bounds how old
   * an event's time can be in a real delivery; older events are refused.
   * @default Duration.hours(1)
   */
  readonly ruleTargetMaxEventAge?: Duration;
  /** Lambda's asynchronous maximum event age (Lambda's own default is 6 hours). @default Duration.hours(1) */
  readonly maxEventAge?: Duration;
}

/** Clock skew allowed between an event's time and the function's clock, ahead of now. */
export const CLOCK_SKEW = Duration.minutes(5);

/** Where the Lambda sources live, whether Nightshift is this app or a dependency of another one. */
export function handlerEntry(runbook: string): string {
  return fileURLToPath(new URL(`../lambdas/${runbook}/handler.ts`, import.meta.url));
}

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * The house Lambda: Node.js 24 on ARM64, the AWS SDK bundled and minified into an ES module with source
 * maps, JSON logs kept for a set time, a timeout, failed async events to a DLQ, and an alarm on errors.
 */
export class RunbookFunction<C extends CommonRuntimeConfig = never> extends Construct {
  readonly function: NodejsFunction;
  readonly errorAlarm: cloudwatch.Alarm;
  /** How long EventBridge may keep an event for this function before it gives up (to the DLQ). */
  readonly ruleTargetMaxEventAge: Duration;
  private readonly deadLetterQueue: sqs.IQueue;

  constructor(scope: Construct, id: string, props: RunbookFunctionProps<C>) {
    super(scope, id);
    const { common } = props;
    this.deadLetterQueue = common.deadLetterQueue;
    this.ruleTargetMaxEventAge = props.ruleTargetMaxEventAge ?? Duration.hours(1);
    const maxEventAge = props.maxEventAge ?? Duration.hours(1);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: retentionOf(props.common.logRetentionDays ?? 90),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Its own role with write access to its own log group only, instead of the managed basic-execution policy.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      // The path the event bus policy exempts: only Nightshift's roles may publish as source nightshift.
      path: NIGHTSHIFT_ROLE_PATH,
      description: `Nightshift ${props.runbook} runbook`,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    this.function = new NodejsFunction(this, 'Function', {
      role,
      entry: handlerEntry(props.runbook),
      projectRoot,
      depsLockFilePath: `${projectRoot}package-lock.json`,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(60),
      loggingFormat: lambda.LoggingFormat.JSON,
      logGroup,
      description: `Nightshift runbook: ${props.runbook}`,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: `nightshift-${props.runbook}`,
        ...props.environment,
        // Last, so that no extra variable can override the typed contract.
        ...this.runbookEnvironment(props, maxEventAge),
      },
      retryAttempts: 2,
      maxEventAge,
      onFailure: new SqsDestination(props.common.deadLetterQueue),
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // Bundle the SDK instead of taking the runtime's copy: the version tested is the version run.
        externalModules: [],
        mainFields: ['module', 'main'],
        // Some bundled CommonJS dependencies call require() for Node built-ins.
        banner:
          "import{createRequire as __nsCreateRequire}from'node:module';const require=__nsCreateRequire(import.meta.url);",
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_input: string, output: string) =>
            Object.entries(props.bundleFiles ?? {}).map(
              ([name, source]) => `cp "${source}" "${output}/${name}"`,
            ),
        },
      },
    });
    this.errorAlarm = new cloudwatch.Alarm(this, 'Errors', {
      // A name known at synth: the alert router's rule and config name Nightshift's own alarms.
      alarmName: `${Names.uniqueResourceName(this, { separator: '-', maxLength: 240 })}-errors`,
      alarmDescription: `Nightshift ${props.runbook} failed: see its logs; failed events are in the DLQ`,
      metric: this.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.errorAlarm.addAlarmAction(new cwActions.SnsAction(props.common.alarmTopic));

    // What every runbook may do: keep state, publish its events, read (never write) the kill switch.
    this.bindStateTable(common.stateTable, props.runbook, props.stateKeys);
    common.eventBus.grantPutEventsTo(this.function);
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadKillSwitch',
        actions: ['ssm:GetParameter'],
        resources: [
          Stack.of(this).formatArn({
            service: 'ssm',
            resource: 'parameter',
            resourceName: common.killSwitchParameter.replace(/^\//, ''),
          }),
        ],
      }),
    );
  }

  /** The variables the runtime reads (`readRunbookEnvironment`), every one of them. */
  private runbookEnvironment(props: RunbookFunctionProps<C>, maxEventAge: Duration): RunbookEnvVariables {
    const { common } = props;
    const config = { auditRetentionDays: common.auditRetentionDays ?? 400, ...props.runbookConfig };
    return {
      [RUNBOOK_ENV.stateTableName]: common.stateTable.table.tableName,
      [RUNBOOK_ENV.eventBusName]: common.eventBus.eventBusName,
      [RUNBOOK_ENV.killSwitchParameter]: common.killSwitchParameter,
      [RUNBOOK_ENV.account]: Stack.of(this).account,
      [RUNBOOK_ENV.region]: Stack.of(this).region,
      // The oldest a real delivery can be: EventBridge's retries, then Lambda's async queue, plus skew.
      [RUNBOOK_ENV.maxEventAgeSeconds]: String(
        this.ruleTargetMaxEventAge.toSeconds() + maxEventAge.toSeconds() + CLOCK_SKEW.toSeconds(),
      ),
      [RUNBOOK_ENV.clockSkewSeconds]: String(CLOCK_SKEW.toSeconds()),
      [RUNBOOK_ENV.runbookConfig]: Stack.of(this).toJsonString(config),
    };
  }

  /**
   * The function as an EventBridge rule target: undeliverable events go to the DLQ, and delivery gives up
   * after {@link ruleTargetMaxEventAge} (the bound the function checks event times against).
   */
  ruleTarget(retryAttempts = 8): targets.LambdaFunction {
    return new targets.LambdaFunction(this.function, {
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts,
      maxEventAge: this.ruleTargetMaxEventAge,
    });
  }

  /**
   * Grants the function its own items of the state table, and only those (see {@link StateKeys}), and tells
   * it where the table is. Each statement pairs `ForAllValues` with a `Null` check on `dynamodb:LeadingKeys`,
   * so even a keyless request (were Scan ever added to a list) is refused.
   */
  private bindStateTable(table: StateTable, runbook: string, keys: StateKeys): void {
    const onKeys = (operator: string, patterns: readonly string[]) => ({
      [operator]: { 'dynamodb:LeadingKeys': [...patterns] },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    });
    const statement = (sid: string, actions: string[], conditions: Record<string, unknown>) =>
      this.function.addToRolePolicy(
        new iam.PolicyStatement({
          sid,
          actions: actions.map((a) => `dynamodb:${a}`),
          resources: [table.table.tableArn],
          conditions,
        }),
      );
    if (keys.own.length > 0) {
      statement(
        'StateOwnItems',
        ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem'],
        onKeys('ForAllValues:StringLike', keys.own),
      );
    }
    // Append-only as far as IAM can make it: PutItem (which could overwrite) but no UpdateItem or DeleteItem.
    // Entries are not overwritten because each has a random sort key and is written on attribute_not_exists.
    statement(
      'AppendOwnAuditEntries',
      ['PutItem', 'Query'],
      onKeys('ForAllValues:StringEquals', [`audit#${runbook}`]),
    );
    if (keys.readOnly !== undefined && keys.readOnly.length > 0) {
      statement('ReadOnlyItems', ['GetItem', 'Query'], onKeys('ForAllValues:StringLike', keys.readOnly));
    }
  }
}

function retentionOf(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays).filter(
    (v): v is number => typeof v === 'number' && v > 0,
  );
  const fit = allowed.sort((a, b) => a - b).find((v) => v >= days);
  return (fit ?? logs.RetentionDays.INFINITE) as logs.RetentionDays;
}

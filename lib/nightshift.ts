import { Annotations, Duration, Names } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AlarmCatalogue } from './alarms/catalogue.ts';
import { Alerts } from './alerts.ts';
import { restrictNightshiftSource } from './bus-policy.ts';
import type { EcsRollbackConfig, NightshiftConfig } from './config/schema.ts';
import { snapshotCapacityWarnings } from './config/snapshot-capacity.ts';
import { EcsRollback } from './ecs-rollback.ts';
import { acknowledgeNag } from './nag.ts';
import { RdsSnapshots } from './rds-snapshots.ts';
import { RestoreVerify } from './restore-verify.ts';
import { Rotation } from './rotation.ts';
import type { RunbookCommonProps } from './runbook-function.ts';
import { StateTable } from './state-table.ts';

/** Properties of {@link Nightshift}. */
export interface NightshiftProps {
  /** Validated configuration (see `validateConfig`). */
  readonly config: NightshiftConfig;
  /** Bus that receives `nightshift` events. @default the account's default event bus */
  readonly eventBus?: events.IEventBus;
}

/**
 * Nightshift in someone else's CDK app: the state table, the DLQ and alerts topic every runbook shares, and
 * each runbook the configuration enables.
 */
export class Nightshift extends Construct {
  readonly stateTable: StateTable;
  readonly deadLetterQueue: sqs.Queue;
  readonly alarmTopic: sns.Topic;
  readonly ecsRollback?: EcsRollback;
  readonly rdsSnapshots?: RdsSnapshots;
  readonly restoreVerify?: RestoreVerify;
  readonly alerts?: Alerts;
  /** The guide's two-tier alarms for what `alarms` names. */
  readonly alarmCatalogue?: AlarmCatalogue;
  readonly rotation?: Rotation;

  constructor(scope: Construct, id: string, props: NightshiftProps) {
    super(scope, id);
    const { config } = props;
    const eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'Bus', 'default');
    this.stateTable = new StateTable(this, 'State');

    const key = new kms.Key(this, 'AlertsKey', {
      description: 'Nightshift: encrypts the alerts topic',
      enableKeyRotation: true,
    });
    // CloudWatch alarm actions publish to the encrypted topic.
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.alarmTopic = new sns.Topic(this, 'Alerts', {
      displayName: 'Nightshift alerts',
      masterKey: key,
      enforceSSL: true,
    });
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeNag(
      this.deadLetterQueue,
      'SQS3',
      'this queue is the dead-letter queue of the runbooks and their rules',
    );
    const dlqAlarm = new cloudwatch.Alarm(this, 'DeadLettersWaiting', {
      alarmName: `${Names.uniqueResourceName(this, { separator: '-', maxLength: 230 })}-dead-letters-waiting`,
      alarmDescription: 'Nightshift events failed after all retries and wait in the DLQ: inspect and redrive',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    dlqAlarm.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));

    const common: RunbookCommonProps = {
      stateTable: this.stateTable,
      eventBus,
      killSwitchParameter: config.killSwitchParameter,
      deadLetterQueue: this.deadLetterQueue,
      alarmTopic: this.alarmTopic,
      auditRetentionDays: config.auditRetentionDays,
      logRetentionDays: config.logRetentionDays,
    };
    const snapshots = config.snapshots;
    if (snapshots) {
      for (const warning of snapshotCapacityWarnings(snapshots)) {
        Annotations.of(this).addWarningV2('nightshift:snapshot-capacity', warning);
      }
    }
    if (snapshots?.enabled) {
      this.rdsSnapshots = new RdsSnapshots(this, 'RdsSnapshots', { ...common, config: snapshots });
    }

    if (snapshots && config.restoreVerify?.enabled) {
      this.restoreVerify = new RestoreVerify(this, 'RestoreVerify', {
        ...common,
        config: config.restoreVerify,
        snapshots,
      });
    }

    if (config.alarms) {
      // Tagged with the key the ECS rollback reads a service from, when it has one.
      this.alarmCatalogue = new AlarmCatalogue(
        this,
        'AlarmCatalogue',
        config.alarms,
        config.ecsRollback?.serviceTagKey,
      );
    }

    const rollback = withCatalogueGuards(config.ecsRollback, this.alarmCatalogue);
    if (rollback?.enabled) {
      this.ecsRollback = new EcsRollback(this, 'EcsRollback', {
        ...common,
        config: rollback,
        // The catalogue's alarms outside the guard tier carry the service tag too: never a rollback trigger.
        notGuarding: this.alarmCatalogue?.notGuarding() ?? [],
        rotatedParameters: config.rotation?.enabled ? config.rotation.secrets.map((s) => s.parameter) : [],
      });
    }

    if (config.rotation?.enabled) {
      this.rotation = new Rotation(this, 'Rotation', { ...common, config: config.rotation });
    }

    if (config.alerts) {
      this.alerts = new Alerts(this, 'AlertRouting', {
        ...common,
        config: config.alerts,
        ownAlarms: [
          { alarm: dlqAlarm, severity: 'warning' },
          ...[this.ecsRollback, this.rdsSnapshots, this.restoreVerify, this.rotation].flatMap((r) =>
            r ? [{ alarm: r.handler.errorAlarm, severity: 'warning' as const }] : [],
          ),
          // A secret that outlived its cadence: the promise broken, not yet an outage.
          ...(this.rotation?.staleAlarms.map((s) => ({ alarm: s.alarm, severity: 'warning' as const })) ??
            []),
          // A missed snapshot run means no backup for a day: that pages.
          ...(this.rdsSnapshots
            ? [{ alarm: this.rdsSnapshots.noRecentRunAlarm, severity: 'critical' as const }]
            : []),
        ],
        ecsRollback: rollback?.enabled ? rollback : undefined,
      });
    }

    restrictNightshiftSource(this, eventBus);
  }
}

/** The rollback config with the guard tier of each catalogue service that guards it added by name. */
function withCatalogueGuards(
  rollback: EcsRollbackConfig | undefined,
  catalogue: AlarmCatalogue | undefined,
): EcsRollbackConfig | undefined {
  if (!rollback || !catalogue) return rollback;
  return {
    ...rollback,
    services: rollback.services.map((s) => {
      const guards = catalogue.guardNames(s.name);
      const have = new Set(s.alarms.flatMap((a) => ('name' in a ? [a.name] : [])));
      return { ...s, alarms: [...s.alarms, ...guards.filter((n) => !have.has(n)).map((name) => ({ name }))] };
    }),
  };
}

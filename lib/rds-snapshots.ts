import { Duration, Names, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { SnapshotRuntimeConfig } from '../lambdas/rds-snapshots/config.ts';
import type { SnapshotsConfig } from './config/schema.ts';
import { acknowledgeNag, nagResource } from './nag.ts';
import { describeDatabasesAndSnapshots, rdsArn as rdsArnOf } from './rds-iam.ts';
import { type RunbookCommonProps, RunbookFunction } from './runbook-function.ts';

/** Properties of {@link RdsSnapshots}. */
export interface RdsSnapshotsProps extends RunbookCommonProps {
  readonly config: SnapshotsConfig;
  /** Targets handled at once. @default 5 */
  readonly concurrency?: number;
}

/**
 * Snapshots RDS instances and Aurora clusters on a schedule with daily/weekly/monthly retention, pruning
 * only Nightshift's own expired snapshots. It may delete only snapshots named `nightshift-*`.
 */
export class RdsSnapshots extends Construct {
  readonly handler: RunbookFunction<SnapshotRuntimeConfig>;
  readonly scheduleRule: events.Rule;
  readonly noRecentRunAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RdsSnapshotsProps) {
    super(scope, id);
    const _stack = Stack.of(this);
    const { config } = props;
    this.handler = new RunbookFunction<SnapshotRuntimeConfig>(this, 'Handler', {
      runbook: 'rds-snapshots',
      common: props,
      // State lives in the snapshots' own tags: no items of its own besides its audit entries.
      stateKeys: { own: [] },
      timeout: Duration.minutes(10),
      memorySize: 512,
      runbookConfig: {
        dryRun: config.dryRun,
        concurrency: props.concurrency ?? 5,
        maxDeletionsPerRun: config.maxDeletionsPerRun,
        requestsPerSecond: config.rdsRequestsPerSecond,
        retention: config.retention,
        quota: { instance: config.quota.manualDbSnapshots, cluster: config.quota.manualClusterSnapshots },
        targets: {
          tag: config.targets.tag,
          instances: config.targets.instances,
          clusters: config.targets.clusters,
        },
      },
    });
    const fn = this.handler.function;
    const rdsArn = (resource: string, name: string) => rdsArnOf(this, resource, name);
    const byTag = config.targets.tag !== undefined;
    const instances = byTag ? [rdsArn('db', '*')] : config.targets.instances.map((i) => rdsArn('db', i));
    const clusters = byTag
      ? [rdsArn('cluster', '*')]
      : config.targets.clusters.map((c) => rdsArn('cluster', c));
    const ownSnapshots = [rdsArn('snapshot', 'nightshift-*'), rdsArn('cluster-snapshot', 'nightshift-*')];

    // Every snapshot it creates carries nightshift:managed=true and only nightshift:* tags; it may tag a
    // snapshot only that way and only while it is not yet Nightshift's (RDS authorizes a create's tags as
    // rds:AddTagsToResource on the new snapshot), and delete only snapshots named nightshift-* that carry
    // the tag. IAM has no key telling a create's tagging from a later AddTagsToResource call (see README).
    const taggedAtCreation = {
      StringEquals: { 'aws:RequestTag/nightshift:managed': 'true' },
      'ForAllValues:StringLike': { 'aws:TagKeys': ['nightshift:*'] },
    };
    const managed = { StringEquals: { 'aws:ResourceTag/nightshift:managed': 'true' } };
    const statement = (sid: string, action: string, resources: string[], conditions: object) =>
      new iam.PolicyStatement({
        sid,
        actions: [`rds:${action}`],
        resources,
        conditions: conditions as Record<string, unknown>,
      });
    const policy = new iam.Policy(this, 'SnapshotPermissions', {
      roles: [fn.role as iam.IRole],
      statements: [
        describeDatabasesAndSnapshots(),
        ...(instances.length > 0
          ? [
              statement(
                'CreateOwnDbSnapshots',
                'CreateDBSnapshot',
                [...instances, rdsArn('snapshot', 'nightshift-*')],
                taggedAtCreation,
              ),
            ]
          : []),
        ...(clusters.length > 0
          ? [
              statement(
                'CreateOwnClusterSnapshots',
                'CreateDBClusterSnapshot',
                [...clusters, rdsArn('cluster-snapshot', 'nightshift-*')],
                taggedAtCreation,
              ),
            ]
          : []),
        statement('TagSnapshotsAtCreation', 'AddTagsToResource', ownSnapshots, {
          ...taggedAtCreation,
          Null: { 'aws:ResourceTag/nightshift:managed': 'true' },
        }),
        statement(
          'DeleteOnlyOwnDbSnapshots',
          'DeleteDBSnapshot',
          [rdsArn('snapshot', 'nightshift-*')],
          managed,
        ),
        statement(
          'DeleteOnlyOwnClusterSnapshots',
          'DeleteDBClusterSnapshot',
          [rdsArn('cluster-snapshot', 'nightshift-*')],
          managed,
        ),
      ],
    });
    acknowledgeNag(
      policy,
      'IAM5',
      "the Describe calls list the Region's databases and snapshots to find tag-selected targets and count manual snapshots against the quota; they read, they change nothing",
      'Resource::*',
    );
    for (const resource of [...ownSnapshots, ...(byTag ? [rdsArn('db', '*'), rdsArn('cluster', '*')] : [])]) {
      acknowledgeNag(
        policy,
        'IAM5',
        resource.includes('nightshift-*')
          ? 'only snapshots named nightshift-*, tagged only as they are created and deleted only when they carry nightshift:managed=true'
          : 'targets are selected by tag at run time, so any database may be snapshotted (never modified or deleted)',
        nagResource(this, resource),
      );
    }

    // Dead-man's switch: no successful snapshot run in 26 hours (a daily schedule plus slack) pages.
    this.noRecentRunAlarm = new cloudwatch.Alarm(this, 'NoSuccessfulRun', {
      alarmName: `${Names.uniqueResourceName(this, { separator: '-', maxLength: 230 })}-no-successful-run`,
      alarmDescription: 'Nightshift RDS snapshots: no successful snapshot run in 26 hours',
      metric: new cloudwatch.Metric({
        namespace: 'Nightshift',
        metricName: 'SnapshotRunSucceeded',
        dimensionsMap: { service: 'rds-snapshots' },
        statistic: 'Sum',
        period: Duration.hours(1),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 26,
      datapointsToAlarm: 26,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.noRecentRunAlarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));

    this.scheduleRule = new events.Rule(this, 'Schedule', {
      description: 'Nightshift RDS snapshots: the snapshot run',
      schedule: events.Schedule.expression(config.schedule),
      targets: [this.handler.ruleTarget()],
    });
  }
}

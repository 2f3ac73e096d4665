import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { VerifyHandlerConfig } from '../lambdas/restore-verify/config.ts';
import type { RestoreVerifyConfig, SnapshotsConfig } from './config/schema.ts';
import { acknowledgeNag, nagResource } from './nag.ts';
import { CA_BUNDLE_NAME, caBundleFileFor } from './rds-ca-bundle.ts';
import { describeDatabasesAndSnapshots, rdsArn as rdsArnOf } from './rds-iam.ts';
import { type RunbookCommonProps, RunbookFunction } from './runbook-function.ts';
import { placeInVpc } from './vpc-function.ts';

/** Properties of {@link RestoreVerify}. */
export interface RestoreVerifyProps extends RunbookCommonProps {
  readonly config: RestoreVerifyConfig;
  /** The snapshot runbook's targets: the databases whose snapshots are verified. */
  readonly snapshots: SnapshotsConfig;
}

/**
 * Proves the snapshots restore: weekly, each target's newest Nightshift snapshot is restored to a temporary
 * `nightshift-verify-*` instance, checked with SQL over TLS, and deleted. A reconciler on a frequent tick,
 * never a waiting Lambda. It may restore, modify and delete only `nightshift-verify-*` instances.
 */
export class RestoreVerify extends Construct {
  readonly handler: RunbookFunction<VerifyHandlerConfig>;
  readonly tickRule: events.Rule;
  /** The CA bundle shipped beside the function's code: `caBundleFile`, or AWS's RDS CAs by default. */
  readonly caBundleFile: string;

  constructor(scope: Construct, id: string, props: RestoreVerifyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { config } = props;
    this.caBundleFile = caBundleFileFor(config.caBundleFile);
    this.handler = new RunbookFunction<VerifyHandlerConfig>(this, 'Handler', {
      runbook: 'restore-verify',
      common: props,
      // Its verification records.
      stateKeys: { own: ['restore-verify', 'restore-verify#*'] },
      timeout: Duration.minutes(5),
      // A tick comes every few minutes: one that could not be delivered soon is not worth delivering late.
      ruleTargetMaxEventAge: Duration.minutes(30),
      maxEventAge: Duration.minutes(30),
      bundleFiles: { [CA_BUNDLE_NAME]: this.caBundleFile },
      environment: { NIGHTSHIFT_RDS_CA_BUNDLE: `/var/task/${CA_BUNDLE_NAME}` },
      runbookConfig: {
        dryRun: config.dryRun,
        schedule: config.schedule,
        targets: {
          tag: props.snapshots.targets.tag,
          instances: props.snapshots.targets.instances,
          clusters: props.snapshots.targets.clusters,
        },
        instanceClass: config.instanceClass,
        clusterInstanceClass: config.clusterInstanceClass,
        subnetGroupName: config.subnetGroupName,
        securityGroupIds: config.securityGroupIds,
        checks: config.checks,
        restoreTimeoutMinutes: config.restoreTimeoutMinutes,
        instanceTtlHours: config.instanceTtlHours,
      },
    });
    const fn = this.handler.function;
    // Inside the application's VPC, to reach the copy; AWS APIs through the VPC's endpoints or NAT.
    placeInVpc(this, fn, config.vpc);

    const rdsArn = (resource: string, name: string) => rdsArnOf(this, resource, name);
    const copies = rdsArn('db', 'nightshift-verify-*');
    const ownSnapshots = rdsArn('snapshot', 'nightshift-*');
    const clusterCopies = rdsArn('cluster', 'nightshift-verify-*');
    const ownClusterSnapshots = rdsArn('cluster-snapshot', 'nightshift-*');
    const parameters = stack.formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: 'nightshift/restore-verify/*',
    });
    // Copies are created tagged (nightshift:* tags only, managed=true) and never publicly accessible; after
    // that, only copies and snapshots carrying nightshift:managed=true may be changed, tagged or deleted.
    const managed = { StringEquals: { 'aws:ResourceTag/nightshift:managed': 'true' } };
    const taggedAtCreation = {
      StringEquals: { 'aws:RequestTag/nightshift:managed': 'true' },
      'ForAllValues:StringLike': { 'aws:TagKeys': ['nightshift:*'] },
    };
    // Absent counts as refused: a create that does not say PubliclyAccessible=false is not allowed.
    const notPublic = { Bool: { 'rds:PubliclyAccessible': 'false' } };
    const statement = (sid: string, actions: string[], resources: string[], conditions?: object) =>
      new iam.PolicyStatement({
        sid,
        actions: actions.map((a) => `rds:${a}`),
        resources,
        ...(conditions === undefined ? {} : { conditions: conditions as Record<string, unknown> }),
      });
    const policy = new iam.Policy(this, 'VerifyPermissions', {
      roles: [fn.role as iam.IRole],
      statements: [
        describeDatabasesAndSnapshots(),
        statement('RestoreIntoPrivateTaggedCopies', ['RestoreDBInstanceFromDBSnapshot'], [copies], {
          ...taggedAtCreation,
          ...notPublic,
        }),
        statement('RestoreOnlyOwnSnapshots', ['RestoreDBInstanceFromDBSnapshot'], [ownSnapshots], managed),
        statement(
          'RestoreWithTheSnapshotsGroups',
          ['RestoreDBInstanceFromDBSnapshot'],
          [rdsArn('og', '*'), rdsArn('pg', '*'), rdsArn('subgrp', config.subnetGroupName)],
        ),
        statement(
          'RestoreIntoTaggedClusterCopies',
          ['RestoreDBClusterFromSnapshot'],
          [clusterCopies],
          taggedAtCreation,
        ),
        statement(
          'RestoreOnlyOwnClusterSnapshots',
          ['RestoreDBClusterFromSnapshot'],
          [ownClusterSnapshots],
          managed,
        ),
        statement(
          'RestoreClustersWithTheSnapshotsGroups',
          ['RestoreDBClusterFromSnapshot'],
          [rdsArn('cluster-pg', '*'), rdsArn('og', '*'), rdsArn('subgrp', config.subnetGroupName)],
        ),
        statement('AddPrivateTaggedInstances', ['CreateDBInstance'], [copies], {
          ...taggedAtCreation,
          ...notPublic,
        }),
        statement('AddInstancesOnlyToTaggedClusterCopies', ['CreateDBInstance'], [clusterCopies], managed),
        statement('AddInstancesWithAParameterGroup', ['CreateDBInstance'], [rdsArn('pg', '*')]),
        // RDS authorizes the tags a create gives as rds:AddTagsToResource on the new copy.
        statement('TagCopiesAtCreation', ['AddTagsToResource'], [copies, clusterCopies], {
          ...taggedAtCreation,
          Null: { 'aws:ResourceTag/nightshift:managed': 'true' },
        }),
        statement('MarkOwnSnapshotsVerified', ['AddTagsToResource'], [ownSnapshots, ownClusterSnapshots], {
          ...managed,
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['nightshift:verified-at'] },
        }),
        statement(
          'ResetAndDeleteOnlyTaggedCopies',
          ['ModifyDBInstance', 'DeleteDBInstance'],
          [copies],
          managed,
        ),
        statement(
          'ResetAndDeleteOnlyTaggedClusterCopies',
          ['ModifyDBCluster', 'DeleteDBCluster'],
          [clusterCopies],
          managed,
        ),
        new iam.PolicyStatement({
          sid: 'OneTimePasswords',
          actions: ['ssm:PutParameter', 'ssm:GetParameter', 'ssm:DeleteParameter'],
          resources: [parameters],
        }),
        new iam.PolicyStatement({
          sid: 'FindOrphanedPasswords',
          // GetParametersByPath is authorized against the path itself, not the parameters under it.
          actions: ['ssm:GetParametersByPath'],
          resources: [
            stack.formatArn({
              service: 'ssm',
              resource: 'parameter',
              resourceName: 'nightshift/restore-verify',
            }),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'UseSnapshotEncryptionKeysThroughRds',
          // Restoring a snapshot encrypted with a customer-managed key needs a grant on it, made through RDS.
          actions: ['kms:CreateGrant', 'kms:DescribeKey'],
          resources: ['*'],
          conditions: { StringEquals: { 'kms:ViaService': `rds.${stack.region}.amazonaws.com` } },
        }),
      ],
    });
    acknowledgeNag(
      policy,
      'IAM5',
      'Describe calls list databases and snapshots (read only); KMS grants only through RDS (kms:ViaService) for whichever key encrypts a snapshot',
      'Resource::*',
    );
    for (const [resource, reason] of [
      [copies, 'only temporary copies named nightshift-verify-*'],
      [ownSnapshots, 'only snapshots Nightshift took (nightshift-*), to restore and tag verified'],
      [rdsArn('og', '*'), "a restore uses the snapshot's option group, whatever its name"],
      [rdsArn('pg', '*'), "a restore uses the snapshot's parameter group, whatever its name"],
      [clusterCopies, 'only temporary Aurora copies named nightshift-verify-*'],
      [ownClusterSnapshots, 'only cluster snapshots Nightshift took (nightshift-*)'],
      [
        rdsArn('cluster-pg', '*'),
        "a cluster restore uses the snapshot's cluster parameter group, whatever its name",
      ],
      [parameters, 'only the one-time passwords of temporary copies'],
    ] as const) {
      acknowledgeNag(policy, 'IAM5', reason, nagResource(this, resource));
    }

    this.tickRule = new events.Rule(this, 'Tick', {
      description: 'Nightshift restore verification: the reconciler tick',
      schedule: events.Schedule.rate(Duration.minutes(config.tickMinutes)),
      targets: [this.handler.ruleTarget(2)],
    });
  }
}

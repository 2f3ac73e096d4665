import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { type Severity, type Tiers, tagCatalogueAlarm } from './service-alarms.ts';

/**
 * Memory (GiB) of the RDS instance classes whose PostgreSQL default `max_connections` is estimated:
 * `LEAST(DBInstanceClassMemory / 9531392, 5000)`. DBInstanceClassMemory is somewhat below the class's
 * memory (RDS keeps some), so the estimate is a little high (2 GiB: 225 here; a db.t2.small shows 198) and the
 * percentage alarms a little late: give `maxConnections` (`SHOW max_connections`) to be exact. Other
 * classes: give it.
 */
const CLASS_MEMORY_GIB: Readonly<Record<string, number>> = {
  'db.t3.micro': 1,
  'db.t3.small': 2,
  'db.t3.medium': 4,
  'db.t3.large': 8,
  'db.t4g.micro': 1,
  'db.t4g.small': 2,
  'db.t4g.medium': 4,
  'db.t4g.large': 8,
  'db.m6g.large': 8,
  'db.m6g.xlarge': 16,
  'db.m6g.2xlarge': 32,
  'db.m7g.large': 8,
  'db.m7g.xlarge': 16,
  'db.r6g.large': 16,
  'db.r6g.xlarge': 32,
  'db.r6g.2xlarge': 64,
  'db.r7g.large': 16,
  'db.r7g.xlarge': 32,
};

/** PostgreSQL's default `max_connections` for an instance class, or undefined for a class not listed. */
export function defaultMaxConnections(instanceClass: string): number | undefined {
  const gib = CLASS_MEMORY_GIB[instanceClass];
  return gib === undefined ? undefined : Math.min(Math.floor((gib * 1024 ** 3) / 9_531_392), 5000);
}

export interface DatabaseAlarmsProps {
  /** The instance or cluster identifier; or `database`, the instance or cluster in your CDK app. */
  readonly instance?: string;
  readonly cluster?: string;
  readonly database?: rds.IDatabaseInstance | rds.IDatabaseCluster;
  /** The `max_connections` the connections percentage is of; else from `instanceClass`. */
  readonly maxConnections?: number;
  readonly instanceClass?: string;
  /** The service its alarms belong to (`nightshift:service`); else the database itself. */
  readonly service?: string;
  /** Connections as a percent of `max_connections`. @default the guide's 80 / 90 */
  readonly connectionsPercent?: Tiers;
  readonly serviceTagKey?: string;
}

export interface CacheAlarmsProps {
  readonly cacheClusterId: string;
  readonly service?: string;
  /** `DatabaseMemoryUsagePercentage`. @default the guide's 70 / 85 */
  readonly memoryPercent?: Tiers;
  readonly serviceTagKey?: string;
}

/** One alarm of a resource, with its tier. */
export interface ResourceAlarm {
  readonly alarm: cloudwatch.Alarm;
  readonly severity: Severity;
  readonly name: string;
}

/**
 * Database connections as a percent of `max_connections` (metric math over `DatabaseConnections`), the
 * guide's 80 % warning and 90 % critical: the 1-minute maximum in 5 of 5 minutes (connection pools fill in
 * bursts; one busy minute is not a page). Missing data is not breaching: an instance that stopped
 * reporting is the availability alarms' to say.
 */
export class DatabaseAlarms extends Construct {
  readonly alarms: ResourceAlarm[] = [];

  constructor(scope: Construct, id: string, props: DatabaseAlarmsProps) {
    super(scope, id);
    const given = props.database;
    const instance =
      props.instance ?? (given && 'instanceIdentifier' in given ? given.instanceIdentifier : undefined);
    const cluster =
      props.cluster ?? (given && 'clusterIdentifier' in given ? given.clusterIdentifier : undefined);
    const target = instance ?? cluster;
    if (target === undefined || (instance !== undefined && cluster !== undefined)) {
      throw new Error('DatabaseAlarms: give exactly one of instance, cluster or database');
    }
    const max =
      props.maxConnections ?? (props.instanceClass ? defaultMaxConnections(props.instanceClass) : undefined);
    if (max === undefined || !(max > 0)) {
      throw new Error(
        `DatabaseAlarms ${target}: maxConnections is needed (instanceClass ${JSON.stringify(props.instanceClass)} has no known default)`,
      );
    }
    const tiers = props.connectionsPercent ?? { warning: 80, critical: 90 };
    const service = props.service ?? target;
    const dimension: Record<string, string> =
      instance !== undefined ? { DBInstanceIdentifier: target } : { DBClusterIdentifier: target };
    for (const severity of ['warning', 'critical'] as const) {
      const name = `${service === target ? target : `${service}-${target}`}-connections-${severity}`;
      const alarm = new cloudwatch.Alarm(this, `connections-${severity}`, {
        alarmName: name,
        alarmDescription: `${target}: connections above ${tiers[severity]}% of max_connections (${max}) for 5 minutes`,
        metric: new cloudwatch.MathExpression({
          expression: `100 * connections / ${max}`,
          usingMetrics: {
            connections: new cloudwatch.Metric({
              namespace: 'AWS/RDS',
              metricName: 'DatabaseConnections',
              dimensionsMap: dimension,
              statistic: 'Maximum',
              period: Duration.minutes(1),
            }),
          },
          period: Duration.minutes(1),
          label: `${target} connections % of ${max}`,
        }),
        threshold: tiers[severity],
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        actionsEnabled: false,
      });
      tagCatalogueAlarm(alarm, severity, service, props.serviceTagKey);
      this.alarms.push({ alarm, severity, name });
    }
  }
}

/**
 * ElastiCache (Redis) memory: `DatabaseMemoryUsagePercentage` above the guide's 70 % / 85 %, the 5-minute
 * maximum in 2 of 3 periods (eviction starts near the top; a sustained climb, not one spike). Missing data
 * is not breaching.
 */
export class CacheAlarms extends Construct {
  readonly alarms: ResourceAlarm[] = [];

  constructor(scope: Construct, id: string, props: CacheAlarmsProps) {
    super(scope, id);
    const tiers = props.memoryPercent ?? { warning: 70, critical: 85 };
    const service = props.service ?? props.cacheClusterId;
    for (const severity of ['warning', 'critical'] as const) {
      const name = `${service === props.cacheClusterId ? service : `${service}-${props.cacheClusterId}`}-cache-memory-${severity}`;
      const alarm = new cloudwatch.Alarm(this, `memory-${severity}`, {
        alarmName: name,
        alarmDescription: `${props.cacheClusterId}: memory above ${tiers[severity]}%, 2 of 3 five-minute periods`,
        metric: new cloudwatch.Metric({
          namespace: 'AWS/ElastiCache',
          metricName: 'DatabaseMemoryUsagePercentage',
          dimensionsMap: { CacheClusterId: props.cacheClusterId },
          statistic: 'Maximum',
          period: Duration.minutes(5),
        }),
        threshold: tiers[severity],
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        actionsEnabled: false,
      });
      tagCatalogueAlarm(alarm, severity, service, props.serviceTagKey);
      this.alarms.push({ alarm, severity, name });
    }
  }
}

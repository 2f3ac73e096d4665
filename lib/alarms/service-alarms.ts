import { Duration, Tags } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';

/** A two-tier threshold: the warning and the critical value. */
export interface Tiers {
  readonly warning: number;
  readonly critical: number;
}

/** The guide's thresholds for an ECS service behind an ALB (each overridable per service). */
export const GUIDE_THRESHOLDS = {
  /** CPU utilization, percent: warning sustained over 15 minutes, critical over 5. */
  cpuPercent: { warning: 70, critical: 85 },
  /** Memory utilization, percent. */
  memoryPercent: { warning: 80, critical: 90 },
  /** Target 5xx responses, percent of requests. */
  errorRatePercent: { warning: 2, critical: 5 },
  /** The app's webhook success rate, percent: below these. */
  successRatePercent: { warning: 98, critical: 95 },
  /** The app's average processing time, milliseconds. */
  processingTimeMs: { warning: 500, critical: 1000 },
} as const satisfies Record<string, Tiers>;

/** One of the app's own metrics, as CloudWatch names it. */
export interface AppMetric {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions?: Readonly<Record<string, string>>;
}

export interface ServiceAlarmsProps {
  /** The service's name in Nightshift (events, the audit log, the `nightshift:service` tag), e.g. `api`. */
  readonly name: string;
  /** The cluster and ECS service names; or `ecsService`, the service in your CDK app. */
  readonly cluster?: string;
  readonly service?: string;
  readonly ecsService?: ecs.IBaseService;
  /**
   * Its ALB target group and load balancer, as CloudWatch names them (`targetgroup/<name>/<id>`,
   * `app/<name>/<id>`): target metrics need both dimensions. Without them, no health or error-rate alarms.
   * Or `targetGroup`, the ALB target group in your CDK app (attached to its load balancer).
   */
  readonly loadBalancer?: { readonly targetGroup: string; readonly loadBalancer: string };
  readonly targetGroup?: elbv2.ApplicationTargetGroup;
  readonly thresholds?: Partial<Record<keyof typeof GUIDE_THRESHOLDS, Tiers>>;
  /** Fewer requests than this in a 5-minute period never raise the error-rate alarms. @default 20 */
  readonly minimumRequests?: number;
  /** The tag key the alert router and ECS rollback read the service from. @default 'nightshift:service' */
  readonly serviceTagKey?: string;
  /** Critical alarms of the service's resources (its database, its cache) its composite covers too. */
  readonly alsoCritical?: readonly cloudwatch.IAlarm[];
  /**
   * The app's own metrics: its success rate (a percentage it publishes) and its processing time (milliseconds,
   * averaged). A success rate needs a count beside it for the minimum-sample guard (`sampleCount`: e.g. the
   * number of webhooks handled, summed).
   */
  readonly appMetrics?: {
    readonly successRate?: AppMetric & { readonly sampleCount: AppMetric };
    readonly processingTime?: AppMetric;
  };
}

export type Severity = 'warning' | 'critical';

/** One alarm of the catalogue, with its tier. */
export interface CatalogueAlarm {
  readonly alarm: cloudwatch.Alarm;
  readonly severity: Severity;
  /** What it watches, e.g. `cpu`. */
  readonly signal: string;
  /** Its name, `<service>-<signal>-<severity>` (a plain string, not a token). */
  readonly name: string;
}

/**
 * The guide's two-tier alarms for one ECS service, and a composite "service unhealthy" over its critical
 * ones. No alarm has actions: Nightshift routes from alarm state-change events (emitted whatever the
 * actions are), the router folds the members into the composite's group, and only the composite pages.
 * Each alarm is tagged `severity` and `nightshift:service`, with tag propagation on so the events carry the
 * tags, and is named `<name>-<signal>-<severity>` (the router also reads the severity from the name).
 */
export class ServiceAlarms extends Construct {
  readonly alarms: CatalogueAlarm[] = [];
  /** Over the critical alarms: the one that pages for an outage. */
  readonly composite: cloudwatch.CompositeAlarm;
  readonly compositeName: string;

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    this.compositeName = `${props.name}-unhealthy-critical`;
    const t = { ...GUIDE_THRESHOLDS, ...props.thresholds };
    for (const [signal, tiers] of Object.entries(t)) {
      if (!(tiers.warning > 0 && tiers.critical > 0)) {
        throw new Error(
          `ServiceAlarms ${props.name}: thresholds.${signal} must be positive (got ${JSON.stringify(tiers)})`,
        );
      }
    }
    const cluster = props.ecsService?.cluster.clusterName ?? props.cluster;
    const serviceName = props.ecsService?.serviceName ?? props.service;
    if (cluster === undefined || serviceName === undefined) {
      throw new Error(`ServiceAlarms ${props.name}: give cluster and service, or ecsService`);
    }
    const dimensions = { ClusterName: cluster, ServiceName: serviceName };
    const ecsMetric = (metricName: string, period: Duration) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ECS',
        metricName,
        dimensionsMap: dimensions,
        statistic: 'Average',
        period,
      });

    // CPU and memory: the warning is "sustained" (three 5-minute averages, 15 minutes), the critical the
    // guide's CloudWatch alarm (five 1-minute averages: 5 minutes). Missing data (no running tasks) is not
    // breaching: an empty service is the health alarms' to report, not a CPU alarm's.
    for (const [signal, metricName, tiers] of [
      ['cpu', 'CPUUtilization', t.cpuPercent],
      ['memory', 'MemoryUtilization', t.memoryPercent],
    ] as const) {
      this.add(props, signal, 'warning', {
        metric: ecsMetric(metricName, Duration.minutes(5)),
        threshold: tiers.warning,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        description: `${props.name}: ${metricName} above ${tiers.warning}% for 15 minutes`,
      });
      this.add(props, signal, 'critical', {
        metric: ecsMetric(metricName, Duration.minutes(1)),
        threshold: tiers.critical,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        description: `${props.name}: ${metricName} above ${tiers.critical}% for 5 minutes`,
      });
    }

    const lb =
      props.loadBalancer ??
      (props.targetGroup
        ? {
            targetGroup: props.targetGroup.targetGroupFullName,
            loadBalancer: props.targetGroup.firstLoadBalancerFullName,
          }
        : undefined);
    if (lb) {
      const alb = { TargetGroup: lb.targetGroup, LoadBalancer: lb.loadBalancer };
      const albMetric = (metricName: string, statistic: string, period = Duration.minutes(1)) =>
        new cloudwatch.Metric({
          namespace: 'AWS/ApplicationELB',
          metricName,
          dimensionsMap: alb,
          statistic,
          period,
        });
      // Health from the load balancer's host counts (the guide's "2 / 5 failed checks", a check a minute):
      // an unhealthy target for 2 minutes warns (the guide's CloudWatch alarm), for 5 minutes is critical;
      // no healthy target for 2 minutes is an outage. The ALB publishes host counts every minute while it
      // exists, so missing data means the metric is gone: breaching for "no healthy host".
      for (const [severity, minutes] of [
        ['warning', 2],
        ['critical', 5],
      ] as const) {
        this.add(props, 'unhealthy-hosts', severity, {
          metric: albMetric('UnHealthyHostCount', 'Maximum'),
          threshold: 0,
          evaluationPeriods: minutes,
          datapointsToAlarm: minutes,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          description: `${props.name}: an unhealthy target for ${minutes} minutes`,
        });
      }
      this.add(props, 'no-healthy-hosts', 'critical', {
        metric: albMetric('HealthyHostCount', 'Minimum'),
        threshold: 1,
        comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        description: `${props.name}: no healthy target for 2 minutes`,
      });
      // Error rate: target 5xx as a percent of requests over 5 minutes, with a minimum-sample guard (metric
      // math): fewer than `minimumRequests` requests is 0 %, so one failed request of one never pages.
      // Two of three periods: a single bad 5 minutes does not alarm. No traffic at all is not breaching.
      const minimum = props.minimumRequests ?? 20;
      const rate = (tier: Severity) =>
        new cloudwatch.MathExpression({
          expression: `IF(requests >= ${minimum}, 100 * errors / requests, 0)`,
          usingMetrics: {
            errors: albMetric('HTTPCode_Target_5XX_Count', 'Sum', Duration.minutes(5)),
            requests: albMetric('RequestCount', 'Sum', Duration.minutes(5)),
          },
          period: Duration.minutes(5),
          label: `${props.name} 5xx % (${tier})`,
        });
      for (const tier of ['warning', 'critical'] as const) {
        this.add(props, 'error-rate', tier, {
          metric: rate(tier),
          threshold: t.errorRatePercent[tier],
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          description: `${props.name}: target 5xx above ${t.errorRatePercent[tier]}% of at least ${minimum} requests, 2 of 3 five-minute periods`,
        });
      }
    }

    this.addAppMetrics(props, t);

    const critical: cloudwatch.IAlarm[] = [
      ...this.alarms.filter((a) => a.severity === 'critical').map((a) => a.alarm),
      ...(props.alsoCritical ?? []),
    ];
    this.composite = new cloudwatch.CompositeAlarm(this, 'Unhealthy', {
      compositeAlarmName: this.compositeName,
      alarmDescription: `${props.name}: service unhealthy (any of its critical alarms)`,
      alarmRule: cloudwatch.AlarmRule.anyOf(...critical),
      actionsEnabled: false,
    });
    tagCatalogueAlarm(this.composite, 'critical', props.name, props.serviceTagKey);
  }

  /**
   * The app's success rate, below the tiers in 2 of 3 five-minute periods, with a minimum-sample guard on
   * the count beside it (under `minimumRequests` handled: 100 %, never an alarm); its processing time,
   * the 5-minute average above the tiers in 2 of 3 periods. Missing data (no traffic) is not breaching.
   */
  private addAppMetrics(props: ServiceAlarmsProps, t: Record<keyof typeof GUIDE_THRESHOLDS, Tiers>): void {
    const app = props.appMetrics;
    const metric = (m: AppMetric, statistic: string) =>
      new cloudwatch.Metric({
        namespace: m.namespace,
        metricName: m.metricName,
        ...(m.dimensions ? { dimensionsMap: { ...m.dimensions } } : {}),
        statistic,
        period: Duration.minutes(5),
      });
    const minimum = props.minimumRequests ?? 20;
    if (app?.successRate) {
      const rate = app.successRate;
      for (const tier of ['warning', 'critical'] as const) {
        this.add(props, 'success-rate', tier, {
          metric: new cloudwatch.MathExpression({
            expression: `IF(handled >= ${minimum}, rate, 100)`,
            usingMetrics: { rate: metric(rate, 'Average'), handled: metric(rate.sampleCount, 'Sum') },
            period: Duration.minutes(5),
            label: `${props.name} success % (${tier})`,
          }),
          threshold: t.successRatePercent[tier],
          comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          description: `${props.name}: success rate below ${t.successRatePercent[tier]}% of at least ${minimum} handled, 2 of 3 five-minute periods`,
        });
      }
    }
    if (app?.processingTime) {
      for (const tier of ['warning', 'critical'] as const) {
        this.add(props, 'processing-time', tier, {
          metric: metric(app.processingTime, 'Average'),
          threshold: t.processingTimeMs[tier],
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          description: `${props.name}: average processing time above ${t.processingTimeMs[tier]} ms, 2 of 3 five-minute periods`,
        });
      }
    }
  }

  /** Adds an alarm of the catalogue (tagged, propagating, without actions). */
  private add(
    props: ServiceAlarmsProps,
    signal: string,
    severity: Severity,
    o: {
      readonly metric: cloudwatch.IMetric;
      readonly threshold: number;
      readonly comparison?: cloudwatch.ComparisonOperator;
      readonly evaluationPeriods: number;
      readonly datapointsToAlarm: number;
      readonly treatMissingData: cloudwatch.TreatMissingData;
      readonly description: string;
    },
  ): void {
    const name = `${props.name}-${signal}-${severity}`;
    const alarm = new cloudwatch.Alarm(this, `${signal}-${severity}`, {
      alarmName: name,
      alarmDescription: o.description,
      metric: o.metric,
      threshold: o.threshold,
      comparisonOperator: o.comparison ?? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: o.evaluationPeriods,
      datapointsToAlarm: o.datapointsToAlarm,
      treatMissingData: o.treatMissingData,
      // Routed from its state-change events; members of the composite never act on their own.
      actionsEnabled: false,
    });
    tagCatalogueAlarm(alarm, severity, props.name, props.serviceTagKey);
    this.alarms.push({ alarm, severity, signal, name });
  }
}

/**
 * Tags a catalogue alarm with its `severity` and service (`nightshift:service`, or the key given) and turns
 * tag propagation on: the tags reach the state-change event (`detail.alarmTags`) only then; L1 only.
 */
export function tagCatalogueAlarm(
  alarm: cloudwatch.Alarm | cloudwatch.CompositeAlarm,
  severity: Severity,
  service: string,
  tagKey = 'nightshift:service',
): void {
  Tags.of(alarm).add('severity', severity);
  Tags.of(alarm).add(tagKey, service);
  (alarm.node.defaultChild as cloudwatch.CfnAlarm | cloudwatch.CfnCompositeAlarm).actionConfiguration = {
    alarmTagsPropagation: { enabled: true },
  };
}

import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ServiceAlarms } from '../../../lib/alarms/service-alarms.ts';

function synth(props: Partial<ConstructorParameters<typeof ServiceAlarms>[2]> = {}) {
  const stack = new Stack(new App(), 'Catalogue', { env: { account: '123456789012', region: 'eu-west-1' } });
  const alarms = new ServiceAlarms(stack, 'Api', {
    name: 'api',
    cluster: 'webhooks-prod',
    service: 'webhooks-api',
    loadBalancer: {
      targetGroup: 'targetgroup/api/0123456789abcdef',
      loadBalancer: 'app/webhooks/fedcba9876543210',
    },
    ...props,
  });
  return { alarms, template: Template.fromStack(stack) };
}
type Alarm = { Properties: Record<string, unknown> };
const alarmsOf = (t: Template) => Object.values(t.findResources('AWS::CloudWatch::Alarm')) as Alarm[];
const byName = (t: Template, name: string) =>
  alarmsOf(t).find((a) => a.Properties.AlarmName === name)?.Properties;

describe('ServiceAlarms: the guide’s catalogue for an ECS service behind an ALB', () => {
  const { template } = synth();

  it('makes every alarm of the guide that applies, two tiers each, named <service>-<signal>-<severity>', () => {
    expect(
      alarmsOf(template)
        .map((a) => a.Properties.AlarmName)
        .sort(),
    ).toEqual([
      'api-cpu-critical',
      'api-cpu-warning',
      'api-error-rate-critical',
      'api-error-rate-warning',
      'api-memory-critical',
      'api-memory-warning',
      'api-no-healthy-hosts-critical',
      'api-unhealthy-hosts-critical',
      'api-unhealthy-hosts-warning',
    ]);
  });

  it.each([
    ['api-cpu-warning', 'CPUUtilization', 70, 300, 3, 3],
    ['api-cpu-critical', 'CPUUtilization', 85, 60, 5, 5],
    ['api-memory-warning', 'MemoryUtilization', 80, 300, 3, 3],
    ['api-memory-critical', 'MemoryUtilization', 90, 60, 5, 5],
    ['api-unhealthy-hosts-warning', 'UnHealthyHostCount', 0, 60, 2, 2],
    ['api-unhealthy-hosts-critical', 'UnHealthyHostCount', 0, 60, 5, 5],
    ['api-no-healthy-hosts-critical', 'HealthyHostCount', 1, 60, 2, 2],
  ])('%s: %s, threshold %d, period %d s, %d of %d', (name, metric, threshold, period, alarmOn, of) => {
    expect(byName(template, name)).toMatchObject({
      MetricName: metric,
      Threshold: threshold,
      Period: period,
      DatapointsToAlarm: alarmOn,
      EvaluationPeriods: of,
      ActionsEnabled: false,
    });
  });

  it('ALB target metrics carry both dimensions; no healthy host (and missing data) is breaching', () => {
    expect(byName(template, 'api-no-healthy-hosts-critical')).toMatchObject({
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      Dimensions: expect.arrayContaining([
        { Name: 'TargetGroup', Value: 'targetgroup/api/0123456789abcdef' },
        { Name: 'LoadBalancer', Value: 'app/webhooks/fedcba9876543210' },
      ]),
    });
    expect(byName(template, 'api-cpu-critical')?.TreatMissingData).toBe('notBreaching');
  });

  it('error rate: 5xx as a percent of requests with a minimum-sample guard (metric math), 2 of 3 periods', () => {
    const critical = byName(template, 'api-error-rate-critical');
    expect(critical).toMatchObject({ Threshold: 5, EvaluationPeriods: 3, DatapointsToAlarm: 2 });
    const metrics = critical?.Metrics as {
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: { MetricName: string } };
    }[];
    expect(metrics.find((m) => m.Expression)?.Expression).toBe(
      'IF(requests >= 20, 100 * errors / requests, 0)',
    );
    expect(metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : [])).sort()).toEqual([
      'HTTPCode_Target_5XX_Count',
      'RequestCount',
    ]);
    expect(byName(template, 'api-error-rate-warning')?.Threshold).toBe(2);
  });

  it('every alarm is tagged with its severity and service, with tag propagation on', () => {
    for (const a of alarmsOf(template)) {
      const name = String(a.Properties.AlarmName);
      expect(a.Properties.Tags).toEqual(
        expect.arrayContaining([
          { Key: 'severity', Value: name.endsWith('-critical') ? 'critical' : 'warning' },
          { Key: 'nightshift:service', Value: 'api' },
        ]),
      );
      expect(a.Properties.ActionConfiguration).toEqual({ AlarmTagsPropagation: { Enabled: true } });
    }
  });

  it('a composite "service unhealthy" over the critical alarms only, with no actions', () => {
    const [composite] = Object.values(template.findResources('AWS::CloudWatch::CompositeAlarm')) as Alarm[];
    expect(composite?.Properties).toMatchObject({
      AlarmName: 'api-unhealthy-critical',
      ActionsEnabled: false,
      ActionConfiguration: { AlarmTagsPropagation: { Enabled: true } },
    });
    const rule = JSON.stringify(composite?.Properties.AlarmRule);
    // ALARM("<arn of each critical member>") OR …, the members by logical id.
    for (const member of [
      'Apicpucritical',
      'Apimemorycritical',
      'Apinohealthyhostscritical',
      'Apiunhealthyhostscritical',
      'Apierrorratecritical',
    ]) {
      expect(rule).toContain(member);
    }
    expect(rule.match(/ALARM\(/g)).toHaveLength(5);
    expect(rule).not.toContain('warning');
  });

  it('is nag clean', () => {
    const app = new App();
    const stack = new Stack(app, 'Nag', { env: { account: '123456789012', region: 'eu-west-1' } });
    new ServiceAlarms(stack, 'Api', { name: 'api', cluster: 'c', service: 's' });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });

  it('thresholds are overridable per service; without a load balancer, only the ECS alarms', () => {
    const { template: t } = synth({
      loadBalancer: undefined,
      thresholds: { cpuPercent: { warning: 60, critical: 95 } },
    });
    expect(
      alarmsOf(t)
        .map((a) => a.Properties.AlarmName)
        .sort(),
    ).toEqual(['api-cpu-critical', 'api-cpu-warning', 'api-memory-critical', 'api-memory-warning']);
    expect(byName(t, 'api-cpu-critical')?.Threshold).toBe(95);
    expect(() => synth({ thresholds: { memoryPercent: { warning: 0, critical: 90 } } })).toThrow(
      /thresholds\.memoryPercent must be positive/,
    );
  });
});

describe('CDK objects in place of names', () => {
  it('takes the IBaseService, the ApplicationTargetGroup (both ALB dimensions) and an IDatabaseInstance', async () => {
    const ec2 = await import('aws-cdk-lib/aws-ec2');
    const ecs = await import('aws-cdk-lib/aws-ecs');
    const elbv2 = await import('aws-cdk-lib/aws-elasticloadbalancingv2');
    const rds = await import('aws-cdk-lib/aws-rds');
    const { DatabaseAlarms } = await import('../../../lib/alarms/resource-alarms.ts');
    const stack = new Stack(new App(), 'Objects', { env: { account: '123456789012', region: 'eu-west-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const ecsService = ecs.FargateService.fromServiceArnWithCluster(
      stack,
      'Api',
      'arn:aws:ecs:eu-west-1:123456789012:service/webhooks-prod/webhooks-api',
    );
    const lb = new elbv2.ApplicationLoadBalancer(stack, 'Lb', { vpc });
    const targetGroup = new elbv2.ApplicationTargetGroup(stack, 'Tg', {
      vpc,
      port: 80,
      targetType: elbv2.TargetType.IP,
    });
    lb.addListener('Http', { port: 80, defaultTargetGroups: [targetGroup] });
    new ServiceAlarms(stack, 'ApiAlarms', { name: 'api', ecsService, targetGroup });
    const database = rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Db', {
      instanceIdentifier: 'webhooks-db',
      instanceEndpointAddress: 'webhooks-db.example',
      port: 5432,
      securityGroups: [],
    });
    new DatabaseAlarms(stack, 'DbAlarms', { database, service: 'api', maxConnections: 200 });
    const t = Template.fromStack(stack);
    expect(byName(t, 'api-cpu-critical')?.Dimensions).toEqual(
      expect.arrayContaining([
        { Name: 'ClusterName', Value: 'webhooks-prod' },
        { Name: 'ServiceName', Value: 'webhooks-api' },
      ]),
    );
    // The target group's full name, and the load balancer's derived from its listener's ARN.
    const dims = byName(t, 'api-no-healthy-hosts-critical')?.Dimensions as { Name: string; Value: unknown }[];
    expect(dims.map((d) => d.Name).sort()).toEqual(['LoadBalancer', 'TargetGroup']);
    expect(JSON.stringify(dims)).toContain('TargetGroupFullName');
    expect(JSON.stringify(dims.find((d) => d.Name === 'LoadBalancer'))).toContain('LbHttp');
    expect(byName(t, 'api-webhooks-db-connections-critical')).toBeDefined();
    expect(() => new ServiceAlarms(stack, 'Nothing', { name: 'x' })).toThrow(
      /give cluster and service, or ecsService/,
    );
  });
});

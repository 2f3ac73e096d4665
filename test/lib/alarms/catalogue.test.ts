import { describe, expect, it } from 'vitest';
import { defaultMaxConnections } from '../../../lib/alarms/resource-alarms.ts';
import { validateConfig } from '../../../lib/config/define-config.ts';
import type { NightshiftConfigInput } from '../../../lib/config/schema.ts';
import { exampleAppConfig } from '../../../local/sandbox/example-config.ts';
import { buildStack } from '../stack-fixture.ts';

/** The example app's catalogue: api behind its ALB with its own metrics, worker, both databases, a cache. */
const withCatalogue: NightshiftConfigInput = {
  ...exampleAppConfig,
  alarms: {
    services: [
      {
        name: 'api',
        cluster: 'webhooks-prod',
        service: 'webhooks-api',
        loadBalancer: {
          targetGroup: 'targetgroup/webhooks-api/0123456789abcdef',
          loadBalancer: 'app/webhooks/fedcba9876543210',
        },
        appMetrics: {
          successRate: {
            namespace: 'Webhooks',
            metricName: 'SuccessRate',
            dimensions: { Service: 'api' },
            sampleCount: { namespace: 'Webhooks', metricName: 'Handled', dimensions: { Service: 'api' } },
          },
          processingTime: {
            namespace: 'Webhooks',
            metricName: 'ProcessingTimeMs',
            dimensions: { Service: 'api' },
          },
        },
      },
      {
        name: 'worker',
        cluster: 'webhooks-prod',
        service: 'webhooks-worker',
        thresholds: { memoryPercent: { warning: 75, critical: 88 } },
      },
    ],
    databases: [
      { instance: 'webhooks-db', service: 'api', instanceClass: 'db.r6g.large' },
      { instance: 'billing-db', maxConnections: 400 },
    ],
    caches: [{ cacheClusterId: 'webhooks-redis-001', service: 'api' }],
  },
};
const { app, template } = buildStack(withCatalogue);
const t = template();
type Props = Record<string, unknown>;
const alarms = () =>
  Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties as Props);
const named = (name: string) => alarms().find((a) => a.AlarmName === name);
/** The metric-math expression of an alarm. */
const expressionOf = (a: Props | undefined) =>
  ((a?.Metrics ?? []) as { Expression?: string }[]).find((m) => m.Expression)?.Expression;

describe('the alarm catalogue from config', () => {
  it('is nag clean', () => {
    expect(() => app.synth({ force: true })).not.toThrow();
  });

  it("makes the guide's alarms for each service, database and cache, two tiers each", () => {
    const names = alarms()
      .map((a) => String(a.AlarmName))
      .filter((n) => /^(api|worker|webhooks-db|billing-db)-/.test(n))
      .sort();
    expect(names).toEqual(
      [
        'api-cpu-critical',
        'api-cpu-warning',
        'api-error-rate-critical',
        'api-error-rate-warning',
        'api-memory-critical',
        'api-memory-warning',
        'api-no-healthy-hosts-critical',
        'api-processing-time-critical',
        'api-processing-time-warning',
        'api-success-rate-critical',
        'api-success-rate-warning',
        'api-unhealthy-hosts-critical',
        'api-unhealthy-hosts-warning',
        'api-webhooks-db-connections-critical',
        'api-webhooks-db-connections-warning',
        'api-webhooks-redis-001-cache-memory-critical',
        'api-webhooks-redis-001-cache-memory-warning',
        'billing-db-connections-critical',
        'billing-db-connections-warning',
        'worker-cpu-critical',
        'worker-cpu-warning',
        'worker-memory-critical',
        'worker-memory-warning',
      ].sort(),
    );
  });

  it('app metrics: success rate below 98 / 95 with a minimum-sample guard; processing time above 500 / 1000 ms', () => {
    const success = named('api-success-rate-critical');
    expect(success).toMatchObject({ Threshold: 95, ComparisonOperator: 'LessThanThreshold' });
    expect(expressionOf(success)).toBe('IF(handled >= 20, rate, 100)');
    expect(named('api-success-rate-warning')?.Threshold).toBe(98);
    expect(named('api-processing-time-warning')).toMatchObject({
      Threshold: 500,
      MetricName: 'ProcessingTimeMs',
      Namespace: 'Webhooks',
    });
    expect(named('api-processing-time-critical')?.Threshold).toBe(1000);
  });

  it('database connections as a percent of max_connections (metric math), 80 / 90; the default from the class', () => {
    const critical = named('api-webhooks-db-connections-critical');
    expect(critical).toMatchObject({ Threshold: 90, EvaluationPeriods: 5, DatapointsToAlarm: 5 });
    const max = defaultMaxConnections('db.r6g.large');
    expect(max).toBe(1802);
    expect(expressionOf(critical)).toBe(`100 * connections / ${max}`);
    const billing = named('billing-db-connections-warning');
    expect(expressionOf(billing)).toBe('100 * connections / 400');
    expect(billing?.Threshold).toBe(80);
  });

  it('the cache: DatabaseMemoryUsagePercentage 70 / 85', () => {
    expect(named('api-webhooks-redis-001-cache-memory-warning')).toMatchObject({
      Threshold: 70,
      MetricName: 'DatabaseMemoryUsagePercentage',
    });
    expect(named('api-webhooks-redis-001-cache-memory-critical')?.Threshold).toBe(85);
  });

  it("overrides per service; tags carry the rollback's service tag key; every alarm propagates its tags, acts on nothing", () => {
    expect(named('worker-memory-critical')?.Threshold).toBe(88);
    for (const a of alarms().filter((x) => /^(api|worker|billing-db)-/.test(String(x.AlarmName)))) {
      expect(a.ActionConfiguration).toEqual({ AlarmTagsPropagation: { Enabled: true } });
      expect(a.ActionsEnabled).toBe(false);
      expect((a.Tags as { Key: string }[]).map((tag) => tag.Key)).toEqual(
        expect.arrayContaining(['severity', 'nightshift:service']),
      );
    }
  });

  it("api's composite covers its own critical alarms and its database's and cache's; worker's only its own", () => {
    const composites = Object.values(t.findResources('AWS::CloudWatch::CompositeAlarm')).map(
      (r) => r.Properties as Props,
    );
    const api = JSON.stringify(composites.find((c) => c.AlarmName === 'api-unhealthy-critical')?.AlarmRule);
    expect(api.match(/ALARM\(/g)).toHaveLength(9); // cpu, memory, 2 × hosts, 5xx, success, processing, db, cache
    const worker = JSON.stringify(
      composites.find((c) => c.AlarmName === 'worker-unhealthy-critical')?.AlarmRule,
    );
    expect(worker.match(/ALARM\(/g)).toHaveLength(2);
  });

  it('bad config names the field', () => {
    const bad = (alarmsSection: unknown) => () =>
      validateConfig({ ...exampleAppConfig, alarms: alarmsSection } as NightshiftConfigInput);
    expect(
      bad({ services: [{ name: 'billing', cluster: 'c', service: 's', guardsRollback: true }] }),
    ).toThrow(/alarms\.services\.0\.guardsRollback.*no ecsRollback service is named billing/s);
    expect(bad({ databases: [{ instance: 'db1' }] })).toThrow(
      /alarms\.databases\.0.*maxConnections .* or instanceClass/s,
    );
    expect(bad({ databases: [{ instance: 'db1', cluster: 'c1', maxConnections: 10 }] })).toThrow(
      /exactly one of instance or cluster/,
    );
    expect(bad({ caches: [{ cacheClusterId: 'r1', service: 'nobody' }] })).toThrow(
      /alarms\.caches\.0\.service.*names no service/s,
    );
    expect(
      bad({
        services: [
          {
            name: 'api',
            cluster: 'c',
            service: 's',
            loadBalancer: { targetGroup: 'api-tg', loadBalancer: 'app/x/1' },
          },
        ],
      }),
    ).toThrow(/alarms\.services\.0\.loadBalancer\.targetGroup.*targetgroup\/<name>\/<id>/s);
  });
});

describe('a catalogue tier guards the ECS rollback', () => {
  const guarded: NightshiftConfigInput = {
    ...withCatalogue,
    alarms: {
      ...withCatalogue.alarms,
      services: (withCatalogue.alarms?.services ?? []).map((s) =>
        s.name === 'api' ? { ...s, guardsRollback: true } : s,
      ),
    },
  };
  const pattern = () => {
    const { template: gt } = buildStack(guarded);
    const rules = Object.values(gt().findResources('AWS::Events::Rule')).map((r) => r.Properties as Props);
    const text = (r: Props) => JSON.stringify(r.EventPattern ?? {});
    return rules.find(
      (r) => text(r).includes('CloudWatch Alarm State Change') && text(r).includes('alarmTags'),
    )?.EventPattern as { detail: { $or: { alarmName?: unknown[]; alarmTags?: unknown }[] } };
  };

  it("adds api's critical 5xx and health alarms by name; the catalogue's others never match by tag", async () => {
    const { matchesPattern: matches } = await import('../../../local/events/pattern.ts');
    const p = pattern();
    const [byName, byTag] = p.detail.$or;
    for (const guard of [
      'api-error-rate-critical',
      'api-unhealthy-hosts-critical',
      'api-no-healthy-hosts-critical',
    ]) {
      expect(byName?.alarmName).toContain(guard);
    }
    const event = (alarmName: string) => ({
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      account: '123456789012',
      region: 'eu-west-1',
      detail: { alarmName, alarmTags: { 'nightshift:service': 'api', severity: 'warning' } },
    });
    expect(matches(p, event('api-cpu-warning'))).toBe(false);
    expect(matches(p, event('api-memory-critical'))).toBe(false);
    expect(matches(p, event('api-unhealthy-critical'))).toBe(false);
    expect(matches(p, event('api-error-rate-critical'))).toBe(true);
    // A hand-made alarm the team tagged still guards by its tag.
    expect(matches(p, event('api-queue-depth'))).toBe(true);
    expect(byTag).toBeDefined();
  });
});

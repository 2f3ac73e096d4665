import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { NightshiftConfigInput } from '../../lib/config/schema.ts';
import { exampleAppConfig } from '../../local/sandbox/example-config.ts';
import { asList, granting, roleStatements } from './role-statements.ts';
import { ACCOUNT, buildStack, REGION } from './stack-fixture.ts';

const withAlerts: NightshiftConfigInput = {
  ...exampleAppConfig,
  alerts: {
    receivers: {
      'pagerduty-oncall': {
        kind: 'pagerduty',
        routingKeyParameter: '/nightshift/pagerduty/routing-key',
        region: 'eu',
      },
      'slack-ops': { kind: 'slack', webhookUrlParameter: '/nightshift/slack/ops-webhook' },
      'slack-incidents': {
        kind: 'slack',
        botTokenParameter: '/nightshift/slack/bot-token',
        channel: 'C0123456789',
      },
      'email-ops': {
        kind: 'email',
        identity: 'example.com',
        from: 'nightshift@example.com',
        to: ['ops@example.com'],
      },
      tickets: {
        kind: 'sns',
        topicArn: `arn:aws:sns:eu-west-1:111122223333:ticket-bridge`,
        kmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      },
    },
    silencesParameter: '/nightshift/silences',
    alarms: [{ prefix: 'webhooks-db-' }],
  },
};
const { app, stack, template } = buildStack(withAlerts);
const t = template();
const json = JSON.stringify(t.toJSON());
const resources = t.toJSON().Resources as Record<
  string,
  { Type: string; Properties: Record<string, unknown> }
>;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

describe('Alerts construct', () => {
  it('is nag clean', () => {
    expect(() => app.synth({ force: true })).not.toThrow();
  });

  it('each sender reads only its own secret parameter; the router only the silences parameter', () => {
    const param = (name: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/nightshift/${name}`;
    const reads = (role: string) =>
      granting(roleStatements(t, role), 'ssm:GetParameter')
        .flatMap((s) => asList(s.Resource))
        .filter((r) => !String(r).includes('kill-switch'));
    expect(reads('Receiverpagerdutyoncall')).toEqual([param('pagerduty/routing-key')]);
    expect(reads('Receiverslackops')).toEqual([param('slack/ops-webhook')]);
    expect(reads('Receiverslackincidents')).toEqual([param('slack/bot-token')]);
    expect(reads('Receiveremailops')).toEqual([]);
    expect(reads('Receivertickets')).toEqual([]);
    expect(reads('AlertRoutingRouter')).toEqual([param('silences')]);
  });

  it("each function writes only its own items: the router its episodes and digest, a sender its receiver's records", () => {
    const own = (role: string) =>
      roleStatements(t, role).find((s) => s.Sid === 'StateOwnItems')?.Condition?.['ForAllValues:StringLike'];
    expect(own('AlertRoutingRouter')).toEqual({
      'dynamodb:LeadingKeys': ['alert-episodes', 'alert-digest#*'],
    });
    expect(own('Receiverslackops')).toEqual({
      'dynamodb:LeadingKeys': ['alert-delivery#slack-ops', 'alert-rate#slack-ops'],
    });
  });

  it('the router may send only to the receivers’ queues; a sender only to its own DLQ', () => {
    // Besides the stack's shared DLQ, where Lambda puts failed asynchronous invocations.
    const sends = (role: string) =>
      granting(roleStatements(t, role), 'sqs:SendMessage')
        .flatMap((s) => asList(s.Resource))
        .filter((r) => !String(r).includes('NightshiftDeadLetters'));
    expect(sends('AlertRoutingRouter').map(String).sort()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/Receiverpagerdutyoncall.*Queue/),
        expect.stringMatching(/Receiverslackops.*Queue/),
      ]),
    );
    expect(sends('AlertRoutingRouter')).toHaveLength(5);
    expect(sends('Receiverslackops')).toEqual([expect.stringMatching(/Receiverslackops.*DeadLetters/)]);
  });

  it('per receiver: an encrypted queue with a DLQ, an alarm on the DLQ, an event source with partial batch responses', () => {
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 5);
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
      BatchSize: 5,
    });
    t.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      RedrivePolicy: { maxReceiveCount: 1000, deadLetterTargetArn: Match.anyValue() },
    });
    const dlqAlarms = ofType('AWS::CloudWatch::Alarm').filter(([id]) =>
      /Receiver.*DeadLettersWaiting/.test(id),
    );
    expect(dlqAlarms).toHaveLength(5);
    for (const [, a] of dlqAlarms) expect(JSON.stringify(a.Properties.AlarmActions)).toContain('Alerts');
  });

  it('routes every nightshift event, the guarded and configured alarms, and failed deployments of guarded services', () => {
    const patterns = ofType('AWS::Events::Rule')
      .filter(([id]) => id.startsWith('NightshiftAlertRouting'))
      .map(([, r]) => r.Properties.EventPattern as Record<string, unknown>);
    expect(patterns).toContainEqual({ source: ['nightshift'], account: [ACCOUNT], region: [REGION] });
    const alarm = patterns.find((p) => JSON.stringify(p.source) === '["aws.cloudwatch"]') as {
      detail: { alarmName: unknown[] };
    };
    expect(alarm.detail.alarmName).toEqual(
      expect.arrayContaining([
        'webhooks-api-5xx-rate-high',
        { prefix: 'webhooks-api-unhealthy-hosts' },
        { prefix: 'webhooks-db-' },
      ]),
    );
    expect(patterns).toContainEqual(
      expect.objectContaining({ source: ['aws.ecs'], detail: { eventName: ['SERVICE_DEPLOYMENT_FAILED'] } }),
    );
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Description: Match.stringLikeRegexp('resolve open episodes'),
    });
  });

  it("Nightshift's own alarms are routed too, by name, with their severity (a missed snapshot run pages)", () => {
    const router = ofType('AWS::Lambda::Function').find(([id]) =>
      id.startsWith('NightshiftAlertRoutingRouter'),
    );
    const env = JSON.stringify(router?.[1].Properties.Environment);
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => String(a.Properties.AlarmName));
    const own = alarms.filter((n) => /-errors$|-dead-letters-waiting$|-no-successful-run$/.test(n));
    expect(own.length).toBe(alarms.length);
    for (const name of own) expect(env).toContain(name);
    expect(env).toMatch(/no-successful-run\\",\\"severity\\":\\"critical/);
    const rule = ofType('AWS::Events::Rule').find(([id]) => id.includes('AlertRoutingAlarmStateChange'));
    expect(JSON.stringify(rule?.[1].Properties.EventPattern)).toContain(own[0]);
  });

  it('PagerDuty EU by region; secrets only as parameter names', () => {
    expect(json).toContain('https://events.eu.pagerduty.com');
    expect(json).not.toMatch(/hooks\.slack\.com|xox[bp]-/);
  });

  it("denies PutEvents as source nightshift on the bus to every principal but Nightshift's roles", () => {
    const policies = ofType('AWS::Events::EventBusPolicy');
    expect(policies).toHaveLength(1);
    const { Statement: statement, EventBusName } = (policies[0]?.[1].Properties ?? {}) as {
      EventBusName: string;
      Statement: {
        Effect: string;
        Principal: unknown;
        Action: string;
        Condition: Record<string, Record<string, unknown>>;
      };
    };
    expect(EventBusName).toBe('default');
    expect(statement).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'events:PutEvents' });
    expect(statement.Condition.StringEquals).toEqual({ 'events:source': 'nightshift' });
    // Exempt by path, so two Nightshift stacks on one bus never deny each other (explicit denies add up).
    expect(JSON.stringify(statement.Condition.ArnNotLike?.['aws:PrincipalArn'])).toContain(
      `:iam::${ACCOUNT}:role/nightshift/*`,
    );
    const functionRoles = ofType('AWS::IAM::Role').filter(([id]) =>
      ofType('AWS::Lambda::Function').some(([, f]) => JSON.stringify(f.Properties.Role).includes(`"${id}"`)),
    );
    expect(functionRoles.length).toBeGreaterThanOrEqual(5);
    for (const [, role] of functionRoles) expect(role.Properties.Path).toBe('/nightshift/');
  });

  it('the email sender sends only from its identity and address, to its recipients, through its configuration set', () => {
    const statements = granting(roleStatements(t, 'Receiveremailops'), 'ses:SendEmail');
    expect(statements).toHaveLength(1);
    const [send] = statements;
    const resources = asList(send?.Resource).map((r) => JSON.stringify(r));
    expect(resources).toHaveLength(2);
    expect(resources[0]).toContain(':identity/example.com');
    expect(resources[1]).toMatch(/:configuration-set\/[A-Za-z0-9-]+emailops/);
    expect(send?.Condition).toEqual({
      StringEquals: { 'ses:FromAddress': 'nightshift@example.com' },
      'ForAllValues:StringEquals': { 'ses:Recipients': ['ops@example.com'] },
    });
    for (const role of [
      'Receiverslackops',
      'Receivertickets',
      'AlertRoutingRouter',
      'Receiverpagerdutyoncall',
    ]) {
      expect(granting(roleStatements(t, role), 'ses:SendEmail')).toEqual([]);
    }
  });

  it("bounces and complaints come back: a configuration set to EventBridge, a rule to the router for that set's events", () => {
    const sets = ofType('AWS::SES::ConfigurationSet');
    expect(sets).toHaveLength(1);
    const name = String(sets[0]?.[1].Properties.Name);
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    t.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      ConfigurationSetName: Match.anyValue(),
      EventDestination: Match.objectLike({
        Enabled: true,
        MatchingEventTypes: Match.arrayWith(['bounce', 'complaint']),
        EventBridgeDestination: Match.anyValue(),
      }),
    });
    const rule = ofType('AWS::Events::Rule').find(([id]) => id.includes('AlertRoutingEmailFeedback'));
    expect(rule?.[1].Properties.EventPattern).toEqual({
      source: ['aws.ses'],
      'detail-type': ['Email Bounced', 'Email Complaint Received'],
      account: [ACCOUNT],
      region: [REGION],
      detail: { mail: { tags: { 'ses:configuration-set': [name] } } },
    });
    const router = ofType('AWS::Lambda::Function').find(([id]) =>
      id.startsWith('NightshiftAlertRoutingRouter'),
    );
    expect(JSON.stringify(router?.[1].Properties.Environment)).toContain(name);
  });

  it('the SNS sender publishes only to its topic, with its KMS key; nobody else publishes there', () => {
    const publish = granting(roleStatements(t, 'Receivertickets'), 'sns:Publish');
    expect(publish.flatMap((s) => asList(s.Resource))).toEqual([
      'arn:aws:sns:eu-west-1:111122223333:ticket-bridge',
    ]);
    const kms = granting(roleStatements(t, 'Receivertickets'), 'kms:GenerateDataKey');
    expect(kms.flatMap((s) => asList(s.Resource))).toEqual([
      'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    ]);
    expect(kms[0]?.Condition).toEqual({ StringEquals: { 'kms:ViaService': 'sns.eu-west-1.amazonaws.com' } });
    for (const role of ['Receiverslackops', 'Receiveremailops', 'AlertRoutingRouter']) {
      expect(
        granting(roleStatements(t, role), 'sns:Publish')
          .flatMap((s) => asList(s.Resource))
          .map(String),
      ).not.toContain('arn:aws:sns:eu-west-1:111122223333:ticket-bridge');
    }
  });

  it('every receiver kind has a sender: nothing is warned about as undelivered', () => {
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('no sender'));
    expect(warnings).toEqual([]);
    expect(json).not.toContain('xoxb-');
  });
});

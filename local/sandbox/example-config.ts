import { defineConfig } from '../../lib/config/define-config.ts';
import type { NightshiftConfigInput } from '../../lib/config/schema.ts';

/**
 * The built-in example app the sandbox tells its story on, and the world and template tests build: a webhook
 * integration service on ECS Fargate (services `api` and `worker`, cluster `webhooks-prod`) with RDS
 * PostgreSQL (`webhooks-db` by name, `billing-db` by tag). The stories create exactly these services,
 * alarms and databases in the local world.
 *
 * It is the sandbox's own and never reads `nightshift.config.ts`: that file is the user's to edit, and
 * `npm start` and `npm test` tell the same story whatever it says.
 *
 * Restore verification is configured but off here, so tests that advance the clock by days see no weekly
 * restores they did not ask for; {@link sandboxStoryConfig} turns it on for the story.
 */
export const exampleAppConfig = defineConfig({
  stackName: 'Nightshift',
  account: '123456789012',
  region: 'eu-west-1',
  killSwitchParameter: '/nightshift/kill-switch',
  snapshots: {
    enabled: true,
    dryRun: false,
    schedule: 'cron(0 3 * * ? *)',
    targets: {
      tag: { key: 'nightshift:backup', value: 'true' },
      instances: ['webhooks-db'],
      expectedTaggedInstances: 1,
    },
    retention: { dailyDays: 7, weeklyWeeks: 5, monthlyMonths: 12 },
    maxDeletionsPerRun: 50,
  },
  restoreVerify: {
    enabled: false,
    schedule: 'cron(0 5 ? * SUN *)',
    instanceClass: 'db.t4g.micro',
    subnetGroupName: 'webhooks-private',
    securityGroupIds: ['sg-0a1b2c3d4e5f60718'],
    vpc: {
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'],
      securityGroupId: 'sg-0fedcba9876543210',
    },
    checks: [
      { name: 'webhooks were received', sql: 'select count(*) from webhook_events', expect: { atLeast: 1 } },
      {
        name: 'recent webhooks are there',
        sql: 'select max(received_at) from webhook_events',
        expect: { freshWithinMinutesOfSnapshot: 24 * 60 },
      },
    ],
  },
  ecsRollback: {
    enabled: true,
    dryRun: false,
    bakeWindowMinutes: 120,
    cooldownMinutes: 30,
    leaveInProgressToEcs: true,
    deploymentAlarmConflict: 'suspend',
    serviceTagKey: 'nightshift:service',
    services: [
      {
        name: 'api',
        cluster: 'webhooks-prod',
        service: 'webhooks-api',
        taskDefinitionFamily: 'webhooks-api',
        taskRoleArn: 'arn:aws:iam::123456789012:role/webhooks-api-task',
        executionRoleArn: 'arn:aws:iam::123456789012:role/webhooks-execution',
        alarms: [
          { name: 'webhooks-api-webhook-success-rate-below-95' },
          { name: 'webhooks-api-5xx-rate-high' },
          { prefix: 'webhooks-api-unhealthy-hosts' },
        ],
        // Read at start (an ECS `secrets` entry): a change reaches the service with its next deployment.
        config: [{ parameter: '/webhooks/api/WEBHOOK_TIMEOUT_MS', readsAt: 'start' }],
      },
      {
        name: 'worker',
        cluster: 'webhooks-prod',
        service: 'webhooks-worker',
        taskDefinitionFamily: 'webhooks-worker',
        taskRoleArn: 'arn:aws:iam::123456789012:role/webhooks-worker-task',
        executionRoleArn: 'arn:aws:iam::123456789012:role/webhooks-execution',
        alarms: [{ prefix: 'webhooks-worker-' }],
      },
    ],
  },
});

/** Where the sandbox's alerts go: secrets by parameter name, as a user configures them. */
export const SANDBOX_ALERT_PARAMETERS = {
  pagerdutyRoutingKey: '/nightshift/alerts/pagerduty-routing-key',
  slackWebhook: '/nightshift/alerts/slack-webhook',
  slackBotToken: '/nightshift/alerts/slack-bot-token',
} as const;

/** The sandbox's other receivers: a Slack channel by bot token (by its id), email, and an SNS topic. */
export const SANDBOX_RECEIVERS = {
  incidentsChannel: 'C0WEBHOOKINCIDENTS',
  emailIdentity: 'example.com',
  emailFrom: 'nightshift@example.com',
  emailTo: ['oncall@example.com', 'former-oncall@example.com'],
  ticketsTopic: 'webhooks-tickets',
} as const;

/**
 * The example app's alerting: PagerDuty (its Events API at `pagerdutyBaseUrl`) and a Slack webhook; the
 * api's alarms are critical unless their name says otherwise.
 */
export function exampleAlerts(
  pagerdutyBaseUrl = 'https://events.eu.pagerduty.com',
): NonNullable<NightshiftConfigInput['alerts']> {
  return {
    receivers: {
      pagerduty: {
        kind: 'pagerduty',
        routingKeyParameter: SANDBOX_ALERT_PARAMETERS.pagerdutyRoutingKey,
        region: 'eu',
        eventsBaseUrl: pagerdutyBaseUrl,
      },
      slack: { kind: 'slack', webhookUrlParameter: SANDBOX_ALERT_PARAMETERS.slackWebhook },
    },
    severity: { alarms: [{ prefix: 'webhooks-api-', severity: 'critical' }] },
    // Alarms of the platform team that no runbook acts on: alerted only.
    alarms: [{ prefix: 'webhooks-platform-' }],
    runbookUrl: 'https://wiki.example.com/runbooks/{alarm}',
    // 40 virtual days run quickly with an hourly reconciler; 5 minutes is the default.
    reconcileMinutes: 60,
  };
}

/**
 * The story's alerting: {@link exampleAlerts}, and a Slack channel by bot token (threads), email to the on-call
 * list for critical alerts (through SES), and every critical and warning alert to the ticketing bridge's SNS
 * topic. The defaults still apply after these routes (`continue`).
 */
export function sandboxAlerts(
  sinkUrl: string,
  account = '123456789012',
): NonNullable<NightshiftConfigInput['alerts']> {
  const base = exampleAlerts(sinkUrl);
  return {
    ...base,
    receivers: {
      ...base.receivers,
      'slack-incidents': {
        kind: 'slack',
        botTokenParameter: SANDBOX_ALERT_PARAMETERS.slackBotToken,
        channel: SANDBOX_RECEIVERS.incidentsChannel,
        apiBaseUrl: `${sinkUrl}/api`,
      },
      email: {
        kind: 'email',
        identity: SANDBOX_RECEIVERS.emailIdentity,
        from: SANDBOX_RECEIVERS.emailFrom,
        to: [...SANDBOX_RECEIVERS.emailTo],
      },
      tickets: {
        kind: 'sns',
        topicArn: `arn:aws:sns:eu-west-1:${account}:${SANDBOX_RECEIVERS.ticketsTopic}`,
      },
    },
    routes: [
      { match: { severity: ['critical'] }, receivers: ['email', 'tickets'], continue: true },
      { match: { severity: ['warning'] }, receivers: ['tickets'], continue: true },
    ],
  };
}

/**
 * The story's configuration: the example app with restore verification on, trusting the local world's RDS
 * CA (`caBundleFile`, made when the sandbox starts), on an hourly tick so 40 virtual days run quickly; and,
 * given the alert sink's URL, alerting to it.
 */
export function sandboxStoryConfig(
  caBundleFile: string,
  sinkUrl?: string,
  rotation?: NightshiftConfigInput['rotation'],
): NightshiftConfigInput {
  const { restoreVerify } = exampleAppConfig;
  if (!restoreVerify) throw new Error('the example app configures restore verification');
  return {
    ...exampleAppConfig,
    restoreVerify: { ...restoreVerify, enabled: true, caBundleFile, tickMinutes: 60 },
    ...(sinkUrl ? { alerts: sandboxAlerts(sinkUrl) } : {}),
    ...(rotation ? { rotation } : {}),
  };
}

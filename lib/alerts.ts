import { Duration, Names, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { pagerDutyBaseUrl } from '../lambdas/alerts/channels.ts';
import type { RouterRuntimeConfig, SenderRuntimeConfig } from '../lambdas/alerts/config.ts';
import { EMAIL_FEEDBACK_TYPES } from '../lambdas/alerts/email-feedback.ts';
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
  /** Email receivers: the configuration set whose bounces and complaints come back as alerts. */
  readonly configurationSet?: ses.ConfigurationSet;
  /** Its name, known at synth (the router and the feedback rule match it). */
  readonly configurationSetName?: string;
}

type ReceiverConfig = AlertsConfig['receivers'][string];

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

/** The sender's channel for a receiver (parameter names and addresses only; secrets are read at run time). */
function channelOf(receiver: ReceiverConfig, configurationSetName?: string): SenderRuntimeConfig['channel'] {
  switch (receiver.kind) {
    case 'pagerduty':
      return {
        kind: 'pagerduty',
        routingKeyParameter: receiver.routingKeyParameter,
        baseUrl: pagerDutyBaseUrl(receiver),
      };
    case 'slack':
      return receiver.webhookUrlParameter
        ? { kind: 'slack-webhook', webhookUrlParameter: receiver.webhookUrlParameter }
        : {
            kind: 'slack-api',
            botTokenParameter: receiver.botTokenParameter ?? '',
            channel: receiver.channel ?? '',
            baseUrl: receiver.apiBaseUrl.replace(/\/+$/, ''),
          };
    case 'email':
      return {
        kind: 'email',
        from: receiver.from,
        to: receiver.to,
        ...(configurationSetName ? { configurationSetName } : {}),
      };
    case 'sns':
      return { kind: 'sns', topicArn: receiver.topicArn };
  }
}

/**
 * Alerts onward: EventBridge rules → the router → one SQS queue per receiver → that receiver's sender, so
 * one slow or failing receiver never holds up another. Each sender reads only its own secret's parameter,
 * sends email only from its identity and publishes only to its topic; the router reads only the silences
 * parameter. An email receiver's bounces and complaints come back (its configuration set → EventBridge →
 * the router) as a warning to the other receivers.
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
    for (const [name, receiver] of Object.entries(config.receivers)) {
      receivers.set(name, this.receiver(name, receiver, props));
    }
    this.receivers = receivers;
    const emailFeedback = [...receivers].flatMap(([receiver, r]) =>
      r.configurationSetName ? [{ receiver, configurationSetName: r.configurationSetName }] : [],
    );

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
        emailFeedback,
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
    if (emailFeedback.length > 0) {
      rules.push(
        new events.Rule(this, 'EmailFeedback', {
          description: "Nightshift alerts: bounces and complaints of Nightshift's alert emails",
          eventPattern: {
            source: ['aws.ses'],
            detailType: [...EMAIL_FEEDBACK_TYPES],
            ...origin,
            detail: {
              mail: { tags: { 'ses:configuration-set': emailFeedback.map((f) => f.configurationSetName) } },
            },
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

  private receiver(name: string, receiver: ReceiverConfig, props: AlertsProps): ReceiverDelivery {
    const stack = Stack.of(this);
    const scope = new Construct(this, `Receiver-${name}`);
    // Named at synth: the router and the feedback rule match the name SES puts in each event's tags.
    const configurationSetName =
      receiver.kind === 'email'
        ? Names.uniqueResourceName(scope, { separator: '-', maxLength: 64 })
        : undefined;
    const configurationSet = configurationSetName
      ? this.configurationSet(scope, configurationSetName)
      : undefined;
    const channel = channelOf(receiver, configurationSetName);
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
    for (const statement of senderStatements(stack, receiver, channel, configurationSetName)) {
      sender.function.addToRolePolicy(statement);
    }
    deadLetterQueue.grantSendMessages(sender.function);
    sender.function.addEventSource(
      new SqsEventSource(queue, {
        batchSize: 5,
        reportBatchItemFailures: true,
        // Two at most (SQS's minimum): pacing is in the state table, this only bounds the fan-out.
        maxConcurrency: 2,
      }),
    );
    return {
      queue,
      deadLetterQueue,
      deadLetterAlarm,
      sender,
      ...(configurationSet ? { configurationSet, configurationSetName } : {}),
    };
  }

  /**
   * An email receiver's configuration set: bounces and complaints go to the default bus (SES's EventBridge
   * destination can only use it), where the EmailFeedback rule takes them to the router.
   */
  private configurationSet(scope: Construct, name: string): ses.ConfigurationSet {
    const set = new ses.ConfigurationSet(scope, 'ConfigurationSet', { configurationSetName: name });
    set.addEventDestination('Feedback', {
      destination: ses.EventDestination.eventBus(
        events.EventBus.fromEventBusName(scope, 'DefaultBus', 'default'),
      ),
      events: [ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT],
    });
    return set;
  }
}

/** What one sender may do besides its queues: read its own secret, or send as its identity, or publish to its topic. */
function senderStatements(
  stack: Stack,
  receiver: ReceiverConfig,
  channel: SenderRuntimeConfig['channel'],
  configurationSetName?: string,
): iam.PolicyStatement[] {
  const readSecret = (name: string) =>
    new iam.PolicyStatement({
      sid: 'ReadOwnSecret',
      actions: ['ssm:GetParameter'],
      resources: [parameterArn(stack, name)],
    });
  switch (channel.kind) {
    case 'pagerduty':
      return [readSecret(channel.routingKeyParameter)];
    case 'slack-webhook':
      return [readSecret(channel.webhookUrlParameter)];
    case 'slack-api':
      return [readSecret(channel.botTokenParameter)];
    case 'email': {
      const identity = receiver.kind === 'email' ? receiver.identity : '';
      return [
        new iam.PolicyStatement({
          sid: 'SendAsOwnIdentity',
          actions: ['ses:SendEmail'],
          resources: [
            stack.formatArn({ service: 'ses', resource: 'identity', resourceName: identity }),
            ...(configurationSetName
              ? [
                  stack.formatArn({
                    service: 'ses',
                    resource: 'configuration-set',
                    resourceName: configurationSetName,
                  }),
                ]
              : []),
          ],
          conditions: {
            StringEquals: { 'ses:FromAddress': channel.from },
            'ForAllValues:StringEquals': { 'ses:Recipients': channel.to },
          },
        }),
      ];
    }
    case 'sns': {
      const key = receiver.kind === 'sns' ? receiver.kmsKeyArn : undefined;
      return [
        new iam.PolicyStatement({
          sid: 'PublishToOwnTopic',
          actions: ['sns:Publish'],
          resources: [channel.topicArn],
        }),
        ...(key
          ? [
              new iam.PolicyStatement({
                sid: 'EncryptForOwnTopic',
                actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
                resources: [key],
                // Only through SNS, in the topic's Region: the sender cannot use the key directly.
                conditions: {
                  StringEquals: { 'kms:ViaService': `sns.${channel.topicArn.split(':')[3]}.amazonaws.com` },
                },
              }),
            ]
          : []),
      ];
    }
  }
}

import { Annotations, ArnFormat, Duration, Names, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { RotationRuntimeConfig } from '../lambdas/rotation/config.ts';
import { pendingName } from '../lambdas/rotation/model.ts';
import { claimKey } from '../lambdas/shared/service-claim.ts';
import { DEFAULT_CADENCE_DAYS, type RotationConfig } from './config/rotation.ts';
import { CA_BUNDLE_NAME, caBundleFileFor } from './rds-ca-bundle.ts';
import { type RunbookCommonProps, RunbookFunction } from './runbook-function.ts';
import { placeInVpc } from './vpc-function.ts';

/** Properties of {@link Rotation}. */
export interface RotationProps extends RunbookCommonProps {
  readonly config: RotationConfig;
}

const TIMEOUT = Duration.minutes(5);

/**
 * Rotates the configured SSM parameters on a schedule (see the README's Rotation section). The function may
 * read, put and label only the configured parameters, manage only their `.pending` companions, use only
 * the configured KMS keys and only through SSM, write only its own `rotation#*` state items, and redeploy
 * (UpdateService) only the consumers configured to read a secret at start, under their per-service claims
 * (`claim#<service ARN>`, those services' only). For the
 * database kinds it runs in the application's VPC and verifies TLS against the RDS CA bundle it ships.
 */
export class Rotation extends Construct {
  readonly handler: RunbookFunction<RotationRuntimeConfig>;
  readonly scheduleRule: events.Rule;
  /** Per secret: it outlived its cadence plus `staleGraceDays`, or its age went unmeasured (see {@link staleAlarm}). */
  readonly staleAlarms: readonly { readonly parameter: string; readonly alarm: cloudwatch.Alarm }[];
  private readonly config: RotationConfig;

  constructor(scope: Construct, id: string, props: RotationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { config } = props;
    this.config = config;
    const databases = config.secrets.some((s) => s.kind.startsWith('postgres'));
    // A Lambda test's function: an ARN as given, a name in this stack's account and Region.
    // The rotation function invokes in its own Region: a function elsewhere would fail every run.
    for (const s of config.secrets) {
      const f = s.test?.lambda?.function;
      const region = f?.startsWith('arn:') ? f.split(':')[3] : undefined;
      if (region !== undefined && !Token.isUnresolved(stack.region) && region !== stack.region) {
        throw new Error(
          `rotation.secrets (${s.parameter}): test.lambda.function ${f} is in ${region}, the stack in ${stack.region}: the rotation invokes in its own Region`,
        );
      }
    }
    const functionArn = (f: string) =>
      f.startsWith('arn:')
        ? f
        : stack.formatArn({
            service: 'lambda',
            resource: 'function',
            resourceName: f,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          });
    const serviceArn = (c: { readonly cluster: string; readonly service: string }) =>
      stack.formatArn({ service: 'ecs', resource: 'service', resourceName: `${c.cluster}/${c.service}` });
    const startReadersOf = (s: RotationConfig['secrets'][number]) =>
      s.consumers
        .filter((c) => c.readsAt === 'start')
        .map((c) => ({ cluster: c.cluster, service: c.service, serviceArn: serviceArn(c) }));
    for (const s of config.secrets) {
      const atStart = s.consumers.filter((c) => c.readsAt === 'start');
      if (atStart.length === 0) continue;
      const readers = atStart.map((c) => `${c.cluster}/${c.service}`).join(', ');
      if (s.kind === 'postgres-single') {
        Annotations.of(this).addWarningV2(
          'nightshift:rotation-single-user-start-readers',
          `${s.parameter}: ${readers} read the credential only at start: between the password change and their new deployment (Nightshift redeploys them after the rotation finishes, later when a rollback or its cooldown defers it) their running tasks cannot log in. Use kind postgres-alternating (two users, no such window), or read it at run time with the consumer helper`,
        );
      } else {
        Annotations.of(this).addInfo(
          `${s.parameter}: ${readers} read it only at start: Nightshift redeploys them (a new deployment of the same revision) after each rotation finishes, never during a rollback or its cooldown (then a later run does, with a warning). Until then their tasks use the previous value, within ${s.kind === 'postgres-alternating' ? 'the cadence (the previous user stays valid until the next rotation)' : `the ${s.graceDays}-day grace period (the previous value is accepted only that long)`}`,
        );
      }
    }
    const checked = config.secrets.filter((s) => s.test?.https || s.test?.lambda);
    if (databases && checked.length > 0) {
      Annotations.of(this).addWarningV2(
        'nightshift:rotation-https-check-in-vpc',
        `${checked.map((s) => s.parameter).join(', ')}: the HTTPS or Lambda check runs from the function, which a database kind puts in the VPC (${config.vpc?.vpcId ?? 'vpc'}): its subnets need a route out (a NAT gateway, or a VPC endpoint for the service) or every check times out`,
      );
    }
    // Deduplicated by name: an ARN from formatArn may be a token, different at every call.
    const redeployed = [
      ...new Map(
        config.secrets.flatMap((s) =>
          s.consumers
            .filter((c) => c.readsAt === 'start')
            .map((c) => [`${c.cluster}/${c.service}`, c] as const),
        ),
      ).values(),
    ].map(serviceArn);
    this.handler = new RunbookFunction<RotationRuntimeConfig>(this, 'Handler', {
      runbook: 'rotation',
      common: props,
      // Its own items, and the claims of exactly the services it redeploys (shared with the rollbacks).
      stateKeys: { own: ['rotation#*', ...redeployed.map((arn) => claimKey(arn).pk)] },
      timeout: TIMEOUT,
      ...(databases
        ? {
            bundleFiles: { [CA_BUNDLE_NAME]: caBundleFileFor(config.caBundleFile) },
            environment: { NIGHTSHIFT_RDS_CA_BUNDLE: `/var/task/${CA_BUNDLE_NAME}` },
          }
        : {}),
      runbookConfig: {
        dryRun: config.dryRun,
        leaseSeconds: TIMEOUT.toSeconds() + 60,
        ssmRequestsPerSecond: config.ssmRequestsPerSecond,
        secrets: config.secrets.map((s) => ({
          parameter: s.parameter,
          policy: {
            kind: s.kind,
            cadenceDays: s.cadenceDays ?? DEFAULT_CADENCE_DAYS[s.kind],
            graceDays: s.graceDays,
            ...(s.window ? { window: s.window } : {}),
            ...(s.kind === 'external' ? { noticeDays: s.noticeDays ?? 30 } : {}),
          },
          ...(startReadersOf(s).length > 0 ? { startReaders: startReadersOf(s) } : {}),
          ...(s.generate ? { generate: s.generate } : {}),
          ...(s.test?.https || s.test?.lambda
            ? {
                test: {
                  ...(s.test.https ? { https: s.test.https } : {}),
                  ...(s.test.lambda
                    ? {
                        lambda: {
                          functionArn: functionArn(s.test.lambda.function),
                          timeoutMs: s.test.lambda.timeoutMs,
                        },
                      }
                    : {}),
                },
              }
            : {}),
          ...(s.alternating
            ? {
                alternating: {
                  users: s.alternating.users,
                  ownerRole: s.alternating.ownerRole,
                  ...(s.alternating.adminParameter ? { adminParameter: s.alternating.adminParameter } : {}),
                },
              }
            : {}),
        })),
      },
    });
    const arn = (name: string) =>
      stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, '') });
    const fn = this.handler.function;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RotateOwnParameters',
        actions: [
          'ssm:GetParameter',
          'ssm:GetParameterHistory',
          'ssm:PutParameter',
          'ssm:LabelParameterVersion',
          'ssm:UnlabelParameterVersion',
        ],
        resources: config.secrets.map((s) => arn(s.parameter)),
      }),
    );
    const tests = [
      ...new Set(config.secrets.flatMap((s) => (s.test?.lambda ? [s.test.lambda.function] : []))),
    ];
    if (tests.length > 0) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'InvokeRotationTests',
          actions: ['lambda:InvokeFunction'],
          resources: tests.map(functionArn),
        }),
      );
    }
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'OwnPendingValues',
        actions: ['ssm:GetParameter', 'ssm:GetParameterHistory', 'ssm:PutParameter', 'ssm:DeleteParameter'],
        resources: config.secrets.map((s) => arn(pendingName(s.parameter))),
      }),
    );
    if (redeployed.length > 0) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'RedeployStartReaders',
          actions: ['ecs:UpdateService'],
          resources: redeployed,
        }),
      );
    }
    const admins = config.secrets.flatMap((s) =>
      s.alternating?.adminParameter ? [arn(s.alternating.adminParameter)] : [],
    );
    if (admins.length > 0) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ReadAdminCredentialsForRecovery',
          actions: ['ssm:GetParameter'],
          resources: admins,
        }),
      );
    }
    if (databases && config.vpc) placeInVpc(this, fn, config.vpc);
    const adminKeys = [...new Set(config.secrets.flatMap((s) => s.alternating?.adminKmsKeyArn ?? []))];
    if (adminKeys.length > 0) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ReadAdminCredentialsViaSsm',
          actions: ['kms:Decrypt'],
          resources: adminKeys,
          conditions: { StringEquals: { 'kms:ViaService': `ssm.${stack.region}.amazonaws.com` } },
        }),
      );
    }
    const keys = [...new Set(config.secrets.flatMap((s) => (s.kmsKeyArn ? [s.kmsKeyArn] : [])))];
    if (keys.length > 0) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'OwnKeysViaSsm',
          actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
          resources: keys,
          conditions: { StringEquals: { 'kms:ViaService': `ssm.${stack.region}.amazonaws.com` } },
        }),
      );
    }
    this.staleAlarms = config.secrets.map((s, i) => ({
      parameter: s.parameter,
      alarm: this.staleAlarm(s, i, props),
    }));
    this.scheduleRule = new events.Rule(this, 'Schedule', {
      description: 'Nightshift rotation: rotate what is due, resume what a crash left',
      schedule: events.Schedule.rate(Duration.minutes(config.scheduleMinutes)),
      targets: [this.handler.ruleTarget()],
    });
  }
  /**
   * The "rotated every N days" promise, measured: each run publishes each secret's age (`SecretAgeDays`,
   * days since its last rotation; 0 right after one). The alarm fires when the smallest age seen in a period
   * (6 hours, or the schedule's interval when longer: at least one run falls in it) is past the cadence plus
   * `staleGraceDays` — a closed window, a blocked or failing rotation, a person late with an external value —
   * and when no age was published at all (missing data breaches: a rotation that times out or no longer runs
   * must not go unnoticed for a year, as aws-cdk#17265's did).
   */
  private staleAlarm(
    s: RotationConfig['secrets'][number],
    i: number,
    props: RotationProps,
  ): cloudwatch.Alarm {
    const cadence = s.cadenceDays ?? DEFAULT_CADENCE_DAYS[s.kind];
    const limit = cadence + s.staleGraceDays;
    const slug = s.parameter.replace(/[^A-Za-z0-9_.-]+/g, '-');
    const alarm = new cloudwatch.Alarm(this, `Stale${i + 1}`, {
      alarmName:
        `${Names.uniqueResourceName(this, { separator: '-', maxLength: 120 })}-stale-${i + 1}${slug}`.slice(
          0,
          255,
        ),
      alarmDescription: `Nightshift rotation: ${s.parameter} is more than ${limit} days old (rotated every ${cadence} days), or its age was not measured`,
      metric: new cloudwatch.Metric({
        namespace: 'Nightshift',
        metricName: 'SecretAgeDays',
        dimensionsMap: { service: 'rotation', parameter: s.parameter },
        statistic: 'Minimum',
        period: Duration.hours(Math.max(6, Math.ceil(props.config.scheduleMinutes / 60))),
      }),
      threshold: limit,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    alarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
    return alarm;
  }

  /**
   * Lets a consumer (an ECS task role, a function) read a rotated parameter as the consumer helper does:
   * the plain name and `<name>:previous` (one ARN), for `postgres-single` `<name>.pending` (to recover
   * within its rotation's window), and the parameter's KMS key to decrypt, only through SSM.
   */
  grantConsumerRead(grantee: iam.IGrantable, parameter: string): iam.Grant {
    const secret = this.config.secrets.find((s) => s.parameter === parameter);
    if (!secret) throw new Error(`grantConsumerRead: ${parameter} is not a rotated parameter in this config`);
    const stack = Stack.of(this);
    const arn = (name: string) =>
      stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, '') });
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['ssm:GetParameter'],
      // .pending only where the helper falls back to it: a single-user rotation's window. Consumers of the
      // other kinds never read the next value before it is live.
      resourceArns: [
        arn(parameter),
        ...(secret.kind === 'postgres-single' ? [arn(pendingName(parameter))] : []),
      ],
    });
    if (secret.kmsKeyArn) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [secret.kmsKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `ssm.${stack.region}.amazonaws.com` } },
        }),
      );
    }
    return grant;
  }
}

import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { nextRun } from '../../lib/config/schedule.ts';
import type { Caller } from '../endpoint/authorize.ts';
import type { FaultRule } from '../endpoint/faults.ts';
import { LocalEndpoint } from '../endpoint/server.ts';
import { matchesPattern } from '../events/pattern.ts';
import { type InvocationResult, LocalLambda } from '../lambda/runtime.ts';
import { PostgresFleet } from '../postgres/fleet.ts';
import { RDS_CA_BUNDLE_ENV } from '../postgres/tls.ts';
import { CloudWatchWorld } from '../services/cloudwatch.ts';
import { EcsWorld } from '../services/ecs.ts';
import { type AwsEvent, envelope } from '../services/envelope.ts';
import { EventBridgeWorld } from '../services/eventbridge.ts';
import { LambdaWorld } from '../services/lambda.ts';
import { RdsWorld } from '../services/rds.ts';
import { SesWorld } from '../services/ses.ts';
import { SnsWorld } from '../services/sns.ts';
import { SqsWorld } from '../services/sqs.ts';
import { SsmWorld } from '../services/ssm.ts';
import { type DeployedApp, loadDeployedApp } from '../template/deployed-app.ts';
import { VirtualClock } from './clock.ts';
import { type SqsDelivery, SqsEventSources } from './event-source-mappings.ts';
import { ImageRegistry } from './registry.ts';
import { onFailureRecord, withLocalQueueUrls } from './sqs-destinations.ts';

export interface WorldOptions {
  /** The cloud assembly (`cdk.out`) whose functions, policies and rules the world runs. */
  readonly cloudAssemblyDir: string;
  readonly account: string;
  readonly region: string;
  /** Virtual time the world starts at (epoch ms). */
  readonly start: number;
  readonly stackName?: string;
  /** Execution environments per function. @default 10 */
  readonly lambdaConcurrency?: number;
  /** Virtual milliseconds an ECS rolling deployment takes. @default 5 minutes */
  readonly rolloutMs?: number;
  /**
   * Real PostgreSQL behind RDS DB instances (TLS only): the functions find the CA bundle to trust in
   * `NIGHTSHIFT_RDS_CA_BUNDLE`. @default false (metadata only)
   */
  readonly postgres?: boolean;
  /**
   * Refuse an assembly whose functions have no bundle. `false` accepts a template synthesized without
   * bundling: its functions cannot run, but their roles can call the endpoint (IAM tests). @default true
   */
  readonly requireAssets?: boolean;
  /**
   * A CA bundle the functions trust besides the public CAs, as `NODE_EXTRA_CA_CERTS` (e.g. the alert
   * sink's, whose HTTPS certificate the world's CA issued). @default none
   */
  readonly extraCaBundle?: string;
}

/** One delivery of an event to a function by a rule, and how the function answered. */
export interface Delivery {
  readonly rule: string;
  readonly function: string;
  readonly event: AwsEvent;
  readonly result: InvocationResult;
}

const OPERATOR_KEY = 'AKIALOCALOPERATOR000';
const OPERATOR_SECRET = 'sandbox-operator-secret-key';
/** Each function calls with an access key of its own. */
const keyOf = (logicalId: string) =>
  `AKIA${createHash('sha256').update(logicalId).digest('hex').slice(0, 16).toUpperCase()}`;
/** Each function signs with a secret of its own, so one cannot pass for another. */
const secretOf = (logicalId: string) =>
  createHash('sha256').update(`secret:${logicalId}`).digest('base64url');

/**
 * The local AWS world: the endpoint and its services, DynamoDB (dynalite), the functions of a synthesized
 * app running unmodified from their bundles, each with its own credentials and the IAM policy the template
 * gives its role, and the app's rules routing events to them — all on a virtual clock.
 */
export class LocalWorld {
  readonly deliveries: Delivery[] = [];
  /** Every event that reached the default bus, in order. */
  readonly routed: AwsEvent[] = [];
  /** Messages in each dead-letter queue (by queue ARN). */
  readonly deadLetters = new Map<string, unknown[]>();
  private readonly inflight = new Set<Promise<unknown>>();
  /** The pollers of the app's SQS event source mappings (and the mappings refused for their role). */
  readonly eventSources: SqsEventSources;

  private constructor(
    readonly options: WorldOptions,
    readonly clock: VirtualClock,
    readonly app: DeployedApp,
    readonly endpoint: LocalEndpoint,
    readonly ecs: EcsWorld,
    readonly ssm: SsmWorld,
    readonly cloudwatch: CloudWatchWorld,
    readonly events: EventBridgeWorld,
    readonly rds: RdsWorld,
    readonly sqs: SqsWorld,
    /** SNS (Publish) with the app's topics; the operator adds others with `createTopic`. */
    readonly sns: SnsWorld,
    /** SES v2 (SendEmail) with the app's configuration sets; the operator verifies identities. */
    readonly ses: SesWorld,
    /** Lambda `Invoke` of the user's own functions (defined with `define`), e.g. a rotation's test step. */
    readonly lambda: LambdaWorld,
    readonly registry: ImageRegistry,
    readonly lambdas: Map<string, LocalLambda>,
    private readonly stopDynamo: () => Promise<void>,
  ) {
    this.eventSources = new SqsEventSources({
      sqs,
      app,
      lambdas,
      lambdaConcurrency: options.lambdaConcurrency ?? 10,
      track: (work) => this.track(work),
    });
  }

  static async start(options: WorldOptions): Promise<LocalWorld> {
    const { account, region } = options;
    const clock = new VirtualClock(options.start);
    const app = loadDeployedApp(options.cloudAssemblyDir, {
      account,
      region,
      stackName: options.stackName,
      requireAssets: options.requireAssets ?? true,
    });
    const registry = new ImageRegistry();
    let world: LocalWorld | undefined;
    const emit = (event: AwsEvent) => world?.route(event);
    const cloudwatch = new CloudWatchWorld({ account, region, clock, emit });
    const ecs = new EcsWorld({
      account,
      region,
      clock,
      emit,
      resolveImage: (image) => registry.resolve(image),
      alarmState: (name) => cloudwatch.state(name),
      rolloutMs: options.rolloutMs,
    });
    const ssm = new SsmWorld({ account, region, clock, emit });
    const postgres = options.postgres ? await PostgresFleet.start() : undefined;
    const rds = new RdsWorld({ account, region, clock, postgres });
    const events = new EventBridgeWorld({ account, region, clock, emit });
    const sqs = new SqsWorld({ account, region, clock, queues: app.queues });
    const sns = new SnsWorld({ account, region, clock, topics: app.topics });
    const ses = new SesWorld({ account, region, clock, emit, configurationSets: app.configurationSets });
    const lambda = new LambdaWorld({ account, region });

    const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', () => resolve()));
    const dynamoPort = (dynamo.address() as AddressInfo).port;

    const callers = new Map<string, Caller>();
    callers.set(OPERATOR_KEY, {
      accessKeyId: OPERATOR_KEY,
      secretAccessKey: OPERATOR_SECRET,
      principalArn: `arn:aws:iam::${account}:user/sandbox-operator`,
      policies: 'unrestricted',
    });
    for (const fn of app.functions) {
      callers.set(keyOf(fn.logicalId), {
        accessKeyId: keyOf(fn.logicalId),
        secretAccessKey: secretOf(fn.logicalId),
        principalArn: `arn:aws:sts::${account}:assumed-role/${fn.roleName}/${fn.functionName}`,
        roleArn: fn.roleArn,
        policies: fn.policies,
      });
    }
    const endpoint = new LocalEndpoint({
      account,
      region,
      services: [ecs, ssm, cloudwatch, events, sqs],
      resourcePolicies: app.resourcePolicies,
      queryServices: [rds, sns],
      restServices: [ses, lambda],
      callerFor: (key) => callers.get(key),
      dynamoPort,
      dynamoPartitionKeys: new Map(
        app.tables.flatMap((t) => {
          const hash = t.keySchema.find((k) => k.KeyType === 'HASH');
          return hash ? [[t.tableName, hash.AttributeName] as const] : [];
        }),
      ),
    });
    const url = await endpoint.listen();
    sqs.endpointUrl = url;

    const operator = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${dynamoPort}`,
      region,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    for (const table of app.tables) {
      await operator.send(
        new CreateTableCommand({
          TableName: table.tableName,
          KeySchema: table.keySchema.map((k) => ({
            AttributeName: k.AttributeName,
            KeyType: k.KeyType as 'HASH' | 'RANGE',
          })),
          AttributeDefinitions: table.attributeDefinitions.map((a) => ({
            AttributeName: a.AttributeName,
            AttributeType: a.AttributeType as 'S' | 'N' | 'B',
          })),
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      if (table.ttlAttribute) {
        await operator
          .send(
            new UpdateTimeToLiveCommand({
              TableName: table.tableName,
              TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
            }),
          )
          .catch(() => undefined); // dynalite does not implement TTL; expiry is not simulated
      }
    }
    operator.destroy();

    const lambdas = new Map<string, LocalLambda>();
    for (const fn of app.functions) {
      lambdas.set(
        fn.logicalId,
        new LocalLambda(
          {
            name: fn.functionName,
            entryFile: fn.entryFile,
            exportName: fn.exportName,
            environment: withLocalQueueUrls(fn.environment, region, url),
            timeoutSeconds: fn.timeoutSeconds,
            memoryMb: fn.memoryMb,
          },
          {
            clock,
            maxConcurrency: options.lambdaConcurrency ?? 10,
            extraEnv: {
              AWS_ENDPOINT_URL: url,
              AWS_ACCESS_KEY_ID: keyOf(fn.logicalId),
              AWS_SECRET_ACCESS_KEY: secretOf(fn.logicalId),
              AWS_REGION: region,
              AWS_DEFAULT_REGION: region,
              AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
              // Retries with the SDK's standard strategy; the endpoint's faults are what it copes with.
              AWS_MAX_ATTEMPTS: '5',
              ...(postgres ? { [RDS_CA_BUNDLE_ENV]: postgres.caBundlePath } : {}),
              ...(options.extraCaBundle ? { NODE_EXTRA_CA_CERTS: options.extraCaBundle } : {}),
            },
          },
        ),
      );
    }

    world = new LocalWorld(
      options,
      clock,
      app,
      endpoint,
      ecs,
      ssm,
      cloudwatch,
      events,
      rds,
      sqs,
      sns,
      ses,
      lambda,
      registry,
      lambdas,
      async () => {
        await new Promise<void>((resolve) => dynamo.close(() => resolve()));
      },
    );
    const started = world;
    clock.afterTimer = () => started.settle();
    started.eventSources.start();
    return world;
  }

  /** Every invocation by an SQS event source mapping, in order. */
  get sqsDeliveries(): readonly SqsDelivery[] {
    return this.eventSources.deliveries;
  }

  /** Environment for SDK clients acting as the operator (the user and their pipeline), unrestricted. */
  operatorConfig() {
    return {
      endpoint: this.endpoint.url,
      region: this.options.region,
      credentials: { accessKeyId: OPERATOR_KEY, secretAccessKey: OPERATOR_SECRET },
    };
  }

  /** SDK client configuration that calls as one of the app's functions (its credentials, its policies). */
  functionConfig(logicalId: string) {
    return {
      endpoint: this.endpoint.url,
      region: this.options.region,
      credentials: { accessKeyId: keyOf(logicalId), secretAccessKey: secretOf(logicalId) },
    };
  }

  /** Fires every schedule rule once, now (as if its time had come), and waits for the runs. */
  async runSchedulesNow(): Promise<void> {
    for (const rule of this.app.rules) {
      if (!rule.enabled || !rule.scheduleExpression) continue;
      await this.runSchedulesNowWith(
        envelope(this.options, 'aws.events', 'Scheduled Event', this.clock.now(), [rule.arn], {}),
      );
    }
  }

  /** Delivers a `Scheduled Event` (e.g. one delivered before, again) to the schedule rule it names. */
  async runSchedulesNowWith(event: AwsEvent): Promise<void> {
    for (const rule of this.app.rules) {
      if (!rule.enabled || !rule.scheduleExpression || !event.resources.includes(rule.arn)) continue;
      this.routed.push(event);
      await this.deliver(rule, event);
    }
    await this.settle();
  }

  /** Faults the endpoint injects from now on. */
  inject(rule: FaultRule): void {
    this.endpoint.faults.add(rule);
  }

  /** Delivers an event to every target of every enabled rule on the default bus whose pattern matches. */
  route(event: AwsEvent): void {
    this.routed.push(event);
    for (const rule of this.app.rules) {
      if (!rule.enabled || rule.eventBusName !== 'default' || !rule.pattern) continue;
      // Tracked for settle(); a route is fire-and-forget like EventBridge.
      if (matchesPattern(rule.pattern, event)) void this.deliver(rule, event);
    }
  }

  /**
   * Starts the template's schedule rules on the virtual clock: each fires a `Scheduled Event` at every time
   * its cron or rate expression names, from now on.
   */
  startSchedules(): void {
    for (const rule of this.app.rules) {
      const expression = rule.scheduleExpression;
      if (!rule.enabled || !expression) continue;
      const arm = (from: number) => {
        const at = nextRun(expression, from);
        if (at === undefined) return;
        this.clock.schedule(at, () => {
          const event = envelope(this.options, 'aws.events', 'Scheduled Event', at, [rule.arn], {});
          this.routed.push(event);
          arm(at);
          // The clock waits for the run, so the world's time does not move on beneath it.
          return this.deliver(rule, event);
        });
      };
      arm(this.clock.now());
    }
  }

  private deliver(rule: DeployedApp['rules'][number], event: AwsEvent): Promise<unknown> {
    const deliveries: Promise<unknown>[] = [];
    for (const target of rule.targets) {
      const fn = this.app.functions.find((f) => f.logicalId === target.functionLogicalId);
      const lambda = fn ? this.lambdas.get(fn.logicalId) : undefined;
      if (!fn || !lambda) continue;
      const delivery = lambda
        .invokeAsync(event, {
          maxRetryAttempts: fn.maxRetryAttempts,
          onFailure: (failed, last, attempts) => {
            const queue = fn.onFailureArn ?? 'unrouted';
            const messages = this.deadLetters.get(queue) ?? [];
            messages.push({ requestPayload: failed, responsePayload: last.error, attempts });
            this.deadLetters.set(queue, messages);
            this.sqs.queue(queue)?.send({
              body: JSON.stringify(onFailureRecord(fn, failed, last, attempts, this.clock.now())),
              senderId: `${fn.roleArn}:${fn.functionName}`,
            });
          },
        })
        .then((result) => {
          this.deliveries.push({ rule: rule.name, function: fn.functionName, event, result });
        });
      this.track(delivery);
      deliveries.push(delivery);
    }
    return Promise.all(deliveries);
  }

  private track(p: Promise<unknown>): void {
    this.inflight.add(p);
    p.finally(() => this.inflight.delete(p)).catch(() => undefined);
  }

  /** Waits until every delivery in flight (and what it set off) has finished. */
  async settle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** Moves virtual time on, firing what is due (deployments, retries), and lets the world settle. */
  async advance(ms: number): Promise<void> {
    await this.settle();
    await this.clock.advance(ms);
    await this.settle();
  }

  async close(): Promise<void> {
    await this.settle();
    await Promise.all([...this.lambdas.values()].map((l) => l.close()));
    await this.endpoint.close();
    await this.rds.close();
    await this.stopDynamo();
  }
}

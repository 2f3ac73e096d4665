import { CloudWatchClient, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateServiceCommand,
  DeregisterTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { GuardedServiceConfig, NightshiftConfig } from '../../lib/config/schema.ts';
import type { LocalWorld } from '../world/world.ts';

/** A value that must never leave the task definition: tests look for it in logs, events and the audit log. */
export const PLANTED_SECRET = 'whsec_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0';

/** The api's config parameter (read at start), and its good value. */
export const WEBHOOK_TIMEOUT = { parameter: '/webhooks/api/WEBHOOK_TIMEOUT_MS', good: '5000' } as const;

/**
 * The example user's application in the local world: the webhook integration service's ECS services
 * `api` and `worker`, their alarms, and the operator's moves (deploy, deregister, alarm state), made through
 * the AWS SDK like the user's pipeline and CloudWatch would.
 */
export class WebhooksApp {
  readonly ecs: ECSClient;
  readonly cloudwatch: CloudWatchClient;
  readonly ssm: SSMClient;
  readonly api: GuardedServiceConfig;
  readonly worker: GuardedServiceConfig;
  readonly workerAlarm = 'webhooks-worker-queue-age-high';
  private readonly deployed = new Map<string, string>();

  constructor(
    readonly world: LocalWorld,
    readonly config: NightshiftConfig,
  ) {
    const services = config.ecsRollback?.services ?? [];
    const api = services.find((s) => s.name === 'api');
    const worker = services.find((s) => s.name === 'worker');
    if (!api || !worker)
      throw new Error('the example app (local/sandbox/example-config.ts) needs services api and worker');
    this.api = api;
    this.worker = worker;
    this.ecs = new ECSClient(world.operatorConfig());
    this.cloudwatch = new CloudWatchClient(world.operatorConfig());
    this.ssm = new SSMClient(world.operatorConfig());
  }

  /** The operator writes a config value (a new version). */
  async putConfig(name: string, value: string): Promise<number> {
    const out = await this.ssm.send(
      new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }),
    );
    return out.Version ?? 0;
  }

  /** The operator's `aws ecs update-service --force-new-deployment`: the same revision, new tasks. */
  async redeploy(service: GuardedServiceConfig): Promise<void> {
    await this.ecs.send(
      new UpdateServiceCommand({
        cluster: service.cluster,
        service: service.service,
        forceNewDeployment: true,
      }),
    );
  }

  /** Alarm names of a service: exact names as configured, prefixes completed. */
  alarmsOf(service: GuardedServiceConfig): string[] {
    return service.alarms.map((a) => ('name' in a ? a.name : `${a.prefix}-2min`));
  }

  image(service: GuardedServiceConfig, tag: string): string {
    return `${this.config.account}.dkr.ecr.${this.config.region}.amazonaws.com/${service.service}:${tag}`;
  }

  /** Creates the alarms (all OK) and both services at their first revision; `api` has deployment alarms. */
  async install(options: { apiDeploymentAlarms?: string[] } = {}): Promise<void> {
    await this.putConfig(WEBHOOK_TIMEOUT.parameter, WEBHOOK_TIMEOUT.good);
    for (const name of this.alarmsOf(this.api)) this.world.cloudwatch.putAlarm(name);
    // Deployment alarms Nightshift does not watch exist in the user's account too.
    for (const name of options.apiDeploymentAlarms ?? []) {
      if (!this.world.cloudwatch.alarms.has(name)) {
        this.world.cloudwatch.putAlarm(name);
        await this.setAlarm(name, 'OK', 'Threshold not crossed');
      }
    }
    this.world.cloudwatch.putAlarm(this.workerAlarm, {
      tags: { 'nightshift:service': 'worker' },
      tagPropagation: true,
    });
    for (const name of [...this.alarmsOf(this.api), this.workerAlarm])
      await this.setAlarm(name, 'OK', 'Threshold not crossed');
    for (const service of [this.api, this.worker]) {
      const arn = await this.register(service, 'v1');
      const deploymentAlarms = options.apiDeploymentAlarms ?? [this.alarmsOf(this.api)[1] ?? ''];
      await this.ecs.send(
        new CreateServiceCommand({
          cluster: service.cluster,
          serviceName: service.service,
          taskDefinition: arn,
          desiredCount: 2,
          deploymentConfiguration: {
            maximumPercent: 200,
            minimumHealthyPercent: 100,
            ...(service === this.api && deploymentAlarms.length > 0
              ? { alarms: { alarmNames: deploymentAlarms, enable: true, rollback: true } }
              : {}),
          },
        }),
      );
    }
  }

  /** Pushes an image for `tag` and registers a revision running it; returns its ARN. */
  async register(service: GuardedServiceConfig, tag: string): Promise<string> {
    this.world.registry.push(this.image(service, tag));
    const input: RegisterTaskDefinitionCommandInput = {
      family: service.taskDefinitionFamily,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '512',
      memory: '1024',
      taskRoleArn: service.taskRoleArn ?? undefined,
      executionRoleArn: service.executionRoleArn ?? undefined,
      containerDefinitions: [
        {
          name: 'app',
          image: this.image(service, tag),
          essential: true,
          portMappings: [{ containerPort: 8080 }],
          // A secret someone put in plain environment: it must never surface in Nightshift's output.
          environment: [{ name: 'WEBHOOK_SIGNING_SECRET', value: PLANTED_SECRET }],
          secrets: [
            {
              name: 'DATABASE_URL',
              valueFrom: `arn:aws:ssm:${this.config.region}:${this.config.account}:parameter/webhooks/database-url`,
            },
          ],
        },
      ],
    };
    const out = await this.ecs.send(new RegisterTaskDefinitionCommand(input));
    const arn = out.taskDefinition?.taskDefinitionArn ?? '';
    this.deployed.set(`${service.name}:${tag}`, arn);
    return arn;
  }

  /** Registers a revision for `tag` and deploys it to the service. */
  async deploy(service: GuardedServiceConfig, tag: string): Promise<string> {
    const arn = await this.register(service, tag);
    await this.ecs.send(
      new UpdateServiceCommand({ cluster: service.cluster, service: service.service, taskDefinition: arn }),
    );
    return arn;
  }

  async deregister(arn: string): Promise<void> {
    await this.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
  }

  async setAlarm(name: string, value: 'ALARM' | 'OK', reason: string): Promise<void> {
    await this.cloudwatch.send(
      new SetAlarmStateCommand({ AlarmName: name, StateValue: value, StateReason: reason }),
    );
  }

  /** The revision the service's primary deployment runs now, and its first container's image. */
  running(service: GuardedServiceConfig): { taskDefinition: string; image: string } {
    const svc = [...this.world.ecs.services.values()].find((s) => s.serviceName === service.service);
    const primary = svc?.deployments.find((d) => d.status === 'PRIMARY');
    const def = primary ? this.world.ecs.taskDefinitions.get(primary.taskDefinition) : undefined;
    return {
      taskDefinition: primary?.taskDefinition ?? '',
      image: def?.containerDefinitions[0]?.image ?? '',
    };
  }

  /** UpdateService calls Nightshift's functions made that changed a task definition. */
  rollbacksBy(service: GuardedServiceConfig) {
    return this.world.ecs.updates.filter(
      (u) => u.service === service.service && u.taskDefinition && u.caller.includes(':assumed-role/'),
    );
  }
}

import type { AuthorizationNeed, Caller } from '../endpoint/authorize.ts';
import { AwsServiceError } from '../endpoint/errors.ts';
import type { JsonService } from '../endpoint/server.ts';
import type { VirtualClock } from '../world/clock.ts';
import { type EmitEvent, envelope, paginate } from './envelope.ts';

interface Tag {
  key: string;
  value: string;
}
interface ContainerDefinition {
  name: string;
  image: string;
  [k: string]: unknown;
}
interface TaskDefinition {
  taskDefinitionArn: string;
  family: string;
  revision: number;
  status: 'ACTIVE' | 'INACTIVE' | 'DELETE_IN_PROGRESS';
  containerDefinitions: ContainerDefinition[];
  registeredAt: number;
  input: Record<string, unknown>;
  tags: Tag[];
}
interface Deployment {
  id: string;
  status: 'PRIMARY' | 'ACTIVE';
  taskDefinition: string;
  createdAt: number;
  updatedAt: number;
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason: string;
  digests: Record<string, string>;
}
interface Service {
  serviceArn: string;
  serviceName: string;
  cluster: string;
  clusterArn: string;
  desiredCount: number;
  controller: 'ECS' | 'CODE_DEPLOY' | 'EXTERNAL';
  deploymentConfiguration: Record<string, unknown> & {
    alarms?: { alarmNames: string[]; enable: boolean; rollback: boolean };
  };
  deployments: Deployment[];
  createdAt: number;
}
interface Task {
  taskArn: string;
  cluster: string;
  serviceName: string;
  taskDefinitionArn: string;
  containers: { name: string; image: string; imageDigest: string }[];
}

export interface EcsWorldOptions {
  readonly account: string;
  readonly region: string;
  readonly clock: VirtualClock;
  readonly emit: EmitEvent;
  /** Resolves an image reference to the digest the registry holds for it now. */
  readonly resolveImage: (image: string) => string;
  /** Current state of a CloudWatch alarm (for deployment alarms). */
  readonly alarmState: (name: string) => string | undefined;
  /** Virtual milliseconds a rolling deployment takes. @default 5 minutes */
  readonly rolloutMs?: number;
}

/**
 * Amazon ECS, locally: task-definition revisions (ACTIVE/INACTIVE), services with PRIMARY/ACTIVE deployments
 * whose rollout completes on the clock, running tasks with the image digests resolved at deployment start,
 * deployment alarms, and `ECS Deployment State Change` events.
 */
export class EcsWorld implements JsonService {
  readonly signingName = 'ecs';
  readonly targetPrefix = 'AmazonEC2ContainerServiceV20141113';
  readonly jsonVersion = '1.1' as const;
  readonly taskDefinitions = new Map<string, TaskDefinition>();
  readonly services = new Map<string, Service>();
  readonly tasks = new Map<string, Task>();
  /** Every UpdateService that was accepted, with its caller (for tests and the sandbox's checks). */
  readonly updates: {
    service: string;
    taskDefinition?: string;
    force?: boolean;
    caller: string;
    at: number;
  }[] = [];
  private readonly rolloutMs: number;
  private deploymentSeq = 1_000_000_000_000_000_000n;

  constructor(private readonly o: EcsWorldOptions) {
    this.rolloutMs = o.rolloutMs ?? 5 * 60_000;
  }

  private arn(resource: string): string {
    return `arn:aws:ecs:${this.o.region}:${this.o.account}:${resource}`;
  }

  private clusterOf(value: unknown): string {
    const raw = typeof value === 'string' && value !== '' ? value : 'default';
    return raw.startsWith('arn:') ? raw.slice(raw.lastIndexOf('/') + 1) : raw;
  }

  private serviceName(value: unknown): string {
    const raw = String(value ?? '');
    return raw.startsWith('arn:') ? raw.slice(raw.lastIndexOf('/') + 1) : raw;
  }

  private findService(cluster: string, service: unknown): Service {
    const found = this.services.get(this.arn(`service/${cluster}/${this.serviceName(service)}`));
    if (!found) throw new AwsServiceError('ServiceNotFoundException', 'Service not found.');
    return found;
  }

  /** Resolves `family`, `family:rev` or an ARN to a revision, like ECS. */
  private findTaskDefinition(ref: unknown): TaskDefinition {
    const raw = String(ref ?? '');
    const name = raw.startsWith('arn:') ? raw.slice(raw.lastIndexOf('/') + 1) : raw;
    const [family = '', rev] = name.split(':');
    const revisions = [...this.taskDefinitions.values()].filter((t) => t.family === family);
    const found =
      rev === undefined
        ? revisions.filter((t) => t.status === 'ACTIVE').sort((a, b) => b.revision - a.revision)[0]
        : revisions.find((t) => t.revision === Number(rev));
    if (!found) throw new AwsServiceError('ClientException', 'Unable to describe task definition.');
    return found;
  }

  authorization(operation: string, input: Record<string, unknown>): AuthorizationNeed[] {
    const cluster = this.clusterOf(input.cluster);
    const clusterArn = this.arn(`cluster/${cluster}`);
    const service = (name: unknown): AuthorizationNeed['values'] => ({
      ClusterName: cluster,
      ServiceName: this.serviceName(name),
    });
    switch (operation) {
      case 'DescribeServices':
        return ((input.services as string[]) ?? []).map((s) => ({
          action: 'ecs:DescribeServices',
          resourceType: 'service',
          values: service(s),
          context: { 'ecs:cluster': clusterArn },
        }));
      case 'UpdateService':
      case 'CreateService':
        return [
          {
            action: `ecs:${operation}`,
            resourceType: 'service',
            values: service(input.service ?? input.serviceName),
            context: {
              'ecs:cluster': clusterArn,
              'ecs:task-definition': input.taskDefinition as string | undefined,
            },
          },
        ];
      case 'RegisterTaskDefinition': {
        const family = String(input.family ?? '');
        const next = [...this.taskDefinitions.values()].filter((t) => t.family === family).length + 1;
        const values = { TaskDefinitionFamilyName: family, TaskDefinitionRevisionNumber: String(next) };
        const needs: AuthorizationNeed[] = [
          { action: 'ecs:RegisterTaskDefinition', resourceType: 'task-definition', values },
        ];
        if (Array.isArray(input.tags) && input.tags.length > 0) {
          needs.push({
            action: 'ecs:TagResource',
            resourceType: 'task-definition',
            values,
            context: { 'ecs:CreateAction': 'RegisterTaskDefinition' },
          });
        }
        for (const role of [input.taskRoleArn, input.executionRoleArn]) {
          if (typeof role === 'string') {
            needs.push({
              action: 'iam:PassRole',
              resources: [role],
              context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
            });
          }
        }
        return needs;
      }
      case 'DescribeTaskDefinition':
        return [{ action: 'ecs:DescribeTaskDefinition' }];
      case 'DeregisterTaskDefinition': {
        const [family = '', rev = ''] = String(input.taskDefinition).split('/').at(-1)?.split(':') ?? [];
        return [
          {
            action: 'ecs:DeregisterTaskDefinition',
            resourceType: 'task-definition',
            values: { TaskDefinitionFamilyName: family, TaskDefinitionRevisionNumber: rev },
          },
        ];
      }
      case 'ListTasks':
        return [
          {
            action: 'ecs:ListTasks',
            resourceType: 'container-instance',
            values: { ClusterName: cluster, ContainerInstanceId: '*' },
            context: { 'ecs:cluster': clusterArn },
          },
        ];
      case 'DescribeTasks':
        return ((input.tasks as string[]) ?? []).map((t) => ({
          action: 'ecs:DescribeTasks',
          resourceType: 'task',
          values: { ClusterName: cluster, TaskId: t.slice(t.lastIndexOf('/') + 1) },
          context: { 'ecs:cluster': clusterArn },
        }));
      case 'TagResource':
        return [{ action: 'ecs:TagResource', resources: [String(input.resourceArn)] }];
      default:
        return [{ action: `ecs:${operation}` }];
    }
  }

  async handle(operation: string, input: Record<string, unknown>, caller?: Caller): Promise<unknown> {
    switch (operation) {
      case 'RegisterTaskDefinition':
        return { taskDefinition: this.view(this.register(input)), tags: input.tags ?? [] };
      case 'DescribeTaskDefinition': {
        const def = this.findTaskDefinition(input.taskDefinition);
        const include = (input.include as string[] | undefined)?.includes('TAGS');
        return { taskDefinition: this.view(def), tags: include ? def.tags : undefined };
      }
      case 'DeregisterTaskDefinition': {
        const def = this.findTaskDefinition(input.taskDefinition);
        def.status = 'INACTIVE';
        return { taskDefinition: this.view(def) };
      }
      case 'ListTaskDefinitions': {
        const all = [...this.taskDefinitions.values()]
          .filter((t) => !input.familyPrefix || t.family.startsWith(String(input.familyPrefix)))
          .filter((t) => t.status === (input.status ?? 'ACTIVE'))
          .sort((a, b) => (a.family === b.family ? a.revision - b.revision : a.family < b.family ? -1 : 1));
        if (input.sort === 'DESC') all.reverse();
        const { page, nextToken } = this.page(all, input);
        return { taskDefinitionArns: page.map((t) => t.taskDefinitionArn), nextToken };
      }
      case 'CreateService':
        return { service: this.view(this.createService(input)) };
      case 'DescribeServices': {
        const cluster = this.clusterOf(input.cluster);
        const services = [];
        const failures = [];
        for (const name of (input.services as string[]) ?? []) {
          const found = this.services.get(this.arn(`service/${cluster}/${this.serviceName(name)}`));
          if (found) services.push(this.view(found));
          else
            failures.push({
              arn: this.arn(`service/${cluster}/${this.serviceName(name)}`),
              reason: 'MISSING',
            });
        }
        return { services, failures };
      }
      case 'UpdateService': {
        const service = this.updateService(input);
        const taskDefinition = typeof input.taskDefinition === 'string' ? input.taskDefinition : undefined;
        this.updates.push({
          service: service.serviceName,
          taskDefinition,
          ...(input.forceNewDeployment === true ? { force: true } : {}),
          caller: caller?.principalArn ?? '',
          at: this.o.clock.now(),
        });
        return { service: this.view(service) };
      }
      case 'ListTasks': {
        const cluster = this.clusterOf(input.cluster);
        const tasks = [...this.tasks.values()].filter(
          (t) =>
            t.cluster === cluster &&
            (!input.serviceName || t.serviceName === this.serviceName(input.serviceName)),
        );
        const { page, nextToken } = this.page(tasks, input);
        return { taskArns: page.map((t) => t.taskArn), nextToken };
      }
      case 'DescribeTasks': {
        const tasks = ((input.tasks as string[]) ?? [])
          .map((arn) => this.tasks.get(arn))
          .filter((t) => t !== undefined);
        return {
          tasks: tasks.map((t) => ({
            taskArn: t.taskArn,
            clusterArn: this.arn(`cluster/${t.cluster}`),
            taskDefinitionArn: t.taskDefinitionArn,
            group: `service:${t.serviceName}`,
            lastStatus: 'RUNNING',
            desiredStatus: 'RUNNING',
            containers: t.containers.map((c) => ({ ...c, lastStatus: 'RUNNING', taskArn: t.taskArn })),
          })),
          failures: [],
        };
      }
      case 'TagResource': {
        const def = this.taskDefinitions.get(String(input.resourceArn));
        if (!def)
          throw new AwsServiceError(
            'ResourceNotFoundException',
            'The specified resource could not be found.',
          );
        def.tags.push(...((input.tags as Tag[]) ?? []));
        return {};
      }
      default:
        throw new AwsServiceError('UnknownOperationException', `local ECS does not implement ${operation}`);
    }
  }

  private page<T>(items: T[], input: Record<string, unknown>) {
    try {
      return paginate(items, input.maxResults, input.nextToken);
    } catch {
      throw new AwsServiceError('InvalidParameterException', 'The specified nextToken is invalid.');
    }
  }

  /** RegisterTaskDefinition: a new ACTIVE revision in the family. */
  register(input: Record<string, unknown>): TaskDefinition {
    const family = String(input.family ?? '');
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(family))
      throw new AwsServiceError('ClientException', 'Family contains invalid characters.');
    const containers = (input.containerDefinitions as ContainerDefinition[] | undefined) ?? [];
    if (containers.length === 0)
      throw new AwsServiceError('ClientException', 'Container list cannot be empty.');
    const revision = [...this.taskDefinitions.values()].filter((t) => t.family === family).length + 1;
    const { tags, ...definition } = input;
    const def: TaskDefinition = {
      taskDefinitionArn: this.arn(`task-definition/${family}:${revision}`),
      family,
      revision,
      status: 'ACTIVE',
      containerDefinitions: containers,
      registeredAt: this.o.clock.now(),
      input: definition,
      tags: (tags as Tag[] | undefined) ?? [],
    };
    this.taskDefinitions.set(def.taskDefinitionArn, def);
    return def;
  }

  createService(input: Record<string, unknown>): Service {
    const cluster = this.clusterOf(input.cluster);
    const name = String(input.serviceName ?? '');
    const serviceArn = this.arn(`service/${cluster}/${name}`);
    if (this.services.has(serviceArn))
      throw new AwsServiceError('InvalidParameterException', 'Creation of service was not idempotent.');
    const def = this.findTaskDefinition(input.taskDefinition);
    const now = this.o.clock.now();
    const service: Service = {
      serviceArn,
      serviceName: name,
      cluster,
      clusterArn: this.arn(`cluster/${cluster}`),
      desiredCount: Number(input.desiredCount ?? 1),
      controller: ((input.deploymentController as { type?: Service['controller'] })?.type ??
        'ECS') as Service['controller'],
      deploymentConfiguration: (input.deploymentConfiguration as Service['deploymentConfiguration']) ?? {
        maximumPercent: 200,
        minimumHealthyPercent: 100,
      },
      deployments: [],
      createdAt: now,
    };
    this.services.set(serviceArn, service);
    this.startDeployment(service, def, now);
    return service;
  }

  private updateService(input: Record<string, unknown>): Service {
    const service = this.findService(this.clusterOf(input.cluster), input.service);
    if (input.deploymentConfiguration) {
      service.deploymentConfiguration = {
        ...service.deploymentConfiguration,
        ...(input.deploymentConfiguration as Record<string, unknown>),
      };
    }
    if (input.desiredCount !== undefined) service.desiredCount = Number(input.desiredCount);
    if (input.taskDefinition !== undefined) {
      const def = this.findTaskDefinition(input.taskDefinition);
      // You can't update a service to an INACTIVE task definition (ECS docs, task-definition-state).
      if (def.status !== 'ACTIVE')
        throw new AwsServiceError('ClientException', `TaskDefinition is ${def.status.toLowerCase()}`);
      const primary = service.deployments.find((d) => d.status === 'PRIMARY');
      if (primary?.taskDefinition !== def.taskDefinitionArn || input.forceNewDeployment === true) {
        this.startDeployment(service, def, this.o.clock.now());
      }
    } else if (input.forceNewDeployment === true) {
      // `--force-new-deployment` alone: a new deployment of the revision the service runs (new tasks).
      const primary = service.deployments.find((d) => d.status === 'PRIMARY');
      if (primary) {
        this.startDeployment(service, this.findTaskDefinition(primary.taskDefinition), this.o.clock.now());
      }
    }
    return service;
  }

  private startDeployment(service: Service, def: TaskDefinition, now: number, reason?: string): Deployment {
    for (const d of service.deployments) d.status = 'ACTIVE';
    this.deploymentSeq += 7_919n;
    const deployment: Deployment = {
      id: `ecs-svc/${this.deploymentSeq}`,
      status: 'PRIMARY',
      taskDefinition: def.taskDefinitionArn,
      createdAt: now,
      updatedAt: now,
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: 'ECS deployment in progress.',
      // ECS resolves image tags to digests when a deployment starts, so every task runs the same image.
      digests: Object.fromEntries(
        def.containerDefinitions.map((c) => [c.name, this.o.resolveImage(c.image)]),
      ),
    };
    service.deployments.unshift(deployment);
    // The alarms in ALARM when the deployment starts: this world fails the deployment on them too (one
    // reading of the disputed docs; the rollback runbook copes with either).
    this.emitDeployment(
      service,
      deployment,
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      reason ?? `ECS deployment ${deployment.id} in progress.`,
    );
    this.o.clock.schedule(now + this.rolloutMs, () => this.finishRollout(service, deployment));
    return deployment;
  }

  private finishRollout(service: Service, deployment: Deployment): void {
    if (deployment.status !== 'PRIMARY' || deployment.rolloutState !== 'IN_PROGRESS') return;
    const now = this.o.clock.now();
    const alarms = service.deploymentConfiguration.alarms;
    const firing = alarms?.enable ? alarms.alarmNames.filter((n) => this.o.alarmState(n) === 'ALARM') : [];
    if (firing.length > 0) {
      deployment.rolloutState = 'FAILED';
      deployment.rolloutStateReason = `ECS deployment failed: alarm ${firing.join(', ')} in ALARM state.`;
      deployment.updatedAt = now;
      this.emitDeployment(service, deployment, 'SERVICE_DEPLOYMENT_FAILED', deployment.rolloutStateReason);
      const previous = service.deployments.find((d) => d !== deployment);
      if (alarms?.rollback && previous) {
        service.deployments = service.deployments.filter((d) => d !== deployment);
        previous.status = 'PRIMARY';
        previous.rolloutState = 'IN_PROGRESS';
        previous.updatedAt = now;
        this.emitDeployment(
          service,
          previous,
          'SERVICE_DEPLOYMENT_IN_PROGRESS',
          `ECS deployment alarms: rolling back to deploymentId ${previous.id}.`,
        );
        this.o.clock.schedule(now + this.rolloutMs, () => this.finishRollout(service, previous));
      }
      return;
    }
    deployment.rolloutState = 'COMPLETED';
    deployment.rolloutStateReason = 'ECS deployment completed.';
    deployment.updatedAt = now;
    service.deployments = [deployment];
    const def = this.taskDefinitions.get(deployment.taskDefinition);
    for (const [arn, task] of this.tasks)
      if (task.serviceName === service.serviceName && task.cluster === service.cluster)
        this.tasks.delete(arn);
    for (let i = 0; i < service.desiredCount; i++) {
      const id = crypto.randomUUID().replaceAll('-', '');
      const taskArn = this.arn(`task/${service.cluster}/${id}`);
      this.tasks.set(taskArn, {
        taskArn,
        cluster: service.cluster,
        serviceName: service.serviceName,
        taskDefinitionArn: deployment.taskDefinition,
        containers: (def?.containerDefinitions ?? []).map((c) => ({
          name: c.name,
          image: c.image,
          imageDigest: deployment.digests[c.name] ?? '',
        })),
      });
    }
    this.emitDeployment(
      service,
      deployment,
      'SERVICE_DEPLOYMENT_COMPLETED',
      `ECS deployment ${deployment.id} completed.`,
    );
  }

  private emitDeployment(service: Service, deployment: Deployment, eventName: string, reason: string): void {
    const now = this.o.clock.now();
    this.o.emit(
      envelope(this.o, 'aws.ecs', 'ECS Deployment State Change', now, [service.serviceArn], {
        eventType: eventName.endsWith('FAILED') ? 'ERROR' : 'INFO',
        eventName,
        deploymentId: deployment.id,
        updatedAt: new Date(now).toISOString(),
        reason,
      }),
    );
  }

  private view(x: TaskDefinition | Service): Record<string, unknown> {
    if ('family' in x) {
      return {
        ...x.input,
        taskDefinitionArn: x.taskDefinitionArn,
        family: x.family,
        revision: x.revision,
        status: x.status,
        containerDefinitions: x.containerDefinitions,
        registeredAt: new Date(x.registeredAt),
        compatibilities: ['EC2', 'FARGATE'],
      };
    }
    const primary = x.deployments.find((d) => d.status === 'PRIMARY');
    return {
      serviceArn: x.serviceArn,
      serviceName: x.serviceName,
      clusterArn: x.clusterArn,
      status: 'ACTIVE',
      desiredCount: x.desiredCount,
      runningCount: x.desiredCount,
      taskDefinition: primary?.taskDefinition,
      deploymentController: { type: x.controller },
      deploymentConfiguration: x.deploymentConfiguration,
      createdAt: new Date(x.createdAt),
      deployments: x.deployments.map((d) => ({
        id: d.id,
        status: d.status,
        taskDefinition: d.taskDefinition,
        desiredCount: x.desiredCount,
        createdAt: new Date(d.createdAt),
        updatedAt: new Date(d.updatedAt),
        rolloutState: d.rolloutState,
        rolloutStateReason: d.rolloutStateReason,
      })),
    };
  }
}

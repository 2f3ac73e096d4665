import {
  type ContainerDefinition,
  type DeploymentConfiguration,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type TaskDefinition,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { awsErrorName, UnknownResourceError } from '#shared/errors';
import type { ServiceView } from './model.ts';

/** The ECS calls of the rollback runbook, translated to the runbook's own shapes. */

export interface ServiceLocation {
  readonly name: string;
  readonly cluster: string;
  readonly service: string;
  readonly serviceArn: string;
}

export interface ObservedService extends ServiceView {
  readonly deploymentConfiguration?: DeploymentConfiguration;
}

export async function describeService(ecs: ECSClient, where: ServiceLocation): Promise<ObservedService> {
  const out = await ecs.send(
    new DescribeServicesCommand({ cluster: where.cluster, services: [where.service] }),
  );
  const service = out.services?.[0];
  if (!service) {
    const failure = out.failures?.[0];
    throw new UnknownResourceError(
      `ECS service ${where.service} in cluster ${where.cluster} not found (${failure?.reason ?? 'no such service'})`,
    );
  }
  const alarms = service.deploymentConfiguration?.alarms;
  return {
    name: where.name,
    arn: service.serviceArn ?? where.serviceArn,
    controller: service.deploymentController?.type ?? 'ECS',
    deployments: (service.deployments ?? []).map((d) => ({
      id: d.id ?? '',
      status: d.status ?? '',
      taskDefinitionArn: d.taskDefinition ?? '',
      createdAt: d.createdAt?.getTime() ?? 0,
      rolloutState: d.rolloutState,
    })),
    deploymentAlarms: alarms
      ? {
          alarmNames: alarms.alarmNames ?? [],
          enable: alarms.enable ?? false,
          rollback: alarms.rollback ?? false,
        }
      : undefined,
    deploymentConfiguration: service.deploymentConfiguration,
  };
}

/** A task definition's status and its RegisterTaskDefinition input; `MISSING` when ECS no longer has it. */
export interface DescribedTaskDefinition {
  readonly status: string;
  readonly registerInput?: RegisterTaskDefinitionCommandInput;
}

export async function describeTaskDefinition(ecs: ECSClient, arn: string): Promise<DescribedTaskDefinition> {
  try {
    const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
    const def = out.taskDefinition;
    return { status: def?.status ?? 'MISSING', registerInput: def ? registerInputOf(def) : undefined };
  } catch (error) {
    // ECS answers ClientException "Unable to describe task definition" for one it no longer has.
    if (awsErrorName(error) === 'ClientException') return { status: 'MISSING' };
    throw error;
  }
}

/** The RegisterTaskDefinition input that recreates a described definition. */
export function registerInputOf(def: TaskDefinition): RegisterTaskDefinitionCommandInput {
  const {
    taskDefinitionArn: _arn,
    revision: _revision,
    status: _status,
    requiresAttributes: _requires,
    compatibilities: _compat,
    registeredAt: _registeredAt,
    registeredBy: _registeredBy,
    deregisteredAt: _deregisteredAt,
    deleteRequestedAt: _deleteRequestedAt,
    ...input
  } = def as TaskDefinition & { deleteRequestedAt?: Date };
  return input as RegisterTaskDefinitionCommandInput;
}

/** Container names whose image is referenced by a tag (mutable) rather than a digest. */
export function mutableImages(containers: readonly ContainerDefinition[] | undefined): string[] {
  return (containers ?? [])
    .filter((c) => c.image !== undefined && !c.image.includes('@sha256:'))
    .map((c) => c.name ?? '');
}

/** The image digests ECS resolved for a revision, read from the service's running tasks of it. */
export async function imageDigestsOf(
  ecs: ECSClient,
  where: ServiceLocation,
  taskDefinitionArn: string,
): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(
      new ListTasksCommand({
        cluster: where.cluster,
        serviceName: where.service,
        desiredStatus: 'RUNNING',
        nextToken,
      }),
    );
    const arns = page.taskArns ?? [];
    for (let i = 0; i < arns.length; i += 100) {
      const out = await ecs.send(
        new DescribeTasksCommand({ cluster: where.cluster, tasks: arns.slice(i, i + 100) }),
      );
      for (const task of out.tasks ?? []) {
        if (task.taskDefinitionArn !== taskDefinitionArn) continue;
        for (const c of task.containers ?? []) {
          if (c.name && c.imageDigest) digests[c.name] ??= c.imageDigest;
        }
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return digests;
}

/** `repo:tag` or `repo` → `repo@sha256:…` (a registry port's colon is kept). */
export function pinImage(image: string, digest: string): string {
  const at = image.indexOf('@');
  const base = at >= 0 ? image.slice(0, at) : image;
  const colon = base.lastIndexOf(':');
  const repo = colon > base.lastIndexOf('/') ? base.slice(0, colon) : base;
  return `${repo}@${digest}`;
}

/** Registers a copy of a recorded definition with its images pinned to digests; returns the new ARN. */
export async function registerPinnedCopy(
  ecs: ECSClient,
  recorded: RegisterTaskDefinitionCommandInput,
  digests: Readonly<Record<string, string>>,
  sourceArn: string,
  episodeId: string,
): Promise<string> {
  const containerDefinitions = (recorded.containerDefinitions ?? []).map((c) => {
    const digest = c.name ? digests[c.name] : undefined;
    return digest && c.image ? { ...c, image: pinImage(c.image, digest) } : c;
  });
  const out = await ecs.send(
    new RegisterTaskDefinitionCommand({
      ...recorded,
      containerDefinitions,
      tags: [
        ...(recorded.tags ?? []).filter((t) => !t.key?.startsWith('nightshift:')),
        { key: 'nightshift:rollback-of', value: sourceArn },
        { key: 'nightshift:episode', value: episodeId.slice(-256) },
      ],
    }),
  );
  const arn = out.taskDefinition?.taskDefinitionArn;
  if (!arn) throw new Error('RegisterTaskDefinition returned no task definition ARN');
  return arn;
}

export async function updateServiceTaskDefinition(
  ecs: ECSClient,
  where: ServiceLocation,
  taskDefinitionArn: string,
  deploymentConfiguration?: DeploymentConfiguration,
): Promise<void> {
  await ecs.send(
    new UpdateServiceCommand({
      cluster: where.cluster,
      service: where.service,
      taskDefinition: taskDefinitionArn,
      deploymentConfiguration,
    }),
  );
}

export async function updateDeploymentConfiguration(
  ecs: ECSClient,
  where: ServiceLocation,
  deploymentConfiguration: DeploymentConfiguration,
): Promise<void> {
  await ecs.send(
    new UpdateServiceCommand({ cluster: where.cluster, service: where.service, deploymentConfiguration }),
  );
}

/** A new deployment of the revision the service runs (`force-new-deployment`): tasks start and read config. */
export async function forceNewDeployment(ecs: ECSClient, where: ServiceLocation): Promise<void> {
  await ecs.send(
    new UpdateServiceCommand({ cluster: where.cluster, service: where.service, forceNewDeployment: true }),
  );
}

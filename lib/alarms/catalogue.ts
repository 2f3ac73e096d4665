import { Construct } from 'constructs';
import type { AlarmsConfig } from '../config/alarms.ts';
import { CacheAlarms, DatabaseAlarms } from './resource-alarms.ts';
import { ServiceAlarms } from './service-alarms.ts';

/**
 * The `alarms` section of config as constructs: each database's and cache's alarms first, then each
 * service's, whose composite also covers the critical alarms of the resources that name it.
 */
export class AlarmCatalogue extends Construct {
  readonly services: ServiceAlarms[] = [];
  readonly databases: DatabaseAlarms[] = [];
  readonly caches: CacheAlarms[] = [];

  constructor(scope: Construct, id: string, config: AlarmsConfig, serviceTagKey?: string) {
    super(scope, id);
    const tag = serviceTagKey ? { serviceTagKey } : {};
    config.databases.forEach((d, i) => {
      this.databases.push(new DatabaseAlarms(this, `Database${i + 1}`, { ...d, ...tag }));
    });
    config.caches.forEach((c, i) => {
      this.caches.push(new CacheAlarms(this, `Cache${i + 1}`, { ...c, ...tag }));
    });
    config.services.forEach((s, i) => {
      const theirs = [
        ...config.databases.flatMap((d, j) =>
          d.service === s.name ? (this.databases[j]?.alarms ?? []) : [],
        ),
        ...config.caches.flatMap((c, j) => (c.service === s.name ? (this.caches[j]?.alarms ?? []) : [])),
      ];
      this.services.push(
        new ServiceAlarms(this, `Service${i + 1}`, {
          ...s,
          ...tag,
          alsoCritical: theirs.filter((a) => a.severity === 'critical').map((a) => a.alarm),
        }),
      );
    });
  }
}

/** The catalogue's critical 5xx and health alarms of a service: the tier that may guard its ECS rollback. */
export function rollbackGuardNames(service: AlarmsConfig['services'][number]): string[] {
  return service.loadBalancer
    ? ['error-rate', 'unhealthy-hosts', 'no-healthy-hosts'].map(
        (signal) => `${service.name}-${signal}-critical`,
      )
    : [];
}

/**
 * Every alarm name the catalogue makes for a service, by the same rules as its constructs (names are
 * deterministic from config, so the ECS rollback can include its guard tier and leave the rest out).
 */
export function catalogueAlarmNames(service: AlarmsConfig['services'][number]): string[] {
  const tiers = (signal: string) => [
    `${service.name}-${signal}-warning`,
    `${service.name}-${signal}-critical`,
  ];
  return [
    ...tiers('cpu'),
    ...tiers('memory'),
    ...(service.loadBalancer
      ? [...tiers('unhealthy-hosts'), `${service.name}-no-healthy-hosts-critical`, ...tiers('error-rate')]
      : []),
    ...(service.appMetrics?.successRate ? tiers('success-rate') : []),
    ...(service.appMetrics?.processingTime ? tiers('processing-time') : []),
    `${service.name}-unhealthy-critical`,
  ];
}

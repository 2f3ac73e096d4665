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

  constructor(
    scope: Construct,
    id: string,
    private readonly config: AlarmsConfig,
    serviceTagKey?: string,
  ) {
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

  /**
   * The critical 5xx and health alarms of a service that guards its ECS rollback (`guardsRollback`): the
   * tier added to the rollback by name. None for a service that does not guard it.
   */
  guardNames(service: string): string[] {
    const i = this.config.services.findIndex((s) => s.name === service && s.guardsRollback);
    return (this.services[i]?.alarms ?? [])
      .filter((a) => a.severity === 'critical' && GUARD_SIGNALS.includes(a.signal))
      .map((a) => a.name);
  }

  /** Every catalogue alarm outside the guard tiers: they carry the service tag but never trigger a rollback. */
  notGuarding(): string[] {
    const guards = new Set(this.config.services.flatMap((s) => this.guardNames(s.name)));
    return [
      ...this.services.flatMap((s) => [...s.alarms.map((a) => a.name), s.compositeName]),
      ...[...this.databases, ...this.caches].flatMap((r) => r.alarms.map((a) => a.name)),
    ].filter((n) => !guards.has(n));
  }
}

/** The signals whose critical alarms may guard a service's ECS rollback: its 5xx rate and its health. */
const GUARD_SIGNALS: readonly string[] = ['error-rate', 'unhealthy-hosts', 'no-healthy-hosts'];

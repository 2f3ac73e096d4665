import type { SnapshotsConfig } from './schema.ts';

/** Snapshots one database keeps at steady state: one per tier slot (about 24 at the default tiers). */
export function snapshotsPerDatabase(retention: SnapshotsConfig['retention']): number {
  return retention.dailyDays + retention.weeklyWeeks + retention.monthlyMonths;
}

/**
 * Synth-time capacity check: targets × snapshots per target against the Region's manual snapshot quotas
 * (DB snapshots and cluster snapshots separately). Returns a warning per quota that would be exceeded.
 */
export function snapshotCapacityWarnings(config: SnapshotsConfig): string[] {
  const perDatabase = snapshotsPerDatabase(config.retention);
  const t = config.targets;
  const checks = [
    {
      what: 'DB instance',
      count: t.instances.length + t.expectedTaggedInstances,
      quota: config.quota.manualDbSnapshots,
      name: 'manual DB snapshots',
    },
    {
      what: 'Aurora cluster',
      count: t.clusters.length + t.expectedTaggedClusters,
      quota: config.quota.manualClusterSnapshots,
      name: 'manual DB cluster snapshots',
    },
  ];
  return checks
    .filter((c) => c.count * perDatabase > c.quota)
    .map(
      (c) =>
        `snapshots: ${c.count} ${c.what} target(s) × ${perDatabase} snapshots each (daily ${config.retention.dailyDays} + weekly ${config.retention.weeklyWeeks} + monthly ${config.retention.monthlyMonths}) = ${c.count * perDatabase}, over the Region's quota of ${c.quota} ${c.name}. Raise the quota (Service Quotas), shorten a tier, or copy a tier to another Region; until then runs prune first and skip with an alert when full.`,
    );
}

import type { Target } from './plan.ts';
import type { DatabaseView } from './rds.ts';

/** Which databases to snapshot, as configured: by tag and/or by identifier. */
export interface TargetSelection {
  readonly tag?: { readonly key: string; readonly value: string };
  readonly instances: readonly string[];
  readonly clusters: readonly string[];
}

/**
 * The targets among the Region's databases, and the configured identifiers that name no database (bad
 * config: alerted, the others still snapshotted).
 */
export function selectTargets(
  databases: readonly DatabaseView[],
  selection: TargetSelection,
): { targets: Target[]; missing: string[] } {
  const chosen = new Map<string, Target>();
  for (const db of databases) {
    const tagged = selection.tag !== undefined && db.tags[selection.tag.key] === selection.tag.value;
    const listed = (db.kind === 'instance' ? selection.instances : selection.clusters).includes(db.id);
    if (tagged || listed) chosen.set(`${db.kind}:${db.id}`, { id: db.id, kind: db.kind });
  }
  const missing = [
    ...selection.instances.filter((id) => !chosen.has(`instance:${id}`)).map((id) => `DB instance ${id}`),
    ...selection.clusters.filter((id) => !chosen.has(`cluster:${id}`)).map((id) => `DB cluster ${id}`),
  ];
  return { targets: [...chosen.values()], missing };
}

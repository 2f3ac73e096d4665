import * as z from 'zod/mini';
import { parseRuntimeConfig } from '#shared/parse';

const alarmSelector = z.union([z.object({ name: z.string() }), z.object({ prefix: z.string() })]);

/** The runbook's configuration as the construct passes it in `NIGHTSHIFT_RUNBOOK_CONFIG`. */
export const rollbackRuntimeConfigSchema = z.object({
  dryRun: z.boolean(),
  bakeWindowMinutes: z.number(),
  cooldownMinutes: z.number(),
  leaveInProgressToEcs: z.boolean(),
  deploymentAlarmConflict: z.enum(['suspend', 'refuse']),
  auditRetentionDays: z.number(),
  /** Lease of a claim; a retry may resume an unfinished rollback after it. */
  leaseSeconds: z.number(),
  serviceTagKey: z.optional(z.string()),
  /** The parameters Nightshift's rotation owns: their versions are never a config suspect. */
  rotatedParameters: z.optional(z.array(z.string())),
  services: z.array(
    z.object({
      name: z.string(),
      cluster: z.string(),
      service: z.string(),
      serviceArn: z.string(),
      taskDefinitionFamily: z.string(),
      alarms: z.array(alarmSelector),
      /** Config parameters the service reads: by name or path, at start or at run time (cache TTL). */
      config: z.optional(
        z.array(
          z.object({
            parameter: z.optional(z.string()),
            path: z.optional(z.string()),
            readsAt: z.enum(['start', 'run-time']),
            cacheTtlSeconds: z.number(),
          }),
        ),
      ),
    }),
  ),
});
export type RollbackRuntimeConfig = z.infer<typeof rollbackRuntimeConfigSchema>;
export type RuntimeService = RollbackRuntimeConfig['services'][number];

export function parseRollbackRuntimeConfig(json: string): RollbackRuntimeConfig {
  return parseRuntimeConfig(rollbackRuntimeConfigSchema, json);
}

/**
 * The configured service an alarm guards: by the alarm's service tag when present (propagated tags only),
 * else by exact name, else by the longest matching prefix.
 */
export function serviceForAlarm(
  config: RollbackRuntimeConfig,
  alarmName: string,
  alarmTags: Readonly<Record<string, string>> | undefined,
): RuntimeService | undefined {
  const tagged = config.serviceTagKey ? alarmTags?.[config.serviceTagKey] : undefined;
  if (tagged !== undefined) return config.services.find((s) => s.name === tagged);
  const exact = config.services.find((s) => s.alarms.some((a) => 'name' in a && a.name === alarmName));
  if (exact) return exact;
  let best: { service: RuntimeService; length: number } | undefined;
  for (const service of config.services) {
    for (const a of service.alarms) {
      if ('prefix' in a && alarmName.startsWith(a.prefix) && a.prefix.length > (best?.length ?? -1)) {
        best = { service, length: a.prefix.length };
      }
    }
  }
  return best?.service;
}

/**
 * How long a claim outlives its last write: the bake window plus the cooldown plus a lease. A published claim
 * is the cooldown and the "never a loop" record, so it must last that long; beyond it, it expires (TTL).
 */
export function claimTtlMs(config: RollbackRuntimeConfig): number {
  return (config.bakeWindowMinutes + config.cooldownMinutes) * 60_000 + config.leaseSeconds * 1000;
}

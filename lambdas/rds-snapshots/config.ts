import * as z from 'zod/mini';
import { parseRuntimeConfig } from '#shared/parse';

/** The snapshot runbook's configuration as its construct passes it in `NIGHTSHIFT_RUNBOOK_CONFIG`. */
export const snapshotRuntimeConfigSchema = z.object({
  dryRun: z.boolean(),
  auditRetentionDays: z.number(),
  concurrency: z.number(),
  maxDeletionsPerRun: z.number(),
  requestsPerSecond: z.number(),
  retention: z.object({ dailyDays: z.number(), weeklyWeeks: z.number(), monthlyMonths: z.number() }),
  quota: z.object({ instance: z.number(), cluster: z.number() }),
  targets: z.object({
    tag: z.optional(z.object({ key: z.string(), value: z.string() })),
    instances: z.array(z.string()),
    clusters: z.array(z.string()),
  }),
});
export type SnapshotRuntimeConfig = z.infer<typeof snapshotRuntimeConfigSchema>;

export function parseSnapshotRuntimeConfig(json: string): SnapshotRuntimeConfig {
  return parseRuntimeConfig(snapshotRuntimeConfigSchema, json);
}

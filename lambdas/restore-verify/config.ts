import * as z from 'zod/mini';
import { parseRuntimeConfig } from '#shared/parse';

const expectation = z.union([
  z.object({ atLeast: z.number() }),
  z.object({ equals: z.union([z.string(), z.number()]) }),
  z.object({ freshWithinMinutesOfSnapshot: z.number() }),
]);

/** The verification runbook's configuration as its construct passes it in `NIGHTSHIFT_RUNBOOK_CONFIG`. */
export const verifyRuntimeConfigSchema = z.object({
  dryRun: z.boolean(),
  auditRetentionDays: z.number(),
  schedule: z.string(),
  targets: z.object({
    tag: z.optional(z.object({ key: z.string(), value: z.string() })),
    instances: z.array(z.string()),
    clusters: z.array(z.string()),
  }),
  instanceClass: z.string(),
  /** Class of the one instance added to a restored Aurora cluster (default `db.t4g.medium`). */
  clusterInstanceClass: z.optional(z.string()),
  subnetGroupName: z.optional(z.string()),
  securityGroupIds: z.array(z.string()),
  checks: z.array(z.object({ name: z.string(), sql: z.string(), expect: expectation })),
  restoreTimeoutMinutes: z.number(),
  instanceTtlHours: z.number(),
});
export type VerifyHandlerConfig = z.infer<typeof verifyRuntimeConfigSchema>;

export function parseVerifyRuntimeConfig(json: string): VerifyHandlerConfig {
  return parseRuntimeConfig(verifyRuntimeConfigSchema, json);
}

/**
 * The rotation runbook's configuration as its construct passes it in `NIGHTSHIFT_RUNBOOK_CONFIG`.
 *
 * @module
 */
import * as z from 'zod/mini';
import { parseRuntimeConfig } from '#shared/parse';
import { ROTATION_KINDS, WEEKDAYS } from './model.ts';

export const rotationRuntimeConfigSchema = z.object({
  dryRun: z.boolean(),
  auditRetentionDays: z.number(),
  /** A lease long enough for one step; renewed at each. */
  leaseSeconds: z.number(),
  /** SSM requests per second this function makes at most (SSM's quota is per account and Region, shared). */
  ssmRequestsPerSecond: z.number(),
  secrets: z.array(
    z.object({
      parameter: z.string(),
      policy: z.object({
        kind: z.enum(ROTATION_KINDS),
        cadenceDays: z.number(),
        graceDays: z.number(),
        window: z.optional(
          z.object({ days: z.array(z.enum(WEEKDAYS)), startHour: z.number(), endHour: z.number() }),
        ),
        noticeDays: z.optional(z.number()),
      }),
      generate: z.optional(
        z.object({
          length: z.optional(z.number()),
          alphabet: z.optional(z.string()),
          exclude: z.optional(z.string()),
        }),
      ),
      test: z.optional(
        z.object({
          https: z.optional(
            z.object({
              url: z.string(),
              method: z.enum(['GET', 'POST']),
              present: z.union([
                z.object({ scheme: z.literal('bearer') }),
                z.object({ scheme: z.literal('basic'), username: z.string() }),
                z.object({ scheme: z.literal('header'), header: z.string() }),
              ]),
              form: z.optional(z.string()),
              timeoutMs: z.number(),
            }),
          ),
          lambda: z.optional(z.object({ functionArn: z.string(), timeoutMs: z.number() })),
        }),
      ),
      /** The consumers that read it only at start: redeployed after each rotation. */
      startReaders: z.optional(
        z.array(z.object({ cluster: z.string(), service: z.string(), serviceArn: z.string() })),
      ),
      alternating: z.optional(
        z.object({
          users: z.tuple([z.string(), z.string()]),
          ownerRole: z.string(),
          adminParameter: z.optional(z.string()),
        }),
      ),
    }),
  ),
});
export type RotationRuntimeConfig = z.infer<typeof rotationRuntimeConfigSchema>;

export const parseRotationRuntimeConfig = (json: string) =>
  parseRuntimeConfig(rotationRuntimeConfigSchema, json);

/**
 * The `alarms` section: the guide's two-tier alarm catalogue for what it names — ECS services (with their
 * ALB target group and load balancer, and the app's own metrics), RDS instances or clusters, ElastiCache
 * clusters. The guide's thresholds are the defaults; each can be overridden per entry.
 *
 * @module
 */
import { z } from 'zod';

const name = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be lower-case letters, digits or hyphens, max 40');
const identifier = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9-]{0,62}$/, 'must be an RDS or ElastiCache identifier');
const tiers = z
  .strictObject({ warning: z.number().positive(), critical: z.number().positive() })
  .describe('a warning and a critical threshold');
const appMetric = z.strictObject({
  namespace: z.string().min(1).max(255),
  metricName: z.string().min(1).max(255),
  dimensions: z.record(z.string().min(1).max(255), z.string().min(1).max(1024)).optional(),
});

const service = z.strictObject({
  /** The service's name in Nightshift (alarm names, the `nightshift:service` tag), e.g. `api`. */
  name,
  cluster: z.string().min(1).max(255),
  /** The ECS service name. */
  service: z.string().min(1).max(255),
  /** As CloudWatch names them: `targetgroup/<name>/<id>` and `app/<name>/<id>` (both are needed). */
  loadBalancer: z
    .strictObject({
      targetGroup: z
        .string()
        .regex(/^targetgroup\/[A-Za-z0-9-]+\/[0-9a-f]+$/, 'must be targetgroup/<name>/<id>'),
      loadBalancer: z.string().regex(/^app\/[A-Za-z0-9-]+\/[0-9a-f]+$/, 'must be app/<name>/<id>'),
    })
    .optional(),
  thresholds: z
    .strictObject({
      cpuPercent: tiers.optional(),
      memoryPercent: tiers.optional(),
      errorRatePercent: tiers.optional(),
      successRatePercent: tiers.optional(),
      processingTimeMs: tiers.optional(),
    })
    .optional(),
  /**
   * The critical 5xx and health alarms (`<name>-error-rate-critical`, `-unhealthy-hosts-critical`,
   * `-no-healthy-hosts-critical`) guard the ECS rollback service of the same `name`. The catalogue's other
   * alarms never trigger a rollback, even when the rollback matches alarms by its service tag.
   */
  guardsRollback: z.boolean().default(false),
  /** Fewer requests (or webhooks handled) than this in 5 minutes never raise a ratio alarm. */
  minimumRequests: z.number().int().min(1).max(100_000).default(20),
  appMetrics: z
    .strictObject({
      successRate: appMetric.extend({ sampleCount: appMetric }).optional(),
      processingTime: appMetric.optional(),
    })
    .optional(),
});

const database = z
  .strictObject({
    instance: identifier.optional(),
    cluster: identifier.optional(),
    /** The service its alarms belong to (its composite), by `name`. */
    service: name.optional(),
    /** `SHOW max_connections`; else PostgreSQL's default for `instanceClass`. */
    maxConnections: z.number().int().min(1).max(100_000).optional(),
    instanceClass: z
      .string()
      .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'must be an RDS instance class such as db.r6g.large')
      .optional(),
    connectionsPercent: tiers.optional(),
  })
  .refine((d) => (d.instance === undefined) !== (d.cluster === undefined), {
    message: 'give exactly one of instance or cluster',
  })
  .refine((d) => d.maxConnections !== undefined || d.instanceClass !== undefined, {
    message: 'give maxConnections (SHOW max_connections) or instanceClass (its default is computed)',
  });

const cache = z.strictObject({
  cacheClusterId: identifier,
  service: name.optional(),
  memoryPercent: tiers.optional(),
});

export const alarmsSchema = z
  .strictObject({
    services: z.array(service).max(50).default([]),
    databases: z.array(database).max(50).default([]),
    caches: z.array(cache).max(50).default([]),
  })
  .superRefine((a, ctx) => {
    const names = new Set<string>();
    a.services.forEach((s, i) => {
      if (names.has(s.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', i, 'name'],
          message: `service ${s.name} is listed twice`,
        });
      }
      names.add(s.name);
    });
    for (const [kind, list] of [
      ['databases', a.databases],
      ['caches', a.caches],
    ] as const) {
      list.forEach((r, i) => {
        if (r.service !== undefined && !names.has(r.service)) {
          ctx.addIssue({
            code: 'custom',
            path: [kind, i, 'service'],
            message: `names no service of alarms.services (${[...names].join(', ') || 'none'})`,
          });
        }
      });
    }
  });
export type AlarmsConfig = z.output<typeof alarmsSchema>;

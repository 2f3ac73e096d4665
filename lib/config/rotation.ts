/**
 * The `rotation` section: the SSM parameters Nightshift rotates, each with its kind, cadence, grace period
 * and window, the check a new value must pass, and, for the database kinds, where the function runs.
 *
 * @module
 */
import { z } from 'zod';
import { alphabetOf, GeneratedValueError } from '../../lambdas/rotation/generate.ts';
import { ROTATION_KINDS, WEEKDAYS } from '../../lambdas/rotation/model.ts';
import { caBundleFileSchema, vpcSchema } from './network.ts';

/** Cadence defaults from the guide: API keys and credentials quarterly, OAuth client secrets yearly. */
export const DEFAULT_CADENCE_DAYS = {
  generated: 90,
  'postgres-single': 90,
  'postgres-alternating': 90,
  external: 365,
};

const DATABASE_KINDS: readonly string[] = ['postgres-single', 'postgres-alternating'];

/** A PostgreSQL role name as Nightshift accepts it: lower case, unquoted-identifier characters. */
const roleName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case PostgreSQL role name (letters, digits, _)');
const parameterName = z
  .string()
  .regex(
    /^\/[A-Za-z0-9_./-]{1,400}$/,
    'must be an SSM parameter name starting with /, at most 400 characters',
  );
const kmsKeyArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]{1,128}$/, 'must be a KMS key ARN');

/**
 * The HTTPS check a `generated` or `external` value must pass before it is finished: one request to `url`
 * presenting the new value (a bearer token, basic auth with `username` — an OAuth client secret at its token
 * endpoint —, or a header of the service's own), answered 2xx.
 */
/**
 * A Lambda function of the user's that proves a new value: invoked with the parameter's and its pending
 * place's names (never the value), it reads `<name>.pending` itself and answers `{ "ok": true }` or
 * `{ "ok": false, "reason": "…" }`. A function name (this stack's account and Region) or ARN, with an
 * optional alias or version.
 */
const lambdaCheck = z.strictObject({
  function: z
    .string()
    .regex(
      /^(arn:aws[a-z-]*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:function:)?[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]{1,128})?$/,
      'must be a Lambda function name or ARN (optionally :alias)',
    ),
  /** How long the invocation may take; longer fails the step (tried again next run). */
  timeoutMs: z.number().int().min(1000).max(120_000).default(30_000),
});

const httpsCheck = z.strictObject({
  url: z
    .string()
    .max(2048)
    .refine((u) => {
      try {
        return new URL(u).protocol === 'https:';
      } catch {
        return false;
      }
    }, 'must be an https:// URL')
    .refine((u) => {
      try {
        const url = new URL(u);
        return url.username === '' && url.password === '';
      } catch {
        return true;
      }
    }, 'must not carry credentials (user:password@): events and errors name the URL'),
  method: z.enum(['GET', 'POST']).default('GET'),
  present: z
    .discriminatedUnion('scheme', [
      z.strictObject({ scheme: z.literal('bearer') }),
      z.strictObject({
        scheme: z.literal('basic'),
        username: z
          .string()
          .min(1)
          .max(256)
          .refine((u) => !u.includes(':'), 'a basic-auth username cannot contain ":"'),
      }),
      z.strictObject({
        scheme: z.literal('header'),
        // A header of the service's own: never one HTTP itself reads (host would go out as the TLS server
        // name, in clear; content-length, cookie, connection… would break or leak the request).
        header: z
          .string()
          .regex(
            /^(x-[A-Za-z0-9-]{1,62}|api-?key)$/i,
            "must be an HTTP header name of the service's own: x-… or api-key (host, cookie, content-length and the like are refused)",
          ),
      }),
    ])
    .default({ scheme: 'bearer' }),
  /** A form body, e.g. `grant_type=client_credentials` for a token endpoint. */
  form: z.string().max(2048).optional(),
  timeoutMs: z.number().int().min(100).max(30_000).default(5000),
});

/** An ECS service that reads the secret. */
const consumer = z.strictObject({
  cluster: z.string().min(1).max(255),
  service: z.string().min(1).max(255),
  /**
   * `start`: through the task definition's `secrets` (a running task keeps the value it started with);
   * `run-time`: through the SSM API while it runs (e.g. with the consumer helper).
   */
  readsAt: z.enum(['start', 'run-time']),
  /** It reaches the database through RDS Proxy: refused (see the README). */
  viaRdsProxy: z.boolean().default(false),
});

const secret = z
  .strictObject({
    /** The SecureString parameter; it must exist before the first rotation. */
    // SSM allows longer names; events and the pending value's description name it twice, within 1,024.
    parameter: parameterName.refine(
      (p) => !p.endsWith('.pending'),
      'ends in .pending, the name of its own companion parameter',
    ),
    kind: z.enum(ROTATION_KINDS),
    cadenceDays: z.number().int().min(1).max(3650).optional(),
    /** Days the previous value stays readable as `<parameter>:previous`. @default 7 */
    graceDays: z.number().int().min(0).max(90).default(7),
    window: z
      .strictObject({
        days: z.array(z.enum(WEEKDAYS)).min(1),
        startHour: z.number().int().min(0).max(23),
        endHour: z.number().int().min(1).max(24),
      })
      .refine((w) => w.startHour < w.endHour, 'startHour must be before endHour (UTC)')
      .optional(),
    /** The parameter's customer-managed KMS key; absent: the AWS managed key `alias/aws/ssm`. */
    kmsKeyArn: kmsKeyArn.optional(),
    /**
     * `postgres-alternating`: the two login roles (the parameter holds one of them) and the NOLOGIN role
     * that owns the schema's objects and both act as; the administrator's credential (a SecureString
     * `{ username, password }`) is read only to recover when both roles' stored credentials are lost.
     */
    alternating: z
      .strictObject({
        users: z.tuple([roleName, roleName]).refine(([a, b]) => a !== b, 'the two users must differ'),
        ownerRole: roleName,
        adminParameter: parameterName.optional(),
        /** The administrator parameter's customer-managed key, when it has one. */
        adminKmsKeyArn: kmsKeyArn.optional(),
      })
      .optional(),
    /** `generated`, `external`: the check a new value must pass before it is finished. */
    test: z.strictObject({ https: httpsCheck.optional(), lambda: lambdaCheck.optional() }).optional(),
    /** `external`: days before the due date that a warning is raised (overdue is critical). @default 30 */
    noticeDays: z.number().int().min(1).max(180).optional(),
    /**
     * Days a secret may outlive its cadence before its staleness alarm fires (a window, a blocked or failing
     * rotation, a person late with an external value). @default 7
     */
    staleGraceDays: z.number().int().min(1).max(90).default(7),
    /** The ECS services that read it. */
    consumers: z.array(consumer).max(20).default([]),
    /**
     * `generated`: the value's (`postgres-*`: the password's) length (16–4,096, default 40), alphabet, and
     * characters left out.
     */
    generate: z
      .strictObject({
        length: z.number().int().optional(),
        alphabet: z.string().min(1).max(256).optional(),
        exclude: z.string().max(256).optional(),
      })
      .optional(),
  })
  .superRefine((s, ctx) => {
    if (s.test && DATABASE_KINDS.includes(s.kind)) {
      ctx.addIssue({
        code: 'custom',
        path: ['test'],
        message: `a ${s.kind} secret is tested by logging in with it: it takes no test`,
      });
    }
    if (s.noticeDays !== undefined && s.kind !== 'external') {
      ctx.addIssue({
        code: 'custom',
        path: ['noticeDays'],
        message: `a ${s.kind} secret is rotated by Nightshift when due: noticeDays is for external secrets`,
      });
    }
    const cadence = s.cadenceDays ?? DEFAULT_CADENCE_DAYS[s.kind];
    if (s.kind === 'external' && (s.noticeDays ?? 30) >= cadence) {
      ctx.addIssue({
        code: 'custom',
        path: ['noticeDays'],
        message: `a notice of ${s.noticeDays ?? 30} days is not shorter than the cadence (${cadence} days): the warning would be raised as soon as a value is put`,
      });
    }
    if (s.graceDays >= cadence) {
      ctx.addIssue({
        code: 'custom',
        path: ['graceDays'],
        message: `${s.graceDays} days is not shorter than the cadence (${cadence} days): previous would move on before its grace period ended`,
      });
    }
    if (s.generate && s.kind === 'external') {
      ctx.addIssue({
        code: 'custom',
        path: ['generate'],
        message: 'an external secret is issued by a third party: it has no generate spec',
      });
    }
    if (s.kind === 'postgres-alternating' && !s.alternating) {
      ctx.addIssue({
        code: 'custom',
        path: ['alternating'],
        message: 'postgres-alternating needs alternating: { users: [a, b], ownerRole }',
      });
    }
    if (s.alternating && s.kind !== 'postgres-alternating') {
      ctx.addIssue({
        code: 'custom',
        path: ['alternating'],
        message: `a ${s.kind} secret has no alternating users`,
      });
    }
    if (s.alternating?.users.includes(s.alternating.ownerRole)) {
      ctx.addIssue({
        code: 'custom',
        path: ['alternating', 'ownerRole'],
        message: `${s.alternating.ownerRole} is one of the login users: the owner role is a third, NOLOGIN role`,
      });
    }
    s.consumers.forEach((c, i) => {
      if (c.viaRdsProxy && DATABASE_KINDS.includes(s.kind)) {
        ctx.addIssue({
          code: 'custom',
          path: ['consumers', i, 'viaRdsProxy'],
          message: `${c.cluster}/${c.service} reaches the database through RDS Proxy, which takes its credentials from Secrets Manager, not from this parameter: a rotation here would lock it out. Rotate the proxy's secret with Secrets Manager, or connect without the proxy`,
        });
      }
    });
    try {
      if (s.kind !== 'external') alphabetOf(s.generate ?? {});
    } catch (error) {
      if (!(error instanceof GeneratedValueError)) throw error;
      ctx.addIssue({ code: 'custom', path: ['generate'], message: error.message });
    }
  });

export const rotationSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Plan and audit only. */
    dryRun: z.boolean().default(false),
    /** Minutes between runs: how soon a due rotation starts, and how soon one left by a crash resumes. */
    scheduleMinutes: z.number().int().min(5).max(1440).default(60),
    /**
     * SSM requests per second the rotation makes at most. SSM's default throughput (40 a second for
     * GetParameter, GetParameters and GetParametersByPath, per account and Region) is shared with your apps.
     * @default 10
     */
    ssmRequestsPerSecond: z.number().min(1).max(1000).default(10),
    secrets: z.array(secret).min(1).max(50),
    /** The database kinds: where the function runs (it connects from inside the application's VPC). */
    vpc: vpcSchema.optional(),
    /** See {@link caBundleFileSchema}. @default AWS's RDS CA certificates */
    caBundleFile: caBundleFileSchema.optional(),
  })
  .superRefine((r, ctx) => {
    const seen = new Set<string>();
    if (!r.vpc && r.secrets.some((s) => DATABASE_KINDS.includes(s.kind))) {
      ctx.addIssue({
        code: 'custom',
        path: ['vpc'],
        message:
          'a postgres secret is rotated by connecting to its database: give the vpc (vpcId, subnetIds, securityGroupId) the function runs in',
      });
    }
    r.secrets.forEach((s, i) => {
      if (s.window && (s.window.endHour - s.window.startHour) * 60 < r.scheduleMinutes) {
        ctx.addIssue({
          code: 'custom',
          path: ['secrets', i, 'window'],
          message: `a ${s.window.endHour - s.window.startHour}-hour window is shorter than the ${r.scheduleMinutes}-minute schedule: a run might never fall inside it`,
        });
      }
      if (seen.has(s.parameter)) {
        ctx.addIssue({
          code: 'custom',
          path: ['secrets', i, 'parameter'],
          message: `${s.parameter} is listed twice`,
        });
      }
      seen.add(s.parameter);
    });
  });

export type RotationConfig = z.output<typeof rotationSchema>;

/**
 * The `rotation` section: the SSM parameters Nightshift rotates, each with its kind, cadence, grace period
 * and window. Only `generated` is built so far; the other kinds are refused with that reason.
 *
 * @module
 */
import { z } from 'zod';
import { alphabetOf, GeneratedValueError } from '../../lambdas/rotation/generate.ts';
import { ROTATION_KINDS, WEEKDAYS } from '../../lambdas/rotation/model.ts';

/** Cadence defaults from the guide: API keys and credentials quarterly, OAuth client secrets yearly. */
export const DEFAULT_CADENCE_DAYS = {
  generated: 90,
  'postgres-single': 90,
  'postgres-alternating': 90,
  external: 365,
};

const BUILT: readonly string[] = ['generated'];

const secret = z
  .strictObject({
    /** The SecureString parameter; it must exist before the first rotation. */
    parameter: z
      .string()
      // SSM allows longer names; events and the pending value's description name it twice, within 1,024.
      .regex(
        /^\/[A-Za-z0-9_./-]{1,400}$/,
        'must be an SSM parameter name starting with /, at most 400 characters',
      )
      .refine((p) => !p.endsWith('.pending'), 'ends in .pending, the name of its own companion parameter'),
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
    kmsKeyArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]{1,128}$/, 'must be a KMS key ARN')
      .optional(),
    /** `generated`: the value's length (16–4,096, default 40), alphabet, and characters left out. */
    generate: z
      .strictObject({
        length: z.number().int().optional(),
        alphabet: z.string().min(1).max(256).optional(),
        exclude: z.string().max(256).optional(),
      })
      .optional(),
  })
  .superRefine((s, ctx) => {
    if (!BUILT.includes(s.kind)) {
      ctx.addIssue({
        code: 'custom',
        path: ['kind'],
        message: `kind ${s.kind} is not built yet (only generated is); see the README's Rotation section`,
      });
    }
    const cadence = s.cadenceDays ?? DEFAULT_CADENCE_DAYS[s.kind];
    if (s.graceDays >= cadence) {
      ctx.addIssue({
        code: 'custom',
        path: ['graceDays'],
        message: `${s.graceDays} days is not shorter than the cadence (${cadence} days): previous would move on before its grace period ended`,
      });
    }
    if (s.generate && s.kind !== 'generated') {
      ctx.addIssue({
        code: 'custom',
        path: ['generate'],
        message: 'only a generated secret has a generate spec',
      });
    }
    try {
      if (s.kind === 'generated') alphabetOf(s.generate ?? {});
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
  })
  .superRefine((r, ctx) => {
    const seen = new Set<string>();
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

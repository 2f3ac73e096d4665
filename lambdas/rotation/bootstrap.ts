/**
 * The one-time bootstrap of `postgres-alternating`: from a single app user to the layout the rotation
 * expects, two login users that both act as one NOLOGIN owner role which owns the app's objects.
 *
 * observe (`bootstrap-catalog.ts`, the administrator's session) → plan (`planLayout` in `bootstrap-plan.ts`,
 * pure: ordered changes from `bootstrap-sql.ts`, each with its SQL, its reason and the locks it takes) →
 * apply: the plan made again inside ONE transaction (short lock and statement timeouts), so what is applied
 * is what is true at that moment, then checked: a plan made after it is empty. A dry run is the plan, in a
 * read-only transaction. No statement carries a password: the new user gets none (the first rotation sets it
 * with the administrator's credential).
 *
 * This module is the direct-invoke entry: the payload schema and `runBootstrap` (the secret, the stops, the
 * audit and the event around plan and apply). Apply holds the secret's rotation lock, and is refused while a
 * rotation holds it or has left its pending value.
 *
 * @module
 */
import { createHash, randomUUID } from 'node:crypto';
import type { SSMClient } from '@aws-sdk/client-ssm';
import * as z from 'zod/mini';
import type { AuditLog } from '#shared/audit';
import { InvalidEventError, UnknownResourceError } from '#shared/errors';
import { readKillSwitch } from '#shared/kill-switch';
import type { EventPublisher } from '#shared/publisher';
import { iso } from '#shared/time';
import {
  applyBootstrap,
  BootstrapError,
  type BootstrapPlan,
  type BootstrapSession,
  planBootstrap,
  TRANSACTION_MS,
} from './bootstrap-plan.ts';
import type { BootstrapChange } from './bootstrap-sql.ts';
import { adminCredential, type KindSecret } from './kinds.ts';
import type { RotationLocks } from './lock.ts';
import { pendingName } from './model.ts';
import { parseCredential } from './postgres.ts';
import { history, value } from './ssm-protocol.ts';

export {
  applyBootstrap,
  BootstrapError,
  type BootstrapPlan,
  type BootstrapSession,
  planBootstrap,
  planLayout,
  TRANSACTION_MS,
} from './bootstrap-plan.ts';
export type { BootstrapChange, BootstrapLock, BootstrapTarget, LockMode } from './bootstrap-sql.ts';

/** The direct-invoke payload: `{ "bootstrap": { "parameter": "/webhooks/db", "apply": false } }`. */
export const bootstrapRequestSchema = z.strictObject({
  bootstrap: z.strictObject({
    parameter: z.string().check(z.minLength(1), z.maxLength(2048)),
    apply: z.optional(z.boolean()),
  }),
});

/** Whether an invocation is a bootstrap request (no EventBridge event has a top-level `bootstrap`). */
export const isBootstrapRequest = (event: unknown): boolean =>
  typeof event === 'object' && event !== null && 'bootstrap' in event;

export interface BootstrapDeps {
  readonly ssm: SSMClient;
  /** The secret's rotation lock: apply holds it (`bootstrap@<time>`), so no rotation runs meanwhile. */
  readonly locks: Pick<RotationLocks, 'read' | 'acquire' | 'release'>;
  /** Who holds the lock (the invocation's request id); a random one unless given. */
  readonly owner?: string;
  readonly events: EventPublisher;
  readonly audit: AuditLog;
  readonly clock: () => number;
  readonly killSwitchParameter: string;
  /** The runbook's dry run: like the kill switch, it refuses `apply`. */
  readonly dryRun: boolean;
  readonly caBundle?: string;
  /** The request came back in a redrive from the dead-letter queue: an apply is never replayed so. */
  readonly redriven?: boolean;
}

export type BootstrapOutcome =
  | { readonly outcome: 'planned'; readonly parameter: string; readonly plan: BootstrapPlan }
  | {
      readonly outcome: 'applied';
      readonly parameter: string;
      readonly plan: BootstrapPlan;
      readonly applied: readonly BootstrapChange[];
    };

/** How long apply holds the rotation lock, should it never release it: the transaction, connecting, the rest. */
export const BOOTSTRAP_LEASE_MS = TRANSACTION_MS + 90_000;

/**
 * Validates the request, checks the secret and the stops, then plans (the default) or applies, holding the
 * rotation lock.
 */
export async function runBootstrap(
  input: unknown,
  secrets: readonly Pick<KindSecret, 'parameter' | 'policy' | 'alternating'>[],
  deps: BootstrapDeps,
): Promise<BootstrapOutcome> {
  const parsed = z.safeParse(bootstrapRequestSchema, input);
  if (!parsed.success) {
    const at = (path: readonly PropertyKey[]) =>
      path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], input);
    throw new InvalidEventError(
      `malformed bootstrap request: ${parsed.error.issues
        .map(
          (i) =>
            `${i.path.map(String).join('.') || '(value)'}: ${i.message} (got ${JSON.stringify(at(i.path))?.slice(0, 100)})`,
        )
        .join('; ')}`,
    );
  }
  const { parameter, apply = false } = parsed.data.bootstrap;
  const field = `bootstrap.parameter ${JSON.stringify(parameter)}`;
  const secret = secrets.find((s) => s.parameter === parameter);
  if (!secret) {
    const known = secrets.map((s) => s.parameter).join(', ') || 'none';
    throw new UnknownResourceError(
      `${field} is not a configured secret (configured: ${known.slice(0, 500)})`,
    );
  }
  if (secret.policy.kind !== 'postgres-alternating' || !secret.alternating) {
    throw new InvalidEventError(
      `${field} is ${secret.policy.kind}: only postgres-alternating secrets bootstrap`,
    );
  }
  const adminParameter = secret.alternating.adminParameter;
  if (!adminParameter) {
    throw new InvalidEventError(
      `${field} has no alternating.adminParameter: the bootstrap logs in as the administrator`,
    );
  }
  const audit: Audit = (outcome, reason, details) =>
    deps.audit.record(
      {
        runbook: 'rotation',
        action: 'bootstrap',
        subject: parameter,
        outcome,
        reason,
        ...(details ? { details } : {}),
      },
      deps.clock(),
    );
  const owner = deps.owner ?? `bootstrap-${randomUUID()}`;
  if (apply) {
    const refuse = async (why: string): Promise<never> => {
      const reason = `bootstrap.apply true refused: ${why}; nothing changed (apply false plans)`;
      await audit('skipped', reason);
      throw new BootstrapError(reason);
    };
    const stop = deps.dryRun
      ? 'the rotation runbook is in dry run'
      : await readKillSwitch(deps.ssm, deps.killSwitchParameter).then((k) =>
          k.engaged ? k.reason : undefined,
        );
    if (stop) await refuse(stop);
    if (deps.redriven) {
      await refuse(
        'it came back in a redrive of a failed invocation, and an apply is an operator’s one-time act: invoke it again yourself after reading a fresh dry run',
      );
    }
    const { lock: held } = await deps.locks.read(parameter);
    if (held && held.leaseUntil > deps.clock())
      await refuse(`rotation ${held.rotationId} of ${parameter} is in progress`);
    // Before the lock is taken: taking a lapsed lock would reset the unfinished rotation's record.
    if ((await history(deps.ssm, pendingName(parameter)))?.length) {
      await refuse(
        `${pendingName(parameter)} exists: a rotation${held ? ` (${held.rotationId})` : ''} has not finished; let the next rotation run finish it, or delete ${pendingName(parameter)} to give it up`,
      );
    }
    const rotationId = `bootstrap@${iso(deps.clock())}`;
    if (!(await deps.locks.acquire(parameter, rotationId, owner, deps.clock(), BOOTSTRAP_LEASE_MS)))
      await refuse(`another run took the rotation lock of ${parameter} meanwhile`);
  }
  try {
    return await planOrApply({ parameter, apply, layout: secret.alternating, adminParameter, audit }, deps);
  } finally {
    // A lock not let go (the state table unreachable) lapses with its lease.
    if (apply) await deps.locks.release(parameter, owner).catch(() => undefined);
  }
}

type Audit = (
  outcome: 'performed' | 'skipped' | 'failed',
  reason: string,
  details?: Record<string, unknown>,
) => Promise<void>;

/** Reads the credentials, then the dry run or the apply (audited and announced). */
async function planOrApply(
  o: {
    readonly parameter: string;
    readonly apply: boolean;
    readonly layout: NonNullable<KindSecret['alternating']>;
    readonly adminParameter: string;
    readonly audit: Audit;
  },
  deps: BootstrapDeps,
): Promise<BootstrapOutcome> {
  const { parameter, adminParameter, audit } = o;
  const field = `bootstrap.parameter ${JSON.stringify(parameter)}`;
  const currentJson = await value(deps.ssm, parameter);
  if (currentJson === undefined) throw new BootstrapError(`${field} does not exist in SSM`);
  const current = parseCredential(currentJson, parameter);
  const adminJson = await value(deps.ssm, adminParameter);
  if (adminJson === undefined)
    throw new BootstrapError(`alternating.adminParameter ${adminParameter} does not exist`);
  if (deps.caBundle === undefined)
    throw new BootstrapError('no CA bundle: the bootstrap connects with verified TLS');
  const session: BootstrapSession = {
    current,
    admin: adminCredential(adminJson, adminParameter, current),
    layout: o.layout,
    caBundle: deps.caBundle,
  };
  if (!o.apply) return { outcome: 'planned', parameter, plan: await planBootstrap(session) };
  let done: Awaited<ReturnType<typeof applyBootstrap>>;
  try {
    done = await applyBootstrap(session);
  } catch (error) {
    await audit('failed', `${(error as Error).name}: ${(error as Error).message.slice(0, 500)}`);
    throw error;
  }
  const { applied, ...plan } = done;
  await audit('performed', applied.length === 0 ? plan.summary : `applied ${applied.length} changes`, {
    statements: applied.slice(0, 200).map((c) => c.sql),
    notes: plan.notes.slice(0, 50),
  });
  if (applied.length > 0) {
    await deps.events.publish({
      detailType: 'Rotation Bootstrapped',
      eventKey: `rotation#${parameter}#bootstrap#${iso(deps.clock())}#${digest(applied)}`,
      severity: 'info',
      detail: {
        parameter,
        appUser: plan.appUser,
        otherUser: plan.otherUser,
        ownerRole: plan.ownerRole,
        changes: applied.length,
      },
    });
  }
  return { outcome: 'applied', parameter, plan, applied };
}

/** The same changes, the same key: a redelivered event deduplicates, another apply does not. */
const digest = (changes: readonly BootstrapChange[]) =>
  createHash('sha256')
    .update(changes.map((c) => c.sql).join('\n'))
    .digest('hex')
    .slice(0, 16);

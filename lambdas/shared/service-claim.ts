/**
 * The per-service claim in the state table: at most one Nightshift deployment of an ECS service in flight,
 * whichever runbook makes it — a task-definition rollback, a config rollback (both the ECS rollback
 * function's), or a rotation's redeployment of the consumers that read a secret at start (the rotation
 * function's). Its own partition, `claim#<service ARN>`, which each of those functions may write
 * (`dynamodb:LeadingKeys`) without reaching into another's history.
 *
 * Fields every claim carries, whoever wrote it: `kind`, `episodeId`, `stage`, `owner`, `leaseUntil`, and
 * once its deployment is made, `updatedAt`; a rollback's claim also `cooldownUntil` once published.
 */
export const claimKey = (serviceArn: string) => ({ pk: `claim#${serviceArn}`, sk: 'claim' });

/**
 * What a claim is for. Absent on claims written before config rollback existed: those are `task-definition`.
 * `redeploy` is a rotation's same-revision deployment of start-time readers: never a suspect, no cooldown.
 */
export type ClaimKind = 'task-definition' | 'config' | 'redeploy';

export function claimKindOf(claim: { readonly kind?: ClaimKind }): ClaimKind {
  return claim.kind ?? 'task-definition';
}

/**
 * A claim as any runbook observes it before deciding whether it may take it: the fields every claim carries,
 * read defensively (an item written by another runbook is data, not a type). `undefined` fields were absent.
 */
export interface ObservedServiceClaim {
  readonly kind?: ClaimKind;
  readonly runbook?: string;
  readonly episodeId?: string;
  readonly stage?: string;
  readonly owner?: string;
  readonly leaseUntil?: number;
  readonly updatedAt?: number;
  /** A rollback's, once published: until then no other Nightshift deployment of the service. */
  readonly cooldownUntil?: number;
  /** A rollback's: its deployment completed, or failed (either way it ended). */
  readonly completedAt?: number;
  readonly failedAt?: number;
}

const CLAIM_KINDS: readonly string[] = ['task-definition', 'config', 'redeploy'];

/** The claim item's fields as {@link ObservedServiceClaim}: strings and numbers kept, anything else left out. */
export function observedServiceClaim(item: Record<string, unknown>): ObservedServiceClaim {
  const text = (k: string) => (typeof item[k] === 'string' ? { [k]: item[k] as string } : {});
  const num = (k: string) => (typeof item[k] === 'number' ? { [k]: item[k] as number } : {});
  return {
    ...(typeof item.kind === 'string' && CLAIM_KINDS.includes(item.kind)
      ? { kind: item.kind as ClaimKind }
      : {}),
    ...text('runbook'),
    ...text('episodeId'),
    ...text('stage'),
    ...text('owner'),
    ...num('leaseUntil'),
    ...num('updatedAt'),
    ...num('cooldownUntil'),
    ...num('completedAt'),
    ...num('failedAt'),
  };
}

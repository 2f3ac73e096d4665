/**
 * Whether a rotation may redeploy one consumer that reads the secret at start, now: from the service's claim
 * (the per-service claim shared with the rollback runbooks), the clock and this run. Pure.
 *
 * A rotation's redeployment is a same-revision deployment (`forceNewDeployment`), never during a rollback
 * or its cooldown: it may take the claim when there is none, when it is a redeployment's that was published
 * or whose lease passed, or when it is a rollback's that was published, whose deployment ended and whose
 * `cooldownUntil` has passed. Anything else defers it to a later run.
 *
 * @module
 */
import { claimKindOf, type ObservedServiceClaim } from '#shared/service-claim';
import { iso } from '#shared/time';

export type RedeployDecision =
  /** Take the claim (a conditional write on exactly `observed`, or on no claim) and redeploy. */
  | { readonly do: 'take'; readonly observed?: ObservedServiceClaim; readonly reason: string }
  /** This rotation's redeployment of the service was made (its claim is published). */
  | { readonly do: 'done'; readonly reason: string }
  /** Another run is making a redeployment now (a live lease): a later run looks again. */
  | { readonly do: 'busy'; readonly reason: string }
  /**
   * A rollback is in flight or in its cooldown: not now. `blocker` names it stably (one alert per blocker,
   * however many runs see it).
   */
  | {
      readonly do: 'defer';
      readonly reason: string;
      readonly blocker: string;
      /** When the cooldown ends, when it is known. */
      readonly until?: number;
    };

export function planRedeploy(o: {
  readonly claim: ObservedServiceClaim | undefined;
  /** This rotation's redeployment: `rotation:<parameter>@<rotation id>`. */
  readonly episodeId: string;
  readonly owner: string;
  readonly now: number;
}): RedeployDecision {
  const { claim, now } = o;
  if (!claim) return { do: 'take', reason: 'no claim on the service' };
  const episode = claim.episodeId ?? '(no episode)';
  // A claim the conditional write cannot name exactly is never overwritten.
  if (claim.episodeId === undefined || claim.owner === undefined || claim.leaseUntil === undefined) {
    return {
      do: 'defer',
      reason: `the service's claim is not one Nightshift can read (episode, owner or lease missing): left alone until it expires`,
      blocker: `unreadable|${episode}`,
    };
  }
  const live = claim.leaseUntil >= now;
  if (claimKindOf(claim) === 'redeploy') {
    const own = claim.episodeId === o.episodeId;
    if (own && claim.stage === 'published') {
      return { do: 'done', reason: 'this rotation already redeployed the service' };
    }
    if (claim.stage === 'published' || !live || claim.owner === o.owner) {
      return {
        do: 'take',
        observed: claim,
        reason:
          claim.stage === 'published'
            ? `the last redeployment (${episode}) was made`
            : `redeployment ${episode} was left unfinished (its lease passed${own ? ': it may have been made; a second one is harmless' : ''})`,
      };
    }
    return {
      do: 'busy',
      reason: `redeployment ${episode} is being made by another run (lease until ${iso(claim.leaseUntil)})`,
    };
  }
  const ended = claim.completedAt !== undefined || claim.failedAt !== undefined;
  if (claim.stage !== 'published' || !ended) {
    return {
      do: 'defer',
      reason: `rollback ${episode} is in flight (${claim.stage === 'published' ? 'its deployment has not ended' : `stage ${claim.stage ?? 'unknown'}`}): redeployed after it and its cooldown`,
      blocker: `in-flight|${episode}`,
    };
  }
  if (claim.cooldownUntil === undefined) {
    return {
      do: 'defer',
      reason: `rollback ${episode} carries no cooldown end: redeployed once its claim expires`,
      blocker: `no-cooldown|${episode}`,
    };
  }
  if (claim.cooldownUntil > now) {
    return {
      do: 'defer',
      reason: `rollback ${episode} is in its cooldown until ${iso(claim.cooldownUntil)}`,
      blocker: `cooldown|${episode}|${claim.cooldownUntil}`,
      until: claim.cooldownUntil,
    };
  }
  return {
    do: 'take',
    observed: claim,
    reason: `rollback ${episode} ended and its cooldown passed at ${iso(claim.cooldownUntil)}`,
  };
}

/** A rotation's redeployment episode: one per rotation, shared by every run that works on it. */
export const redeployEpisodeId = (parameter: string, rotationId: string) =>
  `rotation:${parameter}@${rotationId}`;

import { describe, expect, it } from 'vitest';
import { planRedeploy, redeployEpisodeId } from '../../../lambdas/rotation/redeploy-plan.ts';
import type { ObservedServiceClaim } from '../../../lambdas/shared/service-claim.ts';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const MIN = 60_000;
const MINE = redeployEpisodeId('/webhooks/api-key', '/webhooks/api-key@2026-12-01T00:00:00.000Z');
const rollback = (o: Partial<ObservedServiceClaim> = {}): ObservedServiceClaim => ({
  episodeId: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx@2026-12-02T11:00:00.000Z',
  owner: 'rollback-run',
  leaseUntil: NOW + MIN,
  stage: 'updated',
  updatedAt: NOW - 5 * MIN,
  ...o,
});
const redeploy = (o: Partial<ObservedServiceClaim> = {}): ObservedServiceClaim => ({
  kind: 'redeploy',
  runbook: 'rotation',
  episodeId: MINE,
  owner: 'other-run',
  leaseUntil: NOW + MIN,
  stage: 'claimed',
  ...o,
});
const plan = (claim: ObservedServiceClaim | undefined) =>
  planRedeploy({ claim, episodeId: MINE, owner: 'this-run', now: NOW });

describe('planRedeploy', () => {
  describe('takes the claim', () => {
    it.each<[string, ObservedServiceClaim | undefined]>([
      ['when there is none', undefined],
      [
        'from a published redeployment of another rotation',
        redeploy({ episodeId: 'rotation:/x@1', stage: 'published', leaseUntil: 0 }),
      ],
      ['from an unfinished redeployment whose lease passed', redeploy({ leaseUntil: NOW - 1 })],
      ['from its own unfinished claim', redeploy({ owner: 'this-run' })],
      [
        'from a rollback that was published, whose deployment completed and whose cooldown passed',
        rollback({ stage: 'published', completedAt: NOW - 40 * MIN, cooldownUntil: NOW }),
      ],
      [
        'from a config rollback whose deployment failed and whose cooldown passed',
        rollback({ kind: 'config', stage: 'published', failedAt: NOW - 40 * MIN, cooldownUntil: NOW - 1 }),
      ],
    ])('%s', (_, claim) => {
      const d = plan(claim);
      expect(d.do).toBe('take');
      // The conditional write is on exactly what was observed.
      expect(d).toEqual(expect.objectContaining(claim ? { observed: claim } : {}));
      if (!claim) expect(d).not.toHaveProperty('observed');
    });
  });

  describe('defers it, naming the blocker', () => {
    it.each<[string, ObservedServiceClaim, RegExp]>([
      ['during a rollback (lease live, not published)', rollback(), /in flight \(stage updated\)/],
      [
        'during a rollback whose lease passed (its retry resumes it)',
        rollback({ leaseUntil: NOW - 1 }),
        /in flight/,
      ],
      [
        'while a published rollback deployment has not ended',
        rollback({ stage: 'published', cooldownUntil: NOW - 1 }),
        /deployment has not ended/,
      ],
      [
        "during a rollback's cooldown",
        rollback({ stage: 'published', completedAt: NOW - 5 * MIN, cooldownUntil: NOW + 25 * MIN }),
        /cooldown until 2026-12-02T12:25:00/,
      ],
      [
        'when a rollback carries no cooldown end (until its claim expires)',
        rollback({ stage: 'published', completedAt: NOW - 5 * MIN }),
        /no cooldown end/,
      ],
      [
        'when the claim cannot be read',
        { kind: 'redeploy', stage: 'published' },
        /not one Nightshift can read/,
      ],
    ])('%s', (_, claim, reason) => {
      const d = plan(claim);
      expect(d).toMatchObject({ do: 'defer', reason: expect.stringMatching(reason) });
    });

    it('one blocker per rollback and phase: the same key however many runs look, a new one for its cooldown', () => {
      const inFlight = plan(rollback());
      const later = planRedeploy({
        claim: rollback({ stage: 'claimed' }),
        episodeId: MINE,
        owner: 'x',
        now: NOW + MIN,
      });
      const cooling = plan(rollback({ stage: 'published', completedAt: NOW, cooldownUntil: NOW + MIN }));
      const blocker = (d: ReturnType<typeof plan>) => (d.do === 'defer' ? d.blocker : d.do);
      expect(blocker(inFlight)).toBe(blocker(later));
      expect(blocker(cooling)).not.toBe(blocker(inFlight));
    });
  });

  it('this rotation already redeployed the service: done, not again', () => {
    expect(plan(redeploy({ stage: 'published', leaseUntil: 0 })).do).toBe('done');
  });

  it("another run's live redeployment: busy, not deferred (no warning)", () => {
    expect(plan(redeploy()).do).toBe('busy');
    expect(plan(redeploy({ episodeId: 'rotation:/other@1' })).do).toBe('busy');
  });
});

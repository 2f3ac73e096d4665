import { describe, expect, it } from 'vitest';
import { SERVICE_ARN, td } from './fake-ecs.ts';
import { fire, h, MIN, run, T0, useRollbackHarness } from './harness.ts';

useRollbackHarness();

const ALARM = 'webhooks-api-5xx-rate-high';
const REAL_IMAGE = /^123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/api@sha256:/;

/** Overwrites the stored definition of revision 1, as a role able to write the table could (finding 4). */
async function forgeStoredDefinition() {
  const rev1 = (await h.store.load(SERVICE_ARN)).revisions.find((r) => r.taskDefinitionArn === td(1));
  if (!rev1?.taskDefinitionJson) throw new Error('no recorded definition of revision 1');
  const forged = JSON.parse(rev1.taskDefinitionJson);
  forged.containerDefinitions[0].image = 'attacker.example.com/backdoor:latest';
  await h.store.putRevision(SERVICE_ARN, { ...rev1, taskDefinitionJson: JSON.stringify(forged) }, h.now);
}

describe("ecs-rollback re-registers ECS's own copy of a revision", () => {
  it('does not deploy a forged rev# JSON for a revision ECS still describes (INACTIVE)', async () => {
    const def = h.world.state.definitions.get(td(1));
    if (def) def.status = 'INACTIVE';
    await forgeStoredDefinition();
    const result = await run(fire(ALARM, T0 - MIN));
    expect(result.result.outcome).toBe('performed');
    expect(h.world.state.registered).toHaveLength(1);
    const images = (h.world.state.registered[0]?.containerDefinitions ?? []).map((c) => c.image ?? '');
    expect(images.join(' ')).not.toContain('attacker.example.com');
    expect(images[0]).toMatch(REAL_IMAGE);
    expect(h.world.state.updates).toEqual([{ taskDefinition: td(3), alarmsEnabled: undefined }]);
  });

  it('uses the stored JSON only for a revision ECS no longer has', async () => {
    h.world.state.definitions.delete(td(1));
    const result = await run(fire(ALARM, T0 - MIN));
    expect(result.result.outcome).toBe('performed');
    expect(h.world.state.registered).toHaveLength(1);
    expect(h.world.state.registered[0]?.containerDefinitions?.[0]?.image).toMatch(REAL_IMAGE);
    expect(h.world.state.registered[0]?.tags).toContainEqual({ key: 'nightshift:rollback-of', value: td(1) });
  });
});

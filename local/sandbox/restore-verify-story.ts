import type { LocalWorld } from '../world/world.ts';
import type { Narrate, StoryCheck } from './ecs-rollback-story.ts';
import { receiveWebhooks } from './rds-snapshots-story.ts';

const DAY = 86_400_000;

/**
 * Restore verification: during the 40 days, every Sunday the newest Nightshift snapshot of each target was
 * restored to a temporary instance on real PostgreSQL, checked over TLS, and deleted. Then webhooks-db is
 * emptied, and the next Sunday's verification of its fresh snapshot fails, naming the check.
 */
export async function runRestoreVerifyStory(world: LocalWorld, narrate: Narrate): Promise<StoryCheck[]> {
  const verifiedBefore = world.events.published.filter((e) => e['detail-type'] === 'Restore Verified');
  for (const e of verifiedBefore.slice(0, 4)) {
    narrate(
      `${e.time.slice(0, 10)} ${String(e.detail.database)}: restored ${String(e.detail.snapshot)} → ${String(e.detail.reason)} (${String(e.detail.restoreMinutes)} min to usable)`,
    );
  }
  if (verifiedBefore.length > 4) narrate(`… ${verifiedBefore.length} verifications passed in 40 days`);

  narrate('webhooks-db is emptied (a bad migration truncates webhook_events)');
  await receiveWebhooks(world, 'webhooks-db', 'truncate');
  const before = world.events.published.length;
  for (let day = 0; day < 8; day++) {
    await receiveWebhooks(world, 'billing-db', 'insert');
    await world.advance(DAY);
  }
  const after = world.events.published.slice(before);
  const failed = after.filter((e) => e['detail-type'] === 'Restore Verification Failed');
  for (const e of failed)
    narrate(`${e.time.slice(0, 10)} ${String(e.detail.database)}: ${String(e.detail.reason)}`);
  const copiesLeft = [...world.rds.instances.values()].filter(
    (i) => i.id.startsWith('nightshift-verify-') && i.status !== 'deleting',
  );
  const failures = world.deliveries.filter((d) => !d.result.ok && d.function.includes('RestoreVerify'));
  return [
    {
      what: 'weekly verifications passed with real row counts',
      ok: verifiedBefore.length >= 8,
      detail: `${verifiedBefore.length} Restore Verified events`,
    },
    {
      what: "the emptied database's verification failed, naming the check",
      ok:
        failed.length === 1 &&
        failed[0]?.detail.database === 'webhooks-db' &&
        String(failed[0]?.detail.reason).startsWith('check "webhooks were received" failed'),
      detail: failed.map((f) => String(f.detail.reason)).join('; ') || 'no failure reported',
    },
    {
      what: 'billing-db kept passing',
      ok: after.some((e) => e['detail-type'] === 'Restore Verified' && e.detail.database === 'billing-db'),
      detail: 'Restore Verified for billing-db after the emptying',
    },
    {
      what: 'every temporary copy was deleted',
      ok: copiesLeft.length === 0,
      detail: `${copiesLeft.length} nightshift-verify-* instance(s) left`,
    },
    {
      what: 'every verification tick succeeded',
      ok: failures.length === 0,
      detail: `${failures.length} failed${failures[0] ? `: ${failures[0].result.error?.message}` : ''}`,
    },
  ];
}

import { readKillSwitch } from '#shared/kill-switch';
import { act } from './act.ts';
import { auditVerify as audit, type VerifyDeps, VerifyTickError } from './deps.ts';
import { observeVerification } from './observe.ts';
import { planVerification, type VerifyAction } from './plan.ts';

export { RUNBOOK, type VerifyDeps, type VerifyRuntimeConfig, VerifyTickError } from './deps.ts';
export { clusterMemberId } from './identifiers.ts';
export { PASSWORD_PATH, passwordParameter } from './passwords.ts';

/**
 * observe → plan → act: one reconcile tick of restore verification. Under the kill switch (or when it cannot
 * be read) and in dry-run, the plan is only recorded and returned.
 */
export async function runVerifyTick(
  deps: VerifyDeps,
): Promise<{ actions: VerifyAction[]; outcome: 'performed' | 'planned' }> {
  const actions = planVerification(await observeVerification(deps, deps.clock()));
  const killSwitch = await readKillSwitch(deps.ssm, deps.killSwitchParameter);
  const hold = killSwitch.engaged ? killSwitch.reason : deps.config.dryRun ? 'dry-run' : undefined;
  if (hold !== undefined) {
    for (const a of actions)
      await audit(deps, a.kind, 'planned', subjectOf(a), `${a.reason} — not carried out: ${hold}`);
    return { actions, outcome: 'planned' };
  }
  // One action's failure must not hold up the others (least of all the deletes); each is recorded.
  const failures: string[] = [];
  for (const action of actions) {
    try {
      await act(action, deps);
    } catch (error) {
      const why = `${(error as Error).name}: ${(error as Error).message}`;
      failures.push(`${action.kind} ${subjectOf(action)}: ${why}`);
      // The audit may be failing too (the same outage): the tick's error still names every failure.
      await audit(
        deps,
        action.kind,
        'failed',
        subjectOf(action),
        `${action.reason} — failed, retried next tick: ${why}`,
      ).catch((auditError: unknown) => failures.push(`audit: ${(auditError as Error).name}`));
    }
  }
  if (failures.length > 0)
    throw new VerifyTickError(`${failures.length} action(s) failed: ${failures.join('; ')}`);
  return { actions, outcome: 'performed' };
}

function subjectOf(a: VerifyAction): string {
  switch (a.kind) {
    case 'restore':
    case 'reset-password':
    case 'check':
    case 'fail':
      return a.record.database;
    case 'no-snapshot':
      return a.marker.database;
    case 'delete-copy':
    case 'delete-password':
      return a.copyId;
  }
}

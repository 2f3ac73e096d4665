import type { StackOrigin } from './env.ts';
import { ForeignEventError } from './errors.ts';

/**
 * Refuses an event from another account or Region than the stack's. The rules filter on both too; this is
 * the check for what reaches the function another way (a direct invoke, a rule on a foreign bus).
 * Multi-account comes later through an explicit allow-list.
 */
export function assertOwnOrigin(
  event: { account: string; region: string },
  origin: StackOrigin,
  what: string,
): void {
  if (event.account !== origin.account) {
    throw new ForeignEventError(
      `${what}: account ${JSON.stringify(event.account)} is not this stack's account ${origin.account}; nothing was changed`,
    );
  }
  if (event.region !== origin.region) {
    throw new ForeignEventError(
      `${what}: region ${JSON.stringify(event.region)} is not this stack's Region ${origin.region}; nothing was changed`,
    );
  }
}

import type { RDSClient } from '@aws-sdk/client-rds';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { AuditEntry, AuditLog } from '#shared/audit';
import { NightshiftError } from '#shared/errors';
import type { RunbookMetrics } from '#shared/middleware';
import type { EventPublisher } from '#shared/publisher';
import type { Clock } from '#shared/time';
import type { VerifyHandlerConfig } from './config.ts';
import type { VerificationStore } from './store.ts';

export const RUNBOOK = 'restore-verify';

/** A tick some of whose actions failed; the others were carried out, the next tick converges. */
export class VerifyTickError extends NightshiftError {
  override readonly name: string = 'VerifyTickError';
}

/**
 * The settings a tick works with: the construct's runtime config (one schema, {@link VerifyHandlerConfig})
 * less what the handler consumes itself (audit retention, the schedule it computes `dueSince` from).
 */
export type VerifyRuntimeConfig = Readonly<Omit<VerifyHandlerConfig, 'auditRetentionDays' | 'schedule'>>;

/** What a tick works with: clients, state, the clock and the configuration. */
export interface VerifyDeps {
  readonly rds: RDSClient;
  readonly ssm: SSMClient;
  readonly store: VerificationStore;
  readonly audit: AuditLog;
  readonly publisher: EventPublisher;
  readonly metrics: RunbookMetrics;
  readonly clock: Clock;
  readonly config: VerifyRuntimeConfig;
  readonly killSwitchParameter: string;
  /** PEM of the CA bundle RDS server certificates chain to. */
  readonly caBundle: string;
  /** When the verification schedule last came due (from the real clock). */
  readonly dueSince: number;
}

/** Adds one restore-verify entry to the audit log, at the clock's now. */
export function auditVerify(
  deps: Pick<VerifyDeps, 'audit' | 'clock'>,
  action: string,
  outcome: AuditEntry['outcome'],
  subject: string,
  reason: string,
): Promise<void> {
  return deps.audit.record({ runbook: RUNBOOK, action, outcome, subject, reason }, deps.clock());
}

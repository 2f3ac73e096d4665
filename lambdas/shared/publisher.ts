import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { NightshiftError } from './errors.ts';

/** Severity every Nightshift event carries; the alert router maps it to channels. */
export type Severity = 'critical' | 'warning' | 'info';

/** A `nightshift` event: source `nightshift`, detail-type per action. */
export interface NightshiftEvent {
  readonly detailType: string;
  /**
   * What the event is about, deterministically: the same action reported twice (a retry, a second
   * delivery) carries the same key, published as `detail.eventKey`. EventBridge's `id` changes with every
   * PutEvents call, so the alert router deduplicates on this instead. `<runbook>#<subject>#<what>`.
   */
  readonly eventKey: string;
  readonly severity: Severity;
  readonly resources?: readonly string[];
  readonly detail: Record<string, unknown>;
}

/** Long enough for two ARNs and an episode; receivers with shorter keys (PagerDuty: 255) hash it. */
export const MAX_EVENT_KEY = 1024;

export class PublishError extends NightshiftError {
  override readonly name: string = 'PublishError';
}

/** Publishes `nightshift` events to the bus. A rejected entry is an error, not a silent loss. */
export class EventPublisher {
  constructor(
    private readonly events: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(event: NightshiftEvent): Promise<void> {
    if (event.eventKey.length === 0 || event.eventKey.length > MAX_EVENT_KEY) {
      throw new PublishError(
        `eventKey of the ${event.detailType} event must be 1-${MAX_EVENT_KEY} characters (got ${event.eventKey.length})`,
      );
    }
    const out = await this.events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.busName,
            Source: 'nightshift',
            DetailType: event.detailType,
            Resources: event.resources ? [...event.resources] : undefined,
            // The envelope fields last: no detail field can override them.
            Detail: JSON.stringify({ ...event.detail, severity: event.severity, eventKey: event.eventKey }),
          },
        ],
      }),
    );
    const failed = out.Entries?.find((e) => e.ErrorCode);
    if ((out.FailedEntryCount ?? 0) > 0 || failed) {
      throw new PublishError(
        `EventBridge rejected the ${event.detailType} event: ${failed?.ErrorCode ?? 'unknown'} ${failed?.ErrorMessage ?? ''}`.trim(),
      );
    }
  }
}

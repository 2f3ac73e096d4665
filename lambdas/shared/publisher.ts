import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { NightshiftError } from './errors.ts';

/** Severity every Nightshift event carries; the alert router maps it to channels. */
export type Severity = 'critical' | 'warning' | 'info';

/** A `nightshift` event: source `nightshift`, detail-type per action. */
export interface NightshiftEvent {
  readonly detailType: string;
  readonly severity: Severity;
  readonly resources?: readonly string[];
  readonly detail: Record<string, unknown>;
}

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
    const out = await this.events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.busName,
            Source: 'nightshift',
            DetailType: event.detailType,
            Resources: event.resources ? [...event.resources] : undefined,
            Detail: JSON.stringify({ severity: event.severity, ...event.detail }),
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

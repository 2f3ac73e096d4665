import type { AuthorizationNeed } from '../endpoint/authorize.ts';
import { AwsServiceError } from '../endpoint/errors.ts';
import type { JsonService } from '../endpoint/server.ts';
import type { VirtualClock } from '../world/clock.ts';
import { type AwsEvent, type EmitEvent, envelope } from './envelope.ts';

interface Entry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Resources?: string[];
  EventBusName?: string;
  Time?: number;
}

/** EventBridge `PutEvents`, locally: validates entries like AWS and hands each event to the bus. */
export class EventBridgeWorld implements JsonService {
  readonly signingName = 'events';
  readonly targetPrefix = 'AWSEvents';
  readonly jsonVersion = '1.1' as const;
  /** Every event accepted by PutEvents, in order (the sandbox's "what was published"). */
  readonly published: AwsEvent[] = [];

  constructor(
    private readonly o: { account: string; region: string; clock: VirtualClock; emit: EmitEvent },
  ) {}

  private busName(entry: Entry): string {
    const raw = entry.EventBusName ?? 'default';
    return raw.startsWith('arn:') ? raw.slice(raw.lastIndexOf('/') + 1) : raw;
  }

  authorization(operation: string, input: Record<string, unknown>): AuthorizationNeed[] {
    if (operation !== 'PutEvents') return [{ action: `events:${operation}` }];
    return ((input.Entries as Entry[]) ?? []).map((e) => ({
      action: 'events:PutEvents',
      resourceType: 'event-bus',
      values: { EventBusName: this.busName(e) },
      context: { 'events:source': e.Source, 'events:detail-type': e.DetailType },
    }));
  }

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    if (operation !== 'PutEvents')
      throw new AwsServiceError(
        'UnknownOperationException',
        `local EventBridge does not implement ${operation}`,
      );
    const entries = (input.Entries as Entry[]) ?? [];
    if (entries.length < 1 || entries.length > 10) {
      throw new AwsServiceError(
        'ValidationException',
        "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10",
      );
    }
    let failed = 0;
    const results = entries.map((entry) => {
      let detail: unknown;
      try {
        detail = JSON.parse(entry.Detail ?? '');
      } catch {
        detail = undefined;
      }
      if (
        !entry.Source ||
        !entry.DetailType ||
        detail === null ||
        typeof detail !== 'object' ||
        Array.isArray(detail)
      ) {
        failed += 1;
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      }
      if (entry.Source.startsWith('aws.')) {
        failed += 1;
        return {
          ErrorCode: 'NotAuthorizedForSourceException',
          ErrorMessage: 'Not authorized for the source.',
        };
      }
      const now = this.o.clock.now();
      const event = envelope(
        this.o,
        entry.Source,
        entry.DetailType,
        now,
        entry.Resources ?? [],
        detail as Record<string, unknown>,
      );
      this.published.push(event);
      this.o.emit(event);
      return { EventId: event.id };
    });
    return { FailedEntryCount: failed, Entries: results };
  }
}

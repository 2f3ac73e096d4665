import * as z from 'zod/mini';
import type { StackOrigin } from './env.ts';
import { InvalidEventError } from './errors.ts';
import { boundedEventTime, type EventTimeBounds, type Redrive } from './event-time.ts';
import { assertOwnOrigin } from './origin.ts';
import { bounded, parseWith } from './parse.ts';

/** EventBridge's `Scheduled Event`: what a schedule rule delivers. */
export const scheduledEventSchema = z.object({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
  time: bounded.timestamp(),
  account: bounded.id(),
  region: bounded.id(),
  resources: z.array(bounded.arn()).check(z.maxLength(10)),
});

/** What a scheduled event is checked against: the real clock, the delivery bounds, the stack's origin. */
export interface ScheduledEventContext {
  readonly now: number;
  readonly bounds: EventTimeBounds;
  readonly origin: StackOrigin;
  readonly redrive?: Redrive;
}

/**
 * The scheduled time of a `Scheduled Event`: identity only (it names snapshots and keys idempotency), never
 * "now". Throws {@link InvalidEventError} naming what is wrong — the shape, a time outside the bounds of a
 * real delivery — or a ForeignEventError for another account's or Region's event.
 */
export function scheduledTime(input: unknown, context: ScheduledEventContext): number {
  const event = parseWith(
    scheduledEventSchema,
    input,
    (problems) => new InvalidEventError(`malformed Scheduled Event: ${problems}`),
  );
  assertOwnOrigin(event, context.origin, 'Scheduled Event');
  return boundedEventTime('time', event.time, context.now, context.bounds, context.redrive);
}

import * as z from 'zod/mini';
import { InvalidEventError } from './errors.ts';
import { parseAwsTimestamp } from './time.ts';

/** EventBridge's `Scheduled Event`: what a schedule rule delivers. */
export const scheduledEventSchema = z.object({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
  time: z
    .string()
    .check(z.refine((t) => parseAwsTimestamp(t) !== undefined, { message: 'not an ISO-8601 timestamp' })),
  resources: z.array(z.string()),
});

/** The scheduled time of a `Scheduled Event`, or {@link InvalidEventError} naming what is wrong. */
export function scheduledTime(input: unknown): number {
  const result = z.safeParse(scheduledEventSchema, input);
  if (!result.success) {
    const problems = result.error.issues
      .map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`)
      .join('; ');
    throw new InvalidEventError(`malformed Scheduled Event: ${problems}`);
  }
  return parseAwsTimestamp(result.data.time) ?? 0;
}

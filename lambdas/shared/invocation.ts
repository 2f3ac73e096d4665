import * as z from 'zod/mini';
import { InvalidEventError } from './errors.ts';
import type { Redrive } from './event-time.ts';
import { parseWith } from './parse.ts';

/** What reached the function: the event, and an operator's redrive flag when one invoked it directly. */
export interface Invocation {
  readonly event: unknown;
  readonly redrive?: Redrive;
}

const redriveSchema = z.object({
  redrive: z.object({ reason: z.string().check(z.minLength(1), z.maxLength(500)) }),
  event: z.record(z.string(), z.unknown()),
});

/**
 * Unwraps an operator's redrive envelope (`{"redrive": {"reason": "…"}, "event": {…}}`). EventBridge events
 * never carry a top-level `redrive`, so only a direct invoke (an operator's permission) can set the flag.
 */
export function unwrapInvocation(input: unknown): Invocation {
  if (input === null || typeof input !== 'object' || !('redrive' in input)) return { event: input };
  const { redrive, event } = parseWith(
    redriveSchema,
    input,
    (problems) => new InvalidEventError(`malformed redrive: ${problems}`),
  );
  return { event, redrive };
}

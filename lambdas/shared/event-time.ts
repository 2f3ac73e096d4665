import { InvalidEventError } from './errors.ts';
import { humanDuration, iso, parseAwsTimestamp } from './time.ts';

/**
 * How old and how far ahead an event's time can be when it is a real delivery. `maxAgeMs` is the rule
 * target's maximum event age plus the function's own asynchronous maximum event age (both set explicitly by
 * the construct), plus the skew; `maxSkewMs` is the clock skew allowed ahead of now.
 */
export interface EventTimeBounds {
  readonly maxAgeMs: number;
  readonly maxSkewMs: number;
}

/**
 * An operator's redrive of an event older than a real delivery can be (e.g. from the DLQ after an outage).
 * Only a direct invoke can carry it (`{"redrive": {"reason": "…"}, "event": {…}}`); EventBridge never does.
 */
export interface Redrive {
  readonly reason: string;
}

/**
 * The time an event names, accepted as identity only within the bounds of a real delivery.
 *
 * @param field where the time is in the event, for the error (`time`, `detail.state.timestamp`)
 * @param now the real clock, which plans use; the event's time never stands in for it
 * @throws InvalidEventError naming the field and the value when the text is not a timestamp, lies in the
 *   future beyond the skew, or is older than a delivery can be (unless an operator redrives it)
 */
export function boundedEventTime(
  field: string,
  text: string,
  now: number,
  bounds: EventTimeBounds,
  redrive?: Redrive,
): number {
  const at = parseAwsTimestamp(text);
  if (at === undefined) {
    throw new InvalidEventError(
      `${field}: ${JSON.stringify(text.slice(0, 40))} is not an ISO-8601 timestamp`,
    );
  }
  if (at > now + bounds.maxSkewMs) {
    throw new InvalidEventError(
      `${field}: ${text} is ${humanDuration(at - now)} after now (${iso(now)}); a delivery is never later than the ${humanDuration(bounds.maxSkewMs)} of clock skew allowed. Nothing was changed`,
    );
  }
  if (at < now - bounds.maxAgeMs && !redrive) {
    throw new InvalidEventError(
      `${field}: ${text} is ${humanDuration(now - at)} before now (${iso(now)}); a delivery is at most ${humanDuration(bounds.maxAgeMs)} old (rule and function maximum event ages plus skew). Nothing was changed; to redrive it on purpose invoke with {"redrive": {"reason": "…"}, "event": …}`,
    );
  }
  return at;
}

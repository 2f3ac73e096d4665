/**
 * Parses the timestamps AWS puts in events. CloudWatch writes `2019-10-02T17:04:40.985+0000` (no colon in
 * the offset), which `Date.parse` does not promise to accept, so the offset is normalised first.
 *
 * @returns epoch milliseconds, or `undefined` when the text is not an ISO-8601 timestamp.
 */
export function parseAwsTimestamp(text: string): number | undefined {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})$/.exec(text);
  if (!match) return undefined;
  const [, local, zone] = match as unknown as [string, string, string];
  const offset = zone === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  const ms = Date.parse(`${local}${offset}`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** ISO-8601 in UTC with milliseconds, the format Nightshift writes everywhere. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A clock; injected so tests and the sandbox control time. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** Human duration for reasons: `3 days`, `20 minutes`, `1 hour 5 minutes`. */
export function humanDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) {
    const rest = minutes % 60;
    const h = `${hours} hour${hours === 1 ? '' : 's'}`;
    return rest === 0 ? h : `${h} ${rest} minute${rest === 1 ? '' : 's'}`;
  }
  const days = Math.floor(hours / 24);
  return `${days} days`;
}

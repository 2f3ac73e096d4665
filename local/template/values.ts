/**
 * Small helpers for reading untyped template JSON.
 *
 * @module
 */

/** Whether `value` is a plain JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` as a number when it is one or a numeric string, else `fallback`. */
export function numberOr<T extends number | undefined>(value: unknown, fallback: T): number | T {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return fallback;
}

/** `{ [key]: value }`, or `{}` when value is undefined (so optional properties stay absent). */
export function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

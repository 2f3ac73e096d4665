/** UTC calendar arithmetic the retention rules need: ISO weeks and calendar months. */

/** ISO-8601 week of a UTC instant: the week-year and week number (weeks start on Monday). */
export function isoWeek(ms: number): { year: number; week: number } {
  const d = new Date(ms);
  const day = d.getUTCDay() === 0 ? 7 : d.getUTCDay();
  // The Thursday of this week decides the week-year.
  const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 4 - day);
  const year = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(year, 0, 1)) / (7 * 86_400_000)) + 1;
  return { year, week };
}

export function sameIsoWeek(a: number, b: number): boolean {
  const x = isoWeek(a);
  const y = isoWeek(b);
  return x.year === y.year && x.week === y.week;
}

export function sameMonth(a: number, b: number): boolean {
  const x = new Date(a);
  const y = new Date(b);
  return x.getUTCFullYear() === y.getUTCFullYear() && x.getUTCMonth() === y.getUTCMonth();
}

/** `ms` plus whole calendar months, the day clamped to the target month's length (Jan 31 + 1 → Feb 28). */
export function addMonths(ms: number, months: number): number {
  const d = new Date(ms);
  const targetMonth = d.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), targetMonth + 1, 0)).getUTCDate();
  return Date.UTC(
    d.getUTCFullYear(),
    targetMonth,
    Math.min(d.getUTCDate(), lastDay),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    d.getUTCMilliseconds(),
  );
}

export const DAY_MS = 86_400_000;

/** Text within a receiver's limits: shortened visibly, never rejected. Pure. */

/**
 * `text` cut to at most `max` characters, ending with a marker that says how much was cut, so a reader
 * sees the alert was shortened (Slack refuses a 3,001-character section outright: `invalid_blocks`).
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = (cut: number) => ` … [truncated: ${cut} more characters]`;
  // The marker's own length depends on the number it shows; one pass with the longest number is enough.
  const keep = Math.max(0, max - marker(text.length).length);
  return `${text.slice(0, keep)}${marker(text.length - keep)}`.slice(0, max);
}

/** Slack mrkdwn: `&`, `<` and `>` are control characters and must be escaped. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

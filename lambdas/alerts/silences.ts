/**
 * Silences: time-boxed mutes by matcher (service, alarm prefix, severity), from config or from an SSM
 * parameter a person sets during planned maintenance. A muted alert is still kept for the digest. A
 * critical alert is muted only by a silence whose `severity` matcher names `critical`: a silence for
 * "api's warnings during the migration" never swallows api's page. Pure; parsing with readable errors.
 *
 * @module
 */
import * as z from 'zod/mini';
import { ConfigurationError } from '#shared/errors';
import { parseWith } from '#shared/parse';
import { type Alert, SEVERITIES } from './model.ts';
import { matches, type RouteMatch } from './routing.ts';

/** The longest a silence may last: a forgotten one must end by itself. */
export const MAX_SILENCE_MS = 14 * 24 * 3600_000;

export interface Silence {
  /** Who set it and why, shown with every alert it mutes. */
  readonly comment: string;
  readonly matchers: Pick<RouteMatch, 'service' | 'alarmPrefix' | 'severity'>;
  readonly startsAt: number;
  readonly endsAt: number;
}

/** The silence that mutes `alert` at `now`, if any. */
export function silencing(alert: Alert, silences: readonly Silence[], now: number): Silence | undefined {
  return silences.find(
    (s) =>
      s.startsAt <= now &&
      now < s.endsAt &&
      (alert.severity !== 'critical' || (s.matchers.severity?.includes('critical') ?? false)) &&
      matches(alert, s.matchers),
  );
}

const severity = z.enum(SEVERITIES);
const names = () => z.array(z.string().check(z.minLength(1), z.maxLength(255))).check(z.minLength(1));
const silenceSchema = z.strictObject({
  comment: z.string().check(z.minLength(1), z.maxLength(500)),
  matchers: z.strictObject({
    service: z.optional(names()),
    alarmPrefix: z.optional(names()),
    severity: z.optional(z.array(severity).check(z.minLength(1))),
  }),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.iso.datetime({ offset: true }),
});
const silencesSchema = z.array(silenceSchema).check(z.maxLength(100));

/** A silence (or the silences parameter) that cannot be used; nothing is muted by it. */
export class SilenceError extends ConfigurationError {
  override readonly name: string = 'SilenceError';
}

/**
 * Parses silences as a person writes them (`startsAt`/`endsAt` ISO 8601), from config or from the SSM
 * parameter's JSON. `where` names the source in errors (e.g. the parameter's name).
 *
 * @throws {@link SilenceError} naming the field: bad JSON or shape, no matcher (it would mute everything),
 *   an end not after the start, or one longer than 14 days.
 */
export function parseSilences(input: unknown, where: string): Silence[] {
  const parsed = parseWith(silencesSchema, input, (p) => new SilenceError(`${where} is invalid: ${p}`));
  return parsed.map((s, i) => {
    const field = `${where}[${i}]`;
    if (Object.keys(s.matchers).length === 0) {
      throw new SilenceError(
        `${field}.matchers is empty: a silence must name a service, alarm prefix or severity`,
      );
    }
    if (s.matchers.severity?.includes('critical') && !s.matchers.service && !s.matchers.alarmPrefix) {
      throw new SilenceError(
        `${field}.matchers mutes critical alerts without naming a service or alarmPrefix: a silence may mute pages only for what it names`,
      );
    }
    const startsAt = Date.parse(s.startsAt);
    const endsAt = Date.parse(s.endsAt);
    if (!(endsAt > startsAt))
      throw new SilenceError(`${field}.endsAt ${s.endsAt} is not after startsAt ${s.startsAt}`);
    if (endsAt - startsAt > MAX_SILENCE_MS) {
      throw new SilenceError(
        `${field} lasts more than 14 days (${s.startsAt} to ${s.endsAt}): set a shorter one`,
      );
    }
    return { comment: s.comment, matchers: s.matchers, startsAt, endsAt };
  });
}

/** {@link parseSilences} of the SSM parameter's value (JSON). */
export function parseSilencesJson(json: string, where: string): Silence[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (cause) {
    throw new SilenceError(`${where} is not JSON`, { cause });
  }
  return parseSilences(raw, where);
}

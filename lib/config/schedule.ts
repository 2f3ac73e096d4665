import awsCronParser from 'aws-cron-parser';
import cronValidate from 'cron-validate';

/**
 * EventBridge schedule expressions: `cron(min hour day-of-month month day-of-week year)` (UTC, AWS's six
 * fields, `?` in one of the day fields) or `rate(value unit)`.
 */

// cron-validate is CommonJS with `exports.default`; under Node's ESM the function may sit one level down.
type Validate = (
  expression: string,
  options: { preset: string },
) => { isValid(): boolean; getError(): string[] };
const cron: Validate =
  (cronValidate as unknown as { default?: Validate }).default ?? (cronValidate as unknown as Validate);

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;

/** `rate(5 minutes)` → milliseconds; undefined when it is not a valid rate expression (1 needs the singular). */
export function parseRate(expression: string): number | undefined {
  const match = RATE.exec(expression);
  if (!match) return undefined;
  const value = Number(match[1]);
  const unit = match[2] ?? '';
  if (value < 1 || (value === 1) !== !unit.endsWith('s')) return undefined;
  const ms = unit.startsWith('minute') ? 60_000 : unit.startsWith('hour') ? 3_600_000 : 86_400_000;
  return value * ms;
}

const FIELDS = ['minutes', 'hours', 'day-of-month', 'month', 'day-of-week', 'year'] as const;

// cron-validate's names for the fields, in the words of EventBridge's documentation.
const FIELD_WORDS: Record<string, string> = {
  seconds: 'seconds',
  minutes: 'minutes',
  hours: 'hours',
  daysOfMonth: 'day-of-month',
  months: 'month',
  daysOfWeek: 'day-of-week',
  years: 'year',
};

/** The parser's complaint in EventBridge's words, without the echo of the input it appends. */
function plainCronError(error: string): string {
  const withoutEcho = error.replace(/\s*\(Input cron: '.*'\)$/, '').replace(/\.$/, '');
  const limit = /^Number '(.+)' of (\w+) field is (bigger|smaller) than (?:upper|lower) limit '(.+)'$/.exec(
    withoutEcho,
  );
  if (limit) {
    const [, value, field = '', direction, bound] = limit;
    return `${FIELD_WORDS[field] ?? field} ${value} is ${direction === 'bigger' ? 'above' : 'below'} ${bound}`;
  }
  const element = /^Element '(.+)' of (\w+) field is (invalid|not an integer)$/.exec(withoutEcho);
  if (element) {
    const [, value, field = ''] = element;
    return `${FIELD_WORDS[field] ?? field} "${value}" is not a valid value there`;
  }
  return withoutEcho.replace(
    /\b(seconds|minutes|hours|daysOfMonth|months|daysOfWeek|years)\b/g,
    (f) => FIELD_WORDS[f] ?? f,
  );
}

/** Why the six fields inside `cron(...)` are not an EventBridge cron, in plain words; undefined when they are. */
function cronProblem(body: string): string | undefined {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) {
    return `a cron needs 6 fields (${FIELDS.join(' ')}), got ${fields.length}: e.g. cron(0 3 * * ? *) is daily at 03:00 UTC`;
  }
  const [minutes = '', hours = '', dayOfMonth = '', month = '', dayOfWeek = '', year = ''] = fields;
  if (dayOfMonth !== '?' && dayOfWeek !== '?') {
    // EventBridge refuses a cron naming both days: one of the two must be `?` ("any").
    const anyDayOfWeek = `cron(${[minutes, hours, dayOfMonth, month, '?', year].join(' ')})`;
    const anyDayOfMonth = `cron(${[minutes, hours, '?', month, dayOfWeek, year].join(' ')})`;
    const fix =
      dayOfWeek === '*'
        ? anyDayOfWeek
        : dayOfMonth === '*'
          ? anyDayOfMonth
          : `${anyDayOfMonth} (by weekday) or ${anyDayOfWeek} (by date)`;
    return `sets both day-of-month ("${dayOfMonth}") and day-of-week ("${dayOfWeek}"); EventBridge needs "?" in one of them: ${fix}`;
  }
  if (dayOfMonth === '?' && dayOfWeek === '?') {
    return `has "?" in both day-of-month and day-of-week; only one may be "?": e.g. cron(${[minutes, hours, '*', month, '?', year].join(' ')})`;
  }
  const result = cron(fields.join(' '), { preset: 'aws-cloud-watch' });
  if (result.isValid()) return undefined;
  const problems = [...new Set(result.getError().map(plainCronError))];
  return `is not a valid EventBridge cron: ${problems.join('; ')}`;
}

/** Why an expression is not a valid EventBridge schedule, in plain words, or undefined when it is. */
export function scheduleProblem(expression: string): string | undefined {
  if (expression.startsWith('rate(')) {
    return parseRate(expression) === undefined
      ? 'a rate must be rate(<n> minute|minutes|hour|hours|day|days), singular for 1 and plural otherwise'
      : undefined;
  }
  const match = /^cron\((.*)\)$/.exec(expression);
  if (!match?.[1]) return 'must be cron(...) or rate(...), e.g. cron(0 3 * * ? *) or rate(1 day)';
  return cronProblem(match[1]);
}

/** The next time a schedule fires after `from` (UTC). */
export function nextRun(expression: string, from: number): number | undefined {
  const rate = parseRate(expression);
  if (rate !== undefined) return from + rate;
  const match = /^cron\((.*)\)$/.exec(expression);
  if (!match?.[1]) return undefined;
  return awsCronParser.next(awsCronParser.parse(match[1]), new Date(from + 1))?.getTime();
}

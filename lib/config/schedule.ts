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

/** Why an expression is not a valid EventBridge schedule, or undefined when it is. */
export function scheduleProblem(expression: string): string | undefined {
  if (expression.startsWith('rate(')) {
    return parseRate(expression) === undefined
      ? 'a rate must be rate(<n> minute|minutes|hour|hours|day|days), singular for 1 and plural otherwise'
      : undefined;
  }
  const match = /^cron\((.*)\)$/.exec(expression);
  if (!match?.[1]) return 'must be cron(...) or rate(...)';
  const result = cron(match[1], { preset: 'aws-cloud-watch' });
  return result.isValid() ? undefined : `invalid cron: ${result.getError().join('; ')}`;
}

/** The next time a schedule fires after `from` (UTC). */
export function nextRun(expression: string, from: number): number | undefined {
  const rate = parseRate(expression);
  if (rate !== undefined) return from + rate;
  const match = /^cron\((.*)\)$/.exec(expression);
  if (!match?.[1]) return undefined;
  return awsCronParser.next(awsCronParser.parse(match[1]), new Date(from + 1))?.getTime();
}

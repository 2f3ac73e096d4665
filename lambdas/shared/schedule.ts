import awsCronParser from 'aws-cron-parser';

/**
 * When an EventBridge schedule last came due at or before `now`: for `cron(...)` the previous fire time, for
 * `rate(...)` one period ago. Runbooks that reconcile on a frequent tick use it to know what is due.
 */
export function lastDue(expression: string, now: number): number | undefined {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const unit = rate[2]?.startsWith('minute')
      ? 60_000
      : rate[2]?.startsWith('hour')
        ? 3_600_000
        : 86_400_000;
    return now - Number(rate[1]) * unit;
  }
  const cron = /^cron\((.*)\)$/.exec(expression)?.[1];
  if (!cron) return undefined;
  return awsCronParser.prev(awsCronParser.parse(cron), new Date(now + 1))?.getTime();
}

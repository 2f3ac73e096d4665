import { z } from 'zod';

/**
 * How a service names the alarms that guard it: an exact `name` or a name `prefix`. EventBridge matches
 * them literally (`prefix` is its prefix matcher), so a glob or an ARN in either never matches anything.
 */

const ALARM_ARN = /^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]*:\d{12}:alarm:(.+)$/;

/** Why `value` cannot be an alarm `name` or `prefix`, in words that say what to write; undefined when it can. */
export function alarmTextProblem(field: 'name' | 'prefix', value: string): string | undefined {
  const arn = ALARM_ARN.exec(value);
  if (arn) {
    return `is an alarm ARN; give the alarm's name instead: { ${field}: ${JSON.stringify(arn[1])} }`;
  }
  if (value.startsWith('arn:')) return "is an ARN; give the alarm's name (the part after :alarm:)";
  const star = value.indexOf('*');
  if (star === -1) return undefined;
  const before = value.slice(0, star);
  if (field === 'prefix') {
    return before.length > 0 && star === value.length - 1
      ? `"*" is not a wildcard: a prefix already matches every alarm name that starts with it; write { prefix: ${JSON.stringify(before)} }`
      : '"*" is not a wildcard: alarms match by exact name or by the start of their name; list them by name';
  }
  return before.length > 0
    ? `"*" is not a wildcard in a name: to match every alarm whose name starts with ${JSON.stringify(before)}, write { prefix: ${JSON.stringify(before)} }`
    : '"*" is not a wildcard in a name: list the alarms by exact name, or by { prefix: "…" }';
}

const alarmText = (field: 'name' | 'prefix') =>
  z
    .string()
    .min(1)
    .max(255)
    .superRefine((value, ctx) => {
      const problem = alarmTextProblem(field, value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });

/** An alarm named exactly (`{ name }`) or by a name prefix (`{ prefix }`); one of the two. */
export const alarmSelectorSchema = z
  .strictObject({
    /** The alarm's exact name (not its ARN). */
    name: alarmText('name').optional(),
    /** The start of the names of the alarms (no `*`: a prefix already matches every name starting with it). */
    prefix: alarmText('prefix').optional(),
  })
  .check((ctx) => {
    const { name, prefix } = ctx.value;
    // A misspelled key already has its "did you mean"; "names no alarm" beside it would only add noise.
    if (ctx.issues.some((i) => i.code === 'unrecognized_keys')) return;
    if ((name === undefined) === (prefix === undefined)) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        path: [],
        message:
          name === undefined
            ? 'names no alarm: write { name: "<alarm name>" } or { prefix: "<start of alarm names>" }'
            : 'has both name and prefix: write one selector for each, { name: "…" } or { prefix: "…" }',
      });
    }
  })
  .transform((s): { readonly name: string } | { readonly prefix: string } =>
    s.name !== undefined ? { name: s.name } : { prefix: s.prefix ?? '' },
  );

/** What an alarm selector becomes after validation. */
export type AlarmSelectorConfig = z.output<typeof alarmSelectorSchema>;

/** A problem found across services, with its path below `ecsRollback`. */
export interface RoutingIssue {
  readonly path: (string | number)[];
  readonly input: string;
  readonly message: string;
}

/**
 * Selectors of two services that claim the same alarm. The runtime takes an exact name first and else the
 * longest matching prefix, so overlapping prefixes (one the start of the other, or equal) or one name listed
 * twice would route one service's alarm to another's rollback without a word: refused at synth.
 */
export function alarmRoutingIssues(
  services: readonly { readonly name: string; readonly alarms: readonly AlarmSelectorConfig[] }[],
): RoutingIssue[] {
  const issues: RoutingIssue[] = [];
  services.forEach((service, i) => {
    service.alarms.forEach((selector, k) => {
      for (let j = 0; j < i; j++) {
        const other = services[j];
        if (!other) continue;
        other.alarms.forEach((earlier, m) => {
          const where = `ecsRollback.services.${j}.alarms.${m}`;
          if ('prefix' in selector && 'prefix' in earlier) {
            const [a, b] = [selector.prefix, earlier.prefix];
            if (a.startsWith(b) || b.startsWith(a)) {
              const longer = a.length >= b.length ? a : b;
              issues.push({
                path: ['services', i, 'alarms', k, 'prefix'],
                input: a,
                message:
                  a === b
                    ? `is also the prefix of service "${other.name}" (${where}): give each service its own prefix`
                    : `overlaps prefix ${JSON.stringify(b)} of service "${other.name}" (${where}): an alarm starting with ${JSON.stringify(longer)} matches both and would go to the longer one; make the prefixes distinct or list those alarms by name`,
              });
            }
          } else if ('name' in selector && 'name' in earlier && selector.name === earlier.name) {
            issues.push({
              path: ['services', i, 'alarms', k, 'name'],
              input: selector.name,
              message: `is also listed by service "${other.name}" (${where}.name): an alarm guards one service`,
            });
          }
        });
      }
    });
  });
  return issues;
}

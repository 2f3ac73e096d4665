import type { z } from 'zod';
import { SECRET_FIELDS } from './alerts.ts';
import { type ConfigProblem, formatProblems, plainIssueMessage, unknownKeyMessage } from './problems.ts';
import { type NightshiftConfig, type NightshiftConfigInput, nightshiftConfigSchema } from './schema.ts';

/** Raised when the configuration is invalid; the message lists each problem: field, value, how to fix. */
export class InvalidConfigError extends Error {
  // A string, not the class's name: names do not survive minification.
  override readonly name: string = 'InvalidConfigError';
  constructor(
    message: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(message);
  }
}

/**
 * Declares a Nightshift configuration with type checking in the editor. Validation happens in
 * {@link validateConfig} at synth time.
 *
 * @example
 * export default defineConfig({ ecsRollback: { services: [{ name: 'api', cluster: 'prod', service: 'api',
 *   taskDefinitionFamily: 'api', alarms: [{ prefix: 'api-' }] }] } });
 */
export function defineConfig(config: NightshiftConfigInput): NightshiftConfigInput {
  return config;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

const pathText = (path: readonly PropertyKey[]) => path.map(String).join('.') || '(root)';

/** The keys of the object schema that refused an unknown key (zod hands the refusing schema to the error map). */
function shapeKeys(issue: z.core.$ZodRawIssue): string[] {
  const def = (issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def;
  return Object.keys(def?.shape ?? {});
}

/**
 * Validates a configuration and applies defaults, or throws {@link InvalidConfigError} listing only the
 * problems: each field's path, its value (cut short) and how to fix it; an unknown key with the known key it
 * most likely meant. `source` names the file in the message's first line.
 */
export function validateConfig(input: unknown, source?: string): NightshiftConfig {
  const knownKeys = new Map<string, string[]>();
  const result = nightshiftConfigSchema.safeParse(input, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') knownKeys.set(pathText(issue.path ?? []), shapeKeys(issue));
      return plainIssueMessage(issue);
    },
  });
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue): ConfigProblem[] => {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys.get(pathText(issue.path)) ?? [];
      return issue.keys.map((key) => ({
        path: pathText([...issue.path, key]),
        message: unknownKeyMessage(key, known),
        value: valueAt(input, [...issue.path, key]),
      }));
    }
    const path = pathText(issue.path);
    // A field that should name a secret's parameter may hold the secret itself: never echo it.
    const value = SECRET_FIELDS.test(path) ? '(not shown: it may be a secret)' : valueAt(input, issue.path);
    return [{ path, message: issue.message, value }];
  });
  const header = `Invalid Nightshift configuration${source ? ` in ${source}` : ''} (${problems.length} problem${problems.length === 1 ? '' : 's'}):`;
  throw new InvalidConfigError(formatProblems(header, problems), problems);
}

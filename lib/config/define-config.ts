import { type NightshiftConfig, type NightshiftConfigInput, nightshiftConfigSchema } from './schema.ts';

/** Raised when the configuration is invalid; the message names each bad field and its value. */
export class InvalidConfigError extends Error {
  constructor(
    message: string,
    readonly issues: readonly { path: string; message: string; value: unknown }[],
  ) {
    super(message);
    this.name = 'InvalidConfigError';
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

/** Validates a configuration and applies defaults, or throws {@link InvalidConfigError}. */
export function validateConfig(input: unknown): NightshiftConfig {
  const result = nightshiftConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
    value: valueAt(input, issue.path),
  }));
  const lines = issues.map(
    (i) => `  - ${i.path}: ${i.message} (got ${JSON.stringify(i.value) ?? 'undefined'})`,
  );
  throw new InvalidConfigError(`Invalid Nightshift configuration:\n${lines.join('\n')}`, issues);
}

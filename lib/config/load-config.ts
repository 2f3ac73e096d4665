import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidConfigError, validateConfig } from './define-config.ts';
import type { NightshiftConfig } from './schema.ts';

/** Environment variable naming another configuration file than `nightshift.config.ts` (CI, tests, stages). */
export const CONFIG_FILE_ENV = 'NIGHTSHIFT_CONFIG';

/** The configuration file `cdk synth` reads: `$NIGHTSHIFT_CONFIG`, else `nightshift.config.ts`, from `cwd`. */
export function configFilePath(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  return resolve(cwd, env[CONFIG_FILE_ENV] || 'nightshift.config.ts');
}

/**
 * Imports the configuration file (its default export) and validates it.
 * @throws InvalidConfigError when the file is missing, exports nothing, or the configuration is invalid.
 */
export async function loadConfig(file: string = configFilePath()): Promise<NightshiftConfig> {
  const inside = relative(process.cwd(), file);
  const shown = inside && !inside.startsWith('..') ? inside : file;
  if (!existsSync(file)) {
    throw new InvalidConfigError(
      `No Nightshift configuration at ${shown}: create it (export default defineConfig({ … })) or set ${CONFIG_FILE_ENV} to its path.`,
      [],
    );
  }
  const module = (await import(pathToFileURL(file).href)) as { default?: unknown };
  if (module.default === undefined) {
    throw new InvalidConfigError(
      `${shown} has no default export: write export default defineConfig({ … }).`,
      [],
    );
  }
  return validateConfig(module.default, shown);
}

/**
 * Runs `main`. An invalid configuration prints only its problems on stderr and exits 1: no stack trace, no
 * echo of the configuration. Any other error is rethrown as it is.
 */
export async function exitOnInvalidConfig<T>(main: () => T | Promise<T>): Promise<T> {
  try {
    return await main();
  } catch (error) {
    if (error instanceof InvalidConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../../lib/config/define-config.ts';
import { CONFIG_FILE_ENV, configFilePath, loadConfig } from '../../../lib/config/load-config.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nightshift-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const badConfig = `export default {
  snapshots: { schedule: 'cron(0 3 * * MON *)', targets: { instances: ['webhooks-db'] } },
  ecsRollback: {
    bakeWindow: 60,
    services: [
      { name: 'api', cluster: 'prod', service: 'api', taskDefinitionFamily: 'api', taskRoleArn: null, executionRoleArn: null, alarms: [{ prefix: 'api-*' }] },
    ],
  },
};
`;

describe('loading the configuration', () => {
  it('reads nightshift.config.ts unless NIGHTSHIFT_CONFIG names another file', () => {
    expect(configFilePath({}, '/repo')).toBe('/repo/nightshift.config.ts');
    expect(configFilePath({ [CONFIG_FILE_ENV]: 'stages/prod.config.ts' }, '/repo')).toBe(
      '/repo/stages/prod.config.ts',
    );
  });

  it('imports and validates the file’s default export', async () => {
    const file = configFile(
      'good.config.ts',
      "export default { stackName: 'Other', snapshots: { targets: { instances: ['db'] } } };\n",
    );
    const config = await loadConfig(file);
    expect(config.stackName).toBe('Other');
    expect(config.snapshots?.retention.dailyDays).toBe(7);
  });

  it('says what to do when the file is missing or exports nothing', async () => {
    await expect(loadConfig(join(dir, 'absent.config.ts'))).rejects.toThrow(
      /No Nightshift configuration at .*absent\.config\.ts: create it .* or set NIGHTSHIFT_CONFIG/,
    );
    const empty = configFile('empty.config.ts', 'export const x = 1;\n');
    await expect(loadConfig(empty)).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(loadConfig(empty)).rejects.toThrow('has no default export');
  });

  it('the CDK app prints only the problems and exits 1, with no stack trace', () => {
    const file = configFile('bad.config.ts', badConfig);
    const run = spawnSync(join(root, 'node_modules/.bin/tsx'), ['bin/app.ts'], {
      cwd: root,
      env: { ...process.env, [CONFIG_FILE_ENV]: file, CDK_DISABLE_VERSION_CHECK: 'true' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      `Invalid Nightshift configuration in ${file} (3 problems):`,
      '  - ecsRollback.services.0.alarms.0.prefix: "*" is not a wildcard: a prefix already matches every alarm name that starts with it; write { prefix: "api-" } (got "api-*")',
      '  - ecsRollback.bakeWindow: unknown key; did you mean "bakeWindowMinutes"? (got 60)',
      '  - snapshots.schedule: sets both day-of-month ("*") and day-of-week ("MON"); EventBridge needs "?" in one of them: cron(0 3 ? * MON *) (got "cron(0 3 * * MON *)")',
    ]);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});

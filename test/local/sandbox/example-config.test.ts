import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { validateConfig } from '../../../lib/config/define-config.ts';
import { exampleAppConfig, sandboxStoryConfig } from '../../../local/sandbox/example-config.ts';

// The user's file says something else entirely: the sandbox's story must not notice.
vi.mock('../../../nightshift.config.ts', () => ({
  default: {
    stackName: 'Payments',
    snapshots: { targets: { instances: ['payments-db'] } },
    ecsRollback: {
      services: [
        {
          name: 'payments',
          cluster: 'payments',
          service: 'payments',
          taskDefinitionFamily: 'payments',
          alarms: [{ prefix: 'payments-' }],
        },
      ],
    },
  },
}));

const root = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const IMPORTS_USER_CONFIG = /(?:from\s+|import\s*\(\s*)['"][^'"]*nightshift\.config(?:\.ts)?['"]/;

describe('the sandbox example app', () => {
  it('is the story’s own: nothing in local/, the world and template tests or the benchmarks imports nightshift.config.ts', () => {
    const files = ['local', 'test/local', 'test/lib', 'bench', 'bin'].flatMap(sources);
    expect(files.length).toBeGreaterThan(50);
    const importers = files.filter((f) => IMPORTS_USER_CONFIG.test(readFileSync(join(root, f), 'utf8')));
    // Only the test that proves the user's example is valid reads it (and this one, which replaces it).
    expect(importers.sort()).toEqual([
      'test/lib/config/define-config.test.ts',
      'test/local/sandbox/example-config.test.ts',
    ]);
  });

  it('has the services and databases the story creates, whatever nightshift.config.ts says', async () => {
    const userConfig = (await import('../../../nightshift.config.ts')).default;
    expect(userConfig.stackName).toBe('Payments');
    // The sandbox's restore verification trusts the local world's own CA, written before synth.
    const dir = mkdtempSync(join(tmpdir(), 'nightshift-sandbox-ca-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const localCa = join(dir, 'sandbox-rds-ca.pem');
    writeFileSync(localCa, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
    const config = validateConfig(sandboxStoryConfig(localCa));
    expect(config.ecsRollback?.services.map((s) => s.name)).toEqual(['api', 'worker']);
    expect(config.snapshots?.targets.instances).toEqual(['webhooks-db']);
    expect(config.snapshots?.targets.tag).toEqual({ key: 'nightshift:backup', value: 'true' });
    expect(config.restoreVerify).toMatchObject({
      enabled: true,
      caBundleFile: localCa,
      tickMinutes: 60,
    });
  });

  it('keeps restore verification off for the tests that build it as it is', () => {
    expect(validateConfig(exampleAppConfig).restoreVerify?.enabled).toBe(false);
  });
});

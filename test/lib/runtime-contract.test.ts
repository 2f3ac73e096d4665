import type { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { RUNBOOK_ENV, type RunbookEnvVariables, readRunbookEnvironment } from '#shared/env';
import type { SnapshotRuntimeConfig } from '../../lambdas/rds-snapshots/config.ts';
import { RunbookFunction, type RunbookFunctionProps } from '../../lib/runbook-function.ts';

type SnapshotSettings = RunbookFunctionProps<SnapshotRuntimeConfig>['runbookConfig'];

const settings: SnapshotSettings = {
  dryRun: false,
  concurrency: 5,
  maxDeletionsPerRun: 20,
  requestsPerSecond: 10,
  retention: { dailyDays: 7, weeklyWeeks: 5, monthlyMonths: 12 },
  quota: { instance: 100, cluster: 100 },
  targets: { instances: ['orders-db'], clusters: [] },
};

/**
 * The construct and the function share one contract: the runtime config's type and the environment's
 * names. These cases are checked by `tsc` (`npm run typecheck`): each `@ts-expect-error` fails the build the
 * day the drift it names compiles.
 */
describe('construct ↔ runtime contract', () => {
  it('refuses, at compile time, a setting the runtime does not know, a missing one and a mistyped one', () => {
    // @ts-expect-error a key the runtime schema does not have
    const extra: SnapshotSettings = { ...settings, concurency: 5 };
    const { concurrency: _dropped, ...rest } = settings;
    // @ts-expect-error a setting the runtime requires is missing
    const missing: SnapshotSettings = rest;
    // @ts-expect-error a string where the runtime parses a boolean
    const mistyped: SnapshotSettings = { ...settings, dryRun: 'false' };
    expect([extra, missing, mistyped]).toHaveLength(3);
  });

  it('refuses, at compile time, a function built with no runtime config type (it would take any settings)', () => {
    const build = (
      scope: Construct,
      props: Omit<RunbookFunctionProps<SnapshotRuntimeConfig>, 'runbookConfig'>,
    ) =>
      // @ts-expect-error no runtime config type given: no settings are accepted
      new RunbookFunction(scope, 'Untyped', { ...props, runbookConfig: { anything: 1 } });
    expect(build).toBeTypeOf('function');
  });

  it('names every variable the runtime reads, and the runtime reads every one the construct must set', () => {
    const env: RunbookEnvVariables = {
      NIGHTSHIFT_STATE_TABLE: 'state',
      NIGHTSHIFT_EVENT_BUS: 'bus',
      NIGHTSHIFT_KILL_SWITCH_PARAMETER: '/nightshift/kill-switch',
      NIGHTSHIFT_RUNBOOK_CONFIG: '{}',
      NIGHTSHIFT_ACCOUNT: '123456789012',
      NIGHTSHIFT_REGION: 'eu-west-1',
      NIGHTSHIFT_MAX_EVENT_AGE_SECONDS: '7500',
      NIGHTSHIFT_CLOCK_SKEW_SECONDS: '300',
    };
    expect(readRunbookEnvironment(env).eventTimeBounds).toEqual({ maxAgeMs: 7_500_000, maxSkewMs: 300_000 });
    for (const name of Object.values(RUNBOOK_ENV)) {
      const { [name]: _gone, ...without } = env;
      expect(() => readRunbookEnvironment(without), name).toThrow(name);
    }
  });
});

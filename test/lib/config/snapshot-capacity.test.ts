import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../lib/config/define-config.ts';
import { snapshotCapacityWarnings, snapshotsPerDatabase } from '../../../lib/config/snapshot-capacity.ts';

const snapshotsOf = (snapshots: Record<string, unknown>) => {
  const config = validateConfig({ snapshots }).snapshots;
  if (!config) throw new Error('no snapshots config');
  return config;
};

describe('snapshot capacity at synth time', () => {
  it('counts about 24 snapshots per database at the default tiers', () => {
    expect(snapshotsPerDatabase(snapshotsOf({ targets: { instances: ['a'] } }).retention)).toBe(24);
  });

  it('warns for 5 databases at default tiers, saying what to do', () => {
    const warnings = snapshotCapacityWarnings(
      snapshotsOf({ targets: { instances: ['a', 'b', 'c', 'd', 'e'] } }),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('5 DB instance target(s) × 24 snapshots each');
    expect(warnings[0]).toContain("= 120, over the Region's quota of 100 manual DB snapshots");
    expect(warnings[0]).toContain('Raise the quota');
  });

  it('does not warn for 4 databases, nor when the quota was raised', () => {
    expect(snapshotCapacityWarnings(snapshotsOf({ targets: { instances: ['a', 'b', 'c', 'd'] } }))).toEqual(
      [],
    );
    expect(
      snapshotCapacityWarnings(
        snapshotsOf({ targets: { instances: ['a', 'b', 'c', 'd', 'e'] }, quota: { manualDbSnapshots: 200 } }),
      ),
    ).toEqual([]);
  });

  it('checks cluster snapshots against their own quota, counting tag-selected databases as configured', () => {
    const warnings = snapshotCapacityWarnings(
      snapshotsOf({
        targets: {
          tag: { key: 'nightshift:backup', value: 'true' },
          clusters: ['x'],
          expectedTaggedClusters: 4,
          expectedTaggedInstances: 1,
        },
      }),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('5 Aurora cluster target(s)');
  });
});

describe('snapshots config', () => {
  it.each([
    [{ targets: {} }, 'snapshots.targets: names no database'],
    [{ targets: { instances: ['db--1'] } }, 'snapshots.targets.instances.0: must be an RDS identifier'],
    [
      { targets: { instances: ['a'] }, schedule: 'cron(0 3 * * *)' },
      'snapshots.schedule: a cron needs 6 fields',
    ],
    [{ targets: { instances: ['a'] }, retention: { dailyDays: 40 } }, 'snapshots.retention.dailyDays'],
  ])('rejects %j naming the field', (snapshots, message) => {
    expect(() => validateConfig({ snapshots })).toThrow(message);
  });
});

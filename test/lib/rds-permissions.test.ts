import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleAppConfig as exampleConfig } from '../../local/sandbox/example-config.ts';
import { asList, roleStatements } from './role-statements.ts';
import { ACCOUNT, buildStack, REGION } from './stack-fixture.ts';

const caFile = join(mkdtempSync(join(tmpdir(), 'nightshift-ca-')), 'bundle.pem');
writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
const { template } = buildStack({
  ...exampleConfig,
  restoreVerify: { ...exampleConfig.restoreVerify, enabled: true, caBundleFile: caFile },
} as typeof exampleConfig);
const t = template();
const rds = (resource: string) => `arn:aws:rds:${REGION}:${ACCOUNT}:${resource}`;
const copies = rds('db:nightshift-verify-*');
const clusterCopies = rds('cluster:nightshift-verify-*');

/** The statements of a role granting `action`, as `{ resources, condition }`. */
const grants = (role: string, action: string) =>
  roleStatements(t, role)
    .filter((s) => asList(s.Action).includes(action))
    .map((s) => ({ resources: asList(s.Resource), condition: s.Condition }));

const managed = { StringEquals: { 'aws:ResourceTag/nightshift:managed': 'true' } };
const taggedAtCreation = {
  StringEquals: { 'aws:RequestTag/nightshift:managed': 'true' },
  'ForAllValues:StringLike': { 'aws:TagKeys': ['nightshift:*'] },
};
const notPublic = { Bool: { 'rds:PubliclyAccessible': 'false' } };

describe('restore verification IAM', () => {
  it('restores only private copies tagged at creation, only from its own tagged snapshots', () => {
    expect(grants('RestoreVerify', 'rds:RestoreDBInstanceFromDBSnapshot')).toEqual([
      { resources: [copies], condition: { ...taggedAtCreation, ...notPublic } },
      { resources: [rds('snapshot:nightshift-*')], condition: managed },
      { resources: [rds('og:*'), rds('pg:*'), rds('subgrp:webhooks-private')], condition: undefined },
    ]);
    expect(grants('RestoreVerify', 'rds:RestoreDBClusterFromSnapshot')).toEqual([
      // RestoreDBClusterFromSnapshot has no rds:PubliclyAccessible; the cluster's instance is private.
      { resources: [clusterCopies], condition: taggedAtCreation },
      { resources: [rds('cluster-snapshot:nightshift-*')], condition: managed },
      {
        resources: [rds('cluster-pg:*'), rds('og:*'), rds('subgrp:webhooks-private')],
        condition: undefined,
      },
    ]);
    expect(grants('RestoreVerify', 'rds:CreateDBInstance')).toEqual([
      { resources: [copies], condition: { ...taggedAtCreation, ...notPublic } },
      { resources: [clusterCopies], condition: managed },
      { resources: [rds('pg:*')], condition: undefined },
    ]);
  });

  it('modifies and deletes only copies carrying nightshift:managed', () => {
    for (const action of ['rds:ModifyDBInstance', 'rds:DeleteDBInstance']) {
      expect(grants('RestoreVerify', action)).toEqual([{ resources: [copies], condition: managed }]);
    }
    for (const action of ['rds:ModifyDBCluster', 'rds:DeleteDBCluster']) {
      expect(grants('RestoreVerify', action)).toEqual([{ resources: [clusterCopies], condition: managed }]);
    }
  });

  it('tags copies only as they are created, and its own snapshots only with nightshift:verified-at', () => {
    expect(grants('RestoreVerify', 'rds:AddTagsToResource')).toEqual([
      {
        resources: [copies, clusterCopies],
        condition: { ...taggedAtCreation, Null: { 'aws:ResourceTag/nightshift:managed': 'true' } },
      },
      {
        resources: [rds('snapshot:nightshift-*'), rds('cluster-snapshot:nightshift-*')],
        condition: { ...managed, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['nightshift:verified-at'] } },
      },
    ]);
  });

  it('never removes tags', () => {
    expect(grants('RestoreVerify', 'rds:RemoveTagsFromResource')).toEqual([]);
  });
});

describe('snapshot function IAM', () => {
  const ownSnapshots = [rds('snapshot:nightshift-*'), rds('cluster-snapshot:nightshift-*')];

  it('creates only nightshift-* snapshots tagged nightshift:managed, with nightshift:* tags only', () => {
    // The example selects targets by tag, so any database may be snapshotted (never modified or deleted).
    expect(grants('RdsSnapshots', 'rds:CreateDBSnapshot')).toEqual([
      { resources: [rds('db:*'), rds('snapshot:nightshift-*')], condition: taggedAtCreation },
    ]);
    expect(grants('RdsSnapshots', 'rds:CreateDBClusterSnapshot')).toEqual([
      { resources: [rds('cluster:*'), rds('cluster-snapshot:nightshift-*')], condition: taggedAtCreation },
    ]);
  });

  it('tags a snapshot only as it is created: the creation tags, on one not yet Nightshift-managed', () => {
    expect(grants('RdsSnapshots', 'rds:AddTagsToResource')).toEqual([
      {
        resources: ownSnapshots,
        condition: { ...taggedAtCreation, Null: { 'aws:ResourceTag/nightshift:managed': 'true' } },
      },
    ]);
    expect(grants('RdsSnapshots', 'rds:RemoveTagsFromResource')).toEqual([]);
  });

  it('deletes only snapshots named nightshift-* that carry nightshift:managed', () => {
    expect(grants('RdsSnapshots', 'rds:DeleteDBSnapshot')).toEqual([
      { resources: [rds('snapshot:nightshift-*')], condition: managed },
    ]);
    expect(grants('RdsSnapshots', 'rds:DeleteDBClusterSnapshot')).toEqual([
      { resources: [rds('cluster-snapshot:nightshift-*')], condition: managed },
    ]);
  });
});

/** The local RDS world behind its own endpoint, and callers with the policies the RDS tests need. */
import { RDSClient } from '@aws-sdk/client-rds';
import type { Caller } from '../../../local/endpoint/authorize.ts';
import { LocalEndpoint } from '../../../local/endpoint/server.ts';
import type { PolicyDocument } from '../../../local/iam/policy.ts';
import { RdsWorld, type RdsWorldOptions } from '../../../local/services/rds.ts';
import { VirtualClock } from '../../../local/world/clock.ts';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const START = Date.parse('2026-11-20T00:00:00.000Z');
export const MIN = 60_000;
export const arn = (resource: string) => `arn:aws:rds:${REGION}:${ACCOUNT}:${resource}`;

export const operator: Caller = {
  accessKeyId: 'AKIAOPERATOR00000000',
  secretAccessKey: 'operator-secret',
  principalArn: `arn:aws:iam::${ACCOUNT}:user/operator`,
  policies: 'unrestricted',
};
export const role = (name: string, ...policies: PolicyDocument[]): Caller => ({
  accessKeyId: `AKIA${name.toUpperCase().padEnd(16, '0')}`,
  secretAccessKey: `${name}-secret`,
  principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${name}/fn`,
  policies,
});
/** May delete only Nightshift's snapshots, and list snapshots. */
export const pruner = role('pruner', {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'rds:DeleteDBSnapshot', Resource: 'arn:aws:rds:*:*:snapshot:nightshift-*' },
    { Effect: 'Allow', Action: 'rds:DescribeDBSnapshots', Resource: '*' },
  ],
});
/** May create snapshots named nightshift-* of any instance, only when tagged ManagedBy=nightshift. */
export const snapshotter = role('snapshotter', {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'rds:CreateDBSnapshot', Resource: 'arn:aws:rds:*:*:db:*' },
    {
      Effect: 'Allow',
      Action: 'rds:CreateDBSnapshot',
      Resource: 'arn:aws:rds:*:*:snapshot:nightshift-*',
      Condition: { StringEquals: { 'aws:RequestTag/ManagedBy': 'nightshift' } },
    },
    {
      // Tags given at creation are authorized as AddTagsToResource on the new snapshot too.
      Effect: 'Allow',
      Action: 'rds:AddTagsToResource',
      Resource: 'arn:aws:rds:*:*:snapshot:nightshift-*',
      Condition: { StringEquals: { 'aws:RequestTag/ManagedBy': 'nightshift' } },
    },
  ],
});
/** May create snapshots, but not of any database. */
export const snapshotOnly = role('snapshotonly', {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'rds:CreateDBSnapshot', Resource: 'arn:aws:rds:*:*:snapshot:*' }],
});

/** May restore, modify and delete nightshift-verify-* instances only, restoring from nightshift-* snapshots. */
export const verifier = role('verifier', {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['rds:RestoreDBInstanceFromDBSnapshot', 'rds:ModifyDBInstance', 'rds:DeleteDBInstance'],
      Resource: 'arn:aws:rds:*:*:db:nightshift-verify-*',
    },
    {
      Effect: 'Allow',
      Action: 'rds:RestoreDBInstanceFromDBSnapshot',
      Resource: [
        'arn:aws:rds:*:*:snapshot:nightshift-*',
        'arn:aws:rds:*:*:og:default:*',
        'arn:aws:rds:*:*:pg:default.*',
        'arn:aws:rds:*:*:subgrp:verify-subnets',
      ],
    },
  ],
});
/** Like the verifier, but forgot the option group a restore needs. */
export const verifierWithoutOptionGroup = role('verifiernoog', {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: 'rds:RestoreDBInstanceFromDBSnapshot',
      Resource: [
        'arn:aws:rds:*:*:db:nightshift-verify-*',
        'arn:aws:rds:*:*:snapshot:nightshift-*',
        'arn:aws:rds:*:*:pg:*',
        'arn:aws:rds:*:*:subgrp:*',
      ],
    },
  ],
});
export const callers = new Map(
  [operator, pruner, snapshotter, snapshotOnly, verifier, verifierWithoutOptionGroup].map((c) => [
    c.accessKeyId,
    c,
  ]),
);

const open: LocalEndpoint[] = [];

/** A fresh RDS world behind its own endpoint, closed by {@link closeWorlds} after each test. */
export async function world(options: Partial<RdsWorldOptions> = {}) {
  const clock = new VirtualClock(START);
  const rds = new RdsWorld({ account: ACCOUNT, region: REGION, clock, ...options });
  const endpoint = new LocalEndpoint({
    account: ACCOUNT,
    region: REGION,
    services: [],
    queryServices: [rds],
    callerFor: (key) => callers.get(key),
  });
  open.push(endpoint);
  await endpoint.listen();
  const client = (caller: Caller = operator, secret = caller.secretAccessKey) =>
    new RDSClient({
      endpoint: endpoint.url,
      region: REGION,
      credentials: { accessKeyId: caller.accessKeyId, secretAccessKey: secret },
      maxAttempts: 1,
    });
  return { clock, rds, endpoint, client, sdk: client() };
}

/** Closes the endpoints of the worlds a test opened (`afterEach(closeWorlds)`). */
export async function closeWorlds(): Promise<void> {
  await Promise.all(open.splice(0).map((e) => e.close()));
}

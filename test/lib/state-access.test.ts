import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleAppConfig as exampleConfig } from '../../local/sandbox/example-config.ts';
import { asList, roleStatements } from './role-statements.ts';
import { buildStack } from './stack-fixture.ts';

const caFile = join(mkdtempSync(join(tmpdir(), 'nightshift-ca-')), 'bundle.pem');
writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
const { app, template } = buildStack({
  ...exampleConfig,
  restoreVerify: { ...exampleConfig.restoreVerify, enabled: true, caBundleFile: caFile },
} as typeof exampleConfig);
const t = template();
const TABLE = /^arn:test:NightshiftStateTable/;

const dynamoStatements = (role: string) =>
  roleStatements(t, role)
    .filter((s) => asList(s.Action).some((a) => a.startsWith('dynamodb:')))
    .map((s) => ({ ...s, Resource: asList(s.Resource) }));

const onKeys = (operator: string, keys: string[]) => ({
  [operator]: { 'dynamodb:LeadingKeys': keys },
  Null: { 'dynamodb:LeadingKeys': 'false' },
});
const ownActions = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
];
const audit = (runbook: string) => ({
  Sid: 'AppendOwnAuditEntries',
  Effect: 'Allow',
  Action: ['dynamodb:PutItem', 'dynamodb:Query'],
  Resource: [expect.stringMatching(TABLE)],
  Condition: onKeys('ForAllValues:StringEquals', [`audit#${runbook}`]),
});

describe('state table access (dynamodb:LeadingKeys)', () => {
  it('gives ECS rollback its history and the per-service claims, and its own audit entries', () => {
    expect(dynamoStatements('EcsRollback')).toEqual([
      {
        Sid: 'StateOwnItems',
        Effect: 'Allow',
        Action: ownActions,
        Resource: [expect.stringMatching(TABLE)],
        Condition: onKeys('ForAllValues:StringLike', ['ecs-rollback#*', 'claim#*']),
      },
      audit('ecs-rollback'),
    ]);
  });

  it('gives restore verification its verification records, and its own audit entries', () => {
    expect(dynamoStatements('RestoreVerify')).toEqual([
      {
        Sid: 'StateOwnItems',
        Effect: 'Allow',
        Action: ownActions,
        Resource: [expect.stringMatching(TABLE)],
        Condition: onKeys('ForAllValues:StringLike', ['restore-verify', 'restore-verify#*']),
      },
      audit('restore-verify'),
    ]);
  });

  it('gives the snapshot function nothing but its own audit entries', () => {
    expect(dynamoStatements('RdsSnapshots')).toEqual([audit('rds-snapshots')]);
  });

  it('never grants Scan, PartiQL, batch or table-level actions, nor a key-less statement', () => {
    for (const role of ['EcsRollback', 'RestoreVerify', 'RdsSnapshots']) {
      for (const s of dynamoStatements(role)) {
        for (const action of asList(s.Action)) {
          expect(action).not.toMatch(/\*|Scan|PartiQL|Batch|Table|Stream/);
        }
        expect(asList(s.Resource)).toHaveLength(1);
        expect(s.Condition?.Null).toEqual({ 'dynamodb:LeadingKeys': 'false' });
      }
    }
  });

  it('stays cdk-nag clean', () => {
    expect(() => app.synth({ force: true })).not.toThrow();
  });
});

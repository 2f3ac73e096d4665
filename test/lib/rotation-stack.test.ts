import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../lib/config/define-config.ts';
import type { NightshiftConfigInput } from '../../lib/config/schema.ts';
import { exampleAppConfig } from '../../local/sandbox/example-config.ts';
import { asList, granting, roleStatements } from './role-statements.ts';
import { ACCOUNT, buildStack, REGION } from './stack-fixture.ts';

const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const withRotation: NightshiftConfigInput = {
  ...exampleAppConfig,
  rotation: {
    secrets: [
      { parameter: '/webhooks/api-key', kind: 'generated', kmsKeyArn: KEY },
      { parameter: '/webhooks/signing-secret', kind: 'generated', cadenceDays: 30, generate: { length: 64 } },
    ],
  },
};
const { app, template } = buildStack(withRotation);
const t = template();
const param = (name: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/${name}`;

describe('Rotation construct', () => {
  it('is nag clean', () => {
    expect(() => app.synth({ force: true })).not.toThrow();
  });

  it('puts and labels only the configured parameters, and manages only their .pending companions', () => {
    const statements = roleStatements(t, 'RotationHandler');
    const on = (action: string) =>
      granting(statements, action)
        .flatMap((s) => asList(s.Resource))
        .map(String)
        .filter((r) => !r.includes('kill-switch'))
        .sort();
    const main = [param('webhooks/api-key'), param('webhooks/signing-secret')];
    const pending = [param('webhooks/api-key.pending'), param('webhooks/signing-secret.pending')];
    expect(on('ssm:PutParameter')).toEqual([...main, ...pending].sort());
    expect(on('ssm:LabelParameterVersion')).toEqual(main);
    expect(on('ssm:UnlabelParameterVersion')).toEqual(main);
    expect(on('ssm:DeleteParameter')).toEqual(pending);
    expect(on('ssm:GetParameterHistory')).toEqual([...main, ...pending].sort());
  });

  it('uses only the configured KMS key, and only through SSM', () => {
    const kms = granting(roleStatements(t, 'RotationHandler'), 'kms:Decrypt');
    expect(kms.flatMap((s) => asList(s.Resource))).toEqual([KEY]);
    expect(JSON.stringify(kms[0]?.Condition)).toContain('kms:ViaService');
    expect(JSON.stringify(kms[0]?.Condition)).toContain('ssm.');
  });

  it('writes only its own rotation#* state items', () => {
    const own = roleStatements(t, 'RotationHandler').find((s) => s.Sid === 'StateOwnItems');
    expect(own?.Condition?.['ForAllValues:StringLike']).toEqual({ 'dynamodb:LeadingKeys': ['rotation#*'] });
  });

  it('runs on its schedule (hourly by default), cadences defaulted by kind', () => {
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
    const fn = Object.entries(
      t.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    ).find(([id, r]) => id.startsWith('NightshiftRotationHandler') && r.Type === 'AWS::Lambda::Function');
    const env = JSON.stringify(fn?.[1].Properties.Environment);
    expect(env).toContain('\\"cadenceDays\\":90');
    expect(env).toContain('\\"cadenceDays\\":30');
  });

  it('bad config names the field: a kind not built yet, a .pending name, a duplicate, a weak alphabet', () => {
    const bad = (secrets: unknown[]) => () =>
      validateConfig({ ...exampleAppConfig, rotation: { secrets } } as NightshiftConfigInput);
    expect(bad([{ parameter: '/db/app', kind: 'postgres-single' }])).toThrow(
      /rotation\.secrets\.0\.kind.*not built yet/s,
    );
    expect(bad([{ parameter: '/x.pending', kind: 'generated' }])).toThrow(/rotation\.secrets\.0\.parameter/);
    expect(
      bad([
        { parameter: '/a', kind: 'generated' },
        { parameter: '/a', kind: 'generated' },
      ]),
    ).toThrow(/listed twice/);
    expect(bad([{ parameter: '/a', kind: 'generated', generate: { alphabet: 'abc' } }])).toThrow(
      /generate.*alphabet: 3 usable/s,
    );
  });
});

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Fn::Sub templates use ${Name} literally.
import { describe, expect, it } from 'vitest';
import {
  type ResolveContext,
  resolveIntrinsics,
  UnresolvableIntrinsicError,
} from '../../../local/template/resolve.ts';

const ctx: ResolveContext = {
  region: 'us-east-1',
  accountId: '123456789012',
  stackName: 'NightshiftStack',
  refs: {
    TaskRole30FC0FBB: 'app-task-role',
    Cluster: 'nightshift-cluster',
    'AWS::StackId': 'arn:aws:cloudformation:us-east-1:123456789012:stack/NightshiftStack/abc',
  },
  attributes: {
    TaskRole30FC0FBB: { Arn: 'arn:aws:iam::123456789012:role/app-task-role' },
    Service: { Name: 'api', ServiceArn: 'arn:aws:ecs:us-east-1:123456789012:service/nightshift-cluster/api' },
    Db: { 'Endpoint.Address': 'db.local' },
  },
};

function expectUnresolvable(fn: () => unknown): UnresolvableIntrinsicError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UnresolvableIntrinsicError);
    return error as UnresolvableIntrinsicError;
  }
  throw new Error('expected UnresolvableIntrinsicError');
}

describe('resolveIntrinsics', () => {
  describe('Ref', () => {
    it.each([
      ['AWS::Region', 'us-east-1'],
      ['AWS::AccountId', '123456789012'],
      ['AWS::Partition', 'aws'],
      ['AWS::URLSuffix', 'amazonaws.com'],
      ['AWS::StackName', 'NightshiftStack'],
      ['AWS::StackId', 'arn:aws:cloudformation:us-east-1:123456789012:stack/NightshiftStack/abc'],
      ['TaskRole30FC0FBB', 'app-task-role'],
    ])('resolves %s to %s', (name, expected) => {
      expect(resolveIntrinsics({ Ref: name }, ctx)).toBe(expected);
    });

    it('uses ctx.partition and ctx.urlSuffix when given', () => {
      const china = { ...ctx, partition: 'aws-cn', urlSuffix: 'amazonaws.com.cn' };
      expect(resolveIntrinsics([{ Ref: 'AWS::Partition' }, { Ref: 'AWS::URLSuffix' }], china)).toEqual([
        'aws-cn',
        'amazonaws.com.cn',
      ]);
    });

    it('removes properties and list elements that are AWS::NoValue', () => {
      const value = { Keep: 'x', Drop: { Ref: 'AWS::NoValue' }, List: ['a', { Ref: 'AWS::NoValue' }, 'b'] };
      expect(resolveIntrinsics(value, ctx)).toEqual({ Keep: 'x', List: ['a', 'b'] });
    });

    it('returns undefined when the whole value is AWS::NoValue', () => {
      expect(resolveIntrinsics({ Ref: 'AWS::NoValue' }, ctx)).toBeUndefined();
    });

    it('throws naming the logical id and path when the logical id is unknown', () => {
      const error = expectUnresolvable(() =>
        resolveIntrinsics({ Statement: [{ Resource: { Ref: 'Nope' } }] }, ctx),
      );
      expect(error.logicalId).toBe('Nope');
      expect(error.intrinsic).toBe('Ref');
      expect(error.path).toBe('$.Statement[0].Resource.Ref');
      expect(error.message).toContain('Nope');
      expect(error.message).toContain('$.Statement[0].Resource.Ref');
    });

    it('throws for AWS::StackName when ctx.stackName is absent', () => {
      const { stackName: _omit, ...noStack } = ctx;
      const error = expectUnresolvable(() => resolveIntrinsics({ Ref: 'AWS::StackName' }, noStack));
      expect(error.logicalId).toBe('AWS::StackName');
    });
  });

  describe('Fn::GetAtt', () => {
    it.each<[string, unknown, string]>([
      [
        'array form',
        { 'Fn::GetAtt': ['TaskRole30FC0FBB', 'Arn'] },
        'arn:aws:iam::123456789012:role/app-task-role',
      ],
      ['string form', { 'Fn::GetAtt': 'Service.Name' }, 'api'],
      ['dotted attribute in string form', { 'Fn::GetAtt': 'Db.Endpoint.Address' }, 'db.local'],
      ['dotted attribute in array form', { 'Fn::GetAtt': ['Db', 'Endpoint.Address'] }, 'db.local'],
    ])('resolves the %s', (_name, value, expected) => {
      expect(resolveIntrinsics(value, ctx)).toBe(expected);
    });

    it('throws naming the logical id when it is unknown', () => {
      const error = expectUnresolvable(() => resolveIntrinsics({ 'Fn::GetAtt': ['Ghost', 'Arn'] }, ctx));
      expect(error.logicalId).toBe('Ghost');
      expect(error.message).toContain('Ghost');
    });

    it('throws naming logical id and attribute when the attribute is unknown', () => {
      const error = expectUnresolvable(() => resolveIntrinsics({ 'Fn::GetAtt': 'Service.Arn' }, ctx));
      expect(error.message).toContain('Service.Arn');
    });
  });

  describe('Fn::Join', () => {
    it('joins the CDK-shaped ARN built from pseudo-parameters and refs', () => {
      const value = {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':ecs:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':task-definition/api:*',
          ],
        ],
      };
      expect(resolveIntrinsics(value, ctx)).toBe('arn:aws:ecs:us-east-1:123456789012:task-definition/api:*');
    });

    it('joins a list produced by another intrinsic', () => {
      expect(resolveIntrinsics({ 'Fn::Join': ['-', { 'Fn::Split': [',', 'a,b,c'] }] }, ctx)).toBe('a-b-c');
    });

    it('throws when the list contains an object', () => {
      const error = expectUnresolvable(() => resolveIntrinsics({ 'Fn::Join': ['', ['a', { x: 1 }]] }, ctx));
      expect(error.intrinsic).toBe('Fn::Join');
    });
  });

  describe('Fn::Sub', () => {
    it.each<[string, unknown, string]>([
      [
        'a pseudo-parameter',
        { 'Fn::Sub': 'arn:${AWS::Partition}:ecs:${AWS::Region}:x' },
        'arn:aws:ecs:us-east-1:x',
      ],
      ['a logical id', { 'Fn::Sub': 'cluster/${Cluster}' }, 'cluster/nightshift-cluster'],
      [
        'a logical id attribute',
        { 'Fn::Sub': '${TaskRole30FC0FBB.Arn}' },
        'arn:aws:iam::123456789012:role/app-task-role',
      ],
      ['an escaped literal', { 'Fn::Sub': '${!Literal}-${AWS::Region}' }, '${Literal}-us-east-1'],
      [
        'variables in the [string, vars] form',
        { 'Fn::Sub': ['${Name}@${AWS::AccountId}', { Name: { Ref: 'Cluster' } }] },
        'nightshift-cluster@123456789012',
      ],
      ['a variable shadowing a logical id', { 'Fn::Sub': ['${Cluster}', { Cluster: 'other' }] }, 'other'],
      ['a template without placeholders', { 'Fn::Sub': 'plain' }, 'plain'],
    ])('substitutes %s', (_name, value, expected) => {
      expect(resolveIntrinsics(value, ctx)).toBe(expected);
    });

    it('throws naming the logical id when a placeholder is unknown', () => {
      const error = expectUnresolvable(() => resolveIntrinsics({ Policy: { 'Fn::Sub': '${Missing}' } }, ctx));
      expect(error.logicalId).toBe('Missing');
      expect(error.intrinsic).toBe('Fn::Sub');
      expect(error.path).toBe('$.Policy.Fn::Sub');
    });
  });

  describe('Fn::Select and Fn::Split', () => {
    it.each<[string, unknown, unknown]>([
      ['selects from a literal list', { 'Fn::Select': [1, ['a', 'b', 'c']] }, 'b'],
      ['accepts a string index', { 'Fn::Select': ['0', ['a', 'b']] }, 'a'],
      ['splits a string', { 'Fn::Split': ['/', 'service/cluster/api'] }, ['service', 'cluster', 'api']],
      [
        'selects from a split of an attribute',
        { 'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::GetAtt': ['Service', 'ServiceArn'] }] }] },
        'api',
      ],
    ])('%s', (_name, value, expected) => {
      expect(resolveIntrinsics(value, ctx)).toEqual(expected);
    });

    it('throws when the index is out of range', () => {
      const error = expectUnresolvable(() => resolveIntrinsics({ 'Fn::Select': [3, ['a']] }, ctx));
      expect(error.intrinsic).toBe('Fn::Select');
    });
  });

  describe('unsupported functions', () => {
    it.each([
      ['Fn::If', { 'Fn::If': ['IsProd', 'a', 'b'] }],
      ['Fn::Equals', { 'Fn::Equals': ['a', 'b'] }],
      ['Fn::ImportValue', { 'Fn::ImportValue': 'SharedVpc' }],
      ['Fn::FindInMap', { 'Fn::FindInMap': ['M', 'k', 'v'] }],
    ])('throws naming %s and its path', (fn, intrinsic) => {
      const error = expectUnresolvable(() => resolveIntrinsics({ Properties: { Value: [intrinsic] } }, ctx));
      expect(error.intrinsic).toBe(fn);
      expect(error.path).toBe(`$.Properties.Value[0].${fn}`);
      expect(error.message).toContain(fn);
    });
  });

  describe('documents', () => {
    it('resolves a CDK-synthesized policy document without mutating the input', () => {
      const template = {
        Version: '2012-10-17',
        Statement: [
          {
            Action: 'iam:PassRole',
            Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': ['TaskRole30FC0FBB', 'Arn'] },
          },
          { Action: 'ecs:DescribeTaskDefinition', Effect: 'Allow', Resource: '*' },
        ],
      };
      const snapshot = structuredClone(template);
      expect(resolveIntrinsics(template, ctx)).toEqual({
        ...snapshot,
        Statement: [
          { ...snapshot.Statement[0], Resource: 'arn:aws:iam::123456789012:role/app-task-role' },
          snapshot.Statement[1],
        ],
      });
      expect(template).toEqual(snapshot);
    });

    it('leaves objects with several keys (including Ref) as plain objects', () => {
      expect(resolveIntrinsics({ Ref: 'Cluster', Other: 1 }, ctx)).toEqual({ Ref: 'Cluster', Other: 1 });
    });
  });
});

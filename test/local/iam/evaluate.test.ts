// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables use ${key} literally.
import { describe, expect, it } from 'vitest';
import {
  type AuthorizationRequest,
  evaluate,
  InvalidAuthorizationRequestError,
  InvalidPolicyError,
  UnsupportedConditionOperatorError,
} from '../../../local/iam/evaluate.ts';
import type { PolicyDocument, PolicyStatement } from '../../../local/iam/policy.ts';

const ACCOUNT = '123456789012';
const TASK_ROLE = `arn:aws:iam::${ACCOUNT}:role/app-task-role`;
const SERVICE = `arn:aws:ecs:us-east-1:${ACCOUNT}:service/nightshift/api`;
const TASK_DEF = `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/api:42`;

/** A CDK-shaped policy, as `resolveIntrinsics` produces it from `cdk.out/<Stack>.template.json`. */
const cdkPolicy: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: TASK_ROLE,
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    },
    {
      Effect: 'Allow',
      Action: 'ecs:TagResource',
      Resource: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/api:*`,
      Condition: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
    },
    { Effect: 'Allow', Action: ['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition'], Resource: '*' },
    {
      Effect: 'Allow',
      Action: ['ecs:DescribeServices', 'ecs:UpdateService'],
      Resource: `arn:aws:ecs:us-east-1:${ACCOUNT}:service/nightshift/*`,
    },
    {
      Effect: 'Allow',
      Action: 'ecs:RunTask',
      Resource: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/api:*`,
    },
  ],
};

function request(action: string, resources: string[], context: AuthorizationRequest['context'] = {}) {
  return { action, resources, context };
}

function single(statement: PolicyStatement, version = '2012-10-17'): PolicyDocument[] {
  return [{ Version: version, Statement: statement }];
}

describe('evaluate', () => {
  describe('CDK-synthesized policy', () => {
    it.each<[string, AuthorizationRequest, boolean]>([
      [
        'allows iam:PassRole to ecs-tasks',
        request('iam:PassRole', [TASK_ROLE], { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }),
        true,
      ],
      [
        'denies iam:PassRole to another service',
        request('iam:PassRole', [TASK_ROLE], { 'iam:PassedToService': 'lambda.amazonaws.com' }),
        false,
      ],
      ['denies iam:PassRole without iam:PassedToService', request('iam:PassRole', [TASK_ROLE]), false],
      [
        'denies iam:PassRole of another role',
        request('iam:PassRole', [`arn:aws:iam::${ACCOUNT}:role/admin`], {
          'iam:PassedToService': 'ecs-tasks.amazonaws.com',
        }),
        false,
      ],
      [
        'allows ecs:TagResource during RegisterTaskDefinition',
        request('ecs:TagResource', [TASK_DEF], { 'ecs:CreateAction': 'RegisterTaskDefinition' }),
        true,
      ],
      [
        'denies ecs:TagResource outside RegisterTaskDefinition',
        request('ecs:TagResource', [TASK_DEF], { 'ecs:CreateAction': 'CreateService' }),
        false,
      ],
      ['denies ecs:TagResource without ecs:CreateAction', request('ecs:TagResource', [TASK_DEF]), false],
      ['allows ecs:DescribeTaskDefinition on *', request('ecs:DescribeTaskDefinition', ['*']), true],
      ['allows ecs:UpdateService on a service in the cluster', request('ecs:UpdateService', [SERVICE]), true],
      [
        'denies ecs:UpdateService on a service in another cluster',
        request('ecs:UpdateService', [`arn:aws:ecs:us-east-1:${ACCOUNT}:service/other/api`]),
        false,
      ],
      ['denies an action no statement names', request('ecs:DeleteService', [SERVICE]), false],
      ['allows ecs:RunTask on a revision of the family', request('ecs:RunTask', [TASK_DEF]), true],
      [
        'denies ecs:RunTask on another family sharing the prefix',
        request('ecs:RunTask', [`arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/api-worker:1`]),
        false,
      ],
      [
        'denies ecs:RunTask in another region',
        request('ecs:RunTask', [`arn:aws:ecs:eu-west-1:${ACCOUNT}:task-definition/api:42`]),
        false,
      ],
      [
        'denies when one of several resources is not allowed',
        request('ecs:RunTask', [TASK_DEF, `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/db:1`]),
        false,
      ],
    ])('%s', (_name, req, allowed) => {
      expect(evaluate([cdkPolicy], req).allowed).toBe(allowed);
    });

    it('names the action and resource when nothing allows the request', () => {
      expect(evaluate([cdkPolicy], request('ecs:DeleteService', [SERVICE])).reason).toBe(
        `no statement allows ecs:DeleteService on ${SERVICE}`,
      );
    });

    it('names the allowing statement when allowed', () => {
      expect(evaluate([cdkPolicy], request('ecs:RunTask', [TASK_DEF])).reason).toBe(
        `allowed by statement policies[0].Statement[4] on ${TASK_DEF}`,
      );
    });
  });

  describe('explicit deny', () => {
    const policies: PolicyDocument[] = [
      cdkPolicy,
      {
        Version: '2012-10-17',
        Statement: { Sid: 'NoProdUpdates', Effect: 'Deny', Action: 'ecs:Update*', Resource: SERVICE },
      },
    ];

    it('denies and names the statement when a Deny matches despite an Allow', () => {
      expect(evaluate(policies, request('ecs:UpdateService', [SERVICE]))).toEqual({
        allowed: false,
        reason: `explicit deny by statement NoProdUpdates on ${SERVICE}`,
      });
    });

    it('denies when a Deny matches only one of the resources', () => {
      const other = `arn:aws:ecs:us-east-1:${ACCOUNT}:service/nightshift/worker`;
      expect(evaluate(policies, request('ecs:UpdateService', [other, SERVICE])).allowed).toBe(false);
    });

    it('allows when the Deny does not match the resource', () => {
      const other = `arn:aws:ecs:us-east-1:${ACCOUNT}:service/nightshift/worker`;
      expect(evaluate(policies, request('ecs:UpdateService', [other])).allowed).toBe(true);
    });

    it('denies everything but the listed actions with Deny + NotAction', () => {
      const guard: PolicyDocument = {
        Statement: { Effect: 'Deny', NotAction: ['ecs:Describe*', 'ecs:List*'], Resource: '*' },
      };
      expect(evaluate([cdkPolicy, guard], request('ecs:UpdateService', [SERVICE])).allowed).toBe(false);
      expect(evaluate([cdkPolicy, guard], request('ecs:DescribeTaskDefinition', ['*'])).allowed).toBe(true);
    });
  });

  describe('action matching', () => {
    it.each<[string, string | string[], string, boolean]>([
      ['matches case-insensitively', 'ECS:updateservice', 'ecs:UpdateService', true],
      ['matches a * wildcard', 'ecs:Update*', 'ecs:UpdateService', true],
      ['matches a ? wildcard', 'ecs:UpdateServic?', 'ecs:UpdateService', true],
      ['matches the full wildcard', '*', 'ecs:UpdateService', true],
      ['matches a service wildcard', 'ecs:*', 'ecs:UpdateService', true],
      ['does not match another service', 'ec2:*', 'ecs:UpdateService', false],
      ['does not match a prefix without a wildcard', 'ecs:Update', 'ecs:UpdateService', false],
      ['matches any element of a list', ['ecs:RunTask', 'ecs:UpdateService'], 'ecs:UpdateService', true],
    ])('%s', (_name, Action, action, allowed) => {
      expect(
        evaluate(single({ Effect: 'Allow', Action, Resource: '*' }), request(action, [SERVICE])).allowed,
      ).toBe(allowed);
    });

    it('allows every other action with NotAction', () => {
      const policies = single({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' });
      expect(evaluate(policies, request('ecs:UpdateService', [SERVICE])).allowed).toBe(true);
      expect(evaluate(policies, request('iam:PassRole', [TASK_ROLE])).allowed).toBe(false);
    });
  });

  describe('resource matching', () => {
    it.each<[string, string, string, boolean]>([
      ['matches * against a concrete ARN', '*', TASK_DEF, true],
      ['matches * against the * of resource-less actions', '*', '*', true],
      ['does not match an ARN against the * of resource-less actions', TASK_DEF, '*', false],
      [
        'matches a revision wildcard spanning the colon',
        'arn:aws:ecs:us-east-1:123456789012:task-definition/*',
        TASK_DEF,
        true,
      ],
      [
        'matches a revision wildcard',
        'arn:aws:ecs:us-east-1:123456789012:task-definition/api:*',
        TASK_DEF,
        true,
      ],
      ['matches a ? wildcard', 'arn:aws:ecs:us-east-1:123456789012:task-definition/api:4?', TASK_DEF, true],
      ['matches a region wildcard', 'arn:aws:ecs:*:123456789012:task-definition/api:42', TASK_DEF, true],
      ['keeps a region wildcard within its segment', 'arn:aws:ecs:*:task-definition/api:42', TASK_DEF, false],
      ['matches the empty region of IAM ARNs', 'arn:aws:iam::*:role/app-*', TASK_ROLE, true],
      ['is case-sensitive', 'arn:aws:ecs:us-east-1:123456789012:task-definition/API:*', TASK_DEF, false],
      [
        'does not match another account',
        'arn:aws:ecs:us-east-1:999999999999:task-definition/api:*',
        TASK_DEF,
        false,
      ],
      ['lets * span segments in a pattern with fewer than five colons', 'arn:aws:ecs:*', TASK_DEF, true],
    ])('%s', (_name, Resource, resource, allowed) => {
      const policies = single({ Effect: 'Allow', Action: 'ecs:*', Resource });
      expect(evaluate(policies, request('ecs:RunTask', [resource])).allowed).toBe(allowed);
    });

    it('allows every other resource with NotResource', () => {
      const policies = single({
        Effect: 'Allow',
        Action: 'ecs:*',
        NotResource: 'arn:aws:ecs:*:*:service/prod/*',
      });
      expect(evaluate(policies, request('ecs:UpdateService', [SERVICE])).allowed).toBe(true);
      const prod = `arn:aws:ecs:us-east-1:${ACCOUNT}:service/prod/api`;
      expect(evaluate(policies, request('ecs:UpdateService', [prod])).allowed).toBe(false);
    });

    it('expands policy variables in 2012-10-17 documents', () => {
      const statement: PolicyStatement = {
        Effect: 'Allow',
        Action: 'ecs:UpdateService',
        Resource: 'arn:aws:ecs:us-east-1:123456789012:service/${aws:PrincipalTag/cluster}/*',
      };
      const req = request('ecs:UpdateService', [SERVICE], { 'aws:PrincipalTag/cluster': 'nightshift' });
      expect(evaluate(single(statement), req).allowed).toBe(true);
      expect(evaluate(single(statement), { ...req, context: {} }).allowed).toBe(false);
      expect(evaluate(single(statement, '2008-10-17'), req).allowed).toBe(false);
    });

    it('fails closed for an Allow NotResource whose policy variable has no value', () => {
      const policies = single({
        Effect: 'Allow',
        Action: 'ecs:*',
        NotResource: 'arn:aws:ecs:*:*:service/${aws:x}/*',
      });
      expect(evaluate(policies, request('ecs:UpdateService', [SERVICE])).allowed).toBe(false);
    });
  });

  describe('conditions', () => {
    const allowWith = (Condition: PolicyStatement['Condition']) =>
      single({ Effect: 'Allow', Action: 'ecs:*', Resource: '*', Condition });

    it.each<[string, PolicyStatement['Condition'], AuthorizationRequest['context'], boolean]>([
      [
        'StringEquals matches one of several values',
        { StringEquals: { 'ecs:cluster': ['a', 'b'] } },
        { 'ecs:cluster': 'b' },
        true,
      ],
      [
        'StringEquals is case-sensitive on values',
        { StringEquals: { 'ecs:cluster': 'a' } },
        { 'ecs:cluster': 'A' },
        false,
      ],
      [
        'condition key names are case-insensitive',
        { StringEquals: { 'ECS:Cluster': 'a' } },
        { 'ecs:cluster': 'a' },
        true,
      ],
      ['StringEquals fails for an absent key', { StringEquals: { 'ecs:cluster': 'a' } }, {}, false],
      [
        'StringNotEquals holds for another value',
        { StringNotEquals: { 'ecs:cluster': 'a' } },
        { 'ecs:cluster': 'b' },
        true,
      ],
      [
        'StringNotEquals fails for a listed value',
        { StringNotEquals: { 'ecs:cluster': ['a', 'b'] } },
        { 'ecs:cluster': 'b' },
        false,
      ],
      [
        'StringNotEquals holds for an absent key (AWS)',
        { StringNotEquals: { 'ecs:cluster': 'a' } },
        {},
        true,
      ],
      [
        'StringEqualsIgnoreCase ignores case',
        { StringEqualsIgnoreCase: { 'ecs:cluster': 'Prod' } },
        { 'ecs:cluster': 'PROD' },
        true,
      ],
      [
        'StringLike matches wildcards',
        { StringLike: { 'ecs:cluster': 'night*' } },
        { 'ecs:cluster': 'nightshift' },
        true,
      ],
      [
        'StringLike does not match otherwise',
        { StringLike: { 'ecs:cluster': 'day*' } },
        { 'ecs:cluster': 'nightshift' },
        false,
      ],
      [
        'StringNotLike fails on a match',
        { StringNotLike: { 'ecs:cluster': 'night*' } },
        { 'ecs:cluster': 'nightshift' },
        false,
      ],
      [
        'StringEquals expands policy variables',
        { StringEquals: { 'aws:ResourceTag/owner': '${aws:username}' } },
        { 'aws:ResourceTag/owner': 'ann', 'aws:username': 'ann' },
        true,
      ],
      [
        'an Allow with an unresolved policy variable fails closed',
        { StringNotEquals: { 'aws:ResourceTag/owner': '${aws:username}' } },
        { 'aws:ResourceTag/owner': 'ann' },
        false,
      ],
      [
        'an unresolved policy variable does not matter when another value matches',
        { StringEquals: { 'aws:ResourceTag/owner': ['${aws:username}', 'ann'] } },
        { 'aws:ResourceTag/owner': 'ann' },
        true,
      ],
      [
        'StringEquals does not treat * as wildcard',
        { StringEquals: { 'ecs:cluster': '*' } },
        { 'ecs:cluster': 'x' },
        false,
      ],
      [
        'ArnLike matches segment-wise',
        { ArnLike: { 'aws:SourceArn': 'arn:aws:ecs:*:123456789012:service/*' } },
        { 'aws:SourceArn': SERVICE },
        true,
      ],
      [
        'ArnEquals fails for another account',
        { ArnEquals: { 'aws:SourceArn': 'arn:aws:ecs:*:999999999999:service/*' } },
        { 'aws:SourceArn': SERVICE },
        false,
      ],
      [
        'ArnNotLike holds for another account',
        { ArnNotLike: { 'aws:SourceArn': 'arn:aws:ecs:*:999999999999:*' } },
        { 'aws:SourceArn': SERVICE },
        true,
      ],
      [
        'ArnNotEquals fails for a match',
        { ArnNotEquals: { 'aws:SourceArn': SERVICE } },
        { 'aws:SourceArn': SERVICE },
        false,
      ],
      [
        'Bool matches true',
        { Bool: { 'aws:SecureTransport': true } },
        { 'aws:SecureTransport': 'true' },
        true,
      ],
      [
        'Bool fails for false',
        { Bool: { 'aws:SecureTransport': 'true' } },
        { 'aws:SecureTransport': 'false' },
        false,
      ],
      ['Null true holds for an absent key', { Null: { 'aws:RequestTag/team': 'true' } }, {}, true],
      [
        'Null true fails for a present key',
        { Null: { 'aws:RequestTag/team': 'true' } },
        { 'aws:RequestTag/team': 'x' },
        false,
      ],
      [
        'Null false holds for a present key',
        { Null: { 'aws:RequestTag/team': 'false' } },
        { 'aws:RequestTag/team': 'x' },
        true,
      ],
      ['Null false fails for an absent key', { Null: { 'aws:RequestTag/team': false } }, {}, false],
      [
        'NumericLessThan holds below',
        { NumericLessThan: { 'ecs:task-cpu': '1024' } },
        { 'ecs:task-cpu': '512' },
        true,
      ],
      [
        'NumericLessThan fails at the limit',
        { NumericLessThan: { 'ecs:task-cpu': '1024' } },
        { 'ecs:task-cpu': '1024' },
        false,
      ],
      [
        'NumericLessThanEquals holds at the limit',
        { NumericLessThanEquals: { 'ecs:task-cpu': '1024' } },
        { 'ecs:task-cpu': '1024' },
        true,
      ],
      [
        'NumericEquals compares numbers',
        { NumericEquals: { 'ecs:task-cpu': '256' } },
        { 'ecs:task-cpu': '256.0' },
        true,
      ],
      [
        'NumericGreaterThan fails for non-numbers',
        { NumericGreaterThan: { 'ecs:task-cpu': '1' } },
        { 'ecs:task-cpu': 'x' },
        false,
      ],
      [
        'DateLessThan holds before',
        { DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } },
        { 'aws:CurrentTime': '2026-09-26T00:00:00Z' },
        true,
      ],
      [
        'DateGreaterThan fails before',
        { DateGreaterThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } },
        { 'aws:CurrentTime': '2026-09-26T00:00:00Z' },
        false,
      ],
      [
        'DateGreaterThan accepts epoch seconds',
        { DateGreaterThan: { 'aws:EpochTime': '1000' } },
        { 'aws:EpochTime': '2000' },
        true,
      ],
      [
        'IpAddress matches a CIDR',
        { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
        { 'aws:SourceIp': '10.1.2.3' },
        true,
      ],
      [
        'NotIpAddress fails inside the CIDR',
        { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
        { 'aws:SourceIp': '10.1.2.3' },
        false,
      ],
      ['…IfExists holds for an absent key', { StringEqualsIfExists: { 'ecs:cluster': 'a' } }, {}, true],
      [
        '…IfExists checks a present key',
        { StringEqualsIfExists: { 'ecs:cluster': 'a' } },
        { 'ecs:cluster': 'b' },
        false,
      ],
      [
        'ForAnyValue holds when one value matches',
        { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team', 'env'] } },
        { 'aws:TagKeys': ['x', 'env'] },
        true,
      ],
      [
        'ForAnyValue fails when none matches',
        { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team'] } },
        { 'aws:TagKeys': ['x'] },
        false,
      ],
      [
        'ForAnyValue fails for an absent key',
        { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team'] } },
        {},
        false,
      ],
      [
        'ForAllValues holds when every value matches',
        { 'ForAllValues:StringLike': { 'aws:TagKeys': ['team', 'env*'] } },
        { 'aws:TagKeys': ['team', 'env1'] },
        true,
      ],
      [
        'ForAllValues fails when one value does not match',
        { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team'] } },
        { 'aws:TagKeys': ['team', 'x'] },
        false,
      ],
      [
        'ForAllValues holds for an absent key',
        { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team'] } },
        {},
        true,
      ],
      [
        'ForAllValues holds for an empty list',
        { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team'] } },
        { 'aws:TagKeys': [] },
        true,
      ],
      [
        'ForAllValues:StringNotEquals fails if any value is listed',
        { 'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['secret'] } },
        { 'aws:TagKeys': ['team', 'secret'] },
        false,
      ],
      [
        'a bare operator matches any value of a multivalued key',
        { StringEquals: { 'aws:TagKeys': 'team' } },
        { 'aws:TagKeys': ['x', 'team'] },
        true,
      ],
      [
        'several keys are AND-ed',
        { StringEquals: { 'ecs:cluster': 'a', 'ecs:service': 's' } },
        { 'ecs:cluster': 'a', 'ecs:service': 'x' },
        false,
      ],
      [
        'several operators are AND-ed',
        { StringEquals: { 'ecs:cluster': 'a' }, StringLike: { 'ecs:service': 's*' } },
        { 'ecs:cluster': 'a', 'ecs:service': 'svc' },
        true,
      ],
    ])('%s', (_name, condition, context, allowed) => {
      expect(evaluate(allowWith(condition), request('ecs:UpdateService', [SERVICE], context)).allowed).toBe(
        allowed,
      );
    });

    it('applies a conditional Deny only when its condition holds', () => {
      const policies: PolicyDocument[] = [
        cdkPolicy,
        {
          Statement: {
            Sid: 'DenyUntagged',
            Effect: 'Deny',
            Action: 'ecs:UpdateService',
            Resource: '*',
            Condition: { Null: { 'aws:ResourceTag/team': 'true' } },
          },
        },
      ];
      expect(evaluate(policies, request('ecs:UpdateService', [SERVICE])).reason).toBe(
        `explicit deny by statement DenyUntagged on ${SERVICE}`,
      );
      const tagged = request('ecs:UpdateService', [SERVICE], { 'aws:ResourceTag/team': 'ops' });
      expect(evaluate(policies, tagged).allowed).toBe(true);
    });
    it('applies a Deny whose condition has an unresolved policy variable (fail closed)', () => {
      const policies: PolicyDocument[] = [
        cdkPolicy,
        {
          Version: '2012-10-17',
          Statement: {
            Sid: 'DenyOthers',
            Effect: 'Deny',
            Action: 'ecs:UpdateService',
            Resource: '*',
            Condition: { StringNotEquals: { 'aws:ResourceTag/owner': '${aws:username}' } },
          },
        },
      ];
      const req = request('ecs:UpdateService', [SERVICE], { 'aws:ResourceTag/owner': 'ann' });
      expect(evaluate(policies, req).allowed).toBe(false);
      expect(evaluate(policies, { ...req, context: { ...req.context, 'aws:username': 'ann' } }).allowed).toBe(
        true,
      );
    });
  });

  describe('dynamodb:LeadingKeys (fine-grained access control)', () => {
    const TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/state`;
    const own = single({
      Effect: 'Allow',
      Action: ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchWriteItem'],
      Resource: TABLE,
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ecs-rollback#*', 'claim#*'] } },
    });
    const keyed = (action: string, keys: string[] | undefined) =>
      evaluate(own, request(action, [TABLE], keys === undefined ? {} : { 'dynamodb:LeadingKeys': keys }))
        .allowed;

    it('allows a request whose every partition key matches one of the prefixes', () => {
      expect(keyed('dynamodb:PutItem', ['ecs-rollback#arn:svc'])).toBe(true);
      expect(keyed('dynamodb:BatchWriteItem', ['ecs-rollback#a', 'claim#a'])).toBe(true);
    });

    it("refuses a request touching another runbook's partition", () => {
      expect(keyed('dynamodb:PutItem', ['audit#rds-snapshots'])).toBe(false);
      expect(keyed('dynamodb:BatchWriteItem', ['ecs-rollback#a', 'svc#a'])).toBe(false);
    });

    it('holds vacuously for a request with no key (Scan, PartiQL): why Scan must never be granted', () => {
      expect(keyed('dynamodb:Scan', undefined)).toBe(true);
      expect(keyed('dynamodb:Scan', [])).toBe(true);
    });

    it('closes the vacuous case with Null: a request with no key fails', () => {
      const guarded = single({
        Effect: 'Allow',
        Action: 'dynamodb:Scan',
        Resource: TABLE,
        Condition: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ecs-rollback#*'] },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      });
      expect(evaluate(guarded, request('dynamodb:Scan', [TABLE])).allowed).toBe(false);
    });

    it('ForAnyValue needs only one matching key, and fails without any', () => {
      const any = single({
        Effect: 'Allow',
        Action: 'dynamodb:BatchWriteItem',
        Resource: TABLE,
        Condition: { 'ForAnyValue:StringEquals': { 'dynamodb:LeadingKeys': ['claim#a'] } },
      });
      const ask = (keys: string[] | undefined) =>
        evaluate(
          any,
          request('dynamodb:BatchWriteItem', [TABLE], keys ? { 'dynamodb:LeadingKeys': keys } : {}),
        ).allowed;
      expect(ask(['svc#a', 'claim#a'])).toBe(true);
      expect(ask(['svc#a'])).toBe(false);
      expect(ask(undefined)).toBe(false);
    });
  });

  describe('invalid input', () => {
    it('throws naming an unknown condition operator', () => {
      const policies = single({
        Sid: 'Typo',
        Effect: 'Allow',
        Action: 'ecs:*',
        Resource: '*',
        Condition: { StringEqualz: { 'ecs:cluster': 'a' } },
      });
      const run = () => evaluate(policies, request('ecs:UpdateService', [SERVICE], { 'ecs:cluster': 'a' }));
      expect(run).toThrow(UnsupportedConditionOperatorError);
      expect(run).toThrow(/StringEqualz/);
    });

    it.each([['ForSomeValues:StringEquals'], ['NullIfExists'], ['ForAnyValue:Null'], ['IfExists']])(
      'throws UnsupportedConditionOperatorError for %s',
      (operator) => {
        const policies = single({
          Effect: 'Deny',
          Action: 'ec2:*',
          Resource: '*',
          Condition: { [operator]: { 'ecs:cluster': 'true' } },
        });
        expect(() => evaluate(policies, request('ecs:UpdateService', [SERVICE]))).toThrow(
          UnsupportedConditionOperatorError,
        );
      },
    );

    it.each<[string, PolicyStatement]>([
      ['neither Action nor NotAction', { Effect: 'Allow', Resource: '*' }],
      ['both Resource and NotResource', { Effect: 'Allow', Action: '*', Resource: '*', NotResource: 'x' }],
      ['an unknown Effect', { Effect: 'allow' as 'Allow', Action: '*', Resource: '*' }],
      [
        'a non-numeric Numeric value',
        { Effect: 'Allow', Action: '*', Resource: '*', Condition: { NumericEquals: { k: 'x' } } },
      ],
      [
        'an invalid Bool value',
        { Effect: 'Allow', Action: '*', Resource: '*', Condition: { Bool: { k: 'yes' } } },
      ],
    ])('throws InvalidPolicyError for %s', (_name, statement) => {
      expect(() => evaluate(single(statement), request('ecs:UpdateService', [SERVICE]))).toThrow(
        InvalidPolicyError,
      );
    });

    it.each<[string, AuthorizationRequest]>([
      ['has no resources', request('ecs:UpdateService', [])],
      ['has an action without a service', request('UpdateService', [SERVICE])],
      ['has a wildcard action', request('ecs:Update*', [SERVICE])],
    ])('throws InvalidAuthorizationRequestError when the request %s', (_name, req) => {
      expect(() => evaluate([cdkPolicy], req)).toThrow(InvalidAuthorizationRequestError);
    });

    it('denies when there are no policies', () => {
      expect(evaluate([], request('ecs:UpdateService', [SERVICE])).allowed).toBe(false);
    });
  });
});

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: AWS ARN formats and condition keys use ${Var} literally.
import { describe, expect, it } from 'vitest';
import {
  actionInfo,
  arnFromFormat,
  assertKnownAction,
  MissingArnVariableError,
  UnknownActionError,
} from '../../../local/iam/actions.ts';

const ECS_SERVICE_ARN = 'arn:${Partition}:ecs:${Region}:${Account}:service/${ClusterName}/${ServiceName}';

describe('actionInfo', () => {
  describe('resource types', () => {
    it('reports ecs:UpdateService on a required service resource with its ARN format', async () => {
      const info = await actionInfo('ecs:UpdateService');
      expect(info).toMatchObject({ service: 'ecs', name: 'UpdateService' });
      expect(info.resourceTypes).toEqual([
        {
          name: 'service',
          required: true,
          arnFormats: [expect.stringContaining('service/${ClusterName}/${ServiceName}')],
          conditionKeys: expect.arrayContaining(['ecs:cluster']),
        },
      ]);
      expect(info.resourceTypes[0]?.arnFormats).toEqual([ECS_SERVICE_ARN]);
    });

    it('reports ecs:DescribeTaskDefinition with no resource type (Resource "*" only)', async () => {
      const info = await actionInfo('ecs:DescribeTaskDefinition');
      expect(info.resourceTypes).toEqual([]);
      expect(info.conditionKeys).toEqual([]);
    });

    it('reports ecs:RegisterTaskDefinition on a required task-definition resource', async () => {
      const info = await actionInfo('ecs:RegisterTaskDefinition');
      expect(info.resourceTypes).toEqual([
        {
          name: 'task-definition',
          required: true,
          arnFormats: [
            'arn:${Partition}:ecs:${Region}:${Account}:task-definition/${TaskDefinitionFamilyName}:${TaskDefinitionRevisionNumber}',
          ],
          conditionKeys: ['aws:ResourceTag/${TagKey}'],
        },
      ]);
      expect(info.conditionKeys).toEqual(expect.arrayContaining(['aws:RequestTag/${TagKey}', 'aws:TagKeys']));
    });

    it('reports every ecs:TagResource resource type as optional', async () => {
      const info = await actionInfo('ecs:TagResource');
      expect(info.resourceTypes.map((r) => r.name)).toEqual(
        expect.arrayContaining(['service', 'task-definition', 'cluster', 'task']),
      );
      expect(info.resourceTypes.every((r) => !r.required)).toBe(true);
    });

    it('reports iam:PassRole on a required role resource', async () => {
      const info = await actionInfo('iam:PassRole');
      expect(info.resourceTypes).toEqual([
        {
          name: 'role',
          required: true,
          arnFormats: ['arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}'],
          conditionKeys: [],
        },
      ]);
    });
  });

  describe('condition keys', () => {
    it.each([
      ['iam:PassRole', 'iam:PassedToService'],
      ['ecs:TagResource', 'ecs:CreateAction'],
      ['ecs:UpdateService', 'ecs:task-definition'],
      ['ecs:RunTask', 'ecs:cluster'],
    ])('lists %s with %s', async (action, key) => {
      expect((await actionInfo(action)).conditionKeys).toContain(key);
    });
  });

  describe('names', () => {
    it('accepts any case and returns the names AWS spells', async () => {
      expect(await actionInfo('ECS:updateservice')).toMatchObject({ service: 'ecs', name: 'UpdateService' });
    });

    it('throws UnknownActionError for an action AWS does not have', async () => {
      await expect(actionInfo('ecs:UpdateServices')).rejects.toThrow(UnknownActionError);
    });
  });
});

describe('assertKnownAction', () => {
  describe('known actions', () => {
    it.each([
      ['ecs:UpdateService'],
      ['ecs:DescribeTaskDefinition'],
      ['iam:PassRole'],
      ['ECS:registertaskdefinition'],
    ])('resolves for %s', async (action) => {
      await expect(assertKnownAction(action)).resolves.toBeUndefined();
    });
  });

  describe('unknown actions', () => {
    it.each([
      ['a misspelled action', 'ecs:UpdateServices', /ecs has no action UpdateServices/],
      ['an unknown service', 'ecz:UpdateService', /no service with prefix ecz/],
      ['a wildcard', 'ecs:Update*', /without wildcards/],
      ['a missing service prefix', 'UpdateService', /without wildcards/],
    ])('throws UnknownActionError for %s', async (_name, action, message) => {
      const attempt = assertKnownAction(action);
      await expect(attempt).rejects.toThrow(UnknownActionError);
      await expect(attempt).rejects.toThrow(message);
    });
  });
});

describe('arnFromFormat', () => {
  describe('filling', () => {
    it('fills every variable of the ECS service ARN format', () => {
      const arn = arnFromFormat(ECS_SERVICE_ARN, {
        Partition: 'aws',
        Region: 'us-east-1',
        Account: '123456789012',
        ClusterName: 'nightshift',
        ServiceName: 'api',
      });
      expect(arn).toBe('arn:aws:ecs:us-east-1:123456789012:service/nightshift/api');
    });

    it('fills a format read from iam-data', async () => {
      const [role] = (await actionInfo('iam:PassRole')).resourceTypes;
      const arn = arnFromFormat(role!.arnFormats[0]!, {
        Partition: 'aws',
        Account: '123456789012',
        RoleNameWithPath: 'app-task-role',
      });
      expect(arn).toBe('arn:aws:iam::123456789012:role/app-task-role');
    });
  });

  describe('missing variables', () => {
    it('throws MissingArnVariableError naming every missing variable', () => {
      const fill = () =>
        arnFromFormat(ECS_SERVICE_ARN, { Partition: 'aws', Region: 'us-east-1', Account: '1' });
      expect(fill).toThrow(MissingArnVariableError);
      expect(fill).toThrow(/\$\{ClusterName\}, \$\{ServiceName\}/);
    });

    it('does not take values from the object prototype', () => {
      expect(() => arnFromFormat('arn:${constructor}', {})).toThrow(MissingArnVariableError);
    });
  });
});

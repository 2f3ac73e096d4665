import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CircularNameReferenceError,
  FunctionAssetError,
  loadDeployedApp,
  StackEnvironmentMismatchError,
  StackSelectionError,
  UnsupportedTemplateFeatureError,
} from '../../../local/template/deployed-app.ts';
import { UnknownAttributeError } from '../../../local/template/physical-names.ts';
import {
  ACCOUNT,
  env,
  lambdaFunction,
  lambdaRole,
  REGION,
  removeTempDirs,
  thrown,
  writeAssembly,
} from './handwritten-assembly.ts';

afterAll(removeTempDirs);

describe('loadDeployedApp', () => {
  describe('physical names and policy attachment', () => {
    const dir = () =>
      writeAssembly({
        resources: {
          Role: lambdaRole,
          Policy: {
            Type: 'AWS::IAM::Policy',
            Properties: {
              PolicyName: 'RolePolicy',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  {
                    Effect: 'Allow',
                    Action: 'sqs:SendMessage',
                    Resource: { 'Fn::GetAtt': ['Queue', 'Arn'] },
                  },
                ],
              },
              Roles: [{ Ref: 'Role' }],
            },
          },
          OtherRole: lambdaRole,
          OtherPolicy: {
            Type: 'AWS::IAM::Policy',
            Properties: {
              PolicyName: 'OtherPolicy',
              PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] },
              Roles: [{ Ref: 'OtherRole' }],
            },
          },
          Queue: { Type: 'AWS::SQS::Queue' },
          Function: lambdaFunction({
            FunctionName: {
              'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, { 'Fn::GetAtt': ['Queue', 'QueueName'] }, 'fn']],
            },
          }),
        },
      });

    it('names a resource <stack>-<logicalId> when the template gives no name', () => {
      const app = loadDeployedApp(dir(), env);
      expect(app.queues[0]).toEqual({
        logicalId: 'Queue',
        queueName: 'Tiny-Queue',
        arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:Tiny-Queue`,
        url: `http://sqs.${REGION}.localhost/${ACCOUNT}/Tiny-Queue`,
        // SQS's own defaults, as the template sets none.
        visibilityTimeoutSeconds: 30,
        delaySeconds: 0,
        messageRetentionSeconds: 345_600,
        fifo: false,
      });
      expect(app.functions[0]).toMatchObject({
        roleLogicalId: 'Role',
        roleName: 'Tiny-Role',
        roleArn: `arn:aws:iam::${ACCOUNT}:role/Tiny-Role`,
      });
    });

    it('uses an explicit name, resolved after the names it references', () => {
      const fn = loadDeployedApp(dir(), env).functions[0]!;
      expect(fn.functionName).toBe('Tiny-Tiny-Queue-fn');
      expect(fn.arn).toBe(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:Tiny-Tiny-Queue-fn`);
    });

    it('attaches a Policy to the role its Roles reference, and no other', () => {
      const fn = loadDeployedApp(dir(), env).functions[0]!;
      expect(fn.policies).toEqual([
        {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'sqs:SendMessage',
              Resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:Tiny-Queue`,
            },
          ],
        },
      ]);
    });

    it('applies the defaults of a function without EventInvokeConfig, timeout or memory size', () => {
      const fn = loadDeployedApp(dir(), env).functions[0]!;
      expect(fn).toMatchObject({
        maxRetryAttempts: 2,
        maxEventAgeSeconds: 21600,
        timeoutSeconds: 3,
        memoryMb: 128,
        architectures: ['x86_64'],
        environment: {},
      });
      expect(fn.onFailureArn).toBeUndefined();
    });

    it('adds inline policies and managed policy ARNs of the role', () => {
      const app = loadDeployedApp(
        writeAssembly({
          resources: {
            Role: {
              Type: 'AWS::IAM::Role',
              Properties: {
                Policies: [
                  {
                    PolicyName: 'inline',
                    PolicyDocument: {
                      Statement: [{ Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }],
                    },
                  },
                ],
                ManagedPolicyArns: [
                  {
                    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/ReadOnlyAccess']],
                  },
                ],
              },
            },
            Function: lambdaFunction(),
          },
        }),
        env,
      );
      expect(app.functions[0]?.policies).toEqual([
        { Statement: [{ Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }] },
      ]);
      expect(app.functions[0]?.managedPolicyArns).toEqual(['arn:aws:iam::aws:policy/ReadOnlyAccess']);
    });

    it('truncates a generated name to the limit of its type', () => {
      const longId = `Function${'X'.repeat(70)}`;
      const app = loadDeployedApp(
        writeAssembly({ resources: { Role: lambdaRole, [longId]: lambdaFunction() } }),
        env,
      );
      expect(app.functions[0]?.functionName).toBe(`Tiny-${longId}`.slice(0, 64));
    });

    it('throws CircularNameReferenceError when names reference each other', () => {
      const error = thrown(() =>
        loadDeployedApp(
          writeAssembly({
            resources: {
              A: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { 'Fn::GetAtt': ['B', 'TopicName'] } } },
              B: { Type: 'AWS::SNS::Topic', Properties: { TopicName: { 'Fn::GetAtt': ['A', 'QueueName'] } } },
            },
          }),
          env,
        ),
      );
      expect(error).toBeInstanceOf(CircularNameReferenceError);
      expect(error.message).toContain('A → B → A');
    });
  });

  describe('attributes', () => {
    it('throws UnknownAttributeError naming the type and attribute of an unknown resource type', () => {
      const error = thrown(() =>
        loadDeployedApp(
          writeAssembly({
            resources: {
              Role: lambdaRole,
              Widget: { Type: 'Custom::Widget', Properties: { ServiceToken: 'arn:aws:lambda:x' } },
              Function: lambdaFunction({
                Environment: { Variables: { WIDGET: { 'Fn::GetAtt': ['Widget', 'Endpoint'] } } },
              }),
            },
          }),
          env,
        ),
      );
      expect(error).toBeInstanceOf(UnknownAttributeError);
      expect(error.message).toContain('Custom::Widget');
      expect(error.message).toContain('Endpoint');
    });

    it('throws UnknownAttributeError when a known type lacks the attribute asked for', () => {
      const error = thrown(() =>
        loadDeployedApp(
          writeAssembly({
            resources: {
              Role: lambdaRole,
              // biome-ignore lint/suspicious/noTemplateCurlyInString: an Fn::Sub template, not a JS template.
              Function: lambdaFunction({ Environment: { Variables: { X: { 'Fn::Sub': '${Role.Nope}' } } } }),
            },
          }),
          env,
        ),
      );
      expect(error).toBeInstanceOf(UnknownAttributeError);
      expect(error.message).toContain('AWS::IAM::Role');
      expect(error.message).toContain('Nope');
    });

    it('gives an unknown resource type Ref = logical id', () => {
      const app = loadDeployedApp(
        writeAssembly({
          resources: {
            Role: lambdaRole,
            Widget: { Type: 'Custom::Widget' },
            Function: lambdaFunction({ Environment: { Variables: { WIDGET: { Ref: 'Widget' } } } }),
          },
        }),
        env,
      );
      expect(app.functions[0]?.environment).toEqual({ WIDGET: 'Widget' });
    });
  });

  describe('function assets', () => {
    it('picks the handler module the bundled asset holds', () => {
      const dir = writeAssembly({
        resources: { Role: lambdaRole, Function: lambdaFunction({ Handler: 'lib/main.run' }) },
        assets: { abc123: { path: 'asset.abc123', files: { 'index.mjs': '', 'lib/main.cjs': '' } } },
      });
      const fn = loadDeployedApp(dir, { ...env, requireAssets: true }).functions[0]!;
      expect(fn.assetDir).toBe(join(dir, 'asset.abc123'));
      expect(fn.entryFile).toBe(join(dir, 'asset.abc123', 'lib', 'main.cjs'));
      expect(fn.exportName).toBe('run');
    });

    it('throws FunctionAssetError naming the files looked for when a bundled asset lacks the module', () => {
      const dir = writeAssembly({
        resources: { Role: lambdaRole, Function: lambdaFunction() },
        assets: { abc123: { path: 'asset.abc123', files: { 'other.mjs': '' } } },
      });
      const error = thrown(() => loadDeployedApp(dir, env));
      expect(error).toBeInstanceOf(FunctionAssetError);
      expect((error as FunctionAssetError).lookedFor).toEqual(
        ['index.js', 'index.mjs', 'index.cjs'].map((f) => join(dir, 'asset.abc123', f)),
      );
    });
  });

  describe('stack selection', () => {
    const twoStacks = () =>
      writeAssembly(
        { id: 'First', resources: { Queue: { Type: 'AWS::SQS::Queue' } } },
        { id: 'Second', resources: { Topic: { Type: 'AWS::SNS::Topic' } } },
      );

    it('throws StackSelectionError naming the stacks when several exist and none is named', () => {
      const error = thrown(() => loadDeployedApp(twoStacks(), env));
      expect(error).toBeInstanceOf(StackSelectionError);
      expect(error.message).toContain('First, Second');
    });

    it('loads the stack named by stackName', () => {
      const app = loadDeployedApp(twoStacks(), { ...env, stackName: 'Second' });
      expect(app.topics.map((t) => t.topicName)).toEqual(['Second-Topic']);
    });

    it('throws StackEnvironmentMismatchError when the stack was synthesized for another account', () => {
      const dir = writeAssembly({ environment: `aws://999999999999/${REGION}`, resources: {} });
      expect(() => loadDeployedApp(dir, env)).toThrow(StackEnvironmentMismatchError);
    });
  });

  describe('conditions', () => {
    it('throws UnsupportedTemplateFeatureError for a resource with a Condition', () => {
      const dir = writeAssembly({ resources: { Queue: { Type: 'AWS::SQS::Queue', Condition: 'IsProd' } } });
      expect(() => loadDeployedApp(dir, env)).toThrow(UnsupportedTemplateFeatureError);
    });

    it('throws UnsupportedTemplateFeatureError naming the path of an Fn::If', () => {
      const dir = writeAssembly({
        resources: {
          Queue: { Type: 'AWS::SQS::Queue', Properties: { DelaySeconds: { 'Fn::If': ['C', 1, 2] } } },
        },
      });
      expect(() => loadDeployedApp(dir, env)).toThrow(/Queue uses Fn::If at \$\.Properties\.DelaySeconds/);
    });
  });
});

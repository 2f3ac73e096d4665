/**
 * Shared by the `loadDeployedApp` tests: the test account and region, temporary directories, minimal
 * handwritten cloud assemblies, and policy-statement helpers.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type PolicyStatement, policyStatements } from '../../../local/iam/policy.ts';
import type { DeployedApp } from '../../../local/template/deployed-app.ts';

/** The account and region every test deploys to. */
export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const env = { account: ACCOUNT, region: REGION };

const tempDirs: string[] = [];

/** A new temporary directory, removed by {@link removeTempDirs}. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'deployed-app-'));
  tempDirs.push(dir);
  return dir;
}

/** Removes every directory {@link tempDir} made; for `afterAll`. */
export function removeTempDirs(): void {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

/** A template's `Resources`. */
export type Resources = Record<
  string,
  { Type: string; Properties?: Record<string, unknown>; Condition?: string }
>;

/** One stack of a handwritten assembly. */
export interface HandwrittenStack {
  id?: string;
  environment?: string;
  resources: Resources;
  /** Asset hash → directory (relative to the assembly) and the files to put in it. */
  assets?: Record<string, { path: string; files: Record<string, string> }>;
}

/** Writes a minimal cloud assembly, shaped like `cdk synth` output, holding the given stacks. */
export function writeAssembly(...stacks: HandwrittenStack[]): string {
  const dir = tempDir();
  const artifacts: Record<string, unknown> = {};
  for (const stack of stacks) {
    const id = stack.id ?? 'Tiny';
    writeFileSync(join(dir, `${id}.template.json`), JSON.stringify({ Resources: stack.resources }));
    const files: Record<string, unknown> = {};
    for (const [hash, asset] of Object.entries(stack.assets ?? {})) {
      for (const [name, text] of Object.entries(asset.files)) {
        const file = join(dir, asset.path, name);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, text);
      }
      files[hash] = {
        source: { path: asset.path, packaging: 'zip' },
        destinations: { current: { bucketName: 'assets', objectKey: `${hash}.zip` } },
      };
    }
    writeFileSync(join(dir, `${id}.assets.json`), JSON.stringify({ version: '55.0.0', files }));
    artifacts[`${id}.assets`] = { type: 'cdk:asset-manifest', properties: { file: `${id}.assets.json` } };
    artifacts[id] = {
      type: 'aws:cloudformation:stack',
      environment: stack.environment ?? `aws://${ACCOUNT}/${REGION}`,
      properties: { templateFile: `${id}.template.json` },
      dependencies: [`${id}.assets`],
    };
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: '55.0.0', artifacts }));
  return dir;
}

/** A role Lambda may assume, with no policies. */
export const lambdaRole = {
  Type: 'AWS::IAM::Role',
  Properties: {
    AssumeRolePolicyDocument: {
      Statement: [
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ],
    },
  },
};

/** A function whose role is `Role` and whose code is asset `abc123`; `properties` override. */
export function lambdaFunction(properties: Record<string, unknown> = {}) {
  return {
    Type: 'AWS::Lambda::Function',
    Properties: {
      Code: { S3Bucket: 'assets', S3Key: 'abc123.zip' },
      Handler: 'index.handler',
      Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
      Runtime: 'nodejs24.x',
      ...properties,
    },
  };
}

/** The error `fn` throws; fails the test when it throws none. */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

/** Every statement of the function's policies. */
export function statements(fn: {
  policies: DeployedApp['functions'][number]['policies'];
}): PolicyStatement[] {
  return fn.policies.flatMap(policyStatements);
}

/** Whether `statement` allows `action` on exactly `resource` (as listed, no wildcard matching). */
export function allows(statement: PolicyStatement, action: string, resource: string): boolean {
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return (
    statement.Effect === 'Allow' &&
    list(statement.Action).includes(action) &&
    list(statement.Resource).includes(resource)
  );
}

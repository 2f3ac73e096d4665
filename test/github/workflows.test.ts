import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEPLOY_ENVIRONMENT } from '../../lib/ci-roles-stack.ts';

// No YAML dependency of our own: aws-cdk-lib bundles `yaml` (1.x, YAML 1.2 core schema, so `on` stays a key).
const YAML = createRequire(createRequire(import.meta.url).resolve('aws-cdk-lib'))('yaml') as {
  parse(text: string): unknown;
};

interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly if?: string;
  readonly with?: Record<string, unknown>;
}
interface Job {
  readonly needs?: string | string[];
  readonly if?: string;
  readonly environment?: string | { name: string };
  readonly permissions?: Record<string, string>;
  readonly steps: Step[];
}
interface Workflow {
  readonly on: Record<string, unknown>;
  readonly permissions?: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

const dir = new URL('../../.github/workflows/', import.meta.url);
const workflow = (file: string) => YAML.parse(readFileSync(new URL(file, dir), 'utf8')) as Workflow;
const runs = (job: Job | undefined) => (job?.steps ?? []).map((s) => s.run ?? '').join('\n');
const environmentOf = (job: Job | undefined) =>
  typeof job?.environment === 'string' ? job.environment : job?.environment?.name;

describe('GitHub workflows', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yml'));
  const all = files.map((file) => ({ file, workflow: workflow(file) }));

  it('ship a pull request and a deploy workflow', () => {
    expect(files.sort()).toEqual(['deploy.yml', 'pull-request.yml']);
  });

  it('request an OIDC token only in the diff and deploy jobs, and default to read-only everywhere', () => {
    for (const { workflow: w } of all) expect(w.permissions).toEqual({ contents: 'read' });
    const withToken = all.flatMap(({ file, workflow: w }) =>
      Object.entries(w.jobs)
        .filter(([, job]) => job.permissions?.['id-token'] === 'write')
        .map(([name]) => `${file}:${name}`),
    );
    expect(withToken.sort()).toEqual(['deploy.yml:deploy', 'pull-request.yml:diff']);
    for (const { workflow: w } of all) {
      for (const job of Object.values(w.jobs)) {
        // A job that declares permissions gets only those; each one reads the repository and no more.
        expect(Object.keys(job.permissions ?? {}).sort()).toEqual(
          job.permissions?.['id-token'] ? ['contents', 'id-token'] : ['contents'],
        );
        expect(job.permissions?.contents).toBe('read');
      }
    }
  });

  it('never run on pull_request_target, which would hand a fork’s code the repository’s token', () => {
    for (const { workflow: w } of all) expect(Object.keys(w.on)).not.toContain('pull_request_target');
  });

  describe('pull request', () => {
    const w = workflow('pull-request.yml');

    it('runs on pull requests: npm ci, then the tests, for every pull request, forks included', () => {
      expect(Object.keys(w.on)).toEqual(['pull_request']);
      const test = w.jobs.test;
      expect(test?.if).toBeUndefined();
      expect(test?.permissions?.['id-token']).toBeUndefined();
      expect(runs(test)).toMatch(/npm ci[\s\S]*npm test/);
    });

    it('diffs with --method=template (the lookup role), only for branches of this repository, after the tests', () => {
      const diff = w.jobs.diff;
      expect(diff?.needs).toBe('test');
      expect(diff?.if).toBe('github.event.pull_request.head.repo.full_name == github.repository');
      const commands = runs(diff);
      expect(commands).toMatch(/npm ci[\s\S]*npx cdk diff --method=template/);
      expect(commands.match(/npx cdk diff/g)).toHaveLength(1);
      expect(commands).not.toMatch(/cdk deploy|--method[= ](auto|change-set)/);
      const credentials = diff?.steps.find((s) =>
        s.uses?.startsWith('aws-actions/configure-aws-credentials@'),
      );
      expect(credentials?.with?.['role-to-assume']).toMatch(/^\$\{\{ vars\.NIGHTSHIFT_DIFF_ROLE_ARN \}\}$/);
    });

    it('posts the diff as the job summary, also when the diff failed', () => {
      const summary = w.jobs.diff?.steps.find((s) => s.run?.includes('$GITHUB_STEP_SUMMARY'));
      expect(summary?.if).toBe('always()');
      expect(summary?.run).toContain('cdk-diff.txt');
    });
  });

  describe('deploy', () => {
    const w = workflow('deploy.yml');

    it('runs on pushes to main only', () => {
      expect(w.on).toEqual({ push: { branches: ['main'] } });
    });

    it('deploys after the tests, in the environment the deploy role trusts, one deployment at a time', () => {
      const deploy = w.jobs.deploy;
      expect(deploy?.needs).toBe('test');
      expect(environmentOf(deploy)).toBe(DEFAULT_DEPLOY_ENVIRONMENT);
      expect(runs(deploy)).toMatch(/npm ci[\s\S]*npx cdk deploy/);
      expect(runs(w.jobs.test)).toMatch(/npm ci[\s\S]*npm test/);
      const credentials = deploy?.steps.find((s) =>
        s.uses?.startsWith('aws-actions/configure-aws-credentials@'),
      );
      expect(credentials?.with?.['role-to-assume']).toMatch(/^\$\{\{ vars\.NIGHTSHIFT_DEPLOY_ROLE_ARN \}\}$/);
      expect((w as unknown as { concurrency: unknown }).concurrency).toEqual({
        group: 'nightshift-deploy',
        'cancel-in-progress': false,
      });
    });

    it('deploys in no other job', () => {
      for (const { workflow: other } of all) {
        for (const [name, job] of Object.entries(other.jobs)) {
          if (runs(job).includes('cdk deploy'))
            expect([name, environmentOf(job)]).toEqual(['deploy', 'production']);
        }
      }
    });
  });
});

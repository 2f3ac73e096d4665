import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  InvalidLambdaDefinitionError,
  type InvocationResult,
  LambdaClosedError,
  type LambdaDefinition,
  LocalLambda,
  type LocalLambdaOptions,
} from '../../../local/lambda/runtime.ts';
import { VirtualClock } from '../../../local/world/clock.ts';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const handlers = join(fixtures, 'handlers.mjs');
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const JAN_2020 = Date.UTC(2020, 0, 1);

const open: LocalLambda[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((lambda) => lambda.close()));
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** A runtime for one export of the fixture module (or another entry), closed after the test. */
function lambda(
  exportName: string,
  definition: Partial<LambdaDefinition> = {},
  options: Partial<LocalLambdaOptions> = {},
): LocalLambda {
  const created = new LocalLambda(
    { name: 'fixture', entryFile: handlers, exportName, environment: {}, timeoutSeconds: 10, ...definition },
    { clock: new VirtualClock(JAN_2020), ...options },
  );
  open.push(created);
  return created;
}

describe('LocalLambda', () => {
  describe('invoke', () => {
    it('returns the handler result when the handler succeeds', async () => {
      const result = await lambda('echo').invoke({ name: 'ada' });
      expect(result).toMatchObject({
        ok: true,
        result: { greeting: 'hello ada', calls: 1 },
        coldStart: true,
      });
      expect(result.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(result.error).toBeUndefined();
      expect(result.durationMs).toBeGreaterThan(0);
    });

    it('runs a callback-style handler when it calls back instead of returning a promise', async () => {
      const result = await lambda('callback').invoke({ n: 21 });
      expect(result).toMatchObject({ ok: true, result: { doubled: 42 } });
    });

    it('returns a JSON round trip of the result when the result cannot be structured-cloned', async () => {
      const result = await lambda('uncloneable').invoke({});
      expect(result).toMatchObject({ ok: true, result: { n: 1, at: '1970-01-01T00:00:00.000Z' } });
    });

    it('passes Lambda context fields when the handler reads its context', async () => {
      const fn = lambda('context', { name: 'reader', memoryMb: 256, timeoutSeconds: 5 });
      const result = await fn.invoke({});
      const context = result.result as Record<string, unknown>;
      expect(context).toMatchObject({
        awsRequestId: result.requestId,
        functionName: 'reader',
        functionVersion: '$LATEST',
        invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:reader',
        memoryLimitInMB: '256',
        logGroupName: '/aws/lambda/reader',
        callbackWaitsForEmptyEventLoop: true,
      });
      expect(context.logStreamName).toMatch(/^2020\/01\/01\/\[\$LATEST\][0-9a-f]{32}$/);
      expect(context.remaining).toBeGreaterThan(0);
      expect(context.remaining).toBeLessThanOrEqual(5000);
    });
  });

  describe('logs', () => {
    it('captures stdout and stderr lines of the invocation when the handler logs', async () => {
      const fn = lambda('echo');
      const result = await fn.invoke({ name: 'ada' });
      expect(result.logs).toEqual(['module init', 'hello ada', 'stderr for ada', 'no trailing newline']);
      expect(fn.logs).toEqual(result.logs);
    });

    it('attributes lines to their own invocation when invocations run one after another', async () => {
      const fn = lambda('echo');
      const first = await fn.invoke({ name: 'one' });
      const second = await fn.invoke({ name: 'two' });
      expect(first.logs).toContain('hello one');
      expect(second.logs).toEqual(['hello two', 'stderr for two', 'no trailing newline']);
      expect(fn.logs).toEqual([...first.logs, ...second.logs]);
    });
  });

  describe('cold starts', () => {
    it('reports a cold start only on the first invocation of an environment', async () => {
      const fn = lambda('echo', {}, { maxConcurrency: 1 });
      const first = await fn.invoke({ name: 'a' });
      const second = await fn.invoke({ name: 'b' });
      expect([first.coldStart, second.coldStart]).toEqual([true, false]);
      expect(second.result).toMatchObject({ calls: 2 }); // same module instance
      expect(fn.stats()).toEqual({ invocations: 2, errors: 0, coldStarts: 1, timeouts: 0 });
    });
  });

  describe('environment', () => {
    afterEach(() => {
      vi.unstubAllEnvs();
    });

    it("sees only its own variables when the parent's process.env has others", async () => {
      vi.stubEnv('PARENT_ONLY_MARKER', 'leaked');
      vi.stubEnv('HOME', '/home/parent');
      const fn = lambda('env', { name: 'isolated', environment: { SECRET_MARKER: 'mine' }, memoryMb: 512 });
      const result = await fn.invoke({});
      expect(result.result).toEqual({
        secret: 'mine',
        functionName: 'isolated',
        memory: '512',
        version: '$LATEST',
        region: 'eu-west-1',
        defaultRegion: 'eu-west-1',
        taskRoot: fixtures.replace(/\/$/, ''),
        tz: 'UTC',
      });
      expect(result.result).not.toHaveProperty('parentOnly', 'leaked');
      expect(result.result).toMatchObject({ parentOnly: undefined, home: undefined });
    });

    it('uses the region of extraEnv when one is given', async () => {
      const fn = lambda('env', {}, { extraEnv: { AWS_REGION: 'us-east-2', SECRET_MARKER: 'extra' } });
      const result = await fn.invoke({});
      expect(result.result).toMatchObject({
        region: 'us-east-2',
        defaultRegion: 'us-east-2',
        secret: 'extra',
      });
    });
  });

  describe('virtual time', () => {
    it('shows the virtual clock through Date when the handler asks for the time', async () => {
      const clock = new VirtualClock(JAN_2020);
      const fn = lambda('time', {}, { clock });
      const result = await fn.invoke({});
      const seen = result.result as Record<string, unknown>;
      expect(seen.now).toBeGreaterThanOrEqual(JAN_2020);
      expect(seen.now).toBeLessThan(JAN_2020 + 1000);
      expect(seen.iso).toMatch(/^2020-01-01T00:00:0/);
      expect(seen.called).toMatch(/^Wed Jan 01 2020/);
      expect(seen.subclassNow).toBeGreaterThanOrEqual(JAN_2020);
      expect(seen.subclassNow).toBeLessThan(JAN_2020 + 1000);
    });

    it('keeps the rest of Date intact when the clock is virtual', async () => {
      const result = await lambda('time').invoke({});
      expect(result.result).toMatchObject({
        explicit: '1970-01-01T00:00:00.000Z',
        parsed: Date.UTC(2001, 1, 3, 4, 5, 6),
        utc: Date.UTC(2001, 1, 3),
        isDate: true,
        constructorIsDate: true,
      });
      expect((result.result as { elapsed: number }).elapsed).toBeGreaterThanOrEqual(15);
    });

    it('follows the clock when it advances between invocations of a warm environment', async () => {
      const clock = new VirtualClock(JAN_2020);
      const fn = lambda('time', {}, { clock });
      await fn.invoke({});
      await clock.advance(3 * 86_400_000);
      const result = await fn.invoke({});
      expect(result.coldStart).toBe(false);
      expect((result.result as { iso: string }).iso).toMatch(/^2020-01-04T00:00:0/);
    });
  });

  describe('errors', () => {
    it('returns ok:false with the error name when the handler throws, and keeps the environment', async () => {
      const fn = lambda('fail');
      const failed = await fn.invoke({ reason: 'no id' });
      expect(failed).toMatchObject({
        ok: false,
        error: { name: 'ValidationError', message: 'bad input: no id' },
      });
      expect(failed.error?.stack).toContain('handlers.mjs');
      expect(failed.result).toBeUndefined();
      const again = await fn.invoke({ reason: 'still' });
      expect(again.coldStart).toBe(false);
      expect(fn.stats()).toEqual({ invocations: 2, errors: 2, coldStarts: 1, timeouts: 0 });
    });

    it('uses typeof as the error name when the handler throws a non-error', async () => {
      const result = await lambda('throwString').invoke({});
      expect(result.error).toEqual({ name: 'string', message: 'plain string' });
    });

    it('fails with Runtime.ExitError and cold-starts the next invocation when the handler exits the process', async () => {
      const fn = lambda('exit', {}, { maxConcurrency: 1 });
      const crashed = await fn.invoke({});
      expect(crashed).toMatchObject({ ok: false, error: { name: 'Runtime.ExitError' } });
      expect(crashed.error?.message).toContain('exit status 3');
      expect((await fn.invoke({})).coldStart).toBe(true);
    });

    it('fails with Runtime.HandlerNotFound when the export does not exist', async () => {
      const result = await lambda('missing').invoke({});
      expect(result).toMatchObject({
        ok: false,
        coldStart: true,
        error: { name: 'Runtime.HandlerNotFound' },
      });
    });

    it('fails every invocation with a fresh cold start when the module throws during init', async () => {
      const fn = lambda('handler', { entryFile: join(fixtures, 'broken.mjs') });
      const first = await fn.invoke({});
      expect(first).toMatchObject({
        ok: false,
        coldStart: true,
        error: { name: 'Error', message: 'init failed' },
      });
      expect(first.logs).toEqual(['about to fail']);
      expect(await fn.invoke({})).toMatchObject({ ok: false, coldStart: true });
    });
  });

  describe('timeouts', () => {
    it('times out, loses the environment, and cold-starts the next invocation when a handler runs too long', async () => {
      const fn = lambda('slow', { timeoutSeconds: 1 });
      const timedOut = await fn.invoke({ ms: 3000, tag: 'long' });
      expect(timedOut).toMatchObject({
        ok: false,
        coldStart: true,
        error: { name: 'Sandbox.Timedout', message: 'Task timed out after 1 seconds' },
      });
      expect(timedOut.durationMs).toBeGreaterThanOrEqual(990);
      expect(timedOut.durationMs).toBeLessThan(3000);
      expect(timedOut.logs).toEqual(['module init', 'start long']);

      const next = await fn.invoke({ ms: 0, tag: 'short' });
      expect(next).toMatchObject({ ok: true, coldStart: true, result: { tag: 'short' } });
      expect(fn.stats()).toEqual({ invocations: 2, errors: 1, coldStarts: 2, timeouts: 1 });
    });
  });

  describe('concurrency', () => {
    it('never runs more environments than maxConcurrency when requests exceed it', async () => {
      const fn = lambda('slow', {}, { maxConcurrency: 3 });
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => fn.invoke({ ms: 200, tag: `t${i}` })),
      );
      expect(results.every((r) => r.ok)).toBe(true);
      const threads = new Set(results.map((r) => (r.result as { threadId: number }).threadId));
      expect(threads.size).toBeLessThanOrEqual(3);
      expect(results.filter((r) => r.coldStart)).toHaveLength(3);
      results.forEach((r, i) => {
        expect(r.logs.filter((line) => line !== 'module init')).toEqual([`start t${i}`, `end t${i}`]);
      });
    });
  });

  describe('invokeAsync', () => {
    const testId = randomUUID();
    afterEach(async () => {
      await rm(join(tmpdir(), `nightshift-lambda-test-${testId}.count`), { force: true });
    });

    it('retries on the virtual clock and never calls onFailure when a later attempt succeeds', async () => {
      const clock = new VirtualClock(JAN_2020);
      const fn = lambda('flaky', {}, { clock });
      const onFailure = vi.fn();
      const first = await fn.invokeAsync({ testId, failures: 2 }, { onFailure });
      expect(first).toMatchObject({ ok: false, error: { message: 'attempt 1 failed' } });
      expect(clock.pending()).toBe(1);

      await clock.advance(60_000);
      expect(fn.stats()).toMatchObject({ invocations: 2, errors: 2 });
      expect(clock.pending()).toBe(1);

      await clock.advance(120_000);
      expect(fn.stats()).toMatchObject({ invocations: 3, errors: 2 });
      expect(clock.pending()).toBe(0);
      expect(onFailure).not.toHaveBeenCalled();
    });

    it('calls onFailure once with the event after all three attempts fail', async () => {
      const clock = new VirtualClock(JAN_2020);
      const fn = lambda('flaky', {}, { clock });
      const onFailure = vi.fn<(event: unknown, last: InvocationResult, attempts: number) => void>();
      const event = { testId, failures: 99 };
      await fn.invokeAsync(event, { onFailure });
      await clock.advance(60_000);
      expect(onFailure).not.toHaveBeenCalled();
      await clock.advance(120_000);

      expect(onFailure).toHaveBeenCalledTimes(1);
      const [failedEvent, last, attempts] = onFailure.mock.calls[0]!;
      expect(failedEvent).toEqual(event);
      expect(last).toMatchObject({ ok: false, error: { message: 'attempt 3 failed' } });
      expect(attempts).toBe(3);
      expect(clock.pending()).toBe(0);
      await clock.advance(600_000);
      expect(fn.stats().invocations).toBe(3);
    });
  });

  describe('close', () => {
    it('rejects invocations with LambdaClosedError when the runtime is closed', async () => {
      const fn = lambda('echo');
      await fn.invoke({ name: 'a' });
      await fn.close();
      await expect(fn.invoke({ name: 'b' })).rejects.toBeInstanceOf(LambdaClosedError);
    });

    it('rejects a definition with a non-positive timeout', () => {
      expect(() => lambda('echo', { timeoutSeconds: 0 })).toThrow(InvalidLambdaDefinitionError);
    });
  });

  describe('real bundles', () => {
    it('loads and runs an esbuild bundle of a middy handler using @aws-sdk/client-ssm', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'nightshift-bundle-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      const outfile = join(dir, 'index.mjs');
      await build({
        stdin: {
          contents: [
            "import { SSMClient } from '@aws-sdk/client-ssm';",
            "import middy from '@middy/core';",
            'const client = new SSMClient({});',
            'export const handler = middy(async (_event: unknown, context: { functionName: string }) => ({',
            '  region: await client.config.region(),',
            '  functionName: context.functionName,',
            '}));',
          ].join('\n'),
          loader: 'ts',
          resolveDir: repoRoot,
        },
        bundle: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        outfile,
        logLevel: 'silent',
        banner: { js: "import{createRequire as __r}from'node:module';const require=__r(import.meta.url);" },
      });
      const fn = lambda(
        'handler',
        { name: 'bundled', entryFile: outfile },
        { extraEnv: { AWS_REGION: 'eu-central-1' } },
      );
      const result = await fn.invoke({});
      expect(result).toMatchObject({ ok: true, result: { region: 'eu-central-1', functionName: 'bundled' } });
    });
  });
});

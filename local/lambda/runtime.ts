/**
 * A local Lambda runtime: runs a bundled handler module (e.g. `cdk.out/asset.<hash>/index.mjs`) unmodified,
 * the way Lambda would. Each execution environment is a worker thread with its own environment variables
 * (and so its own credentials), the world's virtual time behind `Date`, one invocation at a time, a real-time
 * timeout that destroys the environment, and its stdout/stderr attributed to the invocation that wrote it.
 */
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { VirtualClock } from '../world/clock.ts';

/** A function as deployed: the bundled entry module and its configuration. */
export interface LambdaDefinition {
  /** Function name (`AWS_LAMBDA_FUNCTION_NAME`). */
  name: string;
  /** Absolute path of the bundled ES module, e.g. `…/cdk.out/asset.<hash>/index.mjs`. */
  entryFile: string;
  /** Name of the exported handler, usually `handler`. */
  exportName: string;
  /** The function's own environment variables. */
  environment: Record<string, string>;
  /** Real-time limit of one invocation. */
  timeoutSeconds: number;
  /** Memory size; also caps the worker's old-generation heap. Defaults to 128. */
  memoryMb?: number;
}

/** The outcome of one invocation (one attempt, for asynchronous invocations). */
export interface InvocationResult {
  requestId: string;
  ok: boolean;
  /** The handler's result, structured-cloned (or JSON round-tripped when not cloneable). */
  result?: unknown;
  /** Lambda's errorType / errorMessage / stack trace. */
  error?: { name: string; message: string; stack?: string };
  /** Real milliseconds, including the init phase of a cold start. */
  durationMs: number;
  /** Whether this invocation started a new execution environment. */
  coldStart: boolean;
  /** Peak V8 heap in use plus external memory of the environment's isolate during the invocation. */
  peakMemoryBytes?: number;
  /** Lines the invocation (including a cold start's module init) wrote to stdout/stderr. */
  logs: string[];
}

/** Options of {@link LocalLambda}. */
export interface LocalLambdaOptions {
  /** The world's clock: handlers see its time through `Date`, async retries are scheduled on it. */
  clock: VirtualClock;
  /** Maximum number of execution environments (workers); further requests queue. Defaults to 10. */
  maxConcurrency?: number;
  /** Extra variables for the environment, e.g. credentials, endpoints or `AWS_REGION`. */
  extraEnv?: Record<string, string>;
  /** Account in `invokedFunctionArn`. Defaults to `000000000000`. */
  accountId?: string;
}

/** Handlers and retry policy of {@link LocalLambda.invokeAsync}. */
export interface AsyncInvokeOptions {
  /** Called with the event once every attempt failed (the on-failure destination / DLQ). */
  onFailure?: (event: unknown, last: InvocationResult, attempts: number) => void | Promise<void>;
  /** Retries after the first attempt. Defaults to 2, like Lambda. */
  maxRetryAttempts?: number;
  /** Virtual delay before each retry; the last one repeats. Defaults to `[60_000, 120_000]`. */
  retryDelaysMs?: number[];
}

/** Counters since the runtime was created. */
export interface LambdaStats {
  invocations: number;
  errors: number;
  coldStarts: number;
  timeouts: number;
}

/** Thrown by {@link LocalLambda.invoke} once the runtime is closed. */
export class LambdaClosedError extends Error {
  override name = 'LambdaClosedError';
  constructor(functionName: string) {
    super(`Local Lambda ${functionName} is closed`);
  }
}

/** Thrown by the {@link LocalLambda} constructor for an unusable definition or option. */
export class InvalidLambdaDefinitionError extends Error {
  override name = 'InvalidLambdaDefinitionError';
}

/** How long a cold start may spend importing the handler module (Lambda's init phase limit). */
const INIT_LIMIT_MS = 10_000;
const BOOTSTRAP = new URL('./worker-bootstrap.mjs', import.meta.url);

type SerializedError = NonNullable<InvocationResult['error']>;
/** What an environment can tell the runtime: a message from its worker, a crash, or a timeout. */
type Reply =
  | { type: 'ready' }
  | { type: 'init-error'; error: SerializedError }
  | {
      type: 'result';
      requestId: string;
      ok: boolean;
      result?: unknown;
      error?: SerializedError;
      peakMemoryBytes?: number;
    }
  | { type: 'crash'; error: SerializedError }
  | { type: 'timeout' };

/** One execution environment: a worker thread and what the runtime knows about it. */
interface Environment {
  worker: Worker;
  logStreamName: string;
  initialized: boolean;
  invocations: number;
  dead: boolean;
  /** Log lines of the invocation running now, if any. */
  current: string[] | null;
  partial: { stdout: string; stderr: string };
  inbox: Reply[];
  waiter: ((reply: Reply) => void) | null;
}

/** Runs one Lambda function locally. See the module comment. */
export class LocalLambda {
  /** All log lines of all invocations (and anything environments wrote between invocations). */
  readonly logs: string[] = [];
  private readonly environments = new Set<Environment>();
  private readonly idle: Environment[] = [];
  private readonly queue: { resolve: (env: Environment) => void; reject: (error: Error) => void }[] = [];
  private readonly counters: LambdaStats = { invocations: 0, errors: 0, coldStarts: 0, timeouts: 0 };
  private readonly maxConcurrency: number;
  private readonly env: Record<string, string>;
  private closed = false;

  constructor(
    private readonly definition: LambdaDefinition,
    private readonly options: LocalLambdaOptions,
  ) {
    this.maxConcurrency = options.maxConcurrency ?? 10;
    if (!Number.isInteger(this.maxConcurrency) || this.maxConcurrency < 1) {
      throw new InvalidLambdaDefinitionError(
        `maxConcurrency must be a positive integer: ${this.maxConcurrency}`,
      );
    }
    if (!(definition.timeoutSeconds > 0)) {
      throw new InvalidLambdaDefinitionError(`timeoutSeconds must be positive: ${definition.timeoutSeconds}`);
    }
    const merged = { ...definition.environment, ...options.extraEnv };
    const region = merged.AWS_REGION ?? 'eu-west-1';
    this.env = {
      ...(process.env.PATH === undefined ? {} : { PATH: process.env.PATH }),
      ...merged,
      AWS_LAMBDA_FUNCTION_NAME: definition.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_LOG_GROUP_NAME: this.logGroupName,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
      AWS_REGION: region,
      AWS_DEFAULT_REGION: merged.AWS_DEFAULT_REGION ?? region,
      LAMBDA_TASK_ROOT: dirname(definition.entryFile),
      TZ: 'UTC',
    };
  }

  /**
   * Invokes the function with RequestResponse semantics. Resolves with `ok: false` for a handler error, a
   * timeout or a crashed environment; rejects only with {@link LambdaClosedError}.
   */
  async invoke(event: unknown): Promise<InvocationResult> {
    if (this.closed) throw new LambdaClosedError(this.definition.name);
    const payload = toCloneable(event);
    const requestId = randomUUID();
    const env = await this.acquire();
    try {
      return await this.run(env, requestId, payload);
    } finally {
      this.release(env);
    }
  }

  /**
   * Invokes the function with Event semantics: the first attempt runs now and its result is returned; if it
   * fails, retries are scheduled on the virtual clock after `retryDelaysMs`, and `onFailure` gets the event
   * once all `1 + maxRetryAttempts` attempts failed.
   */
  async invokeAsync(event: unknown, handlers: AsyncInvokeOptions): Promise<InvocationResult> {
    const payload = toCloneable(event);
    const maxRetries = handlers.maxRetryAttempts ?? 2;
    const delays = handlers.retryDelaysMs ?? [60_000, 120_000];
    const attempt = async (attempts: number): Promise<InvocationResult> => {
      const result = await this.invoke(payload);
      if (result.ok) return result;
      if (attempts > maxRetries) {
        await handlers.onFailure?.(payload, result, attempts);
      } else {
        const delay = delays[Math.min(attempts - 1, delays.length - 1)] ?? 0;
        this.options.clock.schedule(this.options.clock.now() + delay, async () => {
          if (!this.closed) await attempt(attempts + 1);
        });
      }
      return result;
    };
    return attempt(1);
  }

  /** Counters since creation; every attempt counts as an invocation. */
  stats(): LambdaStats {
    return { ...this.counters };
  }

  /** Terminates every environment; queued invocations reject with {@link LambdaClosedError}. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiting of this.queue.splice(0)) waiting.reject(new LambdaClosedError(this.definition.name));
    await Promise.all([...this.environments].map((env) => this.destroy(env)));
  }

  private get memoryMb(): number {
    return this.definition.memoryMb ?? 128;
  }

  private get logGroupName(): string {
    return `/aws/lambda/${this.definition.name}`;
  }

  /** An idle environment, a new one while under maxConcurrency, or a place in the queue. */
  private acquire(): Promise<Environment> {
    const idle = this.idle.pop();
    if (idle) return Promise.resolve(idle);
    if (this.environments.size < this.maxConcurrency) return Promise.resolve(this.create());
    return new Promise((resolve, reject) => this.queue.push({ resolve, reject }));
  }

  /** Hands a finished environment to the next queued request, or parks it (not keeping Node alive). */
  private release(env: Environment): void {
    if (this.closed) return;
    const next = this.queue.shift();
    if (!next) {
      if (!env.dead) {
        letIdle(env.worker);
        this.idle.push(env);
      }
      return;
    }
    next.resolve(env.dead ? this.create() : env);
  }

  private create(): Environment {
    const stamp = new Date(this.options.clock.now()).toISOString().slice(0, 10).replaceAll('-', '/');
    const logStreamName = `${stamp}/[$LATEST]${randomUUID().replaceAll('-', '')}`;
    const worker = new Worker(BOOTSTRAP, {
      env: { ...this.env, AWS_LAMBDA_LOG_STREAM_NAME: logStreamName },
      execArgv: [],
      workerData: {
        entryFile: this.definition.entryFile,
        exportName: this.definition.exportName,
        timeBuffer: this.options.clock.buffer,
      },
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: this.memoryMb },
    });
    const env: Environment = {
      worker,
      logStreamName,
      initialized: false,
      invocations: 0,
      dead: false,
      current: null,
      partial: { stdout: '', stderr: '' },
      inbox: [],
      waiter: null,
    };
    for (const stream of ['stdout', 'stderr'] as const) {
      worker[stream].setEncoding('utf8');
      worker[stream].on('data', (chunk: string) => this.output(env, stream, chunk));
    }
    worker.on('message', (message: Reply) => this.deliver(env, message));
    worker.on('error', (error: Error & { code?: string }) => {
      const name = error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'Runtime.OutOfMemory' : error.name;
      this.crash(env, { name, message: error.message, stack: error.stack });
    });
    worker.on('exit', (code) => {
      const message = `Runtime exited${this.closed ? ' (runtime closed)' : ''} with exit status ${code}`;
      this.crash(env, { name: 'Runtime.ExitError', message });
    });
    this.environments.add(env);
    return env;
  }

  private async run(env: Environment, requestId: string, event: unknown): Promise<InvocationResult> {
    const coldStart = env.invocations++ === 0;
    const started = performance.now();
    const logs: string[] = [];
    env.current = logs;
    env.worker.ref();
    const reply = await this.exchange(env, requestId, event);
    const durationMs = performance.now() - started;
    this.flushPartial(env);
    env.current = null;
    const timedOut = reply.type === 'timeout';
    const timeout = {
      name: 'Sandbox.Timedout',
      message: `Task timed out after ${this.definition.timeoutSeconds} seconds`,
    };
    const error = timedOut ? timeout : 'error' in reply ? reply.error : undefined;
    const ok = reply.type === 'result' && reply.ok;
    if (timedOut || reply.type === 'init-error') await this.destroy(env);
    this.counters.invocations++;
    if (coldStart) this.counters.coldStarts++;
    if (timedOut) this.counters.timeouts++;
    if (!ok) this.counters.errors++;
    return {
      requestId,
      ok,
      ...(ok ? { result: reply.type === 'result' ? reply.result : undefined } : { error }),
      durationMs,
      coldStart,
      logs,
      peakMemoryBytes: reply.type === 'result' ? reply.peakMemoryBytes : undefined,
    };
  }

  /** Runs the init phase if needed, then the invocation; returns the worker's final reply. */
  private async exchange(env: Environment, requestId: string, event: unknown): Promise<Reply> {
    if (env.dead) return { type: 'crash', error: { name: 'Runtime.ExitError', message: 'Runtime exited' } };
    if (!env.initialized) {
      const init = await this.next(env, INIT_LIMIT_MS);
      if (init.type !== 'ready') return init;
      env.initialized = true;
    }
    const context = {
      awsRequestId: requestId,
      functionName: this.definition.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${this.env.AWS_REGION}:${this.options.accountId ?? '000000000000'}:function:${this.definition.name}`,
      memoryLimitInMB: String(this.memoryMb),
      logGroupName: this.logGroupName,
      logStreamName: env.logStreamName,
    };
    const timeoutMs = this.definition.timeoutSeconds * 1000;
    env.worker.postMessage({ type: 'invoke', requestId, event, context, timeoutMs });
    return this.next(env, timeoutMs);
  }

  /** The environment's next reply, or a timeout after `limitMs` real milliseconds. */
  private next(env: Environment, limitMs: number): Promise<Reply> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        env.waiter = null;
        resolve({ type: 'timeout' });
      }, limitMs);
      const take = (reply: Reply): void => {
        clearTimeout(timer);
        resolve(reply);
      };
      const queued = env.inbox.shift();
      if (queued) take(queued);
      else env.waiter = take;
    });
  }

  private deliver(env: Environment, reply: Reply): void {
    const waiter = env.waiter;
    env.waiter = null;
    if (waiter) waiter(reply);
    else env.inbox.push(reply);
  }

  /** The worker died: it leaves the pool, and whoever waits on it gets the crash (first one wins). */
  private crash(env: Environment, error: SerializedError): void {
    if (env.dead) return;
    this.retire(env);
    this.deliver(env, { type: 'crash', error });
  }

  private async destroy(env: Environment): Promise<void> {
    this.retire(env);
    await env.worker.terminate();
  }

  private retire(env: Environment): void {
    env.dead = true;
    this.environments.delete(env);
    const index = this.idle.indexOf(env);
    if (index >= 0) this.idle.splice(index, 1);
  }

  private output(env: Environment, stream: 'stdout' | 'stderr', chunk: string): void {
    const lines = (env.partial[stream] + chunk).split('\n');
    env.partial[stream] = lines.pop() ?? '';
    for (const line of lines) this.record(env, line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  private flushPartial(env: Environment): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (env.partial[stream] !== '') this.record(env, env.partial[stream]);
      env.partial[stream] = '';
    }
  }

  private record(env: Environment, line: string): void {
    this.logs.push(line);
    env.current?.push(line);
  }
}

/**
 * Lets an idle worker not keep Node alive. `worker.unref()` is not enough with `stdout: true` on Node 20:
 * reading `worker.stdout` refs Node's internal stdio port (`kPort`) until the worker exits, and `unref()`
 * leaves that port alone, so it is unref'd here too when it can be found. While an invocation runs, the
 * ref'd worker handle keeps Node alive on its own.
 */
function letIdle(worker: Worker): void {
  worker.unref();
  const kPort = Object.getOwnPropertySymbols(worker).find((symbol) => symbol.description === 'kPort');
  const port: unknown = kPort === undefined ? undefined : Reflect.get(worker, kPort);
  if (typeof (port as { unref?: unknown } | undefined)?.unref === 'function')
    (port as { unref(): void }).unref();
}

/** The value as it would arrive in another thread: structured-cloned, or JSON round-tripped if it can't be. */
function toCloneable(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    const json = JSON.stringify(value);
    return json === undefined ? undefined : JSON.parse(json);
  }
}

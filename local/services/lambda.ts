/**
 * AWS Lambda's `Invoke`, locally (REST JSON, `POST /2015-03-31/functions/{FunctionName}/invocations`), for
 * the user's own functions a test or story defines here (the app's functions run in `local/lambda`):
 * synchronous (`RequestResponse`) only. The request body is the event as it is (any JSON; invalid JSON is
 * `InvalidRequestContentException`), at most 6 MB in bytes (`RequestTooLargeException`, 413); the
 * function's result is the response body; a function that throws, outlives its timeout (default 3 s,
 * "Task timed out") or answers more than 6 MB answers 200 with `X-Amz-Function-Error: Unhandled` and
 * Lambda's error object; an unknown function is `ResourceNotFoundException` (404), another account's
 * `AccessDeniedException`; throttling is `TooManyRequestsException` (429). IAM is `lambda:InvokeFunction`
 * on the ARN as called: a qualified one (`:alias`, or `Qualifier`) is its own resource.
 *
 * - https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 * - https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html
 */
import type { AuthorizationNeed } from '../endpoint/authorize.ts';
import { AwsServiceError } from '../endpoint/errors.ts';
import { matchRoute, RestRawResponse, type RestRoute, type RestService } from '../endpoint/rest-protocol.ts';

/** A user's function: its event in, its result out (JSON). */
export type UserFunction = (event: unknown) => Promise<unknown>;

/** Lambda's limit on a synchronous invocation's request and response payloads, in bytes. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

interface Defined {
  readonly fn: UserFunction;
  /** The function's timeout. @default 3000 (Lambda's default, 3 s) */
  readonly timeoutMs: number;
}

export class LambdaWorld implements RestService {
  readonly signingName = 'lambda';
  readonly rawBody = true;
  readonly throttled = { code: 'TooManyRequestsException', status: 429 };
  private readonly functions = new Map<string, Defined>();
  /** Every invocation's function name (qualified as called) and event, in order. */
  readonly invocations: { name: string; event: unknown }[] = [];

  constructor(private readonly o: { readonly account: string; readonly region: string }) {}

  /** Defines (or replaces) the user's function `name` (`name:alias` for an alias of it). */
  define(name: string, fn: UserFunction, options: { timeoutMs?: number } = {}): void {
    this.functions.set(name, { fn, timeoutMs: options.timeoutMs ?? 3000 });
  }

  arnOf(name: string): string {
    return `arn:aws:lambda:${this.o.region}:${this.o.account}:function:${name}`;
  }

  route(method: string, path: string): RestRoute | undefined {
    return matchRoute(
      [{ operation: 'Invoke', method: 'POST', path: '/2015-03-31/functions/{FunctionName}/invocations' }],
      method,
      path,
    );
  }

  authorization(operation: string, input: Record<string, unknown>): AuthorizationNeed[] {
    if (operation !== 'Invoke') {
      throw new AwsServiceError('UnknownOperationException', `local Lambda does not implement ${operation}`);
    }
    // A qualified name (an alias or version) is its own resource: `fn:alias`, not `fn`.
    return [{ action: 'lambda:InvokeFunction', resources: [this.arnOf(this.nameOf(input))] }];
  }

  async handle(_operation: string, input: Record<string, unknown>): Promise<unknown> {
    const name = this.nameOf(input);
    const defined = this.functions.get(name) ?? this.functions.get(name.split(':')[0] ?? name);
    if (!defined) {
      throw new AwsServiceError('ResourceNotFoundException', `Function not found: ${this.arnOf(name)}`, 404);
    }
    if (Number(input.PayloadBytes ?? 0) > MAX_PAYLOAD_BYTES) {
      throw new AwsServiceError(
        'RequestTooLargeException',
        `Request must be smaller than ${MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
        413,
      );
    }
    const event = input.Payload;
    this.invocations.push({ name, event });
    const failed = (errorType: string, errorMessage: string) =>
      new RestRawResponse(
        200,
        { 'x-amz-executed-version': '$LATEST', 'x-amz-function-error': 'Unhandled' },
        JSON.stringify({ errorType, errorMessage }),
      );
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        defined.fn(event),
        new Promise((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                Object.assign(
                  new Error(`Task timed out after ${(defined.timeoutMs / 1000).toFixed(2)} seconds`),
                  { name: 'Sandbox.Timedout' },
                ),
              ),
            defined.timeoutMs,
          );
        }),
      ]);
      const body = JSON.stringify(result ?? null);
      if (Buffer.byteLength(body) > MAX_PAYLOAD_BYTES) {
        return failed(
          'Function.ResponseSizeTooLarge',
          `Response payload size exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes).`,
        );
      }
      return new RestRawResponse(200, { 'x-amz-executed-version': '$LATEST' }, body);
    } catch (error) {
      const e = error as Error;
      return failed(e?.name ?? 'Error', e?.message ?? String(error));
    } finally {
      clearTimeout(timer);
    }
  }

  /** The function's name as called: a name or a full ARN of this account and Region, with its qualifier. */
  private nameOf(input: Record<string, unknown>): string {
    const raw = String(input.FunctionName ?? '');
    const arn = /^arn:aws[a-z-]*:lambda:([^:]+):(\d{12}):function:(.+)$/.exec(raw);
    if (arn && (arn[1] !== this.o.region || arn[2] !== this.o.account)) {
      throw new AwsServiceError('AccessDeniedException', `not authorized to invoke ${raw}`, 403);
    }
    const name = arn ? (arn[3] ?? '') : raw;
    const qualifier =
      typeof input.Qualifier === 'string' && input.Qualifier !== '' ? input.Qualifier : undefined;
    return qualifier && !name.includes(':') ? `${name}:${qualifier}` : name;
  }
}

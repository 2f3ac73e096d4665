/**
 * AWS Lambda's `Invoke`, locally (REST JSON, `POST /2015-03-31/functions/{FunctionName}/invocations`), for
 * the user's own functions a test or story defines here (the app's functions run in `local/lambda`):
 * synchronous (`RequestResponse`) only; the function's result is the response body as it is; a function
 * that throws answers 200 with `X-Amz-Function-Error: Unhandled` and Lambda's error object as the body; an
 * unknown function is `ResourceNotFoundException` (404); IAM is `lambda:InvokeFunction` on the function ARN
 * (the unqualified ARN; a qualifier is part of the name here, as `name:alias` is on AWS).
 *
 * - https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 * - https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html
 */
import type { AuthorizationNeed } from '../endpoint/authorize.ts';
import { AwsServiceError } from '../endpoint/errors.ts';
import { matchRoute, RestRawResponse, type RestRoute, type RestService } from '../endpoint/rest-protocol.ts';

/** A user's function: its event in, its result out (JSON). */
export type UserFunction = (event: unknown) => Promise<unknown>;

/** Lambda's limit on a synchronous invocation's request and response payloads. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

export class LambdaWorld implements RestService {
  readonly signingName = 'lambda';
  private readonly functions = new Map<string, UserFunction>();
  /** Every invocation's function name and event, in order. */
  readonly invocations: { name: string; event: unknown }[] = [];

  constructor(private readonly o: { readonly account: string; readonly region: string }) {}

  /** Defines (or replaces) the user's function `name`. */
  define(name: string, fn: UserFunction): void {
    this.functions.set(name, fn);
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
    return [{ action: 'lambda:InvokeFunction', resources: [this.arnOf(this.nameOf(input))] }];
  }

  async handle(_operation: string, input: Record<string, unknown>): Promise<unknown> {
    const name = this.nameOf(input);
    const fn = this.functions.get(name);
    if (!fn) {
      throw new AwsServiceError('ResourceNotFoundException', `Function not found: ${this.arnOf(name)}`, 404);
    }
    const { FunctionName: _f, ...event } = input;
    if (JSON.stringify(event).length > MAX_PAYLOAD_BYTES) {
      throw new AwsServiceError(
        'RequestTooLargeException',
        'Request must be smaller than 6291456 bytes',
        413,
      );
    }
    this.invocations.push({ name, event });
    try {
      const result = await fn(event);
      return new RestRawResponse(
        200,
        { 'x-amz-executed-version': '$LATEST' },
        JSON.stringify(result ?? null),
      );
    } catch (error) {
      const e = error as Error;
      const body = JSON.stringify({ errorType: e.name ?? 'Error', errorMessage: e.message ?? String(error) });
      return new RestRawResponse(
        200,
        { 'x-amz-executed-version': '$LATEST', 'x-amz-function-error': 'Unhandled' },
        body,
      );
    }
  }

  /** The function's name: a name, or a full ARN of this account and Region. */
  private nameOf(input: Record<string, unknown>): string {
    const raw = String(input.FunctionName ?? '');
    const arn = /^arn:aws[a-z-]*:lambda:([^:]+):(\d{12}):function:(.+)$/.exec(raw);
    if (!arn) return raw;
    if (arn[1] !== this.o.region || arn[2] !== this.o.account) {
      throw new AwsServiceError('ResourceNotFoundException', `Function not found: ${raw}`, 404);
    }
    return arn[3] ?? '';
  }
}

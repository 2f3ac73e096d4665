/**
 * The AWS REST JSON protocol (`restJson1`: SES v2, Lambda, API Gateway, ...): the operation is named by the
 * HTTP method and path (`POST /v2/email/outbound-emails` is SES v2 `SendEmail`), the input is a JSON body
 * plus path (and query-string) parameters, the output is JSON, and an error is the HTTP status with the
 * header `x-amzn-ErrorType: <Code>` and the body `{"message": "…"}`. There is no `X-Amz-Target`; the local
 * endpoint routes such requests by the SigV4 credential scope's service (the signing name).
 *
 * This module defines what a REST service implements, matches paths against URI templates, and spells the
 * endpoint's protocol-neutral errors as REST services answer them.
 *
 * @module
 */
import type { AuthorizationNeed, Caller } from './authorize.ts';
import { AwsServiceError } from './errors.ts';

/** The operation a method and path resolve to, with the path's labels (`{Name}` → value, URI-decoded). */
export interface RestRoute {
  readonly operation: string;
  readonly pathParams: Readonly<Record<string, string>>;
}

/** An error code and HTTP status a service answers instead of the endpoint's default spelling. */
export interface RestErrorSpelling {
  readonly code: string;
  readonly status: number;
}

/** A service spoken over AWS REST JSON: operations by method and path, and what each needs authorized. */
export interface RestService {
  /** SigV4 signing name (the credential scope's service), e.g. `ses`; requests are routed by it. */
  readonly signingName: string;
  /**
   * How the service answers an `AccessDeniedException` thrown by `authorize`.
   * @default `{ code: 'AccessDeniedException', status: 403 }`
   */
  readonly accessDenied?: RestErrorSpelling;
  /**
   * How the service answers the endpoint's own throttling (`limits`, injected `throttle` faults), e.g. SES v2's
   * `TooManyRequestsException` (429). @default `{ code: 'ThrottlingException', status: 429 }`
   */
  readonly throttled?: RestErrorSpelling;
  /**
   * The body is the operation's payload as it is (Lambda's `Invoke`: any JSON), passed as `input.Payload`
   * with its size in bytes as `input.PayloadBytes`, not merged into the input. Invalid JSON is
   * `InvalidRequestContentException` (400).
   */
  readonly rawBody?: boolean;
  /** The operation of a request, or `undefined` for a method and path the service does not have (→ 404). */
  route(method: string, path: string): RestRoute | undefined;
  /**
   * What the call needs authorized; may throw an {@link AwsServiceError} for a malformed call. `input` is the
   * JSON body with the query-string and path parameters added (path parameters win).
   */
  authorization(operation: string, input: Record<string, unknown>): AuthorizationNeed[];
  /** The operation's JSON output (answered 200). */
  handle(operation: string, input: Record<string, unknown>, caller: Caller): Promise<unknown>;
}

/**
 * An answer a REST service spells itself (status, headers, body as it is) instead of JSON, e.g. Lambda's
 * `Invoke`, whose body is the function's result and whose `X-Amz-Function-Error` header says it failed.
 */
export class RestRawResponse {
  constructor(
    readonly status: number,
    readonly headers: Readonly<Record<string, string>>,
    readonly body: string,
  ) {}
}

/** One operation of a REST service: its method and URI template, e.g. `POST /v2/email/outbound-emails`. */
export interface RestOperation {
  readonly operation: string;
  readonly method: string;
  /** Path template with `{Label}` segments, e.g. `/v2/email/configuration-sets/{ConfigurationSetName}`. */
  readonly path: string;
}

/**
 * Matches `method` and `path` (without the query string) against `operations`' URI templates: literal
 * segments must be equal, `{Label}` segments take one non-empty segment, URI-decoded. A trailing slash is
 * ignored.
 */
export function matchRoute(
  operations: readonly RestOperation[],
  method: string,
  path: string,
): RestRoute | undefined {
  const segments = splitPath(path);
  for (const op of operations) {
    if (op.method.toUpperCase() !== method.toUpperCase()) continue;
    const template = splitPath(op.path);
    if (template.length !== segments.length) continue;
    const pathParams: Record<string, string> = {};
    let matched = true;
    for (const [i, part] of template.entries()) {
      const actual = segments[i] ?? '';
      const label = /^\{([^}]+)\}$/.exec(part)?.[1];
      if (label !== undefined) {
        if (actual === '') matched = false;
        else pathParams[label] = safeDecode(actual);
      } else if (part !== actual) {
        matched = false;
      }
      if (!matched) break;
    }
    if (matched) return { operation: op.operation, pathParams };
  }
  return undefined;
}

function splitPath(path: string): string[] {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? [] : trimmed.replace(/^\//, '').split('/');
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * The error as a REST JSON service answers it: `AccessDeniedException` with the service's
 * {@link RestService.accessDenied} spelling (default 403), `ThrottlingException` with its
 * {@link RestService.throttled} spelling (default 429), `UnrecognizedClientException` 403; anything else
 * unchanged.
 */
export function asRestError(error: AwsServiceError, service: RestService | undefined): AwsServiceError {
  const spelling =
    error.code === 'AccessDeniedException'
      ? (service?.accessDenied ?? { code: 'AccessDeniedException', status: 403 })
      : error.code === 'ThrottlingException'
        ? (service?.throttled ?? { code: 'ThrottlingException', status: 429 })
        : error.code === 'UnrecognizedClientException'
          ? { code: error.code, status: 403 }
          : undefined;
  return spelling ? new AwsServiceError(spelling.code, error.message, spelling.status) : error;
}

/** The body of a REST JSON error: `{"message": "…"}` (the code travels in `x-amzn-ErrorType`). */
export function restErrorBody(error: AwsServiceError): string {
  return JSON.stringify({ message: error.message });
}

/**
 * The AWS Query protocol (RDS, IAM, STS, ...): a form-encoded request body (`Action=…&Version=…&…`) with
 * lists and structures flattened into dotted keys, answered with XML. This module parses requests into
 * nested values, writes results and errors as AWS does, and defines what a Query service implements.
 *
 * How the SDK (v3) flattens input for RDS, captured from its requests:
 * - structures: `Parent.Member=…`;
 * - lists: `Name.<MemberName>.<n>` with 1-based `n` (`Tags.Tag.1.Key`, `TagKeys.member.1`,
 *   `Filters.Filter.1.Values.Value.1`, `VpcSecurityGroupIds.VpcSecurityGroupId.1`);
 * - an empty list as the bare name with an empty value (`Tags=`);
 * - maps: `Name.entry.<n>.key` / `Name.entry.<n>.value`;
 * - values percent-encoded (a space as `%20`, `+` as `%2B`); everything is a string on the wire.
 *
 * @module
 */
import type { AuthorizationNeed, Caller } from './authorize.ts';
import { AwsServiceError } from './errors.ts';

/** A parsed Query value: a string, or a list or structure (or map) of values. */
export type QueryValue = string | QueryValue[] | { [key: string]: QueryValue };

/** The parameters of a Query request, nested as the operation's input shape nests them. */
export type QueryParams = { [key: string]: QueryValue };

/** A parsed Query request. */
export interface QueryRequest {
  /** The operation, e.g. `DescribeDBSnapshots`. */
  readonly action: string;
  /** The API version the caller speaks, e.g. `2014-10-31`. */
  readonly version: string;
  /** Every other parameter, nested (`Tags.Tag.1.Key` → `params.Tags[0].Key`). */
  readonly params: QueryParams;
}

/** What a Query service answers: the `<Action>Result` element's content and how its lists are named. */
export interface QueryResult {
  /** Members of `<Action>Result`; absent for actions whose output is empty (e.g. `AddTagsToResource`). */
  readonly result?: Readonly<Record<string, unknown>>;
  /**
   * Element name of the members of each list, by the list's element name, e.g.
   * `{ DBSnapshots: 'DBSnapshot', TagList: 'Tag' }`. Lists not named here use `member`.
   */
  readonly members?: Readonly<Record<string, string>>;
}

/** A service spoken over the AWS Query protocol: actions by name, and what each needs authorized. */
export interface QueryService {
  /** SigV4 signing name (the credential scope's service), e.g. `rds`; requests are routed by it. */
  readonly signingName: string;
  /** API version requests must carry, e.g. `2014-10-31`. */
  readonly version: string;
  /** XML namespace of responses and errors, e.g. `http://rds.amazonaws.com/doc/2014-10-31/`. */
  readonly xmlns: string;
  /**
   * How the service answers an `AccessDeniedException` thrown by `authorize`, e.g. SNS's `AuthorizationError`
   * (403). @default `{ code: 'AccessDenied', status: 403 }` (see {@link asQueryError})
   */
  readonly accessDenied?: { readonly code: string; readonly status: number };
  /** What the call needs authorized; may throw an {@link AwsServiceError} for an unknown or malformed call. */
  authorization(action: string, params: QueryParams): AuthorizationNeed[];
  handle(action: string, params: QueryParams, caller: Caller): Promise<QueryResult>;
}

/** Request errors the Query protocol answers before any service sees the call. */
export class QueryRequestError extends AwsServiceError {
  constructor(code: 'MissingAction' | 'MalformedQueryString', message: string) {
    super(code, message, 400);
    this.name = 'QueryRequestError';
  }
}

const INDEX = /^[1-9][0-9]*$/;

interface Node {
  value?: string;
  children?: Map<string, Node>;
}

/**
 * Parses a form-encoded Query body into its action, version and nested parameters.
 *
 * A structure whose only key wraps 1-based indices (`Tags.Tag.1…`, `TagKeys.member.1`) becomes a list;
 * keys that are themselves indices (`Name.1`, flattened lists) become a list; a list wrapped in `entry`
 * whose items are `key`/`value` pairs becomes a map. A bare name with an empty value stays `''` (the SDK's
 * empty list; read it with {@link queryList}).
 *
 * @throws {@link QueryRequestError} `MissingAction` when there is no `Action`.
 */
export function parseQueryRequest(body: string): QueryRequest {
  const root: Node = {};
  for (const [key, value] of new URLSearchParams(body)) {
    let node = root;
    for (const part of key.split('.')) {
      node.children ??= new Map();
      let child = node.children.get(part);
      if (!child) {
        child = {};
        node.children.set(part, child);
      }
      node = child;
    }
    node.value = value;
  }
  const { Action, Version, ...params } = toParams(root);
  if (typeof Action !== 'string' || Action === '') {
    throw new QueryRequestError('MissingAction', 'The request must contain the parameter Action.');
  }
  return { action: Action, version: typeof Version === 'string' ? Version : '', params };
}

function toParams(node: Node): QueryParams {
  return Object.fromEntries([...(node.children ?? new Map<string, Node>())].map(([k, v]) => [k, toValue(v)]));
}

function toValue(node: Node): QueryValue {
  const children = node.children;
  if (!children || children.size === 0) return node.value ?? '';
  if (isIndexed(children)) return indexed(children);
  const [only] = children;
  if (children.size === 1 && only) {
    const [wrapper, inner] = only;
    if (inner.children && inner.children.size > 0 && isIndexed(inner.children)) {
      const items = indexed(inner.children);
      return wrapper === 'entry' ? asMap(items) : items;
    }
  }
  return toParams(node);
}

function isIndexed(children: Map<string, Node>): boolean {
  for (const key of children.keys()) if (!INDEX.test(key)) return false;
  return true;
}

function indexed(children: Map<string, Node>): QueryValue[] {
  return [...children].sort(([a], [b]) => Number(a) - Number(b)).map(([, child]) => toValue(child));
}

function asMap(items: QueryValue[]): QueryValue {
  const pairs: [string, QueryValue][] = [];
  for (const item of items) {
    if (typeof item !== 'object' || Array.isArray(item) || typeof item.key !== 'string') return items;
    pairs.push([item.key, item.value ?? '']);
  }
  return Object.fromEntries(pairs);
}

/** A string parameter, or `undefined` when absent or not a string. */
export function queryString(params: QueryParams, name: string): string | undefined {
  const value = params[name];
  return typeof value === 'string' ? value : undefined;
}

/** A list parameter: `[]` when absent or sent empty (`Name=`), a one-element list for a lone string. */
export function queryList(params: QueryParams, name: string): QueryValue[] {
  const value = params[name];
  if (value === undefined || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

/** A structure parameter (or list item), or `{}` when it is not one. */
export function queryStruct(value: QueryValue | undefined): QueryParams {
  return typeof value === 'object' && !Array.isArray(value) ? value : {};
}

/**
 * An integer parameter, or `undefined` when absent.
 *
 * @throws {@link AwsServiceError} `InvalidParameterValue` when present but not an integer.
 */
export function queryInteger(params: QueryParams, name: string): number | undefined {
  const value = queryString(params, name);
  if (value === undefined) return undefined;
  if (!/^-?[0-9]+$/.test(value)) {
    throw new AwsServiceError('InvalidParameterValue', `Invalid value ${value} for ${name}.`);
  }
  return Number(value);
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\r': '&#xD;',
  '\n': '&#xA;',
  '\u0085': '&#x85;',
  '\u2028': '&#x2028;',
};

/** Escapes text for an XML element: markup characters, and line breaks so XML parsers keep them. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r\n\u0085\u2028]/g, (c) => XML_ESCAPES[c] ?? c);
}

function scalar(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  return escapeXml(String(value));
}

function element(name: string, value: unknown, members: Readonly<Record<string, string>>): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) {
    if (value.length === 0) return `<${name}/>`;
    const member = (Object.hasOwn(members, name) ? members[name] : undefined) ?? 'member';
    return `<${name}>${value.map((item) => element(member, item, members)).join('')}</${name}>`;
  }
  if (typeof value === 'object' && !(value instanceof Date)) {
    return `<${name}>${fields(value as Record<string, unknown>, members)}</${name}>`;
  }
  return `<${name}>${scalar(value)}</${name}>`;
}

function fields(value: Readonly<Record<string, unknown>>, members: Readonly<Record<string, string>>): string {
  return Object.entries(value)
    .map(([k, v]) => element(k, v, members))
    .join('');
}

const xmlnsAttribute = (xmlns: string) => (xmlns ? ` xmlns="${escapeXml(xmlns)}"` : '');

/**
 * A successful Query response: `<ActionResponse xmlns><ActionResult>…</ActionResult><ResponseMetadata>…`.
 * Dates are written ISO-8601, booleans `true`/`false`, text XML-escaped; `undefined` members are left out.
 */
export function queryResponseXml(
  action: string,
  xmlns: string,
  output: QueryResult,
  requestId: string,
): string {
  const result =
    output.result === undefined
      ? ''
      : `<${action}Result>${fields(output.result, output.members ?? {})}</${action}Result>`;
  return (
    `<${action}Response${xmlnsAttribute(xmlns)}>${result}` +
    `<ResponseMetadata><RequestId>${escapeXml(requestId)}</RequestId></ResponseMetadata></${action}Response>`
  );
}

/** A Query error response; `Type` is `Sender` for 4xx and `Receiver` for 5xx, as AWS writes it. */
export function queryErrorXml(error: AwsServiceError, xmlns: string, requestId: string): string {
  const type = error.status >= 500 ? 'Receiver' : 'Sender';
  return (
    `<ErrorResponse${xmlnsAttribute(xmlns)}><Error><Type>${type}</Type><Code>${escapeXml(error.code)}</Code>` +
    `<Message>${escapeXml(error.message)}</Message></Error><RequestId>${escapeXml(requestId)}</RequestId></ErrorResponse>`
  );
}

/** How the endpoint's protocol-neutral errors are spelled by Query services (code and status). */
const QUERY_SPELLING: Record<string, { code: string; status: number }> = {
  AccessDeniedException: { code: 'AccessDenied', status: 403 },
  UnrecognizedClientException: { code: 'InvalidClientTokenId', status: 403 },
  ThrottlingException: { code: 'Throttling', status: 400 },
  UnknownOperationException: { code: 'InvalidAction', status: 400 },
};

/**
 * The error as a Query service answers it: `AccessDeniedException` → `AccessDenied` (403),
 * `UnrecognizedClientException` → `InvalidClientTokenId` (403), `ThrottlingException` → `Throttling` (400);
 * anything else unchanged.
 */
export function asQueryError(error: AwsServiceError): AwsServiceError {
  const spelling = QUERY_SPELLING[error.code];
  return spelling ? new AwsServiceError(spelling.code, error.message, spelling.status) : error;
}

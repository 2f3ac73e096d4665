/**
 * Evaluates IAM identity policies for one request, the way AWS does within a single account:
 * an explicit `Deny` wins; otherwise every resource of the request needs an applicable `Allow`;
 * anything else is an implicit deny.
 *
 * Matching rules:
 * - actions: case-insensitive, `*` and `?` wildcards;
 * - resources: case-sensitive, `*` and `?` wildcards; in an ARN pattern (`arn:` and at least five
 *   colons) a wildcard in the partition/service/region/account segments stays within its segment,
 *   while in the resource part it may span `:` and `/` (in shorter patterns such as `arn:aws:logs:*`
 *   a wildcard spans everything). `Resource: "*"` also matches the `*` used
 *   for actions without a resource type; an ARN pattern does not (as in AWS);
 * - policy variables (`${aws:username}`, `${aws:username, 'default'}`, `${*}`, `${?}`, `${$}`) in
 *   resources and String/Arn condition values when the document's `Version` is `2012-10-17`.
 *
 * Anything the evaluator cannot judge (unknown condition operator, malformed statement) throws
 * instead of silently allowing.
 *
 * @module
 */
import { BlockList, isIP } from 'node:net';
import {
  type ConditionValue,
  type PolicyDocument,
  type PolicyStatement,
  policyStatements,
} from './policy.ts';

/** A request context value: absent, single-valued, or multivalued (e.g. `aws:TagKeys`). */
export type ContextValue = string | string[] | undefined;

/** What is being authorized. */
export interface AuthorizationRequest {
  /** `service:Action`, e.g. `ecs:UpdateService`. */
  action: string;
  /** ARNs the operation touches; `['*']` when the action has no resource type. */
  resources: string[];
  /** Condition keys (names are case-insensitive), e.g. `iam:PassedToService`, `aws:RequestTag/team`. */
  context: Record<string, ContextValue>;
}

/** Outcome of {@link evaluate}. */
export interface Decision {
  allowed: boolean;
  /** Why, e.g. `explicit deny by statement DenyProd on arn:…` or `no statement allows ecs:UpdateService on arn:…`. */
  reason: string;
}

/** Thrown when a policy is malformed in a way AWS would reject or the evaluator cannot judge. */
export class InvalidPolicyError extends Error {
  override readonly name: string = 'InvalidPolicyError';
  /** Label of the offending statement (its `Sid`, or `policies[i].Statement[j]`). */
  readonly statement: string;

  constructor(statement: string, detail: string, options?: ErrorOptions) {
    super(`invalid policy statement ${statement}: ${detail}`, options);
    this.statement = statement;
  }
}

/** Thrown for a condition operator the evaluator does not know, e.g. `StringEqualz`. */
export class UnsupportedConditionOperatorError extends InvalidPolicyError {
  override readonly name: string = 'UnsupportedConditionOperatorError';
  /** The operator as written in the policy. */
  readonly operator: string;

  constructor(statement: string, operator: string, options?: ErrorOptions) {
    super(statement, `unsupported condition operator ${operator}`, options);
    this.operator = operator;
  }
}

/** Thrown when the request itself is malformed (no resources, action without a service prefix). */
export class InvalidAuthorizationRequestError extends Error {
  override readonly name = 'InvalidAuthorizationRequestError';
}

/**
 * Decides whether `policies` allow `request`.
 *
 * @param policies - every identity policy attached to the principal (e.g. a Lambda's role).
 * @param request - action, resources and request context.
 * @returns the decision and a human-readable reason naming the deciding statement(s).
 * @throws {@link UnsupportedConditionOperatorError} / {@link InvalidPolicyError} when any statement
 *   cannot be judged, {@link InvalidAuthorizationRequestError} when the request is malformed.
 */
export function evaluate(policies: PolicyDocument[], request: AuthorizationRequest): Decision {
  if (!/^[^:*?]+:[^:*?]+$/.test(request.action)) {
    throw new InvalidAuthorizationRequestError(
      `action must look like service:Action, got "${request.action}"`,
    );
  }
  if (request.resources.length === 0) {
    throw new InvalidAuthorizationRequestError(
      `request for ${request.action} names no resources (use ['*'])`,
    );
  }
  const statements = policies.flatMap((policy, p) =>
    policyStatements(policy).map((statement, s) =>
      parseStatement(statement, `policies[${p}].Statement[${s}]`, policy),
    ),
  );
  const lookup = contextLookup(request.context);

  for (const resource of request.resources) {
    for (const statement of statements) {
      if (statement.effect === 'Deny' && applies(statement, request.action, resource, lookup)) {
        return { allowed: false, reason: `explicit deny by statement ${statement.label} on ${resource}` };
      }
    }
  }

  const allowedBy: string[] = [];
  const notAllowed: string[] = [];
  for (const resource of request.resources) {
    const allow = statements.find(
      (s) => s.effect === 'Allow' && applies(s, request.action, resource, lookup),
    );
    if (allow === undefined) notAllowed.push(resource);
    else allowedBy.push(`${allow.label} on ${resource}`);
  }
  if (notAllowed.length > 0) {
    return { allowed: false, reason: `no statement allows ${request.action} on ${notAllowed.join(', ')}` };
  }
  return { allowed: true, reason: `allowed by statement ${allowedBy.join('; ')}` };
}

// ---------------------------------------------------------------------------------------------
// Statements

type Lookup = (key: string) => ContextValue;

interface ParsedStatement {
  label: string;
  effect: 'Allow' | 'Deny';
  actions: { patterns: string[]; negated: boolean };
  resources: { patterns: string[]; negated: boolean };
  conditions: ParsedCondition[];
  /** Whether policy variables are expanded (document `Version` 2012-10-17). */
  variables: boolean;
}

function parseStatement(
  statement: PolicyStatement,
  location: string,
  policy: PolicyDocument,
): ParsedStatement {
  const label = typeof statement.Sid === 'string' && statement.Sid !== '' ? statement.Sid : location;
  if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') {
    throw new InvalidPolicyError(
      label,
      `Effect must be Allow or Deny, got ${JSON.stringify(statement.Effect)}`,
    );
  }
  return {
    label,
    effect: statement.Effect,
    actions: exclusive(label, 'Action', statement.Action, statement.NotAction),
    resources: exclusive(label, 'Resource', statement.Resource, statement.NotResource),
    conditions: parseConditions(label, statement.Condition),
    variables: policy.Version === '2012-10-17',
  };
}

function exclusive(
  label: string,
  field: string,
  positive: unknown,
  negative: unknown,
): { patterns: string[]; negated: boolean } {
  if ((positive === undefined) === (negative === undefined)) {
    throw new InvalidPolicyError(label, `exactly one of ${field} and Not${field} is required`);
  }
  const negated = positive === undefined;
  const raw = negated ? negative : positive;
  const patterns = Array.isArray(raw) ? raw : [raw];
  if (!patterns.every((p): p is string => typeof p === 'string')) {
    throw new InvalidPolicyError(
      label,
      `${negated ? 'Not' : ''}${field} must be a string or a list of strings`,
    );
  }
  return { patterns, negated };
}

function applies(statement: ParsedStatement, action: string, resource: string, lookup: Lookup): boolean {
  const { actions, resources } = statement;
  const actionMatched = actions.patterns.some(
    (p) => compilePattern(p, ACTION_PATTERN)?.test(action) === true,
  );
  if (actionMatched === actions.negated) return false;

  const variables = statement.variables ? lookup : undefined;
  let unresolved = false;
  let resourceMatched = false;
  for (const pattern of resources.patterns) {
    const re = compilePattern(pattern, { wildcards: true, arn: true, ignoreCase: false, variables });
    if (re === undefined) unresolved = true;
    else if (re.test(resource)) resourceMatched = true;
  }
  // A NotResource pattern whose policy variable has no value cannot be judged: fail closed.
  if (resources.negated && !resourceMatched && unresolved) return statement.effect === 'Deny';
  if (resourceMatched === resources.negated) return false;

  return statement.conditions.every((c) => conditionHolds(c, lookup, variables, statement.effect));
}

// ---------------------------------------------------------------------------------------------
// Patterns

interface PatternOptions {
  wildcards: boolean;
  /** Wildcards before the fifth colon of an `arn:` pattern stay within their segment. */
  arn: boolean;
  ignoreCase: boolean;
  /** Resolves policy variables; `undefined` leaves `${…}` literal. */
  variables: Lookup | undefined;
}

const ACTION_PATTERN: PatternOptions = {
  wildcards: true,
  arn: false,
  ignoreCase: true,
  variables: undefined,
};

type Token = { kind: 'literal'; text: string } | { kind: 'star' } | { kind: 'one' } | { kind: 'colon' };

/** Compiles a policy pattern to an anchored RegExp; `undefined` when a policy variable has no value. */
function compilePattern(pattern: string, options: PatternOptions): RegExp | undefined {
  const tokens: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (options.variables && ch === '$' && pattern[i + 1] === '{') {
      const end = pattern.indexOf('}', i + 2);
      if (end !== -1) {
        const value = expandVariable(pattern.slice(i + 2, end), options.variables);
        if (value === undefined) return undefined;
        tokens.push({ kind: 'literal', text: value });
        i = end;
        continue;
      }
    }
    if (options.wildcards && ch === '*') tokens.push({ kind: 'star' });
    else if (options.wildcards && ch === '?') tokens.push({ kind: 'one' });
    else if (ch === ':') tokens.push({ kind: 'colon' });
    else tokens.push({ kind: 'literal', text: ch });
  }
  const segmented =
    options.arn && pattern.startsWith('arn:') && tokens.filter((t) => t.kind === 'colon').length >= 5;
  let colons = 0;
  let source = '';
  for (const token of tokens) {
    const inSegment = segmented && colons < 5;
    switch (token.kind) {
      case 'literal':
        source += token.text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
        break;
      case 'colon':
        colons++;
        source += ':';
        break;
      case 'star':
        source += inSegment ? '[^:]*' : '.*';
        break;
      case 'one':
        source += inSegment ? '[^:]' : '.';
        break;
    }
  }
  return new RegExp(`^${source}$`, options.ignoreCase ? 'is' : 's');
}

/** Value of a policy variable body (`aws:username` or `aws:username, 'default'`); `undefined` if absent. */
function expandVariable(body: string, lookup: Lookup): string | undefined {
  if (body === '*' || body === '?' || body === '$') return body;
  const match = /^\s*([^,\s]+)\s*(?:,\s*'([^']*)'\s*)?$/.exec(body);
  if (match === null) return undefined;
  const value = lookup(match[1]!);
  return typeof value === 'string' ? value : match[2];
}

// ---------------------------------------------------------------------------------------------
// Conditions

type SetOperator = 'ForAnyValue' | 'ForAllValues';

interface OperatorSpec {
  /** Canonical name, e.g. `StringNotEquals`. */
  name: string;
  /** The operator is the negation of {@link OperatorSpec.match} (e.g. `StringNotLike`). */
  negated: boolean;
  /** Whether policy values may contain policy variables. */
  variables: boolean;
  /** Returns a problem description when a policy value is not valid for this operator. */
  validate?: (policyValue: string) => string | undefined;
  /** The positive comparison; `undefined` when a policy variable in `policyValue` has no value. */
  match: (contextValue: string, policyValue: string, variables: Lookup | undefined) => boolean | undefined;
}

interface ParsedCondition {
  operator: string;
  set: SetOperator | undefined;
  ifExists: boolean;
  /** `undefined` for the `Null` operator. */
  spec: OperatorSpec | undefined;
  key: string;
  values: string[];
  label: string;
}

function stringSpec(name: string, negated: boolean, wildcards: boolean, ignoreCase: boolean): OperatorSpec {
  return {
    name,
    negated,
    variables: true,
    match: (value, policyValue, variables) =>
      compilePattern(policyValue, { wildcards, arn: false, ignoreCase, variables })?.test(value),
  };
}

function arnSpec(name: string, negated: boolean): OperatorSpec {
  return {
    name,
    negated,
    variables: true,
    match: (value, policyValue, variables) =>
      compilePattern(policyValue, { wildcards: true, arn: true, ignoreCase: false, variables })?.test(value),
  };
}

function parseNumber(value: string): number | undefined {
  const n = value.trim() === '' ? Number.NaN : Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function parseDate(value: string): number | undefined {
  const ms = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

function comparisonSpec(
  name: string,
  parse: (value: string) => number | undefined,
  compare: (a: number, b: number) => boolean,
  negated = false,
): OperatorSpec {
  return {
    name,
    negated,
    variables: false,
    validate: (p) => (parse(p) === undefined ? `"${p}" is not a valid value for ${name}` : undefined),
    match: (value, policyValue) => {
      const a = parse(value);
      const b = parse(policyValue);
      return a !== undefined && b !== undefined && compare(a, b);
    },
  };
}

function parseCidr(value: string): { address: string; prefix: number; type: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, ...rest] = value.trim().split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return undefined;
  return { address, prefix, type: version === 4 ? 'ipv4' : 'ipv6' };
}

function ipSpec(name: string, negated: boolean): OperatorSpec {
  return {
    name,
    negated,
    variables: false,
    validate: (p) => (parseCidr(p) === undefined ? `"${p}" is not an IP address or CIDR block` : undefined),
    match: (value, policyValue) => {
      const cidr = parseCidr(policyValue);
      const version = isIP(value.trim());
      if (cidr === undefined || version === 0) return false;
      const list = new BlockList();
      list.addSubnet(cidr.address, cidr.prefix, cidr.type);
      return list.check(value.trim(), version === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

const isBool = (p: string): string | undefined =>
  /^(true|false)$/i.test(p) ? undefined : `"${p}" is not a valid value for Bool`;

const OPERATORS: ReadonlyMap<string, OperatorSpec> = new Map(
  [
    stringSpec('StringEquals', false, false, false),
    stringSpec('StringNotEquals', true, false, false),
    stringSpec('StringEqualsIgnoreCase', false, false, true),
    stringSpec('StringNotEqualsIgnoreCase', true, false, true),
    stringSpec('StringLike', false, true, false),
    stringSpec('StringNotLike', true, true, false),
    comparisonSpec('NumericEquals', parseNumber, (a, b) => a === b),
    comparisonSpec('NumericNotEquals', parseNumber, (a, b) => a === b, true),
    comparisonSpec('NumericLessThan', parseNumber, (a, b) => a < b),
    comparisonSpec('NumericLessThanEquals', parseNumber, (a, b) => a <= b),
    comparisonSpec('NumericGreaterThan', parseNumber, (a, b) => a > b),
    comparisonSpec('NumericGreaterThanEquals', parseNumber, (a, b) => a >= b),
    comparisonSpec('DateEquals', parseDate, (a, b) => a === b),
    comparisonSpec('DateNotEquals', parseDate, (a, b) => a === b, true),
    comparisonSpec('DateLessThan', parseDate, (a, b) => a < b),
    comparisonSpec('DateLessThanEquals', parseDate, (a, b) => a <= b),
    comparisonSpec('DateGreaterThan', parseDate, (a, b) => a > b),
    comparisonSpec('DateGreaterThanEquals', parseDate, (a, b) => a >= b),
    {
      name: 'Bool',
      negated: false,
      variables: false,
      validate: isBool,
      match: (value: string, policyValue: string) => value.toLowerCase() === policyValue.toLowerCase(),
    },
    {
      name: 'BinaryEquals',
      negated: false,
      variables: false,
      match: (value: string, policyValue: string) => value === policyValue,
    },
    ipSpec('IpAddress', false),
    ipSpec('NotIpAddress', true),
    arnSpec('ArnEquals', false),
    arnSpec('ArnLike', false),
    arnSpec('ArnNotEquals', true),
    arnSpec('ArnNotLike', true),
  ].map((spec): [string, OperatorSpec] => [spec.name.toLowerCase(), spec]),
);

function parseConditions(label: string, condition: PolicyStatement['Condition']): ParsedCondition[] {
  if (condition === undefined) return [];
  if (typeof condition !== 'object' || condition === null || Array.isArray(condition)) {
    throw new InvalidPolicyError(label, 'Condition must be an object');
  }
  const parsed: ParsedCondition[] = [];
  for (const [operator, block] of Object.entries(condition)) {
    const { set, ifExists, spec } = parseOperator(label, operator);
    if (typeof block !== 'object' || block === null || Array.isArray(block)) {
      throw new InvalidPolicyError(label, `Condition.${operator} must map condition keys to values`);
    }
    for (const [key, raw] of Object.entries(block)) {
      const values = conditionValues(label, operator, key, raw);
      for (const value of values) {
        const problem = spec === undefined ? nullProblem(value) : spec.validate?.(value);
        if (problem !== undefined) throw new InvalidPolicyError(label, `${operator} ${key}: ${problem}`);
      }
      parsed.push({ operator, set, ifExists, spec, key, values, label });
    }
  }
  return parsed;
}

function nullProblem(value: string): string | undefined {
  return /^(true|false)$/i.test(value) ? undefined : `"${value}" is not a valid value for Null`;
}

function parseOperator(
  label: string,
  operator: string,
): { set: SetOperator | undefined; ifExists: boolean; spec: OperatorSpec | undefined } {
  let rest = operator;
  let set: SetOperator | undefined;
  const colon = operator.indexOf(':');
  if (colon !== -1) {
    const prefix = operator.slice(0, colon).toLowerCase();
    if (prefix === 'foranyvalue') set = 'ForAnyValue';
    else if (prefix === 'forallvalues') set = 'ForAllValues';
    else throw new UnsupportedConditionOperatorError(label, operator);
    rest = operator.slice(colon + 1);
  }
  const ifExists = rest.length > 'IfExists'.length && rest.toLowerCase().endsWith('ifexists');
  const base = ifExists ? rest.slice(0, -'IfExists'.length) : rest;
  if (base.toLowerCase() === 'null') {
    if (ifExists || set !== undefined) throw new UnsupportedConditionOperatorError(label, operator);
    return { set, ifExists, spec: undefined };
  }
  const spec = OPERATORS.get(base.toLowerCase());
  if (spec === undefined) throw new UnsupportedConditionOperatorError(label, operator);
  return { set, ifExists, spec };
}

function conditionValues(label: string, operator: string, key: string, raw: ConditionValue): string[] {
  // Typed as ConditionValue, but policies come from JSON: numbers and garbage are possible at runtime.
  const list: unknown[] = Array.isArray(raw) ? raw : [raw];
  return list.map((value) => {
    if (typeof value === 'string') return value;
    if (typeof value === 'boolean' || typeof value === 'number') return String(value);
    throw new InvalidPolicyError(label, `${operator} ${key}: values must be strings, numbers or booleans`);
  });
}

function contextLookup(context: Record<string, ContextValue>): Lookup {
  const byLowerKey = new Map<string, ContextValue>();
  for (const [key, value] of Object.entries(context)) byLowerKey.set(key.toLowerCase(), value);
  return (key) => byLowerKey.get(key.toLowerCase());
}

/**
 * Evaluates one operator/key pair. Documented AWS semantics:
 * - an absent key (undefined or empty list) fails positive operators and satisfies negated ones
 *   (`StringNotEquals`, `ArnNotLike`, …); `…IfExists` is satisfied; `Null` tests presence;
 * - `ForAllValues` is satisfied by an absent key and requires every context value to match;
 *   `ForAnyValue` fails for an absent key and requires one context value to match;
 * - without a set operator, a multivalued context value matches if any of its values does (and a
 *   negated operator holds if none does);
 * - several policy values are OR-ed.
 * A policy variable without a value makes the pair fail closed: an Allow does not apply, a Deny does.
 */
function conditionHolds(
  condition: ParsedCondition,
  lookup: Lookup,
  variables: Lookup | undefined,
  effect: 'Allow' | 'Deny',
): boolean {
  const raw = lookup(condition.key);
  const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const absent = values.length === 0;
  const { spec } = condition;

  if (spec === undefined) return condition.values.some((v) => (v.toLowerCase() === 'true') === absent);
  if (absent && condition.ifExists) return true;

  let unresolved = false;
  /** Whether `value` matches a policy value; an unresolved variable only matters when none matches. */
  const matchesOne = (value: string): boolean => {
    let sawUnresolved = false;
    const matched = condition.values.some((policyValue) => {
      const result = spec.match(value, policyValue, spec.variables ? variables : undefined);
      if (result === undefined) sawUnresolved = true;
      return result === true;
    });
    if (!matched && sawUnresolved) unresolved = true;
    return matched;
  };
  const holdsFor = (value: string): boolean => matchesOne(value) !== spec.negated;

  let result: boolean;
  if (condition.set === 'ForAllValues') result = values.every(holdsFor);
  else if (condition.set === 'ForAnyValue') result = values.some(holdsFor);
  else if (absent) result = spec.negated;
  else result = values.some(matchesOne) !== spec.negated;

  return unresolved ? effect === 'Deny' : result;
}

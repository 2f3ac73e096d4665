/**
 * A small EventBridge event-pattern matcher for local use (sandbox routing, tests).
 *
 * It implements content filtering as documented in the EventBridge user guide
 * ("Event patterns", "Comparison operators for use in event patterns"):
 * exact values, arrays, nesting, `prefix`, `suffix`, `equals-ignore-case`, `anything-but`,
 * `numeric`, `exists`, `cidr`, `wildcard` and `$or`.
 *
 * How it works, in the same shape as AWS's own engine (github.com/aws/event-ruler):
 * 1. The pattern is compiled into an OR of AND-ed constraints (`$or` is expanded), where each
 *    constraint is "the field at this dot-joined path satisfies one of these conditions".
 * 2. The event is flattened into leaf values keyed by dot-joined path; arrays are transparent
 *    (each element is a value of the same path) but every leaf remembers which array element(s)
 *    it came from.
 * 3. A constraint set matches when every constraint is satisfied by some leaf and the chosen
 *    leaves don't come from different elements of the same array ("array consistency").
 *
 * @module
 */

/** An EventBridge event pattern: field names mapped to arrays of conditions or to nested patterns. */
export type EventPattern = Record<string, unknown>;

/** Thrown by {@link validatePattern} and {@link matchesPattern} when a pattern is malformed. */
export class InvalidEventPatternError extends Error {
  override readonly name = 'InvalidEventPatternError';

  /** Where in the pattern the problem is, e.g. `detail.state[0].numeric` (`<root>` for the whole pattern). */
  readonly path: string;

  constructor(path: string, reason: string) {
    const where = path === '' ? '<root>' : path;
    super(`Invalid event pattern at ${where}: ${reason}`);
    this.path = where;
  }
}

/**
 * Checks that `pattern` is a well-formed event pattern, throwing otherwise.
 *
 * The checks are deliberately modest (structure and operator operands), not a full replica of
 * the service's validation: it does not enforce size/complexity limits or numeric precision.
 *
 * @param pattern - the parsed pattern JSON
 * @throws {@link InvalidEventPatternError} naming the offending path and operator, e.g. when the
 *   pattern is not an object, a leaf is not an array, an operator is unknown, or `numeric` bounds
 *   are not numbers.
 */
export function validatePattern(pattern: unknown): void {
  compilePattern(pattern);
}

/**
 * Tells whether `event` matches `pattern` under EventBridge content-filtering rules.
 *
 * Every field named in the pattern must be present in the event (except where `exists: false`
 * allows absence); values within a leaf array are OR-ed, fields are AND-ed, `$or` OR-s whole
 * sub-patterns, and an array-valued event field matches when any of its elements does.
 * An empty pattern (`{}`) has no constraints and so matches every event.
 *
 * @param pattern - the event pattern (validated on every call)
 * @param event - the event, as parsed JSON; a non-object event has no fields
 * @returns `true` if the event matches
 * @throws {@link InvalidEventPatternError} if the pattern is malformed (see {@link validatePattern})
 */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  const alternatives = compilePattern(pattern);
  const leaves = flattenEvent(event);
  return alternatives.some((constraints) => matchesConstraints(constraints, leaves));
}

// ---------------------------------------------------------------------------------------------
// Compiled form
// ---------------------------------------------------------------------------------------------

/** A JSON leaf value: the only things event values are compared against. */
type Scalar = string | number | boolean | null;

/** One element of a pattern's leaf array. */
type Condition = { kind: 'exists'; exists: boolean } | { kind: 'value'; test: (value: Scalar) => boolean };

/** "The field at `path` satisfies at least one of `conditions`." */
interface Constraint {
  readonly path: string;
  readonly conditions: readonly Condition[];
}

/** Constraints that must all hold. A compiled pattern is an OR of these. */
type Conjunction = readonly Constraint[];

const NUMERIC_OPERATORS = ['=', '<', '<=', '>', '>='] as const;
type NumericOperator = (typeof NUMERIC_OPERATORS)[number];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is Scalar {
  return (
    value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
  );
}

function isNumericOperator(value: unknown): value is NumericOperator {
  return NUMERIC_OPERATORS.some((op) => op === value);
}

/** Joins pattern/event keys the way EventBridge does; see the note in `compileObject`. */
function joinPath(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

// ---------------------------------------------------------------------------------------------
// Pattern compilation (and validation)
// ---------------------------------------------------------------------------------------------

function compilePattern(pattern: unknown): Conjunction[] {
  if (!isPlainObject(pattern)) {
    throw new InvalidEventPatternError('', 'a pattern must be a JSON object');
  }
  return compileObject(pattern, '', '');
}

/** Every way of picking one conjunction from `left` and one from `right`, concatenated. */
function crossProduct(left: Conjunction[], right: Conjunction[]): Conjunction[] {
  return left.flatMap((l) => right.map((r) => [...l, ...r]));
}

/**
 * Compiles one pattern object.
 *
 * @param fieldPath - dot-joined event path of this object (what is matched)
 * @param errorPath - JSON-ish location in the pattern (what error messages show)
 */
function compileObject(
  pattern: Record<string, unknown>,
  fieldPath: string,
  errorPath: string,
): Conjunction[] {
  let result: Conjunction[] = [[]];
  for (const [key, value] of Object.entries(pattern)) {
    const here = joinPath(errorPath, key);
    if (key === '$or') {
      if (!Array.isArray(value) || value.length === 0) {
        throw new InvalidEventPatternError(here, '$or must be a non-empty array of pattern objects');
      }
      const branches = value.flatMap((branch, i) => {
        if (!isPlainObject(branch)) {
          throw new InvalidEventPatternError(`${here}[${i}]`, '$or branches must be pattern objects');
        }
        // $or doesn't add a level of nesting: its branches constrain the enclosing object's fields.
        return compileObject(branch, fieldPath, `${here}[${i}]`);
      });
      result = crossProduct(result, branches);
      continue;
    }
    // The docs say EventBridge joins nested names with "." when compiling, so {"a.b": [..]} and
    // {"a": {"b": [..]}} are the same pattern, and both match an event key literally named "a.b".
    const path = joinPath(fieldPath, key);
    if (Array.isArray(value)) {
      if (value.length === 0) {
        throw new InvalidEventPatternError(here, 'a leaf array must not be empty');
      }
      const constraint: Constraint = {
        path,
        conditions: value.map((element, i) => compileCondition(element, `${here}[${i}]`)),
      };
      result = result.map((conjunction) => [...conjunction, constraint]);
    } else if (isPlainObject(value)) {
      result = crossProduct(result, compileObject(value, path, here));
    } else {
      throw new InvalidEventPatternError(
        here,
        'a leaf value must be an array (e.g. ["value"]) or a nested object',
      );
    }
  }
  return result;
}

/** Compiles one element of a leaf array: an exact value or a single-operator object. */
function compileCondition(element: unknown, errorPath: string): Condition {
  if (isScalar(element)) {
    if (typeof element === 'number' && !Number.isFinite(element)) {
      throw new InvalidEventPatternError(errorPath, 'numbers must be finite');
    }
    // Strict equality: "5" doesn't match 5, null doesn't match "" (the docs call these out), and
    // numbers compare by value because JSON.parse has already lost their textual form.
    return { kind: 'value', test: (value) => value === element };
  }
  const [operator, operand] = singleEntry(element, errorPath);
  const here = `${errorPath}.${operator}`;
  switch (operator) {
    case 'prefix':
      return valueCondition(compileAffix(operand, here, 'prefix'));
    case 'suffix':
      return valueCondition(compileAffix(operand, here, 'suffix'));
    case 'equals-ignore-case': {
      const expected = requireString(operand, here);
      return valueCondition((value) => typeof value === 'string' && equalsIgnoreCase(value, expected));
    }
    case 'anything-but': {
      const excluded = compileAnythingBut(operand, here);
      return valueCondition((value) => !excluded(value));
    }
    case 'numeric':
      return valueCondition(compileNumeric(operand, here));
    case 'exists':
      if (typeof operand !== 'boolean') {
        throw new InvalidEventPatternError(here, 'exists must be true or false');
      }
      return { kind: 'exists', exists: operand };
    case 'cidr':
      return valueCondition(compileCidr(operand, here));
    case 'wildcard': {
      const matches = compileWildcard(operand, here);
      return valueCondition((value) => typeof value === 'string' && matches(value));
    }
    default:
      throw new InvalidEventPatternError(errorPath, `unknown operator "${operator}"`);
  }
}

function valueCondition(test: (value: Scalar) => boolean): Condition {
  return { kind: 'value', test };
}

/** Requires an object with exactly one key (operator objects such as `{"prefix": "x"}`). */
function singleEntry(value: unknown, errorPath: string): [string, unknown] {
  if (!isPlainObject(value)) {
    throw new InvalidEventPatternError(
      errorPath,
      'expected a string, number, boolean, null or operator object',
    );
  }
  const entries = Object.entries(value);
  const [first] = entries;
  if (first === undefined || entries.length !== 1) {
    throw new InvalidEventPatternError(errorPath, 'an operator object must have exactly one key');
  }
  return first;
}

function requireString(operand: unknown, errorPath: string): string {
  if (typeof operand !== 'string') {
    throw new InvalidEventPatternError(errorPath, 'expected a string');
  }
  return operand;
}

/** `string | string[]`, as accepted by anything-but's `equals-ignore-case` and `wildcard`. */
function requireStrings(operand: unknown, errorPath: string): string[] {
  if (typeof operand === 'string') {
    return [operand];
  }
  if (Array.isArray(operand) && operand.length > 0) {
    return operand.map((item, i) => requireString(item, `${errorPath}[${i}]`));
  }
  throw new InvalidEventPatternError(errorPath, 'expected a string or a non-empty array of strings');
}

/**
 * Case-insensitive equality. The docs only say "case-insensitive"; lower-casing both sides is
 * the usual approximation of the service's case folding.
 */
function equalsIgnoreCase(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** `prefix`/`suffix`: a string, or `{"equals-ignore-case": string}` for the case-insensitive form. */
function compileAffix(
  operand: unknown,
  errorPath: string,
  kind: 'prefix' | 'suffix',
): (value: Scalar) => boolean {
  const test =
    kind === 'prefix'
      ? (value: string, affix: string) => value.startsWith(affix)
      : (value: string, affix: string) => value.endsWith(affix);
  if (isPlainObject(operand)) {
    const [modifier, inner] = singleEntry(operand, errorPath);
    if (modifier !== 'equals-ignore-case') {
      throw new InvalidEventPatternError(
        `${errorPath}.${modifier}`,
        `unsupported ${kind} option "${modifier}"`,
      );
    }
    const affix = requireString(inner, `${errorPath}.${modifier}`).toLowerCase();
    return (value) => typeof value === 'string' && test(value.toLowerCase(), affix);
  }
  const affix = requireString(operand, errorPath);
  // Only strings have prefixes: a pattern prefix "1" does not match the number 123.
  return (value) => typeof value === 'string' && test(value, affix);
}

/**
 * Compiles the operand of `anything-but` into the predicate for the *excluded* values.
 *
 * The docs allow a string, a number, a list of strings or numbers, or one of
 * `{prefix}`, `{suffix}`, `{equals-ignore-case}`, `{wildcard}`. The string operators only
 * exclude strings, so e.g. `{"anything-but": {"prefix": "init"}}` lets numbers and null through.
 */
function compileAnythingBut(operand: unknown, errorPath: string): (value: Scalar) => boolean {
  if (typeof operand === 'string' || (typeof operand === 'number' && Number.isFinite(operand))) {
    return (value) => value === operand;
  }
  if (Array.isArray(operand)) {
    if (operand.length === 0) {
      throw new InvalidEventPatternError(errorPath, 'anything-but list must not be empty');
    }
    const excluded = new Set<Scalar>(
      operand.map((item, i) => {
        if (typeof item === 'string' || (typeof item === 'number' && Number.isFinite(item))) {
          return item;
        }
        throw new InvalidEventPatternError(
          `${errorPath}[${i}]`,
          'anything-but list items must be strings or numbers',
        );
      }),
    );
    return (value) => excluded.has(value);
  }
  if (isPlainObject(operand)) {
    const [operator, inner] = singleEntry(operand, errorPath);
    const here = `${errorPath}.${operator}`;
    switch (operator) {
      case 'prefix':
      case 'suffix':
        return compileAffix(requireString(inner, here), here, operator);
      case 'equals-ignore-case': {
        const excluded = requireStrings(inner, here);
        return (value) => typeof value === 'string' && excluded.some((e) => equalsIgnoreCase(value, e));
      }
      case 'wildcard': {
        const excluded = requireStrings(inner, here).map((w, i) => compileWildcard(w, `${here}[${i}]`));
        return (value) => typeof value === 'string' && excluded.some((matches) => matches(value));
      }
      default:
        throw new InvalidEventPatternError(errorPath, `unsupported anything-but operator "${operator}"`);
    }
  }
  throw new InvalidEventPatternError(
    errorPath,
    'anything-but needs a string, number, list or operator object',
  );
}

/**
 * `numeric`: `[op, n]` or a range `[lowerOp, n, upperOp, m]` (either order), where op is one of
 * `=`, `<`, `<=`, `>`, `>=`. Only JSON numbers match; numeric strings such as "3" do not.
 */
function compileNumeric(operand: unknown, errorPath: string): (value: Scalar) => boolean {
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) {
    throw new InvalidEventPatternError(errorPath, 'numeric needs [op, number] or [op, number, op, number]');
  }
  const comparisons: Array<{ op: NumericOperator; bound: number }> = [];
  for (let i = 0; i < operand.length; i += 2) {
    const op: unknown = operand[i];
    const bound: unknown = operand[i + 1];
    if (!isNumericOperator(op)) {
      throw new InvalidEventPatternError(
        `${errorPath}[${i}]`,
        `unknown numeric operator ${JSON.stringify(op)}`,
      );
    }
    if (typeof bound !== 'number' || !Number.isFinite(bound)) {
      throw new InvalidEventPatternError(`${errorPath}[${i + 1}]`, 'numeric bounds must be numbers');
    }
    comparisons.push({ op, bound });
  }
  if (comparisons.length === 2) {
    const lower = comparisons.filter((c) => c.op === '>' || c.op === '>=').length;
    const upper = comparisons.filter((c) => c.op === '<' || c.op === '<=').length;
    if (lower !== 1 || upper !== 1) {
      throw new InvalidEventPatternError(
        errorPath,
        'a numeric range needs one lower (>, >=) and one upper (<, <=) bound',
      );
    }
  }
  return (value) =>
    typeof value === 'number' && comparisons.every(({ op, bound }) => compare(value, op, bound));
}

function compare(value: number, op: NumericOperator, bound: number): boolean {
  switch (op) {
    case '=':
      return value === bound;
    case '<':
      return value < bound;
    case '<=':
      return value <= bound;
    case '>':
      return value > bound;
    case '>=':
      return value >= bound;
  }
}

// ---------------------------------------------------------------------------------------------
// cidr
// ---------------------------------------------------------------------------------------------

/** An IP address as an unsigned integer of `width` bits (32 for IPv4, 128 for IPv6). */
interface IpAddress {
  readonly width: 32 | 128;
  readonly value: bigint;
}

function compileCidr(operand: unknown, errorPath: string): (value: Scalar) => boolean {
  const text = requireString(operand, errorPath);
  const slash = text.indexOf('/');
  const network = slash === -1 ? undefined : parseIp(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  const length = /^\d{1,3}$/.test(lengthText) ? Number(lengthText) : Number.NaN;
  if (network === undefined || !(length <= network.width)) {
    throw new InvalidEventPatternError(errorPath, `invalid CIDR block ${JSON.stringify(text)}`);
  }
  const shift = BigInt(network.width - length);
  const prefix = network.value >> shift;
  return (value) => {
    if (typeof value !== 'string') {
      return false;
    }
    const address = parseIp(value);
    // An IPv4 address never falls in an IPv6 block or vice versa.
    return address !== undefined && address.width === network.width && address.value >> shift === prefix;
  };
}

function parseIp(text: string): IpAddress | undefined {
  if (text.includes(':')) {
    const value = parseIPv6(text);
    return value === undefined ? undefined : { width: 128, value };
  }
  const value = parseIPv4(text);
  return value === undefined ? undefined : { width: 32, value };
}

/** Dotted-quad IPv4, e.g. `10.0.0.255`. */
function parseIPv4(text: string): bigint | undefined {
  const octets = text.split('.');
  if (octets.length !== 4) {
    return undefined;
  }
  let value = 0n;
  for (const octet of octets) {
    if (!/^\d{1,3}$/.test(octet) || Number(octet) > 255) {
      return undefined;
    }
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

/** IPv6 in full, `::`-compressed or IPv4-suffixed (`::ffff:1.2.3.4`) form; zone ids are rejected. */
function parseIPv6(text: string): bigint | undefined {
  let hex = text;
  const lastColon = hex.lastIndexOf(':');
  const tail = hex.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIPv4(tail);
    if (v4 === undefined) {
      return undefined;
    }
    hex = `${hex.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = hex.split('::');
  if (halves.length > 2) {
    return undefined;
  }
  const groupsOf = (half: string | undefined): string[] =>
    half === undefined || half === '' ? [] : half.split(':');
  const head = groupsOf(halves[0]);
  const rest = groupsOf(halves[1]);
  const compressed = halves.length === 2;
  const missing = 8 - head.length - rest.length;
  if (compressed ? missing < 1 : missing !== 0) {
    return undefined;
  }
  const groups = [...head, ...Array<string>(compressed ? missing : 0).fill('0'), ...rest];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) {
      return undefined;
    }
    value = (value << 16n) | BigInt(`0x${group}`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// wildcard
// ---------------------------------------------------------------------------------------------

/**
 * Compiles a `wildcard` pattern. `*` matches any run of characters (including none, and
 * including "/"); the whole value must match. Escapes: `\*` is a literal `*` and `\\` a literal
 * `\`; any other backslash sequence, and `**`, is rejected as the service does.
 */
function compileWildcard(operand: unknown, errorPath: string): (value: string) => boolean {
  const text = requireString(operand, errorPath);
  // The literal text between unescaped stars.
  const segments: string[] = [''];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '\\') {
      const next = text[i + 1];
      if (next !== '*' && next !== '\\') {
        throw new InvalidEventPatternError(
          errorPath,
          `invalid escape in wildcard at position ${i} (only \\* and \\\\)`,
        );
      }
      current += next;
      i++;
    } else if (char === '*') {
      if (text[i + 1] === '*') {
        throw new InvalidEventPatternError(errorPath, `consecutive wildcard characters at position ${i}`);
      }
      segments[segments.length - 1] = current;
      segments.push('');
      current = '';
    } else {
      current += char;
    }
  }
  segments[segments.length - 1] = current;

  const [first = '', ...others] = segments;
  const last = others.pop();
  if (last === undefined) {
    return (value) => value === first; // no stars: plain equality
  }
  return (value) => {
    if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) {
      return false;
    }
    // Place the middle segments leftmost-first; for `*`-only globs that is never worse than any
    // other placement, so no backtracking is needed.
    const end = value.length - last.length;
    let position = first.length;
    for (const segment of others) {
      const found = value.indexOf(segment, position);
      if (found === -1 || found + segment.length > end) {
        return false;
      }
      position = found + segment.length;
    }
    return true;
  };
}

// ---------------------------------------------------------------------------------------------
// Event flattening and matching
// ---------------------------------------------------------------------------------------------

/** Which element of which event array a leaf sits in, as `[arrayId, index]` pairs. */
type ArrayMembership = ReadonlyArray<readonly [number, number]>;

interface Leaf {
  readonly value: Scalar;
  readonly membership: ArrayMembership;
}

/**
 * Flattens an event into its leaf values by dot-joined path. Objects are not leaves, which is
 * why `exists` only sees leaf fields (the docs: "exists matching only works on leaf nodes"), and
 * empty arrays contribute nothing (the field counts as absent).
 */
function flattenEvent(event: unknown): Map<string, Leaf[]> {
  const leaves = new Map<string, Leaf[]>();
  let nextArrayId = 0;
  const walk = (value: unknown, path: string, membership: ArrayMembership): void => {
    if (Array.isArray(value)) {
      const arrayId = nextArrayId++;
      value.forEach((element, index) => {
        walk(element, path, [...membership, [arrayId, index]]);
      });
    } else if (isPlainObject(value)) {
      for (const [key, child] of Object.entries(value)) {
        walk(child, joinPath(path, key), membership);
      }
    } else if (isScalar(value)) {
      const existing = leaves.get(path);
      if (existing === undefined) {
        leaves.set(path, [{ value, membership }]);
      } else {
        existing.push({ value, membership });
      }
    }
  };
  if (isPlainObject(event)) {
    walk(event, '', []);
  }
  return leaves;
}

function matchesConstraints(constraints: Conjunction, leaves: Map<string, Leaf[]>): boolean {
  const choices: Leaf[][] = [];
  for (const { path, conditions } of constraints) {
    const found = leaves.get(path) ?? [];
    if (found.length === 0) {
      // A missing field fails every condition except exists:false (so anything-but doesn't
      // match a missing field, but a present null is "anything but" a string).
      if (conditions.some((c) => c.kind === 'exists' && !c.exists)) {
        continue;
      }
      return false;
    }
    const candidates = found.filter((leaf) =>
      conditions.some((c) => (c.kind === 'exists' ? c.exists : c.test(leaf.value))),
    );
    if (candidates.length === 0) {
      return false;
    }
    choices.push(candidates);
  }
  choices.sort((a, b) => a.length - b.length);
  return chooseConsistently(choices, 0, new Map());
}

/**
 * Picks one leaf per constraint such that no two picked leaves come from different elements of
 * the same array. EventBridge (event-ruler) enforces this so that `{"a": [1], "b": [2]}` under an
 * array of objects only matches when one element has both, not when a=1 and b=2 are in peers.
 */
function chooseConsistently(choices: Leaf[][], index: number, chosen: Map<number, number>): boolean {
  const candidates = choices[index];
  if (candidates === undefined) {
    return true;
  }
  for (const leaf of candidates) {
    if (leaf.membership.some(([arrayId, element]) => (chosen.get(arrayId) ?? element) !== element)) {
      continue;
    }
    const added = leaf.membership.filter(([arrayId]) => !chosen.has(arrayId));
    for (const [arrayId, element] of added) {
      chosen.set(arrayId, element);
    }
    if (chooseConsistently(choices, index + 1, chosen)) {
      return true;
    }
    for (const [arrayId] of added) {
      chosen.delete(arrayId);
    }
  }
  return false;
}

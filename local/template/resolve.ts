/**
 * Resolves the CloudFormation intrinsic functions that CDK emits into a synthesized template
 * (`cdk.out/<Stack>.template.json`) into concrete values, given the values the local endpoint
 * assigned to each logical resource.
 *
 * Supported: `Ref` (pseudo-parameters and logical ids), `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`,
 * `Fn::Select`, `Fn::Split` and `Fn::Base64`. Anything else (`Fn::If`, `Fn::ImportValue`,
 * `Fn::FindInMap`, …) throws {@link UnresolvableIntrinsicError}: a value that cannot be judged is never
 * guessed.
 *
 * @module
 */

/** Values the resolver substitutes for `Ref`, `Fn::GetAtt` and the pseudo-parameters. */
export interface ResolveContext {
  /** Value of `AWS::Region`. */
  region: string;
  /** Value of `AWS::AccountId`. */
  accountId: string;
  /** Value of `AWS::Partition`; defaults to `aws`. */
  partition?: string;
  /** Value of `AWS::URLSuffix`; defaults to `amazonaws.com`. */
  urlSuffix?: string;
  /** Value of `AWS::StackName`; a `Ref` to it throws when absent. */
  stackName?: string;
  /**
   * `Ref` value of each logical id. Also consulted for pseudo-parameters the resolver has no
   * dedicated field for (e.g. `AWS::StackId`).
   */
  refs: Record<string, string>;
  /** `Fn::GetAtt` values: logical id → attribute name → value. */
  attributes: Record<string, Record<string, string>>;
}

/** Thrown when an intrinsic function cannot be resolved to a concrete value. */
export class UnresolvableIntrinsicError extends Error {
  override readonly name = 'UnresolvableIntrinsicError';
  /** The intrinsic function, e.g. `Ref`, `Fn::GetAtt`, `Fn::If`. */
  readonly intrinsic: string;
  /** JSON path of the intrinsic within the resolved value, e.g. `$.Statement[0].Resource`. */
  readonly path: string;
  /** The logical id (or pseudo-parameter) that could not be resolved, when that was the problem. */
  readonly logicalId: string | undefined;

  constructor(
    intrinsic: string,
    path: string,
    detail: string,
    options?: { logicalId?: string; cause?: unknown },
  ) {
    super(`cannot resolve ${intrinsic} at ${path}: ${detail}`, { cause: options?.cause });
    this.intrinsic = intrinsic;
    this.path = path;
    this.logicalId = options?.logicalId;
  }
}

/** Sentinel for `{ Ref: 'AWS::NoValue' }`: the enclosing property or list element is removed. */
const NO_VALUE: unique symbol = Symbol('AWS::NoValue');
type Resolved = unknown;

type PathSegment = string | number;

function formatPath(path: readonly PathSegment[]): string {
  return path.reduce<string>(
    (out, seg) => (typeof seg === 'number' ? `${out}[${seg}]` : `${out}.${seg}`),
    '$',
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Returns a deep copy of `value` with every CloudFormation intrinsic function replaced by its value.
 * Properties and list elements that resolve to `AWS::NoValue` are removed; a top-level `AWS::NoValue`
 * resolves to `undefined`. The input is not modified.
 *
 * @param value - any JSON fragment of a template, e.g. a `PolicyDocument`.
 * @param ctx - region, account and the values of logical ids.
 * @throws {@link UnresolvableIntrinsicError} for unknown logical ids/attributes, unsupported
 *   functions (`Fn::If`, conditions, imports, mappings) and malformed arguments.
 */
export function resolveIntrinsics(value: unknown, ctx: ResolveContext): unknown {
  const resolved = new Resolver(ctx).resolve(value, []);
  return resolved === NO_VALUE ? undefined : resolved;
}

class Resolver {
  constructor(private readonly ctx: ResolveContext) {}

  resolve(value: unknown, path: readonly PathSegment[]): Resolved {
    if (Array.isArray(value)) {
      return value.map((item, i) => this.resolve(item, [...path, i])).filter((item) => item !== NO_VALUE);
    }
    if (!isPlainObject(value)) return value;
    const keys = Object.keys(value);
    const [onlyKey] = keys;
    if (keys.length === 1 && onlyKey !== undefined && (onlyKey === 'Ref' || onlyKey.startsWith('Fn::'))) {
      return this.intrinsic(onlyKey, value[onlyKey], [...path, onlyKey]);
    }
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const item = this.resolve(value[key], [...path, key]);
      if (item !== NO_VALUE) out[key] = item;
    }
    return out;
  }

  private intrinsic(fn: string, args: unknown, path: readonly PathSegment[]): Resolved {
    switch (fn) {
      case 'Ref':
        if (typeof args !== 'string') throw this.malformed(fn, path, 'expected a logical id string');
        return this.ref(args, fn, path);
      case 'Fn::GetAtt':
        return this.getAtt(args, path);
      case 'Fn::Join':
        return this.join(args, path);
      case 'Fn::Sub':
        return this.sub(args, path);
      case 'Fn::Select':
        return this.select(args, path);
      case 'Fn::Split':
        return this.split(args, path);
      case 'Fn::Base64':
        return Buffer.from(this.str(this.resolve(args, path), fn, path), 'utf8').toString('base64');
      case 'Fn::If':
      case 'Fn::Equals':
      case 'Fn::And':
      case 'Fn::Or':
      case 'Fn::Not':
        throw new UnresolvableIntrinsicError(fn, formatPath(path), 'template conditions are not supported');
      default:
        throw new UnresolvableIntrinsicError(fn, formatPath(path), 'unsupported intrinsic function');
    }
  }

  /** Value of `Ref: name` (pseudo-parameter or logical id). */
  private ref(name: string, fn: string, path: readonly PathSegment[]): string | typeof NO_VALUE {
    const { ctx } = this;
    switch (name) {
      case 'AWS::NoValue':
        return NO_VALUE;
      case 'AWS::Region':
        return ctx.region;
      case 'AWS::AccountId':
        return ctx.accountId;
      case 'AWS::Partition':
        return ctx.partition ?? 'aws';
      case 'AWS::URLSuffix':
        return ctx.urlSuffix ?? 'amazonaws.com';
      case 'AWS::StackName':
        if (ctx.stackName !== undefined) return ctx.stackName;
        break;
    }
    if (Object.hasOwn(ctx.refs, name)) return ctx.refs[name]!;
    const what = name.startsWith('AWS::') ? 'pseudo-parameter' : 'logical id';
    throw new UnresolvableIntrinsicError(fn, formatPath(path), `unknown ${what} ${name}`, {
      logicalId: name,
    });
  }

  /** Value of `Fn::GetAtt: [logicalId, attribute]`. */
  private attribute(logicalId: string, attribute: string, fn: string, path: readonly PathSegment[]): string {
    const attrs = Object.hasOwn(this.ctx.attributes, logicalId) ? this.ctx.attributes[logicalId] : undefined;
    if (attrs === undefined) {
      throw new UnresolvableIntrinsicError(fn, formatPath(path), `unknown logical id ${logicalId}`, {
        logicalId,
      });
    }
    if (!Object.hasOwn(attrs, attribute)) {
      throw new UnresolvableIntrinsicError(
        fn,
        formatPath(path),
        `unknown attribute ${logicalId}.${attribute}`,
        { logicalId },
      );
    }
    return attrs[attribute]!;
  }

  private getAtt(args: unknown, path: readonly PathSegment[]): string {
    const fn = 'Fn::GetAtt';
    if (typeof args === 'string') {
      const dot = args.indexOf('.');
      if (dot <= 0 || dot === args.length - 1)
        throw this.malformed(fn, path, `expected "Logical.Attr", got "${args}"`);
      return this.attribute(args.slice(0, dot), args.slice(dot + 1), fn, path);
    }
    if (!Array.isArray(args) || args.length !== 2 || typeof args[0] !== 'string') {
      throw this.malformed(fn, path, 'expected [logicalId, attributeName] or "Logical.Attr"');
    }
    const attribute = this.str(this.resolve(args[1], [...path, 1]), fn, [...path, 1]);
    return this.attribute(args[0], attribute, fn, path);
  }

  private join(args: unknown, path: readonly PathSegment[]): string {
    const fn = 'Fn::Join';
    if (!Array.isArray(args) || args.length !== 2 || typeof args[0] !== 'string') {
      throw this.malformed(fn, path, 'expected [delimiter, [values]]');
    }
    const list = this.list(this.resolve(args[1], [...path, 1]), fn, [...path, 1]);
    return list.map((item, i) => this.str(item, fn, [...path, 1, i])).join(args[0]);
  }

  private select(args: unknown, path: readonly PathSegment[]): Resolved {
    const fn = 'Fn::Select';
    if (!Array.isArray(args) || args.length !== 2)
      throw this.malformed(fn, path, 'expected [index, [values]]');
    const rawIndex = this.resolve(args[0], [...path, 0]);
    const index = typeof rawIndex === 'string' && /^\d+$/.test(rawIndex) ? Number(rawIndex) : rawIndex;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) {
      throw this.malformed(fn, path, `index must be a non-negative integer, got ${JSON.stringify(rawIndex)}`);
    }
    const list = this.list(this.resolve(args[1], [...path, 1]), fn, [...path, 1]);
    if (index >= list.length)
      throw this.malformed(fn, path, `index ${index} out of range (${list.length} values)`);
    return list[index];
  }

  private split(args: unknown, path: readonly PathSegment[]): string[] {
    const fn = 'Fn::Split';
    if (!Array.isArray(args) || args.length !== 2 || typeof args[0] !== 'string' || args[0] === '') {
      throw this.malformed(fn, path, 'expected [delimiter, source]');
    }
    return this.str(this.resolve(args[1], [...path, 1]), fn, [...path, 1]).split(args[0]);
  }

  private sub(args: unknown, path: readonly PathSegment[]): string {
    const fn = 'Fn::Sub';
    let template: unknown = args;
    const vars = new Map<string, string>();
    if (Array.isArray(args)) {
      if (args.length !== 2 || !isPlainObject(args[1]))
        throw this.malformed(fn, path, 'expected [string, {vars}]');
      template = args[0];
      for (const [name, raw] of Object.entries(args[1])) {
        const varPath = [...path, 1, name];
        vars.set(name, this.str(this.resolve(raw, varPath), fn, varPath));
      }
    }
    if (typeof template !== 'string') throw this.malformed(fn, path, 'expected a template string');
    return template.replace(/\$\{([^}]*)\}/g, (_match, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      const fromVars = vars.get(name);
      if (fromVars !== undefined) return fromVars;
      const dot = name.indexOf('.');
      if (dot > 0) return this.attribute(name.slice(0, dot), name.slice(dot + 1), fn, path);
      const value = this.ref(name, fn, path);
      if (value === NO_VALUE) throw this.malformed(fn, path, 'AWS::NoValue cannot be substituted');
      return value;
    });
  }

  private list(value: Resolved, fn: string, path: readonly PathSegment[]): unknown[] {
    if (!Array.isArray(value)) throw this.malformed(fn, path, `expected a list, got ${describe(value)}`);
    return value;
  }

  private str(value: Resolved, fn: string, path: readonly PathSegment[]): string {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw this.malformed(fn, path, `expected a string, got ${describe(value)}`);
  }

  private malformed(fn: string, path: readonly PathSegment[], detail: string): UnresolvableIntrinsicError {
    return new UnresolvableIntrinsicError(fn, formatPath(path), detail);
  }
}

function describe(value: unknown): string {
  if (value === NO_VALUE) return 'AWS::NoValue';
  if (Array.isArray(value)) return 'a list';
  return value === null ? 'null' : typeof value;
}

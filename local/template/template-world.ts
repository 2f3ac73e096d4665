/**
 * The resources' identities (deterministic physical names, see `physical-names.ts`) and resolution of
 * template fragments against them.
 *
 * @module
 */
import type { Template, TemplateResource } from './cloud-assembly.ts';
import { CircularNameReferenceError, CloudAssemblyError } from './errors.ts';
import {
  identifyResource,
  identityProperties,
  type NamingEnvironment,
  type ResourceIdentity,
  resourceAttribute,
  stackId,
} from './physical-names.ts';
import { type ResolveContext, resolveIntrinsics } from './resolve.ts';
import { isRecord } from './values.ts';

const URL_SUFFIX = 'amazonaws.com';

/**
 * The resources' identities, assigned in dependency order (a name may reference another resource), and
 * resolution of template fragments against them.
 */
export class TemplateWorld {
  private readonly identities = new Map<string, ResourceIdentity>();
  private readonly assigning: string[] = [];
  private readonly parameterRefs: Record<string, string>;
  private cachedContext: ResolveContext | undefined;

  constructor(
    private readonly template: Template,
    private readonly env: NamingEnvironment,
  ) {
    this.parameterRefs = parameterDefaults(template);
    for (const id of Object.keys(template.Resources)) this.identityOf(id);
  }

  /** The identity of a resource, assigning it (and those its name depends on) first if needed. */
  identityOf(logicalId: string): ResourceIdentity {
    const known = this.identities.get(logicalId);
    if (known !== undefined) return known;
    const resource = this.resource(logicalId);
    if (resource === undefined) throw new CloudAssemblyError(`no resource ${logicalId} in the template`);
    if (this.assigning.includes(logicalId)) {
      const cycle = [...this.assigning.slice(this.assigning.indexOf(logicalId)), logicalId];
      throw new CircularNameReferenceError(`resource names depend on each other: ${cycle.join(' → ')}`);
    }
    this.assigning.push(logicalId);
    try {
      const props: Record<string, unknown> = {};
      for (const name of identityProperties(resource.Type)) {
        const raw = resource.Properties?.[name];
        if (raw !== undefined) props[name] = this.resolve(raw);
      }
      const identity = identifyResource(resource.Type, logicalId, props, this.env);
      this.identities.set(logicalId, identity);
      this.cachedContext = undefined;
      return identity;
    } finally {
      this.assigning.pop();
    }
  }

  /**
   * `value` with every intrinsic resolved. Attributes are checked first, so an attribute the world does not
   * know throws `UnknownAttributeError` naming the resource type.
   */
  resolve(value: unknown): unknown {
    const { refs, attributes } = referencesIn(value);
    for (const id of refs) if (this.resource(id) !== undefined) this.identityOf(id);
    for (const [id, attribute] of attributes) {
      const resource = this.resource(id);
      if (resource !== undefined) resourceAttribute(this.identityOf(id), resource.Type, id, attribute);
    }
    this.cachedContext ??= this.context();
    return resolveIntrinsics(value, this.cachedContext);
  }

  private resource(logicalId: string): TemplateResource | undefined {
    return Object.hasOwn(this.template.Resources, logicalId) ? this.template.Resources[logicalId] : undefined;
  }

  /** Resolves `value`, which must come out as a string. */
  resolveString(value: unknown, what: string): string {
    const resolved = this.resolve(value);
    if (typeof resolved === 'string') return resolved;
    if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
    throw new CloudAssemblyError(`${what} is ${JSON.stringify(resolved)}, not a string`);
  }

  /** A new resolver context holding the identities assigned so far. */
  context(): ResolveContext {
    const refs: Record<string, string> = {
      ...this.parameterRefs,
      'AWS::StackId': stackId(this.env),
    };
    const attributes: Record<string, Record<string, string>> = {};
    for (const [id, identity] of this.identities) {
      refs[id] = identity.ref;
      attributes[id] = { ...identity.attributes };
    }
    return {
      region: this.env.region,
      accountId: this.env.account,
      partition: this.env.partition,
      urlSuffix: URL_SUFFIX,
      stackName: this.env.stackName,
      refs,
      attributes,
    };
  }
}

/** `Ref` values of the template's parameters that have a plain default (SSM-backed parameters have none). */
function parameterDefaults(template: Template): Record<string, string> {
  const refs: Record<string, string> = {};
  for (const [name, parameter] of Object.entries(template.Parameters ?? {})) {
    const plain = parameter.Type === undefined || parameter.Type === 'String' || parameter.Type === 'Number';
    const value = parameter.Default;
    if (plain && (typeof value === 'string' || typeof value === 'number')) refs[name] = String(value);
  }
  return refs;
}

/** Logical ids a fragment references with `Ref`, and `[logicalId, attribute]` pairs it reads. */
function referencesIn(value: unknown): { refs: Set<string>; attributes: [string, string][] } {
  const refs = new Set<string>();
  const attributes: [string, string][] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach(visit);
      return;
    }
    if (!isRecord(v)) return;
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const args = v[keys[0]!];
      if (keys[0] === 'Ref' && typeof args === 'string') {
        refs.add(args);
        return;
      }
      if (keys[0] === 'Fn::GetAtt') {
        const pair = getAttPair(args);
        if (pair !== undefined) attributes.push(pair);
      }
      if (keys[0] === 'Fn::Sub') {
        const [text, vars] = Array.isArray(args) ? [args[0], args[1]] : [args, undefined];
        const names = isRecord(vars) ? Object.keys(vars) : [];
        if (typeof text === 'string') {
          for (const [, name] of text.matchAll(/\$\{([^!}][^}]*)\}/g)) {
            if (name === undefined || names.includes(name)) continue;
            const dot = name.indexOf('.');
            if (dot > 0) attributes.push([name.slice(0, dot), name.slice(dot + 1)]);
            else refs.add(name);
          }
        }
      }
    }
    Object.values(v).forEach(visit);
  };
  visit(value);
  for (const [id] of attributes) refs.add(id);
  return { refs, attributes };
}

function getAttPair(args: unknown): [string, string] | undefined {
  if (typeof args === 'string') {
    const dot = args.indexOf('.');
    return dot > 0 ? [args.slice(0, dot), args.slice(dot + 1)] : undefined;
  }
  if (Array.isArray(args) && typeof args[0] === 'string' && typeof args[1] === 'string') {
    return [args[0], args[1]];
  }
  return undefined;
}

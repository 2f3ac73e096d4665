/**
 * SSM Parameter Store, locally (AWS JSON 1.1, target prefix `AmazonSSM`): versions (≤ 100 kept, a labelled
 * oldest refuses the 101st), labels, `name:version` / `name:label` selectors, history, SecureString values
 * under KMS keys (decrypted only when asked and allowed), hierarchies, IAM by parameter ARN, and
 * `Parameter Store Change` events on the default bus.
 *
 * - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
 * - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html
 * - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameterHistory.html
 * - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
 * - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_LabelParameterVersion.html
 * - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_UnlabelParameterVersion.html
 * - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DeleteParameter.html
 * - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DeleteParameters.html
 * - https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-versions.html (selectors)
 * - https://docs.aws.amazon.com/systems-manager/latest/userguide/monitoring-systems-manager-event-examples.html
 *   (`Parameter Store Change`: operation Create / Update / Delete / LabelParameterVersion)
 * - https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html (actions on
 *   `parameter` resources)
 * Rules and messages: ./ssm-model.ts; versions and labels: ./ssm-versions.ts; KMS: ./ssm-kms.ts.
 */
import type { AuthorizationNeed, Caller } from '../endpoint/authorize.ts';
import { AwsServiceError } from '../endpoint/errors.ts';
import type { JsonService } from '../endpoint/server.ts';
import type { VirtualClock } from '../world/clock.ts';
import { type EmitEvent, envelope } from './envelope.ts';
import { SsmKeys } from './ssm-kms.ts';
import {
  constraint,
  PARAMETER_TYPES,
  type ParameterType,
  type ParameterVersion,
  parameterArn,
  parseSelector,
  type StoredParameter,
  selectVersion,
  stringList,
  type Tier,
  validateName,
  validateValue,
} from './ssm-model.ts';
import { described, historyEntry, historyPage, pathPage, selectorOf, shown } from './ssm-read.ts';
import { addVersion, label, unlabel } from './ssm-versions.ts';

export type { ParameterVersion, StoredParameter } from './ssm-model.ts';

/** What the operator (or PutParameter) may say about a new version. */
export interface PutOptions {
  readonly type?: ParameterType;
  /** @default true for the operator; PutParameter passes the request's `Overwrite` */
  readonly overwrite?: boolean;
  readonly keyId?: string;
  readonly description?: string;
  readonly tier?: Tier;
  /** `LastModifiedUser`. @default the operator */
  readonly user?: string;
}

export interface SsmWorldOptions {
  readonly clock: VirtualClock;
  /** @default 123456789012 */
  readonly account?: string;
  /** @default eu-west-1 */
  readonly region?: string;
  /** Where `Parameter Store Change` events go. @default nowhere */
  readonly emit?: EmitEvent;
}

/** The name part of a request's `Name` without its selector, with no leading slash (the ARN's resource). */
const resourceOf = (raw: unknown) => parseSelector(String(raw ?? '')).name.replace(/^\//, '');

export class SsmWorld implements JsonService {
  readonly signingName = 'ssm';
  readonly targetPrefix = 'AmazonSSM';
  readonly jsonVersion = '1.1' as const;
  readonly parameters = new Map<string, StoredParameter>();
  readonly account: string;
  readonly region: string;
  /** Customer managed KMS keys SecureStrings may name: `keys.add(keyId, alias?)`. */
  readonly keys: SsmKeys;

  constructor(private readonly o: SsmWorldOptions) {
    this.account = o.account ?? '123456789012';
    this.region = o.region ?? 'eu-west-1';
    this.keys = new SsmKeys(this);
  }

  authorization(operation: string, input: Record<string, unknown>): AuthorizationNeed[] {
    const action = `ssm:${operation}`;
    const on = (raw: unknown): AuthorizationNeed => ({
      action,
      resourceType: 'parameter',
      values: { ParameterNameWithoutLeadingSlash: resourceOf(raw) },
    });
    const names = Array.isArray(input.Names) ? input.Names : [];
    const decrypt = input.WithDecryption === true;
    switch (operation) {
      case 'GetParametersByPath':
        // Authorized against the path asked for, not the parameters it returns (ps-retrieval-authorization).
        return [on(input.Path), ...(decrypt ? this.decryptNeeds(() => this.pathVersions(input)) : [])];
      case 'GetParameters':
        return [
          ...names.map(on),
          ...(decrypt ? this.decryptNeeds(() => names.flatMap((n) => this.selectedOrNone(String(n)))) : []),
        ];
      case 'DeleteParameters':
        return names.map(on);
      case 'GetParameter':
        return [
          on(input.Name),
          ...(decrypt ? this.decryptNeeds(() => this.selectedOrNone(String(input.Name))) : []),
        ];
      case 'GetParameterHistory':
        return [on(input.Name), ...(decrypt ? this.decryptNeeds(() => this.historyVersions(input)) : [])];
      case 'PutParameter':
        return [on(input.Name), ...this.encryptNeeds(input)];
      case 'DescribeParameters':
        return [{ action }];
      case 'LabelParameterVersion':
      case 'UnlabelParameterVersion':
      case 'DeleteParameter':
        return [on(input.Name)];
      default:
        return []; // handle() answers UnknownOperationException
    }
  }

  async handle(operation: string, input: Record<string, unknown>, caller?: Caller): Promise<unknown> {
    const name = String(input.Name ?? '');
    const decrypt = input.WithDecryption === true;
    switch (operation) {
      case 'GetParameter': {
        const sel = parseSelector(name);
        const p = this.parameters.get(sel.name);
        const v = selectVersion(p, sel);
        return { Parameter: shown(this, p!, v, decrypt, selectorOf(name)) };
      }
      case 'GetParameters':
        return this.getMany(stringList(input.Names, 'names', 10), decrypt);
      case 'GetParametersByPath': {
        const page = pathPage(this.parameters.values(), input);
        return {
          Parameters: page.page.map((p) => shown(this, p, p.latest, decrypt)),
          NextToken: page.nextToken,
        };
      }
      case 'GetParameterHistory': {
        const p = this.existing(name);
        const page = historyPage(p, input);
        return { Parameters: page.page.map((v) => historyEntry(p, v, decrypt)), NextToken: page.nextToken };
      }
      case 'PutParameter':
        return this.putParameter(name, input, caller);
      case 'LabelParameterVersion': {
        const version = input.ParameterVersion === undefined ? undefined : Number(input.ParameterVersion);
        const answer = this.label(name, stringList(input.Labels, 'labels', 10), version);
        return { InvalidLabels: answer.invalid, ParameterVersion: answer.version };
      }
      case 'UnlabelParameterVersion': {
        const p = this.existing(name);
        if (typeof input.ParameterVersion !== 'number') {
          throw constraint(input.ParameterVersion, 'parameterVersion', 'Member must not be null');
        }
        const done = unlabel(p, stringList(input.Labels, 'labels', 10), input.ParameterVersion);
        return { RemovedLabels: done.removed, InvalidLabels: done.invalid };
      }
      case 'DeleteParameter':
        this.delete(name);
        return {};
      case 'DeleteParameters': {
        const asked = stringList(input.Names, 'names', 10);
        const deleted = asked.filter((n) => this.parameters.has(n));
        for (const n of deleted) this.delete(n);
        return { DeletedParameters: deleted, InvalidParameters: asked.filter((n) => !deleted.includes(n)) };
      }
      case 'DescribeParameters':
        return described(this, this.parameters.values());
      default:
        throw new AwsServiceError('UnknownOperationException', `local SSM does not implement ${operation}`);
    }
  }

  // Operator helpers (in-process, unrestricted; they change the world as the API would, events included).

  /**
   * Puts a new version (creating the parameter), overwriting by default: `put(name, value, 'SecureString')`
   * or `put(name, value, { type, keyId, description, overwrite })`. Throws AWS's errors like PutParameter.
   */
  put(name: string, value: string, typeOrOptions: string | PutOptions = 'String', overwrite = true): void {
    const o: PutOptions =
      typeof typeOrOptions === 'string'
        ? { type: typeOrOptions as ParameterType, overwrite }
        : { overwrite: true, ...typeOrOptions };
    if (o.type !== undefined && !PARAMETER_TYPES.includes(o.type)) {
      throw new AwsServiceError('UnsupportedParameterType', `The parameter type ${o.type} is not supported.`);
    }
    validateName(name, this);
    validateValue(value, o.tier ?? this.parameters.get(name)?.latest.tier ?? 'Standard');
    if ((o.type ?? this.parameters.get(name)?.type) === 'SecureString') this.keys.resolve(o.keyId);
    const existing = this.parameters.get(name);
    const p = addVersion(name, existing, {
      ...o,
      value,
      overwrite: o.overwrite ?? true,
      now: this.o.clock.now(),
      user: o.user ?? `arn:aws:iam::${this.account}:user/sandbox-operator`,
    });
    this.parameters.set(name, p);
    this.changed(existing ? 'Update' : 'Create', p, p.latest);
  }

  /** Every version kept, oldest first (copies). */
  history(name: string): ParameterVersion[] {
    return (this.parameters.get(name)?.versions ?? []).map((v) => ({ ...v, labels: [...v.labels] }));
  }

  /** The labels of a parameter and the version each is on, e.g. `{ prod: 3, canary: 4 }`. */
  labelsOf(name: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const v of this.parameters.get(name)?.versions ?? []) for (const l of v.labels) out[l] = v.version;
    return out;
  }

  /** LabelParameterVersion, in-process: moves valid labels to `version` (default latest). */
  label(name: string, labels: readonly string[], version?: number): { invalid: string[]; version: number } {
    const p = this.existing(name);
    const done = label(p, labels, version);
    if (done.applied.length > 0) this.changed('LabelParameterVersion', p, done.version);
    return { invalid: done.invalid, version: done.version.version };
  }

  /** DeleteParameter, in-process. */
  delete(name: string): void {
    const p = this.existing(name);
    this.parameters.delete(name);
    this.changed('Delete', p, p.latest);
  }

  private existing(name: string): StoredParameter {
    const p = this.parameters.get(name);
    if (!p) throw new AwsServiceError('ParameterNotFound', '');
    return p;
  }

  private putParameter(name: string, input: Record<string, unknown>, caller?: Caller) {
    if (input.Type !== undefined && !PARAMETER_TYPES.includes(input.Type as ParameterType)) {
      throw new AwsServiceError(
        'ValidationException',
        `1 validation error detected: Value '${String(input.Type)}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`,
      );
    }
    if (input.Description !== undefined && String(input.Description).length > 1024) {
      throw new AwsServiceError(
        'ValidationException',
        "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1024",
      );
    }
    const tier = input.Tier === 'Advanced' ? 'Advanced' : input.Tier === undefined ? undefined : 'Standard';
    if (input.KeyId !== undefined && (input.Type ?? this.parameters.get(name)?.type) !== 'SecureString') {
      throw new AwsServiceError(
        'ValidationException',
        'KeyId is required for SecureString type parameter only.',
      );
    }
    this.put(name, String(input.Value ?? ''), {
      type: input.Type as ParameterType | undefined,
      overwrite: input.Overwrite === true,
      keyId: input.KeyId === undefined ? undefined : String(input.KeyId),
      description: input.Description === undefined ? undefined : String(input.Description),
      tier,
      user: caller?.principalArn,
    });
    const p = this.existing(name);
    return { Version: p.version, Tier: p.latest.tier };
  }

  private getMany(names: string[], decrypt: boolean) {
    const found: Record<string, unknown>[] = [];
    const invalid: string[] = [];
    for (const raw of new Set(names)) {
      const sel = parseSelector(raw);
      const p = this.parameters.get(sel.name);
      try {
        found.push(shown(this, p!, selectVersion(p, sel), decrypt, selectorOf(raw)));
      } catch (error) {
        if (!(error instanceof AwsServiceError)) throw error;
        invalid.push(raw);
      }
    }
    return { Parameters: found, InvalidParameters: invalid };
  }

  /** `Parameter Store Change`, shaped as AWS's documented examples. */
  private changed(operation: string, p: StoredParameter, v: ParameterVersion): void {
    this.o.emit?.(
      envelope(this, 'aws.ssm', 'Parameter Store Change', this.o.clock.now(), [parameterArn(this, p.name)], {
        operation,
        name: p.name,
        type: v.type,
        description: v.description ?? '',
      }),
    );
  }

  // KMS: what reading decrypted or writing a SecureString needs on its key (none for alias/aws/ssm).

  private selectedOrNone(raw: string): { name: string; v: ParameterVersion }[] {
    const sel = parseSelector(raw);
    try {
      return [{ name: sel.name, v: selectVersion(this.parameters.get(sel.name), sel) }];
    } catch {
      return [];
    }
  }

  private pathVersions(input: Record<string, unknown>) {
    return pathPage(this.parameters.values(), input).page.map((p) => ({ name: p.name, v: p.latest }));
  }

  private historyVersions(input: Record<string, unknown>) {
    const p = this.parameters.get(String(input.Name ?? ''));
    return p ? historyPage(p, input).page.map((v) => ({ name: p.name, v })) : [];
  }

  private decryptNeeds(read: () => { name: string; v: ParameterVersion }[]): AuthorizationNeed[] {
    let versions: { name: string; v: ParameterVersion }[];
    try {
      versions = read();
    } catch {
      return []; // the operation itself answers the error
    }
    const needs = new Map<string, AuthorizationNeed>();
    for (const { name, v } of versions) {
      if (v.type !== 'SecureString') continue;
      for (const need of this.keys.need('kms:Decrypt', name, v.keyId)) {
        needs.set(`${need.resources?.[0]} ${name}`, need);
      }
    }
    return [...needs.values()];
  }

  private encryptNeeds(input: Record<string, unknown>): AuthorizationNeed[] {
    const name = String(input.Name ?? '');
    const latest = this.parameters.get(name)?.latest;
    if ((input.Type ?? latest?.type) !== 'SecureString') return [];
    const keyId = input.KeyId === undefined ? undefined : String(input.KeyId);
    const tier = input.Tier === 'Advanced' ? 'Advanced' : (latest?.tier ?? 'Standard');
    return this.keys.encryptNeed(name, keyId, tier);
  }
}

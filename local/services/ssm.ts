import type { AuthorizationNeed } from '../endpoint/authorize.ts';
import { AwsServiceError } from '../endpoint/errors.ts';
import type { JsonService } from '../endpoint/server.ts';
import type { VirtualClock } from '../world/clock.ts';
import { paginate } from './envelope.ts';

interface Parameter {
  name: string;
  type: string;
  value: string;
  version: number;
  lastModified: number;
}

/** GetParametersByPath returns at most this many parameters a page (its MaxResults is 1–10). */
const PATH_PAGE_LIMIT = 10;

/**
 * SSM Parameter Store, locally: versions, Overwrite semantics, ParameterNotFound, hierarchies
 * (GetParametersByPath, authorized against the path like AWS), and SecureString values that are only
 * returned decrypted when the caller asks.
 */
export class SsmWorld implements JsonService {
  readonly signingName = 'ssm';
  readonly targetPrefix = 'AmazonSSM';
  readonly jsonVersion = '1.1' as const;
  readonly parameters = new Map<string, Parameter>();

  constructor(private readonly o: { clock: VirtualClock }) {}

  authorization(operation: string, input: Record<string, unknown>): AuthorizationNeed[] {
    // GetParametersByPath is authorized against the path asked for, not the parameters it returns.
    // https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-retrieval-authorization.html
    const named = operation === 'GetParametersByPath' ? input.Path : input.Name;
    const name = String(named ?? '').replace(/^\//, '');
    return [
      {
        action: `ssm:${operation}`,
        resourceType: 'parameter',
        values: { ParameterNameWithoutLeadingSlash: name },
      },
    ];
  }

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    const name = String(input.Name ?? '');
    switch (operation) {
      case 'GetParameter': {
        const p = this.parameters.get(name);
        if (!p) throw new AwsServiceError('ParameterNotFound', '');
        return { Parameter: this.shown(p, input.WithDecryption === true) };
      }
      case 'GetParametersByPath':
        return this.byPath(input);
      case 'PutParameter': {
        this.put(name, String(input.Value ?? ''), String(input.Type ?? 'String'), input.Overwrite === true);
        return { Version: this.parameters.get(name)?.version, Tier: 'Standard' };
      }
      case 'DeleteParameter':
        if (!this.parameters.delete(name)) throw new AwsServiceError('ParameterNotFound', '');
        return {};
      default:
        throw new AwsServiceError('UnknownOperationException', `local SSM does not implement ${operation}`);
    }
  }

  /**
   * A parameter as GetParameter(s) answer: a SecureString's value only when decryption was asked for, else
   * an opaque stand-in for the ciphertext AWS returns (never the value).
   */
  private shown(p: Parameter, decrypt: boolean) {
    const value =
      p.type === 'SecureString' && !decrypt
        ? Buffer.from(`local-ciphertext:${p.name}:${p.version}`).toString('base64')
        : p.value;
    return {
      Name: p.name,
      Type: p.type,
      Value: value,
      Version: p.version,
      LastModifiedDate: new Date(p.lastModified),
      DataType: 'text',
    };
  }

  /** GetParametersByPath: the parameters under `Path` (one level, or all with `Recursive`), in pages of ≤ 10. */
  private byPath(input: Record<string, unknown>) {
    const path = String(input.Path ?? '');
    if (!path.startsWith('/')) {
      throw new AwsServiceError(
        'ValidationException',
        `The parameter path ${JSON.stringify(path)} is not valid: a hierarchy starts with a forward slash (/).`,
      );
    }
    if (input.ParameterFilters !== undefined) {
      throw new AwsServiceError('ValidationException', 'local SSM does not implement ParameterFilters');
    }
    const max = input.MaxResults;
    if (max !== undefined && (typeof max !== 'number' || max < 1 || max > PATH_PAGE_LIMIT)) {
      throw new AwsServiceError(
        'ValidationException',
        `1 validation error detected: Value '${String(max)}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and ${PATH_PAGE_LIMIT}`,
      );
    }
    const prefix = path.endsWith('/') ? path : `${path}/`;
    const recursive = input.Recursive === true;
    const under = [...this.parameters.values()]
      .filter((p) => p.name.startsWith(prefix) && (recursive || !p.name.slice(prefix.length).includes('/')))
      .sort((a, b) => a.name.localeCompare(b.name));
    let page: ReturnType<typeof paginate<Parameter>>;
    try {
      page = paginate(under, max, input.NextToken, PATH_PAGE_LIMIT);
    } catch {
      throw new AwsServiceError('InvalidNextToken', 'The specified token is not valid.');
    }
    return {
      Parameters: page.page.map((p) => this.shown(p, input.WithDecryption === true)),
      NextToken: page.nextToken,
    };
  }

  put(name: string, value: string, type = 'String', overwrite = true): void {
    const existing = this.parameters.get(name);
    if (existing && !overwrite) {
      throw new AwsServiceError(
        'ParameterAlreadyExists',
        'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
      );
    }
    this.parameters.set(name, {
      name,
      type,
      value,
      version: (existing?.version ?? 0) + 1,
      lastModified: this.o.clock.now(),
    });
  }
}

import type { AuthorizationNeed } from '../endpoint/authorize.ts';
import { AwsServiceError } from '../endpoint/errors.ts';
import type { JsonService } from '../endpoint/server.ts';
import type { VirtualClock } from '../world/clock.ts';

interface Parameter {
  name: string;
  type: string;
  value: string;
  version: number;
  lastModified: number;
}

/** SSM Parameter Store, locally: versions, Overwrite semantics, ParameterNotFound. */
export class SsmWorld implements JsonService {
  readonly signingName = 'ssm';
  readonly targetPrefix = 'AmazonSSM';
  readonly jsonVersion = '1.1' as const;
  readonly parameters = new Map<string, Parameter>();

  constructor(private readonly o: { clock: VirtualClock }) {}

  authorization(operation: string, input: Record<string, unknown>): AuthorizationNeed[] {
    const name = String(input.Name ?? '').replace(/^\//, '');
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
        return {
          Parameter: {
            Name: p.name,
            Type: p.type,
            Value: p.value,
            Version: p.version,
            LastModifiedDate: new Date(p.lastModified),
          },
        };
      }
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

import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AuthorizationNeed, authorize, type Caller, type Partition } from './authorize.ts';
import { AwsServiceError } from './errors.ts';
import { FaultInjector } from './faults.ts';
import { parseAuthorization, verifySignature } from './sigv4.ts';

/** A service spoken over AWS JSON 1.0/1.1: operations by name, and what each needs authorized. */
export interface JsonService {
  /** SigV4 signing name, e.g. `ecs`, `ssm`, `events`, `monitoring`. */
  readonly signingName: string;
  /** `X-Amz-Target` prefix, e.g. `AmazonEC2ContainerServiceV20141113`. */
  readonly targetPrefix: string;
  /** `1.0` or `1.1`. */
  readonly jsonVersion: '1.0' | '1.1';
  authorization(operation: string, input: Record<string, unknown>): AuthorizationNeed[];
  handle(operation: string, input: Record<string, unknown>, caller: Caller): Promise<unknown>;
}

/** One request the endpoint served, for tests and the sandbox's figures. */
export interface CallRecord {
  readonly service: string;
  readonly operation: string;
  readonly caller: string;
  readonly status: number;
  readonly error?: string;
}

export interface EndpointOptions extends Partition {
  readonly services: readonly JsonService[];
  /** Resolves an access key to its caller; unknown keys are refused like AWS does. */
  readonly callerFor: (accessKeyId: string) => Caller | undefined;
  /** Where DynamoDB requests go after authorization (dynalite). */
  readonly dynamoPort?: number;
}

/**
 * The local AWS-compatible endpoint: one HTTP server on loopback, routing by `X-Amz-Target` (JSON
 * protocols) or the SigV4 credential scope, authorizing every call against the caller's policies,
 * injecting faults, and answering errors in each protocol's format.
 */
export class LocalEndpoint {
  readonly faults = new FaultInjector();
  readonly calls: CallRecord[] = [];
  private server?: Server;
  private readonly byPrefix: Map<string, JsonService>;

  constructor(private readonly options: EndpointOptions) {
    this.byPrefix = new Map(options.services.map((s) => [s.targetPrefix, s]));
  }

  async listen(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      this.serve(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
      });
    });
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', () => resolve()));
    return this.url;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('endpoint is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  count(service: string, operation: string, filter: (c: CallRecord) => boolean = () => true): number {
    return this.calls.filter((c) => c.service === service && c.operation === operation && filter(c)).length;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const [prefix = '', operation = ''] = target.split('.');
    const scope = credentialScope(req.headers.authorization);
    const service = this.byPrefix.get(prefix);
    const serviceName = prefix.startsWith('DynamoDB_')
      ? 'dynamodb'
      : (service?.signingName ?? scope?.service ?? 'unknown');
    const json = service?.jsonVersion ?? (serviceName === 'dynamodb' ? '1.0' : '1.1');
    const record = (status: number, error?: string) =>
      this.calls.push({ service: serviceName, operation, caller: scope?.accessKeyId ?? '', status, error });

    const fail = (error: AwsServiceError) => {
      record(error.status, error.code);
      const type = serviceName === 'dynamodb' ? `com.amazonaws.dynamodb.v20120810#${error.code}` : error.code;
      res
        .writeHead(error.status, {
          'content-type': `application/x-amz-json-${json}`,
          'x-amzn-errortype': error.code,
          'x-amzn-requestid': crypto.randomUUID(),
        })
        .end(JSON.stringify({ __type: type, message: error.message }));
    };

    for (const fault of this.faults.pick(serviceName, operation)) {
      if (fault.kind === 'latency') await new Promise((r) => setTimeout(r, fault.latencyMs ?? 100));
      if (fault.kind === 'drop') {
        record(0, 'dropped');
        req.socket.destroy();
        return;
      }
      if (fault.kind === 'throttle') return fail(new AwsServiceError('ThrottlingException', 'Rate exceeded'));
      if (fault.kind === 'server-error') {
        return fail(
          new AwsServiceError(
            serviceName === 'ecs' ? 'ServerException' : 'InternalFailure',
            'injected fault',
            500,
          ),
        );
      }
    }

    const caller = scope ? this.options.callerFor(scope.accessKeyId) : undefined;
    if (!caller) {
      return fail(
        new AwsServiceError(
          'UnrecognizedClientException',
          'The security token included in the request is invalid.',
        ),
      );
    }
    const auth = parseAuthorization(req.headers.authorization);
    if (!auth || !(await verifySignature(req, body, auth, caller.secretAccessKey))) {
      return fail(
        new AwsServiceError(
          serviceName === 'dynamodb' ? 'InvalidSignatureException' : 'SignatureDoesNotMatch',
          'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
          serviceName === 'dynamodb' ? 400 : 403,
        ),
      );
    }
    let input: Record<string, unknown>;
    try {
      input = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
    } catch {
      return fail(new AwsServiceError('SerializationException', 'request body is not JSON'));
    }

    try {
      if (serviceName === 'dynamodb') {
        await authorize(caller, dynamoNeeds(operation, input), this.options);
        await this.forwardToDynamo(req, body, res);
        record(res.statusCode);
        return;
      }
      if (!service)
        throw new AwsServiceError(
          'UnknownOperationException',
          `no local service for ${target || 'this request'}`,
        );
      await authorize(caller, service.authorization(operation, input), this.options);
      const output = await service.handle(operation, input, caller);
      record(200);
      res
        .writeHead(200, {
          'content-type': `application/x-amz-json-${json}`,
          'x-amzn-requestid': crypto.randomUUID(),
        })
        .end(JSON.stringify(output ?? {}, dateAsEpochSeconds));
    } catch (error) {
      if (error instanceof AwsServiceError) return fail(error);
      throw error;
    }
  }

  private forwardToDynamo(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const port = this.options.dynamoPort;
    if (port === undefined)
      throw new AwsServiceError('UnknownOperationException', 'no DynamoDB in this world');
    return new Promise((resolve, reject) => {
      const upstream = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: `127.0.0.1:${port}` },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(res);
          answer.on('end', () => resolve());
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }
}

/** The DynamoDB tables a call touches, as IAM sees them. */
function dynamoNeeds(operation: string, input: Record<string, unknown>): AuthorizationNeed[] {
  const tables = new Set<string>();
  if (typeof input.TableName === 'string') tables.add(input.TableName);
  for (const name of Object.keys((input.RequestItems as Record<string, unknown>) ?? {})) tables.add(name);
  for (const item of (input.TransactItems as Record<string, { TableName?: string }>[]) ?? []) {
    for (const op of Object.values(item)) if (op.TableName) tables.add(op.TableName);
  }
  const action = `dynamodb:${operation}`;
  if (tables.size === 0) return [{ action }];
  return [...tables].map((TableName) => ({ action, resourceType: 'table', values: { TableName } }));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** `Credential=AKID/20261122/eu-west-1/ecs/aws4_request` → its parts. */
export function credentialScope(authorization: string | undefined) {
  const match = /Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? '');
  if (!match) return undefined;
  const [, accessKeyId = '', date = '', region = '', service = ''] = match;
  return { accessKeyId, date, region, service };
}

/** AWS JSON protocols send timestamps as epoch seconds. */
function dateAsEpochSeconds(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  return raw instanceof Date ? raw.getTime() / 1000 : value;
}

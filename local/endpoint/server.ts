import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AuthorizationNeed, authorize, type Caller, type Partition } from './authorize.ts';
import { dynamoNeeds, type PartitionKeys } from './dynamo-authorization.ts';
import { AwsServiceError } from './errors.ts';
import { FaultInjector } from './faults.ts';
import {
  asQueryError,
  parseQueryRequest,
  type QueryRequest,
  type QueryService,
  queryErrorXml,
  queryResponseXml,
} from './query-protocol.ts';
import { RateLimits } from './rate-limit.ts';
import { asRestError, RestRawResponse, type RestService, restErrorBody } from './rest-protocol.ts';
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
  /** Services spoken over the AWS Query protocol (e.g. RDS), routed by the SigV4 credential scope's service. */
  readonly queryServices?: readonly QueryService[];
  /**
   * Services spoken over AWS REST JSON (e.g. SES v2): requests without `X-Amz-Target` and without a form body,
   * routed by the SigV4 credential scope's service to the service with that signing name, then by method and
   * path to an operation.
   */
  readonly restServices?: readonly RestService[];
  /** Resolves an access key to its caller; unknown keys are refused like AWS does. */
  readonly callerFor: (accessKeyId: string) => Caller | undefined;
  /** Where DynamoDB requests go after authorization (dynalite). */
  readonly dynamoPort?: number;
  /**
   * The partition key attribute of each DynamoDB table, so requests are authorized with the keys they touch
   * (`dynamodb:LeadingKeys`). @default none: keyed requests on any table are refused as unknown tables
   */
  readonly dynamoPartitionKeys?: PartitionKeys;
}

/** One request in flight: what it is, how it is recorded, and how it is failed in its protocol's format. */
interface Exchange {
  readonly service: string;
  readonly operation: string;
  record(status: number, error?: string): void;
  fail(error: AwsServiceError): void;
}

/**
 * The local AWS-compatible endpoint: one HTTP server on loopback, routing by `X-Amz-Target` (JSON
 * protocols) or, for form-encoded Query requests and REST JSON requests (no target, e.g. SES v2), by the SigV4
 * credential scope's service (REST requests then by method and path); authorizing every
 * call against the caller's policies, injecting faults, limiting each service's request rate, and answering
 * errors in each protocol's format.
 */
export class LocalEndpoint {
  readonly faults = new FaultInjector();
  /** Per-service request rates and latencies (real time), e.g. `limits.set('rds', { requestsPerSecond: 25 })`. */
  readonly limits = new RateLimits();
  readonly calls: CallRecord[] = [];
  private server?: Server;
  private readonly byPrefix: Map<string, JsonService>;
  private readonly bySigningName: Map<string, QueryService>;
  private readonly restBySigningName: Map<string, RestService>;

  constructor(private readonly options: EndpointOptions) {
    this.byPrefix = new Map(options.services.map((s) => [s.targetPrefix, s]));
    this.bySigningName = new Map((options.queryServices ?? []).map((s) => [s.signingName, s]));
    this.restBySigningName = new Map((options.restServices ?? []).map((s) => [s.signingName, s]));
  }

  async listen(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      // No `Date` header: the world's functions read a virtual clock, days away from real time, and the SDK
      // would take the difference for clock skew, retry every 4xx and drain its retry budget (then a real
      // 500 gets no retry). The endpoint does not check signing times, so no skew needs correcting.
      res.sendDate = false;
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
    const contentType = String(req.headers['content-type'] ?? '').toLowerCase();
    if (target === '' && contentType.startsWith('application/x-www-form-urlencoded')) {
      return this.serveQuery(req, res, body);
    }
    const restService = this.restBySigningName.get(credentialScope(req.headers.authorization)?.service ?? '');
    if (target === '' && restService) return this.serveRest(req, res, body, restService);
    const [prefix = '', operation = ''] = target.split('.');
    const scope = credentialScope(req.headers.authorization);
    const service = this.byPrefix.get(prefix);
    const serviceName = prefix.startsWith('DynamoDB_')
      ? 'dynamodb'
      : (service?.signingName ?? scope?.service ?? 'unknown');
    const json = service?.jsonVersion ?? (serviceName === 'dynamodb' ? '1.0' : '1.1');
    const exchange: Exchange = {
      service: serviceName,
      operation,
      record: (status, error) =>
        this.calls.push({ service: serviceName, operation, caller: scope?.accessKeyId ?? '', status, error }),
      fail: (error) => {
        exchange.record(error.status, error.code);
        const type =
          serviceName === 'dynamodb' ? `com.amazonaws.dynamodb.v20120810#${error.code}` : error.code;
        res
          .writeHead(error.status, {
            'content-type': `application/x-amz-json-${json}`,
            'x-amzn-errortype': error.code,
            'x-amzn-requestid': crypto.randomUUID(),
          })
          .end(JSON.stringify({ __type: type, message: error.message }));
      },
    };

    const caller = await this.admit(req, body, exchange);
    if (!caller) return;
    let input: Record<string, unknown>;
    try {
      input = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
    } catch {
      return exchange.fail(new AwsServiceError('SerializationException', 'request body is not JSON'));
    }

    try {
      if (serviceName === 'dynamodb') {
        // The operator is unrestricted: its requests reach dynalite as they are, answered by dynalite alone.
        if (caller.policies !== 'unrestricted') {
          const keys = this.options.dynamoPartitionKeys ?? new Map<string, string>();
          await authorize(caller, dynamoNeeds(operation, input, keys), this.options);
        }
        await this.forwardToDynamo(req, body, res);
        exchange.record(res.statusCode);
        return;
      }
      if (!service)
        throw new AwsServiceError(
          'UnknownOperationException',
          `no local service for ${target || 'this request'}`,
        );
      await authorize(caller, service.authorization(operation, input), this.options);
      const output = await service.handle(operation, input, caller);
      exchange.record(200);
      res
        .writeHead(200, {
          'content-type': `application/x-amz-json-${json}`,
          'x-amzn-requestid': crypto.randomUUID(),
        })
        .end(JSON.stringify(output ?? {}, dateAsEpochSeconds));
    } catch (error) {
      if (error instanceof AwsServiceError) return exchange.fail(error);
      throw error;
    }
  }

  /** An AWS Query request (form-encoded `Action=…`), for the service named by the credential scope. */
  private async serveQuery(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const scope = credentialScope(req.headers.authorization);
    const service = this.bySigningName.get(scope?.service ?? '');
    const serviceName = service?.signingName ?? scope?.service ?? 'unknown';
    let request: QueryRequest | undefined;
    let malformed: AwsServiceError | undefined;
    try {
      request = parseQueryRequest(body.toString('utf8'));
    } catch (error) {
      if (!(error instanceof AwsServiceError)) throw error;
      malformed = error;
    }
    const operation = request?.action ?? '';
    const xmlns = service?.xmlns ?? '';
    const exchange: Exchange = {
      service: serviceName,
      operation,
      record: (status, error) =>
        this.calls.push({ service: serviceName, operation, caller: scope?.accessKeyId ?? '', status, error }),
      fail: (error) => {
        const denied = error.code === 'AccessDeniedException' ? service?.accessDenied : undefined;
        const answer = denied
          ? new AwsServiceError(denied.code, error.message, denied.status)
          : asQueryError(error);
        exchange.record(answer.status, answer.code);
        const requestId = crypto.randomUUID();
        res
          .writeHead(answer.status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId })
          .end(queryErrorXml(answer, xmlns, requestId));
      },
    };

    const caller = await this.admit(req, body, exchange);
    if (!caller) return;
    try {
      if (malformed) throw malformed;
      if (!service || !request) {
        throw new AwsServiceError('InvalidAction', `no local Query service for ${serviceName}`);
      }
      const { action, version, params } = request;
      if (version !== service.version) {
        throw new AwsServiceError(
          'InvalidAction',
          `Could not find operation ${action} for version ${version}`,
        );
      }
      await authorize(caller, service.authorization(action, params), this.options);
      const output = await service.handle(action, params, caller);
      exchange.record(200);
      const requestId = crypto.randomUUID();
      res
        .writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId })
        .end(queryResponseXml(action, xmlns, output, requestId));
    } catch (error) {
      if (error instanceof AwsServiceError) return exchange.fail(error);
      throw error;
    }
  }

  /**
   * An AWS REST JSON request (no `X-Amz-Target`, not form-encoded) for the service named by the credential
   * scope: the method and path name the operation; the input is the JSON body plus query-string and path
   * parameters; errors are the status with `x-amzn-ErrorType` and `{"message": …}`.
   */
  private async serveRest(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    service: RestService,
  ): Promise<void> {
    const scope = credentialScope(req.headers.authorization);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const route = service.route(method, url.pathname);
    const operation = route?.operation ?? '';
    const serviceName = service.signingName;
    const exchange: Exchange = {
      service: serviceName,
      operation,
      record: (status, error) =>
        this.calls.push({ service: serviceName, operation, caller: scope?.accessKeyId ?? '', status, error }),
      fail: (error) => {
        const answer = asRestError(error, service);
        exchange.record(answer.status, answer.code);
        res
          .writeHead(answer.status, {
            'content-type': 'application/json',
            'x-amzn-errortype': answer.code,
            'x-amzn-requestid': crypto.randomUUID(),
          })
          .end(restErrorBody(answer));
      },
    };

    const caller = await this.admit(req, body, exchange);
    if (!caller) return;
    try {
      if (!route) {
        // What AWS REST front ends answer for a method and path no operation has.
        throw new AwsServiceError(
          'UnknownOperationException',
          `Unknown operation ${method} ${url.pathname}`,
          404,
        );
      }
      if (service.rawBody) {
        let payload: unknown = null;
        try {
          payload = body.length > 0 ? JSON.parse(body.toString('utf8')) : null;
        } catch {
          throw new AwsServiceError(
            'InvalidRequestContentException',
            'Could not parse request body into json',
            400,
          );
        }
        const raw = {
          ...Object.fromEntries(url.searchParams),
          ...route.pathParams,
          Payload: payload,
          PayloadBytes: body.length,
        };
        await authorize(caller, service.authorization(operation, raw), this.options);
        const output = await service.handle(operation, raw, caller);
        if (!(output instanceof RestRawResponse))
          throw new Error(`${serviceName} answered without a raw response`);
        exchange.record(output.status);
        res
          .writeHead(output.status, { ...output.headers, 'x-amzn-requestid': crypto.randomUUID() })
          .end(output.body);
        return;
      }
      let parsed: unknown = {};
      try {
        parsed = body.length > 0 ? JSON.parse(body.toString('utf8')) : {};
      } catch {
        throw new AwsServiceError('SerializationException', 'request body is not JSON');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new AwsServiceError('SerializationException', 'request body is not a JSON object');
      }
      const input: Record<string, unknown> = {
        ...Object.fromEntries(url.searchParams),
        ...(parsed as Record<string, unknown>),
        ...route.pathParams,
      };
      await authorize(caller, service.authorization(operation, input), this.options);
      const output = await service.handle(operation, input, caller);
      if (output instanceof RestRawResponse) {
        exchange.record(output.status);
        res
          .writeHead(output.status, { ...output.headers, 'x-amzn-requestid': crypto.randomUUID() })
          .end(output.body);
        return;
      }
      exchange.record(200);
      res
        .writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': crypto.randomUUID() })
        .end(JSON.stringify(output ?? {}, dateAsEpochSeconds));
    } catch (error) {
      if (error instanceof AwsServiceError) return exchange.fail(error);
      throw error;
    }
  }

  /**
   * What every request goes through before its service sees it, whatever its protocol: the service's
   * latency, injected faults, authentication (known key, valid SigV4 signature) and the service's rate
   * limit. Returns the caller, or `undefined` when the request has been answered (or dropped).
   */
  private async admit(req: IncomingMessage, body: Buffer, exchange: Exchange): Promise<Caller | undefined> {
    const { service: serviceName, operation } = exchange;
    const latency = this.limits.latencyMs(serviceName);
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    for (const fault of this.faults.pick(serviceName, operation)) {
      if (fault.kind === 'latency') await new Promise((r) => setTimeout(r, fault.latencyMs ?? 100));
      if (fault.kind === 'barrier') await this.faults.meet(fault);
      if (fault.kind === 'drop') {
        exchange.record(0, 'dropped');
        req.socket.destroy();
        return undefined;
      }
      if (fault.kind === 'throttle') {
        exchange.fail(new AwsServiceError('ThrottlingException', 'Rate exceeded'));
        return undefined;
      }
      if (fault.kind === 'server-error') {
        exchange.fail(
          new AwsServiceError(
            serviceName === 'ecs' ? 'ServerException' : 'InternalFailure',
            'injected fault',
            500,
          ),
        );
        return undefined;
      }
    }

    const scope = credentialScope(req.headers.authorization);
    const caller = scope ? this.options.callerFor(scope.accessKeyId) : undefined;
    if (!caller) {
      exchange.fail(
        new AwsServiceError(
          'UnrecognizedClientException',
          'The security token included in the request is invalid.',
        ),
      );
      return undefined;
    }
    const auth = parseAuthorization(req.headers.authorization);
    if (!auth || !(await verifySignature(req, body, auth, caller.secretAccessKey))) {
      exchange.fail(
        new AwsServiceError(
          serviceName === 'dynamodb' ? 'InvalidSignatureException' : 'SignatureDoesNotMatch',
          'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
          serviceName === 'dynamodb' ? 400 : 403,
        ),
      );
      return undefined;
    }
    if (!this.limits.admit(serviceName)) {
      exchange.fail(new AwsServiceError('ThrottlingException', 'Rate exceeded'));
      return undefined;
    }
    return caller;
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
          // dynalite's own `Date` is real time: dropped, as above.
          const { date: _date, ...headers } = answer.headers;
          res.writeHead(answer.statusCode ?? 500, headers);
          answer.pipe(res);
          answer.on('end', () => resolve());
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }
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

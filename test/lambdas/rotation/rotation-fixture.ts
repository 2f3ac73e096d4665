/**
 * The rotation tests' world: the local SSM and ECS behind a LocalEndpoint, dynalite for the state table, a
 * clock the tests set by hand, EventBridge mocked; and a way to crash the function at any SSM call.
 */
import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { kindSteps } from '../../../lambdas/rotation/kinds.ts';
import { RotationLocks } from '../../../lambdas/rotation/lock.ts';
import type { RedeployDeps } from '../../../lambdas/rotation/redeploy.ts';
import { RedeployStore } from '../../../lambdas/rotation/redeploy-store.ts';
import type { RotateDeps, SecretConfig } from '../../../lambdas/rotation/rotate.ts';
import { AuditLog } from '../../../lambdas/shared/audit.ts';
import { EventPublisher } from '../../../lambdas/shared/publisher.ts';
import type { Caller } from '../../../local/endpoint/authorize.ts';
import { LocalEndpoint } from '../../../local/endpoint/server.ts';
import { EcsWorld } from '../../../local/services/ecs.ts';
import { SsmWorld } from '../../../local/services/ssm.ts';
import { startStateTable } from '../../support/dynamo.ts';

export const DAY = 86_400_000;
export const T0 = Date.parse('2026-12-02T12:00:00Z');
/** A clock the test sets by hand (forward and back: each case starts at T0). */
let now = T0;
export const clock = {
  now: () => now,
  set: (ms: number) => {
    now = ms;
  },
};
export const ssm = new SsmWorld({
  account: '123456789012',
  region: 'eu-west-1',
  clock: clock as never,
  emit: () => undefined,
});
/** The local ECS on the same hand-set clock (rollouts never complete here: no test waits for one). */
export const ecs = new EcsWorld({
  account: '123456789012',
  region: 'eu-west-1',
  clock: { now: () => clock.now(), schedule: () => undefined } as never,
  emit: () => undefined,
  resolveImage: (image) => `sha256:${Buffer.from(image).toString('hex').padEnd(64, '0').slice(0, 64)}`,
  alarmState: () => undefined,
});
const operator: Caller = {
  accessKeyId: 'AKIAOPERATOR00000000',
  secretAccessKey: 'operator-secret',
  principalArn: 'arn:aws:iam::123456789012:user/operator',
  policies: 'unrestricted',
};
const endpoint = new LocalEndpoint({
  account: '123456789012',
  region: 'eu-west-1',
  services: [ssm, ecs],
  callerFor: (key) => (key === operator.accessKeyId ? operator : undefined),
});
export const events = mockClient(EventBridgeClient);
let table: Awaited<ReturnType<typeof startStateTable>>;
let client: SSMClient;
let ecsClient: ECSClient;
/** The operator's SSM client (unrestricted), once the endpoint listens. */
export const operatorSsm = () => client;
/** The operator's ECS client (unrestricted), once the endpoint listens. */
export const operatorEcs = () => ecsClient;
/** The state table (dynalite), once it runs. */
export const stateTable = () => table;

beforeAll(async () => {
  await endpoint.listen();
  table = await startStateTable();
  client = new SSMClient({
    endpoint: endpoint.url,
    region: 'eu-west-1',
    credentials: { accessKeyId: operator.accessKeyId, secretAccessKey: operator.secretAccessKey },
    maxAttempts: 1,
  });
  ecsClient = new ECSClient({
    endpoint: endpoint.url,
    region: 'eu-west-1',
    credentials: { accessKeyId: operator.accessKeyId, secretAccessKey: operator.secretAccessKey },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  await endpoint.close();
  await table.stop();
});
beforeEach(() => {
  events.reset();
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
});

/** Loses a secret's lock item (its TTL passed, or someone deleted it), as a run would then find it. */
export const dropLock = (name: string) =>
  table.documents.send(
    new DeleteCommand({ TableName: table.tableName, Key: { pk: `rotation#${name}`, sk: 'lock' } }),
  );

/** Every metric the runs published (never reset: filter by parameter). */
export const metrics: { name: string; value: number; dimensions?: Record<string, string> }[] = [];

/** How many secrets were made: the last one's number. */
export const made = { n: 0 };
/** A fresh secret rotated quarterly, its one version 91 days old (due). */
export async function secret(): Promise<SecretConfig> {
  made.n += 1;
  const n = made.n;
  const parameter = `/webhooks/api-key-${n}`;
  await client.send(
    new PutParameterCommand({ Name: parameter, Value: `old-value-${n}`, Type: 'SecureString' }),
  );
  return { parameter, policy: { kind: 'generated', cadenceDays: 90, graceDays: 7 } };
}

export const deps = (o: Partial<RotateDeps & RedeployDeps> = {}): RotateDeps & RedeployDeps => ({
  ssm: client,
  locks: new RotationLocks(table.documents, table.tableName),
  events: new EventPublisher(new EventBridgeClient({ region: 'eu-west-1' }), 'default'),
  audit: new AuditLog(table.documents, table.tableName, 400),
  clock: () => clock.now(),
  killSwitchParameter: '/nightshift/kill-switch',
  dryRun: false,
  owner: `run-${crypto.randomUUID()}`,
  leaseMs: 60_000,
  kinds: kindSteps({}),
  metrics: { add: (name, value, dimensions) => metrics.push({ name, value, dimensions }) },
  ecs: ecsClient,
  redeploys: new RedeployStore(table.documents, table.tableName),
  ...o,
});
export const plain = async (name: string) =>
  (await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter?.Value;
export const labelled = async (name: string, label: string) =>
  (await client.send(new GetParameterCommand({ Name: `${name}:${label}`, WithDecryption: true }))).Parameter
    ?.Value;
export const published = () =>
  events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.[0]?.DetailType);

/** An SSM client that dies (as the function would) at the `at`-th call of `command`, before or after it runs. */
export function crashing(command: string, at: number, when: 'before' | 'after'): SSMClient {
  let seen = 0;
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return async (cmd: { constructor: { name: string } }) => {
        const hit = cmd.constructor.name === command && ++seen === at;
        if (hit && when === 'before') throw Object.assign(new Error('crash'), { name: 'Crash' });
        const out = await target.send(cmd as never);
        if (hit) throw Object.assign(new Error('crash'), { name: 'Crash' });
        return out;
      };
    },
  });
}

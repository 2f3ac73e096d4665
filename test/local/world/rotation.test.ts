import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NightshiftConfigInput } from '../../../lib/config/schema.ts';
import { exampleAppConfig } from '../../../local/sandbox/example-config.ts';
import { synthesize } from '../../../local/sandbox/synth.ts';
import { envelope } from '../../../local/services/envelope.ts';
import { LocalWorld } from '../../../local/world/world.ts';
import { DAY, START } from './world-fixture.ts';

const API_KEY = '/webhooks/api-key';
let world: LocalWorld;
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nightshift-rotation-'));
  const config: NightshiftConfigInput = {
    ...exampleAppConfig,
    rotation: { secrets: [{ parameter: API_KEY, kind: 'generated', cadenceDays: 30 }] },
  };
  const { stackName } = synthesize(join(dir, 'cdk.out'), config);
  world = await LocalWorld.start({
    cloudAssemblyDir: join(dir, 'cdk.out'),
    account: '123456789012',
    region: 'eu-west-1',
    stackName,
    start: START,
  });
}, 120_000);
afterAll(async () => {
  await world?.close();
  rmSync(dir, { recursive: true, force: true });
});

const rule = () => {
  const r = world.app.rules.find((x) => x.name.includes('Rotation') && x.scheduleExpression);
  if (!r) throw new Error('no rotation schedule');
  return r;
};
const tick = () =>
  world.runSchedulesNowWith(
    envelope(world.options, 'aws.events', 'Scheduled Event', world.clock.now(), [rule().arn], {}),
  );
const runs = () => world.deliveries.filter((d) => d.function.includes('Rotation'));
const operator = () => new SSMClient(world.operatorConfig());
const read = async (name: string) =>
  (await operator().send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter?.Value;

describe('rotation in the local world (the bundled function, its own IAM)', () => {
  it('a generated API key, due: rotated once, current and previous labelled, nothing pending; not again until due', async () => {
    await operator().send(
      new PutParameterCommand({ Name: API_KEY, Value: 'the-first-api-key', Type: 'SecureString' }),
    );
    await tick();
    expect(runs().at(-1)?.result).toMatchObject({ ok: true });
    expect(world.ssm.history(API_KEY)).toHaveLength(1); // not due for 30 days
    await world.advance(31 * DAY);
    await tick();
    expect(runs().at(-1)?.result).toMatchObject({ ok: true });
    expect(world.ssm.history(API_KEY).map((v) => [v.version, [...(v.labels ?? [])].sort()])).toEqual([
      [1, ['previous']],
      [2, ['current']],
    ]);
    const fresh = await read(API_KEY);
    expect(fresh).toMatch(/^[A-Za-z0-9._-]{40}$/);
    expect(await read(`${API_KEY}:previous`)).toBe('the-first-api-key');
    await expect(read(`${API_KEY}.pending`)).rejects.toMatchObject({ name: 'ParameterNotFound' });
    const succeeded = world.routed.filter(
      (e) => e.source === 'nightshift' && e['detail-type'] === 'Rotation Succeeded',
    );
    expect(succeeded).toHaveLength(1);
    await tick();
    expect(world.ssm.history(API_KEY)).toHaveLength(2);
    // The new value is nowhere but in SSM: not in events, invocation results or logs.
    expect(JSON.stringify({ routed: world.routed, deliveries: world.deliveries })).not.toContain(
      String(fresh),
    );
  }, 120_000);

  it('its role may not put or label any other parameter', async () => {
    const fn = world.app.functions.find((f) => f.logicalId.includes('RotationHandler'));
    if (!fn) throw new Error('no rotation function');
    const asRotation = new SSMClient({ ...world.functionConfig(fn.logicalId), maxAttempts: 1 });
    await expect(
      asRotation.send(
        new PutParameterCommand({
          Name: '/webhooks/db-password',
          Value: 'x',
          Type: 'SecureString',
          Overwrite: true,
        }),
      ),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});

import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RDS_CA_BUNDLE_ENV } from '../../../local/postgres/tls.ts';
import { LocalWorld } from '../../../local/world/world.ts';
import { START, synthesizeAssembly } from './world-fixture.ts';

let assembly: ReturnType<typeof synthesizeAssembly>;
beforeAll(() => {
  assembly = synthesizeAssembly();
});
afterAll(() => assembly.remove());

const start = (postgres?: boolean) =>
  LocalWorld.start({
    cloudAssemblyDir: assembly.dir,
    account: '123456789012',
    region: 'eu-west-1',
    stackName: assembly.stackName,
    start: START,
    postgres,
  });

/** The environment a function's execution environments get (kept private by the runtime). */
const environmentOf = (world: LocalWorld) =>
  [...world.lambdas.values()].map((l) => (l as unknown as { env: Record<string, string> }).env);

describe('LocalWorld', () => {
  describe('runs RDS on real PostgreSQL when asked to', () => {
    it('backs instances with servers, gives the functions the CA bundle, and stops every server on close', async () => {
      const world = await start(true);
      let closed = false;
      try {
        const bundle = world.rds.postgres?.caBundlePath ?? '';
        expect(readFileSync(bundle, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
        for (const env of environmentOf(world)) expect(env[RDS_CA_BUNDLE_ENV]).toBe(bundle);
        world.rds.addInstance({
          identifier: 'webhooks-db',
          masterUserPassword: 'webhooks-Pass-1',
          dbName: 'app',
        });
        await world.rds.ready();
        const server = await world.rds.serverOf('webhooks-db');
        const client = new pg.Client({
          host: world.rds.instances.get('webhooks-db')?.address,
          port: world.rds.instances.get('webhooks-db')?.port,
          user: 'postgres',
          password: 'webhooks-Pass-1',
          database: 'app',
          ssl: { ca: readFileSync(bundle, 'utf8'), rejectUnauthorized: true },
        });
        await client.connect();
        await client.end();
        await world.close();
        closed = true;
        expect(server?.state).toBe('stopped');
        expect(existsSync(bundle)).toBe(false);
      } finally {
        if (!closed) await world.close();
      }
    });

    it('stays metadata only by default', async () => {
      const world = await start();
      try {
        expect(world.rds.postgres).toBeUndefined();
        for (const env of environmentOf(world)) expect(env[RDS_CA_BUNDLE_ENV]).toBeUndefined();
        const instance = world.rds.addInstance({ identifier: 'webhooks-db' });
        expect(instance.address).toBe('webhooks-db.c0local0000.eu-west-1.rds.amazonaws.com');
        expect(await world.rds.serverOf('webhooks-db')).toBeUndefined();
      } finally {
        await world.close();
      }
    });
  });
});

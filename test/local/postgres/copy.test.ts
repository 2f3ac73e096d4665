import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyServer, PostgresCopyError, restoreServer } from '../../../local/postgres/copy.ts';
import { PostgresFleet } from '../../../local/postgres/fleet.ts';
import type { PostgresServer } from '../../../local/postgres/server.ts';

const MASTER = 'app';
const PASSWORD = 'source-Pass-1';

let fleet: PostgresFleet;
let source: PostgresServer;

async function connect(server: PostgresServer, database: string, user = MASTER, password = PASSWORD) {
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user,
    password,
    database,
    ssl: server.ssl,
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

async function rows(server: PostgresServer, database: string, sql: string): Promise<unknown[]> {
  const client = await connect(server, database);
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Every table's rows (in key order) and every sequence's value, to compare two servers. */
const CONTENTS = `
  SELECT 'customers' AS t, json_agg(c ORDER BY id)::text AS rows FROM public.customers c
  UNION ALL SELECT 'invoices', json_agg(i ORDER BY id)::text FROM billing.invoices i
  UNION ALL SELECT 'standalone', last_value::text FROM public.standalone
  ORDER BY 1`;

beforeAll(async () => {
  fleet = await PostgresFleet.start();
  source = await fleet.create('source', {
    master: { username: MASTER, password: PASSWORD },
    database: 'orders',
  });
  const orders = await connect(source, 'orders');
  await orders.query(`
    CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');
    CREATE SCHEMA billing;
    CREATE TABLE public.customers (
      id serial PRIMARY KEY, name text NOT NULL UNIQUE, mood public.mood DEFAULT 'ok',
      created_at timestamptz NOT NULL DEFAULT now(), data jsonb, price numeric(10, 2), tags text[], vip boolean);
    CREATE TABLE billing.invoices (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      customer_id int NOT NULL REFERENCES public.customers (id),
      amount numeric(12, 2) CHECK (amount >= 0), doubled numeric GENERATED ALWAYS AS (amount * 2) STORED,
      note varchar(40), written_by xid8 NOT NULL DEFAULT pg_current_xact_id());
    CREATE INDEX invoices_by_customer ON billing.invoices (customer_id);
    CREATE VIEW billing.large_invoices AS SELECT id, amount FROM billing.invoices WHERE amount > 500;
    CREATE SEQUENCE public.standalone START 100;
    SELECT nextval('public.standalone');
    CREATE ROLE reader LOGIN PASSWORD 'reader-Pass-1';
    GRANT reader TO ${MASTER};
    INSERT INTO public.customers (name, mood, data, price, tags, vip)
      SELECT 'customer ' || g, 'happy', jsonb_build_object('g', g, 'tab', E'a\\tb'), g * 1.5,
             ARRAY['x', E'new\\nline', NULL], g % 2 = 0
        FROM generate_series(1, 300) g;
    INSERT INTO billing.invoices (customer_id, amount, note)
      SELECT g, g * 3, E'back\\\\slash ' || g FROM generate_series(1, 300) g;
  `);
  await orders.end();
  const admin = await source.connect();
  await admin.query(`CREATE DATABASE audit OWNER ${MASTER}`);
  await admin.end();
  const audit = await connect(source, 'audit');
  await audit.query(`CREATE TABLE public.events (id int PRIMARY KEY, what text);
    INSERT INTO public.events SELECT g, 'event ' || g FROM generate_series(1, 50) g;`);
  await audit.end();
});
afterAll(async () => {
  await fleet?.close();
});

describe('copyServer', () => {
  describe('is consistent while the source keeps serving', () => {
    it('holds exactly what was committed when its snapshot was taken, while another connection keeps inserting', async () => {
      const writer = await connect(source, 'orders');
      let writing = true;
      let commits = 0;
      // Each transaction writes a customer and its invoice: a consistent copy has both or neither.
      const inserting = (async () => {
        while (writing) {
          await writer.query(`WITH c AS (INSERT INTO public.customers (name) VALUES ('w' || gen_random_uuid()) RETURNING id)
            INSERT INTO billing.invoices (customer_id, amount) SELECT id, 1 FROM c`);
          commits++;
        }
      })();
      let atSnapshot = -1;
      const copy = await copyServer(source, {
        onSnapshot: async () => {
          // Commits that surely come after the snapshot: none of them may be in the copy.
          const target = commits + 5;
          while (commits < target) await new Promise((r) => setTimeout(r, 1));
          atSnapshot = commits;
        },
      });
      writing = false;
      await inserting;
      await writer.end();

      const orders = copy.databases.find((d) => d.name === 'orders');
      const customers = orders?.tables.find((t) => t.name === 'customers');
      const invoices = orders?.tables.find((t) => t.name === 'invoices');
      expect(orders?.snapshot).toMatch(/^\d+:\d+:/);
      const [visible] = (await rows(
        source,
        'orders',
        `SELECT count(*)::int AS n, (SELECT count(*)::int FROM billing.invoices) AS total
           FROM billing.invoices WHERE pg_visible_in_snapshot(written_by, '${orders?.snapshot}'::pg_snapshot)`,
      )) as { n: number; total: number }[];
      expect(invoices?.rows).toBe(visible?.n);
      expect(customers?.rows).toBe(invoices?.rows);
      expect(visible?.total).toBeGreaterThanOrEqual((invoices?.rows ?? 0) + 5);
      expect(atSnapshot).toBeGreaterThan(0);
    });

    it('copies every user database, each with its own snapshot', async () => {
      const copy = await copyServer(source);
      expect(copy.databases.map((d) => d.name).sort()).toEqual(['audit', 'orders', 'postgres']);
      expect(copy.databases.find((d) => d.name === 'audit')?.tables).toMatchObject([
        { schema: 'public', name: 'events', owner: MASTER, rows: 50 },
      ]);
      expect(copy.roles.map((r) => r.name).sort()).toEqual([MASTER, 'reader']);
      expect(copy.roles.every((r) => r.passwordVerifier?.startsWith('SCRAM-SHA-256$'))).toBe(true);
      expect(copy.bytes).toBeGreaterThan(0);
    });

    it('throws PostgresCopyError naming the cause when a table cannot be read', async () => {
      const client = await connect(source, 'orders');
      await client.query('CREATE TABLE public.locked (id int)');
      await client.query('BEGIN');
      await client.query('LOCK TABLE public.locked IN ACCESS EXCLUSIVE MODE');
      const admin = await source.connect();
      await admin.query(`ALTER ROLE rdsadmin SET lock_timeout = '100ms'`);
      await admin.end();
      try {
        await expect(copyServer(source)).rejects.toThrow(PostgresCopyError);
        await expect(copyServer(source)).rejects.toThrow(/could not copy the server: .*lock timeout/);
      } finally {
        await client.query('ROLLBACK');
        await client.query('DROP TABLE public.locked');
        await client.end();
        const reset = await source.connect();
        await reset.query('ALTER ROLE rdsadmin RESET lock_timeout');
        await reset.end();
      }
    });
  });
});

describe('restoreServer', () => {
  describe('loads a copy into a new server', () => {
    let target: PostgresServer;
    beforeAll(async () => {
      const copy = await copyServer(source);
      target = await fleet.create('target');
      await restoreServer(target, copy);
    });

    it('serves the same rows on its own port, with the passwords of the snapshot time', async () => {
      expect(target.port).not.toBe(source.port);
      expect(await rows(target, 'orders', CONTENTS)).toEqual(await rows(source, 'orders', CONTENTS));
      expect(await rows(target, 'audit', 'SELECT count(*)::int AS n FROM public.events')).toEqual([
        { n: 50 },
      ]);
      const reader = await connect(target, 'orders', 'reader', 'reader-Pass-1');
      expect((await reader.query(`SELECT pg_has_role('${MASTER}', 'reader', 'member') AS m`)).rows).toEqual([
        { m: true },
      ]);
      await reader.end();
    });

    it('keeps types, defaults, generated and identity columns, sequences, constraints, indexes and views', async () => {
      const client = await connect(target, 'orders');
      try {
        const [max] = (await client.query('SELECT max(id)::int AS id FROM public.customers')).rows;
        const { rows: inserted } = await client.query(
          `INSERT INTO public.customers (name) VALUES ('restored') RETURNING id, mood, created_at IS NOT NULL AS dated`,
        );
        expect(inserted).toEqual([{ id: max.id + 1, mood: 'ok', dated: true }]);
        const { rows: invoice } = await client.query(
          `INSERT INTO billing.invoices (customer_id, amount) VALUES (1, 7) RETURNING id::int, doubled::int`,
        );
        const [last] = (
          await client.query('SELECT max(id)::int AS id FROM billing.invoices WHERE amount <> 7')
        ).rows;
        expect(invoice[0].doubled).toBe(14);
        expect(invoice[0].id).toBeGreaterThan(last.id);
        expect((await client.query(`SELECT nextval('public.standalone')::int AS n`)).rows).toEqual([
          { n: 101 },
        ]);
        await expect(
          client.query(`INSERT INTO public.customers (name) VALUES ('customer 1')`),
        ).rejects.toThrow(/duplicate key value violates unique constraint "customers_name_key"/);
        await expect(
          client.query('INSERT INTO billing.invoices (customer_id, amount) VALUES (999999, 1)'),
        ).rejects.toThrow(/violates foreign key constraint/);
        await expect(
          client.query('INSERT INTO billing.invoices (customer_id, amount) VALUES (1, -1)'),
        ).rejects.toThrow(/violates check constraint/);
        const { rows: indexes } = await client.query(
          `SELECT indexname FROM pg_indexes WHERE schemaname = 'billing' ORDER BY 1`,
        );
        expect(indexes.map((i) => i.indexname)).toEqual(['invoices_by_customer', 'invoices_pkey']);
        const { rows: large } = await client.query('SELECT count(*)::int AS n FROM billing.large_invoices');
        expect(large).toEqual([{ n: 300 - 166 }]);
        const { rows: owners } = await client.query(
          `SELECT tableowner FROM pg_tables WHERE tablename IN ('customers', 'invoices') GROUP BY 1`,
        );
        expect(owners).toEqual([{ tableowner: MASTER }]);
      } finally {
        await client.end();
      }
    });
  });
});

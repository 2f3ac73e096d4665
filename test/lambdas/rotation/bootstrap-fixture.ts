/**
 * The bootstrap tests' world: one embedded PostgreSQL server (`log_statement = 'all'`) with an RDS-like
 * administrator (CREATEROLE, CREATEDB, no superuser) beside its master user, and a realistic single-user app
 * made fresh for each case (its own schema, tables with serial and identity columns, a sequence, a function, a
 * view, a direct grant on another role's table, a membership, default privileges, a search_path); helpers to
 * log in, run the bootstrap and read the locks a session holds. Importing it starts the server for the file.
 */
import { LabelParameterVersionCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import {
  type BootstrapDeps,
  type BootstrapOutcome,
  runBootstrap,
} from '../../../lambdas/rotation/bootstrap.ts';
import type { PgCredential } from '../../../lambdas/rotation/postgres.ts';
import { alterRolePasswordSql } from '../../../lambdas/rotation/postgres-sql.ts';
import type { SecretConfig } from '../../../lambdas/rotation/rotate.ts';
import { PostgresFleet } from '../../../local/postgres/fleet.ts';
import type { PostgresServer } from '../../../local/postgres/server.ts';
import { pgClient } from '../../support/pg-session.ts';
import { deps, operatorSsm } from './rotation-fixture.ts';

export const MASTER = { username: 'master_user', password: 'master-Pass-b1' };
export const ADMIN = { username: 'shop_admin', password: 'admin-Pass-b2' };
export const KILL_SWITCH = '/nightshift/kill-switch-bootstrap';
/** Every line the server logged (it logs every statement). */
export const logged: string[] = [];
let fleet: PostgresFleet;
let server: PostgresServer;
let ca: string;
/** The fleet's CA certificate (PEM), once it runs. */
export const caPem = () => ca;
/** How many apps were made: the last one's number (its database, roles and parameters end in it). */
export const apps = { n: 0 };

beforeAll(async () => {
  fleet = await PostgresFleet.start({ onLog: (_, line) => logged.push(line) });
  server = await fleet.create('bootstrap-db', {
    master: MASTER,
    database: 'postgres_main',
    logStatements: true,
  });
  ca = fleet.caPem;
  // As on RDS: the master user creates roles and databases but is no superuser.
  await as(credential(MASTER, 'postgres_main'), `CREATE ROLE ${ADMIN.username} LOGIN CREATEROLE CREATEDB`);
  await as(credential(MASTER, 'postgres_main'), await alterRolePasswordSql(ADMIN.username, ADMIN.password));
}, 120_000);
afterAll(async () => {
  await fleet?.close();
});

export const credential = (u: { username: string; password: string }, dbname: string): PgCredential => ({
  ...u,
  host: '127.0.0.1',
  port: server.port,
  dbname,
});
export const connect = (c: PgCredential) => pgClient(c, ca);
/** Runs `sql` logged in with `c`; its rows. */
export async function as(c: PgCredential, sql: string) {
  const client = await connect(c);
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}
export const put = (name: string, value: string, type: 'SecureString' | 'String' = 'SecureString') =>
  operatorSsm().send(new PutParameterCommand({ Name: name, Value: value, Type: type, Overwrite: true }));

/** Every role, membership, owner, ACL, default privilege and role setting the app's database has. */
const CATALOG = `SELECT json_build_object(
  'roles', (SELECT json_agg(json_build_object('n', r.rolname, 'login', r.rolcanlogin,
      'cfg', (SELECT json_agg(s.setconfig ORDER BY s.setdatabase) FROM pg_db_role_setting s WHERE s.setrole = r.oid))
    ORDER BY r.rolname) FROM pg_roles r WHERE r.rolname NOT LIKE 'pg\\_%'),
  'members', (SELECT json_agg(json_build_object('r', roleid::regrole, 'm', member::regrole, 'g', grantor::regrole,
      'a', admin_option, 'i', inherit_option, 's', set_option) ORDER BY roleid, member, grantor) FROM pg_auth_members),
  'classes', (SELECT json_agg(json_build_object('c', oid::regclass, 'o', relowner::regrole, 'acl', relacl) ORDER BY oid)
    FROM pg_class WHERE relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)),
  'columns', (SELECT json_agg(json_build_object('c', attrelid::regclass, 'a', attname, 'acl', attacl) ORDER BY 1)
    FROM pg_attribute WHERE attacl IS NOT NULL),
  'procs', (SELECT json_agg(json_build_object('p', oid::regprocedure, 'o', proowner::regrole, 'acl', proacl) ORDER BY oid)
    FROM pg_proc WHERE pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)),
  'types', (SELECT json_agg(json_build_object('t', oid::regtype, 'o', typowner::regrole, 'acl', typacl) ORDER BY oid)
    FROM pg_type WHERE typnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)),
  'schemas', (SELECT json_agg(json_build_object('n', nspname, 'o', nspowner::regrole, 'acl', nspacl) ORDER BY oid)
    FROM pg_namespace),
  'database', (SELECT json_build_object('o', datdba::regrole, 'acl', datacl) FROM pg_database
    WHERE datname = current_database()),
  'defaults', (SELECT json_agg(json_build_object('r', defaclrole::regrole, 'n', defaclnamespace, 't', defaclobjtype,
      'acl', defaclacl) ORDER BY oid) FROM pg_default_acl)
)::text AS catalog`;

export interface App {
  readonly secret: SecretConfig;
  readonly database: string;
  readonly blue: PgCredential;
  readonly green: string;
  readonly owner: string;
  readonly reporting: string;
  readonly auditWriter: string;
  readonly admin: PgCredential;
  readonly master: PgCredential;
  readonly catalog: () => Promise<string>;
}

/**
 * A single-user app as it is before the bootstrap: the administrator made its database and roles; the app
 * user made its schema and objects; it reads another role's table by a grant of its own, writes the audit
 * log through a membership, and has default privileges and a search_path. The parameter's `previous`
 * version holds the same user's earlier password (no credential of the other user anywhere).
 */
export async function singleUserApp(
  o: { admin: 'rds-like' | 'superuser' } = { admin: 'rds-like' },
): Promise<App> {
  apps.n += 1;
  const n = apps.n;
  const database = `shop_${n}`;
  const [blueName, green, owner, reporting, auditWriter] = [
    'blue',
    'green',
    'owner',
    'reporting',
    'audit',
  ].map((r) => `shop_${r}_${n}`) as [string, string, string, string, string];
  const root = credential(ADMIN, 'postgres_main');
  await as(root, `CREATE DATABASE ${database}`);
  const admin = credential(ADMIN, database);
  const master = credential(MASTER, database);
  const blue = credential({ username: blueName, password: `blue-Pass-${n}-x` }, database);
  for (const sql of [
    `CREATE ROLE ${reporting} NOLOGIN`,
    `CREATE ROLE ${auditWriter} NOLOGIN`,
    `CREATE ROLE ${blueName} LOGIN`,
    await alterRolePasswordSql(blueName, blue.password),
    `GRANT CREATE ON DATABASE ${database} TO ${blueName}`,
    `GRANT USAGE, CREATE ON SCHEMA public TO ${blueName}`,
    'CREATE TABLE public.audit_log (at timestamptz DEFAULT now(), what text)',
    `GRANT INSERT, SELECT ON public.audit_log TO ${auditWriter}`,
    `GRANT ${auditWriter} TO ${blueName}`,
    `ALTER ROLE ${blueName} SET search_path = shop, public`,
  ]) {
    await as(admin, sql);
  }
  // Another team's table, granted to the app user by its owner.
  await as(master, `CREATE TABLE public.countries (code text PRIMARY KEY, name text)`);
  await as(master, `INSERT INTO public.countries VALUES ('NL', 'Netherlands')`);
  await as(master, `ALTER TABLE public.countries OWNER TO ${reporting}`);
  await as(master, `SET ROLE ${reporting}; GRANT SELECT ON public.countries TO ${blueName}`);
  await as(
    blue,
    `CREATE SCHEMA shop;
     CREATE TABLE shop.orders (id serial PRIMARY KEY, country text, note text);
     CREATE TABLE shop.items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id int REFERENCES shop.orders, sku text);
     CREATE SEQUENCE shop.invoice_no;
     CREATE FUNCTION shop.next_invoice() RETURNS bigint LANGUAGE sql AS 'SELECT nextval(''shop.invoice_no'')';
     CREATE VIEW public.order_summary AS SELECT o.id, count(i.id) AS items FROM shop.orders o
       LEFT JOIN shop.items i ON i.order_id = o.id GROUP BY o.id;
     GRANT SELECT ON shop.orders TO ${reporting};
     ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO ${reporting};
     ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
     INSERT INTO orders (country) VALUES ('NL');
     INSERT INTO audit_log (what) VALUES ('order 1');`,
  );
  const parameter = `/shop/db-${n}`;
  const adminParameter = `/shop/db-admin-${n}`;
  await put(parameter, JSON.stringify({ ...blue, password: `blue-Earlier-${n}` }));
  await put(parameter, JSON.stringify(blue));
  for (const [version, label] of [
    [1, 'previous'],
    [2, 'current'],
  ] as const) {
    await operatorSsm().send(
      new LabelParameterVersionCommand({ Name: parameter, ParameterVersion: version, Labels: [label] }),
    );
  }
  // A host in the administrator's value is never followed: the current credential's server is.
  const adminValue = o.admin === 'rds-like' ? ADMIN : MASTER;
  await put(adminParameter, JSON.stringify({ ...adminValue, host: '127.0.0.2', port: 1 }));
  return {
    secret: {
      parameter,
      policy: { kind: 'postgres-alternating', cadenceDays: 90, graceDays: 7 },
      alternating: { users: [blueName, green], ownerRole: owner, adminParameter },
    },
    database,
    blue,
    green,
    owner,
    reporting,
    auditWriter,
    admin: credential(adminValue, database),
    master,
    catalog: async () => String((await as(master, CATALOG))[0]?.catalog),
  };
}

export const bootstrapDeps = (o: Partial<BootstrapDeps> = {}): BootstrapDeps => {
  const d = deps();
  return {
    ssm: d.ssm,
    locks: d.locks,
    events: d.events,
    audit: d.audit,
    clock: d.clock,
    killSwitchParameter: KILL_SWITCH,
    dryRun: false,
    caBundle: ca,
    ...o,
  };
};
export const bootstrap = (app: App, apply?: boolean, o: Partial<BootstrapDeps> = {}) =>
  runBootstrap(
    { bootstrap: { parameter: app.secret.parameter, ...(apply === undefined ? {} : { apply }) } },
    [app.secret],
    bootstrapDeps(o),
  );
export const changesOf = (out: BootstrapOutcome) =>
  out.outcome === 'applied' ? out.applied : out.plan.changes;
export const sqlOf = (out: BootstrapOutcome) => changesOf(out).map((c) => c.sql);

const MODES: Record<string, string> = {
  AccessShareLock: 'ACCESS SHARE',
  ShareUpdateExclusiveLock: 'SHARE UPDATE EXCLUSIVE',
  AccessExclusiveLock: 'ACCESS EXCLUSIVE',
};
/**
 * The locks this session holds on the database's objects, named as the plan names them. Left out: catalog
 * tables' locks (row changes there conflict with nothing an app does) and the ACCESS SHARE every statement
 * naming a role takes on it (it only keeps the role from being dropped meanwhile).
 */
export async function held(client: pg.Client): Promise<Set<string>> {
  const rows = (
    await client.query(`SELECT o.type || ' ' || o.identity AS object, l.mode FROM pg_locks l
      CROSS JOIN LATERAL pg_identify_object(CASE WHEN l.locktype = 'relation' THEN 'pg_class'::regclass ELSE l.classid END,
        CASE WHEN l.locktype = 'relation' THEN l.relation ELSE l.objid END, 0) o
      WHERE l.pid = pg_backend_pid() AND l.locktype IN ('relation', 'object')
        AND NOT (l.locktype = 'relation' AND l.relation IN (SELECT oid FROM pg_class WHERE relnamespace = 'pg_catalog'::regnamespace))
        AND NOT (l.locktype = 'object' AND l.classid = 'pg_authid'::regclass AND l.mode = 'AccessShareLock')`)
  ).rows as { object: string | null; mode: string }[];
  return new Set(rows.map((r) => `${r.object ?? 'default acl (removed)'} | ${MODES[r.mode] ?? r.mode}`));
}
/** A removed entry has no identity left in its transaction: the plan's name for it, compared by its kind. */
export const named = (l: { object: string; mode: string }) =>
  `${/^default acl .*\(removed\)$/.test(l.object) ? 'default acl (removed)' : l.object} | ${l.mode}`;

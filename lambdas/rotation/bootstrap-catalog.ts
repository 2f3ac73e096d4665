/**
 * The bootstrap's catalog reads (see `bootstrap.ts`): what the plan is made from. Every query runs in the
 * administrator's session, in the current database, and returns plain rows: the login users' roles,
 * memberships, the objects they own here (with what an `ALTER … OWNER` of each locks besides it), the
 * privileges granted to them directly, their default privileges, their role settings, and what else still
 * names them (`pg_shdepend`). Role names reach the server as bind parameters, never in the text. Object
 * names are the server's own `pg_identify_object` identities (quoted and schema-qualified by it), so they go
 * into statements as they are (once `bootstrap-sql.ts` has checked they are); role names are quoted with
 * `quoteIdent`. The statements that move each kind of row to the owner role are in `bootstrap-sql.ts`.
 *
 * @module
 */
/** Runs ONE statement, `values` bound to `$1`, …; its rows. */
export type Query = (sql: string, values?: readonly unknown[]) => Promise<unknown[]>;

/** The server, the current database (its identity and owner) and the administrator. */
export interface ServerFacts {
  readonly version: number;
  readonly database: string;
  readonly databaseOwner: string;
  readonly inRecovery: boolean;
  readonly admin: string;
  readonly adminSuperuser: boolean;
}
/** `attributes`: CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS, which a session acting as another role lacks. */
export interface RoleRow {
  readonly name: string;
  readonly login: boolean;
  readonly superuser: boolean;
  readonly inherit: boolean;
  readonly attributes: readonly string[];
}
/** One row of `pg_auth_members` (before 16: `inherit` is the member's attribute, `set` always true). */
export interface MembershipRow {
  readonly role: string;
  readonly member: string;
  readonly grantor: string;
  readonly admin: boolean;
  readonly inherit: boolean;
  readonly set: boolean;
}
/**
 * An object a login user owns, here or shared (a database): `pg_identify_object`'s `type` and `identity`;
 * `parent`, what it moves with (an owned sequence's table, an array type's element); `alsoLocks`, the
 * relations an `ALTER … OWNER` of it locks besides itself (indexes, TOAST, owned sequences, a row type).
 */
export interface OwnedRow {
  readonly catalog: string;
  readonly owner: string;
  readonly type: string;
  readonly identity: string;
  readonly relkind: string | null;
  readonly prokind: string | null;
  readonly typtype: string | null;
  readonly parent: string | null;
  readonly alsoLocks: readonly string[];
}
/**
 * A privilege on an object neither the login users nor the owner role own: `keyword` for GRANT (TABLE,
 * SEQUENCE, SCHEMA, FUNCTION, PROCEDURE, DATABASE), a column privilege's `column`, the `lockObject` a GRANT on
 * it locks; `grantee` null is PUBLIC.
 */
export interface GrantRow {
  readonly on: 'relation' | 'column' | 'schema' | 'function' | 'database';
  readonly keyword: string;
  readonly target: string;
  readonly column: string | null;
  readonly lockObject: string;
  readonly owner: string;
  readonly grantor: string;
  readonly grantee: string | null;
  readonly privilege: string;
  readonly grantable: boolean;
}
/**
 * A default privilege differing from the built-in default: `+` granted beyond it, `-` revoked from it (only
 * a database-wide entry, `schema` null, can revoke).
 */
export interface DefaultRow {
  readonly role: string;
  readonly schema: string | null;
  readonly objtype: string;
  readonly grantee: string | null;
  readonly privilege: string;
  readonly grantable: boolean;
  readonly sign: '+' | '-';
}
/** `ALTER ROLE … [IN DATABASE …] SET name = value` of a login user (`database` null: every database). */
export interface SettingRow {
  readonly role: string;
  readonly database: string | null;
  readonly name: string;
  readonly value: string;
}
/** What else names a login user: `kind` o owner, a privilege, r policy; `where` here, shared or a database. */
export interface ResidualRow {
  readonly role: string;
  readonly kind: string;
  readonly description: string | null;
  readonly where: string;
}
/** Whether the administrator has a role's privileges (`usage`) and may SET ROLE to it. */
export interface AdminAccessRow {
  readonly role: string;
  readonly usage: boolean;
  readonly set: boolean;
}

/** Everything the plan needs. */
export interface Catalog {
  readonly server: ServerFacts;
  readonly roles: readonly RoleRow[];
  readonly memberships: readonly MembershipRow[];
  readonly owned: readonly OwnedRow[];
  readonly grants: readonly GrantRow[];
  readonly defaults: readonly DefaultRow[];
  readonly settings: readonly SettingRow[];
  readonly residual: readonly ResidualRow[];
  readonly adminAccess: readonly AdminAccessRow[];
}

/** The roles named by the bind parameter `$n` (a `text[]`). */
const roleOids = (n: number) => `(SELECT oid FROM pg_roles WHERE rolname = ANY($${n}::text[]))`;
const HERE = '(SELECT oid FROM pg_database WHERE datname = current_database())';
const grantee = (column: string) =>
  `CASE WHEN ${column} = 0 THEN NULL ELSE pg_get_userbyid(${column}) END AS grantee`;

/** Reads the catalog for `users` and `owner`, as the current user (the administrator). */
export async function observeCatalog(
  query: Query,
  users: readonly string[],
  owner: string,
): Promise<Catalog> {
  const [server] = (await query(`
    SELECT current_setting('server_version_num')::int AS version,
      (pg_identify_object('pg_database'::regclass, d.oid, 0)).identity AS database,
      pg_get_userbyid(d.datdba) AS "databaseOwner",
      pg_is_in_recovery() AS "inRecovery",
      current_user AS admin, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS "adminSuperuser"
    FROM pg_database d WHERE d.datname = current_database()`)) as ServerFacts[];
  if (!server) throw new Error('the current database is not in pg_database');
  const v16 = server.version >= 160000;
  const ours = [...users, owner];
  const roles = (await query(
    `
    SELECT rolname AS name, rolcanlogin AS login, rolsuper AS superuser, rolinherit AS inherit,
      array_remove(ARRAY[CASE WHEN rolcreatedb THEN 'CREATEDB' END, CASE WHEN rolcreaterole THEN 'CREATEROLE' END,
        CASE WHEN rolreplication THEN 'REPLICATION' END, CASE WHEN rolbypassrls THEN 'BYPASSRLS' END], NULL) AS attributes
    FROM pg_roles WHERE rolname = ANY($1::text[])`,
    [[...ours, server.admin]],
  )) as RoleRow[];
  const memberships = (await query(
    `
    SELECT pg_get_userbyid(m.roleid) AS role, pg_get_userbyid(m.member) AS member,
      pg_get_userbyid(m.grantor) AS grantor, m.admin_option AS admin,
      ${v16 ? 'm.inherit_option' : 'r.rolinherit'} AS inherit, ${v16 ? 'm.set_option' : 'true'} AS set
    FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
    WHERE m.member IN ${roleOids(1)} OR m.grantor IN ${roleOids(2)}`,
    [[...ours, server.admin], users],
  )) as MembershipRow[];
  const owned = (await query(
    `
    SELECT d.classid::regclass::text AS catalog, pg_get_userbyid(d.refobjid) AS owner, o.type, o.identity,
      c.relkind::text AS relkind, p.prokind::text AS prokind, t.typtype::text AS typtype,
      (SELECT po.type || ' ' || po.identity FROM pg_depend dep
         CROSS JOIN LATERAL pg_identify_object(dep.refclassid, dep.refobjid, 0) po
       WHERE dep.classid = d.classid AND dep.objid = d.objid AND dep.deptype IN ('a', 'i') LIMIT 1) AS parent,
      COALESCE((SELECT array_agg(lo.type || ' ' || lo.identity ORDER BY lo.identity) FROM (
          SELECT i.indexrelid AS oid FROM pg_index i WHERE i.indrelid = c.oid
          UNION SELECT c.reltoastrelid WHERE c.reltoastrelid <> 0
          UNION SELECT i.indexrelid FROM pg_index i WHERE c.reltoastrelid <> 0 AND i.indrelid = c.reltoastrelid
          UNION SELECT dep.objid FROM pg_depend dep JOIN pg_class s ON s.oid = dep.objid
            WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass
              AND dep.refobjid = c.oid AND dep.deptype IN ('a', 'i') AND s.relkind = 'S'
          UNION SELECT t.typrelid WHERE t.typtype = 'c'
        ) l CROSS JOIN LATERAL pg_identify_object('pg_class'::regclass, l.oid, 0) lo), '{}') AS "alsoLocks"
    FROM pg_shdepend d
    CROSS JOIN LATERAL pg_identify_object(d.classid, d.objid, 0) o
    LEFT JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
    LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
    LEFT JOIN pg_type t ON d.classid = 'pg_type'::regclass AND t.oid = d.objid
    WHERE d.deptype = 'o' AND d.refclassid = 'pg_authid'::regclass AND d.refobjid IN ${roleOids(1)}
      AND d.dbid IN (0, ${HERE}) AND d.objsubid = 0
    ORDER BY o.identity`,
    [users],
  )) as OwnedRow[];
  // $1: the users and the owner role; $2: the users.
  const grantFilter = (ownerColumn: string) =>
    `${ownerColumn} NOT IN ${roleOids(1)} AND (a.grantee IN ${roleOids(1)} OR a.grantor IN ${roleOids(2)})`;
  const grantColumns = `pg_get_userbyid(a.grantor) AS grantor, ${grantee('a.grantee')},
      a.privilege_type AS privilege, a.is_grantable AS grantable`;
  const grants = (await query(
    `
    SELECT 'relation' AS on, CASE WHEN c.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS keyword,
      o.identity AS target, NULL AS column, o.type || ' ' || o.identity AS "lockObject",
      pg_get_userbyid(c.relowner) AS owner, ${grantColumns}
    FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
      CROSS JOIN LATERAL pg_identify_object('pg_class'::regclass, c.oid, 0) o
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${grantFilter('c.relowner')}
    UNION ALL
    SELECT 'column', 'TABLE', o.identity, quote_ident(att.attname), o.type || ' ' || o.identity,
      pg_get_userbyid(c.relowner), ${grantColumns}
    FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid CROSS JOIN LATERAL aclexplode(att.attacl) a
      CROSS JOIN LATERAL pg_identify_object('pg_class'::regclass, c.oid, 0) o
    WHERE att.attnum > 0 AND NOT att.attisdropped AND ${grantFilter('c.relowner')}
    UNION ALL
    SELECT 'schema', 'SCHEMA', o.identity, NULL, 'schema ' || o.identity, pg_get_userbyid(n.nspowner), ${grantColumns}
    FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a
      CROSS JOIN LATERAL pg_identify_object('pg_namespace'::regclass, n.oid, 0) o
    WHERE ${grantFilter('n.nspowner')}
    UNION ALL
    SELECT 'function', CASE WHEN p.prokind = 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, o.identity, NULL,
      o.type || ' ' || o.identity, pg_get_userbyid(p.proowner), ${grantColumns}
    FROM pg_proc p CROSS JOIN LATERAL aclexplode(p.proacl) a
      CROSS JOIN LATERAL pg_identify_object('pg_proc'::regclass, p.oid, 0) o
    WHERE ${grantFilter('p.proowner')}
    UNION ALL
    SELECT 'database', 'DATABASE', o.identity, NULL, 'database ' || o.identity, pg_get_userbyid(d.datdba),
      ${grantColumns}
    FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a
      CROSS JOIN LATERAL pg_identify_object('pg_database'::regclass, d.oid, 0) o
    WHERE d.datname = current_database() AND ${grantFilter('d.datdba')}
    ORDER BY 1, 3, 4`,
    [ours, users],
  )) as GrantRow[];
  // A database-wide entry replaces the built-in default (acldefault), so it is compared with it; a
  // schema's entry only adds to it.
  const builtIn = `aclexplode(CASE WHEN d.defaclnamespace = 0 THEN
      acldefault(CASE WHEN d.defaclobjtype = 'S' THEN 's' ELSE d.defaclobjtype END, d.defaclrole) END)`;
  const defaults = (await query(
    `
    SELECT pg_get_userbyid(d.defaclrole) AS role,
      CASE WHEN d.defaclnamespace = 0 THEN NULL ELSE quote_ident(n.nspname) END AS schema,
      d.defaclobjtype::text AS objtype, ${grantee('e.grantee')}, e.privilege, e.grantable, e.sign
    FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
    CROSS JOIN LATERAL (
      (SELECT '+' AS sign, x.grantee, x.privilege_type AS privilege, x.is_grantable AS grantable
         FROM aclexplode(d.defaclacl) x
       EXCEPT SELECT '+', y.grantee, y.privilege_type, y.is_grantable FROM ${builtIn} y)
      UNION ALL
      (SELECT '-', y.grantee, y.privilege_type, y.is_grantable FROM ${builtIn} y
       EXCEPT SELECT '-', x.grantee, x.privilege_type, x.is_grantable FROM aclexplode(d.defaclacl) x)
    ) e
    WHERE d.defaclrole IN ${roleOids(1)} OR e.grantee IN ${roleOids(2)}
    ORDER BY 1, 2, 3, 4, 5`,
    [ours, users],
  )) as DefaultRow[];
  const settings = (await query(
    `
    SELECT pg_get_userbyid(s.setrole) AS role,
      CASE WHEN s.setdatabase = 0 THEN NULL
        ELSE (SELECT quote_ident(datname) FROM pg_database WHERE oid = s.setdatabase) END AS database,
      split_part(cfg, '=', 1) AS name, substr(cfg, strpos(cfg, '=') + 1) AS value
    FROM pg_db_role_setting s CROSS JOIN LATERAL unnest(s.setconfig) cfg
    WHERE s.setrole IN ${roleOids(1)}
    ORDER BY 1, 2 NULLS FIRST, 3`,
    [users],
  )) as SettingRow[];
  const residual = (await query(
    `
    SELECT pg_get_userbyid(d.refobjid) AS role, d.deptype::text AS kind,
      CASE WHEN d.dbid IN (0, ${HERE}) THEN pg_describe_object(d.classid, d.objid, d.objsubid) END AS description,
      CASE WHEN d.dbid = 0 THEN 'shared' WHEN d.dbid = ${HERE} THEN 'here'
        ELSE (SELECT datname FROM pg_database WHERE oid = d.dbid) END AS "where"
    FROM pg_shdepend d
    WHERE d.refclassid = 'pg_authid'::regclass AND d.refobjid IN ${roleOids(1)}
      AND NOT (d.deptype = 'o' AND d.dbid IN (0, ${HERE}))
      AND NOT (d.deptype = 'a' AND d.dbid = ${HERE} AND d.classid IN
        ('pg_class'::regclass, 'pg_namespace'::regclass, 'pg_proc'::regclass, 'pg_default_acl'::regclass))
      AND NOT (d.deptype = 'a' AND d.classid = 'pg_database'::regclass AND d.objid = ${HERE})
    ORDER BY 4, 3`,
    [users],
  )) as ResidualRow[];
  const actors = new Set<string>([
    ...ours,
    server.databaseOwner,
    ...grants.map((g) => g.grantor),
    ...defaults.map((d) => d.role),
  ]);
  for (const m of memberships) actors.add(m.grantor);
  const adminAccess = (await query(
    `
    SELECT rolname AS role, pg_has_role(current_user, oid, 'USAGE') AS usage,
      pg_has_role(current_user, oid, ${v16 ? "'SET'" : "'MEMBER'"}) AS set
    FROM pg_roles WHERE rolname = ANY($1::text[])`,
    [[...actors]],
  )) as AdminAccessRow[];
  return { server, roles, memberships, owned, grants, defaults, settings, residual, adminAccess };
}

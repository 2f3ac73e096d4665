/**
 * The bootstrap's change statements (see `bootstrap.ts`): for each kind of row `bootstrap-catalog.ts` reads,
 * the statements that move it to the owner role, each with its reason and its locks. A change is ONE
 * statement (the session refuses more): catalog text reaches it only as the server quoted it (checked by
 * `serverQuoted`), through `quoteIdent`, or through `quoteLiteral`.
 *
 * Locks were read from `pg_locks` on PostgreSQL 18 (the bootstrap test checks each change against it): an
 * `ALTER … OWNER` of a relation takes ACCESS EXCLUSIVE on it, its indexes, TOAST table and owned sequences; of
 * a function, ACCESS EXCLUSIVE on the function object (calls do not lock it); of a schema, type or database,
 * none. GRANT and REVOKE take ACCESS SHARE on the object; a role membership change SHARE UPDATE EXCLUSIVE on
 * the role; `ALTER ROLE … SET` and `ALTER DEFAULT PRIVILEGES` none (but removing an emptied entry).
 *
 * @module
 */
import type { Catalog, DefaultRow, GrantRow, OwnedRow, SettingRow } from './bootstrap-catalog.ts';
import { quoteIdent as q, quoteLiteral } from './postgres-sql.ts';

/** How `pg_identify_object` names a role: bare when it needs no quotes. */
export const roleIdentity = (name: string) => (/^[a-z_][a-z0-9_$]*$/.test(name) ? name : q(name));

/** The `ALTER <keyword> … OWNER TO` keyword for an owned object, or undefined when the bootstrap leaves it. */
function ownerKeyword(o: OwnedRow): string | undefined {
  switch (o.catalog) {
    case 'pg_class':
      return { r: 'TABLE', p: 'TABLE', v: 'VIEW', m: 'MATERIALIZED VIEW', S: 'SEQUENCE', f: 'FOREIGN TABLE' }[
        o.relkind ?? ''
      ];
    case 'pg_proc':
      return { f: 'FUNCTION', w: 'FUNCTION', p: 'PROCEDURE', a: 'AGGREGATE' }[o.prokind ?? ''];
    case 'pg_type':
      return { d: 'DOMAIN', b: 'TYPE', c: 'TYPE', e: 'TYPE', r: 'TYPE' }[o.typtype ?? ''];
    default:
      return {
        pg_namespace: 'SCHEMA',
        pg_database: 'DATABASE',
        pg_statistic_ext: 'STATISTICS',
        pg_collation: 'COLLATION',
        pg_conversion: 'CONVERSION',
        pg_ts_config: 'TEXT SEARCH CONFIGURATION',
        pg_ts_dict: 'TEXT SEARCH DICTIONARY',
      }[o.catalog];
  }
}

/** `ALTER DEFAULT PRIVILEGES … ON <objects>` per `pg_default_acl.defaclobjtype`. */
const DEFAULT_OBJECTS: Readonly<Record<string, string>> = {
  r: 'TABLES',
  S: 'SEQUENCES',
  f: 'FUNCTIONS',
  T: 'TYPES',
  n: 'SCHEMAS',
  L: 'LARGE OBJECTS',
};

/**
 * Whether `text`, a name as the server wrote it (`quote_ident`, `pg_identify_object`), is nothing but
 * double-quoted and plain names, `.`, `,`, spaces, parentheses, brackets and `*` (an aggregate's `(*)`):
 * what the server writes. Anything else is not put into a statement.
 */
export const serverQuoted = (text: string) =>
  text.length > 0 && /^[A-Za-z0-9_ .,()[\]*]*$/.test(text.replaceAll(/"(?:[^"]|"")*"/g, 'x'));

/** A privilege keyword as `aclexplode` names it (SELECT, TRUNCATE, ...). */
export const privilegeKeyword = (text: string) => /^[A-Z]+( [A-Z]+)*$/.test(text);

/**
 * The settings PostgreSQL keeps as a list of names (GUC_LIST_QUOTE): `SET search_path = a, 'B c'` stores
 * each item as `quote_ident` writes it (`a, "B c"`), so ONE literal `'a, b'` would be one name `"a, b"`.
 * Read from PostgreSQL 18: the string settings a role may set that store `'Ab', 'cd'` as `"Ab", cd`.
 */
const NAME_LISTS = new Set([
  'search_path',
  'temp_tablespaces',
  'local_preload_libraries',
  'session_preload_libraries',
]);
const GUC_PART = /^[A-Za-z_][A-Za-z0-9_$]*$/;
const LIST_ITEM = /[ \t\n\r\f]*(?:([a-z_][a-z0-9_]*)|"((?:[^"]|"")*)")[ \t\n\r\f]*/y;

/**
 * A stored name list's items (a quoted one unquoted), or undefined when `value` is anything but names as
 * `quote_ident` writes them (bare: lower case, digits and `_`; else double-quoted) separated by commas. A
 * bare name in upper case is not one: `search_path` would read it lower-cased, the preload libraries not.
 */
export function nameList(value: string): string[] | undefined {
  const items: string[] = [];
  for (let at = 0; ; at += 1) {
    LIST_ITEM.lastIndex = at;
    const match = LIST_ITEM.exec(value);
    if (!match) return undefined;
    items.push(match[1] ?? (match[2] as string).replaceAll('""', '"'));
    at = LIST_ITEM.lastIndex;
    if (at === value.length) return items;
    if (value[at] !== ',') return undefined;
  }
}

/**
 * `ALTER ROLE <role> [IN DATABASE <db>] SET <name> = <value>` for a stored setting, or undefined when it
 * cannot be written back faithfully (then it is copied by hand). Nothing of the value reaches the statement
 * but through `quoteLiteral`, nothing of the name but through `quoteIdent`: a value is the app user's own
 * text (`ALTER ROLE … SET` needs no privilege), and this statement runs as the administrator. A name list
 * (`search_path`) becomes one literal per name, which the server quotes back as it was stored; any other
 * setting is stored as given, so its whole value is one literal.
 */
export function roleSettingSql(role: string, s: SettingRow): string | undefined {
  const parts = s.name.split('.');
  if (!parts.every((p) => GUC_PART.test(p) && p.length <= 63)) return undefined;
  if (s.database !== null && !serverQuoted(s.database)) return undefined;
  const items = NAME_LISTS.has(s.name.toLowerCase()) ? nameList(s.value) : [s.value];
  if (!items) return undefined;
  const where = s.database === null ? '' : ` IN DATABASE ${s.database}`;
  return `ALTER ROLE ${q(role)}${where} SET ${parts.map(q).join('.')} = ${items.map(quoteLiteral).join(', ')}`;
}

/** The PostgreSQL lock modes the bootstrap's statements take (besides catalog rows). */
export type LockMode = 'ACCESS SHARE' | 'SHARE UPDATE EXCLUSIVE' | 'ACCESS EXCLUSIVE';

/** One lock a change takes, held until the bootstrap transaction commits or rolls back. */
export interface BootstrapLock {
  /** As `pg_identify_object` names it: `table app.hooks`, `function app.next_ticket()`, `role app_owner`. */
  readonly object: string;
  readonly mode: LockMode;
  readonly until: 'the bootstrap transaction ends';
  /** What waits for it meanwhile. */
  readonly blocks: string;
}

export interface BootstrapChange {
  readonly sql: string;
  readonly why: string;
  readonly locks: readonly BootstrapLock[];
}

/** Whom the layout is for: the configured users and owner, and the user the current credential names. */
export interface BootstrapTarget {
  readonly users: readonly [string, string];
  readonly ownerRole: string;
  readonly appUser: string;
}

const RELATION = /^(table|index|sequence|view|materialized view|toast table|composite type|foreign table) /;
export function lock(object: string, mode: LockMode): BootstrapLock {
  const relation = RELATION.test(object);
  const blocks =
    mode === 'SHARE UPDATE EXCLUSIVE'
      ? 'other GRANT, REVOKE, ALTER and DROP of this role; logins and queries go on'
      : mode === 'ACCESS SHARE'
        ? relation
          ? 'only ACCESS EXCLUSIVE takers (ALTER TABLE, DROP, TRUNCATE, VACUUM FULL); reads and writes go on'
          : 'only DROP and the ALTERs that lock it; queries go on'
        : relation
          ? 'every statement on it, reads included'
          : 'only DDL on it; calls and queries take no lock on it and go on';
  return { object, mode, until: 'the bootstrap transaction ends', blocks };
}
export const roleLock = (name: string) => lock(`role ${roleIdentity(name)}`, 'SHARE UPDATE EXCLUSIVE');

/** A planned change and the roles a non-superuser administrator must act as to make it. */
export type Step = BootstrapChange & { readonly actsAs?: readonly string[] };

/** Direct privileges of the login users on objects others own, granted to the owner role, revoked from them. */
export function moveGrants(t: BootstrapTarget, c: Catalog, notes: string[]): Step[] {
  const owner = t.ownerRole;
  const object = (g: GrantRow) => [g.on, g.target, g.column ?? ''].join('\0');
  const groups = new Map<string, GrantRow[]>();
  for (const g of c.grants) {
    if (g.grantee === null || !t.users.includes(g.grantee)) continue;
    const key = [object(g), g.grantor, g.grantee].join('\0');
    groups.set(key, [...(groups.get(key) ?? []), g]);
  }
  const steps: Step[] = [];
  for (const rows of groups.values()) {
    const first = rows[0] as GrantRow;
    const u = first.grantee as string;
    const same = (x: GrantRow) => object(x) === object(first);
    const ownerHas = (r: GrantRow) =>
      c.grants.some(
        (x) =>
          same(x) &&
          x.grantor === r.grantor &&
          x.grantee === owner &&
          x.privilege === r.privilege &&
          (x.grantable || !r.grantable),
      );
    const onward = (r: GrantRow) =>
      c.grants.some((x) => same(x) && x.grantor === u && x.privilege === r.privilege);
    for (const r of rows.filter(onward)) {
      notes.push(
        `${u} granted ${r.privilege} on ${first.lockObject} on to others: it keeps its own (${owner} has it too)`,
      );
    }
    // CONNECT is checked at login, as the login user, before SET role applies: it stays on the user too.
    const revoke = rows.filter((r) => !onward(r) && !(first.on === 'database' && r.privilege === 'CONNECT'));
    const grant = rows.filter((r) => !ownerHas(r));
    if (grant.length === 0 && revoke.length === 0) continue;
    const names = [first.target, ...(first.column ? [first.column] : [])];
    if (!names.every(serverQuoted) || !rows.every((r) => privilegeKeyword(r.privilege))) {
      notes.push(
        `${u}'s privileges on ${first.lockObject} are not moved (an unexpected name): do it by hand`,
      );
      continue;
    }
    const privileges = (list: GrantRow[]) =>
      list.map((r) => (first.column ? `${r.privilege} (${first.column})` : r.privilege)).join(', ');
    const on = `ON ${first.keyword} ${first.target}`;
    const sql = [
      ...[false, true].flatMap((option) => {
        const some = grant.filter((r) => r.grantable === option);
        return some.length === 0
          ? []
          : [`GRANT ${privileges(some)} ${on} TO ${q(owner)}${option ? ' WITH GRANT OPTION' : ''}`];
      }),
      ...(revoke.length === 0 ? [] : [`REVOKE ${privileges(revoke)} ${on} FROM ${q(u)}`]),
    ];
    // As the grantor, so that what is granted and revoked is its grant; an administrator with the owner's
    // privileges (a superuser, the database owner for pg_database_owner) acts as the owner by itself.
    const ownerAccess =
      c.server.adminSuperuser || c.adminAccess.some((a) => a.role === first.owner && a.usage);
    const asGrantor = first.grantor !== c.server.admin && !(first.grantor === first.owner && ownerAccess);
    const why = `${u} has ${privileges(rows)} on ${first.lockObject} by a grant of its own (from ${first.grantor}); acting as ${owner} only ${owner}'s privileges count${rows.length > revoke.length && first.on === 'database' ? '; CONNECT stays on the user too: it is checked at login, before SET role applies' : ''}`;
    const actsAs = asGrantor ? [first.grantor] : [];
    const locks = [lock(first.lockObject, 'ACCESS SHARE')];
    if (asGrantor)
      steps.push({
        sql: `SET ROLE ${q(first.grantor)}`,
        why: `as ${first.grantor}: ${why}`,
        locks: [],
        actsAs,
      });
    steps.push(...sql.map((one) => ({ sql: one, why, locks, actsAs })));
    // SET ROLE NONE, not RESET ROLE: RESET returns to the session's default, which a database's `role`
    // setting (the app's, when it owns the database) may name.
    if (asGrantor) steps.push({ sql: 'SET ROLE NONE', why: `back from ${first.grantor}: ${why}`, locks: [] });
  }
  return steps;
}

/** The login users' objects here (and this database, if one owns it), each `ALTER … OWNER TO` the owner. */
export function moveOwnership(t: BootstrapTarget, c: Catalog, notes: string[]): Step[] {
  const owner = t.ownerRole;
  const ids = new Set(c.owned.map((o) => `${o.type} ${o.identity}`));
  const order = ['pg_namespace', 'pg_type', 'pg_class', 'pg_proc'];
  const rank = (catalog: string) =>
    catalog === 'pg_database'
      ? order.length + 1
      : order.includes(catalog)
        ? order.indexOf(catalog)
        : order.length;
  const steps: Step[] = [];
  for (const o of [...c.owned].sort((a, b) => rank(a.catalog) - rank(b.catalog))) {
    const self = `${o.type} ${o.identity}`;
    if (o.catalog === 'pg_default_acl') continue;
    // An owned sequence moves with its table, an array or multirange type with its element or range.
    if (o.parent && ((o.catalog === 'pg_class' && o.relkind === 'S') || o.catalog === 'pg_type')) {
      if (!ids.has(o.parent))
        notes.push(`${self} of ${o.owner} belongs to ${o.parent}, owned by another role: left`);
      continue;
    }
    const keyword = ownerKeyword(o);
    if (
      !keyword ||
      !serverQuoted(o.identity) ||
      (o.catalog === 'pg_database' && o.identity !== c.server.database)
    ) {
      notes.push(`${o.owner} owns ${self}: left; move it to ${owner} by hand`);
      continue;
    }
    const locks =
      o.catalog === 'pg_class'
        ? [self, ...o.alsoLocks]
        : o.catalog === 'pg_type'
          ? o.alsoLocks
          : o.catalog === 'pg_namespace' || o.catalog === 'pg_database'
            ? []
            : [self];
    steps.push({
      sql: `ALTER ${keyword} ${o.identity} OWNER TO ${q(owner)}`,
      why:
        o.catalog === 'pg_database'
          ? `${o.owner} owns the database: its owner may create schemas and (PostgreSQL 15+) owns schema public; sessions act as ${owner} now`
          : `${o.owner} created it; acting as ${owner}, either user may use and alter it only when ${owner} owns it`,
      locks: locks.map((l) => lock(l, 'ACCESS EXCLUSIVE')),
      actsAs: [o.owner, owner],
    });
  }
  return steps;
}

/**
 * Default privileges: the login users' own (objects are created by the owner role now) given to the owner
 * role and taken back to the built-in default; another role's defaults naming a login user name the owner.
 */
export function moveDefaults(t: BootstrapTarget, c: Catalog, notes: string[]): Step[] {
  const owner = t.ownerRole;
  const who = (g: string | null) => (g === null ? 'PUBLIC' : q(g));
  const has = (d: Omit<DefaultRow, 'privilege'>, privilege: string) =>
    c.defaults.some(
      (x) =>
        x.role === d.role &&
        x.schema === d.schema &&
        x.objtype === d.objtype &&
        x.grantee === d.grantee &&
        x.privilege === privilege &&
        x.grantable === d.grantable &&
        x.sign === d.sign,
    );
  const statement = (d: Omit<DefaultRow, 'privilege'>, privileges: string, grant: boolean) => {
    const objects = DEFAULT_OBJECTS[d.objtype] ?? 'TABLES';
    const action = grant
      ? `GRANT ${privileges} ON ${objects} TO ${who(d.grantee)}${d.grantable ? ' WITH GRANT OPTION' : ''}`
      : `REVOKE ${privileges} ON ${objects} FROM ${who(d.grantee)}`;
    return `ALTER DEFAULT PRIVILEGES FOR ROLE ${q(d.role)}${d.schema ? ` IN SCHEMA ${d.schema}` : ''} ${action}`;
  };
  const groups = new Map<string, DefaultRow[]>();
  for (const d of c.defaults) {
    const mine = t.users.includes(d.role);
    if (!mine && !(d.role !== owner && d.sign === '+' && d.grantee !== null && t.users.includes(d.grantee)))
      continue;
    const key = [d.role, d.schema, d.objtype, d.grantee, d.grantable, d.sign].join('\0');
    groups.set(key, [...(groups.get(key) ?? []), d]);
  }
  const steps: Step[] = [];
  const list = [...groups.values()];
  const entry = (x: DefaultRow) => [x.role, x.schema, x.objtype].join('\0');
  for (const [i, rows] of list.entries()) {
    const d = rows[0] as DefaultRow;
    const mine = t.users.includes(d.role);
    if ((d.schema !== null && !serverQuoted(d.schema)) || !rows.every((r) => privilegeKeyword(r.privilege))) {
      notes.push(
        `${d.role}'s default privileges in schema ${d.schema} are not moved (an unexpected name): do it by hand`,
      );
      continue;
    }
    // The user's last difference from the built-in default undone: PostgreSQL removes its entry.
    const removes = mine && !list.slice(i + 1).some((r) => entry(r[0] as DefaultRow) === entry(d));
    // Its own default privileges become the owner role's own (a grant to itself the owner role has
    // already); another role's grant to the user, a grant to the owner role.
    const moved = mine
      ? { ...d, role: owner, grantee: d.grantee === d.role ? owner : d.grantee }
      : { ...d, grantee: owner };
    const missing = rows.filter(
      (r) => !(moved.sign === '+' && moved.grantee === moved.role) && !has(moved, r.privilege),
    );
    const privileges = (some: DefaultRow[]) => some.map((r) => r.privilege).join(', ');
    const objects = `${DEFAULT_OBJECTS[d.objtype]}${d.schema ? ` in schema ${d.schema}` : ''}`;
    const why = mine
      ? `${d.role}'s default privileges (${d.sign === '+' ? 'granting' : 'revoking'} ${privileges(rows)} on new ${objects}): objects are created by ${owner} now`
      : `${d.role}'s new ${objects} grant ${privileges(rows)} to ${d.grantee}, which acts as ${owner}`;
    if (missing.length > 0) {
      steps.push({
        sql: statement(moved, privileges(missing), d.sign === '+'),
        why,
        locks: [],
        actsAs: [moved.role],
      });
    }
    steps.push({
      sql: statement(d, privileges(rows), d.sign === '-'),
      why,
      locks: removes ? [lock(`default acl of ${d.role} on ${objects} (removed)`, 'ACCESS EXCLUSIVE')] : [],
      actsAs: [d.role],
    });
  }
  return steps;
}

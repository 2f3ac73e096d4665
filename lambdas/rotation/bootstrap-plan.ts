/**
 * The bootstrap's plan and apply (see `bootstrap.ts`). Plan: `planLayout`, pure, from the catalog
 * `bootstrap-catalog.ts` reads to the ordered changes, each with its SQL, its reason and the locks it takes
 * (the statements themselves in `bootstrap-sql.ts`). Apply: the plan made again inside ONE transaction of
 * the administrator's session (short lock and statement timeouts, a deadline for the whole), so what is
 * applied is what is true at that moment, then checked: a plan made after it is empty. A dry run is the
 * plan, in a read-only transaction. The session acts as the administrator itself (`SET ROLE NONE`), with
 * the settings `withSession` forces, whatever the app's database says.
 *
 * @module
 */
import { NightshiftError } from '#shared/errors';
import { type Catalog, observeCatalog, type Query } from './bootstrap-catalog.ts';
import {
  type BootstrapChange,
  type BootstrapTarget,
  lock,
  moveDefaults,
  moveGrants,
  moveOwnership,
  roleLock,
  roleSettingSql,
  type Step,
  serverQuoted,
} from './bootstrap-sql.ts';
import type { AlternatingUsers } from './kinds.ts';
import { PG_TIMEOUTS, type PgCredential, withSession } from './postgres.ts';
import { quoteIdent as q } from './postgres-sql.ts';

/** The bootstrap refused or failed; nothing was changed (its transaction rolled back). */
export class BootstrapError extends NightshiftError {
  override readonly name: string = 'BootstrapError';
}

export interface BootstrapPlan {
  readonly server: string;
  readonly admin: string;
  readonly appUser: string;
  readonly otherUser: string;
  readonly ownerRole: string;
  readonly changes: readonly BootstrapChange[];
  /** What the bootstrap leaves as it is, and why. */
  readonly notes: readonly string[];
  readonly summary: string;
}

/**
 * The changes that take `catalog` to the layout, in order: roles, the administrator's temporary
 * memberships (a non-superuser), memberships in the owner role, the login users' settings, memberships and
 * direct privileges moved to the owner role, ownership, default privileges, `SET role`. Empty when the
 * layout is in place. Throws a {@link BootstrapError} for a state it must not touch.
 */
export function planLayout(t: BootstrapTarget, c: Catalog): { changes: BootstrapChange[]; notes: string[] } {
  const { users, ownerRole: owner, appUser } = t;
  const O = q(owner);
  const other = users[0] === appUser ? users[1] : users[0];
  const { admin, adminSuperuser, version, database } = c.server;
  const v16 = version >= 160000;
  const role = (name: string) => c.roles.find((r) => r.name === name);
  if (c.server.inRecovery)
    throw new BootstrapError('the server is in recovery (a replica): bootstrap the writer');
  if (!serverQuoted(database))
    throw new BootstrapError(
      `the database's name reads ${JSON.stringify(database.slice(0, 80))}: not a name`,
    );
  if (users.includes(admin) || admin === owner) {
    throw new BootstrapError(
      `the administrator ${admin} is one of the users or the owner role: use another login`,
    );
  }
  if (!role(appUser)) throw new BootstrapError(`${appUser}, the current credential's user, does not exist`);
  for (const u of users) {
    if (role(u)?.superuser)
      throw new BootstrapError(`${u} is a superuser: acting as ${owner} it would not be`);
  }
  const ownerRow = role(owner);
  if (ownerRow?.login || ownerRow?.superuser) {
    throw new BootstrapError(
      `the owner role ${owner} exists as a LOGIN or SUPERUSER role: it must be neither`,
    );
  }
  const head: Step[] = [];
  const body: Step[] = [];
  const notes: string[] = [];

  if (!ownerRow) {
    head.push({
      sql: `CREATE ROLE ${O} NOLOGIN`,
      why: `the owner role: both login users act as it, so it owns what either creates`,
      locks: [roleLock(owner)],
    });
  }
  const otherRow = role(other);
  if (!otherRow?.login) {
    head.push({
      sql: otherRow ? `ALTER ROLE ${q(other)} LOGIN` : `CREATE ROLE ${q(other)} LOGIN`,
      why: `the second login user, without a password: the first rotation sets one (with the administrator's credential) before any consumer gets it`,
      locks: otherRow ? [] : [roleLock(other)],
    });
  }
  for (const u of users) {
    if (c.memberships.some((m) => m.role === owner && m.member === u && m.inherit && m.set)) continue;
    body.push({
      sql: `GRANT ${O} TO ${q(u)}${v16 ? ' WITH INHERIT TRUE, SET TRUE' : ''}`,
      why: `${u} acts as ${owner}; sessions open before the bootstrap inherit its privileges until they reconnect`,
      locks: [roleLock(owner)],
    });
  }
  for (const [from, to] of [
    [appUser, other],
    [other, appUser],
  ] as const) {
    for (const s of c.settings.filter((x) => x.role === from && x.name !== 'role')) {
      const theirs = c.settings.find((x) => x.role === to && x.database === s.database && x.name === s.name);
      const where = s.database === null ? '' : ` in database ${s.database}`;
      if (theirs) {
        if (theirs.value !== s.value && from === appUser) {
          notes.push(`${from} and ${to} differ in ${s.name}${where}: left as they are`);
        }
        continue;
      }
      const sql = roleSettingSql(to, s);
      if (!sql)
        notes.push(
          `${from}'s setting ${JSON.stringify(s.name)}${where} is not copied to ${to}: do it by hand`,
        );
      else {
        body.push({
          sql,
          why: `${from} has ${s.name}${where}; ${to} needs it too: after a rotation the app logs in as ${to}`,
          locks: s.database === null ? [] : [lock(`database ${s.database}`, 'ACCESS SHARE')],
        });
      }
    }
  }
  const grantedToOwner = new Set<string>();
  const bool = (b: boolean) => (b ? 'TRUE' : 'FALSE');
  for (const m of c.memberships) {
    if (!users.includes(m.member) || m.role === owner || users.includes(m.role)) continue;
    const sql: string[] = [];
    if (!grantedToOwner.has(m.role) && !c.memberships.some((x) => x.member === owner && x.role === m.role)) {
      grantedToOwner.add(m.role);
      const options = v16
        ? ` WITH ADMIN ${bool(m.admin)}, INHERIT ${bool(m.inherit)}, SET ${bool(m.set)}`
        : m.admin
          ? ' WITH ADMIN OPTION'
          : '';
      sql.push(`GRANT ${q(m.role)} TO ${O}${options}`);
    }
    if (c.memberships.some((x) => x.role === m.role && x.grantor === m.member)) {
      notes.push(
        `${m.member} granted ${m.role} on to others: its own membership stays (${owner} has it too)`,
      );
    } else sql.push(`REVOKE ${q(m.role)} FROM ${q(m.member)}${v16 ? ` GRANTED BY ${q(m.grantor)}` : ''}`);
    for (const one of sql) {
      body.push({
        sql: one,
        why: `acting as ${owner}, ${m.member}'s own membership in ${m.role} no longer counts: ${owner} gets it with the same options, ${m.member} keeps it through ${owner}`,
        locks: [roleLock(m.role)],
        actsAs: v16 ? [m.grantor] : [],
      });
    }
  }
  body.push(...moveGrants(t, c, notes));
  body.push(...moveOwnership(t, c, notes));
  body.push(...moveDefaults(t, c, notes));
  for (const u of users) {
    const global = c.settings.find((s) => s.role === u && s.database === null && s.name === 'role');
    if (global?.value !== owner) {
      body.push({
        sql: `ALTER ROLE ${q(u)} SET role = ${O}`,
        why: `${u}'s sessions act as ${owner}: what either user creates belongs to ${owner}${global ? ` (it was ${global.value})` : ''}`,
        locks: [],
        actsAs: [owner],
      });
    }
    const here = c.settings.find((s) => s.role === u && s.database === database && s.name === 'role');
    if (here) {
      body.push({
        sql: `ALTER ROLE ${q(u)} IN DATABASE ${database} RESET role`,
        why: `a setting for this database wins over the role's own, and it names ${here.value}`,
        locks: [lock(`database ${database}`, 'ACCESS SHARE')],
      });
    }
  }
  for (const u of users) {
    const attributes = role(u)?.attributes ?? [];
    if (attributes.length > 0) {
      notes.push(
        `${u} has ${attributes.join(', ')}; acting as ${owner} it does not: give ${owner} what the app needs`,
      );
    }
    if (!v16 && role(u) && !role(u)?.inherit) notes.push(`${u} is NOINHERIT: open sessions lose its grants`);
  }
  for (const r of c.residual) {
    const what = { o: 'owns', a: 'has privileges on', r: 'is named by', i: 'has initial privileges on' }[
      r.kind
    ];
    notes.push(
      r.description === null
        ? `${r.role} ${what ?? 'is named by'} objects in database ${r.where}: bootstrap that database's parameter too`
        : `${r.role} ${what ?? 'is named by'} ${r.description}: left; move it to ${owner} by hand`,
    );
  }
  // pg_database_owner has no explicit members: its privileges are the database owner's, so the
  // administrator acts as it through a membership in the database owner.
  const actor = (r: string) => (r === 'pg_database_owner' ? c.server.databaseOwner : r);
  const needed = adminSuperuser
    ? []
    : [...new Set(body.flatMap((s) => (s.actsAs ?? []).map(actor)))].filter(
        (r) => r !== admin && !c.adminAccess.some((a) => a.role === r && a.usage && a.set),
      );
  const temporary = (sql: string, r: string, why: string): Step => ({ sql, why, locks: [roleLock(r)] });
  const changes = [
    ...head,
    ...needed.map((r) =>
      temporary(
        `GRANT ${q(r)} TO ${q(admin)}${v16 ? ' WITH INHERIT TRUE, SET TRUE' : ''}`,
        r,
        `temporary: ${admin} is no superuser and acts as ${r} below; revoked before the commit`,
      ),
    ),
    ...body,
    ...needed.map((r) =>
      temporary(`REVOKE ${q(r)} FROM ${q(admin)}`, r, `the temporary membership, revoked`),
    ),
  ];
  return { changes: changes.map(({ sql, why, locks }) => ({ sql, why, locks })), notes: [...new Set(notes)] };
}

/** What the bootstrap connects with: the administrator, on the current credential's server. */
export interface BootstrapSession {
  readonly current: PgCredential;
  readonly admin: PgCredential;
  readonly layout: AlternatingUsers;
  readonly caBundle: string;
  /** How long its transaction may last: {@link TRANSACTION_MS} unless given. */
  readonly deadlineMs?: number;
}

function targetOf(o: BootstrapSession): BootstrapTarget {
  const [a, b] = o.layout.users;
  if (o.current.username !== a && o.current.username !== b) {
    throw new BootstrapError(`the current credential names ${o.current.username}, neither ${a} nor ${b}`);
  }
  return { users: o.layout.users, ownerRole: o.layout.ownerRole, appUser: o.current.username };
}

function planOf(o: BootstrapSession, t: BootstrapTarget, p: ReturnType<typeof planLayout>): BootstrapPlan {
  const n = p.changes.length;
  return {
    server: `${o.current.host}:${o.current.port}/${o.current.dbname}`,
    admin: o.admin.username,
    appUser: t.appUser,
    otherUser: t.users[0] === t.appUser ? t.users[1] : t.users[0],
    ownerRole: t.ownerRole,
    ...p,
    summary: n === 0 ? 'nothing to do: the layout is in place' : `${n} change${n === 1 ? '' : 's'}`,
  };
}

/**
 * The longest the bootstrap transaction (and every lock it takes) may last, counted here from its BEGIN on
 * every PostgreSQL version: once it has passed, no statement is sent, none still running is waited for, and
 * the session is closed without a COMMIT, so the server rolls the transaction back. PostgreSQL 17+ bounds
 * it too (`transaction_timeout`), a little later: should the function be frozen or killed meanwhile.
 */
export const TRANSACTION_MS = 30_000;
const SERVER_MARGIN_MS = 5_000;

/** The administrator's session in one transaction, rolled back unless `work` commits it. */
async function inTransaction<T>(o: BootstrapSession, begin: string, work: (query: Query) => Promise<T>) {
  const deadlineMs = o.deadlineMs ?? TRANSACTION_MS;
  let passed = false;
  const late = (sql: string) => {
    passed = true;
    return new BootstrapError(
      `the bootstrap transaction passed its deadline (${deadlineMs} ms, TRANSACTION_MS) at ${sql.slice(0, 200)}: its session was closed without COMMIT, so the server rolled it back; nothing changed`,
    );
  };
  try {
    return await withSession(o.admin, o.caBundle, async (session) => {
      // As the administrator itself, whatever a database setting of `role` says.
      await session('SET ROLE NONE');
      // PostgreSQL 14+ (Linux, macOS, BSD): a statement still running notices within a second that the
      // session was closed (past the deadline), and its transaction ends then, not when the statement does.
      await session('SET client_connection_check_interval = 1000').catch(() => undefined);
      const end = performance.now() + deadlineMs;
      const query: Query = async (sql, values) => {
        const left = end - performance.now();
        if (passed || left <= 0) throw late(sql);
        // A COMMIT sent is waited for: it may have committed.
        if (sql === 'COMMIT') return session(sql, values);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const expired = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(late(sql)), left);
        });
        try {
          return await Promise.race([session(sql, values), expired]);
        } finally {
          clearTimeout(timer);
        }
      };
      await query(begin);
      try {
        for (const [name, ms] of [
          ['lock_timeout', PG_TIMEOUTS.lockMs],
          ['statement_timeout', PG_TIMEOUTS.statementMs],
          ['idle_in_transaction_session_timeout', PG_TIMEOUTS.statementMs],
        ] as const) {
          await query(`SET LOCAL ${name} = '${ms}ms'`);
        }
        const [v] = (await query(`SELECT current_setting('server_version_num')::int >= 170000 AS has`)) as {
          has: boolean;
        }[];
        if (v?.has) await query(`SET LOCAL transaction_timeout = '${deadlineMs + SERVER_MARGIN_MS}ms'`);
        return await work(query);
      } catch (error) {
        // Past the deadline a statement may still be running: the session is closed (by withSession)
        // rather than a ROLLBACK queued behind it.
        if (!passed) await session('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  } catch (error) {
    if (error instanceof BootstrapError) throw error;
    const code = String((error as { code?: unknown }).code ?? (error as Error).name);
    const who = ['28P01', '28000'].includes(code) ? ` as ${o.admin.username} (adminParameter)` : '';
    throw new BootstrapError(
      `${o.current.host}:${o.current.port}/${o.current.dbname}${who}: ${code}: ${(error as Error).message.slice(0, 300)}; nothing changed`,
      { cause: error },
    );
  }
}

/** The dry run: observe and plan, in a read-only transaction. */
export async function planBootstrap(o: BootstrapSession): Promise<BootstrapPlan> {
  const t = targetOf(o);
  return inTransaction(o, 'BEGIN READ ONLY', async (query) => {
    const plan = planOf(o, t, planLayout(t, await observeCatalog(query, t.users, t.ownerRole)));
    await query('ROLLBACK');
    return plan;
  });
}

/**
 * Applies the plan in one transaction: planned again inside it, applied, planned again until nothing is
 * left (what sessions created meanwhile; at most three rounds), committed. Returns the first plan and
 * every change applied. One bootstrap at a time per server (a transaction advisory lock).
 */
export async function applyBootstrap(
  o: BootstrapSession,
): Promise<BootstrapPlan & { applied: BootstrapChange[] }> {
  const t = targetOf(o);
  return inTransaction(o, 'BEGIN', async (query) => {
    const lockSql = `SELECT pg_try_advisory_xact_lock(hashtext('nightshift-bootstrap')) AS got`;
    const [locked] = (await query(lockSql)) as { got: boolean }[];
    if (!locked?.got)
      throw new BootstrapError('another bootstrap is running on this server: nothing changed');
    const applied: BootstrapChange[] = [];
    let first: BootstrapPlan | undefined;
    for (let round = 0; ; round++) {
      const plan = planOf(o, t, planLayout(t, await observeCatalog(query, t.users, t.ownerRole)));
      first ??= plan;
      if (plan.changes.length === 0) {
        await query('COMMIT');
        return { ...first, notes: plan.notes, applied };
      }
      if (round === 3)
        throw new BootstrapError(`changes remain after ${round} rounds: ${plan.changes[0]?.sql}`);
      for (const change of plan.changes) {
        try {
          await query(change.sql);
        } catch (error) {
          if (error instanceof BootstrapError) throw error;
          const e = error as { code?: string; message: string };
          throw new BootstrapError(
            `${change.sql.slice(0, 300)}: ${e.code ?? ''} ${e.message.slice(0, 300)}; rolled back, nothing changed`,
            { cause: error },
          );
        }
        applied.push(change);
      }
    }
  });
}

/**
 * Rotation, PostgreSQL: one `postgres-single` and one `postgres-alternating` rotation, each run by the
 * bundled function in a local world of its own with real PostgreSQL behind an RDS instance (TLS only).
 * Per rotation: the wall time of the invocation (a cold start, as an hourly schedule's run usually is), the
 * AWS calls it made by service and operation, the SQL the server ran for it and whether the rotation
 * worked (the plain name's credential logs in; alternating: it names the other user, the previous one still
 * logs in). SSM answers without added latency; the function paces itself at `rotation.ssmRequestsPerSecond`.
 *
 * The server's statements are counted from its own log: the bench turns on `log_statement = 'all'` for the
 * database (`ALTER DATABASE … SET`, new sessions only) once the roles are made, and reads the log lines
 * between two marker sessions of its own. Nothing else connects in between, so every other session there
 * is the function's.
 *
 * Run: `npm run bench` (appends to bench/results.md), or alone: `npx tsx bench/rotation-postgres.ts`.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  GetParameterCommand,
  LabelParameterVersionCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import type pg from 'pg';
import { pendingName } from '../lambdas/rotation/model.ts';
import { alterRolePasswordSql } from '../lambdas/rotation/postgres-sql.ts';
import { LocalCertificateAuthority } from '../local/postgres/tls.ts';
import { exampleAppConfig } from '../local/sandbox/example-config.ts';
import { synthesize } from '../local/sandbox/synth.ts';
import { envelope } from '../local/services/envelope.ts';
import { LocalWorld } from '../local/world/world.ts';
import { pgSession } from '../test/support/pg-session.ts';

const DAY = 86_400_000;
const CADENCE_DAYS = 30;
const INSTANCE = 'webhooks-db';
const DATABASE = 'webhooks';
const MASTER = { username: 'master_user', password: 'bench-Master-Pass-1' };
const root = fileURLToPath(new URL('..', import.meta.url));

type Kind = 'postgres-single' | 'postgres-alternating';
interface Credential {
  readonly username: string;
  readonly password: string;
  readonly host: string;
  readonly port: number;
  readonly dbname: string;
}

/** What one rotation cost and whether it worked. */
interface Measured {
  readonly kind: Kind;
  /** The function's SSM pace (`rotation.ssmRequestsPerSecond`). */
  readonly ssmRps: number;
  readonly wallMs: number;
  readonly invocationMs: number;
  readonly coldStart: boolean;
  readonly invocationOk: boolean;
  readonly error?: string;
  readonly outcome: string;
  /** AWS calls by the function during the run: service → operation → count. */
  readonly calls: Map<string, Map<string, number>>;
  /** Calls answered with an error, by service, operation and code. */
  readonly callErrors: Map<string, number>;
  readonly sql: SqlCount | undefined;
  readonly checks: { readonly what: string; readonly ok: boolean }[];
}

interface SqlCount {
  /** Statements by their first word(s) (`ALTER ROLE`, `SELECT`, …). */
  readonly statements: Map<string, number>;
  /** Server processes (sessions) that ran at least one statement. */
  readonly sessions: number;
  /** Logins the server refused (`password authentication failed`). */
  readonly refusedLogins: number;
}

/** A `pg` session as `c` over TLS verified against `ca`; `work`'s result. */
const session = <T>(c: Credential, ca: string, work: (client: pg.Client) => Promise<T>) =>
  pgSession(c, ca, work, 'nightshift-bench');
const logsIn = (c: Credential, ca: string) =>
  session(c, ca, (client) => client.query('SELECT 1')).then(
    () => true,
    () => false,
  );

/** Statement lines of the server's log (`… [pid] LOG:  statement: …`, or `execute` for bound queries). */
const STATEMENT = /\[(\d+)\] LOG: {2}(?:statement|execute [^:]*): (.*)$/;
const REFUSED = /\[(\d+)\] FATAL: {2}password authentication failed/;
const verbOf = (sql: string) => {
  const words = sql.trim().split(/\s+/);
  const first = (words[0] ?? '').toUpperCase();
  return ['ALTER', 'CREATE', 'DROP', 'GRANT', 'REVOKE', 'SET'].includes(first)
    ? `${first} ${(words[1] ?? '').toUpperCase()}`
    : first;
};

async function rotateOnce(kind: Kind): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), `nightshift-bench-${kind}-`));
  try {
    // As the sandbox does: a local RDS CA bundle shipped with the function (the world hands the running
    // function its own fleet's bundle through NIGHTSHIFT_RDS_CA_BUNDLE).
    const localCa = await LocalCertificateAuthority.create('Nightshift bench RDS CA');
    const caBundleFile = join(dir, 'bench-rds-ca.pem');
    writeFileSync(caBundleFile, localCa.certificatePem);
    const vpc = exampleAppConfig.restoreVerify?.vpc;
    if (!vpc) throw new Error('the example app configures a vpc for restore verification');
    const parameter = kind === 'postgres-single' ? '/webhooks/db-single' : '/webhooks/db';
    const names = { owner: 'app_owner', blue: 'app_blue', green: 'app_green', single: 'app_single' };
    const { config, stackName } = synthesize(join(dir, 'cdk.out'), {
      ...exampleAppConfig,
      rotation: {
        secrets: [
          {
            parameter,
            kind,
            cadenceDays: CADENCE_DAYS,
            ...(kind === 'postgres-alternating'
              ? { alternating: { users: [names.blue, names.green], ownerRole: names.owner } }
              : {}),
          },
        ],
        vpc,
        caBundleFile,
      },
    });
    const world = await LocalWorld.start({
      cloudAssemblyDir: join(dir, 'cdk.out'),
      account: config.account ?? '123456789012',
      region: config.region ?? 'eu-west-1',
      stackName,
      start: Date.parse('2026-11-16T08:00:00Z'),
      postgres: true,
      extraCaBundle: caBundleFile,
    });
    try {
      return {
        ...(await measure(world, kind, parameter, names)),
        ssmRps: config.rotation?.ssmRequestsPerSecond ?? 10,
      };
    } finally {
      await world.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(
  world: LocalWorld,
  kind: Kind,
  parameter: string,
  names: { owner: string; blue: string; green: string; single: string },
): Promise<Omit<Measured, 'ssmRps'>> {
  world.rds.addInstance({
    identifier: INSTANCE,
    masterUsername: MASTER.username,
    masterUserPassword: MASTER.password,
    dbName: DATABASE,
  });
  await world.rds.ready();
  const server = await world.rds.serverOf(INSTANCE);
  const ca = world.rds.postgres?.caPem;
  if (!server || !ca) throw new Error(`no PostgreSQL server behind ${INSTANCE}`);
  const credential = (username: string, password: string): Credential => ({
    username,
    password,
    host: server.host,
    port: server.port,
    dbname: DATABASE,
  });
  const master = credential(MASTER.username, MASTER.password);
  const asMaster = (sql: string) => session(master, ca, (c) => c.query(sql));
  const operator = new SSMClient(world.operatorConfig());
  const put = (value: Credential) =>
    operator.send(
      new PutParameterCommand({
        Name: parameter,
        Value: JSON.stringify(value),
        Type: 'SecureString',
        Overwrite: true,
      }),
    );
  const plain = async (name: string) =>
    (await operator.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter?.Value;

  // The roles, as the master user (exactly as test/lambdas/rotation/rotate-postgres.test.ts makes them).
  let before: Credential;
  let other: Credential | undefined;
  if (kind === 'postgres-single') {
    before = credential(names.single, 'first-Pass-1');
    await asMaster(`CREATE ROLE ${before.username} LOGIN`);
    await asMaster(await alterRolePasswordSql(before.username, before.password));
    await put(before);
  } else {
    const blue = credential(names.blue, 'blue-Pass-1');
    const green = credential(names.green, 'green-Pass-1');
    await asMaster(`CREATE ROLE ${names.owner} NOLOGIN`);
    await asMaster(`GRANT USAGE, CREATE ON SCHEMA public TO ${names.owner}`);
    for (const u of [blue, green]) {
      await asMaster(`CREATE ROLE ${u.username} LOGIN IN ROLE ${names.owner}`);
      await asMaster(`ALTER ROLE ${u.username} SET role = ${names.owner}`);
      await asMaster(await alterRolePasswordSql(u.username, u.password));
    }
    await put(green);
    await put(blue);
    await operator.send(
      new LabelParameterVersionCommand({ Name: parameter, ParameterVersion: 1, Labels: ['previous'] }),
    );
    await operator.send(
      new LabelParameterVersionCommand({ Name: parameter, ParameterVersion: 2, Labels: ['current'] }),
    );
    before = blue;
    other = green;
  }
  // From here on the server logs every statement of new sessions in the database (ours included).
  await asMaster(`ALTER DATABASE ${DATABASE} SET log_statement = 'all'`);

  // Due: past the cadence.
  await world.advance((CADENCE_DAYS + 1) * DAY);
  const rule = world.app.rules.find((r) => r.name.includes('Rotation') && r.scheduleExpression);
  const fnId = rule?.targets[0]?.functionLogicalId;
  if (!rule || !fnId) throw new Error('no rotation schedule in the app');
  const fnKey = world.functionConfig(fnId).credentials.accessKeyId;

  const marker = async (tag: string) => {
    const text = `nightshift-bench-${tag}-${crypto.randomUUID()}`;
    const pid = await session(master, ca, async (c) => {
      const r = await c.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid, '${text}' AS mark`);
      return r.rows[0]?.pid ?? -1;
    });
    return { text, pid };
  };
  const begin = await marker('begin');
  const callsBefore = world.endpoint.calls.length;
  const deliveriesBefore = world.deliveries.length;
  const started = performance.now();
  await world.runSchedulesNowWith(
    envelope(world.options, 'aws.events', 'Scheduled Event', world.clock.now(), [rule.arn], {}),
  );
  const wallMs = performance.now() - started;
  const end = await marker('end');

  // The log lines between the markers (the server's log reaches us through a pipe: wait for the end one).
  let lines: readonly string[] = [];
  for (let i = 0; i < 50; i++) {
    lines = server.log();
    if (lines.some((l) => l.includes(end.text))) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const from = lines.findIndex((l) => l.includes(begin.text));
  const to = lines.findIndex((l) => l.includes(end.text));
  let sql: SqlCount | undefined;
  if (from >= 0 && to > from) {
    const statements = new Map<string, number>();
    const pids = new Set<string>();
    let refusedLogins = 0;
    for (const line of lines.slice(from + 1, to)) {
      const s = STATEMENT.exec(line);
      if (s?.[1] && s[2] !== undefined && Number(s[1]) !== begin.pid && Number(s[1]) !== end.pid) {
        pids.add(s[1]);
        const verb = verbOf(s[2]);
        statements.set(verb, (statements.get(verb) ?? 0) + 1);
      }
      if (REFUSED.test(line)) refusedLogins += 1;
    }
    sql = { statements, sessions: pids.size, refusedLogins };
  }

  const run = world.deliveries.slice(deliveriesBefore).find((d) => d.function.includes('Rotation'));
  const calls = new Map<string, Map<string, number>>();
  const callErrors = new Map<string, number>();
  for (const c of world.endpoint.calls.slice(callsBefore)) {
    if (c.caller !== fnKey) continue;
    const ops = calls.get(c.service) ?? new Map<string, number>();
    ops.set(c.operation, (ops.get(c.operation) ?? 0) + 1);
    calls.set(c.service, ops);
    if (c.status !== 200) {
      const key = `${c.service} ${c.operation} ${c.error ?? `HTTP ${c.status}`}`;
      callErrors.set(key, (callErrors.get(key) ?? 0) + 1);
    }
  }
  const outcomes = (run?.result.result as { outcomes?: { outcome: string }[] } | undefined)?.outcomes;

  // Did it work: the plain name's credential logs in (alternating: as the other user, the previous still does).
  const nowJson = await plain(parameter);
  const now = nowJson === undefined ? undefined : (JSON.parse(nowJson) as Credential);
  const pendingGone = await plain(pendingName(parameter)).then(
    () => false,
    () => true,
  );
  const checks: { what: string; ok: boolean }[] = [
    { what: 'the plain name logs in', ok: now !== undefined && (await logsIn(now, ca)) },
    { what: '.pending deleted', ok: pendingGone },
  ];
  if (kind === 'postgres-single') {
    checks.push(
      {
        what: 'same user, new password',
        ok: now?.username === before.username && now.password !== before.password,
      },
      { what: 'the old password refused', ok: !(await logsIn(before, ca)) },
    );
  } else {
    const previousJson = await plain(`${parameter}:previous`);
    const previous = previousJson === undefined ? undefined : (JSON.parse(previousJson) as Credential);
    checks.push(
      { what: `now ${other?.username}`, ok: now?.username === other?.username },
      {
        what: `previous (${before.username}) still logs in`,
        ok: previous?.username === before.username && (await logsIn(previous, ca)),
      },
    );
  }
  operator.destroy();
  return {
    kind,
    wallMs,
    invocationMs: run?.result.durationMs ?? Number.NaN,
    coldStart: run?.result.coldStart ?? false,
    invocationOk: run?.result.ok ?? false,
    error: run?.result.error?.message,
    outcome: outcomes?.map((o) => o.outcome).join(', ') ?? 'no run',
    calls,
    callErrors,
    sql,
    checks,
  };
}

const results: Measured[] = [];
for (const kind of ['postgres-single', 'postgres-alternating'] as const) results.push(await rotateOnce(kind));

const total = (m: Map<string, number> | undefined) =>
  [...(m ?? new Map()).values()].reduce((a, b) => a + b, 0);
const list = (m: Map<string, number> | undefined) =>
  [...(m ?? new Map<string, number>())].map(([op, n]) => `${op} ${n}`).join(', ') || 'none';
const rows = results.map((r) => {
  const worked = r.checks.every((c) => c.ok);
  const sql = r.sql
    ? `${total(r.sql.statements)} in ${r.sql.sessions} session(s), ${r.sql.refusedLogins} refused login(s)`
    : 'not found in the server log';
  const ssm = total(r.calls.get('ssm'));
  // The token bucket starts full (a burst of one second's worth), then lets rps through each second.
  const floor = Math.max(0, ssm - Math.floor(r.ssmRps)) / r.ssmRps;
  return `| ${r.kind} | ${r.outcome} ${worked ? '✓' : '✗'} | ${(r.wallMs / 1000).toFixed(2)} s | ${(r.invocationMs / 1000).toFixed(2)} s${r.coldStart ? ' (cold)' : ''} | ${floor.toFixed(1)} s | ${ssm} | ${total(r.calls.get('dynamodb'))} | ${total(r.calls.get('events'))} | ${sql} | ${r.invocationOk ? 0 : 1} |`;
});
const details = results.flatMap((r) => [
  `- ${r.kind}: SSM ${list(r.calls.get('ssm'))}; DynamoDB ${list(r.calls.get('dynamodb'))}; EventBridge ${list(r.calls.get('events'))}${[
    ...r.calls.keys(),
  ]
    .filter((s) => !['ssm', 'dynamodb', 'events'].includes(s))
    .map((s) => `; ${s} ${list(r.calls.get(s))}`)
    .join(
      '',
    )}${r.callErrors.size ? ` (answered with an error: ${list(r.callErrors)})` : ''}. SQL: ${r.sql ? list(r.sql.statements) : 'not counted'}. Checks: ${r.checks.map((c) => `${c.what} ${c.ok ? '✓' : '✗'}`).join(', ')}.${r.error ? ` Error: ${r.error.slice(0, 300)}` : ''}`,
]);
const table = [
  '',
  '## Rotation, PostgreSQL: one postgres-single and one postgres-alternating rotation on real PostgreSQL',
  '',
  '| kind | outcome (plain name logs in) | wall time (run) | invocation | SSM pacing floor | SSM calls | DynamoDB calls | EventBridge calls | SQL statements the server ran | failed invocations |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows,
  '',
  ...details,
  '',
  `Each rotation runs alone in a fresh world (one secret configured, one cold invocation), SSM without added latency. The function paces SSM at ${results[0]?.ssmRps ?? 10} requests/s (\`rotation.ssmRequestsPerSecond\`), its bucket full at a cold start: the pacing floor is what its SSM calls take at that pace alone. Statements are from the server's log (\`log_statement = 'all'\` for the database) between two marker sessions of the bench: every other session in that span is the function's (\`SELECT 1\` is a login check).`,
].join('\n');
process.stdout.write(`${table}\n`);
appendFileSync(join(root, 'bench', 'results.md'), `${table}\n`);

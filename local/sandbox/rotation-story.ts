/**
 * The rotation story: four secrets of the example app rotated by the deployed function while the app keeps
 * using them — webhooks-db's alternating users (`api` writes every 100 ms), its single-user reports
 * credential (`reports` reads every 100 ms), the partner API key `worker` presents to `api`, and the Clio
 * OAuth client secret a person must fetch from Clio. A failure is injected at a step boundary of each
 * database rotation (SSM refusing a label after the plain name switched; the plain name's put after the
 * password changed); Lambda's retry converges.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { pendingName } from '../../lambdas/rotation/model.ts';
import { alterRolePasswordSql } from '../../lambdas/rotation/postgres-sql.ts';
import type { NightshiftConfigInput } from '../../lib/config/schema.ts';
import type { AlertSink } from '../sink/sink.ts';
import type { LocalWorld } from '../world/world.ts';
import { PAGERDUTY_SERVICE, SLACK_CHANNEL } from './alerts-story.ts';
import type { Narrate, StoryCheck } from './ecs-rollback-story.ts';
import { exampleAppConfig } from './example-config.ts';
import type { OAuthIssuer } from './oauth-issuer.ts';
import { receiveWebhooks } from './rds-snapshots-story.ts';
import { apiKeyLoop, databaseLoop, type LoopCounts } from './rotation-apps.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** The story's names: parameters, roles, the OAuth client. */
export const ROTATION_STORY = {
  database: 'webhooks-db',
  db: '/webhooks/db',
  admin: '/webhooks/db-admin',
  reports: '/webhooks/reports-db',
  apiKey: '/webhooks/partner-api-key',
  clio: '/webhooks/clio-client-secret',
  owner: 'webhooks_owner',
  blue: 'webhooks_blue',
  green: 'webhooks_green',
  reportsUser: 'webhooks_reports',
  clioClientId: 'webhooks-sandbox-client',
  keyCheck: 'webhooks-partner-key-check',
} as const;
const S = ROTATION_STORY;

/**
 * The example app's rotation config: quarterly and yearly in production; here the cadences are set so the
 * rotations fall due after the other stories (day 60 and 61; Clio's secret on day 80, noticed 20 days before).
 */
export function sandboxRotation(clioTokenUrl: string): NonNullable<NightshiftConfigInput['rotation']> {
  const vpc = exampleAppConfig.restoreVerify?.vpc;
  if (!vpc) throw new Error('the example app configures a VPC for restore verification');
  const cluster = 'webhooks-prod';
  return {
    vpc,
    // Every 6 hours (hourly by default): 80 virtual days of runs stay quick; a failed run is retried by
    // Lambda a minute later all the same.
    scheduleMinutes: 360,
    ssmRequestsPerSecond: 40,
    secrets: [
      {
        parameter: S.db,
        kind: 'postgres-alternating',
        cadenceDays: 60,
        alternating: { users: [S.blue, S.green], ownerRole: S.owner, adminParameter: S.admin },
        consumers: [{ cluster, service: 'webhooks-api', readsAt: 'run-time' }],
      },
      {
        parameter: S.apiKey,
        kind: 'generated',
        cadenceDays: 60,
        // The team's own check (a Lambda function): it reads the pending key itself and says yes or no.
        test: { lambda: { function: S.keyCheck } },
        consumers: [
          { cluster, service: 'webhooks-api', readsAt: 'run-time' },
          // ECS `secrets`: the worker's tasks hold the key they started with; Nightshift redeploys worker.
          { cluster, service: 'webhooks-worker', readsAt: 'start' },
        ],
      },
      {
        parameter: S.reports,
        kind: 'postgres-single',
        cadenceDays: 61,
        consumers: [{ cluster, service: 'webhooks-worker', readsAt: 'run-time' }],
      },
      {
        parameter: S.clio,
        kind: 'external',
        cadenceDays: 80,
        noticeDays: 20,
        test: {
          https: {
            url: clioTokenUrl,
            method: 'POST',
            present: { scheme: 'basic', username: S.clioClientId },
            form: 'grant_type=client_credentials',
          },
        },
      },
    ],
  };
}

const password = () => randomBytes(18).toString('base64url');

/**
 * What the team had before Nightshift: one app user (webhooks_blue) owning the app's schema and table, a
 * reports role it granted SELECT to; and the four parameters, plus the master credential for the bootstrap.
 * Run before the schedules start, so no run finds a parameter missing.
 */
export async function installRotationSecrets(world: LocalWorld, clio: OAuthIssuer): Promise<void> {
  // The team's check of a new partner key: its own SSM read of the pending place (never sent the value),
  // then a yes for a key api's verifier would take (URL- and .pgpass-safe characters, at least 32).
  const checker = new SSMClient(world.operatorConfig());
  world.lambda.define(S.keyCheck, async (event) => {
    const { pendingParameter } = event as { pendingParameter: string };
    const out = await checker.send(new GetParameterCommand({ Name: pendingParameter, WithDecryption: true }));
    const key = out.Parameter?.Value ?? '';
    return /^[A-Za-z0-9._-]{32,}$/.test(key) ? { ok: true } : { ok: false, reason: 'not a partner key' };
  });
  const server = await world.rds.serverOf(S.database);
  if (!server) throw new Error(`${S.database} has no server`);
  const admin = await server.connect('postgres');
  const credential = (username: string) => ({
    username,
    password: password(),
    host: server.host,
    port: server.port,
    dbname: 'postgres',
  });
  const blue = credential(S.blue);
  const reports = credential(S.reportsUser);
  const master = { username: 'postgres', password: password() };
  await server.setPassword(master.username, master.password);
  try {
    await admin.query(`CREATE ROLE ${S.blue} LOGIN`);
    await admin.query(await alterRolePasswordSql(blue.username, blue.password));
    await admin.query(`CREATE SCHEMA app AUTHORIZATION ${S.blue}`);
    await admin.query(
      'CREATE TABLE app.deliveries (id bigserial PRIMARY KEY, source text NOT NULL, at timestamptz NOT NULL DEFAULT now())',
    );
    await admin.query(`ALTER TABLE app.deliveries OWNER TO ${S.blue}`);
    await admin.query(`CREATE ROLE ${S.reportsUser} LOGIN`);
    await admin.query(await alterRolePasswordSql(reports.username, reports.password));
    await admin.query(`GRANT USAGE ON SCHEMA app TO ${S.reportsUser}`);
    await admin.query(`GRANT SELECT ON app.deliveries TO ${S.reportsUser}`);
  } finally {
    await admin.end();
  }
  const ssm = new SSMClient(world.operatorConfig());
  const put = (Name: string, value: unknown) =>
    ssm.send(
      new PutParameterCommand({
        Name,
        Value: typeof value === 'string' ? value : JSON.stringify(value),
        Type: 'SecureString',
        Overwrite: true,
      }),
    );
  // The app's one user; the bootstrap makes the second.
  await put(S.db, blue);
  await put(S.admin, master);
  await put(S.reports, reports);
  await put(S.apiKey, randomBytes(30).toString('base64url'));
  const issued = clio.issue();
  await put(S.clio, issued);
}

/** Every value a parameter (or its pending place) ever held: none may appear in events, logs or alerts. */
function everyValue(world: LocalWorld): string[] {
  const values: string[] = [];
  for (const name of [S.db, S.reports, S.apiKey, S.clio]) {
    for (const v of [...world.ssm.history(name), ...world.ssm.history(pendingName(name))]) {
      values.push(v.value);
      try {
        const parsed = JSON.parse(v.value) as { password?: string };
        if (parsed.password) values.push(parsed.password);
      } catch {
        // a plain string value: already listed
      }
    }
  }
  return [...new Set(values)];
}

const usersOf = (world: LocalWorld, name: string) =>
  world.ssm.history(name).map((v) => {
    try {
      return (JSON.parse(v.value) as { username?: string }).username ?? '?';
    } catch {
      return '?';
    }
  });

/** Moves time on a day at a time, the app receiving its webhooks each day (so backups keep verifying). */
async function advance(world: LocalWorld, ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= DAY) {
    for (const database of [S.database, 'billing-db']) await receiveWebhooks(world, database, 'insert');
    await world.advance(Math.min(DAY, left));
  }
}

/** The story's schedule: a run every 6 hours. */
const RUN_EVERY = 6 * HOUR;

/** Advances the world to just before `at`, then over its next run with the apps running. */
async function overRun(world: LocalWorld, at: number, loops: { start(): void }[]): Promise<void> {
  const lead = at - world.clock.now() - 30 * 60_000;
  if (lead > 0) await advance(world, lead);
  for (const l of loops) l.start();
  // The first run at or after `at`, and Lambda's retries of a failed one (1 and 2 minutes later).
  await world.advance(RUN_EVERY + HOUR);
}

const describeLoop = (c: LoopCounts) =>
  `${c.queries} queries as ${c.users.join(' → ') || 'nobody'}: ${c.refused} refused, ${c.recovered} recovered by the helper's retry, ${c.failed} failed${c.errors[0] ? ` (${c.errors[0]})` : ''}`;

export async function runRotationStory(
  world: LocalWorld,
  sink: AlertSink,
  clio: OAuthIssuer,
  narrate: Narrate,
  say: (line: string) => void,
): Promise<StoryCheck[]> {
  const ssm = new SSMClient(world.operatorConfig());
  const server = await world.rds.serverOf(S.database);
  if (!server) throw new Error(`${S.database} has no server`);
  const clock = () => world.clock.liveNow();
  const installedAt = world.ssm.history(S.db)[0]?.lastModified ?? world.clock.now();
  const publishedBefore = world.events.published.length;
  const pagesBefore = sink.pagerduty.alerts(PAGERDUTY_SERVICE).length;
  const slackBefore = sink.slack.messages(SLACK_CHANNEL).length;
  narrate(
    `since ${new Date(installedAt).toISOString().slice(0, 10)}: ${S.db} (the app's one user ${S.blue}, to become alternating ${S.blue}/${S.green}), ${S.reports} (single user), ${S.apiKey} (generated), ${S.clio} (external, issued by Clio)`,
  );

  // The bootstrap, as an operator runs it: `aws lambda invoke` of the rotation function, a dry run first.
  const fn = world.app.functions.find((f) => f.logicalId.includes('Rotation'));
  const rotation = fn ? world.lambdas.get(fn.logicalId) : undefined;
  if (!rotation) throw new Error('no rotation function in the app');
  const invoke = async (apply: boolean) => {
    const out = await rotation.invoke({ bootstrap: { parameter: S.db, apply } });
    if (!out.ok) throw new Error(`bootstrap ${apply ? 'apply' : 'dry run'} failed: ${out.error?.message}`);
    return out.result as {
      outcome: string;
      plan: { summary: string; changes: { sql: string; locks: { mode: string }[] }[]; notes: string[] };
      applied?: unknown[];
    };
  };
  const dry = await invoke(false);
  const modes = [...new Set(dry.plan.changes.flatMap((c) => c.locks.map((l) => l.mode)))];
  narrate(
    `bootstrap dry run: ${dry.plan.summary}; locks ${modes.join(', ') || 'none'} until its one transaction commits; ${dry.plan.notes.length} note(s)`,
  );
  for (const c of dry.plan.changes.slice(0, 4)) narrate(`    ${c.sql.slice(0, 110)}`);
  if (dry.plan.changes.length > 4) narrate(`    … ${dry.plan.changes.length - 4} more`);
  const applied = await invoke(true);
  const again = await invoke(false);
  narrate(
    `bootstrap applied: ${applied.applied?.length ?? 0} change(s); a dry run again: ${again.plan.summary}`,
  );

  // Day 60: the alternating users and the API key fall due; SSM refuses the alternating finish's first label
  // (five times: every attempt of the SDK), after the plain name already holds the new user.
  const api = databaseLoop({
    ssm,
    parameter: S.db,
    sql: "INSERT INTO app.deliveries (source) VALUES ('stripe')",
    ssl: server.ssl,
    clock,
  });
  const workerDeployment = () =>
    [...world.ecs.services.values()]
      .find((s) => s.serviceName === 'webhooks-worker')
      ?.deployments.find((d) => d.status === 'PRIMARY')?.id;
  const workerDeploymentBefore = workerDeployment();
  const keys = apiKeyLoop({
    ssm,
    parameter: S.apiKey,
    graceMs: 7 * DAY,
    clock,
    deployment: workerDeployment,
  });
  world.endpoint.faults.add({
    service: 'ssm',
    operation: 'LabelParameterVersion',
    kind: 'server-error',
    // Every attempt the SDK makes (AWS_MAX_ATTEMPTS is 5 in the world): the step fails, not just a request.
    count: 5,
  });
  narrate(
    'day 60: api writes every 100 ms as the stored user; worker calls api with the partner key every 100 ms',
  );
  narrate(
    '  SSM will refuse the first label of the alternating rotation (a step boundary after the plain name switched)',
  );
  await overRun(world, installedAt + 60 * DAY, [api, keys]);
  const apiCounts = await api.stop();
  const keyCounts = await keys.stop();
  world.endpoint.faults.clear();
  narrate(`  api: ${describeLoop(apiCounts)}`);
  narrate(`  worker → api: ${keyCounts.queries} calls, ${keyCounts.failed} refused`);
  const workerTasks = keys.startedWith();
  const keyNow = world.ssm.history(S.apiKey).at(-1)?.value;
  narrate(
    `  worker reads the key at start: Nightshift redeployed it after the rotation; its new tasks hold the ${workerTasks.key === keyNow ? 'new' : 'old'} key`,
  );

  // Day 61: the single user; SSM refuses the plain name's put after the password changed — the window.
  const reports = databaseLoop({
    ssm,
    parameter: S.reports,
    sql: 'SELECT count(*) FROM app.deliveries',
    ssl: server.ssl,
    clock,
  });
  world.endpoint.faults.add({
    service: 'ssm',
    operation: 'PutParameter',
    kind: 'server-error',
    skip: 1,
    count: 5,
  });
  narrate('day 61: reports reads every 100 ms; SSM will refuse the finish put after the password change');
  await overRun(world, installedAt + 61 * DAY, [reports]);
  const reportsCounts = await reports.stop();
  world.endpoint.faults.clear();
  narrate(`  reports: ${describeLoop(reportsCounts)}`);

  // Day 80: Clio's client secret is overdue; a person fetches a new one and puts it in the pending place.
  await advance(world, installedAt + 80 * DAY + RUN_EVERY + 60_000 - world.clock.now());
  const issued = clio.issue();
  await ssm.send(
    new PutParameterCommand({
      Name: pendingName(S.clio),
      Value: issued,
      Type: 'SecureString',
      Overwrite: true,
    }),
  );
  narrate(`a person creates a new client secret in Clio's console and puts it in ${pendingName(S.clio)}`);
  await world.advance(RUN_EVERY);

  const events = world.events.published
    .slice(publishedBefore)
    .filter((e) => e['detail-type'].startsWith('Rotation') || e['detail-type'].startsWith('Consumers'));
  say('\nRotation events (what the router received; one line per event key, the first time it came):');
  const byKey = new Map<string, { first: (typeof events)[number]; times: number }>();
  for (const e of events) {
    const k = String(e.detail.eventKey);
    const entry = byKey.get(k);
    if (entry) entry.times += 1;
    else byKey.set(k, { first: e, times: 1 });
  }
  for (const { first: e, times } of byKey.values()) {
    say(
      `  ${e.time.slice(0, 16).replace('T', ' ')}  ${e['detail-type'].padEnd(19)} ${String(e.detail.severity).padEnd(8)} ${String(e.detail.parameter)}${times > 1 ? ` (×${times}, one key)` : ''}${e.detail.reason ? `  ${String(e.detail.reason).slice(0, 100)}` : ''}`,
    );
  }
  const rotationAlert = (text: string | undefined) => text?.includes('Rotation') ?? false;
  const pages = sink.pagerduty
    .alerts(PAGERDUTY_SERVICE)
    .slice(pagesBefore)
    .filter((p) => rotationAlert(p.log[0]?.summary));
  const slack = sink.slack
    .messages(SLACK_CHANNEL)
    .slice(slackBefore)
    .filter((m) => rotationAlert(m.text));
  say('What the person on call saw of the rotations:');
  for (const p of pages) say(`  PagerDuty  ${p.log[0]?.summary ?? p.dedupKey}`);
  for (const m of slack) say(`  Slack      ${m.text.slice(0, 120)}`);

  const of = (type: string, parameter: string) =>
    events.filter((e) => e['detail-type'] === type && e.detail.parameter === parameter);
  const converged = (name: string) =>
    world.ssm.history(pendingName(name)).length === 0 &&
    world.ssm.labelsOf(name).current === world.ssm.history(name).at(-1)?.version;
  const dbUsers = usersOf(world, S.db);
  const redeployed = of('Consumers Redeployed', S.apiKey);
  const checks = world.lambda.invocations
    .filter((i) => i.name === S.keyCheck)
    .map((i) => i.event as { pendingParameter?: string });
  const values = everyValue(world);
  const seen = JSON.stringify([
    world.events.published,
    [...world.lambdas.values()].map((l) => l.logs),
    sink.requests,
  ]);
  const leaked = values.filter((v) => seen.includes(v));
  const clioTries = clio.requests;
  return [
    {
      what: 'bootstrap: the dry run listed the changes and their locks, apply made them, then nothing to do',
      ok:
        dry.outcome === 'planned' &&
        dry.plan.changes.length > 0 &&
        applied.outcome === 'applied' &&
        (applied.applied?.length ?? 0) > 0 &&
        again.plan.changes.length === 0,
      detail: `${dry.plan.changes.length} planned, ${applied.applied?.length ?? 0} applied, then ${again.plan.changes.length}`,
    },
    {
      what: 'alternating users: the app never saw a refused credential; the plain name moved to the other user',
      ok:
        apiCounts.queries > 0 &&
        apiCounts.refused === 0 &&
        apiCounts.failed === 0 &&
        dbUsers.at(-1) === S.green,
      detail: `${describeLoop(apiCounts)}; versions hold ${dbUsers.join(', ')}`,
    },
    {
      what: 'single user: each refused query recovered by the helper’s one retry, none failed',
      ok:
        reportsCounts.queries > 0 &&
        reportsCounts.failed === 0 &&
        reportsCounts.refused === reportsCounts.recovered,
      detail: describeLoop(reportsCounts),
    },
    {
      what: 'the API key rotated while worker and api kept talking',
      ok: keyCounts.queries > 0 && keyCounts.failed === 0 && of('Rotation Succeeded', S.apiKey).length === 1,
      detail: `${keyCounts.queries} calls, ${keyCounts.failed} refused; ${world.ssm.history(S.apiKey).length} versions`,
    },
    {
      what: "the new API key was proven by the team's Lambda check first, sent the names only",
      ok:
        checks.length === 1 &&
        checks[0]?.pendingParameter === `${S.apiKey}.pending` &&
        !values.some((v) => JSON.stringify(checks).includes(v)),
      detail: `${checks.length} invocation(s) of ${S.keyCheck}: ${JSON.stringify(checks[0] ?? {})}`,
    },
    {
      what: 'worker (reads the key at start) redeployed once by Nightshift after the rotation, its tasks now on the new key',
      ok:
        redeployed.length === 1 &&
        workerDeployment() !== workerDeploymentBefore &&
        workerTasks.key !== undefined &&
        workerTasks.key === keyNow,
      detail: `${redeployed.length} Consumers Redeployed (${redeployed.map((e) => String(e.detail.service)).join(', ')}); worker's deployment ${workerDeployment() === workerDeploymentBefore ? 'unchanged' : 'new'}`,
    },
    {
      what: 'each injected failure raised Rotation Failed, and Lambda’s retry converged (one new version, .pending gone)',
      ok:
        of('Rotation Failed', S.db).length === 1 &&
        of('Rotation Failed', S.reports).length === 1 &&
        [S.db, S.reports].every(converged) &&
        world.ssm.history(S.db).length === 2 &&
        world.ssm.history(S.reports).length === 2,
      detail: `${S.db}: ${world.ssm.history(S.db).length} versions, ${S.reports}: ${world.ssm.history(S.reports).length}; failures ${of('Rotation Failed', S.db).length + of('Rotation Failed', S.reports).length}`,
    },
    {
      what: "Clio's secret: a warning 20 days before, critical when overdue, then tested at Clio's token endpoint and finished",
      ok:
        of('Rotation Due Soon', S.clio).length >= 1 &&
        String(of('Rotation Due Soon', S.clio)[0]?.detail.reason).includes('falls due in 20 day(s)') &&
        of('Rotation Overdue', S.clio).length >= 1 &&
        of('Rotation Succeeded', S.clio).length === 1 &&
        world.ssm.history(S.clio).at(-1)?.value === issued &&
        clioTries.some((t) => t.accepted),
      detail: `${of('Rotation Due Soon', S.clio).length} due-soon, ${of('Rotation Overdue', S.clio).length} overdue event(s); Clio's token endpoint: ${clioTries.length} request(s), ${clioTries.filter((t) => t.accepted).length} accepted`,
    },
    {
      what: 'the failures and the overdue secret paged; the due date reached Slack',
      ok:
        pages.some((p) => p.log[0]?.summary?.includes('Rotation Failed')) &&
        pages.some((p) => p.log[0]?.summary?.includes('Rotation Overdue')) &&
        slack.some((m) => m.text.includes('Rotation Due Soon')),
      detail: `${pages.length} page(s), ${slack.length} Slack message(s)`,
    },
    {
      what: 'no secret value in events, function logs or alerts',
      ok: leaked.length === 0,
      detail: `${values.length} values and passwords checked; ${leaked.length} found`,
    },
  ];
}

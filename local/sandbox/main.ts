import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AuditLog } from '../../lambdas/shared/audit.ts';
import { exitOnInvalidConfig } from '../../lib/config/load-config.ts';
import { LocalCertificateAuthority } from '../postgres/tls.ts';
import { AlertSink } from '../sink/sink.ts';
import { LocalWorld } from '../world/world.ts';
import { installAlertSecrets, runAlertsStory } from './alerts-story.ts';
import { runConfigRollbackStory } from './config-rollback-story.ts';
import { runEcsRollbackStory, type StoryCheck } from './ecs-rollback-story.ts';
import { sandboxStoryConfig } from './example-config.ts';
import { OAuthIssuer } from './oauth-issuer.ts';
import { runSnapshotStory } from './rds-snapshots-story.ts';
import { runRestoreVerifyStory } from './restore-verify-story.ts';
import {
  installRotationSecrets,
  ROTATION_STORY,
  runRotationStory,
  sandboxRotation,
} from './rotation-story.ts';
import { synthesize } from './synth.ts';

const START = Date.parse('2026-11-16T08:00:00.000Z');
const t0 = Date.now();
const say = (line: string) => process.stdout.write(`${line}\n`);

say('Nightshift sandbox: every implemented runbook, end to end, on this machine (no AWS account).');
// The story needs its own app (local/sandbox/example-config.ts): nightshift.config.ts is the user's, not read here.
say('Built-in example app: a webhook service (ECS api and worker, RDS webhooks-db and billing-db).\n');
const outdir = process.env.NIGHTSHIFT_SANDBOX_OUT ?? mkdtempSync(join(tmpdir(), 'nightshift-sandbox-'));
say(`synth (esbuild bundles + cdk-nag) → ${outdir}`);
// Restore verification ships a CA bundle with its function; here it is this machine's local RDS CA (the
// world hands the running function its own bundle through NIGHTSHIFT_RDS_CA_BUNDLE).
const localCa = await LocalCertificateAuthority.create('Nightshift sandbox RDS CA');
const caBundleFile = join(outdir, 'sandbox-rds-ca.pem');
mkdirSync(outdir, { recursive: true });
writeFileSync(caBundleFile, localCa.certificatePem);
// The alert sink (Slack, PagerDuty) serves HTTPS with a certificate from the same local CA.
let liveClock: (() => number) | undefined;
const sink = await AlertSink.start({ ca: localCa, now: () => liveClock?.() ?? START });
// Clio's OAuth token endpoint, where the rotation tests a new client secret (HTTPS, the same local CA).
const clio = await OAuthIssuer.start(localCa, ROTATION_STORY.clioClientId);
const { config, stackName } = await exitOnInvalidConfig(() =>
  synthesize(outdir, sandboxStoryConfig(caBundleFile, sink.url, sandboxRotation(clio.tokenUrl))),
);

const world = await LocalWorld.start({
  cloudAssemblyDir: outdir,
  account: config.account ?? '123456789012',
  region: config.region ?? 'eu-west-1',
  stackName,
  start: START,
  postgres: true,
  extraCaBundle: caBundleFile,
});
liveClock = () => world.clock.liveNow();
const { webhookUrl } = await installAlertSecrets(world, sink);
say(
  `local AWS endpoint ${world.endpoint.url}: ${world.app.functions.length} function(s), ${world.app.rules.length} rule(s) from the template\n`,
);

let checks: StoryCheck[] = [];
const narrate = (line: string) =>
  say(`  · ${new Date(world.clock.now()).toISOString().slice(0, 16).replace('T', ' ')}  ${line}`);
try {
  say('── ECS rollback ─────────────────────────────────────────────');
  checks = await runEcsRollbackStory(world, config, narrate);

  say('\nTimeline (from the audit log):');
  const table = world.app.tables[0]?.tableName ?? '';
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient(world.operatorConfig()));
  const entries = await new AuditLog(documents, table, 1).list('ecs-rollback');
  for (const e of entries) {
    say(
      `  ${e.at.slice(0, 19).replace('T', ' ')}  ${e.subject.padEnd(6)} ${e.action.padEnd(26)} ${e.outcome.padEnd(9)} ${e.reason}`,
    );
  }
  say('\nnightshift events published:');
  for (const e of world.events.published) {
    say(
      `  ${e.time}  ${e['detail-type'].padEnd(20)} ${String(e.detail.service)}  ${String(e.detail.reason ?? '')}`,
    );
  }

  say('\n── RDS snapshots ────────────────────────────────────────────');
  const snapshotChecks = await runSnapshotStory(world, config, narrate, () =>
    installRotationSecrets(world, clio),
  );
  const runs = (await new AuditLog(documents, table, 1).list('rds-snapshots')).filter(
    (e) => e.action === 'snapshot-run',
  );
  say('\nSnapshot runs (from the audit log; first and last three):');
  for (const e of [...runs.slice(0, 3), ...runs.slice(-3)]) {
    say(`  ${e.at.slice(0, 16).replace('T', ' ')}  ${e.outcome.padEnd(9)} ${e.reason}`);
  }
  checks.push(...snapshotChecks);

  say('\n── Restore verification ─────────────────────────────────────');
  checks.push(...(await runRestoreVerifyStory(world, narrate)));

  say('\n── Alerts ───────────────────────────────────────────────────');
  checks.push(...(await runAlertsStory(world, sink, webhookUrl, narrate, say)));

  say('\n── Rotation ─────────────────────────────────────────────────');
  checks.push(...(await runRotationStory(world, sink, clio, narrate, say)));

  say('\n── Config rollback ──────────────────────────────────────────');
  checks.push(...(await runConfigRollbackStory(world, config, narrate)));

  say('\nChecks:');
  for (const c of checks) say(`  ${c.ok ? '✓' : '✗'} ${c.what} — ${c.detail}`);
} finally {
  await world.close();
  await sink.close();
  await clio.close();
}
const failed = checks.filter((c) => !c.ok);
say(
  `\n${failed.length === 0 ? 'Sandbox story passed' : `Sandbox story FAILED (${failed.length} check(s))`} in ${((Date.now() - t0) / 1000).toFixed(1)} s.`,
);
process.exit(failed.length === 0 ? 0 : 1);

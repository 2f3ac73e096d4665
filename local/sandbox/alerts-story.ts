import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AlertSink } from '../sink/sink.ts';
import type { LocalWorld } from '../world/world.ts';
import type { Narrate, StoryCheck } from './ecs-rollback-story.ts';
import { SANDBOX_ALERT_PARAMETERS, SANDBOX_RECEIVERS } from './example-config.ts';

const MIN = 60_000;
export const SLACK_CHANNEL = '#webhooks-ops';
export const PAGERDUTY_SERVICE = 'webhooks (PagerDuty service)';

/**
 * Puts the alert secrets where a user would (SSM SecureStrings), before anything can fire; verifies the
 * email identity in SES and makes the ticketing bridge's topic, as the team did before deploying.
 */
export async function installAlertSecrets(
  world: LocalWorld,
  sink: AlertSink,
): Promise<{ webhookUrl: string }> {
  const ssm = new SSMClient(world.operatorConfig());
  const webhookUrl = sink.slack.createWebhook({ channel: SLACK_CHANNEL });
  const routingKey = sink.pagerduty.createIntegration({ service: PAGERDUTY_SERVICE });
  sink.slack.createChannel(SANDBOX_RECEIVERS.incidentsChannel);
  const botToken = sink.slack.createBotToken({ channels: [SANDBOX_RECEIVERS.incidentsChannel] });
  for (const [Name, Value] of [
    [SANDBOX_ALERT_PARAMETERS.slackWebhook, webhookUrl],
    [SANDBOX_ALERT_PARAMETERS.pagerdutyRoutingKey, routingKey],
    [SANDBOX_ALERT_PARAMETERS.slackBotToken, botToken],
  ] as const) {
    await ssm.send(new PutParameterCommand({ Name, Value, Type: 'SecureString', Overwrite: true }));
  }
  world.ses.verifyIdentity(SANDBOX_RECEIVERS.emailIdentity);
  world.sns.createTopic(SANDBOX_RECEIVERS.ticketsTopic);
  return { webhookUrl };
}

const INCIDENTS = SANDBOX_RECEIVERS.incidentsChannel;
/** A message's header block, as Slack shows it on top. */
const headerOf = (m: { blocks: readonly unknown[]; text: string }) =>
  String((m.blocks[0] as { text?: { text?: string } } | undefined)?.text?.text ?? m.text);
const ticketsOf = (world: LocalWorld) =>
  world.sns.published.filter((m) => m.topicArn.endsWith(`:${SANDBOX_RECEIVERS.ticketsTopic}`));

/** Lets the senders finish: advances in steps until no alert waits in a receiver's queue. */
export async function drainAlerts(world: LocalWorld, maxMs = 30 * MIN): Promise<void> {
  for (let spent = 0; spent < maxMs; spent += 5_000) {
    await world.settle();
    const waiting = world.app.queues.some((q) => {
      if (!q.logicalId.includes('Receiver') || q.logicalId.includes('DeadLetters')) return false;
      const c = world.sqs.queue(q.arn)?.counts();
      return (c?.visible ?? 0) + (c?.inFlight ?? 0) + (c?.delayed ?? 0) > 0;
    });
    if (!waiting) return;
    await world.advance(5_000);
  }
}

/** The smallest gap between two of the times, in ms. */
function minGap(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted.slice(1).reduce((min, t, i) => Math.min(min, t - (sorted[i] ?? t)), Number.POSITIVE_INFINITY);
}

const when = (at: number) => new Date(at).toISOString().slice(5, 16).replace('T', ' ');

/** What the person on call saw in PagerDuty, and the channel in Slack, since `from`, in time order. */
export function whatPeopleSaw(sink: AlertSink, from: number, say: (line: string) => void): void {
  const paged = sink.pagerduty.alerts(PAGERDUTY_SERVICE).flatMap((a) =>
    a.log.map((l, i) => ({
      at: l.at,
      what: l.action === 'trigger' ? (i === 0 ? 'incident opened' : 'note on the incident') : l.action,
      text: i === 0 || l.action !== 'trigger' ? (a.log[0]?.summary ?? a.dedupKey) : (l.summary ?? ''),
    })),
  );
  const changes = sink.pagerduty
    .changes(PAGERDUTY_SERVICE)
    .map((c) => ({ at: c.at, what: 'change event', text: c.summary }));
  say('  PagerDuty (the person on call):');
  for (const e of [...paged, ...changes].filter((x) => x.at >= from).sort((a, b) => a.at - b.at)) {
    say(`    ${when(e.at)}  ${e.what.padEnd(20)} ${e.text.slice(0, 100)}`);
  }
  say(`  Slack ${SLACK_CHANNEL}:`);
  for (const m of sink.slack.messages(SLACK_CHANNEL).filter((x) => x.at >= from)) {
    // As Slack shows it: mrkdwn entities rendered.
    const shown = m.text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
    say(`    ${when(m.at)}  ${shown.slice(0, 110)}`);
  }
}

/** The incidents channel (bot token): each first message as it reads now, and its thread under it. */
function incidentsChannelSaw(sink: AlertSink, from: number, say: (line: string) => void): void {
  say(`  Slack incidents channel ${INCIDENTS} (bot token: one thread per episode):`);
  for (const m of sink.slack.messages(INCIDENTS).filter((x) => x.at >= from)) {
    const edited = m.edits.length > 0 ? ` (updated ${m.edits.length}×)` : '';
    say(`    ${when(m.at)}  ${headerOf(m).slice(0, 100)}${edited}`);
    for (const r of sink.slack.thread(INCIDENTS, m.ts))
      say(`      ↳ ${when(r.at)}  ${headerOf(r).slice(0, 96)}`);
  }
}

/** The on-call inbox (SES) and the ticketing bridge (SNS). */
function mailAndTicketsSaw(world: LocalWorld, from: number, say: (line: string) => void): void {
  say(`  Email to ${SANDBOX_RECEIVERS.emailTo.join(', ')} (SES):`);
  for (const m of world.ses.sent.filter((x) => x.at >= from)) say(`    ${when(m.at)}  ${m.subject ?? ''}`);
  const tickets = ticketsOf(world).filter((m) => m.at >= from);
  say(`  Ticketing bridge (SNS topic ${SANDBOX_RECEIVERS.ticketsTopic}): ${tickets.length} message(s)`);
}

/**
 * The alert story, after the runbooks' stories (whose alarms and events were routed as they happened):
 * what each person saw; a warning that reaches Slack only; PagerDuty down for two minutes; a revoked Slack
 * webhook, its DLQ and the replay after the fix; info events kept for the digest.
 */
export async function runAlertsStory(
  world: LocalWorld,
  sink: AlertSink,
  webhookUrl: string,
  narrate: Narrate,
  say: (line: string) => void,
): Promise<StoryCheck[]> {
  await drainAlerts(world);
  say('\nWhat each person saw during the runbooks’ stories:');
  whatPeopleSaw(sink, 0, say);
  incidentsChannelSaw(sink, 0, say);
  mailAndTicketsSaw(world, 0, say);
  const storyStart = world.clock.now();

  const gone = SANDBOX_RECEIVERS.emailTo[1];
  narrate(`${gone} left the team and their mailbox is deleted; the email receiver still lists them`);
  world.ses.mailboxesGone.add(gone);

  narrate('webhooks-platform-cpu-75-warning enters ALARM (CPU at 75 %)');
  world.cloudwatch.putAlarm('webhooks-platform-cpu-75-warning');
  world.cloudwatch.setState(
    'webhooks-platform-cpu-75-warning',
    'ALARM',
    'Threshold Crossed: CPU 75.3 % > 70 %',
  );
  await drainAlerts(world);

  narrate('PagerDuty answers 503 for two minutes; webhooks-platform-queue-depth-critical enters ALARM');
  sink.inject({ service: 'pagerduty', kind: 'status', status: 503 });
  world.cloudwatch.putAlarm('webhooks-platform-queue-depth-critical');
  world.cloudwatch.setState(
    'webhooks-platform-queue-depth-critical',
    'ALARM',
    'Threshold Crossed: 12,400 messages',
  );
  await world.settle();
  await world.advance(2 * MIN);
  sink.clearFaults();
  narrate('PagerDuty is back');
  await drainAlerts(world);
  const refusedBy503 = sink.requests.filter((r) => r.at >= storyStart && r.status === 503).length;

  narrate('someone revokes the Slack webhook; webhooks-platform-disk-80-warning enters ALARM');
  sink.slack.revokeWebhook(webhookUrl);
  world.cloudwatch.putAlarm('webhooks-platform-disk-80-warning');
  world.cloudwatch.setState(
    'webhooks-platform-disk-80-warning',
    'ALARM',
    'Threshold Crossed: disk 81 % > 80 %',
  );
  await drainAlerts(world);
  const dlq = world.app.queues.find((q) => /Receiverslack.*DeadLetters/.test(q.logicalId));
  const parked = world.sqs.queue(dlq?.arn ?? '')?.peek() ?? [];
  for (const m of parked) {
    narrate(`Slack DLQ holds the alert: ${m.attributes.failureReason?.StringValue ?? '(no reason)'}`);
  }
  narrate(
    'the team puts a new webhook URL in its parameter and redrives the DLQ (aws sqs start-message-move-task)',
  );
  const fresh = sink.slack.createWebhook({ channel: SLACK_CHANNEL });
  await new SSMClient(world.operatorConfig()).send(
    new PutParameterCommand({
      Name: SANDBOX_ALERT_PARAMETERS.slackWebhook,
      Value: fresh,
      Type: 'SecureString',
      Overwrite: true,
    }),
  );
  const queue = world.app.queues.find(
    (q) => /Receiverslack/.test(q.logicalId) && !q.logicalId.includes('DeadLetters'),
  );
  await new SQSClient(world.operatorConfig()).send(
    new StartMessageMoveTaskCommand({ SourceArn: dlq?.arn, DestinationArn: queue?.arn }),
  );
  await drainAlerts(world);

  say('\nWhat each person saw during the alert story:');
  whatPeopleSaw(sink, storyStart, say);
  incidentsChannelSaw(sink, storyStart, say);
  mailAndTicketsSaw(world, storyStart, say);

  const table = world.app.tables[0]?.tableName ?? '';
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient(world.operatorConfig()));
  const days = new Set(world.routed.map((e) => e.time.slice(0, 10)));
  let kept = 0;
  for (const day of days) {
    const out = await documents.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `alert-digest#${day}` },
      }),
    );
    kept += out.Items?.length ?? 0;
  }
  const records: Record<string, unknown>[] = [];
  for (const receiver of ['pagerduty', 'slack', 'slack-incidents', 'email', 'tickets']) {
    const out = await documents.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `alert-delivery#${receiver}` },
      }),
    );
    // Thread items (an episode's first message) live beside the delivery records.
    records.push(...(out.Items ?? []).filter((i) => !String(i.sk).startsWith('thread#')));
  }
  const unsent = records.filter((r) => r.state !== 'sent');
  const triggers = sink.pagerduty.alerts(PAGERDUTY_SERVICE).map((a) => a.dedupKey);
  const texts = sink.slack.messages(SLACK_CHANNEL).map((m) => m.text);
  const dlqLeft = world.app.queues
    .filter((q) => q.logicalId.includes('Receiver') && q.logicalId.includes('DeadLetters'))
    .reduce((n, q) => n + (world.sqs.queue(q.arn)?.peek().length ?? 0), 0);
  const cpu = texts.filter((t) => t.includes('webhooks-platform-cpu-75-warning'));
  const queueDepth = sink.pagerduty
    .alerts(PAGERDUTY_SERVICE)
    .filter((a) => a.log[0]?.summary?.includes('queue-depth'));
  // The incidents channel: the rollback's episode as one thread, its first message showing it resolved.
  const episode = sink.slack
    .messages(INCIDENTS)
    .find((m) => headerOf(m).includes('webhooks-api-webhook-success-rate-below-95'));
  const replies = episode ? sink.slack.thread(INCIDENTS, episode.ts).map(headerOf) : [];
  const mail = world.ses.sent.map((m) => m.subject ?? '');
  // One email per alert: the tag the sender puts on each names its alert.
  const mailed = world.ses.sent.map((m) => m.tags.find((t) => t.name === 'nightshift-alert')?.value);
  const bounceWarnings = texts.filter((t) => t.includes('Alert email to receiver email not delivered'));
  const tickets = ticketsOf(world).map((m) => {
    const d = JSON.parse(JSON.parse(m.message).default) as { key: string; status: string };
    return `${d.key}#${d.status}`;
  });
  return [
    {
      what: 'the Slack bot keeps one thread per episode: the alarm, what Nightshift did, the resolution; the first message shows it resolved',
      ok:
        episode !== undefined &&
        headerOf(episode).startsWith('Resolved:') &&
        replies.some((r) => r.includes('Rollback Performed')) &&
        replies.some((r) => r.startsWith('Resolved:')),
      detail: `${replies.length} repl(ies): ${replies.map((r) => r.slice(0, 40)).join(' / ')}`,
    },
    {
      what: 'critical alerts reached the on-call inbox once each; the bounce came back as a warning to Slack and SNS, never by email',
      ok:
        mail.length > 0 &&
        mailed.every((t) => t !== undefined) &&
        new Set(mailed).size === mailed.length &&
        bounceWarnings.length >= 1 &&
        !mail.some((m) => m.includes('not delivered')) &&
        ticketsOf(world).some((m) => m.subject?.includes('not delivered')),
      detail: `${mail.length} email(s); ${bounceWarnings.length} bounce warning(s) in Slack`,
    },
    {
      what: 'the ticketing bridge (SNS) got every critical and warning alert once',
      ok: tickets.length > 0 && new Set(tickets).size === tickets.length,
      detail: `${tickets.length} message(s), ${new Set(tickets).size} distinct`,
    },
    {
      what: 'nothing lost: every delivery sent, no alert left in a queue or DLQ',
      ok: unsent.length === 0 && dlqLeft === 0 && records.length > 0,
      detail: `${records.length} delivery records, ${unsent.length} not sent, ${dlqLeft} in DLQs`,
    },
    {
      what: 'nothing twice: one PagerDuty alert per episode, no Slack message repeated',
      ok: new Set(triggers).size === triggers.length && new Set(texts).size === texts.length,
      detail: `${triggers.length} PagerDuty alerts, ${texts.length} Slack messages`,
    },
    {
      what: 'never more than one Slack message per second per hook',
      ok: sink.maxPerSecond(SLACK_CHANNEL) <= 1 && sink.maxPerSecond(INCIDENTS) <= 1,
      detail: `at most ${sink.maxPerSecond(SLACK_CHANNEL)} in any second; closest two ${minGap(sink.slack.messages(SLACK_CHANNEL).map((m) => m.at))} ms apart`,
    },
    {
      what: 'the CPU warning reached Slack only',
      ok:
        cpu.length === 1 &&
        !sink.pagerduty.alerts(PAGERDUTY_SERVICE).some((a) => a.log[0]?.summary?.includes('cpu-75')),
      detail: `${cpu.length} Slack message(s), no page`,
    },
    {
      what: 'PagerDuty down for two minutes: the page was delivered once when it was back',
      ok: queueDepth.length === 1 && queueDepth[0]?.log.length === 1 && refusedBy503 > 0,
      detail: `${refusedBy503} request(s) answered 503, then ${queueDepth.length} alert`,
    },
    {
      what: 'the revoked webhook’s alert went to the DLQ with its reason, and the replay posted it once',
      ok: parked.length === 1 && texts.filter((t) => t.includes('disk-80')).length === 1,
      detail: `${parked.length} parked; ${texts.filter((t) => t.includes('disk-80')).length} posted after the fix`,
    },
    {
      what: 'info events kept for the digest',
      ok: kept > 0,
      detail: `${kept} alert(s) kept in alert-digest#<day> items`,
    },
  ];
}

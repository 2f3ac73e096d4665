import { readFileSync } from 'node:fs';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RouterRuntimeConfig } from '../../../lambdas/alerts/config.ts';
import { type DeliveryRequest, type RouterDeps, routeEvent } from '../../../lambdas/alerts/router.ts';
import { DigestStore, EpisodeStore } from '../../../lambdas/alerts/state.ts';
import { ForeignEventError, InvalidEventError } from '../../../lambdas/shared/errors.ts';
import { startStateTable } from '../../support/dynamo.ts';
import { ACCOUNT, alarmChange, episodeOf, REGION, T0 } from './alarm-events.ts';

const sqs = mockClient(SQSClient);
const ssm = mockClient(SSMClient);
let table: Awaited<ReturnType<typeof startStateTable>>;
beforeAll(async () => {
  table = await startStateTable();
});
afterAll(() => table.stop());
beforeEach(() => {
  sqs.reset();
  ssm.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
  ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
});

const SET = 'Nightshift-AlertRouting-Receiveremail-1A2B3C4D';
const config: RouterRuntimeConfig = {
  auditRetentionDays: 400,
  receivers: {
    pagerduty: { kind: 'pagerduty', queueUrl: 'https://sqs/q-pagerduty' },
    'slack-bot': { kind: 'slack', queueUrl: 'https://sqs/q-slack-bot' },
    email: { kind: 'email', queueUrl: 'https://sqs/q-email' },
    tickets: { kind: 'sns', queueUrl: 'https://sqs/q-tickets' },
  },
  emailFeedback: [{ receiver: 'email', configurationSetName: SET }],
  routes: [
    { match: { severity: ['critical'] }, receivers: ['pagerduty', 'slack-bot', 'email'], continue: true },
    {
      match: { severity: ['critical', 'warning'] },
      receivers: ['tickets', 'email', 'slack-bot'],
      continue: false,
    },
  ],
  severity: { tagKey: 'severity', fromName: true, alarms: [], default: 'warning' },
  silences: [],
  insufficientData: 'ignore',
  services: [{ prefix: 'api-', service: 'api' }],
  ownAlarms: [],
};

function deps(o: Partial<RouterDeps> = {}): RouterDeps {
  return {
    sqs: new SQSClient({ region: REGION }),
    ssm: new SSMClient({ region: REGION }),
    cloudwatch: new CloudWatchClient({ region: REGION }),
    episodes: new EpisodeStore(table.documents, table.tableName),
    digest: new DigestStore(table.documents, table.tableName),
    clock: () => T0 + 60_000,
    config,
    origin: { account: ACCOUNT, region: REGION },
    bounds: { maxAgeMs: 3 * 3600_000, maxSkewMs: 300_000 },
    ...o,
  };
}
const queued = () =>
  sqs
    .commandCalls(SendMessageCommand)
    .map((c) => JSON.parse(c.args[0].input.MessageBody ?? '{}') as DeliveryRequest);

describe('routeEvent: Slack threads', () => {
  const performed = (episode: string) => ({
    version: '0',
    id: crypto.randomUUID(),
    source: 'nightshift',
    'detail-type': 'Rollback Performed',
    account: ACCOUNT,
    region: REGION,
    time: new Date(T0 + 120_000).toISOString(),
    resources: [],
    detail: {
      severity: 'warning',
      eventKey: `ecs-rollback#api#${episode}#performed`,
      service: 'api',
      episode,
    },
  });

  it("an episode's alerts carry it as their Slack thread; what Nightshift did joins the thread only where the episode went", async () => {
    const key = episodeOf('api-5xx-critical');
    await routeEvent(alarmChange('api-5xx-critical'), deps());
    expect(queued().map((q) => [q.receiver, q.thread])).toEqual([
      ['pagerduty', undefined],
      ['slack-bot', key],
      ['email', undefined],
      ['tickets', undefined],
    ]);
    sqs.resetHistory();
    await routeEvent(performed(key), deps({ clock: () => T0 + 130_000 }));
    const alerts = queued().filter((q) => q.kind === 'alert');
    expect(alerts.map((q) => [q.receiver, q.thread])).toEqual([
      ['tickets', undefined],
      ['email', undefined],
      ['slack-bot', key],
    ]);
    sqs.resetHistory();
    await routeEvent(
      alarmChange('api-5xx-critical', { value: 'OK', at: T0 + 720_000 }),
      deps({ clock: () => T0 + 730_000 }),
    );
    expect(queued().find((q) => q.receiver === 'slack-bot')).toMatchObject({
      thread: key,
      deliveryKey: `${key}#resolved`,
    });
  });

  it('a warning about an episode Slack never had is a message of its own there (no thread to wait for)', async () => {
    const warningConfig = {
      ...config,
      routes: [{ receivers: ['slack-bot'], continue: false }],
    } satisfies RouterRuntimeConfig;
    const other = deps({ config: warningConfig });
    const rollback = performed(episodeOf('api-never-routed'));
    await routeEvent(rollback, { ...other, clock: () => T0 + 130_000 });
    const alerts = queued().filter((q) => q.kind === 'alert');
    expect(alerts.map((q) => [q.receiver, q.thread])).toEqual([['slack-bot', undefined]]);
  });
});

const documented = JSON.parse(
  readFileSync(new URL('../../fixtures/events/ses-email-bounced.constructed.json', import.meta.url), 'utf8'),
);

describe('routeEvent: SES bounces and complaints', () => {
  /** AWS's documented bounce, in this stack's account and Region, from the email receiver's configuration set. */
  const bounce = (o: { set?: string; bounceType?: string; account?: string } = {}) => ({
    ...documented,
    account: o.account ?? ACCOUNT,
    region: REGION,
    time: new Date(T0 + 30_000).toISOString(),
    resources: [`arn:aws:ses:${REGION}:${ACCOUNT}:configuration-set/${o.set ?? SET}`],
    detail: {
      ...documented.detail,
      bounce: { ...documented.detail.bounce, bounceType: o.bounceType ?? 'Permanent' },
      mail: {
        ...documented.detail.mail,
        tags: { ...documented.detail.mail.tags, 'ses:configuration-set': [o.set ?? SET] },
      },
    },
  });

  it('a permanent bounce is a warning to the other receivers, never by email', async () => {
    const r = await routeEvent(bounce(), deps());
    expect(r).toMatchObject({ outcome: 'routed', severity: 'warning', receivers: ['tickets', 'slack-bot'] });
    const [request] = queued();
    expect(request?.alert).toMatchObject({
      source: 'self',
      title: expect.stringContaining('receiver email'),
      reason: expect.stringContaining('smtp; 550 5.1.1 user unknown'),
    });
    expect(request?.alert.reason).toContain('recipient@example.com');
  });

  it('a transient bounce is info (kept for the digest); another configuration set is ignored; another account refused', async () => {
    expect(await routeEvent(bounce({ bounceType: 'Transient' }), deps())).toMatchObject({
      outcome: 'routed',
      severity: 'info',
      receivers: [],
      kept: true,
    });
    expect(await routeEvent(bounce({ set: 'someone-elses' }), deps())).toMatchObject({ outcome: 'ignored' });
    await expect(routeEvent(bounce({ account: '999999999999' }), deps())).rejects.toBeInstanceOf(
      ForeignEventError,
    );
    expect(queued()).toEqual([]);
  });

  it('a malformed feedback event names the field', async () => {
    const bad = bounce();
    bad.detail = { ...bad.detail, eventType: 'Delivery' };
    await expect(routeEvent(bad, deps())).rejects.toThrow(InvalidEventError);
    await expect(routeEvent(bad, deps())).rejects.toThrow(/detail\.eventType/);
  });
});

/** Email is the only receiver any route names (a bounce must still reach someone). */
const emailOnly: RouterRuntimeConfig = {
  auditRetentionDays: 400,
  receivers: {
    'slack-bot': { kind: 'slack', queueUrl: 'https://sqs/q-slack-bot' },
    email: { kind: 'email', queueUrl: 'https://sqs/q-email' },
  },
  emailFeedback: [{ receiver: 'email', configurationSetName: SET }],
  routes: [{ match: { severity: ['critical', 'warning'] }, receivers: ['email'], continue: false }],
  severity: { tagKey: 'severity', fromName: true, alarms: [], default: 'warning' },
  silences: [],
  insufficientData: 'ignore',
  services: [{ prefix: 'api-', service: 'api' }],
  ownAlarms: [],
};

/** A bounce of one recipient of a two-recipient message, with a feedback id of its own. */
const bounceOf = (recipient = 'recipient@example.com', messageId = documented.detail.mail.messageId) => ({
  ...documented,
  id: crypto.randomUUID(),
  account: ACCOUNT,
  region: REGION,
  time: new Date(T0 + 30_000).toISOString(),
  resources: [`arn:aws:ses:${REGION}:${ACCOUNT}:configuration-set/${SET}`],
  detail: {
    ...documented.detail,
    bounce: {
      ...documented.detail.bounce,
      feedbackId: crypto.randomUUID(),
      bouncedRecipients: [{ emailAddress: recipient, diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
    },
    mail: {
      ...documented.detail.mail,
      messageId,
      destination: ['a@example.com', 'b@example.org'],
      tags: { ...documented.detail.mail.tags, 'ses:configuration-set': [SET] },
    },
  },
});

describe('SES feedback: nothing lost, nothing merged', () => {
  it('a permanent bounce routed only to email receivers is neither sent nor kept (lost silently)', async () => {
    const r = await routeEvent(bounceOf(), deps({ config: emailOnly }));
    // DESIGN: "An alert is never lost silently". Expect it at least kept for the digest.
    expect(r).toMatchObject({ outcome: 'routed' });
    expect(
      (r as unknown as { receivers: string[] }).receivers.length > 0 ||
        (r as unknown as { kept: boolean }).kept,
    ).toBe(true);
  });

  it('two bounce events of one message (different recipients, different feedbackId) are two deliveries', async () => {
    const config = { ...emailOnly, routes: [] };
    await routeEvent(bounceOf('a@example.com'), deps({ config }));
    await routeEvent(bounceOf('b@example.org'), deps({ config }));
    const keys = queued().map((q) => q.deliveryKey);
    expect(keys).toHaveLength(2);
    // The sender's ledger drops a second delivery with the same key as already sent.
    expect(new Set(keys).size).toBe(2);
  });
});

import { readFileSync } from 'node:fs';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RouterRuntimeConfig } from '../../../lambdas/alerts/config.ts';
import { type DeliveryRequest, type RouterDeps, routeEvent } from '../../../lambdas/alerts/router.ts';
import { DigestStore, EpisodeStore } from '../../../lambdas/alerts/state.ts';
import { startStateTable } from '../../support/dynamo.ts';
import { ACCOUNT, REGION, T0 } from './alarm-events.ts';

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
const base: RouterRuntimeConfig = {
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
const deps = (config = base): RouterDeps => ({
  sqs: new SQSClient({ region: REGION }),
  ssm: new SSMClient({ region: REGION }),
  cloudwatch: new CloudWatchClient({ region: REGION }),
  episodes: new EpisodeStore(table.documents, table.tableName),
  digest: new DigestStore(table.documents, table.tableName),
  clock: () => T0 + 60_000,
  config,
  origin: { account: ACCOUNT, region: REGION },
  bounds: { maxAgeMs: 3 * 3600_000, maxSkewMs: 300_000 },
});
const documented = JSON.parse(
  readFileSync(new URL('../../fixtures/events/ses-email-bounced.constructed.json', import.meta.url), 'utf8'),
);
const bounce = (recipient = 'recipient@example.com', messageId = documented.detail.mail.messageId) => ({
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
const queued = () =>
  sqs
    .commandCalls(SendMessageCommand)
    .map((c) => JSON.parse(c.args[0].input.MessageBody ?? '{}') as DeliveryRequest);

describe('SES feedback: nothing lost, nothing merged', () => {
  it('a permanent bounce routed only to email receivers is neither sent nor kept (lost silently)', async () => {
    const r = await routeEvent(bounce(), deps());
    // DESIGN: "An alert is never lost silently". Expect it at least kept for the digest.
    expect(r).toMatchObject({ outcome: 'routed' });
    expect(
      (r as unknown as { receivers: string[] }).receivers.length > 0 ||
        (r as unknown as { kept: boolean }).kept,
    ).toBe(true);
  });

  it('two bounce events of one message (different recipients, different feedbackId) are two deliveries', async () => {
    const config = { ...base, routes: [] };
    await routeEvent(bounce('a@example.com'), deps(config));
    await routeEvent(bounce('b@example.org'), deps(config));
    const keys = queued().map((q) => q.deliveryKey);
    expect(keys).toHaveLength(2);
    // The sender's ledger drops a second delivery with the same key as already sent.
    expect(new Set(keys).size).toBe(2);
  });
});

/**
 * A sender: one receiver's queue in, that receiver's API out. Each message is claimed in the delivery
 * ledger before sending and marked after (exactly once per alert, receiver and action); Slack sends are
 * paced one second apart per receiver across every sender; failures retry with backoff (the message's
 * visibility) and, after the last attempt — or at once when the API refuses the request itself — go to
 * the receiver's DLQ with the reason, from which a replay redrives them once the cause is fixed.
 *
 * @module
 */
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { SNSClient } from '@aws-sdk/client-sns';
import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { describeIssues } from '#shared/parse';
import { publishToSns, sendEmail } from './aws-channels.ts';
import {
  type PagerDutyDelivery,
  pagerDutyBaseUrl,
  type SendResult,
  sendToPagerDuty,
  sendToSlackWebhook,
} from './channels.ts';
import type { SenderRuntimeConfig } from './config.ts';
import type { DeliveryLedger, Pacer } from './deliveries.ts';
import type { Alert } from './model.ts';
import { type Paced, pacedSend, sendToSlackApi } from './slack-thread.ts';
import type { SlackThreads } from './threads.ts';

export { pagerDutyBaseUrl };

/** Reads a secret by parameter name (cached); `fresh` skips the cache. */
export type SecretReader = (name: string, o?: { fresh?: boolean }) => Promise<string>;

/**
 * Parameters whose value the API refused (a revoked hook, a wrong key): the next read skips the cache, so
 * the replay after someone puts the new value in finds it, not the refused one. Per container.
 */
const refused = new Set<string>();
const readSecret = async (deps: SenderDeps, name: string) => {
  const fresh = refused.delete(name);
  return deps.secret(name, { fresh });
};

export interface SenderDeps {
  readonly sqs: SQSClient;
  readonly ledger: DeliveryLedger;
  readonly pacer: Pacer;
  /** Bot-token receivers: the first message of each episode's thread. */
  readonly threads?: SlackThreads;
  /** Email receivers. */
  readonly ses?: SESv2Client;
  /** SNS receivers. */
  readonly sns?: SNSClient;
  readonly secret: SecretReader;
  readonly clock: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly config: SenderRuntimeConfig;
  /** The invocation's id: owner of its claims. */
  readonly owner: string;
}

/** Backoff between attempts: 10 s, 20 s, 40 s … at most 15 minutes (SQS allows 12 hours). */
const backoffSeconds = (attempt: number) => Math.min(900, 10 * 2 ** Math.max(0, attempt - 1));

const requestSchema = z.object({
  receiver: z.string().check(z.minLength(1), z.maxLength(64)),
  deliveryKey: z.string().check(z.minLength(1), z.maxLength(2100)),
  /** The episode whose Slack thread this alert belongs in (bot-token receivers). */
  thread: z.optional(z.string().check(z.minLength(1), z.maxLength(2100))),
  kind: z.optional(z.enum(['alert', 'episode-note', 'change'])),
  episode: z.optional(z.object({ key: z.string(), severity: z.enum(['critical', 'warning', 'info']) })),
  alert: z.object({
    key: z.string(),
    source: z.string(),
    status: z.enum(['firing', 'resolved']),
    severity: z.enum(['critical', 'warning', 'info']),
    title: z.string(),
    resource: z.string(),
    reason: z.string(),
    links: z.array(z.object({ text: z.string(), href: z.string() })),
    startedAt: z.number(),
    at: z.number(),
    notes: z.array(z.string()),
  }),
});

/** What happened to one message, for the log and the tests. */
export interface MessageOutcome {
  readonly messageId: string;
  readonly outcome: 'sent' | 'already-sent' | 'retry' | 'dead-lettered';
  readonly reason?: string;
}

type Step = {
  outcome: MessageOutcome['outcome'];
  reason?: string;
  retryInSeconds?: number;
  /** The delivery record to drop once the message is safely in the DLQ (a replay starts afresh). */
  forget?: string;
};

async function deliver(record: SQSRecord, deps: SenderDeps): Promise<Step> {
  const { config } = deps;
  let parsed: unknown;
  try {
    parsed = JSON.parse(record.body);
  } catch {
    return { outcome: 'dead-lettered', reason: 'message body is not JSON' };
  }
  const checked = z.safeParse(requestSchema, parsed);
  if (!checked.success) {
    return {
      outcome: 'dead-lettered',
      reason: `malformed delivery request: ${describeIssues(checked.error.issues)}`,
    };
  }
  const request = checked.data;
  if (request.receiver !== config.receiver) {
    return {
      outcome: 'dead-lettered',
      reason: `request for receiver ${request.receiver} reached ${config.receiver}'s queue`,
    };
  }
  const alert = parsed as { alert: Alert };
  const kind = request.kind ?? 'alert';
  if (kind !== 'alert' && config.channel.kind !== 'pagerduty') {
    return {
      outcome: 'dead-lettered',
      reason: `a ${kind} delivery is for PagerDuty only, not ${config.receiver}`,
    };
  }
  if (kind === 'episode-note' && !request.episode) {
    return {
      outcome: 'dead-lettered',
      reason: 'malformed delivery request: an episode note without its episode',
    };
  }
  const delivery: PagerDutyDelivery =
    kind === 'episode-note' && request.episode
      ? { kind, episode: request.episode }
      : { kind: kind === 'change' ? 'change' : 'alert' };
  const leaseMs = config.leaseSeconds * 1000;
  const claim = await deps.ledger.claim(request.deliveryKey, deps.owner, deps.clock(), leaseMs);
  if (claim.kind === 'sent') return { outcome: 'already-sent' };
  if (claim.kind === 'busy') {
    const wait = Math.ceil(Math.max(1_000, claim.leaseUntil - deps.clock()) / 1000);
    return { outcome: 'retry', reason: 'another sender holds this delivery', retryInSeconds: wait };
  }
  let result: SendResult | Paced;
  try {
    result = await send(alert.alert, deps, delivery, request.thread);
  } catch (error) {
    // The secret could not be read (denied, missing, empty): an attempt like any failed send.
    result = { kind: 'retry', reason: `${(error as Error).name}: ${(error as Error).message.slice(0, 300)}` };
  }
  if (result.kind === 'sent') {
    await deps.ledger.markSent(request.deliveryKey, deps.owner, deps.clock(), result.receipt);
    return { outcome: 'sent' };
  }
  if (result.kind === 'paced') {
    // Not an attempt: the message comes back when its slot has come.
    await deps.ledger.release(request.deliveryKey, deps.owner, { failed: false });
    const seconds = Math.max(1, Math.ceil((result.untilMs - deps.clock()) / 1000));
    return { outcome: 'retry', reason: `Slack pacing: next slot in ${seconds} s`, retryInSeconds: seconds };
  }
  if (result.kind === 'rejected')
    return { outcome: 'dead-lettered', reason: result.reason, forget: request.deliveryKey };
  if (result.retryAfterMs !== undefined)
    await deps.pacer.holdUntil(deps.clock() + result.retryAfterMs, deps.clock());
  const failures = claim.failures + 1;
  if (failures >= config.maxAttempts) {
    return {
      outcome: 'dead-lettered',
      reason: `${result.reason} (gave up after ${failures} attempts)`,
      forget: request.deliveryKey,
    };
  }
  await deps.ledger.release(request.deliveryKey, deps.owner, { failed: true });
  const retryAfter = result.retryAfterMs === undefined ? 0 : Math.ceil(result.retryAfterMs / 1000);
  return {
    outcome: 'retry',
    reason: result.reason,
    retryInSeconds: Math.max(backoffSeconds(failures), retryAfter),
  };
}

async function send(
  alert: Alert,
  deps: SenderDeps,
  delivery: PagerDutyDelivery,
  thread: string | undefined,
): Promise<SendResult | Paced> {
  const { channel, receiver } = deps.config;
  const needs = <T>(client: T | undefined, what: string): T => {
    if (!client) throw new Error(`the sender of ${receiver} has no ${what} client`);
    return client;
  };
  switch (channel.kind) {
    case 'pagerduty': {
      const key = await readSecret(deps, channel.routingKeyParameter);
      const result = await sendToPagerDuty(alert, key, channel.baseUrl, delivery);
      if (result.kind === 'rejected') refused.add(channel.routingKeyParameter);
      return result;
    }
    case 'email':
      return sendEmail(alert, needs(deps.ses, 'SES'), channel, receiver);
    case 'sns':
      return publishToSns(alert, needs(deps.sns, 'SNS'), channel);
    case 'slack-api': {
      const token = await readSecret(deps, channel.botTokenParameter);
      return sendToSlackApi(
        alert,
        {
          ...(thread ? { thread } : {}),
          token,
          channel: channel.channel,
          baseUrl: channel.baseUrl,
          refuse: () => refused.add(channel.botTokenParameter),
        },
        { ...deps, threads: needs(deps.threads, 'Slack thread store') },
      );
    }
    case 'slack-webhook': {
      // The secret first: between taking a turn and sending nothing slow may happen (a cold read of the
      // parameter would let the next sender's message arrive less than a second after this one).
      const url = await readSecret(deps, channel.webhookUrlParameter);
      const result = await pacedSend(deps, () => sendToSlackWebhook(alert, url));
      // A revoked hook is replaced in the parameter; the replay must read the new one, not the cache.
      if (result.kind === 'rejected') refused.add(channel.webhookUrlParameter);
      return result;
    }
  }
}

/**
 * Handles one batch from the receiver's queue. Messages go one after another (pacing is per receiver);
 * those to retry are reported as batch item failures with their visibility set to the backoff.
 */
export async function sendBatch(
  records: readonly SQSRecord[],
  deps: SenderDeps,
): Promise<{ response: SQSBatchResponse; outcomes: MessageOutcome[] }> {
  const failures: { itemIdentifier: string }[] = [];
  const outcomes: MessageOutcome[] = [];
  for (const record of records) {
    let step: Step;
    try {
      step = await deliver(record, deps);
    } catch (error) {
      // The ledger or the secret could not be read or written: nothing was marked; retry the message.
      step = {
        outcome: 'retry',
        reason: `${(error as Error).name}: ${(error as Error).message.slice(0, 300)}`,
        retryInSeconds: 30,
      };
    }
    const receives = Number(record.attributes.ApproximateReceiveCount ?? '1');
    if (step.outcome === 'retry' && receives >= deps.config.maxReceives - 1) {
      // SQS would move it on the next receive without a word: park it now, saying why.
      step = {
        outcome: 'dead-lettered',
        reason: `still not sent after ${receives} receives: ${step.reason ?? ''}`,
      };
    }
    if (step.outcome === 'dead-lettered') {
      try {
        await deps.sqs.send(
          new SendMessageCommand({
            QueueUrl: deps.config.deadLetterQueueUrl,
            MessageBody: record.body,
            MessageAttributes: {
              failureReason: { DataType: 'String', StringValue: (step.reason ?? 'unknown').slice(0, 1000) },
              receiver: { DataType: 'String', StringValue: deps.config.receiver },
              receives: { DataType: 'Number', StringValue: record.attributes.ApproximateReceiveCount ?? '1' },
            },
          }),
        );
        if (step.forget) await deps.ledger.forget(step.forget, deps.owner);
      } catch (error) {
        // Not parked: keep the message (and its count) and try again; never drop it.
        step = {
          outcome: 'retry',
          reason: `could not move to the DLQ (${(error as Error).name}); ${step.reason ?? ''}`,
          retryInSeconds: 30,
        };
      }
    }
    if (step.outcome === 'retry') {
      failures.push({ itemIdentifier: record.messageId });
      await deps.sqs
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: deps.config.queueUrl,
            ReceiptHandle: record.receiptHandle,
            VisibilityTimeout: Math.min(43_200, step.retryInSeconds ?? 30),
          }),
        )
        .catch(() => undefined); // the queue's own visibility timeout then decides when it returns
    }
    outcomes.push({
      messageId: record.messageId,
      outcome: step.outcome,
      ...(step.reason ? { reason: step.reason } : {}),
    });
  }
  return { response: { batchItemFailures: failures }, outcomes };
}

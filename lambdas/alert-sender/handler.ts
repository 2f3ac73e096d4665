import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { documentClient } from '#shared/clients';
import { readRunbookEnvironment } from '#shared/env';
import { observability, runbookHandler } from '#shared/middleware';
import { systemClock } from '#shared/time';
import { parseSenderRuntimeConfig } from '../alerts/config.ts';
import { DeliveryLedger, Pacer } from '../alerts/deliveries.ts';
import { type SecretReader, sendBatch } from '../alerts/sender.ts';
import { SlackThreads } from '../alerts/threads.ts';

const env = readRunbookEnvironment();
const config = parseSenderRuntimeConfig(env.runbookConfig);
const o = observability('alert-sender');
const sqs = new SQSClient({});
const { kind } = config.channel;
const ses = kind === 'email' ? new SESv2Client({}) : undefined;
const sns = kind === 'sns' ? new SNSClient({}) : undefined;
const parameters = new SSMProvider();
/** Secrets are cached five minutes per container: a rotated webhook is picked up without a deploy. */
const secret: SecretReader = async (name, options) => {
  const value = await parameters.get(name, {
    decrypt: true,
    maxAge: 300,
    forceFetch: options?.fresh ?? false,
  });
  if (typeof value !== 'string' || value.length === 0) throw new Error(`parameter ${name} holds no value`);
  return value;
};

/** Lambda entry: a batch of one receiver's queue (SQS event source, partial batch responses). */
export const handler = runbookHandler(o, async ({ event }, context) => {
  const records = (event as SQSEvent).Records ?? [];
  const { response, outcomes } = await sendBatch(records, {
    sqs,
    ledger: new DeliveryLedger(documentClient(), env.stateTableName, config.receiver),
    pacer: new Pacer(documentClient(), env.stateTableName, config.receiver),
    ...(kind === 'slack-api'
      ? { threads: new SlackThreads(documentClient(), env.stateTableName, config.receiver) }
      : {}),
    ...(ses ? { ses } : {}),
    ...(sns ? { sns } : {}),
    secret,
    clock: systemClock,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    config,
    owner: context.awsRequestId,
  });
  for (const outcome of outcomes)
    o.metrics.addMetric(`delivery_${outcome.outcome.replace('-', '_')}`, MetricUnit.Count, 1);
  // Outcomes carry reasons from the APIs, never the secret (the URL and key are not in any of them).
  o.logger.info('alert batch sent', { receiver: config.receiver, outcomes });
  return response;
});

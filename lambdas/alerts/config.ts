/**
 * The router's and the senders' runtime configuration, as their constructs pass it in
 * `NIGHTSHIFT_RUNBOOK_CONFIG`. Parameter *names* only: secrets are read at run time.
 *
 * @module
 */
import * as z from 'zod/mini';
import { parseRuntimeConfig } from '#shared/parse';
import { ALERT_SOURCES, SEVERITIES } from './model.ts';

const severity = z.enum(SEVERITIES);
const strings = z.array(z.string());

export const routerRuntimeConfigSchema = z.object({
  auditRetentionDays: z.number(),
  /** Receivers the router can enqueue for: name → kind and queue URL. */
  receivers: z.record(
    z.string(),
    z.object({ kind: z.enum(['slack', 'pagerduty', 'email', 'sns']), queueUrl: z.string() }),
  ),
  /** The configuration sets of email receivers: their bounces and complaints come back as warnings. */
  emailFeedback: z.optional(z.array(z.object({ receiver: z.string(), configurationSetName: z.string() }))),
  routes: z.array(
    z.object({
      match: z.optional(
        z.object({
          severity: z.optional(z.array(severity)),
          service: z.optional(strings),
          source: z.optional(z.array(z.enum(ALERT_SOURCES))),
          alarmPrefix: z.optional(strings),
        }),
      ),
      receivers: strings,
      continue: z.boolean(),
    }),
  ),
  severity: z.object({
    tagKey: z.string(),
    priorities: z.optional(z.record(z.string(), severity)),
    fromName: z.boolean(),
    alarms: z.array(z.object({ name: z.optional(z.string()), prefix: z.optional(z.string()), severity })),
    default: severity,
  }),
  /** As in config (ISO 8601 times); parsed with the silence rules at run time. */
  silences: z.array(z.unknown()),
  silencesParameter: z.optional(z.string()),
  insufficientData: z.enum(['ignore', 'alert']),
  /** Alarm → Nightshift service, from the alarms that guard ECS services. */
  services: z.array(
    z.object({ name: z.optional(z.string()), prefix: z.optional(z.string()), service: z.string() }),
  ),
  runbookUrl: z.optional(z.string()),
  /** Nightshift's own alarms, by name, and the severity each has. */
  ownAlarms: z.array(z.object({ name: z.string(), severity })),
});
export type RouterRuntimeConfig = z.infer<typeof routerRuntimeConfigSchema>;

export const senderRuntimeConfigSchema = z.object({
  auditRetentionDays: z.number(),
  receiver: z.string(),
  /** The sender's own queue (visibility changes for backoff) and its DLQ (rejected and exhausted alerts). */
  queueUrl: z.string(),
  deadLetterQueueUrl: z.string(),
  /** Attempts before an alert goes to the DLQ with its last failure. */
  maxAttempts: z.number(),
  /** The queue's maxReceiveCount: on the last receive the sender parks the message itself, with a reason. */
  maxReceives: z.number(),
  /** How long a claim holds before another sender may take it over (longer than one send can take). */
  leaseSeconds: z.number(),
  channel: z.union([
    z.object({ kind: z.literal('slack-webhook'), webhookUrlParameter: z.string() }),
    /** The Web API with a bot token: one thread per episode, its first message kept current. */
    z.object({
      kind: z.literal('slack-api'),
      botTokenParameter: z.string(),
      channel: z.string(),
      baseUrl: z.string(),
    }),
    z.object({ kind: z.literal('pagerduty'), routingKeyParameter: z.string(), baseUrl: z.string() }),
    /** SES v2: from a verified identity, through the configuration set whose bounces come back as alerts. */
    z.object({
      kind: z.literal('email'),
      from: z.string(),
      to: strings,
      configurationSetName: z.optional(z.string()),
    }),
    z.object({ kind: z.literal('sns'), topicArn: z.string() }),
  ]),
});
export type SenderRuntimeConfig = z.infer<typeof senderRuntimeConfigSchema>;

export const parseRouterRuntimeConfig = (json: string) => parseRuntimeConfig(routerRuntimeConfigSchema, json);
export const parseSenderRuntimeConfig = (json: string) => parseRuntimeConfig(senderRuntimeConfigSchema, json);

/**
 * The `alerts` section: receivers by name, routes in order, how severities are decided, silences. Secrets
 * (webhook URLs, routing keys, bot tokens) are never values here: config names the SSM SecureString
 * parameters that hold them, which the stack never creates or owns.
 *
 * @module
 */
import { z } from 'zod';
import { ALERT_SOURCES, SEVERITIES } from '../../lambdas/alerts/model.ts';
import { DIGEST, defaultRoutes } from '../../lambdas/alerts/routing.ts';
import { parseSilences, SilenceError } from '../../lambdas/alerts/silences.ts';
import { alarmSelectorSchema } from './alarm-selectors.ts';
import { closestKey } from './problems.ts';

const severity = z.enum(SEVERITIES);

/**
 * Whether a value looks like a secret rather than a parameter name: a URL, a Slack token (`xox…-`) or
 * webhook path (`/services/T…`), or a segment of 20+ letters and digits with digits in it (a PagerDuty
 * routing key is 32).
 */
export function looksLikeSecret(value: string): boolean {
  if (/^https?:\/\//i.test(value) || /^xox[a-z]-/i.test(value) || /^\/?services\/T[A-Z0-9]/.test(value))
    return true;
  return value.split('/').some((segment) => /^[A-Za-z0-9]{20,}$/.test(segment) && /\d/.test(segment));
}

/** Config fields that name a secret's parameter: their values are never echoed in an error. */
export const SECRET_FIELDS =
  /^alerts\.receivers\.[^.]+\.(webhookUrlParameter|botTokenParameter|routingKeyParameter)$/;

/** An SSM parameter *name*; a value that looks like the secret itself is refused, naming what to do. */
const secretParameter = (what: string) =>
  z
    .string()
    .refine(
      (v) => !looksLikeSecret(v),
      `must name the SSM SecureString parameter that holds the ${what}, not the ${what} itself (a secret never goes in config or the template)`,
    )
    .regex(/^\/[A-Za-z0-9_./-]{1,1010}$/, 'must be an SSM parameter name starting with /');

const httpsBaseUrl = z
  .string()
  .regex(/^https:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, 'must be an https:// base URL (no query or fragment)');

const slack = z
  .strictObject({
    kind: z.literal('slack'),
    /** An incoming webhook: the parameter holding its URL. */
    webhookUrlParameter: secretParameter('webhook URL').optional(),
    /** Or the Web API with a bot token (threads, updates): the parameter holding the token, and a channel id. */
    botTokenParameter: secretParameter('bot token').optional(),
    channel: z
      .string()
      .regex(/^[CG][A-Z0-9]{6,20}$/, 'must be a Slack channel id such as C0123456789')
      .optional(),
    /** @default 'https://slack.com/api' */
    apiBaseUrl: httpsBaseUrl.default('https://slack.com/api'),
  })
  .check((ctx) => {
    const { webhookUrlParameter, botTokenParameter, channel } = ctx.value;
    const webhook = webhookUrlParameter !== undefined;
    const bot = botTokenParameter !== undefined || channel !== undefined;
    if (webhook === bot || (bot && (botTokenParameter === undefined || channel === undefined))) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        path: [],
        message: 'needs either webhookUrlParameter, or botTokenParameter and channel (not both)',
      });
    }
  });

const pagerduty = z.strictObject({
  kind: z.literal('pagerduty'),
  /** The parameter holding the Events API v2 integration's routing key. */
  routingKeyParameter: secretParameter('routing key'),
  /** The PagerDuty service region: US `https://events.pagerduty.com`, EU `https://events.eu.pagerduty.com`. */
  region: z.enum(['us', 'eu']).default('us'),
  /** Overrides the region's Events API base URL. */
  eventsBaseUrl: httpsBaseUrl.optional(),
});

const emailAddress = z.string().regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'must be an email address');
const email = z
  .strictObject({
    kind: z.literal('email'),
    /** The SES identity (domain or address) `from` is verified under; SendEmail is allowed from it only. */
    identity: z.string().min(1).max(320),
    from: emailAddress,
    /** SES takes at most 50 recipients per message. */
    to: z.array(emailAddress).min(1).max(50),
  })
  .refine(
    (e) => {
      const from = e.from.toLowerCase();
      const identity = e.identity.toLowerCase();
      return identity === from || identity === from.slice(from.lastIndexOf('@') + 1);
    },
    {
      message: 'identity must be the from address or its domain (SES authorizes the send by it)',
      path: ['identity'],
    },
  );

const sns = z.strictObject({
  kind: z.literal('sns'),
  topicArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'must be an SNS topic ARN'),
  /** The topic's KMS key, when it is encrypted: publishing needs kms:GenerateDataKey and kms:Decrypt on it. */
  kmsKeyArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]{1,128}$/, 'must be a KMS key ARN')
    .optional(),
});

const receiver = z.discriminatedUnion('kind', [slack, pagerduty, email, sns], {
  error: 'needs kind: slack, pagerduty, email or sns',
});

/** Receiver names (record keys: zod reports a bad key without its message, so they are checked below). */
const RECEIVER_NAME = /^[a-z][a-z0-9-]{0,39}$/;

const route = z.strictObject({
  match: z
    .strictObject({
      severity: z.array(severity).min(1).optional(),
      service: z.array(z.string().min(1)).min(1).optional(),
      source: z.array(z.enum(ALERT_SOURCES)).min(1).optional(),
      alarmPrefix: z.array(z.string().min(1).max(255)).min(1).optional(),
    })
    .optional(),
  receivers: z.array(z.string()).min(1),
  continue: z.boolean().default(false),
});

const severityConfig = z.strictObject({
  tagKey: z.string().min(1).max(128).default('severity'),
  priorities: z
    .record(z.string(), severity)
    .check((ctx) => {
      const seen = new Map<string, string>();
      for (const key of Object.keys(ctx.value)) {
        const lower = key.toLowerCase();
        const problem = !/^[A-Za-z][A-Za-z0-9]{0,15}$/.test(key)
          ? 'a priority is a letter then up to 15 letters or digits (P1, SEV2)'
          : (SEVERITIES as readonly string[]).includes(lower)
            ? `"${key}" is a severity, not a priority: it cannot be redefined`
            : seen.has(lower)
              ? `"${key}" and "${seen.get(lower)}" are one priority (case is ignored): keep one`
              : undefined;
        seen.set(lower, key);
        if (problem) ctx.issues.push({ code: 'custom', input: key, path: [key], message: problem });
      }
    })
    .optional(),
  fromName: z.boolean().default(true),
  alarms: z
    .array(
      z
        .strictObject({
          name: z.string().min(1).max(255).optional(),
          prefix: z.string().min(1).max(255).optional(),
          severity,
        })
        .refine(
          (a) => (a.name === undefined) !== (a.prefix === undefined),
          'needs exactly one of name or prefix',
        ),
    )
    .default([]),
  default: severity.default('warning'),
});

export const alertsSchema = z
  .strictObject({
    receivers: z.record(z.string(), receiver),
    /** Tried in order; none given: critical → every pagerduty and slack receiver, warning → slack, info → digest. */
    routes: z.array(route).default([]),
    severity: severityConfig.default({ tagKey: 'severity', fromName: true, alarms: [], default: 'warning' }),
    /** Silences set in config (ISO 8601 times); people set others in `silencesParameter` without a deploy. */
    silences: z.array(z.unknown()).default([]),
    /** An SSM parameter (JSON list of silences) read at run time; the stack never creates or owns it. */
    silencesParameter: z
      .string()
      .regex(/^\/[A-Za-z0-9_./-]{1,1010}$/, 'must be an SSM parameter name starting with /')
      .optional(),
    /** Alarms to alert on besides those that guard ECS services (exact names or name prefixes). */
    alarms: z.array(alarmSelectorSchema).default([]),
    /** A runbook page for every alarm alert; `{alarm}` is replaced by the alarm's name. */
    runbookUrl: httpsBaseUrl.optional(),
    /** Minutes between reconciler runs (open episodes whose OK was lost). @default 5 */
    reconcileMinutes: z.number().int().min(1).max(1440).default(5),
    /** What an INSUFFICIENT_DATA state does. @default 'ignore' */
    insufficientData: z.enum(['ignore', 'alert']).default('ignore'),
  })
  .check((ctx) => {
    for (const name of Object.keys(ctx.value.receivers)) {
      const problem =
        name === DIGEST
          ? `"${DIGEST}" is reserved: it is the receiver that keeps alerts for the digest`
          : RECEIVER_NAME.test(name)
            ? undefined
            : 'a receiver name must be lower-case letters, digits or hyphens, max 40';
      if (problem)
        ctx.issues.push({ code: 'custom', input: name, path: ['receivers', name], message: problem });
    }
    const names = [...Object.keys(ctx.value.receivers), DIGEST];
    ctx.value.routes.forEach((r, i) => {
      r.receivers.forEach((name, j) => {
        if (names.includes(name)) return;
        const near = closestKey(name, names);
        ctx.issues.push({
          code: 'custom',
          input: name,
          path: ['routes', i, 'receivers', j],
          message: `no receiver "${name}"${near ? `; did you mean "${near}"?` : `; the receivers are ${names.join(', ')}`}`,
        });
      });
    });
    const last = ctx.value.routes.at(-1);
    // A catch-all last route (no match, no continue) claims every alert: the defaults are never reached.
    if (!(last && last.match === undefined && !last.continue)) {
      const kinds = (kind: string) =>
        Object.entries(ctx.value.receivers)
          .filter(([, r]) => r.kind === kind)
          .map(([name]) => name);
      const defaults = defaultRoutes({ pagerduty: kinds('pagerduty'), slack: kinds('slack') });
      for (const [i, level] of (['critical', 'warning'] as const).entries()) {
        if ((defaults[i]?.receivers.length ?? 0) > 0) continue;
        ctx.issues.push({
          code: 'custom',
          input: Object.keys(ctx.value.receivers),
          path: ['receivers'],
          message: `a ${level} alert no route claims would reach no one (the defaults send ${level} to ${level === 'critical' ? 'PagerDuty and Slack' : 'Slack'} receivers, and there are none): add one, or end routes with a catch-all route (no match, no continue)`,
        });
      }
    }
    try {
      parseSilences(ctx.value.silences, 'silences');
    } catch (error) {
      if (!(error instanceof SilenceError)) throw error;
      ctx.issues.push({
        code: 'custom',
        input: ctx.value.silences,
        path: ['silences'],
        message: error.message,
      });
    }
  });

export type AlertsConfig = z.output<typeof alertsSchema>;

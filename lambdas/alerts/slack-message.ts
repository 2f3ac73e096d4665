/**
 * An alert as a Slack message: Block Kit within Slack's limits (a header of at most 150 characters,
 * sections of at most 3,000, at most 50 blocks) and a plain `text` fallback for notifications. Pure.
 *
 * @module
 */
import { iso } from '#shared/time';
import type { Alert } from './model.ts';
import { escapeMrkdwn, truncate } from './text.ts';

export const SLACK_LIMITS = { header: 150, section: 3000, fallback: 3000, contextElements: 10 } as const;

const ICON: Record<Alert['severity'], string> = {
  critical: ':red_circle:',
  warning: ':large_orange_circle:',
  info: ':information_source:',
};

/** A Slack message body (incoming webhook or `chat.postMessage`). */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly Record<string, unknown>[];
}

const section = (markdown: string) => ({
  type: 'section',
  text: { type: 'mrkdwn', text: truncate(markdown, SLACK_LIMITS.section) },
});

export function slackMessage(alert: Alert): SlackMessage {
  const resolved = alert.status === 'resolved';
  const title = resolved ? `Resolved: ${alert.title}` : alert.title;
  const facts = [
    `*Severity* ${alert.severity}`,
    ...(alert.service ? [`*Service* ${escapeMrkdwn(alert.service)}`] : []),
    `*${resolved ? 'Resolved' : 'Since'}* ${iso(resolved ? alert.at : alert.startedAt)}`,
  ].join('   ');
  const blocks: Record<string, unknown>[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncate(`${resolved ? '' : `${ICON[alert.severity]} `}${title}`, SLACK_LIMITS.header),
        emoji: true,
      },
    },
    section(facts),
    section(`*What happened*\n${escapeMrkdwn(alert.reason)}`),
  ];
  if (alert.action) blocks.push(section(`*What Nightshift did*\n${escapeMrkdwn(alert.action)}`));
  if (alert.links.length > 0) {
    blocks.push(section(alert.links.map((l) => `<${l.href}|${escapeMrkdwn(l.text)}>`).join('  ·  ')));
  }
  if (alert.notes.length > 0) {
    blocks.push({
      type: 'context',
      elements: alert.notes
        .slice(0, SLACK_LIMITS.contextElements)
        .map((n) => ({ type: 'mrkdwn', text: truncate(escapeMrkdwn(n), 2000) })),
    });
  }
  const firstLine = alert.reason.split('\n')[0] ?? '';
  return {
    // The fallback is mrkdwn too (notifications show it): escaped, so no `<!channel>` or link is injected.
    text: truncate(
      escapeMrkdwn(`[${alert.severity.toUpperCase()}] ${title} — ${firstLine}`),
      SLACK_LIMITS.fallback,
    ),
    blocks,
  };
}

/**
 * An alert as an email (SES v2 `Simple` content): a subject with severity, service and title, a plain text
 * part and an HTML part saying the same. Pure. Everything from an event is escaped for HTML, and the
 * subject is one line (a line break in a header would start another header).
 *
 * @module
 */
import { iso } from '#shared/time';
import type { Alert } from './model.ts';
import { truncate } from './text.ts';

/** A subject longer than this is cut (mail clients show far less; RFC 5322 lines stop at 998). */
export const SUBJECT_MAX = 200;
/** Each part's share of SES's 40 MB: far more than an alert needs, so only a runaway reason is cut. */
const PART_MAX = 100_000;

export interface EmailMessage {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

const oneLine = (text: string) => text.replace(/[\r\n\t\v\f\u2028\u2029]+/g, ' ').trim();

const escapeHtml = (text: string) =>
  text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');

/** Only web links become anchors: a `javascript:` href from a forged event stays text. */
const safeHref = (href: string) => /^https:\/\/[^\s"'<>]+$/i.test(href);

export function emailMessage(alert: Alert): EmailMessage {
  const resolved = alert.status === 'resolved';
  const title = resolved ? `Resolved: ${alert.title}` : alert.title;
  const subject = truncate(
    oneLine(`[${alert.severity.toUpperCase()}]${alert.service ? ` ${alert.service}:` : ''} ${title}`),
    SUBJECT_MAX,
  );
  const facts: [string, string][] = [
    ['Severity', alert.severity],
    ...(alert.service ? [['Service', alert.service] as [string, string]] : []),
    ['Resource', alert.resource],
    [resolved ? 'Resolved' : 'Since', iso(resolved ? alert.at : alert.startedAt)],
  ];
  const sections: [string, string][] = [
    ['What happened', alert.reason],
    ...(alert.action ? [['What Nightshift did', alert.action] as [string, string]] : []),
  ];
  const text = truncate(
    [
      title,
      '',
      ...facts.map(([k, v]) => `${k}: ${v}`),
      ...sections.flatMap(([k, v]) => ['', `${k}:`, v]),
      ...(alert.links.length > 0 ? ['', 'Links:', ...alert.links.map((l) => `- ${l.text}: ${l.href}`)] : []),
      ...(alert.notes.length > 0 ? ['', 'Notes:', ...alert.notes.map((n) => `- ${n}`)] : []),
      '',
      '-- Nightshift',
    ].join('\n'),
    PART_MAX,
  );
  const paragraph = (t: string) => escapeHtml(t).replaceAll('\n', '<br>');
  const html = truncate(
    [
      '<!doctype html><html><body style="font-family:sans-serif">',
      `<h2>${escapeHtml(title)}</h2>`,
      `<table>${facts.map(([k, v]) => `<tr><th align="left">${k}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`,
      ...sections.map(([k, v]) => `<h3>${k}</h3><p>${paragraph(v)}</p>`),
      alert.links.length > 0
        ? `<p>${alert.links
            .map((l) =>
              safeHref(l.href)
                ? `<a href="${escapeHtml(l.href)}">${escapeHtml(l.text)}</a>`
                : `${escapeHtml(l.text)}: ${escapeHtml(l.href)}`,
            )
            .join(' · ')}</p>`
        : '',
      alert.notes.length > 0
        ? `<ul>${alert.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`
        : '',
      '<p style="color:#888">Nightshift</p></body></html>',
    ].join(''),
    PART_MAX,
  );
  return { subject, text, html };
}

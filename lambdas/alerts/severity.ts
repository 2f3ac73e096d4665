/**
 * An alarm's severity, from the first of these that gives one: its `severity` tag (propagated into the
 * event as `detail.alarmTags`), its name by convention, config per alarm name or prefix, then a default.
 * Priority schemes (P1–P4, SEV1…) map onto severities in config. Pure.
 *
 * @module
 */
import { SEVERITIES, type Severity, type SeverityOrigin } from './model.ts';

/** How severities are decided for alarms. */
export interface SeverityConfig {
  /** The tag key that holds a severity or a priority. @default 'severity' */
  readonly tagKey?: string;
  /** Priority names (case-insensitive) and the severity each means. @default P1, P2 → critical; P3 → warning; P4 → info */
  readonly priorities?: Readonly<Record<string, Severity>>;
  /**
   * Read the severity from the alarm's name: a word of the name (split on `-`, `_`, `.`, `:`, `/`, space)
   * that is a severity or a priority, e.g. `api-5xx-critical` or `P1-api-errors`. A name with two
   * different ones says nothing. @default true
   */
  readonly fromName?: boolean;
  /** Per alarm: an exact `name` or a `prefix` (the exact name wins, then the longest prefix). */
  readonly alarms?: readonly {
    readonly name?: string;
    readonly prefix?: string;
    readonly severity: Severity;
  }[];
  /** @default 'warning' */
  readonly default?: Severity;
}

/** The alarm as its state-change event describes it. */
export interface AlarmFacts {
  readonly alarmName: string;
  /** `detail.alarmTags`, when tag propagation is on. */
  readonly tags?: Readonly<Record<string, string>>;
  /** `detail.alarmTagsStatus`: `SUCCESS` when the tags were retrieved; absent when propagation is off. */
  readonly tagsStatus?: string;
}

/** A severity and how it was decided, with notes for the alert when a source was unusable. */
export interface SeverityDecision {
  readonly severity: Severity;
  readonly origin: Exclude<SeverityOrigin, 'event'>;
  readonly notes: readonly string[];
}

export const DEFAULT_PRIORITIES: Readonly<Record<string, Severity>> = {
  P1: 'critical',
  P2: 'critical',
  P3: 'warning',
  P4: 'info',
};

const WORD_SEPARATORS = /[-_.:/\s]+/;

/** Decides an alarm's severity (see the module's notes). */
export function resolveSeverity(alarm: AlarmFacts, config: SeverityConfig = {}): SeverityDecision {
  const notes: string[] = [];
  const meaning = severityWords(config.priorities ?? DEFAULT_PRIORITIES);
  const tagKey = config.tagKey ?? 'severity';

  if (alarm.tagsStatus !== undefined && alarm.tagsStatus !== 'SUCCESS') {
    notes.push(
      `alarm tags were not propagated (alarmTagsStatus ${alarm.tagsStatus}): severity from name or config`,
    );
  } else if (tagValue(alarm.tags, tagKey) !== undefined) {
    const value = tagValue(alarm.tags, tagKey) as string;
    const severity = meaning.get(value.trim().toLowerCase());
    if (severity) return { severity, origin: 'tag', notes };
    notes.push(`tag ${tagKey}=${value} is neither a severity nor a configured priority: ignored`);
  }

  if (config.fromName ?? true) {
    const found = new Set(
      alarm.alarmName
        .split(WORD_SEPARATORS)
        .map((word) => meaning.get(word.toLowerCase()))
        .filter((s): s is Severity => s !== undefined),
    );
    if (found.size === 1) return { severity: [...found][0] as Severity, origin: 'name', notes };
    if (found.size > 1)
      notes.push(`alarm name ${alarm.alarmName} names ${[...found].join(' and ')}: ignored`);
  }

  const configured = configuredSeverity(alarm.alarmName, config.alarms ?? []);
  if (configured) return { severity: configured, origin: 'config', notes };
  return { severity: config.default ?? 'warning', origin: 'default', notes };
}

/** The tag's value, its key matched ignoring case (`Severity` and `severity` are one tag to a person). */
function tagValue(tags: AlarmFacts['tags'], key: string): string | undefined {
  if (!tags) return undefined;
  if (tags[key] !== undefined) return tags[key];
  const lower = key.toLowerCase();
  const found = Object.keys(tags).find((k) => k.toLowerCase() === lower);
  return found === undefined ? undefined : tags[found];
}

/** Lower-cased words that mean a severity: the severities themselves and the priorities. */
function severityWords(priorities: Readonly<Record<string, Severity>>): Map<string, Severity> {
  const words = new Map<string, Severity>(SEVERITIES.map((s) => [s, s]));
  for (const [priority, severity] of Object.entries(priorities)) words.set(priority.toLowerCase(), severity);
  return words;
}

function configuredSeverity(
  alarmName: string,
  alarms: NonNullable<SeverityConfig['alarms']>,
): Severity | undefined {
  const exact = alarms.find((a) => a.name === alarmName);
  if (exact) return exact.severity;
  let best: { prefix: string; severity: Severity } | undefined;
  for (const a of alarms) {
    if (a.prefix === undefined || !alarmName.startsWith(a.prefix)) continue;
    if (!best || a.prefix.length > best.prefix.length) best = { prefix: a.prefix, severity: a.severity };
  }
  return best?.severity;
}

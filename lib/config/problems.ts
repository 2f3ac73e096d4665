import type { z } from 'zod';

/** One thing wrong with a configuration: where, what was there, and how to fix it. */
export interface ConfigProblem {
  /** Dotted path of the field, e.g. `ecsRollback.services.0.alarms.1.prefix`, or `(root)`. */
  readonly path: string;
  /** What is wrong and how to fix it, in plain words. */
  readonly message: string;
  /** What the configuration holds there (undefined when the field is missing). */
  readonly value: unknown;
}

/** Edit distance between two strings (insertions, deletions and substitutions each cost 1). */
export function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The known key a misspelled one most likely meant: the nearest by edit distance (case ignored) when it is
 * close enough to be a typo, else the one key that starts with it or that it starts with (`bakeWindow` for
 * `bakeWindowMinutes`); undefined when nothing is near.
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = levenshtein(lower, candidate.toLowerCase());
    if (best === undefined || distance < best.distance) best = { key: candidate, distance };
  }
  if (best && best.distance <= Math.max(2, Math.floor(key.length / 3))) return best.key;
  const related = known.filter((k) => {
    const candidate = k.toLowerCase();
    return candidate.startsWith(lower) || lower.startsWith(candidate);
  });
  return related.length === 1 ? related[0] : undefined;
}

/** The message for a key the object does not have, with a "did you mean" when one is near. */
export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const suggestion = closestKey(key, known);
  if (suggestion !== undefined) return `unknown key; did you mean "${suggestion}"?`;
  return known.length > 0 ? `unknown key; the keys here are ${known.join(', ')}` : 'unknown key';
}

const MAX_VALUE = 60;

/** A value as the error shows it: JSON, cut short so that no message echoes a whole section of config. */
export function describeValue(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  return json.length > MAX_VALUE ? `${json.slice(0, MAX_VALUE - 1)}…` : json;
}

/** One line per problem: `  - path: how to fix (got value)`. */
export function formatProblems(header: string, problems: readonly ConfigProblem[]): string {
  const lines = problems.map(
    (p) => `  - ${p.path}: ${p.message}${p.value === undefined ? '' : ` (got ${describeValue(p.value)})`}`,
  );
  return [header, ...lines].join('\n');
}

const a = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);

const TYPE_WORDS: Record<string, string> = { int: 'whole number', array: 'list', object: 'object' };

/** Plain words for zod's own issues (the schema's custom messages take precedence over these). */
export function plainIssueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = TYPE_WORDS[issue.expected] ?? issue.expected;
      return issue.input === undefined ? `is required (${a(expected)})` : `must be ${a(expected)}`;
    }
    case 'too_small': {
      const bound = Number(issue.minimum);
      if (issue.origin === 'array' || issue.origin === 'set') {
        return `needs at least ${bound} ${bound === 1 ? 'entry' : 'entries'}`;
      }
      if (issue.origin === 'string') {
        return bound <= 1 ? 'must not be empty' : `must be at least ${bound} characters`;
      }
      return issue.inclusive ? `must be at least ${bound}` : `must be more than ${bound}`;
    }
    case 'too_big': {
      const bound = Number(issue.maximum);
      if (issue.origin === 'array' || issue.origin === 'set') return `may have at most ${bound} entries`;
      if (issue.origin === 'string') return `must be at most ${bound} characters`;
      return issue.inclusive ? `must be at most ${bound}` : `must be less than ${bound}`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_format':
      return `is not in the expected format (${issue.format})`;
    case 'invalid_union':
      return 'matches none of the allowed forms';
    default:
      return undefined;
  }
}

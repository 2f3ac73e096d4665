/**
 * New values for `generated` secrets (API keys, tokens, webhook secrets): uniformly random characters from
 * an alphabet (crypto.randomInt, no modulo bias). The default alphabet leaves out what breaks `.pgpass`
 * lines (`:` and `\`), URLs (`/ ? # @ % & + =` and spaces), shells and quoting (`' " $ \``).
 *
 * @module
 */
import { randomInt } from 'node:crypto';

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
/** Letters, digits and `-_.`: safe in URLs (unreserved), `.pgpass`, env files and JSON without escaping. */
export const SAFE_ALPHABET = `${UPPER}${LOWER}${DIGITS}-_.`;

/** A generated value's shape, as config gives it. */
export interface GeneratedValueSpec {
  /** @default 40 */
  readonly length?: number;
  /** The characters to draw from. @default {@link SAFE_ALPHABET} */
  readonly alphabet?: string;
  /** Characters never used, whatever the alphabet. */
  readonly exclude?: string;
}

export class GeneratedValueError extends Error {
  override readonly name = 'GeneratedValueError';
}

/** The alphabet a spec draws from, checked: at least 10 distinct characters, length 16–4,096. */
export function alphabetOf(spec: GeneratedValueSpec): string {
  const exclude = new Set(spec.exclude ?? '');
  const chars = [...new Set(spec.alphabet ?? SAFE_ALPHABET)].filter((c) => !exclude.has(c));
  if (chars.length < 10) {
    throw new GeneratedValueError(
      `alphabet: ${chars.length} usable character(s) after exclude; at least 10 are needed for a strong value`,
    );
  }
  const length = spec.length ?? 40;
  if (!Number.isInteger(length) || length < 16 || length > 4096) {
    throw new GeneratedValueError(`length: ${length} is not an integer from 16 to 4,096`);
  }
  return chars.join('');
}

/**
 * A new value. Each class the alphabet has among upper-case, lower-case and digits appears at least once
 * (some checkers insist), so values are redrawn until they do; with 16+ characters that is rare.
 */
export function generateValue(spec: GeneratedValueSpec = {}): string {
  const alphabet = alphabetOf(spec);
  const length = spec.length ?? 40;
  const classes = [UPPER, LOWER, DIGITS].filter((c) => [...c].some((x) => alphabet.includes(x)));
  for (;;) {
    let value = '';
    for (let i = 0; i < length; i++) value += alphabet[randomInt(alphabet.length)];
    if (classes.every((c) => [...value].some((x) => c.includes(x)))) return value;
  }
}

import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { ConfigurationError } from './errors.ts';

// zod/mini carries no messages ("Invalid input"); English only, never every locale.
z.config(en());

/** A validation problem list in one line: `detail.alarmName: Too big: expected string to have <=255 characters`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `${i.path.map(String).join('.') || '(value)'}: ${i.message}`).join('; ');
}

/**
 * Parses `input` with `schema`, or throws the error `fail` makes from a message naming each field that is
 * wrong. Values are not echoed (an oversized or secret value stays out of the error); zod's messages give
 * the expectation and, for sizes, the limit.
 */
export function parseWith<T>(schema: z.ZodMiniType<T>, input: unknown, fail: (problems: string) => Error): T {
  const result = z.safeParse(schema, input);
  if (result.success) return result.data;
  throw fail(describeIssues(result.error.issues));
}

/** Parses a function's `NIGHTSHIFT_RUNBOOK_CONFIG` JSON with the runbook's schema. */
export function parseRuntimeConfig<T>(schema: z.ZodMiniType<T>, json: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (cause) {
    throw new ConfigurationError('NIGHTSHIFT_RUNBOOK_CONFIG is not JSON', { cause });
  }
  return parseWith(
    schema,
    raw,
    (problems) => new ConfigurationError(`NIGHTSHIFT_RUNBOOK_CONFIG is invalid: ${problems}`),
  );
}

/**
 * Size bounds for strings from outside, checked at parse time so an oversized value fails naming its field
 * instead of failing later in DynamoDB ("Item size has exceeded the maximum") or in a log line.
 */
export const bounded = {
  /** CloudWatch alarm names: at most 255 characters. */
  alarmName: () => z.string().check(z.minLength(1), z.maxLength(255)),
  /** ARNs: 2,048 characters is IAM's and most services' limit. */
  arn: () => z.string().check(z.minLength(1), z.maxLength(2048)),
  /** Identifiers such as an ECS deployment id or an account id. */
  id: () => z.string().check(z.minLength(1), z.maxLength(256)),
  /** Free text such as an alarm's state reason (CloudWatch allows 1,023 characters). */
  text: () => z.string().check(z.maxLength(1023)),
  /** Tag keys (128) and values (256). */
  tagKey: () => z.string().check(z.maxLength(128)),
  tagValue: () => z.string().check(z.maxLength(256)),
  /** A timestamp's text. */
  timestamp: () => z.string().check(z.maxLength(40)),
} as const;

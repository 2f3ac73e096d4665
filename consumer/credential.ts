/**
 * The consumer helper: how a Node service reads a secret Nightshift rotates, so that a rotation never
 * locks it out.
 *
 * - {@link CredentialCache.withCredential}: runs `fn` with the parameter's value from a cache; when `fn`
 *   fails with an authentication error, the value is read again and `fn` retried once. When the parameter
 *   still holds the value that failed — a single-user rotation between its password change and its finish
 *   — the new value is taken from `<name>.pending` (the consumer needs `ssm:GetParameter` on it), and only
 *   when it is a JSON credential that differs from the refused one in its password alone.
 * - {@link CredentialCache.accepts}: for the side that verifies a value (a webhook signature, an API key):
 *   the current value, or the previous one during the grace period after a rotation. Compared in
 *   constant time.
 *
 * Values are never logged or put in an error.
 *
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';

/** PostgreSQL's password authentication failed / invalid authorization; HTTP 401. */
export function isAuthFailure(error: unknown): boolean {
  const e = error as { code?: unknown; status?: unknown; statusCode?: unknown };
  return e?.code === '28P01' || e?.code === '28000' || e?.status === 401 || e?.statusCode === 401;
}

export interface CredentialCacheOptions {
  readonly ssm: SSMClient;
  /** How long a value is used before it is read again. @default 300_000 (5 minutes) */
  readonly ttlMs?: number;
  /** Which errors mean "the credential was refused". @default {@link isAuthFailure} */
  readonly isAuthFailure?: (error: unknown) => boolean;
  readonly clock?: () => number;
}

interface Cached {
  readonly value: string;
  /** The version's LastModifiedDate (epoch ms): when it became current. */
  readonly since: number;
  readonly readAt: number;
}

/** How often a verifier reads again for values it does not match, and how long a missing :previous is believed. */
const RECHECK_MS = 1_000;

const notFound = (error: unknown) =>
  ['ParameterNotFound', 'ParameterVersionNotFound', 'AccessDeniedException'].includes((error as Error).name);

export class CredentialCache {
  private readonly cache = new Map<string, Cached>();
  private readonly reading = new Map<string, Promise<Cached>>();
  /** Names found missing (`:previous` before a first rotation), and when. */
  private readonly missing = new Map<string, number>();
  /** When `accepts` last read a name again for a value it did not match. */
  private readonly refreshedAt = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly clock: () => number;
  private readonly authFailed: (error: unknown) => boolean;

  constructor(private readonly options: CredentialCacheOptions) {
    this.ttlMs = options.ttlMs ?? 300_000;
    this.clock = options.clock ?? Date.now;
    this.authFailed = options.isAuthFailure ?? isAuthFailure;
  }

  /** The parameter's value, from the cache while it is fresh. */
  async get(name: string): Promise<string> {
    const hit = this.cache.get(name);
    if (hit && this.clock() - hit.readAt < this.ttlMs) return hit.value;
    return (await this.read(name)).value;
  }

  /**
   * Runs `fn` with the value; on an authentication failure reads the value again (the plain name, then
   * `<name>.pending` when the plain name still holds the refused value) and retries once.
   */
  async withCredential<T>(name: string, fn: (value: string) => Promise<T>): Promise<T> {
    const value = await this.get(name);
    try {
      return await fn(value);
    } catch (error) {
      if (!this.authFailed(error)) throw error;
      const fresh = await this.recover(name, value);
      if (fresh === undefined) throw error;
      return fn(fresh);
    }
  }

  /**
   * Whether `presented` is the current value, or the previous one while the current is younger than
   * `graceMs` (the rotation's grace period).
   */
  async accepts(name: string, presented: string, graceMs: number): Promise<boolean> {
    let current = await this.cachedOrRead(name);
    if (!same(presented, current.value)) {
      const inFlight = this.reading.get(name);
      if (inFlight) {
        // Another caller's read is on its way (a refresh for the same new value, say): the freshest there is.
        current = await inFlight;
      } else if (this.clock() - (this.refreshedAt.get(name) ?? Number.NEGATIVE_INFINITY) > RECHECK_MS) {
        // A value the cache has not seen yet may be a rotation that just finished, however recent the cached
        // read: read again, at most once a second for values that do not match (a caller with a wrong key
        // cannot make every request a read of SSM).
        this.refreshedAt.set(name, this.clock());
        current = await this.read(name);
      }
    }
    if (same(presented, current.value)) return true;
    if (this.clock() - current.since >= graceMs) return false;
    const previousName = `${name}:previous`;
    // Remembered missing only briefly: a rotation labels previous a moment after it writes the new value.
    const missingSince = this.missing.get(previousName);
    if (missingSince !== undefined && this.clock() - missingSince < RECHECK_MS) return false;
    const previous = await this.cachedOrRead(previousName).catch((error) => {
      if (!notFound(error)) throw error;
      // No previous version (yet): remembered like a value, so wrong values do not read it every time.
      this.missing.set(previousName, this.clock());
      return undefined;
    });
    if (previous !== undefined) this.missing.delete(previousName);
    return previous !== undefined && same(presented, previous.value);
  }

  private cachedOrRead(name: string): Promise<Cached> {
    const hit = this.cache.get(name);
    return hit && this.clock() - hit.readAt < this.ttlMs ? Promise.resolve(hit) : this.read(name);
  }

  private async recover(name: string, refused: string): Promise<string | undefined> {
    const fresh = (await this.read(name)).value;
    if (fresh !== refused) return fresh;
    try {
      // A single-user rotation between its password change and its finish: the new value waits here.
      const pending = await this.read(`${name}.pending`, false);
      // Only the same credential with another password: never another server, database or user.
      if (!samePlace(refused, pending.value)) return undefined;
      // Used until the cache's TTL passes; by then the rotation has finished and the plain name holds it.
      this.cache.set(name, pending);
      return pending.value;
    } catch (error) {
      if (notFound(error)) return undefined;
      throw error;
    }
  }

  /** One read per name at a time, however many callers ask. */
  private read(name: string, keep = true): Promise<Cached> {
    const inFlight = this.reading.get(name);
    if (inFlight) return inFlight;
    const reading = (async () => {
      const out = await this.options.ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
      const value = out.Parameter?.Value;
      if (value === undefined)
        throw Object.assign(new Error(`${name} has no value`), { name: 'ParameterNotFound' });
      const cached = { value, since: out.Parameter?.LastModifiedDate?.getTime() ?? 0, readAt: this.clock() };
      const before = this.cache.get(name);
      if (before !== undefined && before.value !== value && !name.includes(':')) {
        // The plain name moved on (a rotation finished): what was previous, or missing, is stale too.
        this.cache.delete(`${name}:previous`);
        this.missing.delete(`${name}:previous`);
      }
      if (keep) this.cache.set(name, cached);
      return cached;
    })().finally(() => this.reading.delete(name));
    this.reading.set(name, reading);
    return reading;
  }
}

/** Whether two JSON credentials differ in their password only (false when either is not one). */
function samePlace(a: string, b: string): boolean {
  const parse = (json: string) => {
    try {
      const v = JSON.parse(json) as Record<string, unknown>;
      return v && typeof v === 'object' && typeof v.password === 'string' ? v : undefined;
    } catch {
      return undefined;
    }
  };
  const x = parse(a);
  const y = parse(b);
  if (!x || !y) return false;
  const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
  keys.delete('password');
  return [...keys].every((k) => JSON.stringify(x[k]) === JSON.stringify(y[k]));
}

/** Constant-time equality of two strings (of any lengths). */
function same(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

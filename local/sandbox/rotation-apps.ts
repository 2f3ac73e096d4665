/**
 * The example app's parts that use rotated secrets, as real clients: `api` writes webhook deliveries to
 * webhooks-db with the alternating users' credential, the nightly `reports` job reads with the single-user
 * one, and `worker` calls `api` with the partner API key that `api` verifies. Each reads its secret
 * through the consumer helper (`consumer/credential.ts`) and opens a new connection per query — the strict
 * case: a pooled connection outlives a password change, a new one must log in with what the app holds.
 *
 * @module
 */
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import pg from 'pg';
import { CredentialCache } from '../../consumer/credential.ts';

/** What a loop saw: queries, the ones refused and recovered by the helper's one retry, and failures. */
export interface LoopCounts {
  queries: number;
  /** Attempts refused for the credential (the helper then read again and retried once). */
  refused: number;
  /** Queries that succeeded on that one retry. */
  recovered: number;
  /** Queries that failed for good. */
  failed: number;
  /** The users the queries ran as, in order of first use. */
  users: string[];
  errors: string[];
}

const emptyCounts = (): LoopCounts => ({
  queries: 0,
  refused: 0,
  recovered: 0,
  failed: 0,
  users: [],
  errors: [],
});

/** Runs `once` every `everyMs` (real time: the world's live clock moves with it) until stopped. */
class Loop {
  readonly counts = emptyCounts();
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly everyMs: number,
    private readonly once: (counts: LoopCounts) => Promise<void>,
  ) {}

  start(): void {
    this.stopped = false;
    this.running = (async () => {
      while (!this.stopped) {
        await this.once(this.counts);
        await new Promise((resolve) => setTimeout(resolve, this.everyMs));
      }
    })();
  }

  async stop(): Promise<LoopCounts> {
    this.stopped = true;
    await this.running;
    return this.counts;
  }
}

interface Credential {
  username: string;
  password: string;
  host: string;
  port: number;
  dbname: string;
}

/** A database client that queries every 100 ms with the credential in `parameter`, through the helper. */
export function databaseLoop(o: {
  ssm: SSMClient;
  parameter: string;
  sql: string;
  ssl: { ca: string; rejectUnauthorized: true };
  clock: () => number;
}): Loop {
  const cache = new CredentialCache({ ssm: o.ssm, ttlMs: 60_000, clock: o.clock });
  return new Loop(100, async (counts) => {
    counts.queries += 1;
    let refusedOnce = false;
    try {
      await cache.withCredential(o.parameter, async (json) => {
        const c = JSON.parse(json) as Credential;
        const client = new pg.Client({
          host: c.host,
          port: c.port,
          user: c.username,
          password: c.password,
          database: c.dbname,
          ssl: o.ssl,
          connectionTimeoutMillis: 5_000,
        });
        client.on('error', () => undefined);
        try {
          await client.connect();
          await client.query(o.sql);
          if (!counts.users.includes(c.username)) counts.users.push(c.username);
        } catch (error) {
          if ((error as { code?: string }).code === '28P01') {
            counts.refused += 1;
            refusedOnce = true;
          }
          throw error;
        } finally {
          await client.end().catch(() => undefined);
        }
      });
      if (refusedOnce) counts.recovered += 1;
    } catch (error) {
      counts.failed += 1;
      if (counts.errors.length < 5)
        counts.errors.push(`${(error as Error).name}: ${(error as Error).message}`);
    }
  });
}

/**
 * `worker` calling `api` every 100 ms with the partner API key, `api` verifying it with its helper
 * (`accepts`: current, or previous through the grace). `worker` reads the key at start, as ECS `secrets`
 * inject it: its tasks hold the value they started with until a new deployment starts new ones
 * (`deployment` names the worker's primary deployment; when it changes, the new tasks read the key again).
 */
export function apiKeyLoop(o: {
  ssm: SSMClient;
  parameter: string;
  graceMs: number;
  clock: () => number;
  deployment: () => string | undefined;
}): Loop & { readonly startedWith: () => { deployment?: string; key?: string } } {
  const api = new CredentialCache({ ssm: o.ssm, ttlMs: 60_000, clock: o.clock });
  let tasks: { deployment?: string; key?: string } = {};
  const loop = new Loop(100, async (counts) => {
    counts.queries += 1;
    const deployment = o.deployment();
    if (tasks.key === undefined || deployment !== tasks.deployment) {
      const out = await o.ssm.send(new GetParameterCommand({ Name: o.parameter, WithDecryption: true }));
      tasks = { deployment, key: out.Parameter?.Value ?? '' };
    }
    if (!(await api.accepts(o.parameter, tasks.key ?? '', o.graceMs))) {
      counts.failed += 1;
      if (counts.errors.length < 5) counts.errors.push('api answered 401 to the worker');
    }
  });
  return Object.assign(loop, { startedWith: () => tasks });
}

import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresFleet } from '../../../local/postgres/fleet.ts';
import { PostgresServer, templateCluster } from '../../../local/postgres/server.ts';
import { LocalCertificateAuthority } from '../../../local/postgres/tls.ts';

const MASTER = 'app_owner';
const PASSWORD = 'first-Pass-1';

let fleet: PostgresFleet;
let server: PostgresServer;
const logged: string[] = [];

/** Connects as the master user (or another), trusting the fleet's CA, and ends the client. */
async function query<T extends pg.QueryResultRow>(
  config: pg.ClientConfig,
  sql = 'SELECT current_user AS user',
): Promise<T[]> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: server.port,
    user: MASTER,
    password: PASSWORD,
    database: 'orders',
    ssl: { ca: fleet.caPem, rejectUnauthorized: true },
    connectionTimeoutMillis: 5_000,
    ...config,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  fleet = await PostgresFleet.start({ onLog: (_, line) => logged.push(line) });
  server = await fleet.create('orders-db', {
    master: { username: MASTER, password: PASSWORD },
    database: 'orders',
  });
});
afterAll(async () => {
  await fleet?.close();
});

describe('PostgresServer', () => {
  describe('serves TLS only', () => {
    it('refuses a plain connection (no pg_hba entry without encryption)', async () => {
      await expect(query({ ssl: false })).rejects.toThrow(/no pg_hba.conf entry .* no encryption/);
    });

    it('accepts a TLS connection that trusts the CA bundle, and the session is encrypted', async () => {
      const rows = await query<{ user: string; ssl: boolean; version: string }>(
        {},
        'SELECT current_user AS user, s.ssl, s.version FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid()',
      );
      expect(rows).toEqual([{ user: MASTER, ssl: true, version: expect.stringMatching(/^TLSv1\.[23]$/) }]);
    });

    it('verifies as localhost as well as 127.0.0.1', async () => {
      await expect(query({ host: 'localhost' })).resolves.toEqual([{ user: MASTER }]);
    });

    it('fails a TLS connection that does not trust the CA (system roots, or another CA)', async () => {
      await expect(query({ ssl: { rejectUnauthorized: true } })).rejects.toThrow(/certificate/);
      const other = await LocalCertificateAuthority.create();
      await expect(query({ ssl: { ca: other.certificatePem, rejectUnauthorized: true } })).rejects.toThrow(
        /certificate/,
      );
    });
  });

  describe('has its own port, data and roles', () => {
    it('listens on 127.0.0.1 on a port of its own, its data under the fleet directory', async () => {
      expect(server.host).toBe('127.0.0.1');
      expect(server.port).toBeGreaterThan(0);
      expect(server.dataDir.startsWith(fleet.dir)).toBe(true);
      expect(server.state).toBe('running');
      expect([...fleet.servers]).toContain(server);
    });

    it('creates the master user as a superuser login role and the default database it owns', async () => {
      const rows = await query<{ super: boolean; owner: string }>(
        {},
        `SELECT r.rolsuper AS super, pg_get_userbyid(d.datdba) AS owner
           FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()`,
      );
      expect(rows).toEqual([{ super: true, owner: MASTER }]);
    });

    it('answers the administrator on connect(), not the master user', async () => {
      const client = await server.connect('orders');
      try {
        expect((await client.query('SELECT current_user AS user')).rows).toEqual([{ user: 'rdsadmin' }]);
      } finally {
        await client.end();
      }
    });

    it("is a copy of the process's template cluster, yet refuses the template's admin password", async () => {
      const { adminPassword } = await templateCluster();
      const [first, second] = await Promise.all([fleet.create('twin-a'), fleet.create('twin-b')]);
      try {
        for (const s of [server, first, second]) {
          await expect(
            query({ port: s.port, user: 'rdsadmin', password: adminPassword, database: 'postgres' }),
          ).rejects.toThrow(/password authentication failed for user "rdsadmin"/);
          const client = await s.connect();
          await client.end();
        }
      } finally {
        await Promise.all([fleet.remove(first), fleet.remove(second)]);
      }
    });
  });

  describe('sets passwords for real', () => {
    it('makes the new password work and the old one fail when it changes the master password', async () => {
      const next = 'second-Pass-2';
      await server.setPassword(MASTER, next);
      try {
        await expect(query({ password: next })).resolves.toEqual([{ user: MASTER }]);
        await expect(query({ password: PASSWORD })).rejects.toThrow(/password authentication failed/);
      } finally {
        await server.setPassword(MASTER, PASSWORD);
      }
      await expect(query({})).resolves.toEqual([{ user: MASTER }]);
    });

    it("takes passwords with quotes, backslashes and SQL in them (escaped, not bound) when they're set", async () => {
      const tricky = `it's\\'; DROP ROLE ${MASTER}; --$$`;
      await server.setPassword(MASTER, tricky);
      try {
        await expect(query({ password: tricky })).resolves.toEqual([{ user: MASTER }]);
      } finally {
        await server.setPassword(MASTER, PASSWORD);
      }
    });

    it('never lets a password reach the server log, even when the change fails', async () => {
      const secret = 'never-Logged-7';
      await expect(server.setPassword('nobody_here', secret)).rejects.toThrow(
        /could not set the password of role nobody_here: role "nobody_here" does not exist/,
      );
      await server.setPassword(MASTER, secret);
      await server.setPassword(MASTER, PASSWORD);
      const everything = [...logged, ...server.log()].join('\n');
      expect(everything).toContain('does not exist');
      for (const password of [secret, PASSWORD]) expect(everything).not.toContain(password);
    });
  });

  describe('starts only in a data directory of its own', () => {
    it('refuses a data directory that already exists, and leaves it as it was', async () => {
      const dataDir = join(fleet.dir, 'taken');
      mkdirSync(join(dataDir, 'keep'), { recursive: true });
      const squatter = new PostgresServer({
        dataDir,
        certificate: await (await LocalCertificateAuthority.create()).issueServerCertificate(),
        caPem: fleet.caPem,
      });
      await expect(squatter.start()).rejects.toThrow(
        /taken already exists: a server makes its own data directory/,
      );
      expect(readdirSync(dataDir)).toEqual(['keep']);
    });
  });

  describe('stops', () => {
    it('refuses connections once stopped, and removes its data when removed', async () => {
      const other = await fleet.create('short-lived', { master: { username: MASTER, password: PASSWORD } });
      expect(other.port).not.toBe(server.port);
      await other.stop();
      expect(other.state).toBe('stopped');
      await expect(
        new pg.Client({
          host: '127.0.0.1',
          port: other.port,
          user: MASTER,
          password: PASSWORD,
          ssl: other.ssl,
        }).connect(),
      ).rejects.toThrow(/ECONNREFUSED/);
      await expect(other.connect()).rejects.toThrow(/cannot connect to a server that is stopped/);
      expect(existsSync(other.dataDir)).toBe(true);
      await fleet.remove(other);
      expect(existsSync(other.dataDir)).toBe(false);
      expect([...fleet.servers]).not.toContain(other);
    });

    it('refuses to start a server twice', async () => {
      await expect(server.start()).rejects.toThrow(/cannot start a server that is running/);
    });
  });
});

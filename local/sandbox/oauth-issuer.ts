/**
 * A third party's OAuth token endpoint (as Clio's would be) for the sandbox's `external` secret: over HTTPS
 * with a certificate from the sandbox's local CA, it answers `client_credentials` requests 200 for the
 * client secrets it has issued and 401 `invalid_client` otherwise. A person "issues" a new secret here, then
 * puts it in the parameter's pending place.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { LocalCertificateAuthority } from '../postgres/tls.ts';

export class OAuthIssuer {
  /** What the token endpoint was asked: the client id and whether the secret was accepted (never the secret). */
  readonly requests: { clientId: string; grant: string; accepted: boolean }[] = [];
  private readonly valid = new Set<string>();

  private constructor(
    private readonly server: Server,
    readonly tokenUrl: string,
    readonly clientId: string,
  ) {}

  static async start(ca: LocalCertificateAuthority, clientId: string): Promise<OAuthIssuer> {
    const cert = await ca.issueServerCertificate();
    let issuer: OAuthIssuer | undefined;
    const server = createServer({ cert: cert.certificatePem, key: cert.privateKeyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const [scheme, token = ''] = (req.headers.authorization ?? '').split(' ');
        const decoded = scheme === 'Basic' ? Buffer.from(token, 'base64').toString('utf8') : '';
        const colon = decoded.indexOf(':');
        const id = colon < 0 ? '' : decoded.slice(0, colon);
        const secret = colon < 0 ? '' : decoded.slice(colon + 1);
        const accepted =
          req.method === 'POST' &&
          req.url === '/oauth/token' &&
          form.get('grant_type') === 'client_credentials' &&
          id === clientId &&
          (issuer?.valid.has(secret) ?? false);
        issuer?.requests.push({ clientId: id, grant: form.get('grant_type') ?? '', accepted });
        res
          .writeHead(accepted ? 200 : 401, { 'content-type': 'application/json' })
          .end(
            accepted
              ? JSON.stringify({ access_token: randomBytes(16).toString('hex'), token_type: 'Bearer' })
              : '{"error":"invalid_client"}',
          );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/token`;
    issuer = new OAuthIssuer(server, url, clientId);
    return issuer;
  }

  /** The issuer's console: a new client secret (the old ones stay valid until revoked). */
  issue(): string {
    const secret = `clio_cs_${randomBytes(24).toString('base64url')}`;
    this.valid.add(secret);
    return secret;
  }

  /** Accepts a secret issued before the sandbox started (the one already in the parameter). */
  register(secret: string): void {
    this.valid.add(secret);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * SCRAM-SHA-256 password verifiers as PostgreSQL stores them (RFC 5802 / RFC 7677), computed in the process
 * so that a plaintext password is never sent to the server: `ALTER ROLE … PASSWORD 'SCRAM-SHA-256$…'`
 * stores the verifier as given, and the server can neither log nor echo the password it never saw.
 *
 * @module
 */
import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const derive = promisify(pbkdf2);

/** Iterations PostgreSQL uses by default (`scram_iterations`). */
export const SCRAM_ITERATIONS = 4096;

/**
 * The verifier PostgreSQL would store for `password`:
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64 parts). The password's UTF-8 bytes
 * are used as they are, as node-postgres does when it authenticates (RDS allows printable ASCII only).
 */
export async function scramVerifier(password: string, iterations = SCRAM_ITERATIONS): Promise<string> {
  const salt = randomBytes(16);
  const salted = await derive(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  const b64 = (bytes: Buffer) => bytes.toString('base64');
  return `SCRAM-SHA-256$${iterations}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`;
}

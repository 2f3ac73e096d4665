import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const module = (name: string) => new URL(`../../../local/postgres/${name}`, import.meta.url).href;

/** Runs an ES module snippet in a fresh Node process (TypeScript through tsx); never rejects. */
async function node(code: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    timeout: 60_000,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof error.code === 'number' ? error.code : -1,
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
    }),
  );
}

const refuses = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

describe('loadEmbeddedPostgres', () => {
  describe('leaves the process to the world', () => {
    it("keeps the process's exit code and throws nothing at exit once loaded", async () => {
      const out = await node(`
        const { loadEmbeddedPostgres } = await import('${module('binaries.ts')}');
        await loadEmbeddedPostgres();
        process.exitCode = 7;`);
      expect(out).toMatchObject({ code: 7, stderr: expect.not.stringContaining('Error') });
    });

    it('lets a process that never stopped its server end, and the server with it', async () => {
      const out = await node(`
        const { PostgresFleet } = await import('${module('fleet.ts')}');
        const fleet = await PostgresFleet.start();
        const server = await fleet.create('left-running', { master: { username: 'app', password: 'app-Pass-1' } });
        console.log(JSON.stringify({ port: server.port, dir: fleet.dir }));`);
      expect(out.code).toBe(0);
      const { port, dir } = JSON.parse(out.stdout) as { port: number; dir: string };
      // The server shuts down (fast) once the process has gone; wait for it, within bounds.
      let refused = false;
      for (let attempt = 0; attempt < 100 && !refused; attempt++) {
        refused = await refuses(port);
        if (!refused) await new Promise((r) => setTimeout(r, 100));
      }
      expect(refused).toBe(true);
      expect(existsSync(dir)).toBe(true); // a world that is not closed leaves its files behind
      await import('node:fs/promises').then((fs) => fs.rm(dir, { recursive: true, force: true }));
    });
  });
});

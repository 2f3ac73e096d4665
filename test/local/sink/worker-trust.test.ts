import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalLambda } from '../../../local/lambda/runtime.ts';
import type { AlertSink } from '../../../local/sink/sink.ts';
import { VirtualClock } from '../../../local/world/clock.ts';
import { startSink, T0 } from './sink-fixture.ts';

// A handler that posts with https.request and no agent or CA of its own, as the alert router does.
const HANDLER = `import { request } from 'node:https';
export const handler = (event) => new Promise((resolve) => {
  const req = request(event.url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
    res.resume();
    res.on('end', () => resolve({ status: res.statusCode }));
  });
  req.on('error', (error) => resolve({ error: error.code ?? error.message }));
  req.end(JSON.stringify({ text: 'from a worker' }));
});
`;

describe('worker-bootstrap NODE_EXTRA_CA_CERTS', () => {
  let sink: AlertSink;
  let dir: string;
  let caFile: string;
  const lambdas: LocalLambda[] = [];
  beforeAll(async () => {
    const started = await startSink();
    sink = started.sink;
    dir = await mkdtemp(join(tmpdir(), 'sink-trust-'));
    caFile = join(dir, 'ca.pem');
    await writeFile(caFile, started.ca);
    await writeFile(join(dir, 'index.mjs'), HANDLER);
  });
  afterAll(async () => {
    await Promise.all(lambdas.map((l) => l.close()));
    await sink.close();
    await rm(dir, { recursive: true, force: true });
  });

  const fn = (environment: Record<string, string>) => {
    const lambda = new LocalLambda(
      {
        name: 'trust',
        entryFile: join(dir, 'index.mjs'),
        exportName: 'handler',
        environment,
        timeoutSeconds: 10,
      },
      { clock: new VirtualClock(T0) },
    );
    lambdas.push(lambda);
    return lambda;
  };

  it('trusts the world CA through the global agent when the function sets the variable', async () => {
    const url = sink.slack.createWebhook({ channel: '#worker' });
    const result = await fn({ NODE_EXTRA_CA_CERTS: caFile }).invoke({ url });
    expect(result.result).toEqual({ status: 200 });
    expect(sink.slack.messages('#worker').map((m) => m.text)).toEqual(['from a worker']);
  });

  it('does not trust it without the variable', async () => {
    const url = sink.slack.createWebhook({ channel: '#untrusted' });
    const result = await fn({}).invoke({ url });
    expect(result.result).toMatchObject({ error: expect.stringMatching(/CERT|SIGNED|VERIFY/i) });
    expect(sink.slack.messages('#untrusted')).toEqual([]);
  });
});

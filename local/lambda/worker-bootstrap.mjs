/**
 * Bootstrap of one local Lambda execution environment: a worker thread started by `runtime.ts`.
 *
 * Plain JavaScript on purpose: workers do not inherit tsx, so this file must run as-is under Node.
 *
 * workerData: `{ entryFile: string; exportName: string; timeBuffer: SharedArrayBuffer }`.
 * Protocol (worker → parent): `{ type: 'ready' }` once the handler module is imported, or
 * `{ type: 'init-error', error }`; then for each `{ type: 'invoke', requestId, event, context, timeoutMs }`
 * received, exactly one `{ type: 'result', requestId, ok, result? , error? }`. stdout/stderr are flushed to
 * the parent before every reply, so the parent can attribute every line written so far to the invocation.
 *
 * Time: `Date.now()` and `new Date()` read the world's virtual clock: index 0 of a Float64Array over
 * `timeBuffer` (virtual epoch ms) plus the real milliseconds since the world last moved it (index 1: the real
 * epoch ms of that move), so every worker and the world agree on "now" while time stands still; never going
 * backwards. Everything else about `Date` is the real one.
 */

import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isNativeError } from 'node:util/types';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';

const { entryFile, exportName, timeBuffer } = workerData;
const virtual = new Float64Array(timeBuffer);
let last = Number.NEGATIVE_INFINITY;

/**
 * Virtual epoch ms: the shared value plus the real time since the world last moved it (index 1: the real
 * epoch ms of that move), the same for every worker and for the world itself; monotonic.
 */
function virtualNow() {
  last = Math.max(last, Math.floor(virtual[0] + Math.max(0, RealDate.now() - virtual[1])));
  return last;
}

const RealDate = Date;
/** `Date` with a virtual "now"; shares the real prototype, so `instanceof Date` holds for every date. */
function VirtualDate(...args) {
  if (!new.target) return new RealDate(virtualNow()).toString();
  return Reflect.construct(RealDate, args.length === 0 ? [virtualNow()] : args, new.target);
}
Object.setPrototypeOf(VirtualDate, RealDate); // Date.parse, Date.UTC, … are inherited
Object.defineProperties(VirtualDate, {
  prototype: { value: RealDate.prototype },
  now: { value: virtualNow, writable: true, configurable: true },
  name: { value: 'Date' },
  length: { value: 7 },
});
Object.defineProperty(RealDate.prototype, 'constructor', {
  value: VirtualDate,
  writable: true,
  configurable: true,
});
globalThis.Date = VirtualDate;

if (/--enable-source-maps/.test(process.env.NODE_OPTIONS ?? '')) process.setSourceMapsEnabled(true);

/** Lambda's errorType/errorMessage: the error's name, or `typeof` for a thrown non-error. */
function serializeError(error, name) {
  if (isNativeError(error) || error instanceof Error) {
    return { name: name ?? String(error.name), message: String(error.message), stack: error.stack };
  }
  return { name: name ?? typeof error, message: String(error) };
}

/** Resolves once everything written so far to stdout/stderr has reached the parent's streams. */
function flushOutput() {
  return Promise.all([process.stdout, process.stderr].map((s) => new Promise((r) => s.write('', r))));
}

/** Posts a reply, falling back to a JSON round trip for a result that cannot be structured-cloned. */
function reply(message) {
  try {
    parentPort.postMessage(message);
  } catch {
    const json = JSON.stringify(message.result);
    parentPort.postMessage({ ...message, result: json === undefined ? undefined : JSON.parse(json) });
  }
}

/** Calls a handler like the Node.js runtime: awaits a returned promise, else waits for the callback. */
function callHandler(fn, event, context) {
  return new Promise((resolve, reject) => {
    const callback = (error, value) => (error == null ? resolve(value) : reject(error));
    const returned = fn(event, context, callback);
    if (typeof returned?.then === 'function') returned.then(resolve, reject);
    else if (fn.length < 3) resolve(null); // a synchronous handler's return value is ignored by Lambda
  });
}

// Node reads NODE_EXTRA_CA_CERTS once, when the process starts; this environment is a worker thread of a
// process that started long before its function's environment existed. Do what Node does at start for a
// Lambda process given the variable: trust those CAs besides the bundled roots (for https.request through
// the global agent, as the functions use it).
if (process.env.NODE_EXTRA_CA_CERTS) {
  const { globalAgent } = await import('node:https');
  const { rootCertificates } = await import('node:tls');
  const { readFileSync } = await import('node:fs');
  globalAgent.options.ca = [...rootCertificates, readFileSync(process.env.NODE_EXTRA_CA_CERTS, 'utf8')];
}

let handler;
try {
  const module = await import(pathToFileURL(entryFile).href);
  handler = module[exportName] ?? module.default?.[exportName];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${basename(entryFile)}.${exportName} is undefined or not exported`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  await flushOutput();
  parentPort.postMessage({ type: 'ready' });
} catch (error) {
  const name =
    error?.code === 'ERR_MODULE_NOT_FOUND'
      ? 'Runtime.ImportModuleError'
      : error instanceof SyntaxError
        ? 'Runtime.UserCodeSyntaxError'
        : undefined;
  await flushOutput();
  parentPort.postMessage({ type: 'init-error', error: serializeError(error, name) });
}

parentPort.on('message', async ({ requestId, event, context, timeoutMs }) => {
  const deadline = performance.now() + timeoutMs;
  const fullContext = {
    ...context,
    getRemainingTimeInMillis: () => Math.max(0, Math.round(deadline - performance.now())),
    callbackWaitsForEmptyEventLoop: true,
  };
  // Peak memory of this environment's isolate during the invocation (V8 heap in use + external buffers).
  const memory = () => {
    const h = getHeapStatistics();
    return h.used_heap_size + h.external_memory;
  };
  let peakMemoryBytes = memory();
  const sampler = setInterval(() => {
    peakMemoryBytes = Math.max(peakMemoryBytes, memory());
  }, 20);
  let outcome;
  try {
    outcome = { ok: true, result: await callHandler(handler, event, fullContext) };
  } catch (error) {
    outcome = { ok: false, error: serializeError(error) };
  }
  clearInterval(sampler);
  peakMemoryBytes = Math.max(peakMemoryBytes, memory());
  await flushOutput();
  reply({ type: 'result', requestId, peakMemoryBytes, ...outcome });
});

/**
 * The optional Lambda `test` of a `generated` or `external` value: Nightshift invokes the user's function
 * (synchronously) with the names of the parameter and its pending place and the pending version, never the
 * value: the function reads `<name>.pending:<version>` itself (its own `ssm:GetParameter` and
 * `kms:Decrypt`) and proves it where it is checked. A pending place rewritten during the check fails it. It answers `{ "ok": true }`, or `{ "ok": false, "reason": "…" }` to refuse the value.
 *
 * A refusal is a {@link CheckRefusedError} (an external value is not tried again until a person changes
 * it); an unhandled error, a timeout or an answer of another shape is a {@link RotationError} (the next run
 * tries again). Either way nothing is finished: the plain name keeps the old value. The function's words
 * are kept to plain characters and cut short; no value, and no long token that could be one, is quoted.
 *
 * @module
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { CheckRefusedError } from './https-check.ts';
import { RotationError } from './ssm-protocol.ts';

export interface LambdaCheck {
  /** The function's ARN (a name resolved at synth); a qualifier (`:alias`) is allowed. */
  readonly functionArn: string;
  /** How long the invocation may take before the step fails (tried again next run). */
  readonly timeoutMs: number;
}

/** What the function receives. */
export interface LambdaCheckEvent {
  readonly nightshift: 'rotation-test';
  readonly parameter: string;
  readonly pendingParameter: string;
  /** The pending version to read (`<pendingParameter>:<pendingVersion>`): the one Nightshift pinned. */
  readonly pendingVersion?: number;
  readonly rotationId?: string;
}

const MAX_REASON = 120;
/** A run of this many non-blank characters in the function's words could be a credential: not quoted. */
const LONG_TOKEN = /\S{16,}/g;

export async function checkWithLambda(
  lambda: LambdaClient,
  check: LambdaCheck,
  o: {
    readonly parameter: string;
    readonly value: string;
    /** The values in use (current, previous): never quoted either. */
    readonly others?: readonly string[];
    readonly rotationId?: string;
    readonly pendingVersion?: () => Promise<number | undefined>;
  },
): Promise<void> {
  const pendingVersion = await o.pendingVersion?.();
  const event: LambdaCheckEvent = {
    nightshift: 'rotation-test',
    parameter: o.parameter,
    pendingParameter: `${o.parameter}.pending`,
    ...(pendingVersion !== undefined ? { pendingVersion } : {}),
    ...(o.rotationId ? { rotationId: o.rotationId } : {}),
  };
  const where = `the Lambda check of ${o.parameter}.pending (${check.functionArn})`;
  // The function's words are hostile: the values (new and in use) blanked as they are and in the encodings
  // code reaches for, then only plain characters kept, any long token dropped, one line, cut short.
  const spellings = [o.value, ...(o.others ?? [])]
    .flatMap((v) => [
      v,
      JSON.stringify(v).slice(1, -1),
      encodeURIComponent(v),
      Buffer.from(v).toString('base64'),
      Buffer.from(v).toString('base64url'),
      Buffer.from(v).toString('hex'),
    ])
    .filter((v) => v.length >= 8);
  const blank = (text: unknown) =>
    spellings.reduce((t, v) => t.split(v).join(' <a value> '), String(text ?? ''));
  // AWS's words (an SDK error): the values blanked, on one line.
  const aws = (text: unknown) => blank(text).replace(/\s+/g, ' ').trim().slice(0, 300);
  const said = (text: unknown) =>
    blank(text)
      .replace(/[^A-Za-z0-9 .,:;()'_<>-]+/g, ' ')
      .replace(LONG_TOKEN, '<long token>')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, MAX_REASON);
  let answer: unknown;
  try {
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: check.functionArn,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify(event)),
      }),
      { abortSignal: AbortSignal.timeout(check.timeoutMs) },
    );
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
    if (out.FunctionError) {
      const failure = parseJson(text) as { errorType?: unknown; errorMessage?: unknown } | undefined;
      throw new RotationError(
        `${where} failed (${said(out.FunctionError)}: ${said(failure?.errorType)} ${said(failure?.errorMessage)}): nothing was finished (tried again next run)`,
      );
    }
    answer = parseJson(text);
  } catch (error) {
    if (error instanceof RotationError) throw error;
    const e = error as Error;
    throw new RotationError(
      `${where} could not be invoked: ${aws(e.name)}: ${aws(e.message)}; nothing was finished (tried again next run)`,
    );
  }
  const ok = (answer as { ok?: unknown } | undefined)?.ok;
  if (ok === true) {
    // What was tested must be what is pinned: a pending place rewritten during the check (even back to the
    // same value) is not the value the function read.
    if (pendingVersion !== undefined && (await o.pendingVersion?.()) !== pendingVersion) {
      throw new RotationError(
        `${o.parameter}.pending changed while ${where} ran: not finished (tried again next run)`,
      );
    }
    return;
  }
  if (ok === false) {
    const reason = (answer as { reason?: unknown }).reason;
    throw new CheckRefusedError(
      `${where} refused the new value${reason === undefined ? '' : `: ${said(reason)}`}; the plain name keeps the old one`,
    );
  }
  throw new RotationError(
    `${where} answered neither {"ok": true} nor {"ok": false}: not a yes; nothing was finished (tried again next run)`,
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

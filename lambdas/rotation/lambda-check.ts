/**
 * The optional Lambda `test` of a `generated` or `external` value: Nightshift invokes the user's function
 * (synchronously) with the names of the parameter and its pending place, never the value: the function
 * reads `<name>.pending` itself (its own `ssm:GetParameter` and `kms:Decrypt`) and proves it where it is
 * checked. It answers `{ "ok": true }`, or `{ "ok": false, "reason": "…" }` to refuse the value.
 *
 * A refusal is a {@link CheckRefusedError} (an external value is not tried again until a person changes
 * it); an unhandled error, a timeout or an answer of another shape is a {@link RotationError} (the next run
 * tries again). Either way nothing is finished: the plain name keeps the old value. The function's words
 * are cut short and never carry the value on.
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
  readonly rotationId?: string;
}

const MAX_REASON = 300;

export async function checkWithLambda(
  lambda: LambdaClient,
  check: LambdaCheck,
  o: { readonly parameter: string; readonly value: string; readonly rotationId?: string },
): Promise<void> {
  const event: LambdaCheckEvent = {
    nightshift: 'rotation-test',
    parameter: o.parameter,
    pendingParameter: `${o.parameter}.pending`,
    ...(o.rotationId ? { rotationId: o.rotationId } : {}),
  };
  const where = `the Lambda check of ${o.parameter}.pending (${check.functionArn})`;
  // The value as the function might echo it: as it is, and in the encodings code reaches for.
  const spellings = [
    o.value,
    JSON.stringify(o.value).slice(1, -1),
    encodeURIComponent(o.value),
    Buffer.from(o.value).toString('base64'),
    Buffer.from(o.value).toString('base64url'),
    Buffer.from(o.value).toString('hex'),
  ].filter((v) => v.length >= 8);
  const said = (text: unknown) =>
    spellings
      .reduce((t, v) => t.split(v).join('<the value>'), String(text ?? ''))
      .replace(/[\r\n]+/g, ' ')
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
      `${where} could not be invoked: ${said(e.name)}: ${said(e.message)}; nothing was finished (tried again next run)`,
    );
  }
  const ok = (answer as { ok?: unknown } | undefined)?.ok;
  if (ok === true) return;
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

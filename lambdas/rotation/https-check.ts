/**
 * The optional `test` of a `generated` or `external` value: one HTTPS request that presents the new value
 * as the service that checks it expects (a bearer token, a basic-auth password such as an OAuth client
 * secret at a token endpoint, or a header of its own), and must be answered 2xx. The value is never in the
 * URL, never in an error; redirects are not followed (a 3xx fails the check).
 *
 * @module
 */
import { HttpFailure, httpsRequest } from '#shared/https';
import { RotationError } from './ssm-protocol.ts';

/** How the value is presented. */
export type PresentValue =
  | { readonly scheme: 'bearer' }
  /** `Authorization: Basic base64(username:value)` — e.g. an OAuth client id and its new secret. */
  | { readonly scheme: 'basic'; readonly username: string }
  | { readonly scheme: 'header'; readonly header: string };

export interface HttpsCheck {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly present: PresentValue;
  /** A form body (`application/x-www-form-urlencoded`), e.g. `grant_type=client_credentials`. */
  readonly form?: string;
  readonly timeoutMs: number;
}

/** The headers that present `value`. */
export function presentationHeaders(present: PresentValue, value: string): Record<string, string> {
  switch (present.scheme) {
    case 'bearer':
      return { authorization: `Bearer ${value}` };
    case 'basic':
      return {
        authorization: `Basic ${Buffer.from(`${present.username}:${value}`).toString('base64')}`,
      };
    case 'header':
      return { [present.header.toLowerCase()]: value };
  }
}

/** The service answered, and refused the value (not a network failure): an issuer is not asked again. */
export class CheckRefusedError extends RotationError {
  override readonly name = 'CheckRefusedError';
}

/** Proves `value` works at the check's URL; a `RotationError` naming the URL and the answer if it does not. */
export async function checkHttps(check: HttpsCheck, value: string, parameter: string): Promise<void> {
  const where = `${check.method} ${check.url}`;
  let status: number;
  try {
    const answer = await httpsRequest(new URL(check.url), {
      method: check.method,
      timeoutMs: check.timeoutMs,
      headers: {
        ...presentationHeaders(check.present, value),
        ...(check.form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(check.form === undefined ? {} : { body: check.form }),
    });
    status = answer.status;
  } catch (error) {
    if (!(error instanceof HttpFailure)) throw error;
    // Node may quote what it sent (a header's value in a TLS name error): the value never leaves in one.
    const message = error.message.split(value).join('<the value>');
    throw new RotationError(
      `the HTTPS check of ${parameter}.pending (${where}) got no answer: ${message}; nothing was finished`,
    );
  }
  if (status >= 400 && status <= 499) {
    throw new CheckRefusedError(
      `the HTTPS check of ${parameter}.pending (${where}) answered ${status}: the new value is not accepted there; the plain name keeps the old one`,
    );
  }
  if (status < 200 || status > 299) {
    throw new RotationError(
      `the HTTPS check of ${parameter}.pending (${where}) answered ${status}: not a yes; the plain name keeps the old value (tried again next run)`,
    );
  }
}

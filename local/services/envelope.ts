/** An EventBridge event as AWS delivers it to targets. */
export interface AwsEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: Record<string, unknown>;
}

/** Where services put the events they emit (the event bus of the local world). */
export type EmitEvent = (event: AwsEvent) => void;

/** Builds an event envelope; `time` is whole seconds, as AWS writes it. */
export function envelope(
  where: { account: string; region: string },
  source: string,
  detailType: string,
  now: number,
  resources: string[],
  detail: Record<string, unknown>,
): AwsEvent {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': detailType,
    source,
    account: where.account,
    time: new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
    region: where.region,
    resources,
    detail,
  };
}

/** Pagination like AWS: an opaque token that encodes the next offset. */
export function paginate<T>(items: readonly T[], maxResults: unknown, nextToken: unknown, limit = 100) {
  const size = Math.min(typeof maxResults === 'number' && maxResults > 0 ? maxResults : limit, limit);
  const start = typeof nextToken === 'string' && nextToken !== '' ? decodeToken(nextToken) : 0;
  const page = items.slice(start, start + size);
  const next =
    start + size < items.length
      ? Buffer.from(JSON.stringify({ o: start + size })).toString('base64')
      : undefined;
  return { page, nextToken: next };
}

function decodeToken(token: string): number {
  try {
    const { o } = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { o: number };
    if (Number.isInteger(o) && o >= 0) return o;
  } catch {
    // fall through
  }
  throw Object.assign(new Error('The specified nextToken is invalid'), { invalidToken: true });
}

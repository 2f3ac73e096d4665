/**
 * Pagination of RDS `Describe*` calls as AWS does it: `MaxRecords` between 20 and 100 (default 100; out of
 * range is `InvalidParameterValue`) and an opaque `Marker` that resumes after the last record returned.
 * The marker names a position (the record's sequence number), not an offset, so records deleted between
 * pages do not make the next page skip any.
 *
 * @module
 */
import { AwsServiceError } from '../endpoint/errors.ts';
import { type QueryParams, queryInteger, queryString } from '../endpoint/query-protocol.ts';

/** A record in creation order: `seq` increases with every record a world creates. */
export interface Sequenced {
  readonly seq: number;
}

/** One page of records, and the marker for the next page when there is one. */
export interface Page<T> {
  readonly records: T[];
  readonly marker?: string;
}

const MIN_RECORDS = 20;
const MAX_RECORDS = 100;

/**
 * The page `params` asks for (`MaxRecords`, `Marker`) of `records`, which must come in `seq` order and may be
 * lazy (only what the page needs is read). `kind` binds markers to one listing: a marker from another
 * `Describe*` call is refused.
 *
 * @throws {@link AwsServiceError} `InvalidParameterValue` for MaxRecords out of range or a marker that is not one.
 */
export function describePage<T extends Sequenced>(
  records: Iterable<T>,
  params: QueryParams,
  kind: string,
): Page<T> {
  const maxRecords = queryInteger(params, 'MaxRecords') ?? MAX_RECORDS;
  if (maxRecords < MIN_RECORDS || maxRecords > MAX_RECORDS) {
    throw new AwsServiceError(
      'InvalidParameterValue',
      `Invalid value ${maxRecords} for MaxRecords. Must be between ${MIN_RECORDS} and ${MAX_RECORDS}`,
    );
  }
  const marker = queryString(params, 'Marker');
  const after = marker === undefined || marker === '' ? -1 : decodeMarker(marker, kind);
  const page: T[] = [];
  for (const record of records) {
    if (record.seq <= after) continue;
    if (page.length === maxRecords) {
      const last = page[page.length - 1];
      return { records: page, marker: last ? encodeMarker(kind, last.seq) : undefined };
    }
    page.push(record);
  }
  return { records: page };
}

function encodeMarker(kind: string, seq: number): string {
  return Buffer.from(JSON.stringify({ k: kind, s: seq })).toString('base64url');
}

function decodeMarker(marker: string, kind: string): number {
  try {
    const { k, s } = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8')) as {
      k?: unknown;
      s?: unknown;
    };
    if (k === kind && typeof s === 'number' && Number.isInteger(s) && s >= 0) return s;
  } catch {
    // not a marker this world wrote
  }
  throw new AwsServiceError('InvalidParameterValue', `The parameter Marker is not valid: ${marker}`);
}

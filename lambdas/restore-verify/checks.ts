/**
 * What a restored copy must show: each check is a SQL query whose single value is compared with an
 * expectation. With no configured checks, the defaults: the database answers, it has user tables, and
 * they have rows.
 */
export type Expectation =
  | { readonly atLeast: number }
  | { readonly equals: string | number }
  /** The query returns a timestamp no older than the snapshot's time minus this many minutes. */
  | { readonly freshWithinMinutesOfSnapshot: number };

export interface Check {
  readonly name: string;
  readonly sql: string;
  readonly expect: Expectation;
}

export const DEFAULT_CHECKS: readonly Check[] = [
  { name: 'database answers', sql: 'select 1', expect: { equals: 1 } },
  {
    name: 'has user tables',
    sql: "select count(*) from information_schema.tables where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')",
    expect: { atLeast: 1 },
  },
  {
    // Whether any user table has a row, one `exists` per table: cheap even on a restore whose blocks still load
    // lazily from S3 (an exact count would read everything), and statistics of a restore start at zero.
    name: 'user tables have rows',
    sql: "select count(*) from information_schema.tables t where t.table_type = 'BASE TABLE' and t.table_schema not in ('pg_catalog', 'information_schema') and (xpath('/row/e/text()', query_to_xml(format('select exists(select 1 from %I.%I) as e', t.table_schema, t.table_name), false, true, '')))[1]::text = 'true'",
    expect: { atLeast: 1 },
  },
];

export interface CheckOutcome {
  readonly name: string;
  readonly passed: boolean;
  /** What was found, for the verdict: `count 0, expected at least 1`. */
  readonly detail: string;
}

/** Judges one check's value. Pure: the SQL was run elsewhere. */
export function judge(check: Check, value: unknown, snapshotTime: number): CheckOutcome {
  if (value instanceof Error)
    return { name: check.name, passed: false, detail: `query failed: ${value.message}` };
  // PostgreSQL's bigint arrives as a string ("0"): show numbers as numbers.
  const shown =
    value instanceof Date
      ? value.toISOString()
      : typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)
        ? value
        : JSON.stringify(value);
  const e = check.expect;
  if ('atLeast' in e) {
    const n = Number(value);
    const passed = Number.isFinite(n) && n >= e.atLeast;
    return { name: check.name, passed, detail: `got ${shown}, expected at least ${e.atLeast}` };
  }
  if ('equals' in e) {
    const passed = String(value) === String(e.equals);
    return { name: check.name, passed, detail: `got ${shown}, expected ${JSON.stringify(e.equals)}` };
  }
  const at = value instanceof Date ? value.getTime() : Date.parse(String(value));
  const oldest = snapshotTime - e.freshWithinMinutesOfSnapshot * 60_000;
  const passed = Number.isFinite(at) && at >= oldest;
  return {
    name: check.name,
    passed,
    detail: `newest row ${Number.isFinite(at) ? new Date(at).toISOString() : shown}, expected no older than ${new Date(oldest).toISOString()}`,
  };
}

/** The verdict of a verification: passed when every check did; otherwise names the first that failed. */
export function verdict(outcomes: readonly CheckOutcome[]): { passed: boolean; reason: string } {
  const failed = outcomes.find((o) => !o.passed);
  if (failed) return { passed: false, reason: `check "${failed.name}" failed: ${failed.detail}` };
  return { passed: true, reason: `${outcomes.length} check(s) passed` };
}

/**
 * What differs between SQLite and PostgreSQL in the store's raw SQL: how the invokedAt
 * instant is stored (SQLite: integer microseconds; PostgreSQL: timestamptz(6)) and how a
 * batch travels as one JSON parameter. Everything else in the SQL is shared.
 */
import { Sql, sqltag as sql } from "@prisma/client/runtime/client";
import { formatIsoMicros } from "../../chain/time.js";
import type { TraceRow } from "../trace-store.js";

export interface SqlDialect {
  readonly name: "sqlite" | "postgresql";
  /** Column list of an INSERT INTO "Trace", in rowTuple order. */
  readonly insertColumns: Sql;
  /** SELECT list of a trace row (invokedAt as integer microseconds "invokedAtUs"). */
  readonly selectColumns: Sql;
  /** The invokedAt column as an indexable expression. */
  readonly timeColumn: Sql;
  /** The invokedAt column in a form the planner will not use an index for (see pageSql). */
  readonly timeResidual: Sql;
  /** A parameter holding an instant, comparable with timeColumn. */
  time(us: number): Sql;
  /** The start of invokedAt's bucket of `bucketUs` microseconds, as integer microseconds. */
  timeBucket(bucketUs: number): Sql;
  /** A parameter holding an integer (seq), comparable with the seq column. */
  int(n: number): Sql;
  /**
   * The INSERT statements of a batch of rows, run in order. Each backend's shape is the one
   * measured fastest on its driver (see sqliteDialect and postgresDialect).
   */
  insertRows(rows: readonly TraceRow[]): Sql[];
  /** A subquery yielding the strings of a JSON array parameter (for IN (...)). */
  textArray(values: readonly string[]): Sql;
  /**
   * Seqs in [from, to], ascending, of rows whose indexed columns may differ from their
   * payload (or whose payload is not JSON). May include rows that agree in odd cases (e.g.
   * instants before 1970 on SQLite); never misses a row that disagrees.
   */
  columnMismatchCandidates(from: number, to: number, limit: number): Sql;
}

const KEY_COLUMNS = sql`"seq", "actionId", "principalId", "capabilityId", "eventType", "status", "reasonCode"`;
const HASH_COLUMNS = sql`"prevHash", "recordHash", "payload"`;

const rowTuple = (r: TraceRow, invokedAt: number | string) => [
  r.seq, r.actionId, r.principalId, r.capabilityId, r.eventType, r.status, r.reasonCode, invokedAt, r.prevHash, r.recordHash, r.payload,
];

/**
 * A SQLite batch runs as one single-row INSERT per record: one statement text, prepared once
 * per connection (./driver-client.ts caches it), and on better-sqlite3 a bound parameter
 * costs next to nothing. Measured on the raw driver, batches of 1,000 (rows per CPU second,
 * median of 3 interleaved): this shape 63k, 100-row VALUES 48k, one JSON parameter unpacked
 * with json_each 42k (the shape chosen for Prisma, whose per-parameter cost it avoided).
 */
const SQLITE_INSERT_STRINGS = [
  `INSERT INTO "Trace" ("seq", "actionId", "principalId", "capabilityId", "eventType", "status", "reasonCode", "invokedAtUs", "prevHash", "recordHash", "payload") VALUES (`,
  ...Array.from({ length: 10 }, () => ", "),
  ")",
];

/** SQLite: one single-row INSERT per row (see SQLITE_INSERT_STRINGS). */
function sqliteInsertRows(rows: readonly TraceRow[]): Sql[] {
  return rows.map((r) => new Sql(SQLITE_INSERT_STRINGS, rowTuple(r, r.invokedAtUs)));
}

/** SQLite: invokedAt as INTEGER microseconds; a batch as single-row INSERTs (sqliteInsertRows). */
export const sqliteDialect: SqlDialect = {
  name: "sqlite",
  insertColumns: sql`${KEY_COLUMNS}, "invokedAtUs", ${HASH_COLUMNS}`,
  selectColumns: sql`${KEY_COLUMNS}, "invokedAtUs", ${HASH_COLUMNS}`,
  timeColumn: sql`"invokedAtUs"`,
  // Unary plus makes the term unusable for an index in SQLite.
  timeResidual: sql`+"invokedAtUs"`,
  time: (us) => sql`${us}`,
  timeBucket: (bucketUs) => sql`("invokedAtUs" - ("invokedAtUs" % ${bucketUs}) - (CASE WHEN "invokedAtUs" % ${bucketUs} < 0 THEN ${bucketUs} ELSE 0 END))`,
  int: (n) => sql`${n}`,
  insertRows: sqliteInsertRows,
  textArray: (values) => sql`SELECT value FROM json_each(${JSON.stringify(values)})`,
  // SQLite caches the parse of a JSON text across the json_extract calls of one row.
  columnMismatchCandidates: (from, to, limit) => sql`SELECT "seq" FROM "Trace"
    WHERE "seq" >= ${from} AND "seq" <= ${to} AND CASE WHEN json_valid("payload") THEN NOT (
      "actionId" IS json_extract("payload", '$.action_id')
      AND "principalId" IS json_extract("payload", '$.principal_id')
      AND "capabilityId" IS json_extract("payload", '$.capability_id')
      AND "eventType" IS coalesce(json_extract("payload", '$.event_type'), 'invoke')
      AND "reasonCode" IS json_extract("payload", '$.reason_code')
      AND "status" IS (CASE WHEN coalesce(json_type("payload", '$.error'), 'null') = 'null' THEN 'succeeded' ELSE 'failed' END)
      AND json_extract("payload", '$.invoked_at') IS strftime('%Y-%m-%dT%H:%M:%S', "invokedAtUs" / 1000000, 'unixepoch')
        || CASE WHEN "invokedAtUs" % 1000000 = 0 THEN '' ELSE printf('.%06d', "invokedAtUs" % 1000000) END || '+00:00'
    ) ELSE 1 END
    ORDER BY "seq" ASC LIMIT ${limit}`,
};

/**
 * A lone surrogate escape in JSON text (PostgreSQL regular expression, matched
 * case-insensitively): a high one not followed by a low one, or a low one not preceded by a
 * high one. May match where jsonb would cope (an escaped backslash before "ud83d"); the
 * store's JavaScript fallback covers the opposite corner.
 */
const LONE_SURROGATE_ESCAPE = String.raw`\ud[89ab][0-9a-f]{2}(?!\ud[c-f])|(?<!\ud[89ab][0-9a-f]{2})\ud[c-f][0-9a-f]{2}`;

/**
 * PostgreSQL: invokedAt as timestamptz(6), parameters passed as exact ISO strings. Batches
 * travel as jsonb: each `->>` on a json value re-parses the row's text, on jsonb it does not
 * (measured with the driver alone: 9k rows/s as json, 16k as jsonb).
 */
export const postgresDialect: SqlDialect = {
  name: "postgresql",
  insertColumns: sql`${KEY_COLUMNS}, "invokedAt", ${HASH_COLUMNS}`,
  // EXTRACT(EPOCH ...) is numeric since PostgreSQL 14, so the microseconds are exact.
  selectColumns: sql`${KEY_COLUMNS}, (EXTRACT(EPOCH FROM "invokedAt") * 1000000)::bigint AS "invokedAtUs", ${HASH_COLUMNS}`,
  timeColumn: sql`"invokedAt"`,
  // PostgreSQL plans with statistics; no hint is needed (or possible) here.
  timeResidual: sql`"invokedAt"`,
  time: (us) => sql`${formatIsoMicros(us)}::timestamptz`,
  timeBucket: (bucketUs) =>
    sql`(floor((EXTRACT(EPOCH FROM "invokedAt") * 1000000) / ${bucketUs}::bigint) * ${bucketUs}::bigint)::bigint`,
  int: (n) => sql`${n}::bigint`,
  insertRows: (rows) => [sql`INSERT INTO "Trace" (${postgresDialect.insertColumns})
    SELECT (r ->> 0)::bigint, r ->> 1, r ->> 2, r ->> 3, r ->> 4, r ->> 5, r ->> 6, (r ->> 7)::timestamptz, r ->> 8, r ->> 9, r ->> 10
    FROM jsonb_array_elements(${JSON.stringify(rows.map((r) => rowTuple(r, formatIsoMicros(r.invokedAtUs))))}::jsonb) AS r`],
  textArray: (values) => sql`SELECT jsonb_array_elements_text(${JSON.stringify(values)}::jsonb)`,
  // Callers only ask about records whose HMAC verified, so "payload" is JSON as Python reads
  // it, but not always as jsonb does: jsonb holds no \u0000 and no lone surrogate escape
  // (\ud83d: a string cut inside an emoji, which the reference writes too), and has no NaN or
  // Infinity (records imported from reference stores). Such payloads are not cast but
  // returned as candidates and checked in JavaScript; the cheap strpos tests keep the regular
  // expression off ordinary payloads. The store falls back to JavaScript for a whole slice
  // should a cast still fail. The LATERAL with OFFSET 0 (an optimisation fence) parses each
  // payload once; inlined, the cast would run per comparison (measured 94 µs a row against 16).
  columnMismatchCandidates: (from, to, limit) => sql`SELECT "seq" FROM "Trace" CROSS JOIN LATERAL
    (SELECT CASE WHEN strpos("payload", '\u0000') > 0
      OR (strpos("payload", '\ud') > 0 AND "payload" ~* ${LONE_SURROGATE_ESCAPE})
      OR strpos("payload", 'NaN') > 0 OR strpos("payload", 'Infinity') > 0
      THEN NULL ELSE "payload"::jsonb END AS p OFFSET 0) AS j
    WHERE "seq" >= ${postgresDialect.int(from)} AND "seq" <= ${postgresDialect.int(to)} AND (p IS NULL OR NOT (
      "actionId" IS NOT DISTINCT FROM (p ->> 'action_id')
      AND "principalId" IS NOT DISTINCT FROM (p ->> 'principal_id')
      AND "capabilityId" IS NOT DISTINCT FROM (p ->> 'capability_id')
      AND "eventType" IS NOT DISTINCT FROM coalesce(p ->> 'event_type', 'invoke')
      AND "reasonCode" IS NOT DISTINCT FROM (p ->> 'reason_code')
      AND "status" IS NOT DISTINCT FROM (CASE WHEN coalesce(jsonb_typeof(p -> 'error'), 'null') = 'null' THEN 'succeeded' ELSE 'failed' END)
      -- Cast only the forms timestamptz reads; others (a comma before the fraction, an offset
      -- of 16 hours or more, both valid for the reference) are candidates, checked in JavaScript.
      AND CASE WHEN (p ->> 'invoked_at') ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,6})?(Z|[+-](0[0-9]|1[0-5]):[0-9]{2})?$'
        THEN "invokedAt" IS NOT DISTINCT FROM (p ->> 'invoked_at')::timestamptz ELSE false END
    ))
    ORDER BY "seq" ASC LIMIT ${limit}`,
};

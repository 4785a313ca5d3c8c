/**
 * The `parquet` export's layout: the Parquet schema of a schema-valid OCSF 1.3.0 API Activity
 * event (src/export/ocsf.ts `traceToOcsf`), the transposition of events into the column data
 * hyparquet-writer takes, and the Amazon Security Lake partition a file goes to. The files
 * themselves are written by src/cli/audit-parquet.ts.
 *
 * Security Lake takes a custom source's OCSF events only as Apache Parquet, one OCSF class per
 * object, under `ext/<sourceName>/region=<region>/accountId=<accountId>/eventDay=<YYYYMMDD>/`
 * in its bucket (Amazon Security Lake User Guide, "Collecting data from custom sources in
 * Security Lake", https://docs.aws.amazon.com/security-lake/latest/userguide/custom-sources.html).
 *
 * Columns are the event's attributes, its objects as Parquet groups (structs), so a query
 * reads `metadata.uid` or `api.operation` directly. Integers keep the OCSF types
 * (dictionary.json): integer_t as INT32, long_t and timestamp_t (`time`, epoch ms) as INT64,
 * both exact. `unmapped` is free-form in OCSF (any JSON), so it is one string column holding
 * its JSON text exactly as the `ocsf` line export writes it (read it with DuckDB's
 * `json(unmapped)`, Athena's `json_extract`). Every column is OPTIONAL: an attribute
 * the event leaves out (`status_detail` on success, `dst_endpoint` without a driver) is null.
 */
import type { ColumnSource, SchemaElement } from "hyparquet-writer";
import { type JsonObject, type JsonValue, pythonJsonDumps } from "../chain/json.js";
import { badUserInput } from "../errors.js";

/** A leaf's Parquet type: INT32 (OCSF integer_t), INT64 (long_t), UTF-8 text, or JSON text (in a UTF-8 column). */
type Leaf = "INT32" | "INT64" | "STRING" | "JSON";
/** A column: a leaf, or a group of named columns (a struct). */
type Field = Leaf | { readonly [name: string]: Field };

/** The event's attributes in the order traceToOcsf writes them, with their Parquet types. */
const EVENT_FIELDS = {
  activity_id: "INT32",
  activity_name: "STRING",
  category_uid: "INT32",
  category_name: "STRING",
  class_uid: "INT32",
  class_name: "STRING",
  type_uid: "INT64",
  type_name: "STRING",
  severity_id: "INT32",
  severity: "STRING",
  status_id: "INT32",
  status: "STRING",
  status_code: "STRING",
  status_detail: "STRING",
  time: "INT64",
  metadata: {
    version: "STRING",
    product: { name: "STRING", vendor_name: "STRING" },
    uid: "STRING",
    sequence: "INT32",
    original_time: "STRING",
    log_provider: "STRING",
  },
  actor: { user: { uid: "STRING" }, app_name: "STRING" },
  api: { operation: "STRING", service: { name: "STRING" } },
  src_endpoint: { svc_name: "STRING" },
  dst_endpoint: { svc_name: "STRING" },
  unmapped: "JSON",
} as const satisfies Record<string, Field>;

function schemaOf(name: string, field: Field): SchemaElement[] {
  if (typeof field !== "string") {
    const children = Object.entries(field);
    return [{ name, repetition_type: "OPTIONAL", num_children: children.length }, ...children.flatMap(([n, f]) => schemaOf(n, f))];
  }
  switch (field) {
    case "INT32":
    case "INT64":
      return [{ name, type: field, repetition_type: "OPTIONAL" }];
    case "STRING":
      return [{ name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" }];
    case "JSON":
      // A UTF-8 string, not the JSON annotation: hyparquet-writer writes a JSON column's
      // values through JSON.stringify, which cannot take the exact text (and rounds integers).
      return [{ name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" }];
  }
}

/** The Parquet schema (flattened, root first) of the `parquet` export's files. */
export const OCSF_PARQUET_SCHEMA: SchemaElement[] = [
  { name: "schema", num_children: Object.keys(EVENT_FIELDS).length },
  ...Object.entries(EVENT_FIELDS).flatMap(([name, field]) => schemaOf(name, field)),
];

/** An event's value as hyparquet-writer takes it for `field`: numbers for INT32, bigints for INT64. */
function columnValue(field: Field, value: JsonValue | undefined, path: string): unknown {
  if (value === undefined || value === null) return null;
  if (typeof field !== "string") {
    if (typeof value !== "object" || Array.isArray(value)) throw new TypeError(`OCSF ${path} is not an object`);
    const out: Record<string, unknown> = {};
    for (const [name, f] of Object.entries(field)) out[name] = columnValue(f, value[name], `${path}.${name}`);
    return out;
  }
  switch (field) {
    case "INT32":
    case "INT64": {
      if (typeof value !== "bigint") throw new TypeError(`OCSF ${path} is not an integer`);
      if (field === "INT64") return value;
      // INT32 columns hold OCSF integer_t attributes, which the mapping keeps in range.
      if (BigInt.asIntN(32, value) !== value) throw new TypeError(`OCSF ${path} ${value} does not fit integer_t`);
      return Number(value);
    }
    case "STRING":
      if (typeof value !== "string") throw new TypeError(`OCSF ${path} is not a string`);
      return value;
    case "JSON":
      return pythonJsonDumps(value);
  }
}

/**
 * Events transposed into hyparquet-writer's column data for OCSF_PARQUET_SCHEMA (one entry
 * per top-level column; a struct column's data are objects). An attribute the schema does
 * not have is not written; `ocsfParquetColumns` throws a TypeError for a value of the wrong
 * type (a mapping bug, never input).
 */
export function ocsfParquetColumns(events: readonly JsonObject[]): ColumnSource[] {
  return Object.entries(EVENT_FIELDS).map(([name, field]) => ({
    name,
    data: events.map((event) => columnValue(field, event[name], name)),
  }));
}

/** Default bound on the rows of one file (`--rows-per-file`). */
export const PARQUET_ROWS_PER_FILE = 1_000_000;

/** Where a Security Lake custom source's files go (its options on `audit export --format parquet`). */
export interface SecurityLakeTarget {
  /** The custom source's name, the folder under `ext/`. */
  sourceName: string;
  /** The AWS Region of the data, e.g. `us-east-1`. */
  region: string;
  /** The 12-digit AWS account id. */
  accountId: string;
}

/**
 * Refuse a target that would not make a Security Lake path: a source name that is not one
 * path segment of letters, digits, `_`, `-` and `.` (at most 64, not `.` or `..`), a region
 * that is not of the AWS form (`us-east-1`, `us-gov-west-1`), an account id that is not 12
 * digits. @throws TracegateError BAD_USER_INPUT naming the option.
 */
export function checkSecurityLakeTarget(target: SecurityLakeTarget): void {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(target.sourceName) || /^\.\.?$/.test(target.sourceName)) {
    throw badUserInput(`--source-name must be the custom source's name (letters, digits, _ - ., at most 64), got '${target.sourceName}'.`, "sourceName");
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(target.region)) {
    throw badUserInput(`--region must be an AWS Region such as us-east-1, got '${target.region}'.`, "region");
  }
  if (!/^\d{12}$/.test(target.accountId)) {
    throw badUserInput(`--account-id must be a 12-digit AWS account id, got '${target.accountId}'.`, "accountId");
  }
}

/** `YYYYMMDD` of an OCSF `time` (epoch milliseconds) in UTC: the event's `eventDay`. */
export function eventDay(timeMs: bigint): string {
  const date = new Date(Number(timeMs));
  const year = date.getUTCFullYear();
  return `${String(year).padStart(4, "0")}${String(date.getUTCMonth() + 1).padStart(2, "0")}${String(date.getUTCDate()).padStart(2, "0")}`;
}

/** The partition folder, relative to the bucket root, of `target`'s events on `day` (YYYYMMDD). */
export function securityLakePartition(target: SecurityLakeTarget, day: string): string {
  return `ext/${target.sourceName}/region=${target.region}/accountId=${target.accountId}/eventDay=${day}`;
}

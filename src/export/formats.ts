/**
 * Export formats: one place that turns stored chain records into the files other tools read.
 *
 * * `jsonl`: one export object per line (docs/reference-compatibility.md#the-16-keys),
 *   written like the reference CLI's `audit export` (Python `json.dumps` defaults), its 16
 *   keys in the reference's order.
 * * `chained`: one reference JSONL-store line per record
 *   (docs/reference-compatibility.md#jsonl-store),
 *   `{"seq": n, "prev_hash": …, "record_hash": …, "trace": {…}}`, so weaver-kernel's own
 *   `JsonlTraceStore` can open the file and verify the chain with the shared secret.
 * * `ocsf`: one OCSF 1.3.0 API Activity event per line, valid against the 1.3.0 schema
 *   (docs/reference-compatibility.md#ocsf-mapping).
 * * `ocsf-reference`: the same class mapped exactly as the reference kernel maps it (not
 *   schema-valid: it lacks src_endpoint), for pipelines built on weaver-kernel's events.
 * * `envelope`: the `export_action_traces` document
 *   `{"schema": "weaver_kernel.action_trace_export", "version": "1", "traces": [...]}`,
 *   written trace by trace rather than built in memory.
 *
 * Stored payloads are canonical JSON (keys sorted), so the export object is rebuilt in the
 * reference's insertion order. Only the top level can be: the order the kernel gave `args` and
 * `result_summary` keys was never stored (nor hashed), so nested objects come out sorted.
 * Exports read keyset pages of the store, so memory stays constant however large the chain.
 */
import { isJsonObject, type JsonObject, type JsonValue, parseJsonLossless, pythonJsonDumps } from "../chain/json.js";
import { keysInOrder } from "../chain/key-order.js";
import { parseIsoInstant } from "../chain/isoformat.js";
import type { EpochMicros } from "../chain/time.js";
import { CorruptPayloadError, EXPORT_KEYS } from "../chain/trace.js";
import type { TraceFilter, TraceOrder, TraceRow, TraceStore } from "../stores/trace-store.js";
import { stringify as csvStringify } from "csv-stringify/sync";
import { traceToOcsf, traceToOcsfReference } from "./ocsf.js";

/** Every export format; `jsonl` is the reference CLI's. */
export const EXPORT_FORMATS = ["jsonl", "envelope", "chained", "ocsf", "ocsf-reference", "csv"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
/** The formats written one trace per line. */
export type LineFormat = Exclude<ExportFormat, "envelope">;

export function isExportFormat(value: string): value is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(value);
}

/** The export orders by their command-line / query-string names. */
export const EXPORT_ORDERS = {
  /** Chain order: what the reference CLI prints, and what `chained` needs. */
  seq: "SEQ_ASC",
  /** Newest record first (the console's default view). */
  "seq-desc": "SEQ_DESC",
  /** By invokedAt, ties in chain order. */
  time: "INVOKED_AT_ASC",
  "time-desc": "INVOKED_AT_DESC",
} as const satisfies Record<string, TraceOrder>;
export type ExportOrderName = keyof typeof EXPORT_ORDERS;

export function isExportOrderName(value: string): value is ExportOrderName {
  return Object.hasOwn(EXPORT_ORDERS, value);
}

/** Media type of each format's output. */
export const EXPORT_CONTENT_TYPES: Readonly<Record<ExportFormat, string>> = {
  jsonl: "application/x-ndjson; charset=utf-8",
  chained: "application/x-ndjson; charset=utf-8",
  ocsf: "application/x-ndjson; charset=utf-8",
  "ocsf-reference": "application/x-ndjson; charset=utf-8",
  envelope: "application/json; charset=utf-8",
  csv: "text/csv; charset=utf-8; header=present",
};

/**
 * The columns of the `csv` format, in order: the chain position (seq) and the record's hash
 * (never its prev_hash, which is another record's hash, maybe of a principal the reader's key
 * may not see), then the trace's fields (README.md, "Export formats"). `status` is derived as in the
 * export object; `args` and `result_summary` are their JSON text, exactly as the jsonl export
 * writes them.
 */
export const CSV_COLUMNS = [
  "seq", "invoked_at", "action_id", "event_type", "status", "capability_id", "principal_id", "token_id",
  "driver_id", "handle_id", "response_mode", "sensitivity", "reason_code", "error", "args", "result_summary",
  "record_hash",
] as const;

/**
 * One CSV record (RFC 4180 quoting by csv-stringify, records ended by "\n"). A cell that
 * starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`
 * (csv-stringify's escape_formulas), so a spreadsheet opening the file never runs a formula
 * a client wrote into a principal or an error: the jsonl export has the exact text.
 */
function csvRecord(cells: readonly string[]): string {
  return csvStringify([cells], { escape_formulas: true, eof: false });
}

/** The header line of the `csv` format. */
export const CSV_HEADER = csvRecord(CSV_COLUMNS);

/** The 16 keys of the export object, in the reference's insertion order (defined with the trace model). */
export { EXPORT_KEYS };

/** `schema` of the export envelope. */
export const ENVELOPE_SCHEMA = "weaver_kernel.action_trace_export";
/** `version` of the export envelope (bumped by the reference only on breaking changes). */
export const ENVELOPE_VERSION = "1";

/** Rows per keyset page of an export. */
export const EXPORT_PAGE_SIZE = 500;

/**
 * The export object of a stored record: its payload parsed losslessly (ints stay ints,
 * `100.0` stays a float), top-level keys in the reference's order, unknown keys after them.
 * @throws CorruptPayloadError when the payload is not a JSON object.
 */
export function exportObjectOf(row: Pick<TraceRow, "seq" | "payload">): JsonObject {
  let value: JsonValue;
  try {
    value = parseJsonLossless(row.payload);
  } catch (e) {
    throw new CorruptPayloadError(`Corrupted trace payload at seq ${row.seq}: ${(e as Error).message}`);
  }
  if (!isJsonObject(value)) throw new CorruptPayloadError(`Corrupted trace payload at seq ${row.seq}: not a JSON object.`);
  // Null prototype: a key named "__proto__" stays a plain key.
  const out = Object.create(null) as JsonObject;
  for (const key of EXPORT_KEYS) {
    if (Object.hasOwn(value, key)) out[key] = value[key] as JsonValue;
  }
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(out, key)) out[key] = value[key] as JsonValue;
  }
  return out;
}

/** `jsonl`: the export object as the reference CLI writes it. */
export function jsonlLine(row: TraceRow): string {
  return pythonJsonDumps(exportObjectOf(row));
}

/** `chained`: the reference JSONL store's record line (keys seq, prev_hash, record_hash, trace). */
export function chainedLine(row: TraceRow): string {
  const record = Object.create(null) as JsonObject;
  // A bigint, so it is written as a Python int (a number would come out as `0.0`).
  record.seq = BigInt(row.seq);
  record.prev_hash = row.prevHash;
  record.record_hash = row.recordHash;
  record.trace = exportObjectOf(row);
  return pythonJsonDumps(record);
}

/** `csv`: one record of CSV_COLUMNS; null is an empty cell, a string itself, anything else its JSON text. */
export function csvLine(row: TraceRow): string {
  const trace = exportObjectOf(row);
  const cell = (value: JsonValue | undefined) => (value === null || value === undefined ? "" : typeof value === "string" ? value : pythonJsonDumps(value));
  return csvRecord(
    CSV_COLUMNS.map((column) => {
      if (column === "seq") return String(row.seq);
      if (column === "record_hash") return row.recordHash;
      return cell(trace[column]);
    }),
  );
}

/** `ocsf`: the trace's schema-valid OCSF API Activity event (metadata.uid its action_id, seq carried). */
export function ocsfLine(row: TraceRow): string {
  return pythonJsonDumps(traceToOcsf(exportObjectOf(row), row.seq));
}

/** `ocsf-reference`: the trace's OCSF API Activity event exactly as the reference maps it. */
export function ocsfReferenceLine(row: TraceRow): string {
  return pythonJsonDumps(traceToOcsfReference(exportObjectOf(row)));
}

/**
 * The `withSeq` wrapping of a line: `{"seq": <seq>, "data": <line>}`, spaced like Python's
 * json.dumps (the rest of the line formats), the line itself untouched. The prefix is fixed,
 * so a reader can cut the line out exactly without re-serialising it (src/forward/read.ts).
 */
export function withSeqLine(seq: number, line: string): string {
  return `{"seq": ${seq}, "data": ${line}}`;
}

/** One line (without its newline) per stored record, by format. */
export const LINE_FORMATTERS: Readonly<Record<LineFormat, (row: TraceRow) => string>> = {
  jsonl: jsonlLine,
  chained: chainedLine,
  ocsf: ocsfLine,
  "ocsf-reference": ocsfReferenceLine,
  csv: csvLine,
};

/** Everything of the envelope before the first trace, and after the last. */
const [ENVELOPE_HEAD, ENVELOPE_TAIL] = (() => {
  const empty = pythonJsonDumps({ schema: ENVELOPE_SCHEMA, version: ENVELOPE_VERSION, traces: [] });
  const cut = empty.lastIndexOf("[]") + 1;
  return [empty.slice(0, cut), empty.slice(cut)] as const;
})();

/**
 * Python's `json.dumps(value, indent=indent)`, byte for byte: items on their own lines,
 * separators "," and ": ", empty containers as `[]` / `{}`, ASCII escaping, Python's ints
 * and float reprs (via pythonJsonDumps for every scalar). `depth` is the nesting level the
 * value starts at (its continuation lines are indented that much further).
 */
export function pythonJsonIndent(value: JsonValue, indent = 2, depth = 0): string {
  const pad = " ".repeat(indent);
  const write = (v: JsonValue, level: number): string => {
    if (Array.isArray(v)) {
      if (v.length === 0) return "[]";
      const inner = "\n" + pad.repeat(level + 1);
      return "[" + inner + v.map((item) => write(item, level + 1)).join("," + inner) + "\n" + pad.repeat(level) + "]";
    }
    if (v !== null && typeof v === "object") {
      const keys = keysInOrder(v);
      if (keys.length === 0) return "{}";
      const inner = "\n" + pad.repeat(level + 1);
      const items = keys.map((k) => pythonJsonDumps(k) + ": " + write(v[k] as JsonValue, level + 1));
      return "{" + inner + items.join("," + inner) + "\n" + pad.repeat(level) + "}";
    }
    return pythonJsonDumps(v);
  };
  return write(value, depth);
}

/**
 * A time bound of an export or listing: what Python 3.11's `datetime.fromisoformat` accepts
 * (src/chain/isoformat.ts: dates, week dates, `2026-03-03T00:00`, any offset...), naive
 * meaning UTC, as epoch microseconds. A bound outside the safe-integer range (before 1685 or
 * after 2255) is clamped to it: stored instants all lie inside (ingest refuses the others),
 * so every comparison with a stored trace keeps its exact outcome.
 * @throws TimestampError for what CPython refuses.
 */
export function parseExportTime(text: string): EpochMicros {
  return clampedMicros(parseIsoInstant(text));
}

/** An exact instant as a time bound on stored traces, clamped to the safe range (see parseExportTime). */
export function clampedMicros(us: bigint): EpochMicros {
  const min = BigInt(Number.MIN_SAFE_INTEGER);
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  return Number(us < min ? min : us > max ? max : us);
}

/** Paging of an export. */
export interface ExportOptions {
  /** At most this many traces (after filtering); default all. */
  limit?: number;
  /**
   * Only records with a seq greater than this (a delivery cursor: the last seq a consumer
   * holds). Chain order only (order SEQ_ASC): it is the keyset position the first page starts after.
   */
  afterSeq?: number;
  /**
   * Each line as `{"seq": <n>, "data": <the format's line>}` (jsonl and ocsf only), so a
   * consumer learns the chain position of every record without the export object growing a
   * key that a trace could already hold. The inner line is the format's, byte for byte.
   */
  withSeq?: boolean;
  /** Rows per keyset page (default EXPORT_PAGE_SIZE). */
  pageSize?: number;
  /** Called after each page with the number of traces exported so far. */
  onProgress?: (exported: number) => void;
}

/**
 * The rows matching `filter`, in `order`, as keyset pages: one page in memory at a time.
 * The export is a snapshot of the chain as of its start: records appended meanwhile (their
 * seq is at or past the head read first) are left out, so a long export neither chases a
 * busy chain forever nor mixes two states of it.
 */
export async function* traceRowPages(
  store: Pick<TraceStore, "page" | "head">,
  filter: TraceFilter,
  order: TraceOrder,
  options: Pick<ExportOptions, "limit" | "pageSize" | "afterSeq"> = {},
): AsyncGenerator<TraceRow[]> {
  const pageSize = options.pageSize ?? EXPORT_PAGE_SIZE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  if (limit < 0) throw new RangeError(`limit must not be negative, got ${limit}`);
  if (options.afterSeq !== undefined && order !== "SEQ_ASC") throw new RangeError("afterSeq needs order SEQ_ASC");
  const { nextSeq } = await store.head();
  let remaining = limit;
  let after: Pick<TraceRow, "seq" | "invokedAtUs"> | undefined = options.afterSeq === undefined ? undefined : { seq: options.afterSeq, invokedAtUs: 0 };
  while (remaining > 0) {
    const want = Math.min(pageSize, remaining);
    const rows = await store.page({
      filter,
      order,
      limit: want,
      ...(after ? { after: { seq: after.seq, invokedAtUs: after.invokedAtUs } } : {}),
    });
    const last = rows[rows.length - 1];
    if (!last) return;
    after = last;
    const kept = rows.filter((r) => r.seq < nextSeq);
    if (kept.length > remaining) kept.length = remaining;
    remaining -= kept.length;
    if (kept.length > 0) yield kept;
    if (rows.length < want) return;
    // In chain order nothing past the snapshot's head can follow.
    if (order === "SEQ_ASC" && last.seq >= nextSeq - 1) return;
  }
}

/**
 * The export as text chunks (one per page): lines ending in "\n", or the envelope followed
 * by "\n". Pull-driven, so a slow consumer slows the database reads instead of buffering.
 */
export async function* exportChunks(
  store: Pick<TraceStore, "page" | "head">,
  filter: TraceFilter,
  order: TraceOrder,
  format: ExportFormat,
  options: ExportOptions = {},
): AsyncGenerator<string, number> {
  let exported = 0;
  if (format === "envelope") {
    let text = ENVELOPE_HEAD;
    for await (const rows of traceRowPages(store, filter, order, options)) {
      for (const row of rows) {
        text += (exported === 0 ? "" : ", ") + jsonlLine(row);
        exported++;
      }
      yield text;
      text = "";
      options.onProgress?.(exported);
    }
    yield text + ENVELOPE_TAIL + "\n";
    return exported;
  }
  const formatLine = LINE_FORMATTERS[format];
  if (options.withSeq && format !== "jsonl" && format !== "ocsf") throw new RangeError(`withSeq applies to jsonl and ocsf, not ${format}`);
  const line = options.withSeq ? (row: TraceRow) => withSeqLine(row.seq, formatLine(row)) : formatLine;
  // A CSV file starts with its header, also when no trace matches.
  if (format === "csv") yield CSV_HEADER + "\n";
  for await (const rows of traceRowPages(store, filter, order, options)) {
    let text = "";
    for (const row of rows) text += line(row) + "\n";
    exported += rows.length;
    yield text;
    options.onProgress?.(exported);
  }
  return exported;
}

/**
 * Write an export through `write` (awaited when it returns a promise, which is how a caller
 * applies backpressure) and return the number of traces written. Constant memory: one page
 * of rows and its text at a time.
 */
export async function streamExport(
  store: Pick<TraceStore, "page" | "head">,
  filter: TraceFilter,
  order: TraceOrder,
  format: ExportFormat,
  write: (chunk: string) => void | Promise<void>,
  onProgress?: (exported: number) => void,
  options: Pick<ExportOptions, "limit" | "pageSize"> = {},
): Promise<number> {
  const chunks = exportChunks(store, filter, order, format, { ...options, ...(onProgress ? { onProgress } : {}) });
  for (;;) {
    const next = await chunks.next();
    if (next.done) return next.value;
    if (next.value !== "") await write(next.value);
  }
}

/**
 * `tracegate audit export --format parquet --out DIR`: the schema-valid OCSF events
 * (src/export/ocsf.ts) as Apache Parquet files laid out for an Amazon Security Lake custom
 * source (src/export/parquet.ts): DIR is the bucket root, each file lies under
 * `ext/<source>/region=<region>/accountId=<account>/eventDay=<YYYYMMDD>/` and holds the
 * events of one UTC day (from the event's `time`), in time order, at most `rowsPerFile` of
 * them. Every file is one OCSF class (6003).
 *
 * Constant memory: the traces are read in keyset pages in time order and written one row
 * group at a time. All or nothing: each file is written under a hidden temporary name in its
 * folder and renamed when complete; an error or an interrupt (Ctrl-C, SIGTERM) removes the
 * temporary file and the files this run already completed, so a failed run leaves no file
 * (folders it created may stay, empty).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileWriter, ParquetWriter } from "hyparquet-writer";
import type { JsonObject } from "../chain/json.js";
import { exportObjectOf, traceRowPages } from "../export/formats.js";
import { traceToOcsf } from "../export/ocsf.js";
import { eventDay, OCSF_PARQUET_SCHEMA, PARQUET_ROWS_PER_FILE, ocsfParquetColumns, type SecurityLakeTarget, securityLakePartition } from "../export/parquet.js";
import type { TraceFilter, TraceStore } from "../stores/trace-store.js";
import { onInterrupt } from "./interrupt.js";

/** Rows per Parquet row group: what is held in memory before it is encoded and written. */
export const PARQUET_ROW_GROUP_SIZE = 10_000;

/** One file the export wrote. */
export interface ParquetFile {
  /** Its path (under the output directory). */
  path: string;
  /** Its `eventDay`, YYYYMMDD. */
  day: string;
  rows: number;
}

export interface ParquetExportOptions {
  /** The bucket root the `ext/...` folders go under. */
  outDir: string;
  target: SecurityLakeTarget;
  /** At most this many traces (after filtering). */
  limit?: number;
  /** At most this many rows per file (default PARQUET_ROWS_PER_FILE). */
  rowsPerFile?: number;
  /** Rows per row group (default PARQUET_ROW_GROUP_SIZE). */
  rowGroupSize?: number;
  /** Keyset page size of the reads (tests use small pages). */
  pageSize?: number;
  /** Called after each page with the number of traces written so far. */
  onProgress?: (exported: number) => void;
}

/** A file being written: its temporary path, the Parquet writer, the rows not yet in a row group. */
interface OpenFile {
  day: string;
  path: string;
  partial: string;
  writer: ParquetWriter;
  pending: JsonObject[];
  rows: number;
}

/** `20261201T061500Z`: the run's start in file names, so runs sort and never collide (with the random part). */
function runStamp(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/**
 * Export the traces matching `filter` as Security Lake Parquet files under `options.outDir`
 * and return the files written, in order. Reads in time order (INVOKED_AT_ASC), so a day's
 * events come together and each file is sorted by time.
 * @throws whatever the store or the file system throws; nothing written by this run is left.
 */
export async function writeParquetExport(
  store: Pick<TraceStore, "page" | "head">,
  filter: TraceFilter,
  options: ParquetExportOptions,
): Promise<ParquetFile[]> {
  const rowsPerFile = options.rowsPerFile ?? PARQUET_ROWS_PER_FILE;
  const rowGroupSize = Math.min(options.rowGroupSize ?? PARQUET_ROW_GROUP_SIZE, rowsPerFile);
  const run = `tracegate-${runStamp()}-${randomBytes(4).toString("hex")}`;
  const done: ParquetFile[] = [];
  let open: OpenFile | undefined;
  // Interrupted or failed: no temporary file, and none of this run's files, stay.
  const removeAll = () => {
    if (open) rmSync(open.partial, { force: true });
    for (const file of done) rmSync(file.path, { force: true });
  };
  const forget = onInterrupt(removeAll);

  const flushGroup = (file: OpenFile) => {
    if (file.pending.length === 0) return;
    // fileWriter writes synchronously (it has no flush to wait for), so write returns nothing to await.
    void file.writer.write({ columnData: ocsfParquetColumns(file.pending), rowGroupSize: file.pending.length });
    file.pending = [];
  };
  const close = (file: OpenFile) => {
    flushGroup(file);
    void file.writer.finish();
    renameSync(file.partial, file.path);
    done.push({ path: file.path, day: file.day, rows: file.rows });
    open = undefined;
  };
  const start = (day: string): OpenFile => {
    const dir = join(options.outDir, securityLakePartition(options.target, day));
    mkdirSync(dir, { recursive: true });
    const name = `${run}-${String(done.length + 1).padStart(4, "0")}.parquet`;
    const partial = join(dir, `.${name}.partial`);
    // fileWriter creates the file synchronously and `open` names it before anything else
    // runs, so an interrupt's cleanup always finds it.
    const writer = new ParquetWriter({ writer: fileWriter(partial), schema: OCSF_PARQUET_SCHEMA, createdBy: "tracegate" });
    open = { day, path: join(dir, name), partial, writer, pending: [], rows: 0 };
    return open;
  };

  try {
    let exported = 0;
    const paging = { ...(options.limit === undefined ? {} : { limit: options.limit }), ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }) };
    for await (const rows of traceRowPages(store, filter, "INVOKED_AT_ASC", paging)) {
      for (const row of rows) {
        const event = traceToOcsf(exportObjectOf(row), row.seq);
        const day = eventDay(event.time as bigint);
        if (open && (open.day !== day || open.rows === rowsPerFile)) close(open);
        const file = open ?? start(day);
        file.pending.push(event);
        file.rows++;
        if (file.pending.length === rowGroupSize) flushGroup(file);
      }
      exported += rows.length;
      options.onProgress?.(exported);
    }
    if (open) close(open);
    return done;
  } catch (e) {
    removeAll();
    throw e;
  } finally {
    forget();
  }
}

/** The export's report on stdout: each file with its rows, then the total. */
export function parquetWroteText(files: readonly ParquetFile[], outDir: string): string {
  const total = files.reduce((n, f) => n + f.rows, 0);
  return files.map((f) => `${f.path}\t${f.rows}\n`).join("") + `Wrote ${total} trace(s) to ${files.length} Parquet file(s) under ${outDir}\n`;
}

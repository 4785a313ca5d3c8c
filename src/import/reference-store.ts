/**
 * Reading and verifying the reference's durable trace stores
 * (docs/reference-compatibility.md#jsonl-store and
 * docs/reference-compatibility.md#sqlite-store) for `tracegate import` and for
 * `tracegate audit ... --store` (src/cli/audit-store.ts).
 *
 * Strictly read-only: the file's bytes and mtime never change and no -journal, -wal or -shm
 * file is created beside it (a WAL-mode database without its -wal/-shm files is refused
 * rather than opened, since SQLite would create them). Each store is read as a snapshot of
 * what it held when opened (a JSONL file up to its size then, SQLite rows up to the highest
 * seq then), so two passes over a store a kernel is appending to see the same records.
 *
 * - JSONL: one envelope `{seq, prev_hash, record_hash, trace}` per line, streamed with
 *   readline (blank lines skipped, line numbers counted like the reference's enumerate).
 * - SQLite: the `traces` table read with better-sqlite3 (read-only) in seq order, in pages
 *   of short statements so a kernel writing the file is never locked out for long;
 *   `meta.checkpoint_next_seq` / `meta.checkpoint_hash` say where a pruned store starts.
 *
 * One file: both formats behind one ReferenceStore interface, with the read-only and snapshot
 * rules and the import verification built on it; split per format, each half would re-state
 * them. The reference CLI's decoding of what it reads is ./reference-view.ts.
 *
 * Lines and payloads are parsed, and traces decoded, by src/ingest/reference-record.ts (the
 * same parser the gateway's recordTraceRecords and `tracegate ship` use): losslessly, so
 * floats stay floats, big integers stay exact, strings keep every code unit, and a trace's
 * canonical JSON is byte for byte what the reference hashed. The
 * chain is checked with ChainVerifier in constant memory; only the action ids are kept (to
 * refuse duplicates, which JSONL allows and tracegate does not).
 */
import { createReadStream, existsSync, openSync, readSync, closeSync, statSync } from "node:fs";
import { createInterface } from "node:readline";
import Database from "better-sqlite3";
import { GENESIS_HASH, type RecordHasher } from "../chain/hash.js";
import { canonicalJson, type JsonObject } from "../chain/json.js";
import { statusOf, type TraceColumns } from "../chain/trace.js";
import { ChainVerifier, type ChainVerification } from "../chain/verify.js";
import { identifierProblem } from "../chain/identifier.js";
import { decodeTrace, parseChainedRecord, parseJsonObject, RecordError } from "../ingest/reference-record.js";

/** The two durable formats of the reference. */
export type StoreFormat = "jsonl" | "sqlite";
export const STORE_FORMATS: readonly StoreFormat[] = ["jsonl", "sqlite"];

/** A store that cannot be imported; the message is meant for the operator. */
export class ImportError extends Error {
  override name = "ImportError";
}

/** The chain of the store does not verify: tampered, or the wrong secret. */
export class ChainImportError extends ImportError {
  override name = "ChainImportError";
  constructor(readonly verification: ChainVerification) {
    super(`${verification.kind} at seq ${verification.firstBadSeq}: ${verification.detail}`);
  }
}

/** The 16 bytes every SQLite 3 database file starts with. */
const SQLITE_HEADER = Buffer.from("SQLite format 3\0", "latin1");
const HEX64 = /^[0-9a-f]{64}$/;

/** SQLite when the file starts with the SQLite header, JSONL otherwise. */
export function detectFormat(path: string): StoreFormat {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(SQLITE_HEADER.length);
    const n = readSync(fd, head, 0, head.length, 0);
    return n === head.length && head.equals(SQLITE_HEADER) ? "sqlite" : "jsonl";
  } finally {
    closeSync(fd);
  }
}

/**
 * Refuse a path that does not name an existing regular file (the reference's wording);
 * `advice` ends the message (the audit commands name their --store flag).
 */
export function assertStoreExists(path: string, advice = "Check the path (import reads an existing store; it does not create one)"): void {
  if (!existsSync(path)) {
    throw new ImportError(`Trace store '${path}' does not exist. ${advice}.`);
  }
  if (!statSync(path).isFile()) throw new ImportError(`Trace store '${path}' is not a file.`);
}

/** One record as read from the store, before verification. */
export interface SourceRecord {
  seq: number;
  prevHash: string;
  recordHash: string;
  /** The trace as parsed (losslessly). */
  trace: JsonObject;
  /** Canonical JSON of the trace: what the chain hashes and what tracegate stores. */
  payload: string;
  /** Where the record is, for messages: `path:lineno` or `path (seq n)`. */
  location: string;
  /** The JSON text the trace was parsed from: the JSONL line (the whole envelope), or the SQLite payload. */
  text?: string;
  /** SQLite only: the indexed copies the reference keeps next to the payload. */
  columns?: { actionId: unknown; invokedAt: unknown };
}

/** Where a store's chain starts: seq 0 at genesis, or after a (SQLite) prune checkpoint. */
export interface ChainOrigin {
  firstSeq: number;
  prevHash: string;
  /** Whether a prune checkpoint put the origin there. */
  pruned: boolean;
}

/** An opened reference store; `records()` may be called again for a second pass. */
export interface ReferenceStore {
  readonly format: StoreFormat;
  readonly path: string;
  readonly origin: ChainOrigin;
  /** The records in chain (file or seq) order; throws ImportError at a corrupt one. */
  records(): AsyncIterable<SourceRecord>;
  /**
   * SQLite only: the payload of the row whose action_id column is `actionId` (the reference's
   * indexed `get`), or null when there is none. JSONL stores have no index (undefined).
   */
  findPayload?(actionId: string): { seq: number; payload: unknown } | null;
  close(): void;
}

/** Open a reference store (format detected from the header unless given). */
export function openReferenceStore(path: string, format: StoreFormat = detectFormat(path)): ReferenceStore {
  assertStoreExists(path);
  return format === "sqlite" ? openSqliteStore(path) : openJsonlStore(path);
}

// ---------------------------------------------------------------------------
// JSONL
// ---------------------------------------------------------------------------

function corruptLine(path: string, lineno: number, reason: string): ImportError {
  return new ImportError(`Corrupted trace record at ${path}:${lineno}: ${reason.replace(/\.$/, "")}.`);
}

function envelopeOf(line: string, path: string, lineno: number): SourceRecord {
  try {
    return { ...parseChainedRecord(line), location: `${path}:${lineno}`, text: line };
  } catch (e) {
    if (e instanceof RecordError) throw corruptLine(path, lineno, e.reason);
    throw e;
  }
}

function openJsonlStore(path: string): ReferenceStore {
  // The snapshot: lines appended after opening are not read.
  const size = statSync(path).size;
  return {
    format: "jsonl",
    path,
    // JSONL stores cannot be pruned: the chain starts at genesis.
    origin: { firstSeq: 0, prevHash: GENESIS_HASH, pruned: false },
    async *records() {
      if (size === 0) return;
      const input = createReadStream(path, { encoding: "utf8", start: 0, end: size - 1 });
      const lines = createInterface({ input, crlfDelay: Infinity });
      let lineno = 0;
      try {
        for await (const raw of lines) {
          lineno += 1;
          const line = raw.trim();
          if (line === "") continue;
          yield envelopeOf(line, path, lineno);
        }
      } finally {
        lines.close();
        input.destroy();
      }
    },
    close() {},
  };
}

// ---------------------------------------------------------------------------
// SQLite
// ---------------------------------------------------------------------------

interface SqliteRow {
  seq: bigint;
  action_id: unknown;
  prev_hash: unknown;
  record_hash: unknown;
  invoked_at: unknown;
  payload: unknown;
}

function notAStore(path: string, reason: string): ImportError {
  return new ImportError(`'${path}' is not a valid SQLite trace store: ${reason}. If this is a JSONL store, pass --format jsonl.`);
}

function readOrigin(db: Database.Database, path: string): ChainOrigin {
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !== undefined;
  const meta = new Map<string, unknown>();
  if (hasMeta) {
    for (const row of db.prepare("SELECT key, value FROM meta").all() as { key: unknown; value: unknown }[]) {
      meta.set(String(row.key), row.value);
    }
  }
  const nextRaw = meta.get("checkpoint_next_seq");
  const hashRaw = meta.get("checkpoint_hash");
  let firstSeq = 0;
  if (nextRaw !== undefined && nextRaw !== null) {
    const text = String(nextRaw);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
      throw new ImportError(`Corrupted prune checkpoint in ${path}: meta.checkpoint_next_seq is '${text}', not a seq.`);
    }
    firstSeq = Number(text);
  }
  let prevHash = GENESIS_HASH;
  if (hashRaw !== undefined && hashRaw !== null) {
    if (typeof hashRaw !== "string" || !HEX64.test(hashRaw)) {
      throw new ImportError(`Corrupted prune checkpoint in ${path}: meta.checkpoint_hash is not 64 lowercase hex characters.`);
    }
    prevHash = hashRaw;
  }
  return { firstSeq, prevHash, pruned: firstSeq > 0 || prevHash !== GENESIS_HASH };
}

/**
 * A WAL-mode database (header bytes 18-19 = 2) is read through its -wal and -shm files, and
 * SQLite creates them when they are missing, even on a read-only connection: refuse instead
 * of writing beside the store. (A kernel with the store open keeps both files present.)
 */
function assertNoWalFilesCreated(path: string): void {
  const fd = openSync(path, "r");
  const header = Buffer.alloc(20);
  let n: number;
  try {
    n = readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (n < header.length || !header.subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER)) return;
  const wal = header[18] === 2 || header[19] === 2;
  if (wal && !(existsSync(`${path}-wal`) && existsSync(`${path}-shm`))) {
    throw new ImportError(
      `'${path}' is a SQLite database in WAL mode without its -wal and -shm files, which reading it would create ` +
        "beside it; tracegate never writes next to a store. Read a copy of the file instead.",
    );
  }
}

/** Rows per statement when reading a SQLite store (each statement holds the read lock briefly). */
const SQLITE_PAGE_ROWS = 1000;

function openSqliteStore(path: string): ReferenceStore {
  assertNoWalFilesCreated(path);
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw notAStore(path, (e as Error).message);
  }
  let origin: ChainOrigin;
  let page: Database.Statement;
  let byActionId: Database.Statement;
  let lastSeq: bigint | null;
  try {
    const hasTraces = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'traces'").get() !== undefined;
    if (!hasTraces) throw notAStore(path, "no such table: traces");
    origin = readOrigin(db, path);
    page = db
      .prepare(
        "SELECT seq, action_id, prev_hash, record_hash, invoked_at, payload FROM traces WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
      )
      .safeIntegers(true);
    byActionId = db.prepare("SELECT seq, payload FROM traces WHERE action_id = ?").safeIntegers(true);
    // The snapshot: rows appended after opening are not read.
    lastSeq = (db.prepare("SELECT max(seq) FROM traces").pluck().safeIntegers(true).get() as bigint | null) ?? null;
  } catch (e) {
    db.close();
    if (e instanceof ImportError) throw e;
    throw notAStore(path, (e as Error).message);
  }
  return {
    format: "sqlite",
    path,
    origin,
    findPayload(actionId) {
      const row = byActionId.get(actionId) as { seq: bigint; payload: unknown } | undefined;
      return row === undefined ? null : { seq: Number(row.seq), payload: row.payload };
    },
    async *records() {
      if (lastSeq === null) return;
      let after = -(2n ** 63n);
      for (;;) {
        const rows = page.all(after, lastSeq, SQLITE_PAGE_ROWS) as SqliteRow[];
        for (const row of rows) yield sqliteRecord(row, path);
        const last = rows[rows.length - 1];
        if (rows.length < SQLITE_PAGE_ROWS || last === undefined) return;
        after = last.seq;
      }
    },
    close() {
      db.close();
    },
  };
}

/** One row of a SQLite store as a source record (the reference's wording when it is corrupt). */
function sqliteRecord(row: SqliteRow, path: string): SourceRecord {
  const seqBig = row.seq;
  const where = `at seq ${seqBig} in ${path}`;
  if (typeof seqBig !== "bigint" || seqBig < 0n || seqBig > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ImportError(`Corrupted trace row ${where}: seq is not a non-negative integer.`);
  }
  const seq = Number(seqBig);
  if (typeof row.prev_hash !== "string" || typeof row.record_hash !== "string") {
    throw new ImportError(`Corrupted trace row ${where}: prev_hash and record_hash must be text.`);
  }
  const trace = parseStoredPayload(row.payload, where);
  return {
    seq,
    prevHash: row.prev_hash,
    recordHash: row.record_hash,
    trace,
    payload: canonicalJson(trace),
    location: `${path} (seq ${seqBig})`,
    text: row.payload as string,
    columns: { actionId: row.action_id, invokedAt: row.invoked_at },
  };
}

/**
 * A SQLite payload column parsed losslessly, or the reference's
 * `Corrupted trace payload <context>: <reason>.` (context `at seq n in PATH`, or
 * `for action_id='id'` for a lookup).
 */
export function parseStoredPayload(payload: unknown, context: string): JsonObject {
  if (typeof payload !== "string") throw new ImportError(`Corrupted trace payload ${context}: not text.`);
  try {
    return parseJsonObject(payload);
  } catch (e) {
    if (!(e instanceof RecordError)) throw e;
    throw new ImportError(`Corrupted trace payload ${context}: ${e.reason}.`);
  }
}

// ---------------------------------------------------------------------------
// Decoding a verified trace into tracegate's columns
// ---------------------------------------------------------------------------

function malformed(record: SourceRecord, reason: string): ImportError {
  return new ImportError(`Malformed trace at seq ${record.seq} (${record.location}): ${reason}.`);
}

/**
 * The filter columns of a verified trace, decoded like the reference decodes a stored trace
 * (decodeTrace, not strict: the chain fixed the bytes, so keys the reference ignores stay as
 * they are). A trace tracegate could not serve or re-verify is refused rather than imported:
 * one whose identifiers hold NUL or a lone surrogate cannot be stored in an indexed column
 * (src/chain/identifier.ts). NaN and Infinity, which Python writes, are kept exactly: the
 * payload is stored as the chain hashed it, and reads and verification accept them.
 * @throws ImportError `Malformed trace at seq n (where): <reason>.`
 */
export function decodeColumns(record: SourceRecord): TraceColumns {
  let decoded;
  try {
    decoded = decodeTrace(record.trace, { strict: false });
  } catch (e) {
    if (e instanceof RecordError) throw malformed(record, e.reason);
    throw e;
  }
  const ids = { action_id: decoded.actionId, principal_id: decoded.principalId, capability_id: decoded.capabilityId, reason_code: decoded.reasonCode };
  for (const [key, value] of Object.entries(ids)) {
    const problem = value === null ? null : identifierProblem(value);
    if (problem) throw malformed(record, `${key} ${problem}`);
  }
  return {
    actionId: decoded.actionId,
    principalId: decoded.principalId,
    capabilityId: decoded.capabilityId,
    eventType: decoded.eventType,
    status: statusOf(decoded.error),
    reasonCode: decoded.reasonCode,
    invokedAtUs: decoded.invokedAt,
  };
}

// ---------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------

/** A verified record, ready to be imported. */
export interface VerifiedRecord {
  seq: number;
  prevHash: string;
  recordHash: string;
  /** Canonical JSON of the trace, exactly as hashed. */
  payload: string;
  location: string;
  /** tracegate's filter columns, decoded from the payload. */
  columns: TraceColumns;
}

/** The verified records of one pass, in chain order; throws at the first problem. */
export async function* verifiedRecords(store: ReferenceStore, hash: RecordHasher): AsyncGenerator<VerifiedRecord> {
  const verifier = new ChainVerifier({ hash, expectedPrevHash: store.origin.prevHash, expectedFirstSeq: store.origin.firstSeq });
  for await (const record of store.records()) {
    if (!verifier.check(record)) throw new ChainImportError(verifier.result());
    if (record.columns) {
      // The reference keeps action_id and invoked_at beside the payload and serves lookups from
      // them; a copy that disagrees with the hashed payload was edited.
      const bad: string[] = [];
      if (record.columns.actionId !== record.trace.action_id) bad.push("action_id");
      if (record.columns.invokedAt !== record.trace.invoked_at) bad.push("invoked_at");
      if (bad.length > 0) {
        verifier.fail(
          verifier.checked,
          record.seq,
          "COLUMN_MISMATCH",
          `Column mismatch at seq ${record.seq}: ${bad.join(", ")} differ from the hashed payload (index columns edited).`,
        );
        throw new ChainImportError(verifier.result());
      }
    }
    const { seq, prevHash, recordHash, payload, location } = record;
    yield { seq, prevHash, recordHash, payload, location, columns: decodeColumns(record) };
  }
}

/** What a verification pass saw. */
export interface StoreSummary {
  records: number;
  firstSeq: number | null;
  lastSeq: number | null;
  firstHash: string | null;
  lastHash: string | null;
}

/** Called every record with the count so far (callers throttle). */
export type ProgressTick = (done: number) => void;

/**
 * Verify the whole store and refuse duplicate action ids, reading it once in constant memory
 * (plus one set of the action ids). Throws ChainImportError / ImportError on any problem.
 */
export async function verifyReferenceStore(store: ReferenceStore, hash: RecordHasher, tick?: ProgressTick): Promise<StoreSummary> {
  const seen = new Set<string>();
  const summary: StoreSummary = { records: 0, firstSeq: null, lastSeq: null, firstHash: null, lastHash: null };
  for await (const r of verifiedRecords(store, hash)) {
    const id = r.columns.actionId;
    if (seen.has(id)) {
      throw new ImportError(
        `Duplicate action_id '${id}' at seq ${r.seq} (${r.location}): tracegate keeps action ids unique, so this store cannot be imported as is.`,
      );
    }
    seen.add(id);
    if (summary.records === 0) {
      summary.firstSeq = r.seq;
      summary.firstHash = r.recordHash;
    }
    summary.records += 1;
    summary.lastSeq = r.seq;
    summary.lastHash = r.recordHash;
    tick?.(summary.records);
  }
  return summary;
}

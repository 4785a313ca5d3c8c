/**
 * Reading what a weaver-kernel JSONL trace store (one envelope per line) gained since the
 * saved position, and proving it belongs after that position.
 *
 * Before reading new bytes, the file must still be the one the position belongs to: same
 * inode, not shorter than the offset, the last shipped line still where it was (seq and
 * record_hash), and the first new record continuing the saved chain. Anything else is a
 * truncation or rotation (ROTATED), and nothing is read from the new file.
 *
 * Lines are parsed losslessly with parseChainedRecord (src/ingest/reference-record.ts, the
 * parser `tracegate import` uses too) and checked with ChainVerifier (contiguous seq, link to
 * the previous record_hash, HMAC recomputed with the store's secret). Verified records are
 * handed out one by one, so the caller can ship them before the first failure is reported
 * (TAMPERED); nothing from the failing record on is handed out. A partial last line (no
 * newline yet) is left for the next poll.
 */
import { type FileHandle, open } from "node:fs/promises";
import type { RecordHasher } from "../chain/hash.js";
import { ChainVerifier } from "../chain/verify.js";
import { type ChainedRecord, parseChainedRecord, RecordError } from "../ingest/reference-record.js";
import { errnoOf } from "../errors.js";
import { rotatedError, ShipError, type ShipPaths } from "./errors.js";
import type { FileIdentity, ShipState } from "./state.js";

/** One complete line: [start, end) in bytes, `end` just after its newline. */
export interface Line {
  start: number;
  end: number;
  /** The line's text without the newline (UTF-8 decoded). */
  text: string;
}

/** A verified record, ready to send. */
export interface VerifiedRecord {
  seq: number;
  recordHash: string;
  /** The record text sent: canonical JSON of the trace, what the chain hashes. */
  text: string;
  /** The trace's action_id ("" when it has none), to check the gateway's acknowledgement. */
  actionId: string;
  line: Line;
  /** 1-based line number in the file (for `path:line` in messages). */
  lineNo: number;
}

/** Bytes read per call while scanning for lines. */
const CHUNK = 1 << 20;

async function readRange(fh: FileHandle, start: number, end: number): Promise<Buffer> {
  const buf = Buffer.alloc(end - start);
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, start + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buf.subarray(0, done);
}

/** The complete lines of [start, end); an unterminated tail is not yielded. */
async function* completeLines(fh: FileHandle, start: number, end: number): AsyncGenerator<Line> {
  let carry: Buffer = Buffer.alloc(0);
  let carryStart = start;
  let pos = start;
  while (pos < end) {
    const chunk = await readRange(fh, pos, Math.min(end, pos + CHUNK));
    if (chunk.length === 0) return;
    pos += chunk.length;
    const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    let from = 0;
    for (let nl = data.indexOf(10, from); nl !== -1; nl = data.indexOf(10, from)) {
      yield { start: carryStart + from, end: carryStart + nl + 1, text: data.toString("utf8", from, nl) };
      from = nl + 1;
    }
    carry = data.subarray(from);
    carryStart += from;
  }
}

/** Offset just after the last newline in [from, size) (from when there is none). */
async function lastCompleteLineEnd(fh: FileHandle, from: number, size: number): Promise<number> {
  let end = size;
  while (end > from) {
    const start = Math.max(from, end - 65_536);
    const buf = await readRange(fh, start, end);
    const nl = buf.lastIndexOf(10);
    if (nl >= 0) return start + nl + 1;
    end = start;
  }
  return from;
}

/** A JSONL line as a record, or the reason it is not one (parseChainedRecord's checks, shared with import). */
function recordOf(line: string): ChainedRecord | string {
  try {
    return parseChainedRecord(line);
  } catch (e) {
    if (e instanceof RecordError) return e.reason;
    throw e;
  }
}

/**
 * The followed store, open for one poll. Open with StoreFile.open, read with records(),
 * always close().
 */
export class StoreFile {
  /**
   * Set by records() when a line failed parsing or verification (code TAMPERED, `seq` the
   * first bad seq); the records before it were handed out.
   */
  failure: ShipError | null = null;
  /** Set by records() when it stopped early because `signal` was aborted. */
  interrupted = false;

  private constructor(
    private readonly fh: FileHandle,
    private readonly paths: ShipPaths,
    /** The open file's identity. */
    readonly identity: FileIdentity,
    /** Its size in bytes when opened; records() reads no further. */
    readonly size: number,
  ) {}

  /**
   * Open the store and check it is still the file `state` belongs to (same dev/inode, not
   * shorter than the saved offset).
   * @returns null when the file does not exist yet, nothing was shipped from it and `follow`
   *   is set (the kernel has not created it yet).
   * @throws ShipError USAGE (no such file without follow, not a regular file, cannot open),
   *   ROTATED (gone, another inode, shorter than the offset).
   */
  static async open(paths: ShipPaths, state: ShipState, follow: boolean): Promise<StoreFile | null> {
    let fh: FileHandle;
    try {
      fh = await open(paths.path, "r");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") {
        if (state.ino !== "") throw rotatedError(paths, state.lastSeq, "the file is gone");
        if (!follow) throw new ShipError("USAGE", `Trace store '${paths.path}' does not exist.`);
        return null;
      }
      throw new ShipError("USAGE", `cannot open ${paths.path}: ${errnoOf(e)}`, null, { cause: e });
    }
    try {
      const st = await fh.stat({ bigint: true });
      if (!st.isFile()) throw new ShipError("USAGE", `Trace store '${paths.path}' is not a file.`);
      const identity = { dev: st.dev.toString(), ino: st.ino.toString() };
      if (state.ino !== "" && (identity.ino !== state.ino || identity.dev !== state.dev)) {
        throw rotatedError(paths, state.lastSeq, `inode changed from ${state.ino} to ${identity.ino}`);
      }
      const size = Number(st.size);
      if (size < state.offset) throw rotatedError(paths, state.lastSeq, `size ${size} is below the saved offset ${state.offset}`);
      return new StoreFile(fh, paths, identity, size);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /**
   * Check that the bytes before the saved offset are still what was shipped: the last
   * shipped record's line (same seq and record_hash) ending at the offset, only blank lines
   * before it since its start.
   * @throws ShipError ROTATED otherwise.
   */
  async checkSavedPosition(state: ShipState): Promise<void> {
    if (state.offset === 0) return;
    const from = state.lastLineStart ?? 0;
    const text = (await readRange(this.fh, from, state.offset)).toString("utf8");
    const nl = text.indexOf("\n");
    if (state.lastSeq !== null) {
      const record = nl < 0 ? "no line" : recordOf(text.slice(0, nl).trim());
      if (typeof record === "string" || record.seq !== state.lastSeq || record.recordHash !== state.lastHash) {
        throw rotatedError(this.paths, state.lastSeq, `the line at byte ${from} is no longer seq ${state.lastSeq} with record_hash ${state.lastHash.slice(0, 12)}...`);
      }
    }
    const rest = state.lastSeq !== null ? text.slice(nl + 1) : text;
    if (rest.trim() !== "" || !text.endsWith("\n")) throw rotatedError(this.paths, state.lastSeq, `the bytes before the saved offset ${state.offset} changed`);
  }

  /**
   * The verified records of the complete lines after `from.offset` (up to the size seen at
   * open), in order; blank lines are skipped. At the first line that is not a record or
   * fails verification, `failure` is set and the iteration ends; when `signal` is aborted,
   * `interrupted` is set and it ends before the next line. `from` is read once, at the start.
   * @throws ShipError ROTATED when the first record does not continue the saved chain.
   */
  async *records(from: ShipState, hash: RecordHasher, signal?: AbortSignal): AsyncGenerator<VerifiedRecord> {
    const { offset, lastSeq, lastHash } = from;
    const verifier = new ChainVerifier({ hash, expectedPrevHash: lastHash, expectedFirstSeq: lastSeq === null ? 0 : lastSeq + 1 });
    let lineNo = from.line;
    let first = true;
    for await (const line of completeLines(this.fh, offset, this.size)) {
      if (signal?.aborted) {
        this.interrupted = true;
        return;
      }
      lineNo += 1;
      const text = line.text.trim();
      if (text === "") continue;
      const expectedSeq = verifier.nextSeq ?? 0;
      const record = recordOf(text);
      if (typeof record === "string") {
        this.failure = new ShipError("TAMPERED", `TAMPERED at seq ${expectedSeq}: line ${lineNo} is not a trace record (${record}).`, expectedSeq);
        return;
      }
      if (first && lastSeq !== null && (record.seq !== lastSeq + 1 || record.prevHash !== lastHash)) {
        throw rotatedError(this.paths, lastSeq, `the record after the saved offset is seq ${record.seq}, which does not continue seq ${lastSeq}`);
      }
      first = false;
      if (!verifier.check({ seq: record.seq, prevHash: record.prevHash, recordHash: record.recordHash, payload: record.payload })) {
        const v = verifier.result();
        this.failure = new ShipError("TAMPERED", `TAMPERED at seq ${v.firstBadSeq}: ${v.detail}`, v.firstBadSeq);
        return;
      }
      const actionId = typeof record.trace.action_id === "string" ? record.trace.action_id : "";
      yield { seq: record.seq, recordHash: record.recordHash, text: record.payload, actionId, line, lineNo };
    }
  }

  /** Bytes after the last complete line at or after `from` (a line still being written). */
  async partialBytes(from: number): Promise<number> {
    return this.size - (await lastCompleteLineEnd(this.fh, Math.max(from, 0), this.size));
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

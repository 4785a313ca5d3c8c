/**
 * The shipper's position. A state file holds the byte offset consumed so far, the last
 * shipped seq and record_hash, and the file's identity (dev/inode). It is replaced
 * atomically (temp file + fsync + rename) and only after the gateway acknowledged a batch,
 * so a crash at any point re-sends at most the unacknowledged batch (the gateway's ingest is
 * idempotent: a re-sent batch is acknowledged, not duplicated). The checks that the file is
 * still the one the position belongs to are in ./follow.ts.
 */
import { readFile } from "node:fs/promises";
import { replaceFileAtomically } from "../atomic-file.js";
import { GENESIS_HASH } from "../chain/hash.js";
import { errnoOf } from "../errors.js";
import { ShipError } from "./errors.js";

/** The saved position; written only after the gateway acknowledged everything before it. */
export interface ShipState {
  version: 1;
  /** Absolute path of the store being shipped. */
  path: string;
  /** Identity of the file (decimal strings: inode numbers may exceed 2^53); "" before the file was seen. */
  dev: string;
  ino: string;
  /** Bytes consumed: every complete line before this offset is shipped (or blank). */
  offset: number;
  /** Lines consumed (for `path:line` in messages). */
  line: number;
  /** Byte offset where the last shipped record's line starts; null before the first record. */
  lastLineStart: number | null;
  /** seq and record_hash of the last shipped record; null / genesis before the first. */
  lastSeq: number | null;
  lastHash: string;
  /** Records this state file has seen shipped, across runs. */
  shipped: number;
  /** ISO 8601 time of the last save; "" before the first. */
  updatedAt: string;
}

/** A file's identity as the state keeps it (decimal strings of stat's bigint dev and ino). */
export interface FileIdentity {
  dev: string;
  ino: string;
}

/** The last record of an acknowledged batch: where its line is, and its chain position. */
export interface AcknowledgedRecord {
  /** Its line's byte range [start, end), `end` just after the newline. */
  line: { start: number; end: number };
  /** Its 1-based line number. */
  lineNo: number;
  seq: number;
  recordHash: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The position of a store nothing was shipped from yet. */
export function initialState(path: string): ShipState {
  return { version: 1, path, dev: "", ino: "", offset: 0, line: 0, lastLineStart: null, lastSeq: null, lastHash: GENESIS_HASH, shipped: 0, updatedAt: "" };
}

/** The default state file of a store: `<store>.tracegate-ship.json` beside it. */
export function defaultStatePath(storePath: string): string {
  return `${storePath}.tracegate-ship.json`;
}

/**
 * Validate the text of a state file saved for `storePath`.
 * @throws ShipError STATE when it is not a version-1 ship state (not JSON, a field missing or
 *   out of range, a last record half set) or belongs to another store.
 */
export function parseState(text: string, statePath: string, storePath: string): ShipState {
  const bad = (why: string) => new ShipError("STATE", `the state file ${statePath} is not a tracegate ship state (${why}); move it away to ship from the start.`);
  let s: Partial<ShipState>;
  try {
    s = JSON.parse(text) as Partial<ShipState>;
  } catch {
    throw bad("not JSON");
  }
  const nonNegInt = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (s === null || typeof s !== "object" || s.version !== 1) throw bad("unknown version");
  if (typeof s.path !== "string" || typeof s.dev !== "string" || typeof s.ino !== "string") throw bad("path or file identity missing");
  if (!nonNegInt(s.offset) || !nonNegInt(s.line) || !nonNegInt(s.shipped)) throw bad("bad offset");
  if (!(s.lastSeq === null || nonNegInt(s.lastSeq)) || !(s.lastLineStart === null || nonNegInt(s.lastLineStart))) throw bad("bad last seq");
  if ((s.lastSeq === null) !== (s.lastLineStart === null)) throw bad("inconsistent last record");
  if (typeof s.lastHash !== "string" || !HEX64.test(s.lastHash)) throw bad("bad last hash");
  if (s.path !== storePath) {
    throw new ShipError("STATE", `the state file ${statePath} belongs to ${s.path}, not ${storePath}; pass another --state.`);
  }
  return s as ShipState;
}

/**
 * Read the state file of `storePath`; null when it does not exist.
 * @throws ShipError STATE when it cannot be read or is not valid (see parseState).
 */
export async function loadState(statePath: string, storePath: string): Promise<ShipState | null> {
  let text: string;
  try {
    text = await readFile(statePath, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new ShipError("STATE", `cannot read the state file ${statePath}: ${errnoOf(e)}`, null, { cause: e });
  }
  return parseState(text, statePath, storePath);
}

/**
 * Replace the state file atomically (src/atomic-file.ts: temp file beside it, mode 0600,
 * fsync, rename, directory fsync). A reader sees the old state or the new one, never a mix;
 * a failed write leaves the old one and no temp file.
 * @throws ShipError STATE when the temp file cannot be written or renamed.
 */
export async function saveState(statePath: string, state: ShipState): Promise<void> {
  try {
    await replaceFileAtomically(statePath, `${JSON.stringify(state, null, 2)}\n`);
  } catch (e) {
    throw new ShipError("STATE", `cannot write the state file ${statePath}: ${errnoOf(e)}`, null, { cause: e });
  }
}

/**
 * The state once the gateway acknowledged `count` more records ending with `last`, in the
 * file `identity`. Pure: the caller saves it (saveState) before relying on it.
 */
export function acknowledge(state: ShipState, identity: FileIdentity, last: AcknowledgedRecord, count: number): ShipState {
  return {
    ...state,
    ...identity,
    offset: last.line.end,
    line: last.lineNo,
    lastLineStart: last.line.start,
    lastSeq: last.seq,
    lastHash: last.recordHash,
    shipped: state.shipped + count,
    updatedAt: new Date().toISOString(),
  };
}

/**
 * `tracegate ship`: follow a weaver-kernel JSONL trace store (one envelope per line, parsed by
 * src/ingest/reference-record.ts) as it grows, verify every new record against the chain, and
 * ship the verified traces to a gateway's `recordTraceRecords`, byte-exactly and at least once
 * (the gateway's ingest is idempotent, so a batch re-sent after a crash is acknowledged, not
 * duplicated).
 *
 * Position. A state file holds the byte offset consumed so far, the last shipped seq and
 * record_hash, and the file's identity (dev/inode). It is replaced atomically (temp file +
 * fsync + rename) and only after the gateway acknowledged a batch, so a crash at any point
 * re-sends at most the unacknowledged batch. Before reading new bytes, the shipper checks the
 * file is still the one it was following: same inode, not shorter than the offset, the last
 * shipped line still where it was (seq and record_hash), and the first new record continuing
 * the saved chain. Anything else is a truncation or rotation, and nothing is sent from the
 * new file.
 *
 * Verification. Lines are parsed losslessly and checked with ChainVerifier (contiguous seq,
 * link to the previous record_hash, HMAC recomputed with the store's secret). At the first
 * failure the verified records before it are shipped, the state saved, and the run stops
 * with TAMPERED; nothing from the failing record on is sent. A partial last line (no newline
 * yet) is left for the next poll.
 *
 * Exactness. Each record's trace goes to the gateway as text: the canonical JSON of the
 * losslessly parsed `trace` object (what the chain hashes), one string per record in the
 * `$records: [String!]!` variable. That text is pure ASCII (canonical JSON escapes every other
 * code unit, a lone surrogate as `\udXXX`), so JSON transport carries it exactly, and the
 * gateway parses it losslessly again: every record the reference can write arrives as written. The gateway validates it (recordTraceRecords); a record it
 * refuses stops the run after the records before it were shipped.
 */
import { randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { type FileHandle, open, readFile, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { GENESIS_HASH, type RecordHasher } from "../chain/hash.js";
import { canonicalJson } from "../chain/json.js";
import { ChainVerifier } from "../chain/verify.js";
import { isRetryable, refusedField, refusedIndex } from "../client/retry-policy.js";
import { type Envelope, parseEnvelope, RecordError } from "../ingest/reference-record.js";

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/** Why shipping stopped; the message is meant for the operator (`error: <message>`). */
export type ShipErrorKind = "USAGE" | "STATE" | "ROTATED" | "TAMPERED" | "GATEWAY";

export class ShipError extends Error {
  override name = "ShipError";
  constructor(
    readonly kind: ShipErrorKind,
    message: string,
    /** The seq of the record that stopped shipping, when one did. */
    readonly seq: number | null = null,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

/** The saved position; written only after the gateway acknowledged everything before it. */
export interface ShipState {
  version: 1;
  /** Absolute path of the store being shipped. */
  path: string;
  /** Identity of the file (decimal strings: inode numbers may exceed 2^53). */
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
  updatedAt: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

function initialState(path: string): ShipState {
  return { version: 1, path, dev: "", ino: "", offset: 0, line: 0, lastLineStart: null, lastSeq: null, lastHash: GENESIS_HASH, shipped: 0, updatedAt: "" };
}

/** Read a state file; null when it does not exist. */
export async function loadState(statePath: string, storePath: string): Promise<ShipState | null> {
  let text: string;
  try {
    text = await readFile(statePath, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new ShipError("STATE", `cannot read the state file ${statePath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
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

/** Replace the state file atomically: write a temp file beside it, fsync, rename. */
export async function saveState(statePath: string, state: ShipState): Promise<void> {
  const tmp = `${statePath}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fh = await open(tmp, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY, 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(state, null, 2)}\n`, "utf8");
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  await rename(tmp, statePath);
  // Make the rename itself durable (best effort: not every platform can fsync a directory).
  try {
    const dir = await open(dirname(statePath), "r");
    await dir.sync().catch(() => undefined);
    await dir.close();
  } catch {
    // ignore
  }
}

// ---------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------

/** One verified line: its envelope and the trace text sent to the gateway. */
interface ShipRecord extends Envelope {
  /** Canonical JSON of the trace: what the chain hashes, and the record text sent. */
  text: string;
}

/** A JSONL line as a record, or the reason it is not one (parseEnvelope's checks, shared with import). */
function recordOf(line: string): ShipRecord | string {
  try {
    const envelope = parseEnvelope(line);
    return { ...envelope, text: canonicalJson(envelope.trace) };
  } catch (e) {
    if (e instanceof RecordError) return e.reason;
    throw e;
  }
}

// ---------------------------------------------------------------------------
// The gateway
// ---------------------------------------------------------------------------

/**
 * The one document the shipper sends. It selects only what a write-only (traces:write) key
 * may read of what it just wrote.
 */
const DOCUMENT = "mutation Ship($records: [String!]!) { recordTraceRecords(records: $records) { seq actionId } }";

/** The request body (JSON) carrying these record texts, in order. */
export function buildRequestBody(texts: readonly string[]): string {
  return JSON.stringify({ query: DOCUMENT, variables: { records: texts } });
}

/** What the gateway returned for one acknowledged trace. */
interface AckedTrace {
  seq: number;
  actionId: string;
}

type SendOutcome =
  | { kind: "ack"; traces: AckedTrace[] }
  | { kind: "retry"; why: string; afterMs: number | null }
  | { kind: "too-large" }
  /** A refusal; `index` is the record it names (`records[i]`), when it names one. */
  | { kind: "fatal"; why: string; index: number | null };

interface GraphQLErrorBody {
  message?: unknown;
  extensions?: { code?: unknown; retryAfterSeconds?: unknown; field?: unknown };
}

async function postOnce(fetchImpl: typeof fetch, url: string, key: string, body: string, timeoutMs: number, expected: number): Promise<SendOutcome> {
  let res: Response;
  let text: string;
  try {
    res = await fetchImpl(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json", authorization: `Bearer ${key}` },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return { kind: "retry", why: `network: ${cause?.code ?? cause?.message ?? (e as Error).message}`, afterMs: null };
  }
  const retryAfterHeader = Number(res.headers.get("retry-after"));
  const headerMs = Number.isFinite(retryAfterHeader) && retryAfterHeader > 0 ? retryAfterHeader * 1000 : null;
  type Answer = { data?: { recordTraceRecords?: unknown } | null; errors?: GraphQLErrorBody[] };
  let json: Answer | null = null;
  try {
    json = JSON.parse(text) as Answer;
  } catch {
    json = null;
  }
  const first = Array.isArray(json?.errors) ? json.errors[0] : undefined;
  const code = typeof first?.extensions?.code === "string" ? first.extensions.code : null;
  const message = typeof first?.message === "string" ? first.message : "";
  // What is retried is decided once, in src/client/retry-policy.ts (shared with the emitter).
  if (code === "PAYLOAD_TOO_LARGE" || (code === null && res.status === 413)) return { kind: "too-large" };
  if (code !== null) {
    if (isRetryable(res.status, code)) {
      const after = Number(first!.extensions!.retryAfterSeconds);
      return { kind: "retry", why: `${code}: ${message}`, afterMs: Number.isFinite(after) && after > 0 ? after * 1000 : headerMs };
    }
    const index = refusedIndex(refusedField(first), "records", expected);
    return { kind: "fatal", why: `${code}: ${message}`, index };
  }
  if (res.status >= 400 && isRetryable(res.status, null)) return { kind: "retry", why: `HTTP ${res.status}`, afterMs: headerMs };
  if (res.status >= 400) return { kind: "fatal", why: `HTTP ${res.status} ${res.statusText}`.trim(), index: null };
  const acked = json?.data?.recordTraceRecords;
  if (!Array.isArray(acked) || acked.length !== expected) {
    return { kind: "fatal", why: `unexpected answer (HTTP ${res.status}): ${text.slice(0, 200)}`, index: null };
  }
  return { kind: "ack", traces: acked as AckedTrace[] };
}

// ---------------------------------------------------------------------------
// Reading the file
// ---------------------------------------------------------------------------

/** One complete line: [start, end) in bytes, `end` just after its newline. */
interface Line {
  start: number;
  end: number;
  text: string;
}

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

// ---------------------------------------------------------------------------
// The shipper
// ---------------------------------------------------------------------------

export interface ShipOptions {
  /** Absolute path of the JSONL store. */
  path: string;
  statePath: string;
  url: string;
  apiKey: string;
  hash: RecordHasher;
  /** Keep polling for new lines (false: ship what is there and return). */
  follow: boolean;
  /** Records per recordTraceRecords call (fewer when a request is over the gateway's body limit). */
  batch: number;
  pollMs: number;
  /** Aborted = stop: the request in flight is finished and acknowledged work saved. */
  signal?: AbortSignal;
  /** Progress lines (stdout) and warnings (stderr). */
  log?: (line: string) => void;
  warn?: (line: string) => void;
  fetch?: typeof fetch;
  requestTimeoutMs?: number;
  /** Backoff between retries: first delay and cap (ms). */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export interface ShipSummary {
  /** Records acknowledged in this run. */
  shipped: number;
  state: ShipState;
  /** Why the run ended: everything there was shipped, or a stop was requested. */
  ended: "done" | "stopped";
  /** Bytes after the last complete line (a line still being written), when the run ended. */
  partialBytes: number;
}

/** A verified record waiting for its acknowledgement. */
interface Pending {
  seq: number;
  recordHash: string;
  /** The record text sent (canonical JSON of the trace). */
  text: string;
  actionId: string;
  line: Line;
  lineNo: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

/**
 * Ship new records of `options.path` until caught up (follow: false), a stop is requested,
 * or a problem stops it (ShipError). Acknowledged work is always saved first.
 */
export async function ship(options: ShipOptions): Promise<ShipSummary> {
  const log = options.log ?? (() => undefined);
  const warn = options.warn ?? (() => undefined);
  const fetchImpl = options.fetch ?? fetch;
  const signal = options.signal;
  const retryBase = options.retryBaseMs ?? 250;
  const retryMax = options.retryMaxMs ?? 30_000;
  const timeoutMs = options.requestTimeoutMs ?? 60_000;
  const path = options.path;

  const loaded = await loadState(options.statePath, path);
  const state: ShipState = loaded ?? initialState(path);
  let shipped = 0;
  let partialBytes = 0;
  const stopping = () => signal?.aborted === true;

  const rotated = (why: string) =>
    new ShipError(
      "ROTATED",
      `${path} was truncated or rotated (${why}); nothing from the new file was sent. ` +
        `Shipping stopped after seq ${state.lastSeq ?? "(none)"}; to ship the new file from its start, move ${options.statePath} away.`,
    );

  const sent = () => (state.lastSeq === null ? "nothing was shipped" : `shipped up to seq ${state.lastSeq}`);

  /**
   * POST one batch until the gateway answers for good: the acknowledged traces, null when a
   * stop was requested while retrying, or the refusal (nothing of the batch was stored).
   */
  const send = async (chunk: Pending[]): Promise<AckedTrace[] | null | Extract<SendOutcome, { kind: "too-large" | "fatal" }>> => {
    const body = buildRequestBody(chunk.map((p) => p.text));
    const range = `seq ${chunk[0]!.seq}..${chunk.at(-1)!.seq}`;
    let delay = retryBase;
    for (let attempt = 1; ; attempt++) {
      const outcome = await postOnce(fetchImpl, options.url, options.apiKey, body, timeoutMs, chunk.length);
      switch (outcome.kind) {
        case "ack":
          return outcome.traces;
        case "fatal":
        case "too-large":
          return outcome;
        case "retry": {
          if (stopping()) return null;
          const wait = Math.min(retryMax, outcome.afterMs ?? delay) * (0.8 + Math.random() * 0.4);
          warn(`gateway unavailable for ${range} (${outcome.why}); retry ${attempt} in ${Math.round(wait)} ms`);
          await sleep(wait, signal);
          if (stopping()) return null;
          delay = Math.min(retryMax, delay * 2);
        }
      }
    }
  };

  /**
   * Ship pending records in order, `options.batch` per request; saves the state after every
   * acknowledged request. A request over the gateway's body limit is split in halves. When
   * the gateway refuses one record (`records[i]`), the records before it are shipped first;
   * then the run stops. Returns false when stopped.
   */
  const flush = async (pending: Pending[], identity: { dev: string; ino: string }): Promise<boolean> => {
    const queue: Pending[][] = [];
    for (let i = 0; i < pending.length; i += options.batch) queue.push(pending.slice(i, i + options.batch));
    let refusal: ShipError | null = null;
    while (queue.length > 0) {
      // A stop lets the request in flight finish (and its acknowledgement be saved), no more.
      if (stopping()) return false;
      const chunk = queue.shift()!;
      const acked = await send(chunk);
      if (acked === null) return false;
      if (!Array.isArray(acked)) {
        if (acked.kind === "too-large") {
          if (chunk.length === 1) {
            throw new ShipError(
              "GATEWAY",
              `the gateway refused seq ${chunk[0]!.seq}: alone, its request exceeds the gateway's body size limit (TRACEGATE_MAX_BODY_BYTES). Stopped: ${sent()}.`,
              chunk[0]!.seq,
            );
          }
          const half = chunk.length >> 1;
          queue.unshift(chunk.slice(0, half), chunk.slice(half));
          continue;
        }
        const bad = acked.index === null ? null : chunk[acked.index]!;
        const what = bad === null ? `seq ${chunk[0]!.seq}..${chunk.at(-1)!.seq}` : `seq ${bad.seq} (${path}:${bad.lineNo})`;
        refusal = new ShipError("GATEWAY", `the gateway refused ${what}: ${acked.why.replace(/\.$/, "")}.`, bad?.seq ?? chunk[0]!.seq);
        if (bad === null || acked.index === 0) break;
        // Ship what came before the refused record, then stop.
        queue.length = 0;
        queue.push(chunk.slice(0, acked.index!));
        continue;
      }
      const mismatch = acked.findIndex((a, i) => a.actionId !== chunk[i]!.actionId);
      if (mismatch >= 0) {
        throw new ShipError("GATEWAY", `the gateway acknowledged seq ${chunk[mismatch]!.seq} as action_id ${String(acked[mismatch]!.actionId)}, not ${chunk[mismatch]!.actionId}. Stopped: ${sent()}.`, chunk[mismatch]!.seq);
      }
      const last = chunk.at(-1)!;
      Object.assign(state, identity, {
        offset: last.line.end,
        line: last.lineNo,
        lastLineStart: last.line.start,
        lastSeq: last.seq,
        lastHash: last.recordHash,
        shipped: state.shipped + chunk.length,
        updatedAt: new Date().toISOString(),
      });
      await saveState(options.statePath, state);
      shipped += chunk.length;
      log(`shipped seq ${chunk[0]!.seq}..${last.seq} (${chunk.length} record(s))`);
    }
    if (refusal) throw new ShipError(refusal.kind, `${refusal.message} Stopped: ${sent()}.`, refusal.seq);
    return true;
  };

  /** One pass over what the file holds beyond the saved offset. Returns false when stopped. */
  const pass = async (): Promise<boolean> => {
    let fh: FileHandle;
    try {
      fh = await open(path, "r");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") {
        if (state.ino !== "") throw rotated("the file is gone");
        if (!options.follow) throw new ShipError("USAGE", `Trace store '${path}' does not exist.`);
        return true; // follow: wait for the kernel to create it
      }
      throw new ShipError("USAGE", `cannot open ${path}: ${code ?? (e as Error).message}`);
    }
    try {
      const st = await fh.stat({ bigint: true });
      if (!st.isFile()) throw new ShipError("USAGE", `Trace store '${path}' is not a file.`);
      const identity = { dev: st.dev.toString(), ino: st.ino.toString() };
      if (state.ino !== "" && (identity.ino !== state.ino || identity.dev !== state.dev)) {
        throw rotated(`inode changed from ${state.ino} to ${identity.ino}`);
      }
      const size = Number(st.size);
      if (size < state.offset) throw rotated(`size ${size} is below the saved offset ${state.offset}`);
      if (size === state.offset) {
        partialBytes = 0;
        return true;
      }

      // The saved position must still be where the last shipped record ends.
      if (state.offset > 0) {
        const from = state.lastLineStart ?? 0;
        const text = (await readRange(fh, from, state.offset)).toString("utf8");
        const nl = text.indexOf("\n");
        if (state.lastSeq !== null) {
          const record = nl < 0 ? "no line" : recordOf(text.slice(0, nl).trim());
          if (typeof record === "string" || record.seq !== state.lastSeq || record.recordHash !== state.lastHash) {
            throw rotated(`the line at byte ${from} is no longer seq ${state.lastSeq} with record_hash ${state.lastHash.slice(0, 12)}...`);
          }
        }
        const rest = state.lastSeq !== null ? text.slice(nl + 1) : text;
        if (rest.trim() !== "" || !text.endsWith("\n")) throw rotated(`the bytes before the saved offset ${state.offset} changed`);
      }

      const verifier = new ChainVerifier({ hash: options.hash, expectedPrevHash: state.lastHash, expectedFirstSeq: state.lastSeq === null ? 0 : state.lastSeq + 1 });
      let pending: Pending[] = [];
      let lineNo = state.line;
      let first = true;
      let failure: ShipError | null = null;

      for await (const line of completeLines(fh, state.offset, size)) {
        if (stopping()) return false;
        lineNo += 1;
        const text = line.text.trim();
        if (text === "") continue;
        const expectedSeq = verifier.nextSeq ?? 0;
        const record = recordOf(text);
        if (typeof record === "string") {
          failure = new ShipError("TAMPERED", `TAMPERED at seq ${expectedSeq}: line ${lineNo} is not a trace record (${record}).`, expectedSeq);
          break;
        }
        if (first && state.lastSeq !== null && (record.seq !== state.lastSeq + 1 || record.prevHash !== state.lastHash)) {
          throw rotated(`the record after the saved offset is seq ${record.seq}, which does not continue seq ${state.lastSeq}`);
        }
        first = false;
        if (!verifier.check({ seq: record.seq, prevHash: record.prevHash, recordHash: record.recordHash, payload: record.text })) {
          const v = verifier.result();
          failure = new ShipError("TAMPERED", `TAMPERED at seq ${v.firstBadSeq}: ${v.detail}`, v.firstBadSeq);
          break;
        }
        const actionId = typeof record.trace.action_id === "string" ? record.trace.action_id : "";
        pending.push({ seq: record.seq, recordHash: record.recordHash, text: record.text, actionId, line, lineNo });
        if (pending.length >= options.batch) {
          if (!(await flush(pending, identity))) return false;
          pending = [];
          if (stopping()) return false;
        }
      }
      // Verified records before a failure are shipped first; then the failure stops the run.
      if (pending.length > 0 && !(await flush(pending, identity))) return false;
      if (failure) {
        throw new ShipError(failure.kind, `${failure.message} Stopped: ${sent()}; nothing from seq ${failure.seq} on was sent.`, failure.seq);
      }
      if (state.ino === "") Object.assign(state, identity);
      const tail = await lastCompleteLineEnd(fh, Math.max(state.offset, 0), size);
      partialBytes = size - tail;
      return true;
    } finally {
      await fh.close();
    }
  };

  for (;;) {
    if (stopping()) return { shipped, state, ended: "stopped", partialBytes };
    const finished = await pass();
    if (!finished || stopping()) return { shipped, state, ended: "stopped", partialBytes };
    if (!options.follow) return { shipped, state, ended: "done", partialBytes };
    await sleep(options.pollMs, signal);
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

/** The default state file of a store. */
export function defaultStatePath(storePath: string): string {
  return `${storePath}.tracegate-ship.json`;
}

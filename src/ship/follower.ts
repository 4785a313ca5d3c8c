/**
 * `tracegate ship`: follow a weaver-kernel JSONL trace store (REFERENCE.md §2.5) as it grows,
 * verify every new record against the chain, and ship the verified traces to a gateway's
 * `recordTraces`, byte-exactly and at least once (the gateway's ingest is idempotent, so a
 * batch re-sent after a crash is acknowledged, not duplicated).
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
 * Exactness. A TraceInput sent in JSON variables cannot carry a Python float with an integral
 * value (100.0 arrives as the int 100) or an int beyond 2^53, and a GraphQL literal cannot
 * carry a lone surrogate nor an object key that is not a GraphQL name. So each trace goes the
 * way that keeps it exact: whole, as a variable, when every number survives JSON transport;
 * otherwise as a literal, with IntValue for ints, FloatValue (Python repr) for floats, args /
 * resultSummary as JSONObject variables when they survive transport, and, inside a literal,
 * strings holding lone surrogates as String! variables and int-free objects (which may have
 * keys that are not GraphQL names) as JSONObject! variables. A trace no way can carry (an
 * object with a non-name key that also holds an int or an integral float) is refused with
 * its seq, after the records before it were shipped. Documents are kept under the
 * gateway's token limit (learned from its QUERY_TOO_COMPLEX answer), and every acknowledged
 * payload is compared with the source's canonical JSON.
 */
import { randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { type FileHandle, open, readFile, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { Lexer, Source, TokenKind } from "graphql";
import { GENESIS_HASH, type RecordHasher } from "../chain/hash.js";
import { canonicalJson, isJsonObject, type JsonObject, type JsonValue, parseJsonLossless, pythonFloatRepr } from "../chain/json.js";
import { parseTimestamp } from "../chain/time.js";
import { exportTrace, type Trace } from "../chain/trace.js";
import { ChainVerifier } from "../chain/verify.js";
import { decodeColumns, ImportError, type SourceRecord } from "../import/reference-store.js";

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/** Why shipping stopped; the message is meant for the operator (`error: <message>`). */
export type ShipErrorKind = "USAGE" | "STATE" | "ROTATED" | "TAMPERED" | "UNSHIPPABLE" | "GATEWAY";

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
// Records: parsing one JSONL line (the reference's envelope)
// ---------------------------------------------------------------------------

/** A line that is not a record envelope (same checks as the importer's reader). */
function parseEnvelope(line: string, location: string): SourceRecord | string {
  let value: JsonValue;
  try {
    value = parseJsonLossless(line);
  } catch (e) {
    return (e as Error).message.replace(/\.$/, "");
  }
  if (!isJsonObject(value)) return "not a JSON object";
  for (const key of ["seq", "prev_hash", "record_hash", "trace"]) {
    if (!(key in value)) return `missing '${key}'`;
  }
  const seqValue = value.seq;
  if (typeof seqValue !== "bigint" || seqValue < 0n || seqValue > BigInt(Number.MAX_SAFE_INTEGER)) return "'seq' is not a non-negative integer";
  const { prev_hash: prevHash, record_hash: recordHash, trace } = value;
  if (typeof prevHash !== "string") return "'prev_hash' is not a string";
  if (typeof recordHash !== "string") return "'record_hash' is not a string";
  if (trace === undefined || !isJsonObject(trace)) return "'trace' is not a JSON object";
  return { seq: Number(seqValue), prevHash, recordHash, trace, payload: canonicalJson(trace), location };
}

// ---------------------------------------------------------------------------
// GraphQL encoding
// ---------------------------------------------------------------------------

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
const SELECTION = "{ seq actionId payload }";

/** Number of lexical tokens in GraphQL text, counted like graphql-armor's max-tokens. */
export function countTokens(text: string): number {
  const lexer = new Lexer(new Source(text));
  let n = 0;
  while (lexer.advance().kind !== TokenKind.EOF) n++;
  return n;
}

/** Whether JSON transport plus the gateway's variable coercion gives back exactly `v`. */
export function survivesVariables(v: JsonValue): boolean {
  switch (typeof v) {
    case "bigint":
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER);
    case "number":
      // An integral float (100.0, -0.0, 1e+16) would come back as an int.
      return Number.isFinite(v) && !Number.isInteger(v);
    case "object":
      if (v === null) return true;
      if (Array.isArray(v)) return v.every(survivesVariables);
      return Object.values(v).every(survivesVariables);
    default:
      return true;
  }
}

/** Whether an int (Python int, bigint here) occurs anywhere in `v`. */
function hasInt(v: JsonValue): boolean {
  if (typeof v === "bigint") return true;
  if (Array.isArray(v)) return v.some(hasInt);
  if (v !== null && typeof v === "object") return Object.values(v).some(hasInt);
  return false;
}

/**
 * A GraphQL string literal for `s`, ASCII only: `"` and `\` escaped, every other code unit
 * outside printable ASCII as `\uXXXX` (astral characters as a surrogate-pair escape, which
 * GraphQL accepts). Null when `s` holds a lone surrogate, which no GraphQL literal can carry.
 */
export function graphqlStringLiteral(s: string): string | null {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u === 0x22) out += '\\"';
    else if (u === 0x5c) out += "\\\\";
    else if (u >= 0x20 && u < 0x7f) out += s[i];
    else if (u >= 0xd800 && u <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return null;
      out += hex4(u) + hex4(next);
      i++;
    } else if (u >= 0xdc00 && u <= 0xdfff) return null;
    else out += hex4(u);
  }
  return out + '"';
}

const hex4 = (u: number) => "\\u" + u.toString(16).padStart(4, "0");

/** One trace, encoded for a recordTraces document. */
export interface EncodedItem {
  /** Whole TraceInput as one JSON variable (the cheap case). */
  variable: JsonObject | null;
  /** Otherwise: the literal list element, its variable declarations and values. */
  literal: string | null;
  declarations: string[];
  values: JsonObject;
  /** Tokens this item adds to a document with per-item literals. */
  tokens: number;
}

/** The TraceInput for a trace, as JSON (enums as their GraphQL names). */
function traceInput(t: JsonObject): JsonObject {
  const upper = (v: JsonValue | undefined, dflt: string) => (typeof v === "string" ? v : dflt).toUpperCase();
  return {
    actionId: t.action_id!,
    capabilityId: t.capability_id!,
    principalId: t.principal_id!,
    tokenId: t.token_id!,
    invokedAt: t.invoked_at!,
    responseMode: upper(t.response_mode, "summary"),
    driverId: t.driver_id!,
    handleId: t.handle_id ?? null,
    sensitivity: typeof t.sensitivity === "string" ? t.sensitivity : "NONE",
    eventType: upper(t.event_type, "invoke"),
    reasonCode: t.reason_code ?? null,
    error: t.error ?? null,
    args: t.args!,
    resultSummary: t.result_summary ?? null,
  };
}

const ENUM_FIELDS = new Set(["responseMode", "sensitivity", "eventType"]);

/**
 * Encode one trace (prefix: a document-unique variable name prefix). Throws a string saying
 * why the trace cannot be carried exactly.
 */
export function encodeTrace(trace: JsonObject, prefix: string): EncodedItem {
  const input = traceInput(trace);
  if (survivesVariables(input)) {
    return { variable: input, literal: null, declarations: [], values: {}, tokens: countTokens(`$${prefix} $${prefix}: TraceInput!`) };
  }
  const declarations: string[] = [];
  const values: JsonObject = {};
  const variable = (type: string, value: JsonValue) => {
    const name = `${prefix}_${declarations.length}`;
    declarations.push(`$${name}: ${type}`);
    values[name] = value;
    return `$${name}`;
  };
  const literal = (v: JsonValue, path: string): string => {
    switch (typeof v) {
      case "string":
        return graphqlStringLiteral(v) ?? variable("String!", v);
      case "bigint":
        return v.toString();
      case "number":
        if (!Number.isFinite(v)) throw `${path} is ${String(v)}, which JSON cannot carry`;
        return pythonFloatRepr(v);
      case "boolean":
        return v ? "true" : "false";
      case "object": {
        if (v === null) return "null";
        if (Array.isArray(v)) return `[${v.map((x, i) => literal(x, `${path}[${i}]`)).join(" ")}]`;
        // Inside a literal, a variable reaches the scalar already coerced (ints as bigint), and the
        // gateway takes only JSON-transport values there: an object without ints can be one.
        if (survivesVariables(v) && !hasInt(v)) return variable("JSONObject!", v);
        const fields: string[] = [];
        for (const [k, x] of Object.entries(v)) {
          if (!GRAPHQL_NAME.test(k)) {
            throw (
              `${path} has the key ${JSON.stringify(k)}, which is not a GraphQL name, in an object that also holds ` +
              `${survivesVariables(v) ? "an int" : "a number JSON variables cannot carry exactly (an integral float or an int beyond 2^53)"}`
            );
          }
          fields.push(`${k}: ${literal(x, `${path}.${k}`)}`);
        }
        return `{${fields.join(" ")}}`;
      }
      default:
        throw `${path} is not a JSON value`;
    }
  };
  const fields: string[] = [];
  for (const [key, value] of Object.entries(input)) {
    let text: string;
    if (ENUM_FIELDS.has(key)) text = value as string;
    else if (value === null) text = "null";
    else if ((key === "args" || key === "resultSummary") && survivesVariables(value)) text = variable("JSONObject!", value);
    else text = literal(value, key === "args" ? "args" : key === "resultSummary" ? "result_summary" : key);
    fields.push(`${key}: ${text}`);
  }
  const text = `{${fields.join(" ")}}`;
  return { variable: null, literal: text, declarations, values, tokens: countTokens(`${text} ${declarations.join(" ")}`) };
}

const SAFE_DOCUMENT = `mutation Ship($input: [TraceInput!]!) { recordTraces(input: $input) ${SELECTION} }`;
const SAFE_TOKENS = countTokens(SAFE_DOCUMENT);
const FRAME_TOKENS = countTokens(`mutation Ship() { recordTraces(input: []) ${SELECTION} }`);

/** Tokens of a document carrying these items. */
function documentTokens(items: readonly EncodedItem[]): number {
  if (items.every((i) => i.variable !== null)) return SAFE_TOKENS;
  return FRAME_TOKENS + items.reduce((n, i) => n + i.tokens, 0);
}

/** The request body (JSON text) for a recordTraces call carrying `items`, in order. */
export function buildRequestBody(items: readonly EncodedItem[], prefixes: readonly string[]): string {
  let query: string;
  let variables: JsonObject;
  if (items.every((i) => i.variable !== null)) {
    query = SAFE_DOCUMENT;
    variables = { input: items.map((i) => i.variable!) };
  } else {
    const declarations: string[] = [];
    const elements: string[] = [];
    variables = {};
    items.forEach((item, idx) => {
      if (item.variable !== null) {
        const name = prefixes[idx]!;
        declarations.push(`$${name}: TraceInput!`);
        elements.push(`$${name}`);
        variables[name] = item.variable;
      } else {
        declarations.push(...item.declarations);
        elements.push(item.literal!);
        Object.assign(variables, item.values);
      }
    });
    const params = declarations.length > 0 ? `(${declarations.join(", ")})` : "";
    query = `mutation Ship${params} { recordTraces(input: [${elements.join(" ")}]) ${SELECTION} }`;
  }
  // canonicalJson writes valid JSON (ASCII, lone surrogates escaped) and keeps ints exact.
  return `{"query":${JSON.stringify(query)},"variables":${canonicalJson(variables)}}`;
}

// ---------------------------------------------------------------------------
// The gateway
// ---------------------------------------------------------------------------

/** What the gateway returned for one acknowledged trace. */
interface AckedTrace {
  seq: number;
  actionId: string;
  payload: string;
}

type SendOutcome =
  | { kind: "ack"; traces: AckedTrace[] }
  | { kind: "retry"; why: string; afterMs: number | null }
  | { kind: "too-many-tokens"; limit: number | null }
  | { kind: "too-large" }
  | { kind: "fatal"; why: string };

interface GraphQLErrorBody {
  message?: unknown;
  extensions?: { code?: unknown; retryAfterSeconds?: unknown; limit?: unknown };
}

/** Codes after which the same request may succeed later. */
const RETRYABLE_CODES = new Set(["RATE_LIMITED", "INTERNAL_SERVER_ERROR"]);

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
  type Answer = { data?: { recordTraces?: unknown } | null; errors?: GraphQLErrorBody[] };
  let json: Answer | null = null;
  try {
    json = JSON.parse(text) as Answer;
  } catch {
    json = null;
  }
  const first = Array.isArray(json?.errors) ? json.errors[0] : undefined;
  const code = typeof first?.extensions?.code === "string" ? first.extensions.code : null;
  const message = typeof first?.message === "string" ? first.message : "";
  if (code !== null) {
    if (RETRYABLE_CODES.has(code)) {
      const after = Number(first!.extensions!.retryAfterSeconds);
      return { kind: "retry", why: `${code}: ${message}`, afterMs: Number.isFinite(after) && after > 0 ? after * 1000 : headerMs };
    }
    if (code === "QUERY_TOO_COMPLEX" && (first!.extensions!.limit === "tokens" || /token/i.test(message))) {
      const m = /limit of (\d+)/i.exec(message);
      return { kind: "too-many-tokens", limit: m ? Number(m[1]) : null };
    }
    if (code === "PAYLOAD_TOO_LARGE") return { kind: "too-large" };
    return { kind: "fatal", why: `${code}: ${message}` };
  }
  if (res.status === 413) return { kind: "too-large" };
  if (res.status >= 500 || res.status === 429 || res.status === 408) {
    return { kind: "retry", why: `HTTP ${res.status}`, afterMs: headerMs };
  }
  if (res.status >= 400) return { kind: "fatal", why: `HTTP ${res.status} ${res.statusText}`.trim() };
  const acked = json?.data?.recordTraces;
  if (!Array.isArray(acked) || acked.length !== expected) {
    return { kind: "fatal", why: `unexpected answer (HTTP ${res.status}): ${text.slice(0, 200)}` };
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
  /** Records per recordTraces call (fewer when the token budget needs it). */
  batch: number;
  pollMs: number;
  /** The gateway's token limit per document (TRACEGATE_MAX_TOKENS); lowered when it says so. */
  maxTokens: number;
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
  /** Acknowledged records whose stored payload differs from the source's (gateway redaction). */
  altered: number;
  state: ShipState;
  /** Why the run ended: everything there was shipped, or a stop was requested. */
  ended: "done" | "stopped";
  /** Bytes after the last complete line (a line still being written), when the run ended. */
  partialBytes: number;
}

interface Pending {
  seq: number;
  recordHash: string;
  payload: string;
  actionId: string;
  line: Line;
  lineNo: number;
  item: EncodedItem;
  prefix: string;
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

/** Why a verified trace cannot be stored by the gateway byte for byte, or null when it can. */
function fidelityProblem(record: SourceRecord): string | null {
  try {
    decodeColumns(record);
  } catch (e) {
    if (e instanceof ImportError) return e.message.replace(/\.$/, "");
    throw e;
  }
  const t = record.trace;
  const trace: Trace = {
    actionId: t.action_id as string,
    capabilityId: t.capability_id as string,
    principalId: t.principal_id as string,
    tokenId: t.token_id as string,
    invokedAtUs: parseTimestamp(t.invoked_at as string),
    responseMode: t.response_mode as Trace["responseMode"],
    driverId: t.driver_id as string,
    handleId: (t.handle_id ?? null) as string | null,
    sensitivity: (t.sensitivity ?? "NONE") as Trace["sensitivity"],
    eventType: (t.event_type ?? "invoke") as Trace["eventType"],
    reasonCode: (t.reason_code ?? null) as string | null,
    error: (t.error ?? null) as string | null,
    args: t.args as JsonObject,
    resultSummary: (t.result_summary ?? null) as JsonObject | null,
  };
  const rebuilt = exportTrace(trace);
  if (canonicalJson(rebuilt) === record.payload) return null;
  const keys = new Set([...Object.keys(rebuilt), ...Object.keys(t)]);
  const differ = [...keys].filter((k) => {
    const a = rebuilt[k];
    const b = t[k];
    return a === undefined || b === undefined || canonicalJson(a) !== canonicalJson(b);
  });
  return `the gateway stores the reference's canonical export, and this trace would change in ${differ.join(", ")}`;
}

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
  let tokenBudget = options.maxTokens;

  const loaded = await loadState(options.statePath, path);
  const state: ShipState = loaded ?? initialState(path);
  let shipped = 0;
  let altered = 0;
  let partialBytes = 0;
  const stopping = () => signal?.aborted === true;

  const rotated = (why: string) =>
    new ShipError(
      "ROTATED",
      `${path} was truncated or rotated (${why}); nothing from the new file was sent. ` +
        `Shipping stopped after seq ${state.lastSeq ?? "(none)"}; to ship the new file from its start, move ${options.statePath} away.`,
    );

  /**
   * POST one document until the gateway answers for good: the acknowledged traces, null when
   * a stop was requested while retrying, or "split" when the document is over a gateway limit
   * (nothing of it was stored).
   */
  const send = async (chunk: Pending[]): Promise<AckedTrace[] | null | Extract<SendOutcome, { kind: "too-many-tokens" | "too-large" }>> => {
    const body = buildRequestBody(
      chunk.map((p) => p.item),
      chunk.map((p) => p.prefix),
    );
    const range = `seq ${chunk[0]!.seq}..${chunk.at(-1)!.seq}`;
    let delay = retryBase;
    for (let attempt = 1; ; attempt++) {
      const outcome = await postOnce(fetchImpl, options.url, options.apiKey, body, timeoutMs, chunk.length);
      switch (outcome.kind) {
        case "ack":
          return outcome.traces;
        case "fatal":
          throw new ShipError(
            "GATEWAY",
            `the gateway refused ${range}: ${outcome.why}. Stopped: ${state.lastSeq === null ? "nothing was shipped" : `shipped up to seq ${state.lastSeq}`}.`,
            chunk[0]!.seq,
          );
        case "too-many-tokens":
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
   * Split `pending` into documents within the token budget, in order. A trace over the budget
   * on its own goes alone (the gateway has the last word; if it refuses, that trace stops the
   * run after everything before it was shipped).
   */
  const chunksOf = (pending: Pending[]): Pending[][] => {
    const chunks: Pending[][] = [];
    let current: Pending[] = [];
    for (const p of pending) {
      if (current.length > 0 && documentTokens([...current.map((c) => c.item), p.item]) > tokenBudget) {
        chunks.push(current);
        current = [];
      }
      current.push(p);
    }
    if (current.length > 0) chunks.push(current);
    return chunks;
  };

  /** Ship pending records in order; saves the state after every acknowledged document. Returns false when stopped. */
  const flush = async (pending: Pending[], identity: { dev: string; ino: string }): Promise<boolean> => {
    const queue = chunksOf(pending);
    while (queue.length > 0) {
      // A stop lets the request in flight finish (and its acknowledgement be saved), no more.
      if (stopping()) return false;
      const chunk = queue.shift()!;
      const acked = await send(chunk);
      if (acked !== null && !Array.isArray(acked)) {
        // Over a gateway limit: lower the token budget (to the limit it names) and split.
        const docTokens = documentTokens(chunk.map((c) => c.item));
        if (acked.kind === "too-many-tokens") {
          tokenBudget = acked.limit !== null && acked.limit < docTokens ? acked.limit : Math.max(1, Math.floor(docTokens / 2));
        }
        if (chunk.length === 1) {
          const what =
            acked.kind === "too-large"
              ? "alone, its request exceeds the gateway's body size limit (TRACEGATE_MAX_BODY_BYTES)"
              : `alone, its document needs ${docTokens} GraphQL tokens, over the gateway's limit${acked.limit !== null ? ` of ${acked.limit}` : ""} (TRACEGATE_MAX_TOKENS)`;
          const sent = state.lastSeq === null ? "nothing was shipped" : `shipped up to seq ${state.lastSeq}`;
          throw new ShipError("UNSHIPPABLE", `seq ${chunk[0]!.seq} cannot be shipped: ${what}. Stopped: ${sent}.`, chunk[0]!.seq);
        }
        const half = chunk.length >> 1;
        const split = acked.kind === "too-many-tokens" ? chunksOf(chunk) : [];
        queue.unshift(...(split.length > 1 ? split : [chunk.slice(0, half), chunk.slice(half)]));
        continue;
      }
      if (acked === null) return false;
      acked.forEach((a, i) => {
        const p = chunk[i]!;
        if (a.payload !== p.payload) {
          altered += 1;
          warn(`seq ${p.seq} (action_id ${p.actionId}) was stored with a payload that differs from the source's (gateway seq ${a.seq}; e.g. its ingest redaction); its gateway record hash will not match the store's.`);
        }
      });
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
          const record = nl < 0 ? "no line" : parseEnvelope(text.slice(0, nl).trim(), `${path}:${state.line}`);
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
        const location = `${path}:${lineNo}`;
        const expectedSeq = verifier.nextSeq ?? 0;
        const record = parseEnvelope(text, location);
        if (typeof record === "string") {
          failure = new ShipError("TAMPERED", `TAMPERED at seq ${expectedSeq}: line ${lineNo} is not a trace record (${record}).`, expectedSeq);
          break;
        }
        if (first && state.lastSeq !== null && (record.seq !== state.lastSeq + 1 || record.prevHash !== state.lastHash)) {
          throw rotated(`the record after the saved offset is seq ${record.seq}, which does not continue seq ${state.lastSeq}`);
        }
        first = false;
        if (!verifier.check(record)) {
          const v = verifier.result();
          failure = new ShipError("TAMPERED", `TAMPERED at seq ${v.firstBadSeq}: ${v.detail}`, v.firstBadSeq);
          break;
        }
        const problem = fidelityProblem(record);
        let item: EncodedItem | null = null;
        const prefix = `s${record.seq}`;
        let encodeProblem: string | null = null;
        if (problem === null) {
          try {
            item = encodeTrace(record.trace, prefix);
          } catch (why) {
            if (typeof why !== "string") throw why;
            encodeProblem = `the gateway's GraphQL API cannot carry it: ${why}`;
          }
        }
        if (item === null) {
          failure = new ShipError("UNSHIPPABLE", `seq ${record.seq} (${location}) cannot be shipped byte-exactly: ${problem ?? encodeProblem}.`, record.seq);
          break;
        }
        pending.push({ seq: record.seq, recordHash: record.recordHash, payload: record.payload, actionId: record.trace.action_id as string, line, lineNo, item, prefix });
        if (pending.length >= options.batch) {
          if (!(await flush(pending, identity))) return false;
          pending = [];
          if (stopping()) return false;
        }
      }
      // Verified records before a failure are shipped first; then the failure stops the run.
      if (pending.length > 0 && !(await flush(pending, identity))) return false;
      if (failure) {
        const sent = state.lastSeq === null ? "nothing was shipped" : `shipped up to seq ${state.lastSeq}`;
        throw new ShipError(failure.kind, `${failure.message} Stopped: ${sent}; nothing from seq ${failure.seq} on was sent.`, failure.seq);
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
    if (stopping()) return { shipped, altered, state, ended: "stopped", partialBytes };
    const finished = await pass();
    if (!finished || stopping()) return { shipped, altered, state, ended: "stopped", partialBytes };
    if (!options.follow) return { shipped, altered, state, ended: "done", partialBytes };
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

/**
 * weaver-kernel's record formats, parsed and validated in one place for every road that takes
 * them: the `recordTraceRecords` mutation (raw ingest), `tracegate import` and `tracegate ship`.
 *
 * - The trace export object: weaver-kernel's `export_action_trace`, 16 keys in the order of
 *   `exportTrace` (src/chain/trace.ts). It is also the chained payload.
 * - The JSONL envelope: one line `{"seq", "prev_hash", "record_hash", "trace"}` per record,
 *   as weaver-kernel's JsonlTraceStore writes it (test/support/reference-writer.py writes the
 *   same format for the tests).
 *
 * Text is parsed with `parseJsonLossless` (src/chain/json.ts): a bigint is a Python int, a
 * number a Python float, so `canonicalJson` of the parsed value is byte for byte what the
 * reference hashes.
 */
import { canonicalJson, isJsonObject, type JsonObject, type JsonValue, type LosslessParseOptions, parseJsonLossless } from "../chain/json.js";
import { type EpochMicros, parseTimestamp, TimestampError } from "../chain/time.js";
import { MAX_INT_DIGITS, MAX_JSON_DEPTH } from "../chain/wire-json.js";
import {
  EVENT_TYPES,
  EXPORT_KEYS,
  RESPONSE_MODES,
  SENSITIVITIES,
  statusOf,
  type Trace,
} from "../chain/trace.js";

/**
 * A record that is not what the reference writes. `key` is the offending key (a path such as
 * `args.ratio` for a value inside args) or null for the record as a whole; `reason` is a
 * phrase meant for people, e.g. `missing required field 'args'`.
 */
export class RecordError extends Error {
  override name = "RecordError";
  constructor(
    readonly key: string | null,
    readonly reason: string,
  ) {
    super(reason);
  }
}


/** The keys the reference's decoder requires; the others default (handle_id null, sensitivity "NONE", ...). */
const REQUIRED = ["action_id", "capability_id", "principal_id", "token_id", "invoked_at", "args", "response_mode", "driver_id"] as const;
const KNOWN: ReadonlySet<string> = new Set(EXPORT_KEYS);

// ---------------------------------------------------------------------------
// Parsing text
// ---------------------------------------------------------------------------

/**
 * Parse JSON text that must hold one object, losslessly.
 * @throws RecordError (key null) when the text is not JSON (the parser's message, with the
 *   position) or not an object.
 */
export function parseJsonObject(text: string, options: LosslessParseOptions = {}): JsonObject {
  let value: JsonValue;
  try {
    value = parseJsonLossless(text, options);
  } catch (e) {
    throw new RecordError(null, (e as Error).message.replace(/\.$/, ""));
  }
  if (!isJsonObject(value)) throw new RecordError(null, "not a JSON object");
  return value;
}

/** One JSONL line of a reference store: the envelope around a trace export object. */
export interface Envelope {
  seq: number;
  prevHash: string;
  recordHash: string;
  /** The trace export object, parsed losslessly (not yet decoded: see decodeTrace). */
  trace: JsonObject;
}

/**
 * Parse one (trimmed, non-blank) JSONL line: an object with `seq` (a non-negative int that
 * fits a JS number), `prev_hash` and `record_hash` (strings) and `trace` (an object). Other
 * keys are ignored, like the reference's reader does.
 * @throws RecordError (key null) with a reason such as `missing 'trace'`.
 */
export function parseEnvelope(line: string): Envelope {
  const value = parseJsonObject(line);
  for (const key of ["seq", "prev_hash", "record_hash", "trace"]) {
    if (!(key in value)) throw new RecordError(null, `missing '${key}'`);
  }
  const { seq, prev_hash: prevHash, record_hash: recordHash, trace } = value;
  if (typeof seq !== "bigint" || seq < 0n || seq > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RecordError(null, "'seq' is not a non-negative integer");
  }
  if (typeof prevHash !== "string") throw new RecordError(null, "'prev_hash' is not a string");
  if (typeof recordHash !== "string") throw new RecordError(null, "'record_hash' is not a string");
  if (trace === undefined || !isJsonObject(trace)) throw new RecordError(null, "'trace' is not a JSON object");
  return { seq: Number(seq), prevHash, recordHash, trace };
}

/** An envelope with the payload its record_hash covers. */
export interface ChainedRecord extends Envelope {
  /**
   * Canonical JSON of the trace: what the chain hashes, what raw ingest stores, and (pure
   * ASCII: every other code unit is escaped) what `tracegate ship` sends.
   */
  payload: string;
}

/**
 * Parse one JSONL line of a reference store (parseEnvelope) and canonicalise its trace:
 * `tracegate import` and `tracegate ship` both read store lines through here.
 * @throws RecordError (key null) as parseEnvelope does.
 */
export function parseChainedRecord(line: string): ChainedRecord {
  const envelope = parseEnvelope(line);
  return { ...envelope, payload: canonicalJson(envelope.trace) };
}

// ---------------------------------------------------------------------------
// Decoding a trace export object
// ---------------------------------------------------------------------------

/**
 * A decoded trace export object, shaped like the GraphQL TraceInput (camelCase, enums as the
 * reference's strings, `invokedAt` as epoch microseconds) plus the timestamp's own text.
 */
export type DecodedTrace = Omit<Trace, "invokedAtUs" | "invokedAtText"> & {
  invokedAt: EpochMicros;
  /** `invoked_at` exactly as written (the reference hashes the text, not the instant). */
  invokedAtText: string;
};

export interface DecodeOptions {
  /**
   * true for a trace offered for ingest (the GraphQL entrance): every key must be one of the
   * 16, `status` (when present) must agree with `error`, `correction` (when present) must be
   * null, and values CPython could not read back (refusedValue: over-long integers, deep nesting)
   * are refused, so the stored export is exactly the object offered. NaN and Infinity, which
   * the reference writes, are kept (an overflowing literal like 1e400 is refused by the
   * parser, see parseJsonObject's refuseOverflow). false for a trace read from a reference store,
   * whose bytes the chain already fixed: those keys are left as the reference's decoder leaves
   * them (ignored), and NaN / Infinity are kept.
   */
  strict: boolean;
}

/**
 * The first value inside `v` that raw-record ingest refuses (docs/exactness.md), with why: an
 * integer longer than CPython's json module reads (4,300 digits), or nesting deeper than
 * MAX_JSON_DEPTH. Null when there is none. (NaN and Infinity, which the reference writes as
 * bare words, are kept; a literal such as 1e400 is refused when the text is parsed.)
 */
export function refusedValue(v: JsonValue, path: string, depth = 0): { path: string; reason: string } | null {
  if (typeof v === "number") return null; // NaN / Infinity as the reference writes them are kept; 1e400 is refused by the parser
  if (typeof v === "bigint") {
    const digits = v < 0n ? v.toString().length - 1 : v.toString().length;
    return digits > MAX_INT_DIGITS ? { path, reason: `is an integer of ${digits} digits; CPython's json module reads at most ${MAX_INT_DIGITS}` } : null;
  }
  if (v === null || typeof v !== "object") return null;
  if (depth >= MAX_JSON_DEPTH) return { path, reason: `is nested deeper than ${MAX_JSON_DEPTH} levels` };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const found = refusedValue(v[i] as JsonValue, `${path}[${i}]`, depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [k, x] of Object.entries(v)) {
    const found = refusedValue(x, `${path}.${k}`, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/**
 * Decode a trace export object like the reference's decoder (required keys, defaults for the
 * optional ones, a parseable `invoked_at`, known response_mode / sensitivity / event_type),
 * checking each key's JSON type. The values are returned as they are (no length limits or
 * redaction here: the ingest path applies those in toTrace / scrubSecrets).
 * @throws RecordError naming the key, e.g. `missing required field 'args'`,
 *   `'handle_id' must be a string or null`, `unknown sensitivity 'HIGH'`.
 */
export function decodeTrace(t: JsonObject, options: DecodeOptions): DecodedTrace {
  if (options.strict) {
    for (const key of Object.keys(t)) {
      if (!KNOWN.has(key)) {
        throw new RecordError(key, `unknown key '${key}' (a trace export object has the 16 keys ${EXPORT_KEYS.join(", ")})`);
      }
    }
  }
  for (const key of REQUIRED) {
    if (!(key in t)) throw new RecordError(key, `missing required field '${key}'`);
  }
  const str = (key: string): string => {
    const v = t[key];
    if (typeof v !== "string") throw new RecordError(key, `'${key}' must be a string`);
    return v;
  };
  const nullableStr = (key: string): string | null => {
    const v = t[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== "string") throw new RecordError(key, `'${key}' must be a string or null`);
    return v;
  };
  const oneOf = <T extends string>(key: string, values: readonly T[], dflt: T): T => {
    const v = key in t ? t[key] : dflt;
    if (typeof v !== "string" || !(values as readonly string[]).includes(v)) {
      throw new RecordError(key, `unknown ${key} '${typeof v === "string" ? v : canonicalish(v)}' (expected one of ${values.join(", ")})`);
    }
    return v as T;
  };

  const args = t.args;
  if (args === undefined || !isJsonObject(args)) throw new RecordError("args", "'args' must be an object");
  const summary = t.result_summary ?? null;
  if (summary !== null && !isJsonObject(summary)) throw new RecordError("result_summary", "'result_summary' must be an object or null");
  const invokedAtText = str("invoked_at");
  let invokedAt: EpochMicros;
  try {
    invokedAt = parseTimestamp(invokedAtText);
  } catch (e) {
    if (e instanceof TimestampError) throw new RecordError("invoked_at", `invoked_at: ${e.message.replace(/\.$/, "")}`);
    throw e;
  }
  const decoded: DecodedTrace = {
    actionId: str("action_id"),
    capabilityId: str("capability_id"),
    principalId: str("principal_id"),
    tokenId: str("token_id"),
    invokedAt,
    invokedAtText,
    responseMode: oneOf("response_mode", RESPONSE_MODES, "summary"),
    driverId: str("driver_id"),
    handleId: nullableStr("handle_id"),
    sensitivity: oneOf("sensitivity", SENSITIVITIES, "NONE"),
    eventType: oneOf("event_type", EVENT_TYPES, "invoke"),
    reasonCode: nullableStr("reason_code"),
    error: nullableStr("error"),
    args,
    resultSummary: summary,
  };

  if (options.strict) {
    if ("status" in t && t.status !== statusOf(decoded.error)) {
      const expected = statusOf(decoded.error);
      throw new RecordError(
        "status",
        `'status' is ${canonicalish(t.status)} but 'error' is ${decoded.error === null ? "null" : "a string"}, so the reference writes "${expected}"`,
      );
    }
    if ("correction" in t && t.correction !== null) {
      throw new RecordError("correction", "'correction' must be null (a stored trace never carries a correction)");
    }
    const bad = refusedValue(args, "args") ?? (summary === null ? null : refusedValue(summary, "result_summary"));
    if (bad !== null) throw new RecordError(bad.path, `'${bad.path}' ${bad.reason}`);
  }
  return decoded;
}

/** A short rendering of an unexpected value for messages. */
function canonicalish(v: JsonValue | undefined): string {
  if (v === undefined) return "missing";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
  if (typeof v === "bigint") return v.toString();
  if (v === null || typeof v !== "object") return String(v);
  return Array.isArray(v) ? "an array" : "an object";
}

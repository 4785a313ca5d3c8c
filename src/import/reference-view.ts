/**
 * The reference CLI's view of a weaver-kernel store (`tracegate audit … --store`,
 * docs/reference-compatibility.md#operator-cli), on top of ./reference-store.ts: its
 * verify_chain over a whole store, its decoder and `export_action_trace` (what list, show
 * and export print), and its `get`.
 */
import { formatIsoformat, type IsoDateTime, parseIsoformat } from "../chain/isoformat.js";
import { isJsonObject, type JsonObject, type JsonValue, parseJsonLossless, pythonJsonDumps } from "../chain/json.js";
import { hasIndexKey, withDocumentKeyOrder } from "../chain/key-order.js";
import { TimestampError } from "../chain/time.js";
import type { RecordHasher } from "../chain/hash.js";
import { ChainVerifier, type ChainVerification } from "../chain/verify.js";
import { ImportError, parseStoredPayload, type ReferenceStore, type SourceRecord } from "./reference-store.js";

/**
 * The reference's `verify_chain` over a whole store (docs/reference-compatibility.md#verification):
 * genesis is the SQLite prune checkpoint's hash (else GENESIS), the expected seq starts at the
 * first record's own, and the three checks run in the reference's order; no check of the
 * index columns (the reference's verify has none). Like the reference, which loads every record
 * before verifying, a corrupt record anywhere throws ImportError even after a failed link, so
 * the outcome never depends on where the walk stopped. Constant memory. `onProgress` hears
 * the number of records read every thousand records and at the end.
 */
export async function verifyStoreChain(store: ReferenceStore, hash: RecordHasher, onProgress?: (read: number) => void): Promise<ChainVerification> {
  const verifier = new ChainVerifier({ hash, expectedPrevHash: store.origin.prevHash });
  let read = 0;
  for await (const record of store.records()) {
    verifier.check(record);
    if (++read % 1000 === 0) onProgress?.(read);
  }
  onProgress?.(read);
  return verifier.result();
}

/** The sensitivity tags the reference's decoder accepts (its SensitivityTag enum). */
const SENSITIVITY_TAGS: ReadonlySet<string> = new Set(["NONE", "PII", "PCI", "SECRETS", "MEMORY"]);

/** A trace as the reference CLI prints it, and the instant it filters on. */
export interface ReexportedTrace {
  /** `export_action_trace(decode_trace(stored))`: the 16 keys in the reference's order. */
  exported: JsonObject;
  invokedAt: IsoDateTime;
}

/** A short Python-like repr of a stored value for messages. */
function reprOf(v: JsonValue): string {
  if (typeof v === "string") return `'${v.length > 40 ? `${v.slice(0, 37)}...` : v}'`;
  if (v === null) return "None";
  const text = pythonJsonDumps(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/**
 * What the reference CLI prints for a stored trace: its decoder (`decode_trace`: the eight
 * required keys, `invoked_at` through `datetime.fromisoformat`, sensitivity one of the enum's
 * values, the other keys taken as they are) followed by `export_action_trace` (the 16 keys in
 * order, `invoked_at` re-written by `isoformat()`, `status` derived from `error`, unknown keys
 * dropped, absent optional keys null, `correction` null).
 * @throws ImportError with the reference's messages: `Persisted trace payload is missing
 *   required field 'x'.` or `Persisted trace payload is malformed: <reason>.`
 */
export function reexportTrace(t: JsonObject): ReexportedTrace {
  const missing = (key: string) => new ImportError(`Persisted trace payload is missing required field '${key}'.`);
  const malformed = (reason: string) => new ImportError(`Persisted trace payload is malformed: ${reason}.`);
  const required = (key: string): JsonValue => {
    if (!Object.hasOwn(t, key)) throw missing(key);
    return t[key]!;
  };
  const optional = (key: string, dflt: JsonValue): JsonValue => (Object.hasOwn(t, key) ? t[key]! : dflt);
  // The keyword arguments in the order the reference evaluates them.
  const actionId = required("action_id");
  const capabilityId = required("capability_id");
  const principalId = required("principal_id");
  const tokenId = required("token_id");
  const invokedAtText = required("invoked_at");
  if (typeof invokedAtText !== "string") throw malformed("fromisoformat: argument must be str");
  let invokedAt: IsoDateTime;
  try {
    invokedAt = parseIsoformat(invokedAtText);
  } catch (e) {
    if (e instanceof TimestampError) throw malformed(e.message);
    throw e;
  }
  const args = required("args");
  const responseMode = required("response_mode");
  const driverId = required("driver_id");
  const error = optional("error", null);
  const sensitivity = optional("sensitivity", "NONE");
  if (typeof sensitivity !== "string" || !SENSITIVITY_TAGS.has(sensitivity)) {
    throw malformed(`${reprOf(sensitivity)} is not a valid SensitivityTag`);
  }
  const exported = Object.create(null) as JsonObject;
  Object.assign(exported, {
    action_id: actionId,
    capability_id: capabilityId,
    principal_id: principalId,
    token_id: tokenId,
    invoked_at: formatIsoformat(invokedAt),
    response_mode: responseMode,
    driver_id: driverId,
    handle_id: optional("handle_id", null),
    sensitivity,
    status: error === null ? "succeeded" : "failed",
    event_type: optional("event_type", "invoke"),
    reason_code: optional("reason_code", null),
    error,
    args,
    result_summary: optional("result_summary", null),
    correction: null,
  });
  return { exported, invokedAt };
}

/**
 * A record's trace with the key order of its stored text kept on every object (KEY_ORDER in
 * src/chain/key-order.ts), so that what is printed orders keys as the reference does even where a
 * JavaScript object would put array-index keys ("0", "17") first. Only texts that have such a
 * key are parsed again.
 */
function traceInStoredOrder(record: SourceRecord, format: ReferenceStore["format"]): JsonObject {
  const text = record.text;
  if (text === undefined || !hasIndexKey(text)) return record.trace;
  const root = withDocumentKeyOrder(parseJsonLossless(text), text);
  // A JSONL line is the envelope around the trace; a SQLite payload is the trace.
  const trace = format === "jsonl" && isJsonObject(root) ? root.trace : root;
  return trace !== undefined && isJsonObject(trace) ? trace : record.trace;
}

/**
 * The traces of a store as the reference CLI decodes them, in chain order, for list and
 * export. Errors come as the reference raises them: a JSONL store is parsed whole before any
 * trace is decoded, so a corrupt line anywhere wins over an undecodable trace before it (the
 * first such decode error is held until the file has been read); SQLite rows fail in seq order.
 */
export async function* reexportedTraces(store: ReferenceStore): AsyncGenerator<ReexportedTrace> {
  let deferred: ImportError | null = null;
  for await (const record of store.records()) {
    if (deferred) continue;
    let trace: ReexportedTrace;
    try {
      trace = reexportTrace(traceInStoredOrder(record, store.format));
    } catch (e) {
      if (!(e instanceof ImportError) || store.format !== "jsonl") throw e;
      deferred = e;
      continue;
    }
    yield trace;
  }
  if (deferred) throw deferred;
}

/**
 * The reference's `get(action_id)` (`audit show`): SQLite through the action_id column (its
 * index), JSONL the first record whose trace has that action_id, after reading the whole file.
 * @throws ImportError `No action trace found for action_id='id'.`, or a corrupt store's error.
 */
export async function findTrace(store: ReferenceStore, actionId: string): Promise<ReexportedTrace> {
  let trace: JsonObject | null = null;
  if (store.findPayload) {
    const row = store.findPayload(actionId);
    if (row) {
      trace = parseStoredPayload(row.payload, `for action_id='${actionId}'`);
      if (typeof row.payload === "string") trace = withDocumentKeyOrder(trace, row.payload);
    }
  } else {
    for await (const record of store.records()) {
      if (trace === null && record.trace.action_id === actionId) trace = traceInStoredOrder(record, store.format);
    }
  }
  if (trace === null) throw new ImportError(`No action trace found for action_id='${actionId}'.`);
  return reexportTrace(trace);
}

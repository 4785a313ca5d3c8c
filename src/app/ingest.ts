/**
 * recordTraces(input) and recordTraceRecords(records): validate a batch, encode each trace to
 * its canonical payload, and append the batch to the chain in one transaction. All or nothing.
 * Both go through the same path (appendBatch): first the cheap checks of every trace
 * (toTrace, the key's principal scope, repeats within the batch), then scrubSecrets and
 * encodeTrace, then the store's idempotent append. Scanning comes after the scope check so
 * that a batch refused for scope costs no scanning (issue 14, case 2), and it is bounded:
 * at most MAX_SCANNED_CHARS of text per trace (src/ingest/secrets.ts), in linear time.
 */
import type { JsonObject } from "../chain/json.js";
import { MAX_SCANNED_CHARS, redactJson, redactText, textSize } from "../ingest/secrets.js";
import { encodeTrace, type EventType, type ResponseMode, type Sensitivity, type Trace } from "../chain/trace.js";
import type { EpochMicros } from "../chain/time.js";
import { badUserInput, storableIdentifier, TracegateError } from "../errors.js";
import { type DecodedTrace, decodeTrace, parseJsonObject, RecordError } from "../ingest/reference-record.js";
import type { Caller } from "./caller.js";
import { DuplicateActionIdError, type TraceRow } from "../stores/trace-store.js";

/** Largest batch one recordTraces call may carry. */
export const MAX_BATCH = 5_000;
/** Longest id-like string (action, capability, principal, token, driver, handle, reason code). */
export const MAX_ID_LENGTH = 1_024;
/** Longest error message. */
export const MAX_ERROR_LENGTH = 65_536;

/** The GraphQL TraceInput, enums already mapped to the reference's strings. */
export interface TraceInput {
  actionId: string;
  capabilityId: string;
  principalId: string;
  tokenId?: string | null;
  invokedAt: EpochMicros;
  responseMode: ResponseMode;
  driverId?: string | null;
  handleId?: string | null;
  sensitivity?: Sensitivity | null;
  eventType?: EventType | null;
  reasonCode?: string | null;
  error?: string | null;
  args?: JsonObject | null;
  resultSummary?: JsonObject | null;
}

/** How a batch names the field of one item in messages, e.g. `input[3].actionId`. */
export type FieldPath = (index: number, field: string) => string;

/** recordTraces' names: `input[i].actionId`, `input[i].args.headers`. */
export const inputPath: FieldPath = (index, field) => `input[${index}].${field}`;

/** recordTraceRecords' names, the export object's keys: `records[i].action_id`, `records[i].args.headers`. */
export const recordPath: FieldPath = (index, field) =>
  `records[${index}].${field.replace(/^[A-Za-z]+/, (head) => head.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`))}`;

/**
 * Validate one input and apply the reference's defaults.
 * @throws BAD_USER_INPUT naming the field through `where` (default `input[i].<field>`).
 */
export function toTrace(input: TraceInput, index: number, where: FieldPath = inputPath): Trace {
  const at = (field: string) => where(index, field);
  const id = (field: keyof TraceInput, value: string | null | undefined, opts: { nonEmpty?: boolean } = {}) => {
    const v = value ?? "";
    if (opts.nonEmpty && v.length === 0) throw badUserInput(`${at(field)} must not be empty.`, at(field));
    if (v.length > MAX_ID_LENGTH) throw badUserInput(`${at(field)} is longer than ${MAX_ID_LENGTH} characters.`, at(field));
    return storableIdentifier(v, at(field));
  };
  const nullableId = (field: keyof TraceInput, value: string | null | undefined) =>
    value == null ? null : id(field, value);
  if (input.error != null && input.error.length > MAX_ERROR_LENGTH) {
    throw badUserInput(`${at("error")} is longer than ${MAX_ERROR_LENGTH} characters.`, at("error"));
  }
  return {
    actionId: id("actionId", input.actionId, { nonEmpty: true }),
    capabilityId: id("capabilityId", input.capabilityId, { nonEmpty: true }),
    principalId: id("principalId", input.principalId),
    tokenId: id("tokenId", input.tokenId),
    invokedAtUs: input.invokedAt,
    responseMode: input.responseMode,
    driverId: id("driverId", input.driverId),
    handleId: nullableId("handleId", input.handleId),
    sensitivity: input.sensitivity ?? "NONE",
    eventType: input.eventType ?? "invoke",
    reasonCode: nullableId("reasonCode", input.reasonCode),
    error: input.error ?? null,
    args: input.args ?? {},
    resultSummary: input.resultSummary ?? null,
  };
}

/**
 * Ingest hygiene: credentials in args, resultSummary or error never reach the chain. With
 * "redact" each match becomes `[REDACTED:<kind>]` before hashing, so the stored trace shows
 * (and its HMAC proves) that a redaction happened and where; with "reject" the whole batch
 * is refused, naming the path and kind but never the value.
 */
export function scrubSecrets(trace: Trace, index: number, policy: "redact" | "reject", where: FieldPath = inputPath): Trace {
  checkScanSize(trace, index, where);
  const args = redactJson(trace.args, "args");
  const summary = trace.resultSummary === null ? null : redactJson(trace.resultSummary, "resultSummary");
  const error = trace.error === null ? null : redactText(trace.error);
  const found = [...args.redactions, ...(summary?.redactions ?? []), ...(error?.kinds.map((kind) => ({ path: "error", kind })) ?? [])];
  if (found.length === 0) return trace;
  if (policy === "reject") {
    const first = found[0]!;
    throw badUserInput(
      `${where(index, first.path)} looks like a credential (${first.kind}); this gateway rejects traces carrying secrets.`,
      where(index, first.path),
    );
  }
  return {
    ...trace,
    args: args.value as JsonObject,
    resultSummary: summary ? (summary.value as JsonObject) : null,
    error: error ? error.text : null,
  };
}

/**
 * Refuse a trace carrying more than MAX_SCANNED_CHARS characters of text to scan (string
 * values and keys of args and resultSummary, plus error), naming its largest part. Refused,
 * not stored unscanned nor scanned beyond the cap: the chain keeps a trace for ever, so text
 * that was not scanned must not enter it, and scanning it anyway would make the cap no
 * bound on the work one trace can cause.
 * @throws BAD_USER_INPUT
 */
function checkScanSize(trace: Trace, index: number, where: FieldPath): void {
  const parts: [string, number][] = [
    ["args", textSize(trace.args, MAX_SCANNED_CHARS)],
    ["resultSummary", trace.resultSummary === null ? 0 : textSize(trace.resultSummary, MAX_SCANNED_CHARS)],
    ["error", trace.error?.length ?? 0],
  ];
  const total = parts.reduce((n, [, size]) => n + size, 0);
  if (total <= MAX_SCANNED_CHARS) return;
  const [largest] = parts.reduce((a, b) => (b[1] > a[1] ? b : a));
  const field = where(index, largest);
  throw badUserInput(
    `${where(index, "args")}, resultSummary and error carry more than ${MAX_SCANNED_CHARS} characters of text; ` +
      `at most ${MAX_SCANNED_CHARS} per trace are scanned for credentials, so larger traces are refused.`,
    field,
  );
}

/** The refusal of a write outside the key's principal scope; the same whichever field is outside, and never naming another tenant's data. */
function outsideScope(field: string): TracegateError {
  return new TracegateError("FORBIDDEN", `${field} is outside this API key's principal scope.`, { field });
}

/**
 * Append a batch of traces; returns the stored records in chain order (one per input, a
 * re-sent identical trace answered with its stored record).
 * @throws BAD_USER_INPUT (empty or oversized batch, invalid input), FORBIDDEN (principal
 *   outside the key's scope, or, for a scoped key, an actionId already taken by a trace
 *   outside its scope: answered like any other scope refusal and without the id, so a scoped
 *   writer cannot probe other tenants' ids), DUPLICATE_ACTION_ID (repeated in the batch, or
 *   already stored with other content inside the key's scope). Each names the refused trace
 *   in `extensions.field` (`input[i].<field>`), so a client can drop exactly that trace.
 */
export function recordTraces(input: readonly TraceInput[], ctx: Caller): Promise<TraceRow[]> {
  return appendBatch(input, "input", (item, i) => toTrace(item, i), inputPath, ctx);
}

/**
 * Append a batch of raw trace records: each string is the JSON text of one 16-key export
 * object as weaver-kernel writes it (e.g. the `trace` of a JSONL line; keys as in
 * `exportTrace`, src/chain/trace.ts). The text is parsed losslessly and decoded strictly
 * (decodeTrace in src/ingest/reference-record.ts: no unknown keys, `status` agreeing with
 * `error`, `correction` null, no NaN / Infinity), then goes through the same path as
 * recordTraces, keeping `invoked_at`'s text. Unless ingest redacts a credential, the stored
 * payload is the canonical JSON of the record: byte for byte what the reference hashes.
 * @throws BAD_USER_INPUT naming `records[i]` and the key, plus recordTraces' errors.
 */
export function recordTraceRecords(records: readonly string[], ctx: Caller): Promise<TraceRow[]> {
  return appendBatch(records, "records", decodeRecord, recordPath, ctx);
}

/** One raw record through decodeTrace and toTrace (which applies the same checks as to a TraceInput). */
function decodeRecord(text: string, index: number): Trace {
  let decoded: DecodedTrace;
  try {
    decoded = decodeTrace(parseJsonObject(text, { refuseOverflow: true }), { strict: true });
  } catch (e) {
    if (!(e instanceof RecordError)) throw e;
    const field = e.key === null ? `records[${index}]` : `records[${index}].${e.key}`;
    throw badUserInput(`records[${index}]: ${e.reason}.`, field);
  }
  return { ...toTrace(decoded, index, recordPath), invokedAtText: decoded.invokedAtText };
}

/** The path every batch takes: decode, scrub, scope check, encode, then one idempotent append. */
async function appendBatch<T>(
  items: readonly T[],
  name: "input" | "records",
  decode: (item: T, index: number) => Trace,
  where: FieldPath,
  ctx: Caller,
): Promise<TraceRow[]> {
  if (items.length === 0) throw badUserInput(`${name} must contain at least one trace.`, name);
  if (items.length > MAX_BATCH) {
    throw badUserInput(`${name} carries ${items.length} traces; at most ${MAX_BATCH} per call.`, name);
  }
  const store = ctx.stores.traces;
  // Cheap checks of every trace first: a batch refused for any of them costs no scanning.
  const traces = items.map((item, i) => {
    const trace = decode(item, i);
    if (!store.admits(trace.principalId)) throw outsideScope(where(i, "principalId"));
    return trace;
  });
  const firstIndex = new Map<string, number>();
  const repeated: number[] = [];
  traces.forEach((t, i) => {
    if (firstIndex.has(t.actionId)) repeated.push(i);
    else firstIndex.set(t.actionId, i);
  });
  if (repeated.length > 0) {
    const ids = [...new Set(repeated.map((i) => traces[i]!.actionId))];
    throw new TracegateError("DUPLICATE_ACTION_ID", `actionId repeated within the batch: ${ids.slice(0, 10).join(", ")}`, {
      actionIds: ids.slice(0, 100),
      field: where(repeated[0]!, "actionId"),
    });
  }
  const encoded = traces.map((trace, i) => encodeTrace(scrubSecrets(trace, i, ctx.secretsInTraces, where)));
  try {
    return await store.append(encoded);
  } catch (e) {
    if (!(e instanceof DuplicateActionIdError)) throw e;
    const at = (id: string) => firstIndex.get(id) ?? 0;
    const foreign = e.actionIds.filter((_, k) => !store.admits(e.storedPrincipals[k] ?? ""));
    if (foreign.length > 0) {
      const i = Math.min(...foreign.map(at));
      throw outsideScope(where(i, "actionId"));
    }
    const first = Math.min(...e.actionIds.map(at));
    throw new TracegateError("DUPLICATE_ACTION_ID", `actionId already recorded with different content: ${e.actionIds.slice(0, 10).join(", ")}`, {
      actionIds: e.actionIds.slice(0, 100),
      field: where(first, "actionId"),
    });
  }
}

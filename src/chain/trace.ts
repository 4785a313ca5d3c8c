/**
 * The audit trace as the reference exports and chains it
 * (docs/reference-compatibility.md#the-16-keys).
 *
 * A trace becomes the 16-key export object, whose canonical JSON is the `payload` that the
 * record hash covers and that the store keeps byte for byte. The filter columns a store
 * indexes are derived from the same object, and `mismatchedColumns` compares them with a
 * stored payload so verification can prove the indexed copies were not edited.
 */
import { canonicalJson, type JsonObject, parseJsonLossless } from "./json.js";
import { type EpochMicros, formatIsoMicros, parseTimestamp } from "./time.js";

export const EVENT_TYPES = ["invoke", "expand", "deny"] as const;
export const STATUSES = ["succeeded", "failed"] as const;
export const RESPONSE_MODES = ["summary", "table", "handle_only", "raw"] as const;
export const SENSITIVITIES = ["NONE", "PII", "PCI", "SECRETS", "MEMORY"] as const;

export type EventType = (typeof EVENT_TYPES)[number];
export type TraceStatus = (typeof STATUSES)[number];
export type ResponseMode = (typeof RESPONSE_MODES)[number];
export type Sensitivity = (typeof SENSITIVITIES)[number];

/**
 * The 16 keys of the export object, in the reference's insertion order
 * (docs/reference-compatibility.md#the-16-keys).
 */
export const EXPORT_KEYS = [
  "action_id",
  "capability_id",
  "principal_id",
  "token_id",
  "invoked_at",
  "response_mode",
  "driver_id",
  "handle_id",
  "sensitivity",
  "status",
  "event_type",
  "reason_code",
  "error",
  "args",
  "result_summary",
  "correction",
] as const;

/** A validated trace, as an agent kernel reports it (the reference's ActionTrace). */
export interface Trace {
  actionId: string;
  capabilityId: string;
  principalId: string;
  tokenId: string;
  invokedAtUs: EpochMicros;
  /**
   * `invoked_at` as the sender wrote it (a raw export record, src/ingest/reference-record.ts),
   * when that text names `invokedAtUs`: the reference hashes the text, so it is kept verbatim.
   * Absent: the instant is written as Python's `isoformat()` writes it.
   */
  invokedAtText?: string;
  responseMode: ResponseMode;
  driverId: string;
  handleId: string | null;
  sensitivity: Sensitivity;
  eventType: EventType;
  reasonCode: string | null;
  error: string | null;
  args: JsonObject;
  resultSummary: JsonObject | null;
}

/** The copies of payload fields that a store indexes and filters on. */
export interface TraceColumns {
  actionId: string;
  principalId: string;
  capabilityId: string;
  eventType: EventType;
  status: TraceStatus;
  reasonCode: string | null;
  invokedAtUs: EpochMicros;
}

/** A trace ready to append: its canonical payload and the columns derived from it. */
export interface EncodedTrace {
  payload: string;
  columns: TraceColumns;
}

/** A stored payload that cannot be read back as a trace export object. */
export class CorruptPayloadError extends Error {
  override name = "CorruptPayloadError";
}

/** The reference's status rule: `failed` when error is non-null, even the empty string. */
export function statusOf(error: string | null): TraceStatus {
  return error === null ? "succeeded" : "failed";
}

/**
 * The reference's 16-key export object, keys in its insertion order. `correction` is
 * always null when persisted (docs/reference-compatibility.md#the-16-keys, key 16).
 */
export function exportTrace(t: Trace): JsonObject {
  return {
    action_id: t.actionId,
    capability_id: t.capabilityId,
    principal_id: t.principalId,
    token_id: t.tokenId,
    invoked_at: t.invokedAtText ?? formatIsoMicros(t.invokedAtUs),
    response_mode: t.responseMode,
    driver_id: t.driverId,
    handle_id: t.handleId,
    sensitivity: t.sensitivity,
    status: statusOf(t.error),
    event_type: t.eventType,
    reason_code: t.reasonCode,
    error: t.error,
    args: t.args,
    result_summary: t.resultSummary,
    correction: null,
  };
}

/** Encode a trace for appending: canonical payload plus its filter columns. */
export function encodeTrace(t: Trace): EncodedTrace {
  return {
    payload: canonicalJson(exportTrace(t)),
    columns: {
      actionId: t.actionId,
      principalId: t.principalId,
      capabilityId: t.capabilityId,
      eventType: t.eventType,
      status: statusOf(t.error),
      reasonCode: t.reasonCode,
      invokedAtUs: t.invokedAtUs,
    },
  };
}

/**
 * Parse a stored payload into the export object. JSON.parse first (fast, and strings need no
 * lossless path); a payload it refuses may still be valid Python JSON: records imported from
 * reference stores can hold NaN or Infinity, which the lossless parser reads as Python does.
 * @throws CorruptPayloadError when the text is not JSON to Python either, or not an object.
 */
export function parsePayload(payload: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch (e) {
    try {
      value = parseJsonLossless(payload);
    } catch {
      throw new CorruptPayloadError(`Corrupted trace payload: ${(e as Error).message}`);
    }
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new CorruptPayloadError("Corrupted trace payload: not a JSON object.");
  }
  return value as Record<string, unknown>;
}

/**
 * Names of the stored columns that differ from the hashed payload ([] when they agree).
 * Runs once per record in verification, so it compares in place, without building objects.
 * @throws CorruptPayloadError when the payload is not a trace export object.
 */
export function mismatchedColumns(stored: TraceColumns, payload: string): string[] {
  const o = parsePayload(payload);
  const bad: string[] = [];
  if (o.action_id !== stored.actionId) bad.push("actionId");
  if (o.principal_id !== stored.principalId) bad.push("principalId");
  if (o.capability_id !== stored.capabilityId) bad.push("capabilityId");
  if ((o.event_type ?? "invoke") !== stored.eventType) bad.push("eventType");
  if (statusOf((o.error ?? null) as string | null) !== stored.status) bad.push("status");
  if ((o.reason_code ?? null) !== stored.reasonCode) bad.push("reasonCode");
  if (typeof o.invoked_at !== "string" || !sameInstant(o.invoked_at, stored.invokedAtUs)) bad.push("invokedAt");
  return bad;
}

/** Whether an ISO timestamp names exactly this instant (fast path: tracegate's own format). */
function sameInstant(iso: string, us: EpochMicros): boolean {
  if (iso === formatIsoMicros(us)) return true;
  try {
    return parseTimestamp(iso) === us;
  } catch {
    return false;
  }
}


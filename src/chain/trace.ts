/**
 * The audit trace as the reference exports and chains it (REFERENCE.md §1.4).
 *
 * A trace becomes the 16-key export object, whose canonical JSON is the `payload` that the
 * record hash covers and that the store keeps byte for byte. The filter columns a store
 * indexes are derived from the same object, and `columnsFromPayload` re-derives them from
 * a stored payload so verification can prove the indexed copies were not edited.
 */
import { canonicalJson, type JsonObject, type JsonValue } from "./json.js";
import { type EpochMicros, formatIsoMicros, parseTimestamp } from "./time.js";

export const EVENT_TYPES = ["invoke", "expand", "deny"] as const;
export const STATUSES = ["succeeded", "failed"] as const;
export const RESPONSE_MODES = ["summary", "table", "handle_only", "raw"] as const;
export const SENSITIVITIES = ["NONE", "PII", "PCI", "SECRETS", "MEMORY"] as const;

export type EventType = (typeof EVENT_TYPES)[number];
export type TraceStatus = (typeof STATUSES)[number];
export type ResponseMode = (typeof RESPONSE_MODES)[number];
export type Sensitivity = (typeof SENSITIVITIES)[number];

/** A validated trace, as an agent kernel reports it (the reference's ActionTrace). */
export interface Trace {
  actionId: string;
  capabilityId: string;
  principalId: string;
  tokenId: string;
  invokedAtUs: EpochMicros;
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
 * always null when persisted (REFERENCE.md §1.4 #16).
 */
export function exportTrace(t: Trace): JsonObject {
  return {
    action_id: t.actionId,
    capability_id: t.capabilityId,
    principal_id: t.principalId,
    token_id: t.tokenId,
    invoked_at: formatIsoMicros(t.invokedAtUs),
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

/** Parse a stored payload into the export object (plain JSON.parse: strings need no lossless path). */
export function parsePayload(payload: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch (e) {
    throw new CorruptPayloadError(`Corrupted trace payload: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new CorruptPayloadError("Corrupted trace payload: not a JSON object.");
  }
  return value as Record<string, unknown>;
}

/** Re-derive the filter columns from a stored payload (for COLUMN_MISMATCH checks). */
export function columnsFromPayload(payload: string): TraceColumns {
  const o = parsePayload(payload);
  const str = (key: string): string => {
    const v = o[key];
    if (typeof v !== "string") throw new CorruptPayloadError(`Corrupted trace payload: '${key}' is not a string.`);
    return v;
  };
  const optStr = (key: string): string | null => (o[key] === null || o[key] === undefined ? null : str(key));
  const eventType = (o.event_type ?? "invoke") as EventType;
  if (!EVENT_TYPES.includes(eventType)) throw new CorruptPayloadError("Corrupted trace payload: unknown event_type.");
  let invokedAtUs: EpochMicros;
  try {
    invokedAtUs = parseTimestamp(str("invoked_at"));
  } catch (e) {
    throw new CorruptPayloadError(`Corrupted trace payload: ${(e as Error).message}`);
  }
  return {
    actionId: str("action_id"),
    principalId: str("principal_id"),
    capabilityId: str("capability_id"),
    eventType,
    status: statusOf(o.error === undefined ? null : (o.error as string | null)),
    reasonCode: optStr("reason_code"),
    invokedAtUs,
  };
}

/** Names of the columns whose stored copy differs from the payload ([] when they agree). */
export function mismatchedColumns(stored: TraceColumns, fromPayload: TraceColumns): (keyof TraceColumns)[] {
  return (Object.keys(fromPayload) as (keyof TraceColumns)[]).filter((k) => stored[k] !== fromPayload[k]);
}

/** JSON value helper re-exported for callers that build args. */
export type { JsonValue };

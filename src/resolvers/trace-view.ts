/**
 * Reading fields of a stored trace. Filter fields come from the indexed columns; the rest
 * from the hashed payload, parsed once per row and cached.
 */
import { type JsonObject, type JsonValue, parseJsonLossless } from "../chain/json.js";
import { parsePayload } from "../chain/trace.js";
import { traceToOcsf } from "../export/ocsf.js";
import type { TraceRow } from "../stores/trace-store.js";

const parsed = new WeakMap<TraceRow, Record<string, unknown>>();

/** The export object of a stored trace (REFERENCE.md §1.4), parsed lazily. */
export function payloadOf(row: TraceRow): Record<string, unknown> {
  let value = parsed.get(row);
  if (!value) {
    value = parsePayload(row.payload);
    parsed.set(row, value);
  }
  return value;
}

/** A string field of the payload ("" when absent, as the reference's decoder defaults). */
export function payloadString(row: TraceRow, key: string): string {
  const v = payloadOf(row)[key];
  return typeof v === "string" ? v : "";
}

/** A nullable string field of the payload. */
export function payloadNullableString(row: TraceRow, key: string): string | null {
  const v = payloadOf(row)[key];
  return typeof v === "string" ? v : null;
}

/**
 * A JSON value for a GraphQL response: bigints (exact integers in tracegate's JSON model)
 * become numbers, which JSON.stringify can write; beyond 2^53 they keep their digits as a
 * string rather than silently round. The `payload` field is the exact text.
 */
export function toResponseJson(value: JsonValue): unknown {
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(toResponseJson);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toResponseJson(v)]));
  }
  return value;
}

/** The trace's OCSF 6003 event (REFERENCE.md §6), exact numbers read from the payload. */
export function ocsfOf(row: TraceRow): unknown {
  return toResponseJson(traceToOcsf(parseJsonLossless(row.payload) as JsonObject));
}


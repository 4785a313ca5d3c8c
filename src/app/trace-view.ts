/**
 * Reading fields of a stored trace. Filter fields come from the indexed columns; the rest
 * from the hashed payload, parsed once per row and cached.
 */
import { type JsonObject, parseJsonLossless } from "../chain/json.js";
import { parsePayload } from "../chain/trace.js";
import { traceToOcsf, traceToOcsfReference } from "../export/ocsf.js";
import type { TraceRow } from "../stores/trace-store.js";

const parsed = new WeakMap<TraceRow, Record<string, unknown>>();

/**
 * The export object of a stored trace (docs/reference-compatibility.md#the-16-keys), parsed
 * lazily.
 */
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

const exact = new WeakMap<TraceRow, JsonObject>();

/**
 * The export object with Python's number model (bigint ints, float floats), for fields
 * whose numbers must come back as hashed: args, resultSummary, ocsf. Parsed lazily, once.
 */
export function exactPayloadOf(row: TraceRow): JsonObject {
  let value = exact.get(row);
  if (!value) {
    value = parseJsonLossless(row.payload) as JsonObject;
    exact.set(row, value);
  }
  return value;
}

/**
 * The trace's OCSF 6003 event (docs/reference-compatibility.md#ocsf-mapping): `schema-valid`,
 * as the `ocsf` export writes it, or `reference`, as weaver-kernel maps it; exact numbers
 * read from the payload.
 */
export function ocsfOf(row: TraceRow, mapping: "schema-valid" | "reference"): JsonObject {
  const trace = exactPayloadOf(row);
  return mapping === "reference" ? traceToOcsfReference(trace) : traceToOcsf(trace, row.seq);
}

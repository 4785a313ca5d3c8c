/**
 * Reading fields of a stored trace. Filter fields come from the indexed columns; the rest
 * from the hashed payload, parsed once per row and cached.
 */
import { parsePayload } from "../chain/trace.js";
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

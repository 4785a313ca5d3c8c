/**
 * Opaque keyset cursors. A cursor names a position in one ordering family: `s` (chain
 * order: seq) or `t` (time order: invokedAt micros + seq). It carries no offset, so it stays
 * valid while traces are appended. Anything tracegate did not issue is INVALID_CURSOR.
 */
import { TracegateError } from "../errors.js";
import type { Keyset, TraceOrder, TraceRow } from "../stores/trace-store.js";

const VERSION = "1";
const SEQ = /^1:s:(\d{1,16})$/;
const TIME = /^1:t:(-?\d{1,17}):(\d{1,16})$/;

const isTimeOrder = (order: TraceOrder) => order === "INVOKED_AT_ASC" || order === "INVOKED_AT_DESC";

/** The cursor of a row in an ordering. */
export function encodeCursor(order: TraceOrder, row: Pick<TraceRow, "seq" | "invokedAtUs">): string {
  const raw = isTimeOrder(order) ? `${VERSION}:t:${row.invokedAtUs}:${row.seq}` : `${VERSION}:s:${row.seq}`;
  return Buffer.from(raw, "utf8").toString("base64url");
}

/** Decode a cursor for an ordering; throws INVALID_CURSOR for anything else. */
export function decodeCursor(order: TraceOrder, cursor: string, argument: "after" | "before"): Keyset {
  const invalid = (why: string) =>
    new TracegateError("INVALID_CURSOR", `Invalid '${argument}' cursor: ${why}`, { field: argument });
  if (cursor.length === 0 || cursor.length > 64 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw invalid("not a tracegate cursor.");
  }
  const raw = Buffer.from(cursor, "base64url").toString("utf8");
  const time = TIME.exec(raw);
  const seq = SEQ.exec(raw);
  if (isTimeOrder(order)) {
    if (time) return toKeyset(Number(time[2]), Number(time[1]), invalid);
    if (seq) throw invalid(`it was issued for chain order, not ${order}.`);
  } else {
    if (seq) return toKeyset(Number(seq[1]), undefined, invalid);
    if (time) throw invalid(`it was issued for time order, not ${order}.`);
  }
  throw invalid("not a tracegate cursor.");
}

function toKeyset(seq: number, invokedAtUs: number | undefined, invalid: (why: string) => Error): Keyset {
  if (!Number.isSafeInteger(seq) || (invokedAtUs !== undefined && !Number.isSafeInteger(invokedAtUs))) {
    throw invalid("position out of range.");
  }
  return invokedAtUs === undefined ? { seq } : { seq, invokedAtUs };
}

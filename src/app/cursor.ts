/**
 * The opaque keyset cursors of every connection (traces and revocations), in one place.
 *
 * A cursor names a position, never an offset, so it stays valid while records are added or
 * removed around it. It is base64url text of a versioned string:
 *
 * - traces in chain order:  `1:s:<seq>`
 * - traces in time order:   `1:t:<invokedAt micros>:<seq>`
 * - revocations:            `1:r:<tokenId>`, encoded from UTF-16LE rather than UTF-8 so that
 *   any JS string, even one with a lone surrogate, survives the round trip.
 *
 * Anything tracegate did not issue — another family, another order, garbage, non-canonical
 * base64 — is INVALID_CURSOR naming the argument, never a silent first page.
 */
import { TracegateError } from "../errors.js";
import type { Keyset, TraceOrder, TraceRow } from "../stores/trace-store.js";

/** The connection argument a cursor came in. */
export type CursorArgument = "after" | "before";

/** Encodes positions of `Node` as cursors and decodes cursors back to positions `Position`. */
export interface CursorCodec<Node, Position> {
  encode(node: Node): string;
  /** @throws TracegateError INVALID_CURSOR for anything this codec did not issue. */
  decode(cursor: string, argument: CursorArgument): Position;
}

const VERSION = "1";
const SEQ = /^1:s:(\d{1,16})$/;
const TIME = /^1:t:(-?\d{1,17}):(\d{1,16})$/;
const REVOCATION_PREFIX = "1:r:";
/** Longest trace cursor: the time form with the widest numbers, base64url. */
const MAX_TRACE_CURSOR_LENGTH = 64;

function invalidCursor(argument: CursorArgument, why: string): TracegateError {
  return new TracegateError("INVALID_CURSOR", `Invalid '${argument}' cursor: ${why}`, { field: argument });
}

/** Whether text can be a cursor of at most `maxLength` characters at all (before decoding). */
function looksLikeCursor(cursor: string, maxLength: number): boolean {
  return cursor.length > 0 && cursor.length <= maxLength && /^[A-Za-z0-9_-]+$/.test(cursor);
}

/**
 * Base64url (no padding) of an ASCII string, exactly as Buffer.from(text).toString("base64url")
 * writes it (a unit test holds them equal), by way of btoa, about 4x faster than a Buffer per
 * call: a page encodes a cursor for every edge. Trace cursors are ASCII (digits, ':', '-').
 */
export function base64urlOfAscii(text: string): string {
  const b64 = btoa(text);
  let end = b64.length;
  while (end > 0 && b64.charCodeAt(end - 1) === 61 /* = */) end--;
  const unpadded = end === b64.length ? b64 : b64.slice(0, end);
  return unpadded.includes("+") || unpadded.includes("/") ? unpadded.replace(/[+/]/g, (c) => (c === "+" ? "-" : "_")) : unpadded;
}

const isTimeOrder = (order: TraceOrder) => order === "INVOKED_AT_ASC" || order === "INVOKED_AT_DESC";

/** The cursor codec of traces in one order: chain order (seq) or time order ((invokedAt, seq)). */
export function traceCursor(order: TraceOrder): CursorCodec<Pick<TraceRow, "seq" | "invokedAtUs">, Keyset> {
  const time = isTimeOrder(order);
  return {
    encode: (row) => base64urlOfAscii(time ? `${VERSION}:t:${row.invokedAtUs}:${row.seq}` : `${VERSION}:s:${row.seq}`),
    decode(cursor, argument) {
      if (!looksLikeCursor(cursor, MAX_TRACE_CURSOR_LENGTH)) throw invalidCursor(argument, "not a tracegate cursor.");
      const raw = Buffer.from(cursor, "base64url").toString("utf8");
      const t = TIME.exec(raw);
      const s = SEQ.exec(raw);
      if (time) {
        if (t) return toKeyset(argument, Number(t[2]), Number(t[1]));
        if (s) throw invalidCursor(argument, `it was issued for chain order, not ${order}.`);
      } else {
        if (s) return toKeyset(argument, Number(s[1]), undefined);
        if (t) throw invalidCursor(argument, `it was issued for time order, not ${order}.`);
      }
      throw invalidCursor(argument, "not a tracegate cursor.");
    },
  };
}

function toKeyset(argument: CursorArgument, seq: number, invokedAtUs: number | undefined): Keyset {
  if (!Number.isSafeInteger(seq) || (invokedAtUs !== undefined && !Number.isSafeInteger(invokedAtUs))) {
    throw invalidCursor(argument, "position out of range.");
  }
  return invokedAtUs === undefined ? { seq } : { seq, invokedAtUs };
}

/**
 * The cursor codec of revocations (keyset: tokenId ascending); positions are token ids of
 * 1 to `maxIdLength` UTF-16 units.
 */
export function revocationCursor(maxIdLength: number): CursorCodec<{ tokenId: string }, string> {
  // Base64url of the prefix and the longest id, two bytes per UTF-16 unit.
  const maxLength = Math.ceil(((REVOCATION_PREFIX.length + maxIdLength) * 2 * 4) / 3);
  const encode = (tokenId: string) => Buffer.from(`${REVOCATION_PREFIX}${tokenId}`, "utf16le").toString("base64url");
  return {
    encode: (node) => encode(node.tokenId),
    decode(cursor, argument) {
      const invalid = () => invalidCursor(argument, "not a revocations cursor.");
      if (!looksLikeCursor(cursor, maxLength)) throw invalid();
      const raw = Buffer.from(cursor, "base64url").toString("utf16le");
      const tokenId = raw.slice(REVOCATION_PREFIX.length);
      if (!raw.startsWith(REVOCATION_PREFIX) || tokenId.length === 0 || tokenId.length > maxIdLength) throw invalid();
      // Re-encoding must give the cursor back: refuses non-canonical base64 and odd byte counts.
      if (encode(tokenId) !== cursor) throw invalid();
      return tokenId;
    },
  };
}

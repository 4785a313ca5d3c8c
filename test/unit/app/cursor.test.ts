/** The keyset cursors of every connection: round trips, and refusals of what tracegate did not issue. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { base64urlOfAscii, revocationCursor, traceCursor } from "../../../src/app/cursor.js";
import { isTracegateError } from "../../../src/errors.js";

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return isTracegateError(e) ? e.code : "not coded";
  }
  return undefined;
};

describe("trace cursors", () => {
  it("round-trip a position in chain order and in time order", () => {
    fc.assert(
      fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), (seq, invokedAtUs) => {
        expect(traceCursor("SEQ_DESC").decode(traceCursor("SEQ_ASC").encode({ seq, invokedAtUs }), "after")).toEqual({ seq });
        const time = traceCursor("INVOKED_AT_ASC");
        expect(traceCursor("INVOKED_AT_DESC").decode(time.encode({ seq, invokedAtUs }), "before")).toEqual({ seq, invokedAtUs });
      }),
    );
  });

  it("refuses a cursor of the other order family, of revocations, and garbage, naming the argument", () => {
    const seqCursor = traceCursor("SEQ_ASC").encode({ seq: 5, invokedAtUs: 0 });
    const timeCursor = traceCursor("INVOKED_AT_ASC").encode({ seq: 5, invokedAtUs: 7 });
    expect(codeOf(() => traceCursor("INVOKED_AT_ASC").decode(seqCursor, "after"))).toBe("INVALID_CURSOR");
    expect(codeOf(() => traceCursor("SEQ_ASC").decode(timeCursor, "before"))).toBe("INVALID_CURSOR");
    expect(codeOf(() => traceCursor("SEQ_ASC").decode(revocationCursor(256).encode({ tokenId: "t" }), "after"))).toBe("INVALID_CURSOR");
    for (const garbage of ["", "!!", "a".repeat(65), Buffer.from("1:s:99999999999999999").toString("base64url")]) {
      expect(codeOf(() => traceCursor("SEQ_ASC").decode(garbage, "after")), garbage).toBe("INVALID_CURSOR");
    }
    try {
      traceCursor("SEQ_ASC").decode("!!", "before");
    } catch (e) {
      expect(isTracegateError(e) && e.extensions.field).toBe("before");
    }
  });
});

describe("base64urlOfAscii", () => {
  it("writes what Buffer's base64url writes, for every ASCII string and every padding length", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)), maxLength: 80 }), (text) => {
        expect(base64urlOfAscii(text)).toBe(Buffer.from(text, "utf8").toString("base64url"));
      }),
      { numRuns: 2_000 },
    );
    for (const text of ["", "1", "1:", "1:t", "1:t:-1:0", "1:s:9007199254740991", "\u007f?>~"]) {
      expect(base64urlOfAscii(text)).toBe(Buffer.from(text, "utf8").toString("base64url"));
    }
  });
});

describe("revocation cursors", () => {
  const codec = revocationCursor(64);

  it("round-trip any token id up to the longest, lone surrogates included", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", minLength: 1, maxLength: 64 }), (tokenId) => {
        expect(codec.decode(codec.encode({ tokenId }), "after")).toBe(tokenId);
      }),
    );
    expect(codec.decode(codec.encode({ tokenId: "a\ud800b" }), "after")).toBe("a\ud800b");
  });

  it("refuses ids over the limit, non-canonical base64, trace cursors and garbage", () => {
    const long = revocationCursor(65).encode({ tokenId: "x".repeat(65) });
    expect(codeOf(() => codec.decode(long, "after"))).toBe("INVALID_CURSOR");
    const valid = codec.encode({ tokenId: "tok" });
    // An odd byte appended: still base64url, no longer what tracegate issued.
    const nonCanonical = Buffer.concat([Buffer.from(valid, "base64url"), Buffer.from([0x41])]).toString("base64url");
    expect(codeOf(() => codec.decode(nonCanonical, "after"))).toBe("INVALID_CURSOR");
    expect(codeOf(() => codec.decode(traceCursor("SEQ_ASC").encode({ seq: 1, invokedAtUs: 0 }), "after"))).toBe("INVALID_CURSOR");
    expect(codeOf(() => codec.decode("", "after"))).toBe("INVALID_CURSOR");
  });
});

/** The one retry classification the emitter and the shipper share (issue 14, case 4), and the one reading of an answer it rests on. */
import { describe, expect, it } from "vitest";
import { isRetryable, parseRetryAfter, readAnswer, refusedField, refusedIndex, retryDelayMs } from "../../../src/client/retry-policy.js";

describe("isRetryable", () => {
  it("never retries client faults, whatever the status; retries transport faults, 5xx, 429 and 408", () => {
    for (const code of ["BAD_USER_INPUT", "FORBIDDEN", "DUPLICATE_ACTION_ID", "UNAUTHENTICATED", "PAYLOAD_TOO_LARGE"]) {
      for (const status of [200, 400, 403, 500, 503]) expect(isRetryable(status, code), `${code} ${status}`).toBe(false);
    }
    expect(isRetryable(undefined, null)).toBe(true);
    for (const status of [500, 502, 503, 429, 408]) expect(isRetryable(status, null), String(status)).toBe(true);
    for (const code of ["RATE_LIMITED", "INTERNAL_SERVER_ERROR", "BAD_RESPONSE"]) expect(isRetryable(200, code), code).toBe(true);
    expect(isRetryable(400, null)).toBe(false);
    expect(isRetryable(422, "SOMETHING_NEW")).toBe(false);
    expect(isRetryable(503, "SOMETHING_NEW")).toBe(true);
  });
});

describe("refusedField / refusedIndex", () => {
  it("reads the refused trace from extensions.field, a coercion message or a leading field", () => {
    expect(refusedField({ extensions: { field: "input[3].principalId" } })).toBe("input[3].principalId");
    expect(refusedField({ message: 'Variable "$input" got invalid value "x" at "input[1].invokedAt"; nope' })).toBe("input[1].invokedAt");
    expect(refusedField({ message: "records[7]: unknown key." })).toBe("records[7]");
    expect(refusedField({ message: "Authentication required." })).toBeNull();
    expect(refusedField(undefined)).toBeNull();
    expect(refusedIndex("input[3].principalId", "input", 5)).toBe(3);
    expect(refusedIndex("records[0]", "records", 1)).toBe(0);
    for (const [field, batch, n] of [["input[5].x", "input", 5], ["input[3]", "records", 5], ["input[03]", "input", 5], ["input[-1]", "input", 5], [null, "input", 5], ["input", "input", 5]] as const) {
      expect(refusedIndex(field, batch, n), String(field)).toBeNull();
    }
  });
});

describe("readAnswer", () => {
  it("reads the first error's code and message, and Retry-After from the header before the body", () => {
    const body = JSON.stringify({ errors: [{ message: "Too many requests.", extensions: { code: "RATE_LIMITED", retryAfterSeconds: 7 } }, { message: "second" }] });
    expect(readAnswer(body, null)).toMatchObject({ code: "RATE_LIMITED", message: "Too many requests.", retryAfterMs: 7_000 });
    expect(readAnswer(body, "2").retryAfterMs).toBe(2_000);
    expect(readAnswer(body, "0").retryAfterMs).toBe(0);
    expect(readAnswer(body, new Date(Date.now() + 60_000).toUTCString()).retryAfterMs).toBeGreaterThan(50_000);
    expect(readAnswer(body, "soon").retryAfterMs).toBe(7_000);
    expect(readAnswer(body, null).errors).toHaveLength(2);
  });

  it("reads a body that is not JSON, or not an object, as no body and no errors", () => {
    for (const text of ["<html>proxy</html>", "", "null", "5", '"x"']) {
      expect(readAnswer(text, null), text).toEqual({ body: undefined, errors: [], first: undefined, code: null, message: null, retryAfterMs: undefined });
    }
    const ok = readAnswer(JSON.stringify({ data: { recordTraces: [{ seq: 1 }] } }), null);
    expect([ok.body?.data?.recordTraces, ok.code, ok.errors]).toEqual([[{ seq: 1 }], null, []]);
    expect(readAnswer(JSON.stringify({ errors: [{ message: 5, extensions: { code: 1 } }] }), null)).toMatchObject({ code: null, message: null });
  });

  it("parseRetryAfter: delay-seconds or an HTTP date, never negative", () => {
    expect(parseRetryAfter("3")).toBe(3_000);
    expect(parseRetryAfter(" ")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter(new Date(Date.now() - 60_000).toUTCString())).toBe(0);
    expect(parseRetryAfter("later")).toBeUndefined();
  });
});

describe("retryDelayMs (one backoff for emitter and shipper)", () => {
  it("honours Retry-After with at most 10% (and 1 s) of jitter, never sooner", () => {
    for (let i = 0; i < 200; i++) {
      const wait = retryDelayMs(3, { initialMs: 100, maxMs: 1_000 }, 5_000);
      expect(wait).toBeGreaterThanOrEqual(5_000);
      expect(wait).toBeLessThanOrEqual(5_500);
    }
    expect(retryDelayMs(1, { initialMs: 100, maxMs: 1_000 }, 0)).toBe(0);
  });

  it("backs off exponentially from initialMs up to maxMs, half of each delay fixed", () => {
    const backoff = { initialMs: 100, maxMs: 1_000 };
    for (let i = 0; i < 200; i++) {
      for (const [attempt, base] of [[1, 100], [2, 200], [3, 400], [4, 800], [5, 1_000], [12, 1_000]] as const) {
        const wait = retryDelayMs(attempt, backoff, undefined);
        expect(wait).toBeGreaterThanOrEqual(base / 2);
        expect(wait).toBeLessThanOrEqual(base);
      }
    }
  });
});

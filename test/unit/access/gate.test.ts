/**
 * The one code -> HTTP status/headers table (src/errors.ts) and the access gate
 * (src/access/gate.ts) on fakes: what each code answers over HTTP and which codes set a
 * GraphQL response's status; what the gate counts (failures per address, requests per key,
 * graphql-ws connections not as requests) and that it logs each failure once, without the key.
 */
import { describe, expect, it } from "vitest";
import type { StoredKey } from "../../../src/access/authenticator.js";
import { Authenticator } from "../../../src/access/authenticator.js";
import { createGate } from "../../../src/access/gate.js";
import { hashApiKey } from "../../../src/access/api-key.js";
import { createRateLimiter, type RateLimiter } from "../../../src/access/rate-limit.js";
import { capturedLogs } from "../../support/logs.js";
import { codeOfHttpStatus, ERROR_CODES, type ErrorCode, graphqlHttpOf, httpStatusOf, TracegateError } from "../../../src/errors.js";

describe("the code -> HTTP status table", () => {
  it("gives each refusal of a whole request its status and headers", () => {
    const of = (code: ErrorCode, extensions?: Record<string, unknown>) => httpStatusOf(extensions ? { code, extensions } : { code });
    expect(of("UNAUTHENTICATED")).toEqual({ status: 401, headers: { "WWW-Authenticate": 'Bearer realm="tracegate"' } });
    expect(of("FORBIDDEN")).toEqual({ status: 403, headers: {} });
    expect(of("RATE_LIMITED", { retryAfterSeconds: 7 })).toEqual({ status: 429, headers: { "Retry-After": "7" } });
    expect(of("RATE_LIMITED")).toEqual({ status: 429, headers: { "Retry-After": "60" } });
    expect(of("BAD_USER_INPUT")).toEqual({ status: 400, headers: {} });
    expect(of("NOT_FOUND")).toEqual({ status: 404, headers: {} });
    expect(of("PAYLOAD_TOO_LARGE")).toEqual({ status: 413, headers: {} });
    expect(of("UNAVAILABLE", { retryAfterSeconds: 5 })).toEqual({ status: 503, headers: { "Retry-After": "5" } });
    for (const code of ["INTERNAL_SERVER_ERROR", "TIMEOUT", "CANCELLED", "NOT_CONFIGURED", "QUERY_TOO_COMPLEX"] as const) {
      expect(of(code), code).toEqual({ status: 500, headers: {} });
    }
  });

  it("sets the status of a GraphQL response only for 401, 413, 429 and 503; the rest are field errors in a 200", () => {
    const responseCodes = ERROR_CODES.filter((code) => graphqlHttpOf(code) !== undefined);
    expect(responseCodes).toEqual(["UNAUTHENTICATED", "RATE_LIMITED", "PAYLOAD_TOO_LARGE", "UNAVAILABLE"]);
    expect(new TracegateError("FORBIDDEN", "no").extensions).toEqual({ code: "FORBIDDEN" });
    expect(new TracegateError("RATE_LIMITED", "slow down", { retryAfterSeconds: 3 }).extensions).toEqual({
      code: "RATE_LIMITED",
      retryAfterSeconds: 3,
      http: { status: 429, headers: { "Retry-After": "3" } },
    });
    expect(new TracegateError("UNAUTHENTICATED", "who").extensions.http).toEqual(httpStatusOf({ code: "UNAUTHENTICATED" }));
  });

  it("reads a status back as its code, for the access log of routes without a GraphQL result", () => {
    expect([200, 400, 401, 403, 404, 413, 429, 503, 500, 502].map(codeOfHttpStatus)).toEqual([
      "OK",
      "BAD_USER_INPUT",
      "UNAUTHENTICATED",
      "FORBIDDEN",
      "NOT_FOUND",
      "PAYLOAD_TOO_LARGE",
      "RATE_LIMITED",
      "UNAVAILABLE",
      "INTERNAL_SERVER_ERROR",
      "INTERNAL_SERVER_ERROR",
    ]);
  });
});

describe("the access gate", () => {
  const KEY = `tgk_${"k".repeat(43)}`;
  const stored: StoredKey = { id: "key_1", name: "one", scopes: ["traces:read"], principals: null, revokedAt: null };
  function gateWith({ requestsPerMinute = 100, failuresPerMinute = 3 } = {}) {
    const keys = new Map([[hashApiKey(KEY), stored]]);
    const authenticator = new Authenticator(
      { findByHash: async (hash) => keys.get(hash) ?? null, findById: async (id) => (id === stored.id ? stored : null) },
      { cacheMs: 0 },
    );
    const consumed: string[] = [];
    const counting = (limiter: RateLimiter): RateLimiter => ({
      consume: async (subject) => {
        consumed.push(subject);
        await limiter.consume(subject);
      },
    });
    const { logger, logged } = capturedLogs();
    const gate = createGate({
      authenticator,
      requests: counting(createRateLimiter(requestsPerMinute)),
      authFailures: counting(createRateLimiter(failuresPerMinute)),
      logger,
    });
    return { gate, consumed, logged, revoke: () => (stored.revokedAt = new Date()), restore: () => (stored.revokedAt = null) };
  }
  const codeOf = (p: Promise<unknown>) => p.then(() => "OK", (e: TracegateError) => e.code);

  it("admits a bearer key over HTTP and counts the request; graphql-ws takes the bare key and counts its operations", async () => {
    const { gate, consumed } = gateWith();
    const told: string[] = [];
    const viewer = await gate.admit(`Bearer ${KEY}`, { address: "a", transport: "http", onKey: (id) => told.push(id) });
    expect(viewer.keyId).toBe("key_1");
    expect(await codeOf(gate.admit(KEY, { address: "a", transport: "export" }))).toBe("UNAUTHENTICATED");
    await gate.admit(KEY, { address: "a", transport: "ws", onKey: (id) => told.push(id) });
    await gate.recheck(viewer, { address: "a", transport: "ws" });
    expect(told).toEqual(["key_1", "key_1"]);
    expect(consumed).toEqual(["key_1", "addr:a", "key_1"]);
  });

  it("logs every failed authentication once, counts it per address and answers RATE_LIMITED over budget", async () => {
    const { gate, logged } = gateWith({ failuresPerMinute: 3 });
    const codes: string[] = [];
    for (const transport of ["ws", "http", "sse", "export", "http"] as const) {
      codes.push(await codeOf(gate.admit("Bearer tgk_unknown-key-0123456789abcdefghijklmnop", { address: "x", transport, requestId: `r-${transport}` })));
    }
    expect(codes).toEqual(["UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED", "RATE_LIMITED", "RATE_LIMITED"]);
    // Another address has its own budget, and a valid key is not held back by a noisy neighbour.
    expect(await codeOf(gate.admit(null, { address: "y", transport: "http" }))).toBe("UNAUTHENTICATED");
    expect(await codeOf(gate.admit(`Bearer ${KEY}`, { address: "x", transport: "http" }))).toBe("OK");
    expect(logged.map((l) => [l.msg, l.level, l.transport, l.address, l.requestId])).toEqual([
      ["authentication failed", 40, "ws", "x", "r-ws"],
      ["authentication failed", 40, "http", "x", "r-http"],
      ["authentication failed", 40, "sse", "x", "r-sse"],
      ["authentication failed", 40, "export", "x", "r-export"],
      ["authentication failed", 40, "http", "x", "r-http"],
      ["authentication failed", 40, "http", "y", null],
    ]);
    expect(JSON.stringify(logged)).not.toContain("tgk_");
  });

  it("counts a key's requests on every transport against one budget", async () => {
    const { gate } = gateWith({ requestsPerMinute: 3 });
    const viewer = await gate.admit(`Bearer ${KEY}`, { address: "a", transport: "http" });
    await gate.admit(`Bearer ${KEY}`, { address: "b", transport: "sse" });
    await gate.recheck(viewer, { address: "c", transport: "ws" });
    const limited = await gate.admit(`Bearer ${KEY}`, { address: "d", transport: "export" }).catch((e: TracegateError) => e);
    expect(limited).toMatchObject({ code: "RATE_LIMITED", extensions: { http: { status: 429 } } });
  });

  it("rechecks a socket's key: a revocation is logged, not counted against the address", async () => {
    const { gate, consumed, logged, revoke, restore } = gateWith();
    const viewer = await gate.admit(KEY, { address: "a", transport: "ws" });
    revoke();
    try {
      expect(await codeOf(gate.recheck(viewer, { address: "a", transport: "ws", requestId: "op-1" }))).toBe("UNAUTHENTICATED");
      expect(await codeOf(gate.admit(KEY, { address: "a", transport: "ws" }))).toBe("UNAUTHENTICATED");
    } finally {
      restore();
    }
    expect(consumed).toEqual(["addr:a"]);
    expect(logged.map((l) => [l.transport, l.requestId])).toEqual([
      ["ws", "op-1"],
      ["ws", null],
    ]);
  });
});

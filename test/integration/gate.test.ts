/**
 * One access gate on every transport (issue 15, src/access/gate.ts), over real sockets: a
 * missing, malformed, unknown, revoked or over-budget key gets the same code over GraphQL
 * POST, SSE, graphql-ws and GET /export, each in its transport's shape (HTTP status and
 * headers from the one code table in src/errors.ts; a graphql-ws close code, or an operation
 * error once the connection is admitted); failed authentications on any transport count
 * against one budget per client address, and each is logged once.
 */
import { describe, expect, it } from "vitest";
import { hashApiKey } from "../../src/access/api-key.js";
import { AUTH_FAILURES_PER_MINUTE } from "../../src/access/rate-limit.js";
import { dataOf } from "../support/harness.js";
import { type Listening, listeningGateways } from "../support/listening.js";
import { capturedLogs } from "../support/logs.js";
import { wsClient, wsExec } from "../support/ws.js";

const TRANSPORTS = ["http", "sse", "ws", "export"] as const;
type Transport = (typeof TRANSPORTS)[number];

/** What one attempt got, in its transport's terms. */
interface Outcome {
  /** extensions.code of the refusal, or OK. */
  code: string;
  /** HTTP status (http, sse, export). */
  status?: number;
  wwwAuthenticate?: string | null;
  retryAfter?: string | null;
  requestId?: string | null;
  /** The close code of a refused graphql-ws connection. */
  close?: number;
  /** Whether an error's extensions leaked the HTTP-only `http` member. */
  httpInBody?: boolean;
}

const QUERY = "{ viewer { keyId } }";

/** A refused or finished response: its status, headers and first error (JSON, or the first SSE event's data). */
async function fromResponse(res: Response): Promise<Outcome> {
  const text = await res.text();
  const type = res.headers.get("content-type") ?? "";
  const json = type.startsWith("text/event-stream") ? /^data: (.*)$/m.exec(text)?.[1] : /^application\/(graphql-response\+)?json/.test(type) ? text : undefined;
  const body = json ? (JSON.parse(json) as { errors?: { extensions?: Record<string, unknown> }[] }) : {};
  const error = body.errors?.[0];
  return {
    code: (error?.extensions?.code as string | undefined) ?? (res.ok ? "OK" : `HTTP ${res.status}`),
    status: res.status,
    wwwAuthenticate: res.headers.get("www-authenticate"),
    retryAfter: res.headers.get("retry-after"),
    requestId: res.headers.get("x-request-id"),
    httpInBody: error?.extensions !== undefined && "http" in error.extensions,
  };
}

/** One attempt over `transport` with a raw Authorization value (null: none sent). */
async function attempt(url: string, transport: Transport, authorization: string | null): Promise<Outcome> {
  const auth: Record<string, string> = authorization === null ? {} : { authorization };
  switch (transport) {
    case "http":
      return fromResponse(
        await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...auth }, body: JSON.stringify({ query: QUERY }) }),
      );
    case "sse": {
      const controller = new AbortController();
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream", ...auth },
        body: JSON.stringify({ query: QUERY }),
        signal: controller.signal,
      });
      // An admitted subscription-less query streams its one result; a refusal is a finished event stream.
      if (res.ok) {
        controller.abort();
        return { code: "OK", status: res.status };
      }
      return fromResponse(res);
    }
    case "export":
      return fromResponse(await fetch(url.replace(/\/graphql$/, "/export?limit=0"), { headers: auth }));
    case "ws": {
      const client = wsClient(url, authorization ?? undefined);
      try {
        const res = await wsExec(client, QUERY);
        const error = res.errors?.[0];
        if (!error) return { code: "OK" };
        return { code: String(error.extensions?.code), httpInBody: error.extensions !== undefined && "http" in error.extensions };
      } catch (e) {
        const event = e as { code?: number; reason?: string };
        if (typeof event.code !== "number") throw e;
        return { code: String(event.reason ?? "").split(":")[0]!, close: event.code };
      } finally {
        await client.dispose();
      }
    }
  }
}

/** The shape each transport gives a refusal with `code`. */
function refusedAs(transport: Transport, code: "UNAUTHENTICATED" | "RATE_LIMITED", { admitted = false } = {}): Partial<Outcome> {
  if (transport === "ws") {
    // A connection is closed (4000 + the HTTP status); an admitted one answers the operation with an error.
    return admitted ? { code, httpInBody: false } : { code, close: code === "UNAUTHENTICATED" ? 4401 : 4429 };
  }
  return code === "UNAUTHENTICATED"
    ? { code, status: 401, wwwAuthenticate: 'Bearer realm="tracegate"', httpInBody: false }
    : { code, status: 429, httpInBody: false };
}

const listening = listeningGateways();
/** A gateway on a real socket whose log the test reads. */
async function start(ratePerMinute = 1_000): Promise<Listening & { logged: Record<string, unknown>[] }> {
  const { logger, logged } = capturedLogs();
  return { ...(await listening({ logger, limits: { ratePerMinute } })), logged };
}

const failures = (logged: Record<string, unknown>[]) => logged.filter((l) => l.msg === "authentication failed");

describe("one gate on every transport", () => {
  it("answers a missing, malformed, unknown or revoked key with UNAUTHENTICATED on each, logged once each", async () => {
    const { gw, url, logged } = await start();
    const revoked = await gw.issueKey(["traces:read"]);
    const id = (dataOf(await gw.raw("{ apiKeys { id } }")) as { apiKeys: { id: string }[] }).apiKeys.at(-1)!.id;
    dataOf(await gw.raw(`mutation { revokeApiKey(id: "${id}") { id } }`));
    const bad: [string, string | null][] = [
      ["no key", null],
      ["not a bearer credential", "Basic dXNlcjpwYXNz"],
      ["an unknown key", `Bearer tgk_${"U".repeat(43)}`],
      ["a revoked key", `Bearer ${revoked}`],
    ];
    for (const [what, authorization] of bad) {
      for (const transport of TRANSPORTS) {
        const before = failures(logged).length;
        const outcome = await attempt(url, transport, authorization);
        expect(outcome, `${what} over ${transport}`).toMatchObject(refusedAs(transport, "UNAUTHENTICATED"));
        // Logged once, by the transport's name, with the request's id where it has one (HTTP).
        const lines = failures(logged).slice(before);
        expect(lines.map((l) => [l.transport, l.level]), `${what} over ${transport}`).toEqual([[transport, 40]]);
        if (transport !== "ws") expect(lines[0]!.requestId).toBe(outcome.requestId);
      }
    }
    expect(JSON.stringify(logged)).not.toContain(revoked);
  });

  it("answers a key over its budget with RATE_LIMITED on each, counting every transport against the key", async () => {
    const { gw, url, logged } = await start(4);
    const key = await gw.issueKey(["traces:read"]);
    // One request per transport spends the budget of 4: the gate counts them all alike.
    for (const transport of TRANSPORTS) expect((await attempt(url, transport, `Bearer ${key}`)).code, transport).toBe("OK");
    for (const transport of TRANSPORTS) {
      const outcome = await attempt(url, transport, `Bearer ${key}`);
      // graphql-ws admits the connection (it is not a request) and refuses the operation.
      expect(outcome, transport).toMatchObject(refusedAs(transport, "RATE_LIMITED", { admitted: true }));
      if (transport !== "ws") expect(Number(outcome.retryAfter), transport).toBeGreaterThan(0);
    }
    // The access log names the key of a refused request.
    const keyId = (await gw.stores.keys.findByHash(hashApiKey(key)))!.id;
    const refusedLines = logged.filter((l) => l.msg === "access" && l.code === "RATE_LIMITED");
    expect(refusedLines.map((l) => l.keyId)).toEqual([keyId, keyId, keyId, keyId]);
    expect(failures(logged)).toEqual([]);
  });

  it("counts failed authentications on every transport against one budget per address", async () => {
    const { gw, url, logged } = await start();
    const unknown = (i: number) => `Bearer tgk_${String(i).padStart(43, "0")}`;
    // Half the budget over graphql-ws, the rest over HTTP, SSE and /export: all UNAUTHENTICATED.
    const plan: Transport[] = [
      ...Array<Transport>(AUTH_FAILURES_PER_MINUTE / 2).fill("ws"),
      ...Array.from({ length: AUTH_FAILURES_PER_MINUTE / 2 }, (_, i) => (["http", "sse", "export"] as const)[i % 3]!),
    ];
    for (const [i, transport] of plan.entries()) {
      expect((await attempt(url, transport, unknown(i))).code, `${i} over ${transport}`).toBe("UNAUTHENTICATED");
    }
    // The budget is spent: the next failure on any transport is RATE_LIMITED.
    for (const transport of TRANSPORTS) {
      const outcome = await attempt(url, transport, unknown(100));
      expect(outcome, transport).toMatchObject(refusedAs(transport, "RATE_LIMITED"));
      if (transport !== "ws") expect(Number(outcome.retryAfter), transport).toBeGreaterThan(0);
    }
    // Every attempt was logged once, by its transport.
    const byTransport = Object.fromEntries(TRANSPORTS.map((t) => [t, failures(logged).filter((l) => l.transport === t).length]));
    expect(byTransport).toEqual({ ws: 15 + 1, http: 5 + 1, sse: 5 + 1, export: 5 + 1 });
    // A valid key from the same address is not held back by the failures.
    for (const transport of TRANSPORTS) expect((await attempt(url, transport, `Bearer ${gw.adminKey}`)).code, transport).toBe("OK");
  });
});

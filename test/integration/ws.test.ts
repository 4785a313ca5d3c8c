/**
 * graphql-ws on a real socket (issue 4): the key at connection_init, codes that survive
 * masking over WebSocket exactly as over HTTP, a key revoked while its socket is open, the
 * per-key rate limit, the connection cap, the init timeout and the message size limit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { pino } from "pino";
import { RecordTracesDocument } from "../gql/graphql.js";
import { createTestGateway, dataOf, type TestGateway } from "../support/harness.js";
import { invoke } from "../support/traces.js";
import { wsClient, wsCloseOf, wsExec } from "../support/ws.js";

const logged: Record<string, unknown>[] = [];
let gw: TestGateway;
let url: string;
const clients: { dispose(): void | Promise<void> }[] = [];
const client = (authorization?: string) => {
  const c = wsClient(url, authorization);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  const logger = pino({ level: "info" }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
  gw = await createTestGateway({
    logger,
    keyCacheMs: 60_000, // revocation must not depend on the cache expiring
    limits: { ratePerMinute: 1_000, wsMaxConnections: 4, wsInitTimeoutMs: 300, maxBodyBytes: 64 * 1024 },
  });
  const { port } = await gw.app.start(0);
  url = `http://127.0.0.1:${port}/graphql`;
  dataOf(await gw.exec(RecordTracesDocument, { input: [invoke("ws-1"), invoke("ws-broken")] }));
});
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await gw.app.stop();
  await gw.close();
});

describe("graphql-ws authentication", () => {
  it("closes a connection without a key, or with an unknown one, with 4401 UNAUTHENTICATED", async () => {
    for (const auth of [undefined, "", "Bearer tgk_" + "B".repeat(43), "not even a key"]) {
      const { code, reason } = await wsCloseOf(client(auth));
      expect(code, String(auth)).toBe(4401);
      expect(reason).toMatch(/^UNAUTHENTICATED/);
    }
  });

  it("accepts the key with or without the Bearer scheme", async () => {
    for (const auth of [`Bearer ${gw.adminKey}`, gw.adminKey]) {
      const res = await wsExec(client(auth), "{ viewer { scopes } }");
      expect(res).toEqual({ data: { viewer: { scopes: ["ADMIN"] } } });
    }
  });

  it("stops serving a key revoked while its socket is open", async () => {
    const key = await gw.issueKey(["traces:read"]);
    const c = client(key);
    expect((await wsExec(c, "{ traces { totalCount } }")).errors).toBeUndefined();
    const id = (dataOf(await gw.raw("{ apiKeys { id name } }")) as { apiKeys: { id: string; name: string }[] }).apiKeys.at(-1)!.id;
    dataOf(await gw.raw(`mutation { revokeApiKey(id: "${id}") { id } }`));
    const after = await wsExec(c, "{ traces { totalCount } }").catch((e: { code: number }) => ({ closed: e.code }));
    expect(JSON.stringify(after)).toMatch(/UNAUTHENTICATED|"closed":4401/);
    expect(JSON.stringify(after)).not.toContain("totalCount\":");
  });
});

describe("error codes over graphql-ws", () => {
  it("carries every client-facing code, without HTTP internals", async () => {
    const reader = client(await gw.issueKey(["traces:read"]));
    const admin = client(gw.adminKey);
    const cases: [ReturnType<typeof client>, string, string][] = [
      [reader, `mutation { recordTraces(input: [{ actionId: "x", capabilityId: "c", principalId: "p", invokedAt: "2026-01-01T00:00:00Z", responseMode: SUMMARY }]) { seq } }`, "FORBIDDEN"],
      [admin, `{ traces(after: "bogus") { totalCount } }`, "INVALID_CURSOR"],
      [admin, `{ traces(first: 501) { totalCount } }`, "BAD_USER_INPUT"],
      [admin, `{ node(id: "${Buffer.from("Nope:1").toString("base64")}") { id } }`, "NOT_FOUND"],
      [admin, `{ traces { totalCount `, "GRAPHQL_PARSE_FAILED"],
      [admin, `{ tracez }`, "GRAPHQL_VALIDATION_FAILED"],
      [admin, `{ ${"a { ".repeat(40)}b${" }".repeat(40)} }`, "QUERY_TOO_COMPLEX"],
      [admin, `mutation { recordTraces(input: [{ actionId: "ws-1", capabilityId: "c", principalId: "p", invokedAt: "2026-01-01T00:00:00Z", responseMode: SUMMARY }]) { seq } }`, "DUPLICATE_ACTION_ID"],
    ];
    for (const [c, query, code] of cases) {
      const res = await wsExec(c, query);
      expect(res.errors?.map((e) => e.extensions?.code), query).toEqual([code]);
      expect(res.errors![0]!.extensions, query).not.toHaveProperty("http");
    }
  });

  it("masks an internal failure with an errorId that the server logs", async () => {
    await gw.db().run(`UPDATE "Trace" SET "payload" = 'not json' WHERE "actionId" = 'ws-broken'`);
    const res = await wsExec(client(gw.adminKey), `{ trace(actionId: "ws-broken") { args } }`);
    const error = res.errors![0]!;
    expect(error.message).toBe("Unexpected error.");
    expect(error.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
    expect(logged.some((l) => l.errorId === error.extensions?.errorId)).toBe(true);
  });
});

describe("graphql-ws limits", () => {
  it("counts operations against the key's rate limit", async () => {
    const small = await createTestGateway({ databaseUrl: gw.databaseUrl, limits: { ratePerMinute: 3 } });
    try {
      const { port } = await small.app.start(0);
      const c = wsClient(`http://127.0.0.1:${port}/graphql`, small.adminKey);
      clients.push(c);
      const codes: unknown[] = [];
      for (let i = 0; i < 4; i++) codes.push((await wsExec(c, "{ viewer { keyId } }")).errors?.[0]?.extensions?.code ?? "ok");
      expect(codes).toEqual(["ok", "ok", "ok", "RATE_LIMITED"]);
    } finally {
      await small.app.stop();
      await small.close();
    }
  });

  it("refuses connections over the cap of authenticated ones with 503 until one closes", async () => {
    const open: WebSocket[] = [];
    const connect = () =>
      new Promise<{ ws: WebSocket } | { status: number }>((resolve, reject) => {
        const ws = new WebSocket(url.replace(/^http/, "ws"), "graphql-transport-ws");
        ws.once("open", () => resolve({ ws }));
        ws.once("unexpected-response", (_req, res) => resolve({ status: res.statusCode ?? 0 }));
        ws.once("error", reject);
      });
    // Let earlier tests' sockets finish closing.
    await new Promise((r) => setTimeout(r, 400));
    // Only authenticated connections count against the cap (unauthenticated ones have their
    // own per-address allowance: test/integration/hostile.test.ts).
    for (let i = 0; i < 4; i++) {
      const r = await connect();
      if (!("ws" in r)) continue;
      open.push(r.ws);
      await new Promise<void>((resolve) => {
        r.ws.once("message", () => resolve()); // connection_ack
        r.ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: gw.adminKey } }));
      });
    }
    expect(open).toHaveLength(4);
    expect(await connect()).toEqual({ status: 503 });
    const first = open.shift()!;
    await new Promise<void>((resolve) => {
      first.once("close", () => resolve());
      first.close();
    });
    await new Promise((r) => setTimeout(r, 100));
    const again = await connect();
    expect("ws" in again).toBe(true);
    if ("ws" in again) open.push(again.ws);
    for (const ws of open) ws.terminate();
  });

  it("closes a connection that never sends connection_init (4408)", async () => {
    await new Promise((r) => setTimeout(r, 200));
    const ws = new WebSocket(url.replace(/^http/, "ws"), "graphql-transport-ws");
    const code = await new Promise<number>((resolve) => ws.once("close", (c) => resolve(c)));
    expect(code).toBe(4408);
  });

  it("closes a connection that sends a message over the size limit (1009)", async () => {
    const ws = new WebSocket(url.replace(/^http/, "ws"), "graphql-transport-ws");
    await new Promise((resolve) => ws.once("open", resolve));
    ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: gw.adminKey, pad: "x".repeat(100 * 1024) } }));
    const code = await new Promise<number>((resolve) => ws.once("close", (c) => resolve(c)));
    expect(code).toBe(1009);
  });
});

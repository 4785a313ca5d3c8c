/**
 * Operations on a real `tracegate serve` process: the request id (X-Request-Id echoed or
 * generated, in masked errors and in graphql-ws errors), one access log line per request
 * with no key material, a warn line per failed authentication, and SIGTERM draining: an
 * in-flight request completes, an open subscription is closed with 1001, the process exits 0.
 */
import { request as httpRequest } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayProcess, PROCESS_ADMIN_KEY, startGatewayProcess } from "../support/process.js";
import { invoke } from "../support/traces.js";

const dataDir = mkdtempSync(join(tmpdir(), "tracegate-ops-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const start = (env: Record<string, string> = {}) => startGatewayProcess({ TRACEGATE_DATA_DIR: dataDir, LOG_LEVEL: "info", ...env });

/** The JSON log lines the process wrote so far. */
function logLines(gw: GatewayProcess): Record<string, any>[] {
  return gw
    .stderr()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, any>);
}

/** Wait for a log line matching `pred` (the line is written when the response closes). */
async function logLine(gw: GatewayProcess, pred: (l: Record<string, any>) => boolean): Promise<Record<string, any>> {
  for (let i = 0; i < 200; i++) {
    const found = logLines(gw).find(pred);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no such log line; stderr:\n${gw.stderr()}`);
}

async function post(url: string, query: string, { key = PROCESS_ADMIN_KEY as string | null, headers = {} as Record<string, string>, variables = undefined as unknown } = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, requestId: res.headers.get("x-request-id"), body: (await res.json()) as { data?: any; errors?: any[] } };
}

const RECORD = `mutation Record($input: [TraceInput!]!) { recordTraces(input: $input) { seq } }`;

describe("request ids and the access log", () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await start();
  });
  afterAll(async () => {
    await gw.stop();
  });

  it("logs one access line for a query, with its key id, operation and outcome, and echoes X-Request-Id", async () => {
    const res = await post(gw.url, "query WhoAmI { viewer { keyId } }", { headers: { "X-Request-Id": "req-abc.123" } });
    expect(res.status).toBe(200);
    expect(res.requestId).toBe("req-abc.123");
    const keyId = res.body.data.viewer.keyId as string;
    const line = await logLine(gw, (l) => l.msg === "access" && l.requestId === "req-abc.123");
    expect(line).toMatchObject({
      level: 30,
      requestId: "req-abc.123",
      keyId,
      operationName: "WhoAmI",
      operationType: "query",
      transport: "http",
      code: "OK",
      status: 200,
      path: "/graphql",
    });
    expect(typeof line.durationMs).toBe("number");
    expect(line.address).toMatch(/127\.0\.0\.1/);
    expect(logLines(gw).filter((l) => l.requestId === "req-abc.123" && l.msg === "access")).toHaveLength(1);
  });

  it("generates an id when none or an unusable one is sent", async () => {
    const none = await post(gw.url, "{ viewer { keyId } }");
    expect(none.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const bad = await post(gw.url, "{ viewer { keyId } }", { headers: { "X-Request-Id": "x".repeat(200) } });
    expect(bad.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const spaced = await post(gw.url, "{ viewer { keyId } }", { headers: { "X-Request-Id": "a b" } });
    expect(spaced.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("logs a refused request and warns of the failed authentication, never with the key", async () => {
    const badKey = "tgk_this-key-does-not-exist-0123456789abcdefghij";
    const res = await post(gw.url, "query Sneak { viewer { keyId } }", { key: badKey });
    expect(res.status).toBe(401);
    expect(res.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const access = await logLine(gw, (l) => l.msg === "access" && l.requestId === res.requestId);
    expect(access).toMatchObject({ level: 30, code: "UNAUTHENTICATED", status: 401, keyId: null, transport: "http" });
    const warn = await logLine(gw, (l) => l.msg === "authentication failed" && l.requestId === res.requestId);
    expect(warn).toMatchObject({ level: 40, transport: "http", reason: "The API key is unknown or revoked." });
    expect(warn.address).toMatch(/127\.0\.0\.1/);
    // The refused export and graphql-ws connection warn too.
    const exp = await fetch(gw.url.replace(/\/graphql$/, "/export"), { headers: { authorization: `Bearer ${badKey}` } });
    expect(exp.status).toBe(401);
    const exportId = exp.headers.get("x-request-id");
    await logLine(gw, (l) => l.msg === "authentication failed" && l.requestId === exportId);
    await logLine(gw, (l) => l.msg === "access" && l.requestId === exportId && l.code === "UNAUTHENTICATED" && l.path === "/export");
    const close = await new Promise<number>((resolve) => {
      const ws = new WebSocket(gw.url.replace(/^http/, "ws"), "graphql-transport-ws");
      ws.on("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${badKey}` } })));
      ws.on("close", (code) => resolve(code));
    });
    expect(close).toBe(4401);
    await logLine(gw, (l) => l.msg === "authentication failed" && l.transport === "ws");
    expect(gw.stderr()).not.toContain(badKey);
    expect(gw.stderr()).not.toContain(PROCESS_ADMIN_KEY);
  });

  it("puts the request id next to the errorId of a masked error", async () => {
    expect((await post(gw.url, RECORD, { variables: { input: [invoke("ops-1")] } })).body.errors).toBeUndefined();
    const db = new Database(join(dataDir, "tracegate.db"));
    try {
      db.prepare(`UPDATE "Trace" SET "payload" = 'not json' WHERE "actionId" = 'ops-1'`).run();
    } finally {
      db.close();
    }
    const res = await post(gw.url, `query One { trace(actionId: "ops-1") { actionId args resultSummary } }`, { headers: { "X-Request-Id": "masked-1" } });
    expect(res.body.errors, JSON.stringify(res.body)).toBeDefined();
    const error = res.body.errors![0];
    expect(error.extensions).toMatchObject({ code: "INTERNAL_SERVER_ERROR", requestId: "masked-1" });
    expect(error.extensions.errorId).toMatch(/^[0-9a-f-]{36}$/);
    const logged = await logLine(gw, (l) => l.errorId === error.extensions.errorId);
    expect(logged.requestId).toBe("masked-1");
    const access = await logLine(gw, (l) => l.msg === "access" && l.requestId === "masked-1");
    expect(access.code).toBe("INTERNAL_SERVER_ERROR");
    // Repair the row for the tests that follow.
    const fix = new Database(join(dataDir, "tracegate.db"));
    fix.prepare(`DELETE FROM "Trace" WHERE "actionId" = 'ops-1'`).run();
    fix.close();
  });

  it("does not log probes and metrics at info level", async () => {
    const base = gw.url.replace(/\/graphql$/, "");
    for (const path of ["/healthz", "/metrics"]) {
      const res = await fetch(base + path);
      expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      await res.arrayBuffer();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(logLines(gw).filter((l) => l.msg === "access" && (l.path === "/healthz" || l.path === "/metrics"))).toHaveLength(0);
  });

  it("gives each graphql-ws operation a request id, in its errors and its access line", async () => {
    const messages: any[] = [];
    await new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(gw.url.replace(/^http/, "ws"), "graphql-transport-ws");
      ws.on("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${PROCESS_ADMIN_KEY}` } })));
      ws.on("message", (data) => {
        const m = JSON.parse(String(data));
        if (m.type === "connection_ack") {
          ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: "query Bad { nope }" } }));
          ws.send(JSON.stringify({ id: "2", type: "subscribe", payload: { query: "query Me { viewer { keyId } }" } }));
        } else {
          messages.push(m);
          if (messages.some((x) => x.id === "1" && x.type === "error") && messages.some((x) => x.id === "2" && x.type === "complete")) {
            ws.close();
            resolve();
          }
        }
      });
      ws.on("error", reject);
    });
    const error = messages.find((m) => m.id === "1" && m.type === "error");
    const requestId = error.payload[0].extensions.requestId;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await logLine(gw, (l) => l.msg === "access" && l.requestId === requestId)).toMatchObject({
      transport: "ws",
      operationName: "Bad",
      code: "GRAPHQL_VALIDATION_FAILED",
    });
    expect(await logLine(gw, (l) => l.msg === "access" && l.transport === "ws" && l.operationName === "Me")).toMatchObject({
      code: "OK",
      operationType: "query",
    });
  });
});

describe("SIGTERM drains", () => {
  it("lets an in-flight request finish, closes subscriptions with 1001 and exits 0", async () => {
    const gw = await start({ TRACEGATE_SHUTDOWN_GRACE_MS: "15000" });
    const url = new URL(gw.url);

    // An open subscription over graphql-ws.
    const ws = new WebSocket(gw.url.replace(/^http/, "ws"), "graphql-transport-ws");
    const subscribed = new Promise<void>((resolve) => {
      ws.on("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${PROCESS_ADMIN_KEY}` } })));
      ws.on("message", (data) => {
        const m = JSON.parse(String(data));
        if (m.type === "connection_ack") {
          ws.send(JSON.stringify({ id: "s", type: "subscribe", payload: { query: "subscription { traceRecorded { trace { seq } } }" } }));
          setTimeout(resolve, 300);
        }
      });
    });
    const wsClosed = new Promise<{ code: number; reason: string }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: String(reason) })));
    await subscribed;

    // A request held in flight by its client: headers and half the body now, the rest after SIGTERM.
    const body = JSON.stringify({ query: RECORD, variables: { input: [invoke("drain-1")] } });
    const half = Math.floor(body.length / 2);
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        { host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization: `Bearer ${PROCESS_ADMIN_KEY}` } },
        (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on("error", reject);
      req.write(body.slice(0, half));
      setTimeout(() => {
        // SIGTERM while the request is in flight; finish the body a little later.
        gw.child.kill("SIGTERM");
        setTimeout(() => req.end(body.slice(half)), 700);
      }, 200);
    });
    const exited = new Promise<number | null>((resolve) => gw.child.once("exit", (code) => resolve(code)));

    const closed = await wsClosed;
    expect(closed.code).toBe(1001);
    const res = await response;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ data: { recordTraces: [{ seq: expect.any(Number) }] } });
    expect(await exited).toBe(0);
    // No new connections were accepted while draining, and the log says it stopped.
    expect(logLines(gw).some((l) => l.msg === "stopped")).toBe(true);
  }, 300_000);

  it("cuts what is still open at the deadline and exits 0", async () => {
    const gw = await start({ TRACEGATE_SHUTDOWN_GRACE_MS: "500" });
    const url = new URL(gw.url);
    const cut = new Promise<string>((resolve) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { "content-type": "application/json", "content-length": 1000, authorization: `Bearer ${PROCESS_ADMIN_KEY}` } });
      req.on("error", (e) => resolve(e.message));
      req.on("response", () => resolve("answered"));
      req.write("{");
    });
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    expect(await gw.stop()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await cut).not.toBe("answered");
    expect(logLines(gw).some((l) => l.msg.startsWith("shutdown deadline passed") && l.destroyed === 1)).toBe(true);
  }, 300_000);
});

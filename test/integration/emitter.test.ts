/**
 * The client emitter (src/client) against a real gateway over real HTTP: ordering, an
 * outage at start, a slow gateway, the bounded buffer, refusals that must not be retried,
 * 429 with Retry-After, close() and the allow-list. Where a test must see or shape the
 * traffic, a small HTTP proxy sits between emitter and gateway.
 */
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createTraceEmitter, type DropReason, type EmitTrace, type TraceEmitter, type TraceEmitterError, type TraceEmitterOptions } from "../../src/client/index.js";
import { BACKENDS } from "../support/backends.js";
import { createTestGateway, type GatewayOptions, type TestGateway } from "../support/harness.js";
import { deny, invoke } from "../support/traces.js";
import { sleep } from "../support/wait.js";

const gateways: TestGateway[] = [];
const emitters: TraceEmitter[] = [];
const servers: Server[] = [];

afterEach(async () => {
  // A failing test must not leave an emitter retrying into the next one.
  await Promise.all(emitters.splice(0).map((e) => e.close({ timeoutMs: 50 })));
});
afterAll(async () => {
  for (const s of servers) await closeServer(s);
  for (const gw of gateways) {
    await gw.app.stop();
    await gw.close();
  }
});

async function gateway(options: GatewayOptions = {}): Promise<TestGateway> {
  const gw = await createTestGateway(options);
  gateways.push(gw);
  return gw;
}

/** A gateway listening on an ephemeral port; returns it with its /graphql URL. */
async function listening(options: GatewayOptions = {}): Promise<{ gw: TestGateway; url: string }> {
  const gw = await gateway(options);
  const { port } = await gw.app.start(0);
  return { gw, url: `http://127.0.0.1:${port}/graphql` };
}

/** Every drop and error an emitter reports, flattened. */
interface Reports {
  drops: { reason: DropReason; actionIds: string[]; code: string | undefined }[];
  errors: TraceEmitterError[];
  dropped(reason: DropReason): string[];
}

function emitter(options: Omit<TraceEmitterOptions, "onDrop" | "onError">): { em: TraceEmitter; reports: Reports } {
  const reports: Reports = {
    drops: [],
    errors: [],
    dropped: (reason) => reports.drops.filter((d) => d.reason === reason).flatMap((d) => d.actionIds),
  };
  const em = createTraceEmitter({
    ...options,
    onDrop: (traces, reason, error) => reports.drops.push({ reason, actionIds: traces.map((t) => t?.actionId), code: error?.code }),
    onError: (error) => reports.errors.push(error),
  });
  emitters.push(em);
  return { em, reports };
}

/** actionIds in chain order, read straight from the database (no API request: the rate-limit test counts those). */
async function stored(gw: TestGateway): Promise<string[]> {
  const rows = await gw.db().all<{ actionId: string }>(`SELECT "actionId" FROM "Trace" ORDER BY "seq"`);
  return rows.map((r) => r.actionId);
}

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}


const ids = (prefix: string, n: number, from = 0) => Array.from({ length: n }, (_, i) => `${prefix}-${String(from + i).padStart(5, "0")}`);

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as { port: number };
  await new Promise((resolve) => s.close(resolve));
  return port;
}

function closeServer(s: Server): Promise<void> {
  return new Promise((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  });
}

interface ProxyRequest {
  /** performance.now() when the request arrived. */
  at: number;
  traces: number;
  status: number;
}

interface Proxy {
  url: string;
  requests: ProxyRequest[];
  /** Most requests ever open at once. */
  maxConcurrent: number;
  /** Added before forwarding each request. */
  delayMs: number;
  /** Overrides delayMs for the nth request (1-based). */
  delayFor?: (n: number) => number;
  /** Answer the nth request (1-based) itself instead of forwarding it. */
  intercept?: (n: number) => { status: number; headers: Record<string, string>; body: string } | undefined;
}

/** An HTTP proxy in front of a gateway that counts, delays or answers requests. */
async function proxy(target: string): Promise<Proxy> {
  let open = 0;
  const p: Proxy = { url: "", requests: [], maxConcurrent: 0, delayMs: 0 };
  const server = createServer(async (req, res) => {
    open++;
    p.maxConcurrent = Math.max(p.maxConcurrent, open);
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks).toString("utf8");
      const entry: ProxyRequest = { at: performance.now(), traces: (JSON.parse(body) as { variables: { input: unknown[] } }).variables.input.length, status: 0 };
      p.requests.push(entry);
      const answer = p.intercept?.(p.requests.length);
      if (answer) {
        entry.status = answer.status;
        res.writeHead(answer.status, answer.headers).end(answer.body);
        return;
      }
      const delay = p.delayFor?.(p.requests.length) ?? p.delayMs;
      if (delay > 0) await sleep(delay);
      const up = await fetch(target, {
        method: "POST",
        headers: { "content-type": "application/json", accept: req.headers.accept ?? "", authorization: req.headers.authorization ?? "" },
        body,
      });
      const headers: Record<string, string> = { "content-type": up.headers.get("content-type") ?? "application/json" };
      const retryAfter = up.headers.get("retry-after");
      if (retryAfter !== null) headers["retry-after"] = retryAfter;
      entry.status = up.status;
      res.writeHead(up.status, headers).end(await up.text());
    } catch {
      if (!res.headersSent) res.writeHead(502).end();
    } finally {
      open--;
    }
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  p.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/graphql`;
  return p;
}

describe("createTraceEmitter", () => {
  it("delivers every trace in emit order, batched, and the chain verifies", async () => {
    const { gw, url } = await listening();
    const px = await proxy(url);
    const { em, reports } = emitter({ url: px.url, apiKey: gw.adminKey, batchSize: 100 });
    const want = ids("hp", 1_000);
    want.forEach((id, i) => em.emit(i % 10 === 9 ? deny(id, "missing_role") : invoke(id)));
    await em.flush();

    expect(await stored(gw)).toEqual(want);
    expect(px.requests.map((r) => r.traces)).toEqual(Array(10).fill(100));
    expect(px.maxConcurrent).toBe(1);
    expect(em.stats()).toEqual({ queued: 0, inFlight: 0, sent: 1_000, dropped: 0, failed: 0, filtered: 0, retries: 0, requests: 10 });
    expect(reports.drops).toEqual([]);
    const verified = await gw.raw("{ verifyChain { ok checked } }");
    expect(verified.data?.verifyChain).toEqual({ ok: true, checked: 1_000 });
  });

  it("sends bigints with every digit and strings cut inside an emoji exactly; the payload holds them as hashed", async () => {
    const { gw, url } = await listening();
    const { em, reports } = emitter({ url, apiKey: await gw.issueKey(["traces:write"]) });
    const cut = "launch 🚀 ok".slice(0, 8); // "launch \ud83d"
    em.emit({ ...invoke("exact-1"), args: { accountId: 750727362669608961n, note: cut, look: "tracegate-bigint-x:12", n: [-5n, 3] } });
    await em.flush();
    expect(reports.drops).toEqual([]);
    const rows = await gw.db().all<{ payload: string }>(`SELECT "payload" FROM "Trace" WHERE "actionId" = 'exact-1'`);
    expect(rows[0]!.payload).toContain(String.raw`"args":{"accountId":750727362669608961,"look":"tracegate-bigint-x:12","n":[-5,3],"note":"launch \ud83d"}`);
    // Numbers JSON.stringify would change are refused, never sent altered.
    for (const [id, args] of [["inexact-1", { n: 2 ** 60 }], ["inexact-2", { x: [Number.NaN] }], ["inexact-3", { y: { z: Number.POSITIVE_INFINITY } }]] as const) {
      em.emit({ ...invoke(id), args });
    }
    await em.flush();
    expect(reports.drops.map((d) => [d.reason, d.actionIds])).toEqual([
      ["invalid", ["inexact-1"]],
      ["invalid", ["inexact-2"]],
      ["invalid", ["inexact-3"]],
    ]);
    expect(await gw.db().all(`SELECT 1 FROM "Trace" WHERE "actionId" LIKE 'inexact-%'`)).toEqual([]);
  });

  it("sends a partial batch after flushIntervalMs without flush()", async () => {
    const { gw, url } = await listening();
    const { em } = emitter({ url, apiKey: gw.adminKey, batchSize: 100, flushIntervalMs: 100 });
    for (const id of ids("tick", 7)) em.emit(invoke(id));
    await until("the timer flush", () => em.stats().sent === 7, 5_000);
    expect(await stored(gw)).toEqual(ids("tick", 7));
  });

  it("loses nothing within the buffer while the gateway is down at first", async () => {
    const port = await freePort();
    const gw = await gateway();
    const { em, reports } = emitter({ url: `http://127.0.0.1:${port}/graphql`, apiKey: gw.adminKey, batchSize: 100, retry: { initialMs: 20, maxMs: 100 } });
    const want = ids("down", 2_000);
    for (const id of want) em.emit(invoke(id));
    await until("three failed attempts", () => reports.errors.length >= 3);
    expect(reports.errors.every((e) => e.code === "NETWORK_ERROR" && e.retryable && e.retryInMs! > 0)).toBe(true);
    expect(em.stats()).toMatchObject({ queued: 2_000, sent: 0, dropped: 0, failed: 0 });

    await gw.app.start(port);
    await em.flush();
    expect(await stored(gw)).toEqual(want);
    expect(em.stats()).toMatchObject({ queued: 0, sent: 2_000, dropped: 0, failed: 0 });
    expect(em.stats().retries).toBeGreaterThanOrEqual(3);
    expect(reports.drops).toEqual([]);
  });

  it("never blocks the caller on a slow gateway, one request at a time, order kept", async () => {
    const { gw, url } = await listening();
    const px = await proxy(url);
    px.delayMs = 250;
    const flushIntervalMs = 1_000;
    const { em } = emitter({ url: px.url, apiKey: gw.adminKey, batchSize: 1_000, flushIntervalMs, maxBuffer: 20_000 });
    const first = ids("slow", 1_000);
    for (const id of first) em.emit(invoke(id));
    await until("a request held by the proxy", () => px.requests.length === 1 && em.stats().inFlight === 1_000);

    // 10,000 emits while a request hangs: their cost is serialisation only, never the network.
    const rest = ids("slow", 10_000, 1_000);
    const traces = rest.map((id) => invoke(id));
    const t0 = performance.now();
    for (const t of traces) em.emit(t);
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeLessThan(flushIntervalMs / 4);
    expect(em.stats().queued).toBe(11_000);

    await em.flush();
    expect(await stored(gw)).toEqual([...first, ...rest]);
    expect(px.maxConcurrent).toBe(1);
    expect(px.requests.map((r) => r.traces)).toEqual(Array(11).fill(1_000));
  });

  it("re-sends a timed-out batch; the gateway acknowledges the copy that arrives second instead of duplicating it", async () => {
    const { gw, url } = await listening();
    const px = await proxy(url);
    px.delayFor = (n) => (n === 1 ? 600 : 0); // the first request reaches the gateway late, after the retry
    const { em, reports } = emitter({ url: px.url, apiKey: gw.adminKey, batchSize: 10, requestTimeoutMs: 200, retry: { initialMs: 10, maxMs: 20 } });
    for (const id of ids("to", 10)) em.emit(invoke(id));
    await em.flush();
    expect(reports.errors.map((e) => [e.code, e.retryable])).toEqual([["TIMEOUT", true]]);
    await until("the abandoned request to be answered", () => px.requests[0]!.status !== 0);
    expect(px.requests.map((r) => r.status)).toEqual([200, 200]);
    expect(await stored(gw)).toEqual(ids("to", 10));
    expect((await gw.raw("{ verifyChain { ok checked } }")).data?.verifyChain).toEqual({ ok: true, checked: 10 });
    expect(em.stats()).toMatchObject({ sent: 10, retries: 1, failed: 0 });
  });

  it("drops what exceeds maxBuffer, reports it with exact counts, and delivers the rest", async () => {
    const port = await freePort();
    const gw = await gateway();
    const { em, reports } = emitter({ url: `http://127.0.0.1:${port}/graphql`, apiKey: gw.adminKey, batchSize: 100, maxBuffer: 1_000, retry: { initialMs: 20, maxMs: 50 } });
    const all = ids("full", 1_500);
    for (const id of all) em.emit(invoke(id));
    await until("a failed attempt", () => reports.errors.length >= 1);
    // More while the first batch is being retried: still over the limit.
    const late = ids("full", 250, 1_500);
    for (const id of late) em.emit(invoke(id));
    await sleep(0);

    expect(reports.dropped("buffer_full")).toEqual([...all.slice(1_000), ...late]);
    expect(em.stats()).toMatchObject({ queued: 1_000, dropped: 750, sent: 0 });

    await gw.app.start(port);
    await em.flush();
    expect(await stored(gw)).toEqual(all.slice(0, 1_000));
    expect(em.stats()).toMatchObject({ queued: 0, dropped: 750, sent: 1_000, failed: 0 });
    expect(reports.drops.every((d) => d.reason === "buffer_full")).toBe(true);
  });

  it("drops exactly the trace a BAD_USER_INPUT names, never retries it, and sends the rest", async () => {
    const { gw, url } = await listening();
    const px = await proxy(url);
    const { em, reports } = emitter({ url: px.url, apiKey: gw.adminKey, batchSize: 100, retry: { initialMs: 5, maxMs: 10 } });
    for (const id of ids("ok", 5)) em.emit(invoke(id));
    await em.flush();
    // Passes the client's cheap checks (a non-empty string), fails the gateway's DateTime.
    const bad = [invoke("bad-0"), invoke("bad-1", { invokedAt: "not-a-date" }), invoke("bad-2")];
    for (const t of bad) em.emit(t);
    await em.flush();
    await sleep(300); // 30x the largest backoff: a retry would have happened by now
    expect(px.requests.map((r) => [r.status, r.traces])).toEqual([[200, 5], [400, 3], [200, 2]]);

    for (const id of ids("ok", 3, 5)) em.emit(invoke(id));
    await em.flush();
    expect(px.requests).toHaveLength(4);
    expect(await stored(gw)).toEqual([...ids("ok", 5), "bad-0", "bad-2", ...ids("ok", 3, 5)]);
    expect(reports.errors).toHaveLength(1);
    expect(reports.errors[0]).toMatchObject({ code: "BAD_USER_INPUT", status: 400, retryable: false, attempt: 1, retryInMs: undefined, traceIndex: 1 });
    expect(reports.drops).toEqual([{ reason: "rejected", actionIds: ["bad-1"], code: "BAD_USER_INPUT" }]);
    expect(em.stats()).toMatchObject({ sent: 10, failed: 1, dropped: 0, retries: 0, requests: 4 });
  });

  it("drops the whole batch when a refusal names no trace (a revoked key)", async () => {
    const { gw, url } = await listening();
    const { em, reports } = emitter({ url, apiKey: "tgk_not-a-key", batchSize: 100, retry: { initialMs: 5, maxMs: 10 } });
    em.emit(invoke("k-0"));
    em.emit(invoke("k-1"));
    await em.flush();
    expect(reports.drops).toEqual([{ reason: "rejected", actionIds: ["k-0", "k-1"], code: "UNAUTHENTICATED" }]);
    expect(await stored(gw)).toEqual([]);
  });

  it("acknowledges identical re-sends, splits in-batch repeats, and refuses a changed trace with DUPLICATE_ACTION_ID", async () => {
    const { gw, url } = await listening();
    const px = await proxy(url);
    const { em, reports } = emitter({ url: px.url, apiKey: gw.adminKey, batchSize: 100 });
    em.emit(invoke("dup-1"));
    em.emit(invoke("dup-2"));
    em.emit(invoke("dup-1")); // identical: the gateway would refuse it within one batch
    await em.flush();
    expect(px.requests.map((r) => r.traces)).toEqual([2, 1]);
    expect(reports.errors).toEqual([]);

    em.emit(invoke("dup-2", { capabilityId: "billing.refund" }));
    await em.flush();
    await sleep(100);
    expect(px.requests).toHaveLength(3);
    expect(reports.errors.map((e) => e.code)).toEqual(["DUPLICATE_ACTION_ID"]);
    expect(reports.drops).toEqual([{ reason: "rejected", actionIds: ["dup-2"], code: "DUPLICATE_ACTION_ID" }]);
    expect(await stored(gw)).toEqual(["dup-1", "dup-2"]);
    expect(em.stats()).toMatchObject({ sent: 3, failed: 1 });
  });

  it("does not send again before the gateway's Retry-After on a real 429", async () => {
    const { gw, url } = await listening({ limits: { ratePerMinute: 2 } });
    const px = await proxy(url);
    const { em, reports } = emitter({ url: px.url, apiKey: gw.adminKey, batchSize: 10, retry: { initialMs: 5, maxMs: 10 } });
    for (const id of ids("rl", 20)) em.emit(invoke(id)); // two requests: the whole budget
    await em.flush();
    for (const id of ids("rl", 10, 20)) em.emit(invoke(id));
    await until("the 429", () => reports.errors.length === 1);

    const error = reports.errors[0]!;
    expect(error).toMatchObject({ code: "RATE_LIMITED", status: 429, retryable: true, attempt: 1 });
    expect(error.retryAfterMs).toBeGreaterThanOrEqual(50_000); // the gateway's window is a minute
    expect(error.retryInMs).toBeGreaterThanOrEqual(error.retryAfterMs!);
    await sleep(1_000); // 100x the configured backoff
    expect(px.requests.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(em.stats()).toMatchObject({ queued: 10, sent: 20 });

    // Nobody waits a minute here: close() gives up and reports the batch.
    await em.close({ timeoutMs: 50 });
    expect(reports.dropped("closed")).toEqual(ids("rl", 10, 20));
    expect(em.stats()).toMatchObject({ queued: 0, dropped: 10, sent: 20 });
    expect(await stored(gw)).toEqual(ids("rl", 20));
  });

  it("retries a 429 once its Retry-After has passed", async () => {
    const { gw, url } = await listening();
    const px = await proxy(url);
    // The gateway's own 429 (status, header, body) for the first request; later ones pass.
    px.intercept = (n) =>
      n === 1
        ? {
            status: 429,
            headers: { "content-type": "application/graphql-response+json; charset=utf-8", "retry-after": "1" },
            body: JSON.stringify({ errors: [{ message: "Rate limit exceeded", extensions: { code: "RATE_LIMITED", retryAfterSeconds: 1 } }] }),
          }
        : undefined;
    const { em, reports } = emitter({ url: px.url, apiKey: gw.adminKey, batchSize: 10, retry: { initialMs: 5, maxMs: 10 } });
    for (const id of ids("ra", 10)) em.emit(invoke(id));
    await em.flush();

    expect(px.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(px.requests[1]!.at - px.requests[0]!.at).toBeGreaterThanOrEqual(990);
    expect(reports.errors[0]).toMatchObject({ code: "RATE_LIMITED", retryAfterMs: 1_000 });
    expect(await stored(gw)).toEqual(ids("ra", 10));
    expect(em.stats()).toMatchObject({ sent: 10, retries: 1, requests: 2 });
  });

  it("retries 503 and 5xx with backoff, keeping the batch at the head", async () => {
    const { gw, url } = await listening();
    const px = await proxy(url);
    px.intercept = (n) => (n <= 2 ? { status: n === 1 ? 503 : 502, headers: { "content-type": "text/html" }, body: "<h1>down</h1>" } : undefined);
    const { em, reports } = emitter({ url: px.url, apiKey: gw.adminKey, batchSize: 5, retry: { initialMs: 20, maxMs: 40 } });
    for (const id of ids("5xx", 12)) em.emit(invoke(id));
    await em.flush();
    expect(px.requests.map((r) => [r.status, r.traces])).toEqual([[503, 5], [502, 5], [200, 5], [200, 5], [200, 2]]);
    expect(reports.errors.map((e) => e.code)).toEqual(["HTTP_503", "HTTP_502"]);
    expect(await stored(gw)).toEqual(ids("5xx", 12));
  });

  it("close() flushes what was emitted before it; later emits are dropped as closed", async () => {
    const { gw, url } = await listening();
    const { em, reports } = emitter({ url, apiKey: gw.adminKey, batchSize: 1_000, flushIntervalMs: 60_000 });
    for (const id of ids("close", 250)) em.emit(invoke(id));
    expect(em.stats().sent).toBe(0);
    await em.close();
    expect(await stored(gw)).toEqual(ids("close", 250));
    em.emit(invoke("after-close"));
    await sleep(0);
    expect(reports.dropped("closed")).toEqual(["after-close"]);
    expect(em.stats()).toMatchObject({ sent: 250, dropped: 1, queued: 0 });
  });

  it("close({ timeoutMs }) gives up on an unreachable gateway and reports what it abandons", async () => {
    const port = await freePort();
    const { em, reports } = emitter({ url: `http://127.0.0.1:${port}/graphql`, apiKey: "tgk_unused", retry: { initialMs: 20, maxMs: 50 } });
    for (const id of ids("gone", 50)) em.emit(invoke(id));
    const t0 = performance.now();
    await em.close({ timeoutMs: 200 });
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(reports.dropped("closed")).toEqual(ids("gone", 50));
    expect(em.stats()).toMatchObject({ queued: 0, inFlight: 0, dropped: 50, sent: 0 });
  });

  it("sends only what the allow-list allows and counts the rest as filtered", async () => {
    const { gw, url } = await listening();
    const { em, reports } = emitter({ url, apiKey: gw.adminKey, allow: { eventTypes: ["DENY", "EXPAND"], capabilities: [/^billing\./g, "crm.export"] } });
    em.emit(invoke("al-1")); // INVOKE: filtered
    em.emit(deny("al-2", "missing_role")); // billing.list_invoices: sent
    em.emit(deny("al-3", "missing_role", { capabilityId: "crm.export" })); // sent
    em.emit(deny("al-4", "missing_role", { capabilityId: "crm.read" })); // filtered
    em.emit(deny("al-5", "missing_role", { capabilityId: "billingX.refund" })); // filtered
    em.emit(invoke("al-6", { eventType: "EXPAND" })); // sent (the /g pattern matches every time)
    em.emit(invoke("al-7", { eventType: null, capabilityId: "crm.export" })); // null = INVOKE: filtered
    await em.flush();
    expect(await stored(gw)).toEqual(["al-2", "al-3", "al-6"]);
    expect(em.stats()).toMatchObject({ sent: 3, filtered: 4, dropped: 0 });
    expect(reports.drops).toEqual([]);
  });

  it("never throws from emit(): malformed traces and throwing callbacks are contained", async () => {
    const { gw, url } = await listening();
    const px = await proxy(url);
    const reasons: string[] = [];
    const em = createTraceEmitter({
      url: px.url,
      apiKey: gw.adminKey,
      onDrop: (traces, reason, error) => {
        reasons.push(`${reason}:${error?.code}:${traces.length}`);
        throw new Error("callback bug");
      },
      onError: () => {
        throw new Error("callback bug");
      },
    });
    emitters.push(em);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const malformed: unknown[] = [
      null,
      "trace",
      {},
      invoke(""),
      invoke("m-1", { responseMode: "LOUD" as never }),
      invoke("m-2", { eventType: "invoke" as never }),
      invoke("m-3", { invokedAt: new Date(Number.NaN) as never }),
      invoke("m-4", { args: [] as never }),
      invoke("m-5", { args: { n: Number.NaN } }), // (a bigint is fine: sent with every digit)
      invoke("m-6", { args: cyclic }),
      invoke("x".repeat(1_025)),
      invoke("審".repeat(342)), // 342 characters, 1,026 UTF-8 bytes: over the gateway's byte cap
      Object.defineProperty({ ...invoke("m-7") }, "capabilityId", {
        get() {
          throw new Error("hostile getter");
        },
      }),
    ];
    for (const t of malformed) expect(() => em.emit(t as EmitTrace)).not.toThrow();
    // A Date is accepted, and unknown properties are not sent (GraphQL would refuse them).
    em.emit({ ...invoke("m-ok"), invokedAt: new Date(Date.UTC(2026, 0, 1)), extra: 1 } as EmitTrace);
    em.emit(invoke(`m${"審".repeat(341)}`, { tokenId: "t", handleId: "h" })); // exactly 1,024 UTF-8 bytes: sent and stored
    await em.flush();
    expect(reasons).toEqual(Array(malformed.length).fill("invalid:INVALID_TRACE:1"));
    expect(px.requests).toHaveLength(1);
    expect((await stored(gw)).sort()).toEqual(["m-ok", `m${"審".repeat(341)}`].sort());
    expect(em.stats()).toMatchObject({ sent: 2, dropped: malformed.length });
  });

  it("refuses bad options at construction", () => {
    expect(() => createTraceEmitter({ url: "not a url", apiKey: "k" })).toThrow(TypeError);
    expect(() => createTraceEmitter({ url: "http://x/graphql", apiKey: "" })).toThrow(TypeError);
    expect(() => createTraceEmitter({ url: "http://x/graphql", apiKey: "k", batchSize: 5_001 })).toThrow(RangeError);
    expect(() => createTraceEmitter({ url: "http://x/graphql", apiKey: "k", flushIntervalMs: 0 })).toThrow(RangeError);
  });

  it("never keeps a process alive: a script that emits and returns exits while retrying", async () => {
    const port = await freePort();
    const script = `
      import { createTraceEmitter } from "./src/client/index.ts";
      const em = createTraceEmitter({ url: "http://127.0.0.1:${port}/graphql", apiKey: "k", batchSize: 1, flushIntervalMs: 50 });
      em.emit({ actionId: "a", capabilityId: "c", principalId: "p", invokedAt: new Date(), responseMode: "RAW" });
      setTimeout(() => console.log("requests", em.stats().requests), 300);
    `;
    const t0 = performance.now();
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: process.cwd(), timeout: 120_000 }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    );
    expect(out).toMatch(/^requests [1-9]/);
    expect(performance.now() - t0).toBeLessThan(15_000);
  });
});

describe.each(BACKENDS)("$name: a poison trace (issue 14, case 4)", (backend) => {
  it.each([
    ["a NUL in principalId", { principalId: "alice\u0000" }, "input[0].principalId"],
    ["a lone surrogate in actionId's neighbour handleId", { handleId: "h-\ud800" }, "input[0].handleId"],
  ])("%s is dropped alone, never retried, and the 20 traces behind it are stored", async (_name, poison, field) => {
    const { gw, url } = await listening({ backend });
    const px = await proxy(url);
    const { em, reports } = emitter({ url: px.url, apiKey: gw.adminKey, batchSize: 100, retry: { initialMs: 5, maxMs: 10 } });
    em.emit(invoke("poison", poison));
    const good = ids("good", 20);
    for (const id of good) em.emit(invoke(id));
    await em.close({ timeoutMs: 10_000 });
    expect(await stored(gw)).toEqual(good);
    expect(px.requests.map((r) => [r.status, r.traces])).toEqual([[200, 21], [200, 20]]); // a resolver refusal answers 200 with errors: the code decides
    expect(reports.drops).toEqual([{ reason: "rejected", actionIds: ["poison"], code: "BAD_USER_INPUT" }]);
    expect(reports.errors.map((e) => [e.code, e.retryable, e.traceIndex, (e.errors?.[0] as { extensions?: { field?: string } })?.extensions?.field])).toEqual([
      ["BAD_USER_INPUT", false, 0, field],
    ]);
    expect(em.stats()).toMatchObject({ sent: 20, failed: 1, retries: 0, queued: 0 });
  });

  it("a poison trace in the middle: exactly it is dropped, order kept, flush waits for the rest", async () => {
    const { gw, url } = await listening({ backend });
    const { em, reports } = emitter({ url, apiKey: gw.adminKey, batchSize: 100 });
    for (const id of ids("a", 5)) em.emit(invoke(id));
    em.emit(invoke("mid-poison", { tokenId: "t\u0000" }));
    for (const id of ids("b", 5)) em.emit(invoke(id));
    await em.flush();
    expect(await stored(gw)).toEqual([...ids("a", 5), ...ids("b", 5)]);
    expect(reports.dropped("rejected")).toEqual(["mid-poison"]);
    expect(em.stats()).toMatchObject({ queued: 0, sent: 10, failed: 1 });
  });
});

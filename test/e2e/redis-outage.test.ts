/**
 * Redis fails soft (issue 14, case 1): two `tracegate serve` processes on one database fan
 * traces out through a Redis of the test's own, which the test kills and restarts on the same
 * port. While Redis is down every append is still committed and acknowledged, each replica's
 * subscribers still see that replica's traces, rate limits fall back to per-process counters,
 * /readyz answers 200 "degraded" naming `redis: down`, and no process exits. Once Redis is
 * back, every subscriber catches up from the database with what the other replica wrote in
 * the meantime, without any further ingest, and /readyz says "ready" again.
 *
 * Runs on SQLite (one file, two processes) and on PostgreSQL when it is available.
 * redis-server must be installed; without it the suite is skipped with a notice, except under
 * CI=true, where it fails.
 */
import { type Client, createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { BACKENDS } from "../support/backends.js";
import { TEST_SECRET } from "../support/harness.js";
import { type PrivateRedis, privateRedis, privateRedisProblem } from "../support/private-redis.js";
import { type GatewayProcess, postGraphQL, PROCESS_ADMIN_KEY, startGatewayProcess } from "../support/process.js";
import { invoke } from "../support/traces.js";
import { sleep, waitFor } from "../support/wait.js";

const SUITE = "Redis outage";
const problem = privateRedisProblem();
if (problem && process.env.CI === "true") throw new Error(`${SUITE}: redis-server is required when CI=true (${problem})`);
if (problem) process.stderr.write(`\n!! ${problem}: "${SUITE}" is SKIPPED.\n\n`);

const SUB = "subscription { traceRecorded { trace { seq } } }";
const RECORD = "mutation($input: [TraceInput!]!) { recordTraces(input: $input) { seq } }";
/** Requests per minute per key: low enough to exceed in a test, high enough for the test's own traffic. */
const RATE = 60;

interface Collector {
  seqs: number[];
  failure(): unknown;
  close(): Promise<void>;
}

function wsCollect(url: string): Collector {
  const client: Client = createClient({
    url: url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${PROCESS_ADMIN_KEY}` },
  });
  const seqs: number[] = [];
  let failure: unknown;
  client.subscribe(
    { query: SUB },
    {
      next: (r) => {
        if (r.errors) failure ??= r.errors;
        const seq = (r.data as { traceRecorded?: { trace?: { seq: number } } } | null)?.traceRecorded?.trace?.seq;
        if (seq !== undefined) seqs.push(seq);
      },
      error: (e) => void (failure ??= e),
      complete: () => void (failure ??= "completed"),
    },
  );
  return { seqs, failure: () => failure, close: () => client.dispose() as Promise<void> };
}

async function readyz(g: GatewayProcess): Promise<{ status: number; body: { status: string; checks?: Record<string, string> } }> {
  const res = await fetch(g.url.replace(/\/graphql$/, "/readyz"));
  return { status: res.status, body: (await res.json()) as { status: string; checks?: Record<string, string> } };
}

describe.skipIf(problem !== null).each(BACKENDS)("$name: " + SUITE, { timeout: 120_000 }, (backend) => {
  let redis: PrivateRedis;
  let a: GatewayProcess;
  let b: GatewayProcess;
  let n = 0;
  const open: Collector[] = [];

  const record = async (g: GatewayProcess, size: number) => {
    const input = Array.from({ length: size }, () => invoke(`ro-${backend.name}-${n++}`));
    const res = await postGraphQL<{ recordTraces: { seq: number }[] }>(g.url, RECORD, { input });
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data!.recordTraces.map((t) => t.seq);
  };
  const nextSeq = async (g: GatewayProcess) =>
    (await postGraphQL<{ chainHead: { nextSeq: number } }>(g.url, "{ chainHead { nextSeq } }")).data!.chainHead.nextSeq;
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

  beforeAll(async () => {
    redis = await privateRedis();
    const env = {
      DATABASE_URL: await backend.freshDatabaseUrl(),
      TRACEGATE_HMAC_SECRET: TEST_SECRET,
      REDIS_URL: redis.url,
      TRACEGATE_RATE_LIMIT_PER_MINUTE: String(RATE),
      LOG_LEVEL: "info",
    };
    // One after the other: the first migrates the database.
    a = await startGatewayProcess(env);
    b = await startGatewayProcess(env);
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close().catch(() => undefined)));
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.kill();
  });

  it("keeps acknowledging, streaming locally and limiting while Redis is down, and catches every subscriber up when it returns", async () => {
    const subA = wsCollect(a.url);
    const subB = wsCollect(b.url);
    open.push(subA, subB);
    // Live on both: a trace through A reaches B's subscriber only through Redis.
    await sleep(300);
    const probe = (await record(a, 1))[0]!;
    await waitFor(() => subA.seqs.includes(probe) && subB.seqs.includes(probe), () => `probe ${probe} on both: A ${subA.seqs} B ${subB.seqs}`);
    expect((await readyz(a)).body).toMatchObject({ status: "ready", checks: { database: "up", writes: "up", redis: "up" } });

    await redis.kill();
    const outageStart = await nextSeq(a);
    // Appends commit and are acknowledged on both replicas; each replica's own subscriber sees them.
    const viaA = [...(await record(a, 3)), ...(await record(a, 2))];
    const viaB = await record(b, 4);
    expect(viaA).toHaveLength(5);
    expect(viaB).toHaveLength(4);
    await waitFor(() => viaA.every((s) => subA.seqs.includes(s)), () => `A's own traces on A: ${subA.seqs}`);
    await waitFor(() => viaB.every((s) => subB.seqs.includes(s)), () => `B's own traces on B: ${subB.seqs}`);
    for (const g of [a, b]) {
      const r = await readyz(g);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: "degraded", checks: { database: "up", writes: "up", redis: "down" } });
    }
    // The crash came ~1.5 s after the first append; wait well past it.
    await sleep(3_000);
    expect(a.child.exitCode).toBeNull();
    expect(b.child.exitCode).toBeNull();

    // Rate limits fall back to per-process counters: B counts alone and still refuses past the budget.
    let limited = 0;
    for (let i = 0; i < RATE + 5 && limited === 0; i++) {
      const res = await postGraphQL(b.url, "{ chainHead { nextSeq } }");
      if (res.status === 429) limited += 1;
      else expect(res.errors).toBeUndefined();
    }
    expect(limited, "B never said RATE_LIMITED with Redis down").toBe(1);

    await redis.start();
    for (const g of [a, b]) {
      const deadline = Date.now() + 120_000;
      let r = await readyz(g);
      while (r.body.status !== "ready" && Date.now() < deadline) {
        await sleep(100);
        r = await readyz(g);
      }
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: "ready", checks: { redis: "up" } });
    }
    // No further ingest: the replicas re-announce their head when Redis returns, and each
    // subscriber reads what it missed from the database.
    const head = await nextSeq(a);
    const want = range(probe, head);
    expect(head - outageStart).toBe(9);
    await waitFor(() => subA.seqs.length >= want.length && subB.seqs.length >= want.length, () => `A ${subA.seqs} B ${subB.seqs}, want ${want}`, 120_000);
    await sleep(200);
    expect(subA.seqs).toEqual(want);
    expect(subB.seqs).toEqual(want);
    expect(subA.failure()).toBeUndefined();
    expect(subB.failure()).toBeUndefined();

    // And live fan-out works again, both ways.
    const after = [...(await record(a, 1)), ...(await record(b, 1))];
    await waitFor(() => after.every((s) => subA.seqs.includes(s) && subB.seqs.includes(s)), () => `A ${subA.seqs} B ${subB.seqs}`);
    const verify = await postGraphQL<{ verifyChain: { ok: boolean } }>(a.url, "{ verifyChain { ok } }");
    expect(verify.data!.verifyChain.ok).toBe(true);
    for (const g of [a, b]) {
      expect(g.child.exitCode).toBeNull();
      expect(g.stderr()).not.toMatch(/Unhandled|uncaught/i);
      expect(g.stderr()).toMatch(/Redis connection (lost|closed)/);
      expect(g.stderr()).toMatch(/Redis connection restored/);
    }
  });
});

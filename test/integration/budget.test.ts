/**
 * Expensive work has a budget (issue 15, src/http/budget.ts): at most one chain walk per
 * request (aliases refused before anything walks), a per-key limit of concurrent walks
 * (RATE_LIMITED with Retry-After), a server-side deadline (TIMEOUT), and a 5-row page stays
 * answered while 30 clients keep sending walks. Both backends. The page latencies measured
 * here are printed for BENCHMARKS.md, never asserted beyond a starvation bound.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeTrace } from "../../src/chain/trace.js";
import type { Limits } from "../../src/config.js";
import type { ChainRecord } from "../../src/chain/verify.js";
import type { SeqRange } from "../../src/stores/trace-store.js";
import { BACKENDS } from "../support/backends.js";
import { codesOf, createTestGateway, type GraphQLResponse, type TestGateway } from "../support/harness.js";

const RECORDS = 4_000;
const VERIFY = "{ verifyChain { ok checked } }";
const STATS = "{ traceStats(groupBy: [EVENT_TYPE, OUTCOME, REASON_CODE, PRINCIPAL, CAPABILITY], bucket: MINUTE, limit: 1000) { total groups { count } } }";
const PAGE = "{ traces(first: 5) { edges { node { actionId } } } }";
const aliased = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(" ")} }`;

/** A gateway on a chain of RECORDS records, whose scans and stats can be counted and held. */
async function chainGateway(backend: (typeof BACKENDS)[number], limits: Partial<Limits> = {}) {
  const gw = await createTestGateway({ backend, limits });
  const traces = Array.from({ length: RECORDS }, (_, i) =>
    encodeTrace({
      actionId: `b-${i}`, capabilityId: `cap-${i % 7}`, principalId: `p${i % 13}`, tokenId: "", invokedAtUs: 1_767_225_600_000_000 + i * 1_000_000,
      responseMode: "summary", driverId: "", handleId: null, sensitivity: "NONE", eventType: i % 5 === 0 ? "deny" : "invoke",
      reasonCode: i % 5 === 0 ? `r${i % 3}` : null, error: null, args: {}, resultSummary: null,
    }),
  );
  for (let i = 0; i < RECORDS; i += 2_000) await gw.stores.traces.append(traces.slice(i, i + 2_000));
  const store = gw.stores.traces;
  const probe = { scans: 0, stats: 0, hold: null as Promise<void> | null };
  const scanChain = store.scanChain.bind(store);
  const stats = store.stats.bind(store);
  store.scanChain = (range: SeqRange, batchSize?: number) =>
    (async function* (): AsyncGenerator<ChainRecord> {
      probe.scans++;
      if (probe.hold) await probe.hold;
      yield* scanChain(range, batchSize);
    })();
  store.stats = async (...args: Parameters<typeof stats>) => {
    probe.stats++;
    if (probe.hold) await probe.hold;
    return stats(...args);
  };
  return { gw, probe };
}

/** POST through yoga.fetch, keeping the status and headers. */
async function post(gw: TestGateway, key: string, query: string) {
  const res = await gw.app.yoga.fetch("http://tracegate.test/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as GraphQLResponse<Record<string, unknown>> };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
};
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

describe.each(BACKENDS)("$name: expensive work has a budget", (backend) => {
  const gateways: TestGateway[] = [];
  afterAll(async () => {
    for (const gw of gateways) await gw.close();
  });
  const setup = async (limits: Partial<Limits> = {}) => {
    const made = await chainGateway(backend, limits);
    gateways.push(made.gw);
    return made;
  };

  describe("one walk per request", () => {
    let gw: TestGateway;
    let probe: Awaited<ReturnType<typeof chainGateway>>["probe"];
    let reader: string;
    beforeAll(async () => {
      ({ gw, probe } = await setup());
      reader = await gw.issueKey(["traces:read"]);
    });

    it.each([
      ["verifyChain", aliased(30, "verifyChain { ok }")],
      ["traceStats", aliased(30, "traceStats(groupBy: [EVENT_TYPE, OUTCOME, REASON_CODE, PRINCIPAL, CAPABILITY], bucket: MINUTE, limit: 1000) { total }")],
      ["a mix through fragments", "{ ...W v: verifyChain { ok } } fragment W on Query { s: traceStats { total } ... on Query { w: verifyChain { ok } } }"],
    ])("refuses 30 aliased %s with QUERY_TOO_COMPLEX (walks) before walking", async (_what, query) => {
      const before = { scans: probe.scans, stats: probe.stats };
      const res = await post(gw, reader, query);
      expect(codesOf(res.body)).toEqual(["QUERY_TOO_COMPLEX"]);
      expect(res.body.errors![0]!.extensions?.limit).toBe("walks");
      expect(res.body.data ?? null).toBeNull();
      expect({ scans: probe.scans, stats: probe.stats }).toEqual(before);
    });

    it("refuses more than one totalCount per request (counts)", async () => {
      const res = await post(gw, reader, "{ a: traces { totalCount } b: traces(first: 1) { totalCount } }");
      expect(codesOf(res.body)).toEqual(["QUERY_TOO_COMPLEX"]);
      expect(res.body.errors![0]!.extensions?.limit).toBe("counts");
    });

    it("answers one walk, with cheap fields beside it", async () => {
      const res = await post(gw, reader, "{ verifyChain { ok checked } chainHead { nextSeq } traces(first: 2) { totalCount } }");
      expect(codesOf(res.body)).toEqual([]);
      expect(res.body.data).toMatchObject({ verifyChain: { ok: true, checked: RECORDS }, chainHead: { nextSeq: RECORDS } });
    });
  });

  describe("concurrent walks per key", () => {
    it("refuses a key's third walk with RATE_LIMITED and Retry-After; other keys and cheap queries go on", async () => {
      const { gw, probe } = await setup({ walksPerKey: 2 });
      const [a, b] = [await gw.issueKey(["traces:read"]), await gw.issueKey(["traces:read"])];
      let open!: () => void;
      probe.hold = new Promise((r) => (open = r));
      const held = [post(gw, a, VERIFY), post(gw, a, STATS)];
      await until(() => probe.scans + probe.stats === 2);
      const third = await post(gw, a, VERIFY);
      expect(third.status).toBe(429);
      expect(third.retryAfter).toBe("1");
      expect(codesOf(third.body)).toEqual(["RATE_LIMITED"]);
      expect(third.body.errors![0]!.extensions).toMatchObject({ limit: "walks", retryAfterSeconds: 1 });
      expect(probe.scans + probe.stats).toBe(2);
      // A page from the same key is not a walk; another key has its own two slots.
      expect(codesOf((await post(gw, a, PAGE)).body)).toEqual([]);
      const other = post(gw, b, VERIFY);
      await until(() => probe.scans + probe.stats === 3);
      open();
      for (const res of await Promise.all([...held, other])) expect(codesOf(res.body)).toEqual([]);
      probe.hold = null;
      // The slots were given back.
      expect(codesOf((await post(gw, a, VERIFY)).body)).toEqual([]);
    });
  });

  describe("deadline", () => {
    it("stops a walk past walkTimeoutMs with TIMEOUT and frees its slot", async () => {
      const { gw, probe } = await setup({ walkTimeoutMs: 200, walksPerKey: 1 });
      const key = await gw.issueKey(["traces:read"]);
      let open!: () => void;
      probe.hold = new Promise((r) => (open = r));
      const walking = post(gw, key, VERIFY);
      await until(() => probe.scans === 1);
      await new Promise((r) => setTimeout(r, 300));
      open();
      const res = await walking;
      expect(codesOf(res.body)).toEqual(["TIMEOUT"]);
      expect(res.body.errors![0]!.extensions?.timeoutMs).toBe(200);
      probe.hold = null;
      expect(codesOf((await post(gw, key, VERIFY)).body)).toEqual([]);
    });
  });

  describe("a cheap query stays fast while 30 clients send expensive requests", () => {
    it("answers every 5-row page within a starvation bound", async () => {
      const unlimited = process.env.BUDGET_BENCH_UNLIMITED === "1";
      const { gw } = await setup(unlimited ? { walksPerKey: 0, walksTotal: 0 } : {});
      const keys = await Promise.all(Array.from({ length: 10 }, () => gw.issueKey(["traces:read"])));
      const pager = await gw.issueKey(["traces:read"]);
      let running = true;
      const outcomes = { answered: 0, refused: 0, other: 0 };
      // 30 clients (3 per key), each sending verifyChain or traceStats back to back.
      const clients = Array.from({ length: 30 }, async (_, i) => {
        while (running) {
          const res = await post(gw, keys[i % keys.length]!, i % 2 === 0 ? VERIFY : STATS);
          const codes = codesOf(res.body);
          if (codes.length === 0) {
            outcomes.answered++;
            await new Promise((r) => setImmediate(r));
          }
          else {
            if (codes.every((c) => c === "RATE_LIMITED")) outcomes.refused++;
            else if (outcomes.other++ === 0) console.log(`[budget bench] unexpected: ${JSON.stringify(res.body.errors)}`);
            await new Promise((r) => setTimeout(r, 20)); // a client retrying briskly, not after Retry-After
          }
        }
      });
      const latencies: number[] = [];
      const started = performance.now();
      try {
        await new Promise((r) => setTimeout(r, 200));
        for (let i = 0; i < 40; i++) {
          const t0 = performance.now();
          const res = await post(gw, pager, PAGE);
          latencies.push(performance.now() - t0);
          expect(codesOf(res.body)).toEqual([]);
          expect((res.body.data as { traces: { edges: unknown[] } }).traces.edges).toHaveLength(5);
          await new Promise((r) => setTimeout(r, 25));
        }
      } finally {
        running = false;
        await Promise.all(clients);
      }
      const seconds = (performance.now() - started) / 1000;
      const sorted = [...latencies].sort((x, y) => x - y);
      console.log(
        `[budget bench] ${backend.name}${unlimited ? " (no walk slots)" : ""}: ${RECORDS} records, 30 clients, ${latencies.length} pages in ${seconds.toFixed(1)} s: ` +
          `p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms; ` +
          `walks answered ${outcomes.answered}, refused ${outcomes.refused}, other ${outcomes.other}`,
      );
      expect(outcomes.other).toBe(0);
      // Catches starvation, not performance.
      expect(sorted.at(-1)!).toBeLessThan(15_000);
    }, 120_000);
  });
});

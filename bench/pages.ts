/**
 * Benchmark 2: latency of a `first: 50` page filtered by principal and time window, newest
 * first, on the big chain. Variants: the store call the resolver makes (limit 51), the full
 * GraphQL path (body serialisation + yoga.fetch + response parse), and the second page via
 * the returned endCursor. Latencies are per query, sequential, in process. The same page
 * over real sockets, against bare yoga and PostGraphile, is bench/page-http.ts.
 */
import { PerformanceObserver } from "node:perf_hooks";
import type { App } from "../src/http/app.js";
import type { Stores } from "../src/stores/index.js";
import type { TraceRow } from "../src/stores/trace-store.js";
import { formatIsoMicros } from "../src/chain/time.js";
import { PRINCIPALS, prng } from "./data.js";
import { dataOf, gc, post } from "./gql.js";

export interface WindowQuery {
  principalId: string;
  sinceUs: number;
  untilUs: number;
}

export type Variant = "store" | "graphql-page1" | "graphql-page2";

export interface LatencyRound {
  /** Latency samples (ms) per variant. */
  samples: Record<Variant, number[]>;
  /** Samples above the slow threshold, and how many of them overlapped a GC pause. */
  slow: Record<Variant, { count: number; withGc: number }>;
  /** GC pauses (ms) during the round. */
  gcPauses: number[];
  /** Rows on page 1 per query (store variant). */
  rows: number[];
}

/** Latency above which a sample counts as slow (the p99 target). */
export const SLOW_MS = 5;

/** The page query of this benchmark (also served over HTTP, bench/page-http.ts). */
export const PAGE_QUERY = `query Page($filter: TraceFilter, $after: String) {
  traces(filter: $filter, orderBy: INVOKED_AT_DESC, first: 50, after: $after) {
    edges { cursor node { seq actionId invokedAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** The key of a page in the bare yoga server's memory (bench/page-server.ts): its filter and cursor, as JSON. */
export function pageKey(variables: { filter?: unknown; after?: unknown }): string {
  return JSON.stringify([variables.filter ?? null, variables.after ?? null]);
}

interface PageData {
  traces: {
    edges: { cursor: string; node: { seq: number; actionId: string; invokedAt: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

const MIN_WINDOW_US = 5 * 60 * 1_000_000;
const MAX_WINDOW_US = 24 * 3600 * 1_000_000;

/** Random principals (uniform over all 100) and random windows (length log-uniform 5 min .. 24 h). */
export function makeQueries(n: number, seed: number, spanStartUs: number, spanEndUs: number): WindowQuery[] {
  const rand = prng(seed);
  const span = spanEndUs - spanStartUs;
  const maxLen = Math.min(MAX_WINDOW_US, span);
  const minLen = Math.min(MIN_WINDOW_US, maxLen / 2);
  return Array.from({ length: n }, () => {
    const len = Math.round(Math.exp(Math.log(minLen) + rand() * (Math.log(maxLen) - Math.log(minLen))));
    const sinceUs = spanStartUs + Math.floor(rand() * (span - len));
    return { principalId: PRINCIPALS[Math.floor(rand() * PRINCIPALS.length)] as string, sinceUs, untilUs: sinceUs + len };
  });
}

function storePage(stores: Stores, q: WindowQuery): Promise<TraceRow[]> {
  return stores.traces.page({
    filter: { principalId: q.principalId, sinceUs: q.sinceUs, untilUs: q.untilUs },
    order: "INVOKED_AT_DESC",
    limit: 51,
  });
}

function filterOf(q: WindowQuery) {
  return { principalId: q.principalId, since: formatIsoMicros(q.sinceUs), until: formatIsoMicros(q.untilUs) };
}

async function graphqlPage(a: App, q: WindowQuery, after: string | null): Promise<PageData> {
  return dataOf(await post<PageData>(a, JSON.stringify({ query: PAGE_QUERY, variables: { filter: filterOf(q), after } })));
}

/**
 * Correctness of the measured paths (untimed): GraphQL pages equal the store's keyset pages,
 * every row matches the filter, order is (invokedAt, seq) descending, page 2 continues page 1.
 */
export async function checkPages(stores: Stores, a: App, queries: readonly WindowQuery[]): Promise<void> {
  for (const q of queries) {
    const rows = await storePage(stores, q);
    for (const r of rows) {
      if (r.principalId !== q.principalId || r.invokedAtUs < q.sinceUs || r.invokedAtUs >= q.untilUs) {
        throw new Error(`store page returned a row outside the filter: seq ${r.seq}`);
      }
    }
    for (let i = 1; i < rows.length; i++) {
      const p = rows[i - 1] as TraceRow;
      const c = rows[i] as TraceRow;
      if (p.invokedAtUs < c.invokedAtUs || (p.invokedAtUs === c.invokedAtUs && p.seq <= c.seq)) {
        throw new Error(`store page not in INVOKED_AT_DESC order at seq ${c.seq}`);
      }
    }
    const p1 = (await graphqlPage(a, q, null)).traces;
    const want1 = rows.slice(0, 50).map((r) => r.seq);
    const got1 = p1.edges.map((e) => e.node.seq);
    if (JSON.stringify(got1) !== JSON.stringify(want1)) throw new Error(`GraphQL page 1 differs from the store page for ${JSON.stringify(q)}`);
    if (p1.pageInfo.hasNextPage !== rows.length > 50) throw new Error("GraphQL hasNextPage disagrees with the store");
    if (p1.pageInfo.hasNextPage && p1.pageInfo.endCursor) {
      const last = rows[49] as TraceRow;
      const next = await stores.traces.page({
        filter: { principalId: q.principalId, sinceUs: q.sinceUs, untilUs: q.untilUs },
        order: "INVOKED_AT_DESC",
        after: { seq: last.seq, invokedAtUs: last.invokedAtUs },
        limit: 51,
      });
      const got2 = (await graphqlPage(a, q, p1.pageInfo.endCursor)).traces.edges.map((e) => e.node.seq);
      if (JSON.stringify(got2) !== JSON.stringify(next.slice(0, 50).map((r) => r.seq))) {
        throw new Error(`GraphQL page 2 differs from the store's keyset page for ${JSON.stringify(q)}`);
      }
    }
  }
}

/** One round: every query through the store, then every query through GraphQL (page 1, then page 2 when there is one). */
export async function latencyRound(stores: Stores, a: App, queries: readonly WindowQuery[]): Promise<LatencyRound> {
  const variants: Variant[] = ["store", "graphql-page1", "graphql-page2"];
  const samples: Record<Variant, number[]> = { store: [], "graphql-page1": [], "graphql-page2": [] };
  const spans: Record<Variant, [number, number][]> = { store: [], "graphql-page1": [], "graphql-page2": [] };
  const rows: number[] = [];
  const time = async <T>(variant: Variant, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const out = await f();
    const t1 = performance.now();
    samples[variant].push(t1 - t0);
    if (t1 - t0 > SLOW_MS) spans[variant].push([t0, t1]);
    return out;
  };
  gc();
  const pauses: [number, number][] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push([e.startTime, e.startTime + e.duration]);
  });
  observer.observe({ entryTypes: ["gc"] });
  try {
    for (const q of queries) {
      const page = await time("store", () => storePage(stores, q));
      rows.push(Math.min(page.length, 50));
    }
    for (const q of queries) {
      const p1 = await time("graphql-page1", () => graphqlPage(a, q, null));
      const { hasNextPage, endCursor } = p1.traces.pageInfo;
      if (hasNextPage && endCursor) await time("graphql-page2", () => graphqlPage(a, q, endCursor));
    }
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the observer deliver the last entries
  } finally {
    observer.disconnect();
  }
  const overlapsGc = ([s0, s1]: [number, number]) => pauses.some(([g0, g1]) => g0 < s1 && g1 > s0);
  const slow = Object.fromEntries(
    variants.map((v) => [v, { count: spans[v].length, withGc: spans[v].filter(overlapsGc).length }]),
  ) as Record<Variant, { count: number; withGc: number }>;
  return { samples, slow, gcPauses: pauses.map(([g0, g1]) => g1 - g0), rows };
}

/**
 * Keyset depth: store latency of the page `depth` pages into the hottest principal's rows,
 * newest first, with and without a time window covering all of them. Without a window the
 * cursor bounds the index scan; with one, SQLite may bound the scan by the window instead and
 * walk past every earlier page.
 */
export async function depthLatency(
  stores: Stores,
  principalId: string,
  keysetAt: (offset: number) => { seq: number; invokedAtUs: number } | undefined,
  window: { sinceUs: number; untilUs: number },
  depths: readonly number[],
  repeats: number,
): Promise<{ depth: number; windowed: number; unwindowed: number }[]> {
  const out: { depth: number; windowed: number; unwindowed: number }[] = [];
  for (const depth of depths) {
    const after = depth === 0 ? undefined : keysetAt(depth * 50 - 1);
    if (depth > 0 && !after) continue;
    const run = async (filter: { principalId: string; sinceUs?: number; untilUs?: number }) => {
      const t: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const t0 = performance.now();
        await stores.traces.page({ filter, order: "INVOKED_AT_DESC", limit: 51, ...(after ? { after } : {}) });
        t.push(performance.now() - t0);
      }
      return t.sort((x, y) => x - y)[t.length >> 1] as number;
    };
    out.push({ depth, windowed: await run({ principalId, ...window }), unwindowed: await run({ principalId }) });
  }
  return out;
}

/** The SQL the store issues for these pages (mirrors PrismaTraceStore.page), for EXPLAIN QUERY PLAN. */
export const PAGE_SQL = {
  first: `SELECT * FROM "Trace" WHERE "principalId" = ? AND "invokedAtUs" >= ? AND "invokedAtUs" < ? ORDER BY "invokedAtUs" DESC, "seq" DESC LIMIT 51`,
  next: `SELECT * FROM "Trace" WHERE "principalId" = ? AND "invokedAtUs" >= ? AND "invokedAtUs" < ? AND ("invokedAtUs", "seq") < (?, ?) ORDER BY "invokedAtUs" DESC, "seq" DESC LIMIT 51`,
};

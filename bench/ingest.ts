/**
 * Benchmark 1: ingest with hashing. Each run starts on a fresh copy of the migrated template.
 * (a) store level: Trace -> encodeTrace -> TraceStore.append, timed per run end to end;
 * (b) GraphQL level: recordTraces mutations over yoga.fetch with pre-serialised bodies (the
 *     client's JSON.stringify is not timed; yoga's body parsing, validation, coercion,
 *     encodeTrace, append and the response are).
 */
import type { Trace } from "../src/chain/trace.js";
import { encodeTrace } from "../src/chain/trace.js";
import { freshDb, open, removeDb } from "./db.js";
import { toGraphqlInput } from "./data.js";
import { app, dataOf, gc, post } from "./gql.js";

export interface IngestResult {
  level: "store" | "graphql";
  batch: number;
  tracesPerRun: number;
  /** traces/s of each run, in run order. */
  rates: number[];
}

const RECORD = "mutation($input:[TraceInput!]!){ recordTraces(input:$input){ seq } }";

export async function storeIngest(
  template: string,
  traces: readonly Trace[],
  batch: number,
  runs: number,
  log: (line: string) => void,
): Promise<IngestResult> {
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const file = freshDb(template, `ingest-store-b${batch}-r${r}`);
    const stores = await open(file);
    gc();
    const t0 = performance.now();
    for (let i = 0; i < traces.length; i += batch) {
      await stores.traces.append(traces.slice(i, i + batch).map(encodeTrace));
    }
    const dt = performance.now() - t0;
    const head = await stores.traces.head();
    await stores.close();
    removeDb(file);
    if (head.nextSeq !== traces.length) throw new Error(`store ingest stored ${head.nextSeq} of ${traces.length}`);
    const rate = (traces.length / dt) * 1000;
    rates.push(rate);
    log(`  store batch ${batch} run ${r + 1}/${runs}: ${Math.round(rate).toLocaleString("en-US")} traces/s (${(dt / 1000).toFixed(2)} s)`);
  }
  return { level: "store", batch, tracesPerRun: traces.length, rates };
}

/** Request bodies for recordTraces in batches of `batch` (serialised once, outside the timing). */
export function mutationBodies(traces: readonly Trace[], batch: number): string[] {
  const bodies: string[] = [];
  for (let i = 0; i < traces.length; i += batch) {
    bodies.push(JSON.stringify({ query: RECORD, variables: { input: traces.slice(i, i + batch).map(toGraphqlInput) } }));
  }
  return bodies;
}

export async function graphqlIngest(
  template: string,
  traces: readonly Trace[],
  batch: number,
  runs: number,
  log: (line: string) => void,
): Promise<IngestResult> {
  const bodies = mutationBodies(traces, batch);
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const file = freshDb(template, `ingest-graphql-r${r}`);
    const stores = await open(file);
    const a = await app(stores);
    gc();
    let stored = 0;
    const t0 = performance.now();
    for (const body of bodies) {
      const res = await post<{ recordTraces: { seq: number }[] }>(a, body);
      stored += dataOf(res).recordTraces.length;
    }
    const dt = performance.now() - t0;
    const head = await stores.traces.head();
    await stores.close();
    removeDb(file);
    if (stored !== traces.length || head.nextSeq !== traces.length) {
      throw new Error(`GraphQL ingest stored ${stored} (head ${head.nextSeq}) of ${traces.length}`);
    }
    const rate = (traces.length / dt) * 1000;
    rates.push(rate);
    log(`  graphql batch ${batch} run ${r + 1}/${runs}: ${Math.round(rate).toLocaleString("en-US")} traces/s (${(dt / 1000).toFixed(2)} s)`);
  }
  return { level: "graphql", batch, tracesPerRun: traces.length, rates };
}

/**
 * Warm-up (JIT, Prisma engine start) on a throwaway database, and a check that the GraphQL
 * inputs hash exactly like the store-level traces: recordTraces must return, for every
 * trace, the payload encodeTrace produces.
 */
export async function warmUpAndCheck(template: string, traces: readonly Trace[]): Promise<void> {
  const file = freshDb(template, "ingest-warmup");
  const stores = await open(file);
  try {
    const half = Math.floor(traces.length / 2);
    for (let i = 0; i < half; i += 1_000) await stores.traces.append(traces.slice(i, Math.min(i + 1_000, half)).map(encodeTrace));
    const rest = traces.slice(half);
    const a = await app(stores);
    const res = await post<{ recordTraces: { payload: string }[] }>(
      a,
      JSON.stringify({
        query: "mutation($input:[TraceInput!]!){ recordTraces(input:$input){ payload } }",
        variables: { input: rest.map(toGraphqlInput) },
      }),
    );
    const got = dataOf(res).recordTraces;
    rest.forEach((t, i) => {
      const want = encodeTrace(t).payload;
      if (got[i]?.payload !== want) {
        throw new Error(`GraphQL input ${i} hashed a different payload:\n  got  ${got[i]?.payload}\n  want ${want}`);
      }
    });
  } finally {
    await stores.close();
    removeDb(file);
  }
}

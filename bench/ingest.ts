/**
 * Benchmark 1: ingest with hashing. Each run starts on a fresh copy of the migrated template.
 * (a) store level: Trace -> encodeTrace -> TraceStore.append, timed per run end to end;
 * (b) GraphQL level: recordTraces mutations over yoga.fetch with pre-serialised bodies (the
 *     client's JSON.stringify is not timed; yoga's body parsing, validation, coercion,
 *     encodeTrace, append and the response are);
 * (c) the limit: the same rows, already encoded and hashed, inserted with raw better-sqlite3
 *     (one cached single-row INSERT, batches of 1,000 per transaction, WAL + synchronous=FULL)
 *     into the same migrated schema and indexes;
 * (d) 16 concurrent clients each sending one trace per recordTraces call over yoga.fetch
 *     (what group commit, src/stores/prisma/group-commit.ts, serves).
 * Every result also carries traces per CPU second of this process (cpuRates), steadier than
 * wall time on a shared machine.
 */
import Database from "better-sqlite3";
import type { Trace } from "../src/chain/trace.js";
import { encodeTrace } from "../src/chain/trace.js";
import { GENESIS_HASH } from "../src/chain/hash.js";
import { freshDb, hash, open, removeDb } from "./db.js";
import { toGraphqlInput } from "./data.js";
import { app, dataOf, gc, post } from "./gql.js";

export interface IngestResult {
  level: "store" | "graphql" | "raw" | "concurrent";
  /** Traces per call (per transaction for raw). */
  batch: number;
  tracesPerRun: number;
  /** traces/s of each run, in run order. */
  rates: number[];
  /** traces per CPU second (user + system) of this process, per run. */
  cpuRates: number[];
  /** Concurrent clients (concurrent level only). */
  clients?: number;
}

/** Starts a wall and CPU clock; the returned function gives [traces/s, traces per CPU second] for `n`. */
function clock(): (n: number) => [number, number] {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  return (n) => {
    const dt = performance.now() - t0;
    const c = process.cpuUsage(c0);
    return [(n / dt) * 1000, n / ((c.user + c.system) / 1e6)];
  };
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
  const cpuRates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const file = freshDb(template, `ingest-store-b${batch}-r${r}`);
    const stores = await open(file);
    gc();
    const t0 = performance.now();
    const stop = clock();
    for (let i = 0; i < traces.length; i += batch) {
      await stores.traces.append(traces.slice(i, i + batch).map(encodeTrace));
    }
    cpuRates.push(stop(traces.length)[1]);
    const dt = performance.now() - t0;
    const head = await stores.traces.head();
    await stores.close();
    removeDb(file);
    if (head.nextSeq !== traces.length) throw new Error(`store ingest stored ${head.nextSeq} of ${traces.length}`);
    const rate = (traces.length / dt) * 1000;
    rates.push(rate);
    log(`  store batch ${batch} run ${r + 1}/${runs}: ${Math.round(rate).toLocaleString("en-US")} traces/s (${(dt / 1000).toFixed(2)} s)`);
  }
  return { level: "store", batch, tracesPerRun: traces.length, rates, cpuRates };
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
  const cpuRates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const file = freshDb(template, `ingest-graphql-r${r}`);
    const stores = await open(file);
    const a = await app(stores);
    gc();
    let stored = 0;
    const t0 = performance.now();
    const stop = clock();
    for (const body of bodies) {
      const res = await post<{ recordTraces: { seq: number }[] }>(a, body);
      stored += dataOf(res).recordTraces.length;
    }
    cpuRates.push(stop(traces.length)[1]);
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
  return { level: "graphql", batch, tracesPerRun: traces.length, rates, cpuRates };
}

const RAW_INSERT = `INSERT INTO "Trace" ("seq", "actionId", "principalId", "capabilityId", "eventType", "status", "reasonCode", "invokedAtUs", "prevHash", "recordHash", "payload")
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * The limit for (a): the same traces, encoded and hashed before the timer, inserted with raw
 * better-sqlite3 into a fresh copy of the same migrated schema (same 13 indexes), `batch`
 * rows per fsync-ed transaction. No duplicate lookup, no head row: only the inserts.
 */
export function rawIngest(template: string, traces: readonly Trace[], batch: number, runs: number, log: (line: string) => void): IngestResult {
  let prevHash = GENESIS_HASH;
  const rows = traces.map(encodeTrace).map(({ columns: c, payload }, seq) => {
    const recordHash = hash(seq, prevHash, payload);
    const row = [seq, c.actionId, c.principalId, c.capabilityId, c.eventType, c.status, c.reasonCode, c.invokedAtUs, prevHash, recordHash, payload];
    prevHash = recordHash;
    return row;
  });
  const rates: number[] = [];
  const cpuRates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const file = freshDb(template, `ingest-raw-r${r}`);
    const db = new Database(file);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    const insert = db.prepare(RAW_INSERT);
    gc();
    const stop = clock();
    for (let i = 0; i < rows.length; i += batch) {
      db.exec("BEGIN");
      for (let k = i; k < Math.min(i + batch, rows.length); k++) insert.run(...rows[k]!);
      db.exec("COMMIT");
    }
    const [rate, cpuRate] = stop(rows.length);
    db.close();
    removeDb(file);
    rates.push(rate);
    cpuRates.push(cpuRate);
    log(`  raw better-sqlite3 insert batch ${batch} run ${r + 1}/${runs}: ${Math.round(rate).toLocaleString("en-US")} rows/s (${Math.round(cpuRate).toLocaleString("en-US")} per CPU s)`);
  }
  return { level: "raw", batch, tracesPerRun: rows.length, rates, cpuRates };
}

/**
 * (d) `clients` concurrent clients, each posting its share of `traces` one trace per
 * recordTraces call over yoga.fetch, every client awaiting its answer before the next call
 * (as a kernel emitting synchronously would). Bodies are serialised before the timer starts.
 */
export async function concurrentSingleIngest(
  template: string,
  traces: readonly Trace[],
  clients: number,
  runs: number,
  log: (line: string) => void,
): Promise<IngestResult> {
  const bodies = mutationBodies(traces, 1);
  const rates: number[] = [];
  const cpuRates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const file = freshDb(template, `ingest-concurrent-r${r}`);
    const stores = await open(file);
    const a = await app(stores);
    gc();
    let stored = 0;
    const stop = clock();
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        for (let i = c; i < bodies.length; i += clients) {
          const res = await post<{ recordTraces: { seq: number }[] }>(a, bodies[i]!);
          stored += dataOf(res).recordTraces.length;
        }
      }),
    );
    const [rate, cpuRate] = stop(traces.length);
    const head = await stores.traces.head();
    await stores.close();
    removeDb(file);
    if (stored !== traces.length || head.nextSeq !== traces.length) {
      throw new Error(`concurrent ingest stored ${stored} (head ${head.nextSeq}) of ${traces.length}`);
    }
    rates.push(rate);
    cpuRates.push(cpuRate);
    log(`  graphql ${clients} concurrent single-trace clients run ${r + 1}/${runs}: ${Math.round(rate).toLocaleString("en-US")} traces/s (${Math.round(cpuRate).toLocaleString("en-US")} per CPU s)`);
  }
  return { level: "concurrent", batch: 1, clients, tracesPerRun: traces.length, rates, cpuRates };
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

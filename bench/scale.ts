/**
 * Benchmarks of the scale-out setup: ingest with 1 and 4 concurrent writer processes on
 * SQLite and on PostgreSQL (every writer its own process and store, as gateway replicas
 * would be), and page latency on PostgreSQL over the same 1,000,000-trace chain as the
 * SQLite page benchmark.
 *
 * PostgreSQL comes from TRACEGATE_BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres);
 * without it these benchmarks are skipped with a notice.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import Database from "better-sqlite3";
import pg from "pg";
import { openStores, type Stores } from "../src/stores/index.js";
import { migrateDatabase } from "../src/stores/prisma/migrate.js";
import { freshDb, hash, migrationsHash, removeDb, ROOT } from "./db.js";
import { app, HEADERS } from "./gql.js";
import { latencyRound, makeQueries } from "./pages.js";
import { median, percentile } from "./stats.js";

export const PG_URL = process.env.TRACEGATE_BENCH_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

function pgUrl(database: string): string {
  const u = new URL(PG_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

async function pgAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Whether PostgreSQL is reachable (the reason when not). */
export async function pgAvailable(): Promise<string | null> {
  try {
    await pgAdmin((c) => c.query("SELECT 1"));
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

const PG_TEMPLATE = `tracegate_bench_tpl_${migrationsHash().slice(0, 12)}`;

/** A migrated PostgreSQL template for this migrations version (created once). */
async function pgTemplate(): Promise<void> {
  const exists = await pgAdmin(async (c) => (await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [PG_TEMPLATE])).rowCount);
  if (exists) return;
  await pgAdmin((c) => c.query(`CREATE DATABASE "${PG_TEMPLATE}"`));
  await migrateDatabase(pgUrl(PG_TEMPLATE));
}

async function freshPg(name: string): Promise<string> {
  await pgTemplate();
  await pgAdmin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${name}" TEMPLATE "${PG_TEMPLATE}"`);
  });
  return pgUrl(name);
}

async function dropPg(name: string): Promise<void> {
  await pgAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

export interface WriterResult {
  backend: "sqlite" | "postgresql";
  writers: number;
  tracesPerRun: number;
  rates: number[];
}

function startWriter(databaseUrl: string, index: number, count: number, batch: number): { child: ChildProcess; ready: Promise<void>; result: Promise<{ startMs: number; endMs: number; n: number }> } {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/writer.ts", databaseUrl, String(index), String(count), String(batch)], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  const result = new Promise<{ startMs: number; endMs: number; n: number }>((resolve, reject) => {
    lines.on("line", (line) => {
      if (line === "ready") markReady();
      else resolve(JSON.parse(line) as { startMs: number; endMs: number; n: number });
    });
    child.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`writer ${index} exited ${code}`))));
  });
  return { child, ready, result };
}

/** Ingest with `writers` concurrent processes on one fresh database; traces/s over the wall clock. */
export async function writersIngest(
  backend: "sqlite" | "postgresql",
  sqliteTemplate: string,
  writers: number,
  total: number,
  runs: number,
  log: (line: string) => void,
): Promise<WriterResult> {
  const rates: number[] = [];
  const perWriter = Math.floor(total / writers);
  for (let r = 0; r < runs; r++) {
    const name = `ingest_w${writers}_r${r}`;
    const url = backend === "sqlite" ? `file:${freshDb(sqliteTemplate, name)}` : await freshPg(`tracegate_bench_${name}`);
    const procs = Array.from({ length: writers }, (_, i) => startWriter(url, i, perWriter, 1_000));
    await Promise.all(procs.map((p) => p.ready));
    for (const p of procs) p.child.stdin!.write("go\n");
    const results = await Promise.all(procs.map((p) => p.result));
    const wallMs = Math.max(...results.map((x) => x.endMs)) - Math.min(...results.map((x) => x.startMs));
    const n = results.reduce((a, x) => a + x.n, 0);
    // The chain must be whole: one gapless sequence over all writers.
    const stores = await openStores({ databaseUrl: url, databaseProvider: backend }, hash);
    const head = await stores.traces.head();
    const count = await stores.traces.count({});
    await stores.close();
    if (head.nextSeq !== n || count !== n) throw new Error(`${backend} ${writers} writers: head ${head.nextSeq}, rows ${count}, expected ${n}`);
    if (backend === "sqlite") removeDb(url.slice("file:".length));
    else await dropPg(`tracegate_bench_${name}`);
    const rate = (n / wallMs) * 1000;
    rates.push(rate);
    log(`  ${backend} ${writers} writer(s) run ${r + 1}/${runs}: ${Math.round(rate).toLocaleString("en-US")} traces/s (${n.toLocaleString("en-US")} in ${(wallMs / 1000).toFixed(2)} s)`);
  }
  return { backend, writers, tracesPerRun: perWriter * writers, rates };
}

const COPY_COLUMNS = `"seq", "actionId", "principalId", "capabilityId", "eventType", "status", "reasonCode", "invokedAtUs", "prevHash", "recordHash", "payload"`;

/**
 * The SQLite chain copied row for row (same seqs, hashes and payloads) into a cached
 * PostgreSQL database, then ANALYZEd. A bench-only bulk load: the chain bytes are the ones
 * the store wrote, so the read benchmarks compare like with like.
 */
export async function pgChain(sqliteFile: string, records: number, log: (line: string) => void): Promise<string> {
  const name = `tracegate_bench_chain_${records}_${migrationsHash().slice(0, 8)}`;
  const url = pgUrl(name);
  const exists = await pgAdmin(async (c) => (await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rowCount);
  if (exists) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "Trace"`);
    await client.end();
    if (Number(rows[0]!.n) === records) {
      log(`using cached PostgreSQL chain ${name}`);
      return url;
    }
  }
  await freshPg(name);
  const src = new Database(sqliteFile, { readonly: true });
  src.defaultSafeIntegers(false);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const t0 = performance.now();
  const select = src.prepare(`SELECT ${COPY_COLUMNS} FROM "Trace" WHERE "seq" >= ? ORDER BY "seq" LIMIT 5000`);
  let from = 0;
  for (;;) {
    const rows = select.all(from) as Record<string, unknown>[];
    if (rows.length === 0) break;
    const json = JSON.stringify(rows.map((r) => [r.seq, r.actionId, r.principalId, r.capabilityId, r.eventType, r.status, r.reasonCode, Number(r.invokedAtUs), r.prevHash, r.recordHash, r.payload]));
    await client.query(
      `INSERT INTO "Trace" ("seq", "actionId", "principalId", "capabilityId", "eventType", "status", "reasonCode", "invokedAt", "prevHash", "recordHash", "payload")
       SELECT (r->>0)::bigint, r->>1, r->>2, r->>3, r->>4, r->>5, r->>6, 'epoch'::timestamptz + (r->>7)::bigint * interval '1 microsecond', r->>8, r->>9, r->>10
       FROM json_array_elements($1::json) AS r`,
      [json],
    );
    from = Number(rows[rows.length - 1]!.seq) + 1;
    if (from % 200_000 === 0) log(`  copied ${from.toLocaleString("en-US")} rows to PostgreSQL`);
  }
  const head = src.prepare(`SELECT "nextSeq", "headHash" FROM "ChainHead" WHERE "id" = 1`).get() as { nextSeq: number; headHash: string };
  await client.query(`UPDATE "ChainHead" SET "nextSeq" = $1, "headHash" = $2 WHERE "id" = 1`, [head.nextSeq, head.headHash]);
  await client.query("VACUUM ANALYZE");
  await client.end();
  src.close();
  log(`  built PostgreSQL chain ${name} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return url;
}

export interface PgPageResult {
  p50: Record<string, number>;
  p99: Record<string, number>;
  samples: number;
  verifyRate: number;
}

/** Page latency (store and GraphQL) and verify throughput on the PostgreSQL chain. */
export async function pgPages(url: string, span: { startUs: number; endUs: number }, records: number, queries: number, log: (line: string) => void): Promise<PgPageResult> {
  const stores: Stores = await openStores({ databaseUrl: url, databaseProvider: "postgresql" }, hash);
  const a = await app(stores);
  const warm = makeQueries(200, 4242, span.startUs, span.endUs);
  await latencyRound(stores, a, warm);
  const p50: Record<string, number[]> = {};
  const p99: Record<string, number[]> = {};
  let samples = 0;
  for (let round = 0; round < 3; round++) {
    const r = await latencyRound(stores, a, makeQueries(queries, 555 + round, span.startUs, span.endUs));
    for (const [variant, values] of Object.entries(r.samples)) {
      (p50[variant] ??= []).push(percentile(values, 50));
      (p99[variant] ??= []).push(percentile(values, 99));
      if (variant === "store") samples += values.length;
    }
    log(`  PostgreSQL round ${round + 1}/3: ${Object.entries(r.samples).map(([v, s]) => `${v} p50 ${percentile(s, 50).toFixed(3)} / p99 ${percentile(s, 99).toFixed(3)} ms`).join("; ")}`);
  }
  const t0 = performance.now();
  const res = await a.yoga.fetch("http://bench/graphql", { method: "POST", headers: HEADERS, body: JSON.stringify({ query: "{ verifyChain { ok checked } }" }) });
  const body = (await res.json()) as { data: { verifyChain: { ok: boolean; checked: number } } };
  const verifyRate = (body.data.verifyChain.checked / (performance.now() - t0)) * 1000;
  if (!body.data.verifyChain.ok || body.data.verifyChain.checked !== records) throw new Error(`PostgreSQL verify: ${JSON.stringify(body)}`);
  log(`  PostgreSQL verifyChain: ${Math.round(verifyRate).toLocaleString("en-US")} records/s`);
  await stores.close();
  const med = (m: Record<string, number[]>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, median(v)]));
  return { p50: med(p50), p99: med(p99), samples, verifyRate };
}

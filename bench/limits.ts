/**
 * The limits the issue-16 targets are held against, measured in the same run as the figures
 * they bound: the raw driver on the page query (better-sqlite3, the store's own SQL text, a
 * cached prepared statement, no conversion of rows) and HMAC-SHA256 over the chain's
 * canonical messages on worker threads (no database, no verifier).
 */
import Database from "better-sqlite3";
import { Worker } from "node:worker_threads";
import type { App } from "../src/http/app.js";
import type { Stores } from "../src/stores/index.js";
import { sqliteDialect } from "../src/stores/prisma/dialect.js";
import { pageSql } from "../src/stores/prisma/trace-sql.js";
import type { PageQuery } from "../src/stores/trace-store.js";
import { formatIsoMicros } from "../src/chain/time.js";
import { BENCH_SECRET } from "./db.js";
import { dataOf, post } from "./gql.js";
import { median } from "./stats.js";
import type { WindowQuery } from "./pages.js";

const PAGE = `query Page($filter: TraceFilter) { traces(filter: $filter, orderBy: INVOKED_AT_DESC, first: 50) {
  edges { cursor node { seq actionId invokedAt } } pageInfo { hasNextPage endCursor } } }`;

/** CPU per page (µs, this process, user + system) of the three layers, medians over rounds. */
export interface PageCpu {
  raw: number;
  store: number;
  graphql: number;
  rounds: number;
}

const pageQuery = (q: WindowQuery): PageQuery => ({
  filter: { principalId: q.principalId, sinceUs: q.sinceUs, untilUs: q.untilUs },
  order: "INVOKED_AT_DESC",
  limit: 51,
});

/**
 * CPU time per 50-row page, raw driver vs store vs GraphQL (yoga.fetch, body in and out),
 * interleaved round by round over the same queries so that machine load hits all three alike.
 */
export async function pageCpu(file: string, stores: Stores, gateway: App, queries: readonly WindowQuery[], rounds: number): Promise<PageCpu> {
  const db = new Database(file, { readonly: true });
  const statements = new Map<string, Database.Statement>();
  const raw = (q: WindowQuery) => {
    const sql = pageSql(pageQuery(q), sqliteDialect);
    let statement = statements.get(sql.sql);
    if (!statement) statements.set(sql.sql, (statement = db.prepare(sql.sql)));
    return statement.all(...sql.values);
  };
  const bodies = queries.map((q) =>
    JSON.stringify({ query: PAGE, variables: { filter: { principalId: q.principalId, since: formatIsoMicros(q.sinceUs), until: formatIsoMicros(q.untilUs) } } }),
  );
  const cpu = async (f: (i: number) => unknown): Promise<number> => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < queries.length; i++) await f(i);
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / queries.length;
  };
  const out = { raw: [] as number[], store: [] as number[], graphql: [] as number[] };
  try {
    for (let r = 0; r <= rounds; r++) {
      const round = {
        raw: await cpu((i) => raw(queries[i]!)),
        store: await cpu((i) => stores.traces.page(pageQuery(queries[i]!))),
        graphql: await cpu(async (i) => dataOf(await post(gateway, bodies[i]!))),
      };
      if (r === 0) continue; // warm-up round
      out.raw.push(round.raw);
      out.store.push(round.store);
      out.graphql.push(round.graphql);
    }
  } finally {
    db.close();
  }
  return { raw: median(out.raw), store: median(out.store), graphql: median(out.graphql), rounds };
}

const HMAC_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHmac } = require("node:crypto");
const { secret, messages, repeats } = workerData;
const t0 = process.hrtime.bigint();
let n = 0;
for (let r = 0; r < repeats; r++) for (const m of messages) { createHmac("sha256", secret).update(m, "utf8").digest("hex"); n++; }
parentPort.postMessage({ n, ns: Number(process.hrtime.bigint() - t0) });
`;

/**
 * HMAC-SHA256 records/s over the canonical messages of the first `sample` records of the chain
 * in `file`, on `threads` worker threads at once (each hashes the whole sample `repeats`
 * times; the rate is all records hashed over the wall time of the slowest thread).
 */
export async function hmacLimit(file: string, threads: number, sample = 50_000, repeats = 4): Promise<number> {
  const db = new Database(file, { readonly: true });
  let messages: string[];
  try {
    const rows = db.prepare(`SELECT "seq", "prevHash", "payload" FROM "Trace" ORDER BY "seq" LIMIT ?`).all(sample) as { seq: number; prevHash: string; payload: string }[];
    messages = rows.map((r) => `{"prev_hash":"${r.prevHash}","seq":${r.seq},"trace":${r.payload}}`);
  } finally {
    db.close();
  }
  const t0 = performance.now();
  const results = await Promise.all(
    Array.from({ length: threads }, () =>
      new Promise<{ n: number }>((resolve, reject) => {
        const worker = new Worker(HMAC_WORKER, { eval: true, workerData: { secret: BENCH_SECRET, messages, repeats } });
        worker.once("message", resolve);
        worker.once("error", reject);
      }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  return results.reduce((n, r) => n + r.n, 0) / seconds;
}

/**
 * `npm run bench`: ingest throughput, page latency, verifyChain throughput, scale-out and
 * live subscriptions.
 * Results go to stdout and to BENCHMARKS.md (BENCH_QUICK=1: ~10x smaller sizes, results to
 * bench/.cache/BENCHMARKS.quick.md). BENCH_ONLY=streams runs only section 5 and writes a
 * section labelled as a partial run. See the intro of BENCHMARKS.md for the method.
 */
import { mkdirSync } from "node:fs";
import { cpus } from "node:os";
import { join, relative } from "node:path";
import type { App } from "../src/http/app.js";
import type { Stores } from "../src/stores/index.js";
import { TraceGenerator } from "./data.js";
import { CACHE_DIR, chainDb, createTemplate, hottestPrincipal, open, queryPlan, removeDb, ROOT, timeSpan } from "./db.js";
import { app } from "./gql.js";
import { concurrentSingleIngest, graphqlIngest, type IngestResult, rawIngest, storeIngest, warmUpAndCheck } from "./ingest.js";
import { checkPages, depthLatency, latencyRound, type LatencyRound, makeQueries, PAGE_SQL, SLOW_MS, type Variant } from "./pages.js";
import { appendSection, machine } from "./report.js";
import { pageHttpRun, type PageHttpResult } from "./page-http.js";
import { pgAvailable, pgChain, pgPages, type PgPageResult, type WriterResult, writersIngest } from "./scale.js";
import { int, max, mdTable, median, mib, mibSigned, min, ms, percentile, secs, textTable } from "./stats.js";
import { verifyRun, type VerifyRun } from "./verify.js";
import { hmacLimit, pageCpu, type PageCpu } from "./limits.js";
import { hygieneRun } from "./hygiene.js";
import { cpuMark, othersCores } from "./cpu.js";
import { streamPoints, streamsRun, streamsSection, streamsSummary } from "./streams.js";

const QUICK = process.env.BENCH_QUICK === "1";
/** BENCH_ONLY=streams: run only section 5 (live subscriptions). */
const ONLY = process.env.BENCH_ONLY || undefined;
const ONLY_SECTIONS = ["streams"] as const;
const scale = (n: number) => (QUICK ? Math.round(n / 10) : n);

const SIZES = {
  storeIngestTraces: scale(50_000),
  storeIngestRuns: 5,
  storeBatches: [1_000, 100],
  graphqlIngestTraces: scale(20_000),
  graphqlIngestRuns: 3,
  graphqlBatch: 1_000,
  rawIngestRuns: 3,
  singleClients: 16,
  singleClientTraces: scale(10_000),
  singleClientRuns: 3,
  chainRecords: scale(1_000_000),
  queriesPerRound: scale(2_000),
  latencyRounds: 3,
  warmupQueries: scale(200),
  checkedQueries: scale(100),
  verifyRuns: 3,
  depthPages: QUICK ? [0, 10, 100] : [0, 10, 100, 1_000],
  depthRepeats: 21,
  /** The HTTP page comparison: seconds per timed run, keep-alive connections, rounds, distinct queries. */
  httpSeconds: QUICK ? 2 : 5,
  httpConnections: 8,
  httpRounds: 3,
  httpQueries: scale(500),
  writerTraces: scale(40_000),
  writerRuns: 3,
  streamSubscribers: QUICK ? 100 : 1_000,
  streamSeconds: QUICK ? 3 : 10,
};

const TARGETS = { ingestPerSec: 20_000, graphqlIngestPerSec: 15_000, singleClientsPerSec: 5_000, pageP99Ms: 5, verifyPerSec: 200_000, storeOfRawPct: 70, graphqlOverStore: 2, httpOfBare: 0.7, httpOverPostgraphile: 2.5, pgWritersPerSec: 10_000, pgPageP99Ms: 10, hygieneSharePct: 5 };

const log = (line: string) => console.log(line);
const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");
const started = performance.now();

function othersText(cores: number | null): string {
  return cores === null ? "not measured (no /proc/stat)" : `${cores.toFixed(2)} cores on average (of ${cpus().length})`;
}

/** "; other processes kept 0.98 cores busy" when the machine was not quiet (>= 0.1 core). */
function othersNote(cores: number | null): string {
  if (cores === null) return "";
  return cores >= 0.1 ? `; **other processes kept ${cores.toFixed(2)} of the cores busy meanwhile**` : "; machine otherwise idle";
}

/** Section 5: live subscriptions on a fresh template. */
async function streamsBench() {
  log(`\n[5/5] live subscriptions: ${int(SIZES.streamSubscribers)} WebSocket subscribers at 1,000 events/s, and smaller points`);
  const template = await createTemplate();
  try {
    return await streamsRun(template, streamPoints(SIZES.streamSubscribers, SIZES.streamSeconds), log);
  } finally {
    removeDb(template);
  }
}

const STREAMS_HEADING = "### 5. Live subscriptions: delivery latency over graphql-ws";

async function main(): Promise<void> {
  if (ONLY !== undefined && !(ONLY_SECTIONS as readonly string[]).includes(ONLY)) {
    throw new Error(`BENCH_ONLY=${ONLY}: expected one of ${ONLY_SECTIONS.join(", ")}`);
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  const runMark = cpuMark();
  const m = machine();
  log(`tracegate bench (${QUICK ? "QUICK: sizes /10" : "full"}${ONLY ? `, BENCH_ONLY=${ONLY}` : ""}) - ${m.date}`);
  log(`${m.cpuModel}, ${m.cores} cores, ${mib(m.totalMemory)}, Node ${m.node}, SQLite ${m.sqlite}, commit ${m.commit}\n`);
  if (ONLY === "streams") return streamsOnly(m, runMark);

  // ---- 1. ingest ------------------------------------------------------------------------
  log("[1/5] ingest with hashing");
  const ingestMark = cpuMark();
  const template = await createTemplate();
  const storeTraces = new TraceGenerator(1).take(SIZES.storeIngestTraces);
  const graphqlTraces = storeTraces.slice(0, SIZES.graphqlIngestTraces);
  await warmUpAndCheck(template, new TraceGenerator(2).take(scale(5_000)));
  log("  warm-up done; GraphQL inputs hash to the same payloads as the store-level traces");
  const ingest: IngestResult[] = [];
  for (const batch of SIZES.storeBatches) {
    ingest.push(await storeIngest(template, storeTraces, batch, SIZES.storeIngestRuns, log));
  }
  const rawLimit = rawIngest(template, storeTraces, SIZES.storeBatches[0]!, SIZES.rawIngestRuns, log);
  ingest.push(rawLimit);
  ingest.push(await graphqlIngest(template, graphqlTraces, SIZES.graphqlBatch, SIZES.graphqlIngestRuns, log));
  ingest.push(await concurrentSingleIngest(template, storeTraces.slice(0, SIZES.singleClientTraces), SIZES.singleClients, SIZES.singleClientRuns, log));
  removeDb(template);
  const hygiene = hygieneRun(graphqlTraces, 7);
  log(`  ingest hygiene: scrubSecrets ${hygiene.scrubUs.toFixed(2)} us/trace, encodeTrace ${hygiene.encodeUs.toFixed(2)} us/trace`);
  const ingestOthers = othersCores(ingestMark);

  // ---- the big chain ---------------------------------------------------------------------
  log(`\n[2/5] page latency on a ${int(SIZES.chainRecords)}-trace chain`);
  const buildMark = cpuMark();
  const chain = await chainDb(SIZES.chainRecords, (l) => log(`  ${l}`));
  const buildOthers = chain.cached ? null : othersCores(buildMark);
  const span = timeSpan(chain.file);
  const stores: Stores = await open(chain.file);
  const gateway: App = await app(stores);
  let latency: LatencyRound[];
  let verify: VerifyRun[];
  let plans: { first: string[]; next: string[] };
  let pagesOthers: number | null;
  let depth: { depth: number; windowed: number; unwindowed: number }[];
  let hot: { principalId: string; count: number };
  let verifyOthers: number | null;
  let cpuPerPage: PageCpu;
  let hmacRate: number;
  try {
    const pagesMark = cpuMark();
    // ---- 2. page latency ------------------------------------------------------------------
    const sample = makeQueries(1, 99, span.startUs, span.endUs)[0];
    if (!sample) throw new Error("no sample query");
    plans = {
      first: queryPlan(chain.file, PAGE_SQL.first, [sample.principalId, sample.sinceUs, sample.untilUs]),
      next: queryPlan(chain.file, PAGE_SQL.next, [sample.principalId, sample.sinceUs, sample.untilUs, sample.untilUs, 0]),
    };
    await checkPages(stores, gateway, makeQueries(SIZES.checkedQueries, 7, span.startUs, span.endUs));
    log(`  checked ${SIZES.checkedQueries} queries: GraphQL pages 1 and 2 equal the store's keyset pages`);
    await latencyRound(stores, gateway, makeQueries(SIZES.warmupQueries, 8, span.startUs, span.endUs));
    log(`  warm-up: ${SIZES.warmupQueries} queries per variant`);
    latency = [];
    for (let r = 0; r < SIZES.latencyRounds; r++) {
      const round = await latencyRound(stores, gateway, makeQueries(SIZES.queriesPerRound, 100 + r, span.startUs, span.endUs));
      latency.push(round);
      log(
        `  round ${r + 1}/${SIZES.latencyRounds}: ` +
          (Object.keys(round.samples) as Variant[])
            .map((v) => `${v} p50 ${ms(percentile(round.samples[v], 50))} / p99 ${ms(percentile(round.samples[v], 99))} ms (n=${round.samples[v].length})`)
            .join("; "),
      );
    }

    cpuPerPage = await pageCpu(chain.file, stores, gateway, makeQueries(scale(1_000), 300, span.startUs, span.endUs), SIZES.latencyRounds);
    log(`  CPU per page: raw driver ${cpuPerPage.raw.toFixed(0)} us, store ${cpuPerPage.store.toFixed(0)} us, GraphQL ${cpuPerPage.graphql.toFixed(0)} us`);
    pagesOthers = othersCores(pagesMark);
    const h = hottestPrincipal(chain.file, SIZES.depthPages.filter((d) => d > 0).map((d) => d * 50 - 1));
    hot = { principalId: h.principalId, count: h.count };
    depth = await depthLatency(
      stores,
      h.principalId,
      (offset) => h.keysets.get(offset),
      { sinceUs: span.startUs, untilUs: span.endUs + 1 },
      SIZES.depthPages,
      SIZES.depthRepeats,
    );
    log(
      `  keyset depth (${h.principalId}, ${int(h.count)} traces): ` +
        depth.map((d) => `page ${int(d.depth + 1)}: ${ms(d.windowed)} ms with window / ${ms(d.unwindowed)} ms without`).join("; "),
    );

    // ---- 3. verifyChain ---------------------------------------------------------------------
    const verifyMark = cpuMark();
    log(`\n[3/5] verifyChain over ${int(SIZES.chainRecords)} records`);
    verify = [];
    for (let r = 0; r < SIZES.verifyRuns; r++) {
      const v = await verifyRun(gateway, SIZES.chainRecords);
      verify.push(v);
      log(
        `  run ${r + 1}/${SIZES.verifyRuns}: ok, checked ${int(v.checked)} in ${secs(v.ms)} = ${int(v.rate)} records/s; ` +
          `peak RSS ${mibSigned(v.rssPeakDelta)} (${mibSigned(v.rssDeltaAt10)} within the first 10% of the walk, ${v.samples} samples), ` +
          `heap retained ${mibSigned(v.heapRetained)}, longest event-loop stall ${secs(v.maxLoopStallMs)}`,
      );
    }
    hmacRate = await hmacLimit(chain.file, 2);
    log(`  limit: HMAC-SHA256 over the canonical messages on 2 threads: ${int(hmacRate)} records/s`);
    verifyOthers = othersCores(verifyMark);
  } finally {
    await stores.close();
  }

  // ---- 4. scale-out: concurrent writer processes, PostgreSQL ------------------------------
  const scaleMark = cpuMark();
  const pgProblem = await pgAvailable();
  const writerRuns: WriterResult[] = [];
  let pgResult: PgPageResult | undefined;
  log(`\n[4/5] scale-out: 1 and 4 writer processes on SQLite and PostgreSQL; PostgreSQL reads at ${int(SIZES.chainRecords)}`);
  const scaleTemplate = await createTemplate();
  for (const backend of pgProblem ? (["sqlite"] as const) : (["sqlite", "postgresql"] as const)) {
    for (const writers of [1, 4]) writerRuns.push(await writersIngest(backend, scaleTemplate, writers, SIZES.writerTraces, SIZES.writerRuns, log));
  }
  removeDb(scaleTemplate);
  if (pgProblem) log(`  PostgreSQL unavailable (${pgProblem}): PostgreSQL benchmarks skipped`);
  const pgUrl = pgProblem ? undefined : await pgChain(chain.file, chain.records, (l) => log(`  ${l}`));
  if (pgUrl) pgResult = await pgPages(pgUrl, timeSpan(chain.file), chain.records, SIZES.queriesPerRound, log);
  const scaleOthers = othersCores(scaleMark);

  // ---- 2b. the page over HTTP: tracegate, bare yoga, PostGraphile v4 ------------------------
  log(`\n[2b] page over HTTP: tracegate against bare graphql-yoga (same bytes)${pgUrl ? " and PostGraphile v4 (PostgreSQL)" : ""}`);
  const httpMark = cpuMark();
  const pageHttp: PageHttpResult = await pageHttpRun({
    sqliteFile: chain.file,
    pgUrl,
    queries: makeQueries(SIZES.httpQueries, 321, span.startUs, span.endUs),
    seconds: SIZES.httpSeconds,
    connections: SIZES.httpConnections,
    rounds: SIZES.httpRounds,
    log,
  });
  const httpLoad = othersCores(httpMark);

  // ---- 5. live subscriptions ------------------------------------------------------------------
  const streams = await streamsBench();

  // ---- report -------------------------------------------------------------------------------
  const totalMs = performance.now() - started;
  const runOthers = othersCores(runMark);
  const busy = runOthers !== null && runOthers >= 0.25;
  const summary: string[][] = [];
  const graphqlRate = median(ingest.find((r) => r.level === "graphql")?.rates ?? [Number.NaN]);
  const hygieneShare = (hygiene.scrubUs / (1e6 / graphqlRate)) * 100;
  const rawMedian = median(ingest.find((r) => r.level === "raw")?.rates ?? [Number.NaN]);
  const rawCpuMedian = median(ingest.find((r) => r.level === "raw")?.cpuRates ?? [Number.NaN]);
  const ingestRows = ingest.map((r) => {
    const med = median(r.rates);
    const cpuMed = median(r.cpuRates);
    const target =
      r.level === "raw" ? null : r.level === "graphql" ? TARGETS.graphqlIngestPerSec : r.level === "concurrent" ? TARGETS.singleClientsPerSec : TARGETS.ingestPerSec;
    const name = {
      store: `1a ingest, store, batch ${int(r.batch)}`,
      graphql: `1b ingest, GraphQL recordTraces, batch ${int(r.batch)}`,
      raw: `1d limit: raw better-sqlite3 insert, batch ${int(r.batch)}`,
      concurrent: `1e ingest, GraphQL, ${r.clients} concurrent clients, 1 trace per call`,
    }[r.level];
    const ofLimit = `${((med / rawMedian) * 100).toFixed(0)} % / ${((cpuMed / rawCpuMedian) * 100).toFixed(0)} %`;
    summary.push([
      name,
      target === null ? "(limit)" : `>= ${int(target)} traces/s`,
      `${int(med)} traces/s (${r.level === "raw" ? "the limit" : `${ofLimit} of the limit, wall / CPU`})`,
      target === null ? "-" : verdict(med >= target),
    ]);
    return [
      {
        store: "store: encodeTrace + append",
        graphql: "GraphQL: recordTraces via yoga.fetch",
        raw: "limit: raw better-sqlite3 INSERT of the hashed rows",
        concurrent: `GraphQL: ${r.clients} concurrent clients, recordTraces of 1 trace`,
      }[r.level],
      int(r.batch),
      int(r.tracesPerRun),
      String(r.rates.length),
      `**${int(med)}**`,
      `${int(min(r.rates))} - ${int(max(r.rates))}`,
      int(cpuMed),
      r.level === "raw" ? "-" : ofLimit,
      target === null ? "-" : `>= ${int(target)}`,
      target === null ? "-" : verdict(med >= target),
    ];
  });
  summary.push([
    "1c ingest hygiene: scrubSecrets per trace",
    `< ${TARGETS.hygieneSharePct} % of GraphQL ingest time`,
    `${hygiene.scrubUs.toFixed(2)} us (${hygieneShare.toFixed(1)} %)`,
    verdict(hygieneShare < TARGETS.hygieneSharePct),
  ]);

  const variants: { key: Variant; label: string }[] = [
    { key: "store", label: "store `page()` (limit 51)" },
    { key: "graphql-page1", label: "GraphQL `traces(first: 50)` page 1" },
    { key: "graphql-page2", label: "GraphQL page 2 (`after: endCursor`)" },
  ];
  const latencyRows = variants.map(({ key, label }) => {
    const p50s = latency.map((r) => percentile(r.samples[key], 50));
    const p99s = latency.map((r) => percentile(r.samples[key], 99));
    const all = latency.flatMap((r) => r.samples[key]);
    const p99 = median(p99s);
    summary.push([`2 page latency, ${label.replace(/`/g, "")}`, `p99 < ${TARGETS.pageP99Ms} ms`, `p50 ${ms(median(p50s))} ms, p99 ${ms(p99)} ms`, verdict(p99 < TARGETS.pageP99Ms)]);
    return [
      label,
      int(all.length),
      `**${ms(median(p50s))}**`,
      `**${ms(p99)}**`,
      `${ms(min(p99s))} - ${ms(max(p99s))}`,
      ms(percentile(all, 99.9)),
      ms(max(all)),
      `< ${TARGETS.pageP99Ms}`,
      verdict(p99 < TARGETS.pageP99Ms),
    ];
  });
  summary.push(["2b page over HTTP, tracegate (SQLite) req/s of bare yoga's", `>= ${TARGETS.httpOfBare * 100}%`, `${(pageHttp.ofBare * 100).toFixed(0)}%`, verdict(pageHttp.ofBare >= TARGETS.httpOfBare)]);
  if (pageHttp.overPostgraphile !== undefined) {
    summary.push(["2b page over HTTP, tracegate (PostgreSQL) over PostGraphile v4", `>= ${TARGETS.httpOverPostgraphile}x`, `${pageHttp.overPostgraphile.toFixed(2)}x`, verdict(pageHttp.overPostgraphile >= TARGETS.httpOverPostgraphile)]);
  }
  const httpRows = pageHttp.servers.map((r) => [
    r.label,
    `**${int(median(r.rates))}**`,
    `${int(min(r.rates))} - ${int(max(r.rates))}`,
    ms(median(r.cpuMs)),
    int(r.bytesPerResponse),
  ]);
  const gcRows = variants.map(({ key, label }) => {
    const count = latency.reduce((n, r) => n + r.slow[key].count, 0);
    const withGc = latency.reduce((n, r) => n + r.slow[key].withGc, 0);
    const total = latency.reduce((n, r) => n + r.samples[key].length, 0);
    return [label, `${int(count)} (${((count / total) * 100).toFixed(2)}%)`, count === 0 ? "-" : `${int(withGc)} (${((withGc / count) * 100).toFixed(0)}%)`];
  });
  const storeOfRaw = (cpuPerPage.raw / cpuPerPage.store) * 100;
  const graphqlOverStore = cpuPerPage.graphql / cpuPerPage.store;
  summary.push([
    "2 page CPU, store vs raw driver (same SQL)",
    `store >= ${TARGETS.storeOfRawPct}% of raw`,
    `store ${cpuPerPage.store.toFixed(0)} us, raw ${cpuPerPage.raw.toFixed(0)} us per page: ${storeOfRaw.toFixed(0)}%`,
    verdict(storeOfRaw >= TARGETS.storeOfRawPct),
  ]);
  summary.push([
    "2 page CPU, GraphQL vs store",
    `<= ${TARGETS.graphqlOverStore}x the store`,
    `GraphQL ${cpuPerPage.graphql.toFixed(0)} us per page: ${graphqlOverStore.toFixed(2)}x`,
    verdict(graphqlOverStore <= TARGETS.graphqlOverStore),
  ]);
  const pauses = latency.flatMap((r) => r.gcPauses);
  const depthRows = depth.map((d) => [
    int(d.depth + 1),
    int(d.depth * 50),
    ms(d.windowed),
    ms(d.unwindowed),
  ]);
  const rows = latency.flatMap((r) => r.rows);
  const fullPages = rows.filter((n) => n === 50).length;
  const emptyPages = rows.filter((n) => n === 0).length;

  const writerRows = writerRuns.map((r) => {
    const med = median(r.rates);
    const target = r.backend === "postgresql" && r.writers === 4 ? TARGETS.pgWritersPerSec : null;
    if (target !== null) summary.push([`4a ingest, ${r.writers} writer processes, PostgreSQL`, `>= ${int(target)} traces/s`, `${int(med)} traces/s`, verdict(med >= target)]);
    return [r.backend, String(r.writers), int(r.tracesPerRun), String(r.rates.length), `**${int(med)}**`, `${int(Math.min(...r.rates))} - ${int(Math.max(...r.rates))}`, target === null ? "-" : `>= ${int(target)}`, target === null ? "-" : verdict(med >= target)];
  });
  if (pgResult) {
    const p99 = pgResult.p99.store ?? Number.NaN;
    summary.push(["4b page latency, PostgreSQL, store page()", `p99 < ${TARGETS.pgPageP99Ms} ms`, `p50 ${ms(pgResult.p50.store ?? Number.NaN)} ms, p99 ${ms(p99)} ms`, verdict(p99 < TARGETS.pgPageP99Ms)]);
    const g = pgResult.p99["graphql-page1"] ?? Number.NaN;
    summary.push(["4b page latency, PostgreSQL, GraphQL page 1", `p99 < ${TARGETS.pgPageP99Ms} ms`, `p50 ${ms(pgResult.p50["graphql-page1"] ?? Number.NaN)} ms, p99 ${ms(g)} ms`, verdict(g < TARGETS.pgPageP99Ms)]);
  }
  summary.push(...streamsSummary(streams));
  const pgLatencyRows = pgResult
    ? Object.keys(pgResult.p50).map((v) => [v, ms(pgResult!.p50[v]!), ms(pgResult!.p99[v]!), `< ${TARGETS.pgPageP99Ms}`, verdict(pgResult!.p99[v]! < TARGETS.pgPageP99Ms)])
    : [];

  const vRates = verify.map((v) => v.rate);
  const vMed = median(vRates);
  summary.push([
    "3 verifyChain (GraphQL)",
    `>= ${int(TARGETS.verifyPerSec)} records/s`,
    `${int(vMed)} records/s (${((vMed / hmacRate) * 100).toFixed(0)}% of raw HMAC on 2 threads, ${int(hmacRate)}/s)`,
    verdict(vMed >= TARGETS.verifyPerSec),
  ]);
  const verifyRows = verify.map((v, i) => [
    String(i + 1),
    int(v.checked),
    secs(v.ms),
    int(v.rate),
    mib(v.rssBase),
    mibSigned(v.rssPeakDelta),
    v.rssDeciles.map((d) => (d / 1024 / 1024).toFixed(0)).join(" "),
    String(v.samples),
    mibSigned(v.heapRetained),
    secs(v.maxLoopStallMs),
  ]);

  const chainNote = chain.cached
    ? `reused from cache (${relative(ROOT, chain.file)}, ${mib(chain.sizeBytes)})`
    : `built in this run through \`append\` in batches of 2,000 in ${secs(chain.buildMs ?? 0)} = ` +
      `${int((chain.records / (chain.buildMs ?? 1)) * 1000)} traces/s (including trace generation; ${relative(ROOT, chain.file)}, ` +
      `${mib(chain.sizeBytes)})${othersNote(buildOthers)}`;
  const section = `## Run ${m.date}${QUICK ? " (BENCH_QUICK=1: sizes /10, smoke run only)" : ""}

- Machine: ${m.cpuModel}, ${m.cores} cores, ${mib(m.totalMemory)} RAM; ${m.os}
- Node ${m.node}, SQLite ${m.sqlite} (better-sqlite3 11; the stores' SQL on the driver, Prisma for schema and keys), commit ${m.commit}
- Total runtime of \`npm run bench\`: ${secs(totalMs)}; the ${int(chain.records)}-trace chain was ${chainNote}
- Other processes over the whole run: ${othersText(runOthers)}${busy ? " - **the machine was busy: treat these numbers as pessimistic**" : " (quiet machine)"}

### Summary

${mdTable(["benchmark", "target", "measured (median)", "result"], summary)}

### 1. Ingest with hashing (traces/s)

1c: ingest hygiene (the credential scan of args, resultSummary and error before hashing)
costs ${hygiene.scrubUs.toFixed(2)} µs per trace against ${hygiene.encodeUs.toFixed(2)} µs for its canonical
encoding, measured in a loop over the ${int(hygiene.traces)} GraphQL-ingest traces (median of 7 rounds).

Each run on a fresh copy of a database migrated with \`prisma migrate deploy\`; the timer covers
\`encodeTrace\` + \`append\` for every batch (store), or every \`recordTraces\` request through
\`yoga.fetch\` including the response (GraphQL; bodies are serialised before the timer starts).
SQLite runs in WAL mode with \`synchronous = FULL\` as the store configures it, so every batch
is one fsync-ed transaction. The limit (1d) inserts the same rows, encoded and hashed before
its timer, with raw better-sqlite3 into a copy of the same migrated schema and indexes; 1e runs
${SIZES.singleClients} clients concurrently, each awaiting its one-trace recordTraces call before the next
(group commit shares one transaction among the calls that arrive together). CPU of other processes during this benchmark: ${othersText(ingestOthers)}.

${mdTable(["level", "batch", "traces per run", "runs", "median traces/s", "min - max", "median traces per CPU s", "of the limit (wall / CPU)", "target", "result"], ingestRows)}

### 2. Page latency, principal + time window, \`first: 50\`, INVOKED_AT_DESC (ms)

${int(chain.records)} traces; ${SIZES.latencyRounds} rounds of ${int(SIZES.queriesPerRound)} queries (random principal out of 100,
random window of 5 min - 24 h, log-uniform) after ${int(SIZES.warmupQueries)} warm-up queries per variant; sequential, in
process. p50/p99 are the median of the per-round values; "p99 range" is min - max over rounds,
p99.9 and max are over all samples. The GraphQL timings include body serialisation,
\`yoga.fetch\` and parsing the response. Page 1 held 50 rows in ${((fullPages / rows.length) * 100).toFixed(1)}% of the queries
(mean ${(rows.reduce((a, b) => a + b, 0) / rows.length).toFixed(1)} rows, ${((emptyPages / rows.length) * 100).toFixed(1)}% empty); page 2 is measured whenever page 1 had \`hasNextPage\`.
Before timing, ${SIZES.checkedQueries} queries were checked: GraphQL pages 1 and 2 equal the store's keyset pages.
CPU of other processes during this benchmark: ${othersText(pagesOthers)}.

${mdTable(["variant", "samples", "p50", "p99", "p99 range", "p99.9", "max", "target p99", "result"], latencyRows)}

Over real sockets (bench/page-http.ts): each server in its own process with NODE_ENV=production,
one load generator process with ${SIZES.httpConnections} keep-alive connections cycling through ${int(pageHttp.distinctQueries)} of these
queries (page 1), ${pageHttp.rounds} timed runs of ${pageHttp.seconds} s per server, alternating (A B B A ...); CPU is the
server process's own (/proc/<pid>/stat), per request. Bare graphql-yoga (defaults, graphql-js schema of the same shape)
answers from memory with tracegate's response bytes (checked for every query before timing).
${pageHttp.overPostgraphile !== undefined ? "PostGraphile v4 serves the same page from the PostgreSQL copy of the chain (a STABLE SQL function over the same index and order, checked row for row); its CPU column leaves out the PostgreSQL backend's work, which it pushes into the database." : `PostGraphile v4: not measured (${pageHttp.postgraphileSkipped ?? "?"}).`}
tracegate reaches **${(pageHttp.ofBare * 100).toFixed(0)}%** of bare yoga's req/s (target >= ${TARGETS.httpOfBare * 100}%; per-round ratios, median)${pageHttp.overPostgraphile !== undefined ? ` and **${pageHttp.overPostgraphile.toFixed(2)}x** PostGraphile's (target >= ${TARGETS.httpOverPostgraphile}x)` : ""}.
CPU of other processes (load generator included) during the HTTP runs: ${othersText(httpLoad)}.

${mdTable(["server", "median req/s", "min - max", "server CPU ms per request", "response bytes"], httpRows)}

SQLite plan for the first page: \`${plans.first.join("; ")}\`; for the next page: \`${plans.next.join("; ")}\`.

Where the slow samples come from: a sample is "slow" above ${SLOW_MS} ms; it "overlapped a GC pause" when a
V8 GC event (perf_hooks) ran during it. GC pauses during the timed rounds: ${int(pauses.length)}, median
${ms(median(pauses))} ms, p90 ${ms(percentile(pauses, 90))} ms, max ${ms(max(pauses))} ms.

${mdTable(["variant", `samples > ${SLOW_MS} ms`, "of those, overlapped a GC pause"], gcRows)}

CPU per page (this process, user + system, median of ${cpuPerPage.rounds} interleaved rounds of ${int(scale(1_000))} queries after a warm-up
round): the raw driver (better-sqlite3, the store's SQL text, a cached statement, rows as the
driver returns them) ${cpuPerPage.raw.toFixed(0)} µs; the store's \`page()\` ${cpuPerPage.store.toFixed(0)} µs
(${storeOfRaw.toFixed(0)}% of raw; target >= ${TARGETS.storeOfRawPct}%); GraphQL through \`yoga.fetch\` ${cpuPerPage.graphql.toFixed(0)} µs
(${graphqlOverStore.toFixed(2)}x the store; target <= ${TARGETS.graphqlOverStore}x).

Keyset depth (store \`page()\`, median of ${SIZES.depthRepeats}): the page that many pages deep into the hottest principal
(${hot.principalId}, ${int(hot.count)} traces), newest first, with a time window covering the whole chain and without any window.

${mdTable(["page", "rows before it", "ms with since/until", "ms without window"], depthRows)}

### 3. verifyChain throughput (records/s)

\`{ verifyChain { ok checked } }\` through \`yoga.fetch\`, asserted \`ok: true\` and
\`checked: ${int(chain.records)}\` every run. Process RSS sampled every 50 ms from a worker thread,
deltas against the RSS right before the request (after a full GC); streaming shows as a
plateau in the by-decile column (bounded memory), a leak as steady growth to the end. "Heap retained" is the
main-thread heap after the walk and a full GC minus before. The walk yields to the event loop
between batches so other requests are served meanwhile; the longest stall is in the last
column. CPU of other processes during this benchmark: ${othersText(verifyOthers)}.

${mdTable(["run", "checked", "time", "records/s", "RSS before", "peak RSS delta", "peak RSS delta (MiB) by 10%, 20%, ..., 100% of the walk", "RSS samples", "heap retained", "longest event-loop stall"], verifyRows)}

Median: **${int(vMed)} records/s** (target >= ${int(TARGETS.verifyPerSec)}: ${verdict(vMed >= TARGETS.verifyPerSec)}).
The limit, measured in this run: HMAC-SHA256 alone over the same canonical messages (the first
50,000 records, hashed 4 times over) on 2 worker threads, no database: **${int(hmacRate)} records/s**;
verification reached ${((vMed / hmacRate) * 100).toFixed(0)}% of it.

### 4. Scale-out: concurrent writer processes, PostgreSQL

Ingest: every writer is its own process with its own store on one shared, fresh database (as
gateway replicas would be), appending ${int(SIZES.writerTraces)} traces in total in batches of 1,000 after a common
start signal; traces/s over the wall clock from the first start to the last finish. Every run
then checks one gapless chain (head = row count = traces sent). CPU of other processes during
this benchmark: ${othersText(scaleOthers)}.

${mdTable(["backend", "writers", "traces per run", "runs", "median traces/s", "min - max", "target", "result"], writerRows)}

${pgResult ? `PostgreSQL reads: the same ${int(chain.records)}-trace chain copied row for row into PostgreSQL (ANALYZEd), ${SIZES.latencyRounds} rounds of ${int(SIZES.queriesPerRound)} queries as in section 2 (p50/p99 medians over rounds, ${int(pgResult.samples)} store samples); verifyChain over it: **${int(pgResult.verifyRate)} records/s**.

${mdTable(["variant", "p50 (ms)", "p99 (ms)", "target p99", "result"], pgLatencyRows)}` : `PostgreSQL was unavailable (${pgProblem}); its benchmarks were skipped.`}

${streamsSection(streams, STREAMS_HEADING)}
`;

  const out = QUICK ? join(CACHE_DIR, "BENCHMARKS.quick.md") : join(ROOT, "BENCHMARKS.md");
  appendSection(out, section);

  log("\nSummary");
  log(textTable(["benchmark", "target", "measured (median)", "result"], summary));
  log(`\nTotal ${secs(totalMs)}; other processes used ${othersText(runOthers)}${busy ? " (busy machine)" : ""}. Written to ${relative(ROOT, out)}.`);
}

/** BENCH_ONLY=streams: section 5 alone, written as a section clearly marked as a partial run. */
async function streamsOnly(m: ReturnType<typeof machine>, runMark: ReturnType<typeof cpuMark>): Promise<void> {
  const streams = await streamsBench();
  const totalMs = performance.now() - started;
  const runOthers = othersCores(runMark);
  const summary = streamsSummary(streams);
  const section = `## Run ${m.date} - partial run (BENCH_ONLY=streams): section 5 only${QUICK ? " (BENCH_QUICK=1: sizes /10, smoke run only)" : ""}

- Machine: ${m.cpuModel}, ${m.cores} cores, ${mib(m.totalMemory)} RAM; ${m.os}
- Node ${m.node}, SQLite ${m.sqlite} (better-sqlite3 11; the stores' SQL on the driver, Prisma for schema and keys), commit ${m.commit}
- Sections 1-4 were not run (\`BENCH_ONLY=streams npm run bench\`); runtime ${secs(totalMs)}
- CPU of processes other than the benchmark over the whole run: ${othersText(runOthers)} (this figure counts the
  subscriber child process as "other"; the per-point figures below subtract it)

### Summary (section 5 only)

${mdTable(["benchmark", "target", "measured", "result"], summary)}

${streamsSection(streams, STREAMS_HEADING)}
`;
  const out = QUICK ? join(CACHE_DIR, "BENCHMARKS.quick.md") : join(ROOT, "BENCHMARKS.md");
  appendSection(out, section);
  log("\nSummary (BENCH_ONLY=streams: section 5 only)");
  log(textTable(["benchmark", "target", "measured", "result"], summary));
  log(`\nTotal ${secs(totalMs)}. Written to ${relative(ROOT, out)}.`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});

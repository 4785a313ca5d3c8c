/**
 * The shipper (`tracegate ship`, src/ship/): the sustained rate at which it moves
 * a weaver-kernel JSONL store into a gateway, end to end, as an operator runs it.
 *
 *   node --import tsx bench/ship.ts                  # prints a markdown section for BENCHMARKS.md
 *   BENCH_QUICK=1 node --import tsx bench/ship.ts    # ~10x smaller, smoke run
 *
 * 1. The store: N traces of the benchmark mix (bench/data.ts), exported as the reference
 *    exports them, written by CPython with the independent writer the e2e tests use
 *    (test/support/reference-writer.py `jsonl`: one json.dumps line per record, HMAC chain).
 * 2. Per run: a real gateway process (`bin/tracegate.js serve`, SQLite in a fresh data dir
 *    holding a copy of a migrated template, the store's secret, a bootstrap admin key), then
 *    `tracegate ship <store> --once --url <gateway> --key <admin key> --batch <b>` as a real
 *    process under /usr/bin/time (the shipper's user + system CPU and max RSS). Wall time runs
 *    from spawn to exit, so it includes process start (Node + tsx loader + imports); the
 *    progress lines the shipper prints after every acknowledged batch are timestamped on
 *    arrival, which gives the steady-state rate between the first and the last acknowledgement.
 *    The gateway's CPU comes from /proc/<pid>/stat (utime + stime) before and after.
 * 3. Afterwards the gateway must hold exactly N traces (chainHead.nextSeq), its head hash must
 *    be the store's last record_hash (the same secret over the same payloads and seqs: a
 *    byte-exact copy), and verifyChain must be ok over N records.
 * 4. A baseline: the same command on an empty store (nothing to ship) gives the fixed cost of
 *    a shipper process.
 *
 * Self-contained (not part of bench/run.ts); scratch files are bench/.cache/ship-*.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { arch, cpus, platform, release, totalmem } from "node:os";
import { join } from "node:path";
import type { JsonValue } from "../src/chain/json.js";
import { pythonJsonDumps } from "../src/chain/json.js";
import { exportTrace } from "../src/chain/trace.js";
import { migrateDatabase } from "../src/stores/prisma/migrate.js";
import { cpuMark, othersCores } from "./cpu.js";
import { TraceGenerator } from "./data.js";
import { BENCH_SECRET, CACHE_DIR, removeDb, ROOT, sqliteVersion } from "./db.js";
import { int, mdTable, median } from "./stats.js";
import { cleanEnv, startGateway as startGatewayProcess } from "./gateway-process.js";

const QUICK = process.env.BENCH_QUICK === "1";
const scale = (n: number) => (QUICK ? Math.round(n / 10) : n);

const SIZES = {
  traces: scale(20_000),
  runs: 3,
  batch: 500,
  compareBatch: 100,
};

const BIN = join(ROOT, "bin/tracegate.js");
const WRITER = join(ROOT, "test/support/reference-writer.py");
const ADMIN_KEY = "tgk_bench-ship-admin-0123456789abcdefghijklmnopq";
const TIME = "/usr/bin/time";
const TICKS_PER_SEC = 100; // USER_HZ
const SHIP_TIMEOUT_MS = 180_000;

const log = (line: string) => console.error(line); // progress on stderr, the section on stdout

/** utime + stime of a live process, in seconds (null when it is gone or off Linux). */
function procCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the ")" closing comm: state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / TICKS_PER_SEC;
  } catch {
    return null;
  }
}

/** CPU of this process's terminated, waited-for children (cutime + cstime), seconds. */
function childrenCpuSeconds(): number | null {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[13]) + Number(f[14])) / TICKS_PER_SEC;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------

/** Write N traces as a reference JSONL store with CPython; returns the last record_hash. */
function writeStore(path: string, n: number): { bytes: number; lastHash: string; seconds: number } {
  rmSync(path, { force: true });
  const traces = new TraceGenerator(0x5417).take(n).map((t) => exportTrace(t) as JsonValue);
  const t0 = performance.now();
  const run = spawnSync("python3", [WRITER, "jsonl", path, BENCH_SECRET], {
    input: pythonJsonDumps(traces),
    encoding: "utf8",
    env: { ...process.env, PYTHONIOENCODING: "utf-8" },
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`reference-writer.py failed: ${run.stderr}`);
  const text = readFileSync(path, "utf8");
  const lines = text.trimEnd().split("\n");
  if (lines.length !== n) throw new Error(`the store holds ${lines.length} lines, expected ${n}`);
  const last = JSON.parse(lines.at(-1)!) as { seq: number; record_hash: string };
  if (last.seq !== n - 1) throw new Error(`last seq ${last.seq}, expected ${n - 1}`);
  return { bytes: Buffer.byteLength(text), lastHash: last.record_hash, seconds };
}

// ---------------------------------------------------------------------------
// The gateway
// ---------------------------------------------------------------------------

async function gql<T>(url: string, query: string): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (body.errors || !body.data) throw new Error(`${query}: ${JSON.stringify(body.errors ?? body)}`);
  return body.data;
}

// ---------------------------------------------------------------------------
// The shipper
// ---------------------------------------------------------------------------

interface ShipRun {
  wallMs: number;
  /** Shipper process CPU (user + system, all threads), seconds; null when not measurable. */
  userS: number | null;
  sysS: number | null;
  maxRssKiB: number | null;
  /** Acknowledged batches (progress lines) and their arrival times (ms since spawn). */
  acks: { at: number; records: number }[];
  stdout: string;
  stderr: string;
}

/** `tracegate ship <store> --once ...` as a real process, timed from spawn to exit. */
function runShipper(store: string, statePath: string, url: string, batch: number): Promise<ShipRun> {
  const args = [BIN, "ship", store, "--once", "--url", url, "--key", ADMIN_KEY, "--state", statePath, "--batch", String(batch)];
  const timeFile = `${statePath}.time`;
  rmSync(timeFile, { force: true });
  const useTime = existsSync(TIME);
  const env = cleanEnv({ WEAVER_KERNEL_SECRET: BENCH_SECRET });
  const acks: ShipRun["acks"] = [];
  let stdout = "";
  let stderr = "";
  let pending = "";
  // Without /usr/bin/time: sample /proc/<pid>/stat until it is gone (the last sample is at most 10 ms early).
  let sampled: number | null = null;
  const t0 = performance.now();
  const child = useTime
    ? spawn(TIME, ["-f", "%U %S %M", "-o", timeFile, process.execPath, ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] })
    : spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const sampler = useTime
    ? null
    : setInterval(() => {
        const s = procCpuSeconds(child.pid!);
        if (s !== null) sampled = s;
      }, 10);
  child.stdout!.on("data", (b: Buffer) => {
    const at = performance.now() - t0;
    const text = b.toString();
    stdout += text;
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      const m = /^shipped seq \d+\.\.\d+ \((\d+) record\(s\)\)/.exec(line);
      if (m) acks.push({ at, records: Number(m[1]) });
    }
  });
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`tracegate ship did not exit within ${SHIP_TIMEOUT_MS / 1000} s; stderr:\n${stderr}`));
    }, SHIP_TIMEOUT_MS);
    child.once("error", reject);
    child.once("close", (code) => {
      const wallMs = performance.now() - t0;
      clearTimeout(timer);
      if (sampler) clearInterval(sampler);
      if (code !== 0) return reject(new Error(`tracegate ship exited ${code}; stderr:\n${stderr}`));
      let userS: number | null = null;
      let sysS: number | null = null;
      let maxRssKiB: number | null = null;
      if (useTime) {
        const [u, s, m] = readFileSync(timeFile, "utf8").trim().split("\n").at(-1)!.split(" ").map(Number);
        userS = u ?? null;
        sysS = s ?? null;
        maxRssKiB = m ?? null;
        rmSync(timeFile, { force: true });
      } else if (sampled !== null) {
        userS = sampled;
        sysS = 0;
      }
      resolve({ wallMs, userS, sysS, maxRssKiB, acks, stdout, stderr });
    });
  });
}

const cpuOf = (r: ShipRun) => (r.userS === null ? null : r.userS + (r.sysS ?? 0));

// ---------------------------------------------------------------------------
// One measured run
// ---------------------------------------------------------------------------

interface Result {
  batch: number;
  run: number;
  wallMs: number;
  rate: number;
  /** Records per second between the first and the last acknowledgement. */
  steadyRate: number | null;
  requests: number;
  shipperCpuS: number | null;
  maxRssKiB: number | null;
  gatewayCpuS: number | null;
  others: number | null;
}

async function measuredRun(template: string, store: string, n: number, lastHash: string, batch: number, run: number): Promise<Result> {
  const tag = `b${batch}-r${run}`;
  const dataDir = join(CACHE_DIR, `ship-gw-${tag}`);
  const statePath = join(CACHE_DIR, `ship-state-${tag}.json`);
  rmSync(statePath, { force: true });
  const gateway = await startGatewayProcess(template, dataDir, ADMIN_KEY);
  try {
    const before = await gql<{ chainHead: { nextSeq: number } }>(gateway.url, "{ chainHead { nextSeq } }");
    if (before.chainHead.nextSeq !== 0) throw new Error(`fresh gateway holds ${before.chainHead.nextSeq} records`);
    const gwBefore = procCpuSeconds(gateway.child.pid!);
    const mark = cpuMark();
    const r = await runShipper(store, statePath, gateway.url, batch);
    const machineOthers = othersCores(mark);
    const gwAfter = procCpuSeconds(gateway.child.pid!);
    const seconds = r.wallMs / 1000;
    const shipperCpuS = cpuOf(r);
    const gatewayCpuS = gwBefore !== null && gwAfter !== null ? gwAfter - gwBefore : null;
    // othersCores counts everything but this process: take the shipper and the gateway out too.
    const others =
      machineOthers === null ? null : Math.max(0, machineOthers - ((shipperCpuS ?? 0) + (gatewayCpuS ?? 0)) / seconds);

    // Exactly N, byte for byte, and an intact chain.
    const shipped = r.acks.reduce((a, b) => a + b.records, 0);
    if (shipped !== n) throw new Error(`${tag}: progress lines account for ${shipped} records, expected ${n}`);
    const head = await gql<{ chainHead: { nextSeq: number; headHash: string } }>(gateway.url, "{ chainHead { nextSeq headHash } }");
    if (head.chainHead.nextSeq !== n) throw new Error(`${tag}: the gateway holds ${head.chainHead.nextSeq} records, expected ${n}`);
    if (head.chainHead.headHash !== lastHash) throw new Error(`${tag}: gateway head ${head.chainHead.headHash} is not the store's last record_hash ${lastHash}`);
    const v = await gql<{ verifyChain: { ok: boolean; checked: number; detail: string } }>(gateway.url, "{ verifyChain { ok checked detail } }");
    if (!v.verifyChain.ok || v.verifyChain.checked !== n) throw new Error(`${tag}: verifyChain ${JSON.stringify(v.verifyChain)}`);

    const first = r.acks[0]!;
    const last = r.acks.at(-1)!;
    const steadyRate = r.acks.length >= 2 ? ((n - first.records) / (last.at - first.at)) * 1000 : null;
    const result: Result = {
      batch,
      run,
      wallMs: r.wallMs,
      rate: n / seconds,
      steadyRate,
      requests: r.acks.length,
      shipperCpuS,
      maxRssKiB: r.maxRssKiB,
      gatewayCpuS,
      others,
    };
    log(
      `  batch ${batch} run ${run}: ${int(result.rate)} traces/s start to exit (${seconds.toFixed(2)} s), ` +
        `${steadyRate === null ? "-" : int(steadyRate)} traces/s first to last ack, ${r.acks.length} requests; ` +
        `shipper CPU ${shipperCpuS?.toFixed(2) ?? "n/a"} s, gateway CPU ${gatewayCpuS?.toFixed(2) ?? "n/a"} s, others ${others?.toFixed(2) ?? "n/a"} cores; ` +
        `chain ok (${v.verifyChain.checked}), head = store's last record_hash`,
    );
    return result;
  } finally {
    await gateway.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(statePath, { force: true });
  }
}

/** The fixed cost of a shipper process: an empty store, nothing to ship. */
async function baseline(template: string, store: string): Promise<{ wallMs: number; cpuS: number | null; maxRssKiB: number | null }> {
  const dataDir = join(CACHE_DIR, "ship-gw-baseline");
  const statePath = join(CACHE_DIR, "ship-state-baseline.json");
  writeFileSync(store, "");
  const gateway = await startGatewayProcess(template, dataDir, ADMIN_KEY);
  try {
    const walls: number[] = [];
    const cpu: number[] = [];
    let rss: number | null = null;
    for (let i = 0; i < 2; i++) {
      rmSync(statePath, { force: true });
      const r = await runShipper(store, statePath, gateway.url, SIZES.batch);
      if (r.acks.length !== 0) throw new Error("baseline: something was shipped from an empty store");
      walls.push(r.wallMs);
      const c = cpuOf(r);
      if (c !== null) cpu.push(c);
      rss = r.maxRssKiB;
    }
    return { wallMs: median(walls), cpuS: cpu.length > 0 ? median(cpu) : null, maxRssKiB: rss };
  } finally {
    await gateway.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(statePath, { force: true });
    rmSync(store, { force: true });
  }
}

// ---------------------------------------------------------------------------

const f2 = (x: number | null) => (x === null ? "n/a" : x.toFixed(2));

async function main(): Promise<void> {
  const date = new Date().toUTCString();
  const cpu = cpus();
  const machineLine = `${cpu[0]?.model.trim() ?? "unknown CPU"}, ${cpu.length} cores, ${int(totalmem() / 1024 / 1024)} MiB RAM; ${platform()} ${release()} ${arch()}; Node ${process.version}, SQLite ${sqliteVersion()}`;
  log(`ship bench (${QUICK ? "QUICK: sizes /10" : "full"}) - ${date}\n${machineLine}`);
  const started = performance.now();
  const overall = cpuMark();
  const childrenBefore = childrenCpuSeconds();
  mkdirSync(CACHE_DIR, { recursive: true });

  const template = join(CACHE_DIR, "ship-template.db");
  removeDb(template);
  await migrateDatabase(`file:${template}`);
  const store = join(CACHE_DIR, "ship-store.jsonl");
  const emptyStore = join(CACHE_DIR, "ship-empty.jsonl");

  const results: Result[] = [];
  let written: ReturnType<typeof writeStore>;
  let base: Awaited<ReturnType<typeof baseline>>;
  try {
    log(`\nwriting ${int(SIZES.traces)} traces with reference-writer.py ...`);
    written = writeStore(store, SIZES.traces);
    log(`  ${(written.bytes / 1024 / 1024).toFixed(1)} MiB in ${written.seconds.toFixed(1)} s`);

    log("\nbaseline: a shipper process on an empty store");
    base = await baseline(template, emptyStore);
    log(`  ${(base.wallMs / 1000).toFixed(2)} s wall, ${f2(base.cpuS)} s CPU`);

    log(`\nshipping ${int(SIZES.traces)} traces, batch ${SIZES.batch}, ${SIZES.runs} runs on fresh gateways; then batch ${SIZES.compareBatch} once`);
    for (let run = 1; run <= SIZES.runs; run++) results.push(await measuredRun(template, store, SIZES.traces, written.lastHash, SIZES.batch, run));
    results.push(await measuredRun(template, store, SIZES.traces, written.lastHash, SIZES.compareBatch, 1));
  } finally {
    removeDb(template);
    rmSync(store, { force: true });
    rmSync(emptyStore, { force: true });
  }
  // Everything but this process, minus its children (gateways, shippers, the Python writer; all reaped by now).
  const machineOverall = othersCores(overall);
  const childrenAfter = childrenCpuSeconds();
  const overallSeconds = (performance.now() - overall.at) / 1000;
  const othersOverall =
    machineOverall === null || childrenBefore === null || childrenAfter === null
      ? null
      : Math.max(0, machineOverall - (childrenAfter - childrenBefore) / overallSeconds);

  const main500 = results.filter((r) => r.batch === SIZES.batch);
  const cmp = results.filter((r) => r.batch === SIZES.compareBatch);
  const rows = [...main500, ...cmp].map((r) => {
    const s = r.wallMs / 1000;
    return [
      int(r.batch),
      String(r.run),
      (r.wallMs / 1000).toFixed(2),
      `**${int(r.rate)}**`,
      r.steadyRate === null ? "-" : int(r.steadyRate),
      int(r.requests),
      r.shipperCpuS === null ? "n/a" : `${r.shipperCpuS.toFixed(2)} (${((r.shipperCpuS / s) * 100).toFixed(0)}%)`,
      r.shipperCpuS === null ? "n/a" : `${int(((r.shipperCpuS - (base.cpuS ?? 0)) / SIZES.traces) * 1e6)}`,
      r.gatewayCpuS === null ? "n/a" : `${r.gatewayCpuS.toFixed(2)} (${((r.gatewayCpuS / s) * 100).toFixed(0)}%)`,
      r.gatewayCpuS === null ? "n/a" : int((r.gatewayCpuS / SIZES.traces) * 1e6),
      r.maxRssKiB === null ? "n/a" : `${int(r.maxRssKiB / 1024)} MiB`,
      f2(r.others),
    ];
  });
  const med = median(main500.map((r) => r.rate));
  const medSteady = median(main500.map((r) => r.steadyRate ?? Number.NaN));
  const medShipCpu = median(main500.map((r) => r.shipperCpuS ?? Number.NaN));
  const medGwCpu = median(main500.map((r) => r.gatewayCpuS ?? Number.NaN));
  const medWall = median(main500.map((r) => r.wallMs / 1000));
  const shipUsPer = ((medShipCpu - (base.cpuS ?? 0)) / SIZES.traces) * 1e6;
  const gwUsPer = (medGwCpu / SIZES.traces) * 1e6;
  const cmpRate = cmp[0]?.rate ?? Number.NaN;
  const busiest = Math.max(othersOverall ?? 0, ...results.map((r) => r.others ?? 0));
  const busy = busiest >= 0.25;
  const ceiling = 1e6 / (shipUsPer + gwUsPer);
  const pairCores = median(main500.map((r) => ((r.shipperCpuS ?? 0) + (r.gatewayCpuS ?? 0)) / (r.wallMs / 1000)));
  const startShare = (base.wallMs / 1000 / medWall) * 100;

  const section = [
    `## Shipper run ${date}${QUICK ? " - QUICK (sizes /10)" : ""}`,
    "",
    `- Machine: ${machineLine}`,
    `- \`node --import tsx bench/ship.ts\` (standalone, not part of \`npm run bench\`); runtime ${((performance.now() - started) / 1000).toFixed(1)} s`,
    `- Other processes over the whole run: ${f2(othersOverall)} cores on average (of ${cpu.length}; machine CPU minus this benchmark and its child processes: gateways, shippers, the Python writer)`,
    "",
    "### 7. Shipper: sustained shipping rate (`tracegate ship`)",
    "",
    `**Method.** A reference JSONL store of ${int(SIZES.traces)} traces of the benchmark mix (bench/data.ts, exported as the reference exports them; ${(written.bytes / 1024 / 1024).toFixed(1)} MiB) written by CPython with ` +
      "the e2e tests' independent writer (test/support/reference-writer.py `jsonl`: one `json.dumps` line per record, HMAC chain over the canonical JSON). " +
      `Per run: a real gateway process (\`bin/tracegate.js serve\`, SQLite in a fresh data dir holding a copy of a migrated template, the store's secret, default limits incl. the rate limit), ` +
      `then \`tracegate ship <store> --once --url <gateway> --key <admin key> --batch <b>\` as a real process under \`/usr/bin/time\`; ` +
      "wall time from spawn to exit, so it includes the process start (Node, the tsx loader, imports; measured alone on an empty store: " +
      `${(base.wallMs / 1000).toFixed(2)} s wall, ${f2(base.cpuS)} s CPU${base.maxRssKiB !== null ? `, ${int(base.maxRssKiB / 1024)} MiB RSS` : ""}). ` +
      `"First to last ack" = the records after the first batch / the time between the first and the last progress line (one per acknowledged request, timestamped on arrival): the steady state without start-up. ` +
      "Shipper CPU = user + system from /usr/bin/time (per trace: minus the empty-store baseline); gateway CPU = utime + stime from /proc/<pid>/stat around the run (the percentages are of one core). " +
      `After every run the gateway held exactly ${int(SIZES.traces)} records, its chainHead.headHash equalled the store's last record_hash (a byte-exact copy), verifyChain was ok over all of them, and the shipper reported no altered payload. ` +
      `Median of ${SIZES.runs} runs at --batch ${SIZES.batch} (the default), each on a fresh gateway, and one run at --batch ${SIZES.compareBatch}. Other processes = machine CPU minus this benchmark, the shipper and the gateway (bench/cpu.ts).`,
    "",
    mdTable(
      [
        "--batch",
        "run",
        "wall (s)",
        "traces/s start to exit",
        "traces/s first to last ack",
        "requests",
        "shipper CPU s (% of wall)",
        "shipper µs/trace",
        "gateway CPU s (% of wall)",
        "gateway µs/trace",
        "shipper max RSS",
        "other processes (cores)",
      ],
      rows,
    ),
    "",
    `**Reading.** \`tracegate ship\` moved ${int(SIZES.traces)} traces in ${medWall.toFixed(1)} s: **${int(med)} traces/s** start to exit (median, --batch ${SIZES.batch}; ${int(medSteady)} traces/s once running; --batch ${SIZES.compareBatch}: ${int(cmpRate)} traces/s). ` +
      `What limits it is CPU in a strictly turn-taking pipeline: the shipper parses, verifies and encodes a batch, then waits for the gateway's acknowledgement and saves its fsync-ed state before reading on, so its ~${int(shipUsPer)} µs/trace ` +
      `(lossless parse, HMAC re-check, byte-exactness check, encoding) and the gateway's ~${int(gwUsPer)} µs/trace (GraphQL, hashing, one fsync-ed SQLite transaction per request) add up instead of overlapping (ceiling ~${int(ceiling)} traces/s), ` +
      `and the fixed ${(base.wallMs / 1000).toFixed(1)} s process start (tsx loader + imports) is ${startShare.toFixed(0)}% of a ${int(SIZES.traces)}-trace run.` +
      (busy
        ? ` **Other processes kept up to ${busiest.toFixed(2)} of the ${cpu.length} cores busy meanwhile (shipper + gateway together used ${pairCores.toFixed(2)} cores): treat these numbers as pessimistic.**`
        : ""),
  ].join("\n");
  console.log(`\n${section}`);
}

await main();

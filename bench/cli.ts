/**
 * CLI and gateway start-up: what an operator waits for, compiled (dist/, `bin/tracegate.js`,
 * `npm start`) against the same sources run through tsx (how `bin/tracegate.js` and `npm start`
 * ran before the build existed), interleaved run by run in one process so both see the same
 * machine load.
 *
 *   npm run build && node --import tsx bench/cli.ts     # appends a section to BENCHMARKS.md
 *   BENCH_QUICK=1 node --import tsx bench/cli.ts        # 3 runs per case, printed only
 *   BENCH_CLI_BEFORE=/path/to/old/checkout node --import tsx bench/cli.ts
 *       # adds a third variant: that checkout's own bin/tracegate.js (git worktree of an older
 *       # commit, with node_modules linked and `npm run generate:prisma` run in it)
 *
 * Each case is a fresh process; wall time is spawn to exit (to the first HTTP answer for
 * the gateway), memory is the process's peak resident set (`process.resourceUsage().maxRSS`
 * written at exit by a preloaded probe, bench/rss-probe.mjs, which costs well under a
 * millisecond). Cases:
 *
 * - `--help`, `--version`;
 * - `audit verify` on a 50-record gateway database, and with `--store` on a 50-record
 *   weaver-kernel SQLite store written by test/support/reference-writer.py (CPython);
 * - `serve` on an existing, migrated database with 50 records: spawn to the first answer of
 *   `GET /readyz` (polled every 10 ms once the listen line is printed).
 */
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { referenceTraceText } from "../test/support/reference-traces.js";
import { CACHE_DIR, ROOT } from "./db.js";
import { cpuMark, othersCores } from "./cpu.js";
import { appendSection, machine } from "./report.js";
import { max, mdTable, median } from "./stats.js";

const QUICK = process.env.BENCH_QUICK === "1";
const RUNS = QUICK ? 3 : 11;
const TARGETS = { helpMs: 300, helpMiB: 80, verifyMs: 1_000, serveMs: 2_000 };
const PROBE = join(ROOT, "bench/rss-probe.mjs");

interface Sample {
  ms: number;
  rssMiB: number;
}

/** How each variant starts the CLI: compiled, the sources through tsx, and an older checkout's own bin. */
const BEFORE = process.env.BENCH_CLI_BEFORE;
const VARIANTS: Record<string, string[]> = {
  compiled: [join(ROOT, "bin/tracegate.js")],
  "sources (tsx)": ["--import", "tsx", join(ROOT, "src/cli/main.ts")],
  ...(BEFORE ? { before: [join(BEFORE, "bin/tracegate.js")] } : {}),
};
type Variant = string;

/** Run `tracegate args` once; resolves with wall time and peak RSS. */
function runOnce(variant: Variant, args: string[], env: Record<string, string>): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ["--import", PROBE, ...VARIANTS[variant]!, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "ignore", "pipe", "pipe"],
    });
    let rss = "";
    let err = "";
    child.stdio[3]!.on("data", (b: Buffer) => (rss += b.toString()));
    child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
    child.once("close", (code) => {
      const ms = performance.now() - started;
      if (code !== 0) reject(new Error(`tracegate ${args.join(" ")} (${variant}) exited ${code}: ${err}`));
      else resolve({ ms, rssMiB: Number(rss) / 1024 });
    });
  });
}

/** Start `serve`, wait for the first /readyz answer, stop it; resolves with the time to that answer. */
function serveOnce(variant: Variant, env: Record<string, string>): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ["--import", PROBE, ...VARIANTS[variant]!, "serve"], {
      cwd: ROOT,
      env: { ...process.env, PORT: "0", LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe", "pipe"],
    });
    let out = "";
    let rss = "";
    let answeredMs = 0;
    child.stdio[3]!.on("data", (b: Buffer) => (rss += b.toString()));
    child.stdout!.on("data", async (b: Buffer) => {
      out += b.toString();
      const m = /serving GraphQL at (http:\/\/\S+)\/graphql/.exec(out);
      if (!m || answeredMs) return;
      answeredMs = -1;
      for (;;) {
        const res = await fetch(`${m[1]}/readyz`).catch(() => null);
        if (res) {
          await res.arrayBuffer();
          answeredMs = performance.now() - started;
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      child.kill("SIGTERM");
    });
    child.once("close", (code) => {
      if (answeredMs <= 0) reject(new Error(`serve (${variant}) exited ${code} before answering`));
      else resolve({ ms: answeredMs, rssMiB: Number(rss) / 1024 });
    });
  });
}

/** A gateway database holding the 50 records of `store`, imported by `tracegate import` (same secret: kept). */
function gatewayDatabase(dir: string, store: string, secret: string): string {
  const db = join(dir, "tracegate.db");
  rmSync(db, { force: true });
  const run = spawnSync(process.execPath, [join(ROOT, "bin/tracegate.js"), "import", store, "--quiet"], {
    env: { ...process.env, DATABASE_URL: `file:${db}`, TRACEGATE_HMAC_SECRET: secret, WEAVER_KERNEL_SECRET: secret },
    encoding: "utf8",
  });
  if (run.status !== 0) throw new Error(`tracegate import failed: ${run.stderr}`);
  return db;
}

/** A 50-record weaver-kernel SQLite store, written by CPython. */
function referenceStore(dir: string, secret: string): string {
  const store = join(dir, "reference.db");
  rmSync(store, { force: true });
  const traces = `[${Array.from({ length: 50 }, (_, i) => referenceTraceText(`ref-${i}`, i, `2026-03-03T10:${String(i).padStart(2, "0")}:00+00:00`)).join(",")}]`;
  const run = spawnSync("python3", [join(ROOT, "test/support/reference-writer.py"), "sqlite", store, secret], { input: traces, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`reference-writer failed: ${run.stderr}`);
  return store;
}

/** Does this build's `audit verify` take --store (reference store files)? */
function storeModeAvailable(): boolean {
  const help = spawnSync(process.execPath, [join(ROOT, "bin/tracegate.js"), "audit", "verify", "--help"], { encoding: "utf8" });
  return help.stdout.includes("--store");
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, "dist/cli/main.js"))) throw new Error("run `npm run build` first: the compiled CLI is what this measures");
  const dir = join(CACHE_DIR, "cli");
  mkdirSync(dir, { recursive: true });
  const weaverSecret = "bench-weaver-secret";
  const store = referenceStore(dir, weaverSecret);
  const db = gatewayDatabase(dir, store, weaverSecret);
  const serveDb = join(dir, "serve.db");
  copyFileSync(db, serveDb);
  const dbEnv = { DATABASE_URL: `file:${db}`, TRACEGATE_HMAC_SECRET: weaverSecret, TRACEGATE_DATA_DIR: dir };
  /** `before` is left out of a case the older checkout cannot run (`skipBefore`). */
  const cases: { name: string; target: string; run: (v: Variant) => Promise<Sample>; limitMs: number; limitMiB?: number; skipBefore?: boolean }[] = [
    { name: "tracegate --help", target: "< 300 ms, < 80 MiB", run: (v) => runOnce(v, ["--help"], {}), limitMs: TARGETS.helpMs, limitMiB: TARGETS.helpMiB },
    { name: "tracegate --version", target: "< 300 ms, < 80 MiB", run: (v) => runOnce(v, ["--version"], {}), limitMs: TARGETS.helpMs, limitMiB: TARGETS.helpMiB },
    { name: "audit verify (gateway database, 50 records)", target: "< 1 s", run: (v) => runOnce(v, ["audit", "verify"], dbEnv), limitMs: TARGETS.verifyMs },
  ];
  if (storeModeAvailable()) {
    cases.push({
      name: "audit verify --store (weaver-kernel SQLite, 50 records)",
      target: "< 1 s",
      run: (v) => runOnce(v, ["audit", "verify", "--store", store], { WEAVER_KERNEL_SECRET: weaverSecret }),
      limitMs: TARGETS.verifyMs,
      // Reading reference store files arrived with the compiled CLI.
      skipBefore: true,
    });
  }
  cases.push({
    name: "serve: start to first answer (existing database, 50 records)",
    target: "< 2 s",
    run: (v) => serveOnce(v, { DATABASE_URL: `file:${serveDb}`, TRACEGATE_HMAC_SECRET: weaverSecret, TRACEGATE_DATA_DIR: dir }),
    limitMs: TARGETS.serveMs,
  });

  const mark = cpuMark();
  const started = performance.now();
  const rows: string[][] = [];
  for (const c of cases) {
    const samples: Record<Variant, Sample[]> = Object.fromEntries(Object.keys(VARIANTS).map((v) => [v, []]));
    const variants = Object.keys(VARIANTS).filter((v) => !(c.skipBefore && v === "before"));
    // Interleaved, so load that comes and goes weighs on both alike; one warm-up of each.
    for (let i = 0; i <= RUNS; i++) {
      for (const v of variants) {
        const s = await c.run(v);
        if (i > 0) samples[v]!.push(s);
      }
    }
    const msOf = (v: Variant) => median(samples[v]!.map((s) => s.ms));
    const ran = (v: Variant) => samples[v]!.length > 0;
    const cell = (v: Variant) => (ran(v) ? `${Math.round(msOf(v))} ms, ${max(samples[v]!.map((s) => s.rssMiB)).toFixed(0)} MiB` : "n/a");
    const compiledMiB = max(samples.compiled!.map((s) => s.rssMiB));
    const pass = msOf("compiled") < c.limitMs && (c.limitMiB === undefined || compiledMiB < c.limitMiB);
    rows.push([
      c.name,
      ...Object.keys(VARIANTS).map(cell),
      ...Object.keys(VARIANTS).slice(1).map((v) => (ran(v) ? `${(msOf(v) / msOf("compiled")).toFixed(1)}x` : "n/a")),
      c.target,
      pass ? "PASS" : "MISS",
    ]);
    console.log(rows.at(-1)!.join(" | "));
  }
  const others = othersCores(mark);
  const beforeCommit = BEFORE ? spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: BEFORE, encoding: "utf8" }).stdout.trim() : "";
  const m = machine();
  const section = [
    `## CLI start-up: run ${m.date}${QUICK ? " (BENCH_QUICK)" : ""}`,
    "",
    `Machine: ${m.cpuModel}, ${m.cores} cores, Node ${m.node}, commit ${m.commit}. Processes other than the bench's own (the timed ones included) kept ` +
      `${others === null ? "an unmeasured share" : `${others.toFixed(2)} cores`} busy during the run ` +
      `(${((performance.now() - started) / 1000).toFixed(0)} s).`,
    "",
    `\`node --import tsx bench/cli.ts\`: ${RUNS} runs of each case after one warm-up, the variants interleaved. ` +
      "Time: median, spawn to exit (serve: spawn to the first /readyz answer). Memory: the highest peak RSS of the runs. " +
      "\"Sources (tsx)\" runs `src/cli/main.ts` through tsx, as `bin/tracegate.js` and `npm start` did before the build; " +
      "targets apply to the compiled CLI." +
      (BEFORE ? ` \"Before\" is commit ${beforeCommit}'s own \`bin/tracegate.js\` (tsx, every command imported eagerly).` : ""),
    "",
    mdTable(
      [
        "case",
        "compiled (median, peak RSS)",
        "sources through tsx",
        ...(BEFORE ? [`before: ${beforeCommit}`] : []),
        "tsx / compiled",
        ...(BEFORE ? ["before / compiled"] : []),
        "target",
        "verdict",
      ],
      rows,
    ),
  ].join("\n");
  console.log(`\n${section}`);
  if (!QUICK) appendSection(join(ROOT, "BENCHMARKS.md"), section);
}

await main();

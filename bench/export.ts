/**
 * How fast the audit trail leaves the gateway (issue 18): GET /export per format, the Parquet
 * export for Security Lake, and push delivery with `tracegate forward`, each against a limit
 * measured in the same run.
 *
 *   node --import tsx bench/export.ts                  # prints a markdown section for BENCHMARKS.md
 *   BENCH_QUICK=1 node --import tsx bench/export.ts    # ~10x smaller, smoke run
 *
 * The data is the cached benchmark chain (bench/db.ts chainDb: the benchmark mix, a genuine
 * HMAC chain). A real gateway process serves a copy of it (bench/gateway-process.ts).
 *
 * A. GET /export?format=F over loopback HTTP, the whole chain, for jsonl, csv, ocsf and
 *    ocsf-reference, runs interleaved; wall time from request to the body's last byte. The
 *    limit: the same rows read in this process with better-sqlite3 (SELECT payload ORDER BY
 *    seq, one line each): the database read every export pays, without HTTP or formatting.
 * B. `tracegate audit export` to a file, as processes: `--format ocsf --out FILE` against
 *    `--format parquet --out DIR` (the same OCSF events written as Parquet), interleaved.
 * C. `tracegate forward --once` into a local node:http collector that acknowledges every batch,
 *    for jsonl, ocsf and splunk-hec at --batch 500 and 2000. The limit: one GET
 *    /export?withSeq=true (the forwarder's own read, in one request, without delivery).
 *
 * Self-contained (not part of bench/run.ts); scratch files are bench/.cache/export-*.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { chainDb, CACHE_DIR, ROOT } from "./db.js";
import { cleanEnv, type GatewayProcess, startGateway } from "./gateway-process.js";
import { machine } from "./report.js";
import { int, mdTable, median } from "./stats.js";

const QUICK = process.env.BENCH_QUICK === "1";
const N = QUICK ? 10_000 : 100_000;
const RUNS = 3;
const BIN = join(ROOT, "bin/tracegate.js");
const ADMIN_KEY = "tgk_bench-export-admin-0123456789abcdefghijklmn";
const DATA_DIR = join(CACHE_DIR, "export-gateway");
const log = (line: string) => console.error(line);

/** Milliseconds of `fn`. */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** A process run to completion; rejects on a non-zero exit (a 10-minute bound against hangs). */
function run(args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanEnv(env), stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 600_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`tracegate ${args.join(" ")} exited ${code}:\n${err}`));
    });
  });
}

/** The whole body of GET /export?query, counted in lines. */
async function exportLines(base: string, query: string): Promise<number> {
  const res = await fetch(`${base}/export?${query}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  if (res.status !== 200) throw new Error(`/export?${query}: ${res.status} ${await res.text()}`);
  let lines = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
  }
  return lines;
}

/** The limit of A: every payload read in seq order and joined into lines, in this process. */
function sqliteRead(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    let bytes = 0;
    let rows = 0;
    for (const row of db.prepare(`SELECT "payload" FROM "Trace" ORDER BY "seq"`).iterate() as IterableIterator<{ payload: string }>) {
      bytes += `${row.payload}\n`.length;
      rows++;
    }
    if (bytes === 0) throw new Error("no rows");
    return rows;
  } finally {
    db.close();
  }
}

/** A collector that acknowledges every batch with 200 and counts its events (lines). */
async function collector(): Promise<{ url: string; events: () => number; reset(): void; close(): Promise<void> }> {
  let events = 0;
  const server = createServer((req, res) => {
    req.on("data", (chunk: Buffer) => {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) events++;
    });
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end('{"text":"Success","code":0}'));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    events: () => events,
    reset: () => void (events = 0),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const rate = (records: number, ms: number) => int((records / ms) * 1000);

async function main(): Promise<void> {
  const m = machine();
  log(`export bench (${QUICK ? "QUICK" : "full"}, ${N.toLocaleString("en-US")} traces) - ${m.date}`);
  const chain = await chainDb(N, log);
  const gateway: GatewayProcess = await startGateway(chain.file, DATA_DIR, ADMIN_KEY);
  const base = gateway.url.replace(/\/graphql$/, "");
  const env = { TRACEGATE_DATA_DIR: DATA_DIR, TRACEGATE_HMAC_SECRET: "tracegate-bench-secret-0123456789abcdef" };
  const sections: string[] = [];
  try {
    // A. /export per format, interleaved with the in-process read.
    const formats = ["jsonl", "csv", "ocsf", "ocsf-reference"];
    const a: Record<string, number[]> = { floor: [] };
    for (const f of formats) a[f] = [];
    await exportLines(base, "format=jsonl&limit=1000"); // warm the gateway
    for (let r = 0; r < RUNS; r++) {
      a.floor!.push(await timed(async () => void sqliteRead(join(DATA_DIR, "tracegate.db"))));
      for (const f of formats) {
        let lines = 0;
        a[f]!.push(await timed(async () => void (lines = await exportLines(base, `format=${f}`))));
        const want = f === "csv" ? N + 1 : N;
        if (lines !== want) throw new Error(`${f}: ${lines} lines, expected ${want}`);
      }
      log(`  A run ${r + 1}: ${formats.map((f) => `${f} ${Math.round(a[f]![r]!)} ms`).join(", ")}, read ${Math.round(a.floor![r]!)} ms`);
    }
    const floor = median(a.floor!);
    sections.push(
      `### A. GET /export, the whole chain (${int(N)} traces), loopback HTTP\n\n` +
        mdTable(
          ["format", "median ms", "traces/s", "× the read alone"],
          [
            ["(limit) better-sqlite3 read of the payloads in seq order, in process", String(Math.round(floor)), rate(N, floor), "1.00"],
            ...formats.map((f) => [f, String(Math.round(median(a[f]!))), rate(N, median(a[f]!)), (median(a[f]!) / floor).toFixed(2)]),
          ],
        ),
    );

    // B. Parquet against the ocsf file export, both as processes.
    const outFile = join(CACHE_DIR, "export-ocsf.jsonl");
    const outDir = join(CACHE_DIR, "export-parquet");
    const b = { ocsf: [] as number[], parquet: [] as number[] };
    let parquetBytes = 0;
    for (let r = 0; r < RUNS; r++) {
      rmSync(outFile, { force: true });
      b.ocsf.push(await timed(() => run(["audit", "export", "--format", "ocsf", "--out", outFile, "--quiet"], env)));
      rmSync(outDir, { recursive: true, force: true });
      b.parquet.push(
        await timed(() =>
          run(["audit", "export", "--format", "parquet", "--out", outDir, "--source-name", "tracegate", "--region", "eu-west-1", "--account-id", "123456789012", "--quiet"], env),
        ),
      );
      log(`  B run ${r + 1}: ocsf ${Math.round(b.ocsf[r]!)} ms, parquet ${Math.round(b.parquet[r]!)} ms`);
    }
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) e.isDirectory() ? walk(join(dir, e.name)) : files.push(join(dir, e.name));
    };
    walk(outDir);
    parquetBytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
    const ocsfBytes = statSync(outFile).size;
    sections.push(
      `### B. \`tracegate audit export\` to files (process wall time, start-up included)\n\n` +
        mdTable(
          ["output", "median ms", "traces/s", "size", "× ocsf"],
          [
            ["`--format ocsf --out FILE` (the limit: the same events as JSON lines)", String(Math.round(median(b.ocsf))), rate(N, median(b.ocsf)), `${(ocsfBytes / 2 ** 20).toFixed(1)} MiB`, "1.00"],
            [
              `\`--format parquet --out DIR\` (${files.length} file(s), Security Lake layout)`,
              String(Math.round(median(b.parquet))),
              rate(N, median(b.parquet)),
              `${(parquetBytes / 2 ** 20).toFixed(1)} MiB`,
              (median(b.parquet) / median(b.ocsf)).toFixed(2),
            ],
          ],
        ),
    );

    // C. forward --once into a collector that acknowledges everything.
    const sink = await collector();
    try {
      const plans: [string, number][] = [["jsonl", 500], ["ocsf", 500], ["splunk-hec", 500], ["jsonl", 2000], ["splunk-hec", 2000]];
      const c: Record<string, number[]> = { read: [] };
      for (const [f, batch] of plans) c[`${f}@${batch}`] = [];
      for (let r = 0; r < RUNS; r++) {
        c.read!.push(await timed(async () => void (await exportLines(base, "format=jsonl&withSeq=true"))));
        for (const [f, batch] of plans) {
          const state = join(CACHE_DIR, `export-forward-${f}-${batch}.json`);
          rmSync(state, { force: true });
          sink.reset();
          c[`${f}@${batch}`]!.push(
            await timed(() => run(["forward", "--once", "--format", f, "--batch", String(batch), "--to", sink.url, "--state", state, "--url", gateway.url], { TRACEGATE_API_KEY: ADMIN_KEY, TRACEGATE_FORWARD_TOKEN: "bench-collector-token" })),
          );
          if (sink.events() < N) throw new Error(`forward ${f}: the collector got ${sink.events()} events, expected ${N}`);
        }
        log(`  C run ${r + 1}: ${plans.map(([f, b]) => `${f}@${b} ${Math.round(c[`${f}@${b}`]![r]!)} ms`).join(", ")}, read ${Math.round(c.read![r]!)} ms`);
      }
      const read = median(c.read!);
      sections.push(
        `### C. \`tracegate forward --once\` into a local collector (process wall time, start-up included)\n\n` +
          mdTable(
            ["format", "--batch", "median ms", "traces/s", "× the read alone"],
            [
              ["(limit) one GET /export?format=jsonl&withSeq=true", "-", String(Math.round(read)), rate(N, read), "1.00"],
              ...plans.map(([f, batch]) => {
                const t = median(c[`${f}@${batch}`]!);
                return [f, String(batch), String(Math.round(t)), rate(N, t), (t / read).toFixed(2)];
              }),
            ],
          ),
      );
    } finally {
      await sink.close();
    }
  } finally {
    await gateway.stop();
    rmSync(join(CACHE_DIR, "export-parquet"), { recursive: true, force: true });
  }
  const head =
    `## Exports and push delivery (issue 18): run ${m.date}${QUICK ? " (BENCH_QUICK=1: smoke run only)" : ""}\n\n` +
    `- Machine: ${m.cpuModel}, ${m.cores} cores, ${(m.totalMemory / 2 ** 30).toFixed(0)} GiB; ${m.os}; Node ${m.node}; SQLite ${m.sqlite}; commit ${m.commit}\n` +
    `- Load average when it started: ${loadavg().map((l) => l.toFixed(2)).join(", ")}\n` +
    `- ${int(N)} traces of the benchmark mix (bench/data.ts), SQLite; medians of ${RUNS} interleaved runs; \`node --import tsx bench/export.ts\`\n`;
  console.log(`${head}\n${sections.join("\n\n")}\n`);
}

mkdirSync(CACHE_DIR, { recursive: true });
await main();

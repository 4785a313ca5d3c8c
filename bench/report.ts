/** Machine facts and the BENCHMARKS.md section of one run. */
import { execSync } from "node:child_process";
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { cpus, arch, platform, release, totalmem } from "node:os";
import { ROOT, sqliteVersion } from "./db.js";

export interface Machine {
  date: string;
  cpuModel: string;
  cores: number;
  totalMemory: number;
  node: string;
  os: string;
  sqlite: string;
  commit: string;
}

function sh(cmd: string): string | undefined {
  try {
    return execSync(cmd, { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] }).toString("utf8").trim();
  } catch {
    return undefined;
  }
}

export function machine(): Machine {
  const cpu = cpus();
  const commit = sh("git rev-parse --short HEAD");
  const dirty = sh("git status --porcelain -- src prisma package.json");
  return {
    date: sh("date -u") ?? new Date().toUTCString(),
    cpuModel: cpu[0]?.model.trim() ?? "unknown",
    cores: cpu.length,
    totalMemory: totalmem(),
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    sqlite: sqliteVersion(),
    commit: commit === undefined ? "unknown" : `${commit}${dirty ? " (+ uncommitted changes in src/prisma)" : ""}`,
  };
}

export const INTRO = `# Benchmarks

Run with:

\`\`\`sh
npm run bench                 # full sizes; appends a section below (~5.5 min on 2 cores once the chain is cached)
BENCH_QUICK=1 npm run bench   # every size ~10x smaller, smoke run; written to bench/.cache/BENCHMARKS.quick.md
BENCH_ONLY=streams npm run bench  # only benchmark 5 (live subscriptions), appended as a partial run
\`\`\`

\`bench/run.ts\` runs benchmarks 1-3 in one process, in process (no network): the store through
\`openStores\` on SQLite files, the GraphQL layer through \`buildApp(...).yoga.fetch\`. Benchmark 4
adds writer processes, benchmark 5 a listening gateway and a subscriber process on WebSockets. Scratch
databases live in \`bench/.cache/\` (git-ignored). The 1,000,000-trace chain for benchmarks 2
and 3 is built once through \`TraceStore.append\` (a genuine HMAC chain) and cached under a
key derived from \`prisma/sqlite/migrations/**\`, the generator version, the size and the
secret. Building it is a one-off: on the 2-core reference machine it took about 5 minutes
(~3,300 traces/s, the same store path that benchmark 1 measures), so the very first
\`npm run bench\` takes about 10 minutes; later runs reuse the file.

Traces are a deterministic realistic mix (\`bench/data.ts\`): 100 principals (Zipf-skewed),
50 capabilities, ~10% deny events with reason codes (missing_role, rate_limited, ...), ~4%
expand, ~2% failed invokes, args with ints, a float and a string, invokedAt increasing by
100 ms +- 90 ms. Throughputs are the median over runs on fresh databases; latencies are
per query, sequential, p50/p99 per round of queries with the median over rounds quoted.
Targets are from the issue; a missed target is reported as MISS with the measured number.
`;

/** Append a run's section to the report file (created with the intro when missing). */
export function appendSection(file: string, section: string): void {
  if (!existsSync(file)) writeFileSync(file, INTRO);
  appendFileSync(file, `\n${section.trimEnd()}\n`);
}

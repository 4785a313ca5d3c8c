/**
 * The operator's commands as processes (the compiled CLI, bin/tracegate.js): `migrate` beside a
 * database another process holds locked, one-line coded errors (stacks only with --debug),
 * `prune` by hand, and the progress of long jobs on stderr (lines in a pipe, a bar on a
 * terminal, nothing with --quiet), stdout untouched.
 */
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordTracesDocument } from "../gql/graphql.js";
import { SQLITE } from "../support/backends.js";
import { createTestGateway, dataOf, TEST_SECRET } from "../support/harness.js";
import { ROOT, runCli } from "../support/process.js";
import { referenceTraceText } from "../support/reference-traces.js";
import { at, invoke } from "../support/traces.js";

const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "tracegate-operator-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const CLEAN = { DATABASE_URL: "", TRACEGATE_DATA_DIR: "", TRACEGATE_HMAC_SECRET: "", NODE_ENV: "", TRACEGATE_DEBUG: "", TRACEGATE_PROGRESS_AFTER_MS: "" };
/** Progress from the first moment, so a job of any length shows it. */
const SHOW_PROGRESS = { TRACEGATE_PROGRESS_AFTER_MS: "0" };

/** A migrated SQLite database holding `n` traces, one a minute, written by a gateway under TEST_SECRET. */
async function databaseWith(n: number): Promise<string> {
  const db = join(freshDir(), "tracegate.db");
  copyFileSync((await SQLITE.freshDatabaseUrl()).slice("file:".length), db);
  const gw = await createTestGateway({ backend: SQLITE, databaseUrl: `file:${db}` });
  const input = Array.from({ length: n }, (_, i) => invoke(`op-${i}`, { invokedAt: at(i) }));
  for (let i = 0; i < input.length; i += 500) dataOf(await gw.exec(RecordTracesDocument, { input: input.slice(i, i + 500) }));
  await gw.close();
  return db;
}

/**
 * Hold SQLite's write lock on `db` from another process (CPython's sqlite3, BEGIN IMMEDIATE)
 * until the returned function is called.
 */
async function holdWriteLock(db: string): Promise<() => Promise<void>> {
  const child = spawn("python3", ["-c", "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1],isolation_level=None)\nc.execute('BEGIN IMMEDIATE')\nprint('locked',flush=True)\nsys.stdin.read()", db], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`lock holder exited ${code}`)));
  });
  return async () => {
    child.stdin.end();
    await new Promise((resolve) => child.once("exit", resolve));
  };
}

/** Run the CLI with stdout and stderr on a pseudo-terminal (util-linux `script`); returns what the terminal showed. */
function onTerminal(args: string[], env: Record<string, string>): { code: number | null; screen: string } {
  const command = ["node", join(ROOT, "bin/tracegate.js"), ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const run = spawnSync("script", ["-qec", command, "/dev/null"], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 120_000 });
  return { code: run.status, screen: run.stdout };
}

describe("tracegate migrate and errors", () => {
  it("migrate applies, then reports an up-to-date database, also while another process holds the write lock", async () => {
    const dataDir = freshDir();
    const env = { ...CLEAN, TRACEGATE_DATA_DIR: dataDir };
    const first = await runCli(["migrate"], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^Migrated sqlite database: applied \d+_init, /);
    const release = await holdWriteLock(join(dataDir, "tracegate.db"));
    try {
      const again = await runCli(["migrate"], env);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toBe("The sqlite database is up to date; no migration to apply.\n");
    } finally {
      await release();
    }
  });

  it("a locked database fails a write in one coded line; --debug adds the stack", async () => {
    const db = await databaseWith(3);
    const env = { ...CLEAN, DATABASE_URL: `file:${db}`, TRACEGATE_HMAC_SECRET: TEST_SECRET };
    const release = await holdWriteLock(db);
    try {
      const [plain, debug] = await Promise.all([
        runCli(["keys", "create", "--name", "k", "--scope", "traces:read"], env),
        runCli(["keys", "create", "--name", "k", "--scope", "traces:read", "--debug"], env),
      ]);
      expect(plain.code).toBe(1);
      expect(plain.stdout).toBe("");
      expect(plain.stderr).toMatch(/^error: the database (is locked|did not answer in time)[^\n]* \[DATABASE_(LOCKED|TIMEOUT)\]\n$/);
      expect(debug.code).toBe(1);
      expect(debug.stderr.split("\n")[0]).toBe(plain.stderr.split("\n")[0]);
      expect(debug.stderr).toMatch(/\n\s+at /);
      // Reading is never blocked by a writer (WAL).
      const verify = await runCli(["audit", "verify"], env);
      expect(verify.stdout).toBe("OK: Verified 3 record(s).\n");
    } finally {
      await release();
    }
  });

  it("configuration and input errors are one line with a code and exit 1", async () => {
    const runs = await Promise.all([
      runCli(["prune", "--before-seq", "1"], { ...CLEAN, TRACEGATE_DATA_DIR: freshDir() }),
      runCli(["prune"], { ...CLEAN, TRACEGATE_DATA_DIR: freshDir() }),
      runCli(["serve"], { ...CLEAN, TRACEGATE_DATA_DIR: freshDir(), NODE_ENV: "production" }),
      runCli(["prune", "--before", "2026-13-01"], { ...CLEAN, TRACEGATE_DATA_DIR: freshDir() }),
      runCli(["keys", "list"], { ...CLEAN, DATABASE_URL: `file:${join(freshDir(), "typo", "x.db")}` }),
    ]);
    for (const run of runs.slice(0, 3)) {
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/^error: [^\n]+ \[[A-Z][A-Z0-9_]+\]\n$/);
    }
    // A flag's value is refused by the option parser, naming the flag (commander's usage line).
    expect(runs[3]!.code).toBe(1);
    expect(runs[3]!.stderr).toMatch(/^error: option '--before <time>' argument '2026-13-01' is invalid\. [^\n]*month[^\n]*\n$/);
    expect(runs[0]!.stderr).toMatch(/does not exist.*\[CONFIG\]/);
    expect(runs[1]!.stderr).toContain("[BAD_USER_INPUT]");
    // A mistyped database path is not silently created.
    expect(runs[4]!.code).toBe(1);
    expect(runs[4]!.stderr).toMatch(/^error: Trace store '.*typo\/x\.db' does not exist\. [^\n]*\[CONFIG\]\n$/);
  });
});

describe("tracegate serve without its log reader", () => {
  it("still stops on SIGTERM after the process reading its stdout and stderr died (EPIPE)", async () => {
    // A parent that starts the gateway with piped output, waits for the listen line and exits.
    const parent = String.raw`
      const { spawn } = require("node:child_process");
      const c = spawn(process.execPath, [process.argv[1], "serve"], { env: process.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
      let out = "";
      c.stdout.on("data", (b) => { out += b; if (out.includes("serving GraphQL")) { console.log(c.pid); process.exit(0); } });`;
    const run = spawnSync(process.execPath, ["-e", parent, join(ROOT, "bin/tracegate.js")], {
      env: { ...process.env, ...CLEAN, PORT: "0", TRACEGATE_DATA_DIR: freshDir(), LOG_LEVEL: "info" },
      encoding: "utf8",
      timeout: 120_000,
    });
    const pid = Number(run.stdout.trim());
    expect(pid, run.stderr).toBeGreaterThan(0);
    // Gone, or a zombie (exited; reaping it is up to whichever process adopted it).
    const alive = () => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
      } catch {
        return false;
      }
    };
    expect(alive()).toBe(true);
    process.kill(pid, "SIGTERM");
    // A generous bound that only catches a gateway that ignores the signal.
    const deadline = Date.now() + 60_000;
    while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const stillAlive = alive();
    if (stillAlive) process.kill(pid, "SIGKILL");
    expect(stillAlive).toBe(false);
  });
});

describe("tracegate prune", () => {
  it("prunes a seq prefix or by time, leaves a chain that verifies, and refuses a secret that is not the chain's", async () => {
    const db = await databaseWith(30);
    const env = { ...CLEAN, DATABASE_URL: `file:${db}`, TRACEGATE_HMAC_SECRET: TEST_SECRET };
    const wrong = await runCli(["prune", "--before-seq", "10"], { ...env, TRACEGATE_HMAC_SECRET: "not-the-chain-secret" });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error: [^\n]*\[CHAIN_KEY_MISMATCH\]\n$/);

    // Beyond the chain, or in the future: refused, nothing deleted.
    const [beyond, future] = await Promise.all([runCli(["prune", "--before-seq", "31"], env), runCli(["prune", "--before", "2099-01-01"], env)]);
    expect(beyond.code).toBe(1);
    expect(beyond.stderr).toMatch(/^error: beforeSeq 31 is beyond the chain, whose next seq is 30[^\n]*\[BAD_USER_INPUT\]\n$/);
    expect(future.code).toBe(1);
    expect(future.stderr).toMatch(/^error: before 2099-01-01T00:00:00[^\n]* is in the future[^\n]*\[BAD_USER_INPUT\]\n$/);

    const bySeq = await runCli(["prune", "--before-seq", "10", "--json"], env);
    expect(bySeq.code, bySeq.stderr).toBe(0);
    expect(JSON.parse(bySeq.stdout)).toEqual({ pruned: 10, checkpointSeq: 9, auditSeq: 30 });

    // Records are one a minute from at(0); before at(15) leaves seq 15 first.
    const byTime = await runCli(["prune", "--before", at(15)], env);
    expect(byTime.code, byTime.stderr).toBe(0);
    expect(byTime.stdout).toMatch(/^Pruned 5 record\(s\); the chain now starts at seq 15 \(authenticated checkpoint at seq 14[^)]*\)\. The prune was recorded at seq 31\.\n$/);

    const verify = await runCli(["audit", "verify", "--json"], env);
    expect(verify.code, verify.stdout).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, records_checked: 17 });
  });
});

describe("progress on long jobs", () => {
  let db: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await databaseWith(1200);
    env = { ...CLEAN, DATABASE_URL: `file:${db}`, TRACEGATE_HMAC_SECRET: TEST_SECRET };
  });

  it("prints n/N, rate and ETA lines and a summary on stderr when it is not a terminal; stdout is the command's own", async () => {
    const [verify, exported] = await Promise.all([
      runCli(["audit", "verify"], { ...env, ...SHOW_PROGRESS }),
      runCli(["audit", "export"], { ...env, ...SHOW_PROGRESS }),
    ]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toBe("OK: Verified 1200 record(s).\n");
    const lines = verify.stderr.trimEnd().split("\n");
    // The first line may come before the walk knows its length.
    for (const line of lines.slice(0, -1)) expect(line).toMatch(/^verify: (working, \d+s|[\d,]+\/1,200 records \(\d+\.\d%\), [\d,]+\/s(, ETA \d+s)?)$/);
    expect(lines.at(-2)).toMatch(/^verify: 1,200\/1,200 records \(100\.0%\)/);
    expect(lines.at(-1)).toMatch(/^verify: 1,200 records in \d+\.\d s \([\d,]+\/s\)$/);

    expect(exported.code).toBe(0);
    expect(exported.stdout.trimEnd().split("\n")).toHaveLength(1200);
    expect(exported.stderr).toMatch(/^export: [\s\S]*\nexport: 1,200 traces in \d+\.\d s/);
  });

  it("prints nothing with --quiet, and nothing for a job shorter than the delay", async () => {
    const [quiet, quick] = await Promise.all([
      runCli(["audit", "verify", "--quiet"], { ...env, ...SHOW_PROGRESS }),
      runCli(["audit", "verify"], { ...env, TRACEGATE_PROGRESS_AFTER_MS: "600000" }),
    ]);
    for (const run of [quiet, quick]) {
      expect(run.stdout).toBe("OK: Verified 1200 record(s).\n");
      expect(run.stderr).toBe("");
    }
  });

  it("draws a bar on a terminal, then the summary", () => {
    const run = onTerminal(["audit", "verify"], { ...env, ...SHOW_PROGRESS });
    expect(run.code).toBe(0);
    expect(run.screen).toMatch(/verify \[[#-]{24}\] [\d,]+\/1,200 records/);
    expect(run.screen).toContain("OK: Verified 1200 record(s).");
    expect(run.screen).toMatch(/verify: 1,200 records in \d+\.\d s/);
  });

  it("import shows both passes (verifying the store, writing the chain)", async () => {
    const traces = `[${Array.from({ length: 300 }, (_, i) => referenceTraceText(`ref-${i}`, i, `2026-03-03T10:${String(i % 60).padStart(2, "0")}:00+00:00`)).join(",")}]`;
    const store = join(freshDir(), "store.jsonl");
    const writer = spawnSync("python3", [join(ROOT, "test/support/reference-writer.py"), "jsonl", store, "weaver-secret"], { input: traces, encoding: "utf8" });
    expect(writer.status, writer.stderr).toBe(0);
    const target = { ...CLEAN, TRACEGATE_DATA_DIR: freshDir(), TRACEGATE_HMAC_SECRET: "weaver-secret", ...SHOW_PROGRESS };
    const run = await runCli(["import", store], target);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^import: verifying: [\d,]+ records, [\d,]+\/s, \d+s$/m);
    expect(run.stderr).toMatch(/^import: verifying: 300 records in \d+\.\d s/m);
    expect(run.stderr).toMatch(/^import: writing: 300\/300 records \(100\.0%\)/m);
    expect(run.stderr).toMatch(/^import: writing: 300 records in \d+\.\d s/m);
  });
});

/**
 * `tracegate import` as an operator runs it: real processes importing weaver-kernel stores
 * that an independent CPython writer (test/support/reference-writer.py,
 * docs/reference-compatibility.md#hash-chain) produced. Kept chains must keep every seq, hash
 * and payload byte and verify in a real gateway; tampered stores must be refused with the
 * failing seq and leave nothing behind.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { BACKENDS } from "../support/backends.js";
import { type ImportOptions, runImport } from "../../src/cli/import.js";
import { ChainImportError, ImportError } from "../../src/import/reference-store.js";
import { createTestGateway, dataOf } from "../support/harness.js";
import { type CliRun, type GatewayProcess, postGraphQL, ROOT, runCli, startGatewayProcess } from "../support/process.js";
import { referenceTraceText, TRICKY_ARGS } from "../support/reference-traces.js";
import { invoke } from "../support/traces.js";

const WRITER = join(ROOT, "test/support/reference-writer.py");
const SECRET = "weaver-import-secret-0123456789abcdef";
const OTHER_SECRET = "another-kernel-secret-0123456789";

const work = mkdtempSync(join(tmpdir(), "tracegate-import-"));
const gateways: GatewayProcess[] = [];
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.kill()));
  rmSync(work, { recursive: true, force: true });
});

let counter = 0;
const file = (name: string) => join(work, `${++counter}-${name}`);

/** A fresh data directory holding a migrated, empty tracegate database. */
function freshDataDir(): string {
  const dir = mkdtempSync(join(work, "data-"));
  copyFileSync(inject("sqliteTemplate"), join(dir, "tracegate.db"));
  return dir;
}

// ---------------------------------------------------------------------------
// Traces as the reference exports them, written as JSON text so that the numbers keep the
// lexemes Python must see (100.0 is a float, 2**64+1 an exact int).
// ---------------------------------------------------------------------------

/** Day `day` of March 2026, with microseconds on odd days. */
const traceText = (id: string, day: number, overrides: Record<string, unknown> = {}, args = "{}") =>
  referenceTraceText(id, day, `2026-03-${String(day + 1).padStart(2, "0")}T10:00:00${day % 2 ? ".000042" : ""}+00:00`, overrides, args);

/** Six traces: tricky values, a failure (error ""), a deny and an expand. */
function corpus(prefix: string): string {
  return `[${[
    traceText(`${prefix}-0`, 0, {}, TRICKY_ARGS),
    traceText(`${prefix}-1`, 1, { error: "", status: "failed", response_mode: "table" }),
    traceText(`${prefix}-2`, 2, { event_type: "deny", reason_code: "missing_role", result_summary: null }),
    traceText(`${prefix}-3`, 3, { event_type: "expand", response_mode: "handle_only", handle_id: "h-\ud83d\ude80" }, String.raw`{"q": "\"\\/", "ctl": "\u0001\t\n"}`),
    traceText(`${prefix}-4`, 4, {}, String.raw`{"x": 1.2345678901234568e+20, "y": 0.0001, "z": 12.5}`),
    traceText(`${prefix}-5`, 5, { error: "boom \u00e9", status: "failed", response_mode: "raw" }),
  ].join(",\n")}]`;
}

function python(args: string[], input: string): string {
  const run = spawnSync("python3", [WRITER, ...args], { input, encoding: "utf8", env: { ...process.env, PYTHONIOENCODING: "utf-8" } });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`reference-writer ${args[0]} failed: ${run.stderr}`);
  return run.stdout;
}

/** A reference store written by the Python writer. */
function writeStore(format: "jsonl" | "sqlite", traces: string, secret = SECRET, pruneBefore?: string): string {
  const path = file(format === "jsonl" ? "store.jsonl" : "store.db");
  python([format, path, secret, ...(pruneBefore ? [pruneBefore] : [])], traces);
  return path;
}

/** What CPython's json.dumps(sort_keys, compact, ensure_ascii) makes of each trace. */
const canonical = (traces: string) => python(["canonical"], traces).trimEnd().split("\n");

// ---------------------------------------------------------------------------
// Reading both sides
// ---------------------------------------------------------------------------

interface Envelope {
  seq: number;
  prevHash: string;
  recordHash: string;
}

function jsonlEnvelopes(path: string): Envelope[] {
  return readFileSync(path, "utf8")
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as { seq: number; prev_hash: string; record_hash: string })
    .map((r) => ({ seq: r.seq, prevHash: r.prev_hash, recordHash: r.record_hash }));
}

function sqliteEnvelopes(path: string): Envelope[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare("SELECT seq, prev_hash AS prevHash, record_hash AS recordHash FROM traces ORDER BY seq").all() as Envelope[];
  } finally {
    db.close();
  }
}

/** A raw SQL handle on a reference SQLite store, for playing the attacker. */
function tamperSqlite(path: string, ...statements: string[]): string {
  const copy = file("tampered.db");
  copyFileSync(path, copy);
  const db = new Database(copy);
  for (const s of statements) db.exec(s);
  db.close();
  return copy;
}

function tamperJsonl(path: string, edit: (lines: string[]) => string[]): string {
  const copy = file("tampered.jsonl");
  writeFileSync(copy, edit(readFileSync(path, "utf8").trimEnd().split("\n")).join("\n") + "\n");
  return copy;
}

interface TracegateState {
  rows: (Envelope & { actionId: string; payload: string; status: string; eventType: string; invokedAtUs: number })[];
  head: { nextSeq: number; headHash: string };
  checkpoint: { seq: number; recordHash: string; mac: string } | undefined;
}

function tracegateState(dataDir: string): TracegateState {
  const db = new Database(join(dataDir, "tracegate.db"), { readonly: true });
  try {
    return {
      rows: db
        .prepare(`SELECT "seq", "prevHash", "recordHash", "actionId", "payload", "status", "eventType", "invokedAtUs" FROM "Trace" ORDER BY "seq"`)
        .all() as TracegateState["rows"],
      head: db.prepare(`SELECT "nextSeq", "headHash" FROM "ChainHead" WHERE "id" = 1`).get() as TracegateState["head"],
      checkpoint: db.prepare(`SELECT "seq", "recordHash", "mac" FROM "PruneCheckpoint" WHERE "id" = 1`).get() as TracegateState["checkpoint"],
    };
  } finally {
    db.close();
  }
}

const BASE_ENV = { DATABASE_URL: "", TRACEGATE_HMAC_SECRET: SECRET, WEAVER_KERNEL_SECRET: "", TRACEGATE_BOOTSTRAP_ADMIN_KEY: "" };

function importStore(dataDir: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(["import", ...args], { ...BASE_ENV, TRACEGATE_DATA_DIR: dataDir, ...env });
}

/** The command's own function in this process, its refusal rendered like the CLI's. */
async function importInProcess(dataDir: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const [path, ...flags] = args;
  const options: ImportOptions = {};
  for (let i = 0; i < flags.length; i++) {
    if (flags[i] === "--secret") options.secret = flags[++i]!;
    else if (flags[i] === "--format") options.format = flags[++i] as ImportOptions["format"];
    else if (flags[i] === "--dry-run") options.dryRun = true;
    else throw new Error(`unsupported flag ${flags[i]}`);
  }
  try {
    const summary = await runImport(path!, options, { ...process.env, ...BASE_ENV, TRACEGATE_DATA_DIR: dataDir, ...env });
    return { code: 0, stdout: JSON.stringify(summary), stderr: "" };
  } catch (e) {
    if (!(e instanceof ImportError)) throw e;
    return { code: 1, stdout: "", stderr: `error: ${e.message}${e instanceof ChainImportError ? " Nothing was imported." : ""}\n` };
  }
}

async function importOk(dataDir: string, args: string[], env: Record<string, string> = {}): Promise<any> {
  const run = await importStore(dataDir, [...args, "--json"], env);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout);
}

async function verifyInGateway(dataDir: string): Promise<{ ok: boolean; checked: number; kind: string | null; firstBadSeq: number | null }> {
  const gateway = await startGatewayProcess({ TRACEGATE_DATA_DIR: dataDir, TRACEGATE_HMAC_SECRET: SECRET });
  gateways.push(gateway);
  const res = await postGraphQL(gateway.url, "{ verifyChain { ok checked kind firstBadSeq detail } }");
  expect(res.errors).toBeUndefined();
  return res.data.verifyChain;
}

/** Run tasks with at most `size` at a time (each CLI process costs ~2 s of CPU). */
async function inPool<T>(size: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, tasks.length) }, worker));
  return results;
}

async function verifyInProcess(dataDir: string): Promise<{ ok: boolean; checked: number; kind: string | null }> {
  const gateway = await createTestGateway({ databaseUrl: `file:${join(dataDir, "tracegate.db")}`, secret: SECRET });
  try {
    return dataOf(await gateway.raw("{ verifyChain { ok checked kind firstBadSeq detail } }")).verifyChain as never;
  } finally {
    await gateway.close();
  }
}

// ---------------------------------------------------------------------------

describe("tracegate import", () => {
  const traces = corpus("imp");
  const expectedPayloads = canonical(traces);
  let jsonlStore: string;
  let sqliteStore: string;
  let prunedStore: string;
  const jsonlDir = freshDataDir();
  const sqliteDir = freshDataDir();
  const prunedDir = freshDataDir();

  beforeAll(() => {
    jsonlStore = writeStore("jsonl", traces);
    sqliteStore = writeStore("sqlite", traces);
    // Days 0 and 1 are older than the cutoff: the reference deletes seq 0..1.
    prunedStore = writeStore("sqlite", traces, SECRET, "2026-03-03T00:00:00");
  });

  it("keeps seq, hashes and payload bytes of JSONL, SQLite and pruned SQLite stores", async () => {
    const [jsonl, sqlite, pruned] = await Promise.all([
      importOk(jsonlDir, [jsonlStore]),
      importOk(sqliteDir, [sqliteStore]),
      importOk(prunedDir, [prunedStore]),
    ]);
    expect(jsonl).toMatchObject({ format: "jsonl", records: 6, firstSeq: 0, lastSeq: 5, verified: true, mode: "kept", imported: 6 });
    expect(sqlite).toMatchObject({ format: "sqlite", records: 6, firstSeq: 0, lastSeq: 5, verified: true, mode: "kept", imported: 6 });
    expect(pruned).toMatchObject({ format: "sqlite", records: 4, firstSeq: 2, lastSeq: 5, verified: true, mode: "kept", imported: 4 });

    for (const [dir, source] of [
      [jsonlDir, jsonlEnvelopes(jsonlStore)],
      [sqliteDir, sqliteEnvelopes(sqliteStore)],
      [prunedDir, sqliteEnvelopes(prunedStore)],
    ] as const) {
      const state = tracegateState(dir);
      expect(state.rows.map(({ seq, prevHash, recordHash }) => ({ seq, prevHash, recordHash }))).toEqual(source);
      // Byte for byte what CPython canonicalises: 100.0, 2**64+1, U+2028, NUL, lone surrogate...
      expect(state.rows.map((r) => r.payload)).toEqual(expectedPayloads.slice(source[0]!.seq));
      expect(state.head).toEqual({ nextSeq: 6, headHash: source.at(-1)!.recordHash });
    }
    const first = tracegateState(jsonlDir).rows[0]!.payload;
    expect(first).toContain('"f":100.0');
    expect(first).toContain('"big":18446744073709551617');
    expect(first).toContain(String.raw`"text":"\u00e9\u2028\u0000"`);
    expect(first).toContain(String.raw`"lone":"\ud800"`);
    expect(tracegateState(jsonlDir).rows.map((r) => [r.actionId, r.status, r.eventType])).toEqual([
      ["imp-0", "succeeded", "invoke"],
      ["imp-1", "failed", "invoke"],
      ["imp-2", "succeeded", "deny"],
      ["imp-3", "succeeded", "expand"],
      ["imp-4", "succeeded", "invoke"],
      ["imp-5", "failed", "invoke"],
    ]);

    // The pruned store became a pruned tracegate chain, its checkpoint sealed.
    const meta = new Database(prunedStore, { readonly: true });
    const checkpointHash = (meta.prepare("SELECT value FROM meta WHERE key = 'checkpoint_hash'").get() as { value: string }).value;
    meta.close();
    expect(tracegateState(prunedDir).checkpoint).toMatchObject({ seq: 1, recordHash: checkpointHash, mac: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(tracegateState(jsonlDir).checkpoint).toBeUndefined();
  }, 300_000);

  it("refuses tampered stores, the wrong secret and corrupt input, naming the seq, and imports nothing", async () => {
    const target = freshDataDir();
    const line = (i: number) => (lines: string[]) => lines.filter((_, j) => j !== i);
    // [name, args, expected stderr, env, run as a real process]. A process costs ~2 s of CPU,
    // so the rest of the checklist calls the command's own function in this process.
    const cases: [string, string[], RegExp, Record<string, string>, boolean][] = [
      // JSONL: the reference's own checklist
      // (docs/reference-compatibility.md#tamper-checklist), edited as text.
      ["jsonl mutation", [tamperJsonl(jsonlStore, (l) => l.map((s, j) => (j === 2 ? s.replace('"team-a/agent"', '"team-b/agent"') : s)))], /^error: MUTATED at seq 2: Tampered record at seq 2: .* Nothing was imported\. \[[A-Z_]+\]\n$/, {}, true],
      ["jsonl args mutation", [tamperJsonl(jsonlStore, (l) => l.map((s, j) => (j === 0 ? s.replace('"f": 100.0', '"f": 100') : s)))], /^error: MUTATED at seq 0: /, {}, false],
      ["jsonl deletion", [tamperJsonl(jsonlStore, line(2))], /^error: NON_CONTIGUOUS at seq 3: Non-contiguous sequence at position 3: expected seq 2, found 3/, {}, false],
      ["jsonl head deletion", [tamperJsonl(jsonlStore, line(0))], /^error: NON_CONTIGUOUS at seq 1: /, {}, false],
      ["jsonl reorder", [tamperJsonl(jsonlStore, (l) => [l[0]!, l[2]!, l[1]!, ...l.slice(3)])], /^error: NON_CONTIGUOUS at seq 2: /, {}, false],
      ["jsonl insertion", [tamperJsonl(jsonlStore, (l) => [l[0]!, l[1]!, l[1]!.replace('"seq": 1', '"seq": 2'), ...l.slice(2)])], /^error: BROKEN_LINK at seq 2: /, {}, false],
      // SQLite: rows edited through SQL.
      ["sqlite mutation", [tamperSqlite(sqliteStore, `UPDATE traces SET payload = replace(payload, '"row_count": 2', '"row_count": 3') WHERE seq = 1`)], /^error: MUTATED at seq 1: /, {}, false],
      ["sqlite deletion", [tamperSqlite(sqliteStore, "DELETE FROM traces WHERE seq = 2")], /^error: NON_CONTIGUOUS at seq 3: /, {}, true],
      [
        "sqlite reorder",
        [tamperSqlite(sqliteStore, "UPDATE traces SET seq = -1 WHERE seq = 1", "UPDATE traces SET seq = 1 WHERE seq = 2", "UPDATE traces SET seq = 2 WHERE seq = -1")],
        /^error: BROKEN_LINK at seq 1: /,
        {},
        false,
      ],
      ["sqlite index column", [tamperSqlite(sqliteStore, "UPDATE traces SET action_id = 'forged' WHERE seq = 4")], /^error: COLUMN_MISMATCH at seq 4: /, {}, false],
      ["pruned checkpoint moved", [tamperSqlite(prunedStore, "UPDATE meta SET value = '1' WHERE key = 'checkpoint_next_seq'")], /^error: NON_CONTIGUOUS at seq 2: /, {}, false],
      // Secrets: --secret, then WEAVER_KERNEL_SECRET before TRACEGATE_HMAC_SECRET.
      ["wrong --secret", [jsonlStore, "--secret", "not-the-secret"], /^error: MUTATED at seq 0: .*wrong secret/, {}, true],
      ["wrong WEAVER_KERNEL_SECRET", [sqliteStore], /^error: MUTATED at seq 0: /, { WEAVER_KERNEL_SECRET: OTHER_SECRET }, false],
      ["no secret at all", [jsonlStore], /^error: no secret to verify the store with/, { TRACEGATE_HMAC_SECRET: "" }, false],
      // Input that is not a chain at all.
      ["corrupt line", [tamperJsonl(jsonlStore, (l) => [l[0]!, "", "not json", ...l.slice(1)])], /^error: Corrupted trace record at .*\.jsonl:3: /, {}, true],
      ["missing store", [join(work, "nope.jsonl")], /^error: Trace store '.*nope\.jsonl' does not exist\./, {}, true],
      ["sqlite forced on jsonl", [jsonlStore, "--format", "sqlite"], /^error: '.*' is not a valid SQLite trace store: .*--format jsonl/, {}, false],
      ["jsonl forced on sqlite", [sqliteStore, "--format", "jsonl"], /^error: Corrupted trace record at .*:1: /, {}, false],
      [
        "a trace the reference could not decode",
        [writeStore("jsonl", `[${traceText("m-0", 0)}, ${traceText("m-1", 1).replace('"args":{},', "")}]`)],
        /^error: Malformed trace at seq 1 \(.*\.jsonl:2\): missing required field 'args'\.\n$/,
        {},
        false,
      ],
      [
        "duplicate action ids",
        [writeStore("jsonl", `[${traceText("dup-0", 0)}, ${traceText("dup-1", 1)}, ${traceText("dup-0", 2)}]`)],
        /^error: Duplicate action_id 'dup-0' at seq 2 /,
        {},
        false,
      ],
    ];
    const runs = await inPool(
      3,
      cases.map(([, args, , env, cli]) => () => (cli ? importStore(target, args, env) : importInProcess(target, args, env))),
    );
    runs.forEach((run, i) => {
      const [name, , pattern] = cases[i]!;
      expect({ name, code: run.code, stdout: run.stdout }).toEqual({ name, code: 1, stdout: "" });
      expect(run.stderr, name).toMatch(pattern);
    });
    const state = tracegateState(target);
    expect(state.rows).toEqual([]);
    expect(state.head.nextSeq).toBe(0);
    expect(state.checkpoint).toBeUndefined();
  }, 300_000);

  it("re-chains into a non-empty chain, and for another secret, reporting the provenance", async () => {
    const otherTraces = corpus("other");
    const otherStore = writeStore("jsonl", otherTraces, OTHER_SECRET);
    const original = jsonlEnvelopes(otherStore);
    const empty = freshDataDir();

    const [dryRun, emptyDryRun, clash] = await Promise.all([
      importOk(jsonlDir, [otherStore, "--secret", OTHER_SECRET, "--dry-run"]),
      importInProcess(empty, [otherStore, "--dry-run"], { WEAVER_KERNEL_SECRET: OTHER_SECRET }).then((r) => JSON.parse(r.stdout)),
      importInProcess(jsonlDir, [sqliteStore, "--dry-run"]),
    ]);
    expect(dryRun).toMatchObject({ mode: "rechained", imported: 0, dryRun: true, reason: expect.stringContaining("not empty") });
    expect(emptyDryRun).toMatchObject({ mode: "rechained", imported: 0, reason: expect.stringContaining("secret"), mapping: { first: { seq: 0 } } });
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(/^error: action_id 'imp-0' is already in tracegate's chain/);
    expect(tracegateState(jsonlDir).rows).toHaveLength(6);
    expect(tracegateState(empty).rows).toHaveLength(0);

    const run = await importStore(jsonlDir, [otherStore], { WEAVER_KERNEL_SECRET: OTHER_SECRET });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Re-chained 6 record(s) under tracegate's chain: tracegate's chain is not empty (next seq 6).");
    expect(run.stdout).toContain(`original seq 0 (record_hash ${original[0]!.recordHash}) -> seq 6`);
    expect(run.stdout).toContain(`original seq 5 (record_hash ${original[5]!.recordHash}) -> seq 11`);

    const state = tracegateState(jsonlDir);
    const added = state.rows.slice(6);
    expect(added.map((r) => r.seq)).toEqual([6, 7, 8, 9, 10, 11]);
    expect(added[0]!.prevHash).toBe(state.rows[5]!.recordHash);
    expect(added.map((r) => r.payload)).toEqual(canonical(otherTraces));
    expect(added.map((r) => r.recordHash)).not.toContain(original[0]!.recordHash);
    expect(state.head).toEqual({ nextSeq: 12, headHash: added[5]!.recordHash });

    // The same store again: every action id is already there.
    const again = await importInProcess(jsonlDir, [otherStore, "--secret", OTHER_SECRET]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: action_id 'other-0' is already in tracegate's chain; nothing was imported\./);
    expect(tracegateState(jsonlDir).rows).toHaveLength(12);
  }, 300_000);

  it.each(BACKENDS.map((b) => [b.name, b] as const))(
    "keeps NaN, Infinity and lone surrogates (which Python writes) exactly, serves and verifies them on %s",
    async (_name, backend) => {
      const traces = `[${traceText("nan-0", 0, { error: "cut \ud83d", status: "failed" }, String.raw`{"nan": NaN, "inf": Infinity, "ninf": -Infinity, "f": 100.0, "lone": "rocket \ud83d"}`)}]`;
      const databaseUrl = await backend.freshDatabaseUrl();
      expect(await importOk(freshDataDir(), [writeStore("jsonl", traces)], { DATABASE_URL: databaseUrl })).toMatchObject({ records: 1, imported: 1 });
      const gateway = await createTestGateway({ backend, databaseUrl, secret: SECRET });
      try {
        const read = dataOf(await gateway.raw(`{ trace(actionId: "nan-0") { args payload error tokenId ocsf } verifyChain { ok checked kind } }`)) as {
          trace: { args: unknown; payload: string; error: string };
          verifyChain: unknown;
        };
        expect(read.verifyChain).toEqual({ ok: true, checked: 1, kind: null });
        expect([read.trace.payload]).toEqual(canonical(traces));
        expect(read.trace.payload).toContain(String.raw`"args":{"f":100.0,"inf":Infinity,"lone":"rocket \ud83d","nan":NaN,"ninf":-Infinity}`);
        // A JSON response cannot carry bare NaN: those come back as strings (docs/exactness.md).
        expect(read.trace.args).toEqual({ nan: "NaN", inf: "Infinity", ninf: "-Infinity", f: 100, lone: "rocket \ud83d" });
        expect(read.trace.error).toBe("cut \ud83d");
      } finally {
        await gateway.close();
      }
    },
    60_000,
  );

  it.each(BACKENDS.map((b) => [b.name, b] as const))(
    "re-chains while a gateway process appends, and the chain does not fork, on %s",
    async (_name, backend) => {
      const databaseUrl = await backend.freshDatabaseUrl();
      const gateway = await startGatewayProcess({ DATABASE_URL: databaseUrl, TRACEGATE_HMAC_SECRET: SECRET });
      gateways.push(gateway);
      const RECORDS = 400;
      const store = writeStore("jsonl", `[${Array.from({ length: RECORDS }, (_, i) => traceText(`bulk-${i}`, i % 28)).join(",\n")}]`, OTHER_SECRET);
      // Appends keep arriving from the gateway process for as long as the import runs.
      let importing = true;
      const appending = (async () => {
        let batches = 0;
        while (importing || batches < 3) {
          const input = Array.from({ length: 10 }, (_, k) => invoke(`live-${batches}-${k}`));
          const res = await postGraphQL(gateway.url, "mutation($input: [TraceInput!]!) { recordTraces(input: $input) { seq } }", { input });
          expect(res.errors).toBeUndefined();
          batches += 1;
        }
        return batches;
      })();
      const summary = await importOk(freshDataDir(), [store], { DATABASE_URL: databaseUrl, WEAVER_KERNEL_SECRET: OTHER_SECRET }).finally(() => {
        importing = false;
      });
      const total = RECORDS + (await appending) * 10;
      expect(summary).toMatchObject({ mode: "rechained", imported: RECORDS });
      const res = await postGraphQL(gateway.url, "{ verifyChain { ok checked kind detail } chainHead { nextSeq } }");
      expect(res.data).toEqual({ verifyChain: { ok: true, checked: total, kind: null, detail: expect.any(String) }, chainHead: { nextSeq: total } });
      // The import held the chain lock for its whole write: its records are one contiguous run.
      const db = backend.rawDb(databaseUrl);
      try {
        const seqs = (await db.all<{ seq: unknown }>(`SELECT "seq" FROM "Trace" WHERE "actionId" LIKE 'bulk-%' ORDER BY "seq"`)).map((r) => Number(r.seq));
        expect(seqs).toEqual(Array.from({ length: RECORDS }, (_, i) => summary.mapping.first.seq + i));
      } finally {
        await db.close();
      }
    },
    90_000,
  );

  it("the imported chains verify in a gateway", async () => {
    // A real process for the chain that is kept and re-chained; in process for the others.
    const [jsonl, sqlite, pruned] = await Promise.all([verifyInGateway(jsonlDir), verifyInProcess(sqliteDir), verifyInProcess(prunedDir)]);
    expect(jsonl).toMatchObject({ ok: true, checked: 12, kind: null });
    expect(sqlite).toMatchObject({ ok: true, checked: 6, kind: null });
    expect(pruned).toMatchObject({ ok: true, checked: 4, kind: null });
  }, 300_000);
});

/**
 * src/import/reference-view.ts and the snapshot rule of src/import/reference-store.ts: what
 * the reference CLI makes of stored traces (its decoder and export_action_trace, their error
 * texts), which error wins when a store holds several problems, its `get`, its verify_chain
 * starting at the first record's own seq, and a store read as it was when opened. The
 * end-to-end behaviour, against CPython, is test/e2e/audit-store.test.ts.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { createRecordHasher, GENESIS_HASH } from "../../../src/chain/hash.js";
import { canonicalJson, type JsonObject, parseJsonLossless, pythonJsonDumps } from "../../../src/chain/json.js";
import { openReferenceStore } from "../../../src/import/reference-store.js";
import { findTrace, reexportedTraces, reexportTrace, verifyStoreChain } from "../../../src/import/reference-view.js";

const dir = mkdtempSync(join(tmpdir(), "tracegate-view-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = "view-secret";
const hash = createRecordHasher(SECRET);

function trace(id: string, extra: Record<string, unknown> = {}): JsonObject {
  return parseJsonLossless(
    JSON.stringify({
      action_id: id, capability_id: "c", principal_id: "p", token_id: "", invoked_at: "2026-03-03T10:00:00Z",
      args: { n: 1 }, response_mode: "summary", driver_id: "", ...extra,
    }),
  ) as JsonObject;
}

/** A JSONL store of these traces, chained from `firstSeq` at GENESIS; `raw` lines replace some. */
function jsonlStore(name: string, traces: JsonObject[], firstSeq = 0, raw: Record<number, string> = {}): string {
  let prev = GENESIS_HASH;
  const lines = traces.map((t, i) => {
    const seq = firstSeq + i;
    const recordHash = hash(seq, prev, canonicalJson(t));
    const line = pythonJsonDumps({ seq: BigInt(seq), prev_hash: prev, record_hash: recordHash, trace: t });
    prev = recordHash;
    return raw[i] ?? line;
  });
  const path = join(dir, name);
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

function sqliteStore(name: string, payloads: string[]): string {
  const path = join(dir, name);
  const db = new Database(path);
  db.exec("CREATE TABLE traces (seq INTEGER PRIMARY KEY, action_id TEXT UNIQUE NOT NULL, prev_hash TEXT NOT NULL, record_hash TEXT NOT NULL, invoked_at TEXT NOT NULL, payload TEXT NOT NULL)");
  db.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)");
  payloads.forEach((p, i) => db.prepare("INSERT INTO traces VALUES (?, ?, ?, ?, ?, ?)").run(i, `a-${i}`, GENESIS_HASH, GENESIS_HASH, "x", p));
  db.close();
  return path;
}

async function all(path: string, format: "jsonl" | "sqlite"): Promise<string[]> {
  const store = openReferenceStore(path, format);
  try {
    const ids: string[] = [];
    for await (const t of reexportedTraces(store)) ids.push(String(t.exported.action_id));
    return ids;
  } finally {
    store.close();
  }
}

describe("reexportTrace: decode_trace then export_action_trace", () => {
  it("orders the 16 keys, fills defaults, derives status, drops unknown keys, re-writes invoked_at", () => {
    const out = reexportTrace(trace("a", { invoked_at: "2026-03-03T05:30:00.5+05:30", error: "", zzz: 1, status: "succeeded", correction: { x: 1 } }));
    expect(Object.keys(out.exported)).toEqual([
      "action_id", "capability_id", "principal_id", "token_id", "invoked_at", "response_mode", "driver_id", "handle_id",
      "sensitivity", "status", "event_type", "reason_code", "error", "args", "result_summary", "correction",
    ]);
    expect(out.exported).toMatchObject({
      invoked_at: "2026-03-03T05:30:00.500000+05:30", handle_id: null, sensitivity: "NONE", status: "failed",
      event_type: "invoke", reason_code: null, error: "", result_summary: null, correction: null,
    });
  });

  it("fails with the reference's messages", () => {
    const { args: _, ...noArgs } = trace("a");
    expect(() => reexportTrace(noArgs)).toThrow("Persisted trace payload is missing required field 'args'.");
    // invoked_at is parsed before args is looked up, as the reference's keyword arguments run.
    expect(() => reexportTrace({ ...noArgs, invoked_at: "yesterday" })).toThrow(
      "Persisted trace payload is malformed: Invalid isoformat string: 'yesterday'.",
    );
    expect(() => reexportTrace(trace("a", { invoked_at: 5 }))).toThrow("malformed: fromisoformat: argument must be str.");
    expect(() => reexportTrace(trace("a", { sensitivity: "TOP" }))).toThrow("malformed: 'TOP' is not a valid SensitivityTag.");
  });
});

describe("which error wins", () => {
  it("JSONL: a corrupt line anywhere beats an undecodable trace before it (the file is parsed first)", async () => {
    const { args: _, ...noArgs } = trace("a-1");
    const path = jsonlStore("order.jsonl", [trace("a-0"), noArgs, trace("a-2"), trace("a-3")], 0, { 3: "not json" });
    await expect(all(path, "jsonl")).rejects.toThrow(/^Corrupted trace record at .*order\.jsonl:4: /);
    const decodeOnly = jsonlStore("decode.jsonl", [trace("a-0"), noArgs, trace("a-2")]);
    await expect(all(decodeOnly, "jsonl")).rejects.toThrow("missing required field 'args'");
  });

  it("SQLite: rows fail in seq order, whichever the problem", async () => {
    const { args: _, ...noArgs } = trace("a-1");
    const path = sqliteStore("order.db", [canonicalJson(trace("a-0")), canonicalJson(noArgs), "not json"]);
    await expect(all(path, "sqlite")).rejects.toThrow("missing required field 'args'");
    const payloadFirst = sqliteStore("payload.db", [canonicalJson(trace("a-0")), "[1]", canonicalJson(noArgs)]);
    await expect(all(payloadFirst, "sqlite")).rejects.toThrow(/^Corrupted trace payload at seq 1 in .*payload\.db: not a JSON object\.$/);
  });
});

describe("findTrace: the reference's get", () => {
  it("JSONL: the first record with the id, after reading the whole file; SQLite: the action_id column", async () => {
    const path = jsonlStore("dups.jsonl", [trace("a-0", { principal_id: "first" }), trace("a-0", { principal_id: "second" })]);
    const jsonl = openReferenceStore(path, "jsonl");
    expect((await findTrace(jsonl, "a-0")).exported.principal_id).toBe("first");
    await expect(findTrace(jsonl, "zz")).rejects.toThrow("No action trace found for action_id='zz'.");
    const sqlite = openReferenceStore(sqliteStore("get.db", [canonicalJson(trace("a-0")), "{"]), "sqlite");
    expect((await findTrace(sqlite, "a-0")).exported.action_id).toBe("a-0");
    // The lookup goes by the indexed column, whose row here holds a broken payload.
    await expect(findTrace(sqlite, "a-1")).rejects.toThrow(/^Corrupted trace payload for action_id='a-1': /);
    sqlite.close();
  });
});

describe("verifyStoreChain: the reference's verify_chain", () => {
  it("starts at the first record's own seq; a corrupt record after a failed link is still an error", async () => {
    const shifted = openReferenceStore(jsonlStore("shifted.jsonl", [trace("a-0"), trace("a-1")], 7), "jsonl");
    expect(await verifyStoreChain(shifted, hash)).toEqual({ ok: true, checked: 2, firstBadSeq: null, kind: null, detail: "Verified 2 record(s)." });
    expect((await verifyStoreChain(shifted, createRecordHasher("other"))).firstBadSeq).toBe(7);
    const path = jsonlStore("late.jsonl", [trace("a-0"), trace("a-1"), trace("a-2")], 0, { 2: "not json" });
    await expect(verifyStoreChain(openReferenceStore(path, "jsonl"), createRecordHasher("other"))).rejects.toThrow(/late\.jsonl:3/);
  });
});

describe("a store is read as it was when opened", () => {
  it("ignores JSONL lines and SQLite rows appended afterwards", async () => {
    const path = jsonlStore("grow.jsonl", [trace("a-0")]);
    const jsonl = openReferenceStore(path, "jsonl");
    // Read, this line would be an error.
    appendFileSync(path, "not even json\n");
    const ids: string[] = [];
    for await (const r of jsonl.records()) ids.push(String(r.trace.action_id));
    expect(ids).toEqual(["a-0"]);
    const dbPath = sqliteStore("grow.db", [canonicalJson(trace("a-0"))]);
    const sqlite = openReferenceStore(dbPath, "sqlite");
    const db = new Database(dbPath);
    db.prepare("INSERT INTO traces VALUES (5, 'a-5', '', '', '', '{}')").run();
    db.close();
    expect(await all(dbPath, "sqlite").catch((e: Error) => e.message)).toMatch(/missing required field/);
    const seqs: number[] = [];
    for await (const r of sqlite.records()) seqs.push(r.seq);
    expect(seqs).toEqual([0]);
    sqlite.close();
  });
});

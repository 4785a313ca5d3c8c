/**
 * recordTraceRecords: raw weaver-kernel export records (JSON text) recorded byte-exactly. The
 * stored payload must be what CPython's json.dumps(json.loads(text), sort_keys=True,
 * separators=(",", ":"), ensure_ascii=True) makes of the record (CPython runs in the test),
 * the chain must verify on both backends, and refused records must write nothing.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChainHeadDocument, RecordTraceRecordsDocument } from "../gql/graphql.js";
import { BACKENDS } from "../support/backends.js";
import { codesOf, createTestGateway, dataOf, type TestGateway } from "../support/harness.js";
import { HEADER_ARGS, MIXED_ARGS, referenceTraceText } from "../support/reference-traces.js";

const AT = "2026-03-01T10:00:00.000042+00:00";
const record = (id: string, args = "{}", overrides: Record<string, unknown> = {}, i = 1) => referenceTraceText(id, i, AT, overrides, args);

/** The same kinds of characters unescaped in the text itself (the lone surrogate a real UTF-16 unit). */
const UNESCAPED_ARGS = `{"s": "é 🚀 \ud83d end", "ä": 1.5}`;

const CANONICAL = `
import json, sys
for text in json.loads(sys.stdin.read()):
    print(json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=True))
`;

/** CPython's canonical JSON of each record text. */
function cpython(texts: string[]): string[] {
  const run = spawnSync("python3", ["-c", CANONICAL], { input: JSON.stringify(texts), encoding: "utf8" });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr}`);
  return run.stdout.trimEnd().split("\n");
}

describe.each(BACKENDS)("$name", (backend) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await createTestGateway({ backend });
  });
  afterAll(() => gw.close());

  const head = async () => dataOf(await gw.exec(ChainHeadDocument)).chainHead;
  const verify = async () => (dataOf(await gw.raw("{ verifyChain { ok checked kind detail } }")) as { verifyChain: { ok: boolean; detail: string } }).verifyChain;

  it("stores each record as CPython canonicalises it, keeps invoked_at's text, and the chain verifies", async () => {
    const texts = [
      record("raw-1", HEADER_ARGS),
      record("raw-2", MIXED_ARGS, {}, 0),
      record("raw-3", UNESCAPED_ARGS, { invoked_at: "2026-03-01T10:00:00Z" }),
      record("raw-4", "{}", { event_type: "deny", reason_code: "missing_role", error: "denied \ud83d", status: "failed", result_summary: null }),
      record("raw-5", "{}", { error: "", status: "failed", response_mode: "table", handle_id: "h-1", sensitivity: "PCI" }),
      // Timestamps Python's fromisoformat reads that PostgreSQL's timestamptz does not.
      record("raw-6", "{}", { invoked_at: "2026-03-01T10:00:00,5+00:00" }),
      record("raw-7", "{}", { invoked_at: "2026-03-01T10:00:00+23:59" }),
    ];
    const res = dataOf(await gw.exec(RecordTraceRecordsDocument, { records: texts }));
    const stored = res.recordTraceRecords;
    expect(stored.map((t) => t.payload)).toEqual(cpython(texts));
    expect(stored.map((t) => t.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(stored[0]!.payload).toContain('"args":{"content-type":"application/json","timeout":30.0}');
    expect(stored[1]!.payload).toContain(String.raw`"Alpha":1,"alpha":2,"big":1152921504606846976,"f":100.0,"huge":1e+22`);
    expect(stored[1]!.payload).toContain(String.raw`"neg":-0.0,"nested":{"list":[1,2.5,null,true,{"\ud83d\ude80":"astral key"}]},"rocket":"rocket \ud83d"`);
    expect(stored[1]!.payload).toContain(String.raw`"text":"caf\u00e9 \ud83d\ude80 \"q\" back\\slash\ttab\nnl del\u007f","tiny":1e-07,"\u00e9t\u00e9":"non-ASCII key"`);
    // invoked_at is hashed as written; the filter column holds the instant.
    expect(stored[2]!.payload).toContain('"invoked_at":"2026-03-01T10:00:00Z"');
    expect(stored[2]!.invokedAt).toBe("2026-03-01T10:00:00+00:00");
    expect(stored[0]!.invokedAt).toBe(AT);
    expect(stored.map((t) => t.outcome)).toEqual(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "FAILED", "FAILED", "SUCCEEDED", "SUCCEEDED"]);
    expect(stored[5]!.invokedAt).toBe("2026-03-01T10:00:00.500000+00:00");
    expect(stored[6]!.invokedAt).toBe("2026-02-28T10:01:00+00:00");
    expect(stored[3]).toMatchObject({ eventType: "DENY", reasonCode: "missing_role" });
    expect(stored[4]).toMatchObject({ responseMode: "TABLE", handleId: "h-1", sensitivity: "PCI", error: "" });
    expect(await verify()).toMatchObject({ ok: true, checked: 7 });

    // Re-sent records are acknowledged with their stored receipts, not appended again.
    const again = dataOf(await gw.exec(RecordTraceRecordsDocument, { records: [texts[1]!, texts[0]!] })).recordTraceRecords;
    expect(again.map((t) => [t.seq, t.recordHash])).toEqual([
      [1, stored[1]!.recordHash],
      [0, stored[0]!.recordHash],
    ]);
    expect(await head()).toMatchObject({ nextSeq: 7 });
    // The same action id with other content is a conflict.
    const clash = await gw.exec(RecordTraceRecordsDocument, { records: [record("raw-1", HEADER_ARGS.replace("30.0", "30"))] });
    expect(codesOf(clash)).toEqual(["DUPLICATE_ACTION_ID"]);
    const twice = await gw.exec(RecordTraceRecordsDocument, { records: [record("raw-8"), record("raw-8")] });
    expect(codesOf(twice)).toEqual(["DUPLICATE_ACTION_ID"]);
  });

  it("keeps NaN and Infinity as the reference writes them (bare words), and verifies", async () => {
    const text = record("raw-nan", `{"nan": NaN, "inf": Infinity, "ninf": -Infinity}`);
    const res = dataOf(await gw.exec(RecordTraceRecordsDocument, { records: [text] }));
    expect(res.recordTraceRecords).toHaveLength(1);
    const stored = await gw.db().all<{ payload: string }>(`SELECT "payload" FROM "Trace" WHERE "actionId" = 'raw-nan'`);
    expect(stored[0]!.payload).toBe(cpython([text])[0]);
    expect(stored[0]!.payload).toContain('"args":{"inf":Infinity,"nan":NaN,"ninf":-Infinity}');
    expect(dataOf(await gw.raw("{ verifyChain { ok kind } }"))).toEqual({ verifyChain: { ok: true, kind: null } });
  });

  it("refuses records the reference would not write, naming records[i] and the key, and writes nothing", async () => {
    const before = await head();
    const good = record("raw-ok");
    const cases: [string, string, RegExp, string][] = [
      ["bad JSON", `{"action_id": "x",`, /^records\[1\]: Invalid JSON/, "records[1]"],
      ["not an object", `[1, 2]`, /^records\[1\]: not a JSON object\.$/, "records[1]"],
      ["missing key", record("raw-bad").replace('"args":{},', ""), /^records\[1\]: missing required field 'args'\.$/, "records[1].args"],
      ["unknown key", record("raw-bad", "{}", { extra: 1 }), /^records\[1\]: unknown key 'extra'/, "records[1].extra"],
      ["wrong status", record("raw-bad", "{}", { status: "failed" }), /^records\[1\]: 'status' is "failed" but 'error' is null/, "records[1].status"],
      ["status without error", record("raw-bad", "{}", { error: "boom" }), /^records\[1\]: 'status' is "succeeded" but 'error' is a string/, "records[1].status"],
      ["correction", record("raw-bad", "{}", { correction: { note: "x" } }), /^records\[1\]: 'correction' must be null/, "records[1].correction"],
      ["1e400", record("raw-bad", `{"x": [1e400]}`), /^records\[1\]: Invalid JSON: 1e400 overflows to infinity/, "records[1]"],
      ["an int CPython cannot read", record("raw-bad", `{"x": ${"9".repeat(4301)}}`), /^records\[1\]: 'args\.x' is an integer of 4301 digits/, "records[1].args.x"],
      ["deep nesting", record("raw-bad", `{"x": ${"[".repeat(70)}${"]".repeat(70)}}`), /^records\[1\]: 'args\.x(\[0\])+' is nested deeper than 64/, undefined as never],
      ["enum", record("raw-bad", "{}", { sensitivity: "HIGH" }), /^records\[1\]: unknown sensitivity 'HIGH'/, "records[1].sensitivity"],
      ["type", record("raw-bad", "{}", { handle_id: 7 }), /^records\[1\]: 'handle_id' must be a string or null\.$/, "records[1].handle_id"],
      ["timestamp", record("raw-bad", "{}", { invoked_at: "yesterday" }), /^records\[1\]: invoked_at: 'yesterday' is not an ISO 8601/, "records[1].invoked_at"],
      ["empty action_id (toTrace)", record(""), /^records\[1\]\.action_id must not be empty\.$/, "records[1].action_id"],
    ];
    for (const [name, text, message, field] of cases) {
      const res = await gw.exec(RecordTraceRecordsDocument, { records: [good, text] });
      expect(codesOf(res), name).toEqual(["BAD_USER_INPUT"]);
      expect(res.errors![0]!.message, name).toMatch(message);
      if (field !== undefined) expect(res.errors![0]!.extensions?.field, name).toBe(field);
    }
    expect(codesOf(await gw.exec(RecordTraceRecordsDocument, { records: [] }))).toEqual(["BAD_USER_INPUT"]);
    expect(await head()).toEqual(before);
    expect(dataOf(await gw.raw(`{ trace(actionId: "raw-ok") { seq } }`))).toEqual({ trace: null });
  });

  it("applies the key's scope and principal scope like recordTraces", async () => {
    const reader = await gw.issueKey(["traces:read"]);
    expect(codesOf(await gw.as(reader).exec(RecordTraceRecordsDocument, { records: [record("raw-scope")] }))).toEqual(["FORBIDDEN"]);
    const scoped = await gw.issueKey(["traces:write"], ["someone-else"]);
    const res = await gw.as(scoped).raw("mutation($r: [String!]!) { recordTraceRecords(records: $r) { seq } }", { r: [record("raw-scope")] });
    expect(codesOf(res)).toEqual(["FORBIDDEN"]);
    expect(res.errors![0]!.extensions?.field).toBe("records[0].principal_id");
  });
});

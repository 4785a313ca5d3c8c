/**
 * Tamper evidence on the stored chain: rows are edited, deleted and swapped directly in the
 * SQLite file (as an attacker with database access would), and verifyChain must name the right
 * kind and first bad seq. A chain written through the API must also verify under an independent
 * implementation of the reference's hash chain (docs/reference-compatibility.md#hash-chain), in
 * CPython's json + hmac.
 */
import { spawnSync } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RecordTracesDocument, VerifyChainDocument, VerifyTraceDocument } from "../gql/graphql.js";
import { BACKENDS, SQLITE } from "../support/backends.js";
import { codesOf, createTestGateway, dataOf, TEST_SECRET, type TestGateway } from "../support/harness.js";
import { at, deny, invoke } from "../support/traces.js";

const seed = Array.from({ length: 6 }, (_, i) => (i === 3 ? deny(`t-${i}`, "missing_role") : invoke(`t-${i}`, { invokedAt: at(i) })));

describe.each(BACKENDS)("verifyChain against direct database edits ($name)", (backend) => {
  let gw: TestGateway;
  const cols = `"actionId", "principalId", "capabilityId", "eventType", "status", "reasonCode", "${backend.timeColumn}", "prevHash", "recordHash", "payload"`;

  beforeEach(async () => {
    gw = await createTestGateway({ backend });
    dataOf(await gw.exec(RecordTracesDocument, { input: seed }));
  });
  afterEach(() => gw.close());

  const verify = async (args: { fromSeq?: number; toSeq?: number } = {}) => dataOf(await gw.exec(VerifyChainDocument, args)).verifyChain;
  const sqlite = (statement: string, ...params: unknown[]) => gw.db().run(statement, ...params);

  it("is ok on an untouched chain, in full and by range", async () => {
    expect(await verify()).toEqual({ ok: true, checked: 6, firstBadSeq: null, kind: null, detail: "Verified 6 record(s)." });
    expect(await verify({ fromSeq: 2, toSeq: 4 })).toMatchObject({ ok: true, checked: 3 });
  });

  it("is ok for instants the database-side column check cannot format (before 1970)", async () => {
    dataOf(await gw.exec(RecordTracesDocument, { input: [invoke("t-old", { invokedAt: "1969-12-31T23:59:59.5Z" }), invoke("t-old-2", { invokedAt: "1900-01-01T00:00:00.000001Z" })] }));
    expect(await verify()).toMatchObject({ ok: true, checked: 8 });
  });

  it("MUTATED: an edited payload", async () => {
    await sqlite(`UPDATE "Trace" SET "payload" = replace("payload", '"limit":10', '"limit":99') WHERE "seq" = 2`);
    expect(await verify()).toMatchObject({ ok: false, kind: "MUTATED", firstBadSeq: 2, checked: 3 });
  });

  it("MUTATED: an edited record hash", async () => {
    await sqlite(`UPDATE "Trace" SET "recordHash" = ? WHERE "seq" = 4`, "a".repeat(64));
    expect(await verify()).toMatchObject({ ok: false, kind: "MUTATED", firstBadSeq: 4 });
  });

  it("COLUMN_MISMATCH: an indexed column edited so filters would lie", async () => {
    await sqlite(`UPDATE "Trace" SET "principalId" = 'mallory' WHERE "seq" = 1`);
    const result = await verify();
    expect(result).toMatchObject({ ok: false, kind: "COLUMN_MISMATCH", firstBadSeq: 1 });
    expect(result.detail).toContain("principalId");
  });

  it("COLUMN_MISMATCH: a denial relabelled as an invoke, or moved in time", async () => {
    await sqlite(`UPDATE "Trace" SET "eventType" = 'invoke', "status" = 'succeeded' WHERE "seq" = 3`);
    expect(await verify()).toMatchObject({ ok: false, kind: "COLUMN_MISMATCH", firstBadSeq: 3 });
    await sqlite(`UPDATE "Trace" SET "eventType" = 'deny', "status" = 'failed' WHERE "seq" = 3`);
    await sqlite(`UPDATE "Trace" SET "${backend.timeColumn}" = ${backend.timePlusOneMicro} WHERE "seq" = 5`);
    expect(await verify()).toMatchObject({ ok: false, kind: "COLUMN_MISMATCH", firstBadSeq: 5 });
  });

  it("NON_CONTIGUOUS: a deleted middle record, reported at the next seq", async () => {
    await sqlite(`DELETE FROM "Trace" WHERE "seq" = 2`);
    expect(await verify()).toMatchObject({ ok: false, kind: "NON_CONTIGUOUS", firstBadSeq: 3, checked: 3 });
  });

  it("NON_CONTIGUOUS: a deleted first record", async () => {
    await sqlite(`DELETE FROM "Trace" WHERE "seq" = 0`);
    expect(await verify()).toMatchObject({ ok: false, kind: "NON_CONTIGUOUS", firstBadSeq: 1 });
  });

  it("BROKEN_LINK: two records swapped in place", async () => {
    // Swap everything but seq between records 1 and 2.
    const [a, b] = [1, 2];
    await sqlite(`UPDATE "Trace" SET "seq" = -1 WHERE "seq" = ?`, a);
    await sqlite(`UPDATE "Trace" SET "seq" = ? WHERE "seq" = ?`, a, b);
    await sqlite(`UPDATE "Trace" SET "seq" = ? WHERE "seq" = -1`, b);
    expect(await verify()).toMatchObject({ ok: false, kind: "BROKEN_LINK", firstBadSeq: 1 });
  });

  it("TRUNCATED: the newest records deleted", async () => {
    await sqlite(`DELETE FROM "Trace" WHERE "seq" >= 4`);
    expect(await verify()).toMatchObject({ ok: false, kind: "TRUNCATED", firstBadSeq: 4, checked: 5 });
  });

  it("TRUNCATED: the tail deleted and the head's seq rewound to match", async () => {
    await sqlite(`DELETE FROM "Trace" WHERE "seq" = 5`);
    await sqlite(`UPDATE "ChainHead" SET "nextSeq" = 5`);
    const result = await verify();
    expect(result).toMatchObject({ ok: false, kind: "TRUNCATED", firstBadSeq: 4 });
    expect(result.detail).toContain("head hash");
  });

  it("MUTATED: a forged record appended beyond the head without the secret", async () => {
    const [last] = await gw.db().all<{ recordHash: string; payload: string }>(`SELECT "recordHash", "payload" FROM "Trace" WHERE "seq" = 5`);
    await sqlite(`INSERT INTO "Trace" ("seq", ${cols}) SELECT 6, 'forged', 'alice', 'c', 'invoke', 'succeeded', NULL, "${backend.timeColumn}", ?, ?, ? FROM "Trace" WHERE "seq" = 5`,
      last!.recordHash, "b".repeat(64), last!.payload);
    expect(await verify()).toMatchObject({ ok: false, kind: "MUTATED", firstBadSeq: 6 });
  });

  it("NON_CONTIGUOUS: a range whose preceding record was deleted", async () => {
    await sqlite(`DELETE FROM "Trace" WHERE "seq" = 2`);
    expect(await verify({ fromSeq: 3 })).toMatchObject({ ok: false, kind: "NON_CONTIGUOUS", firstBadSeq: 2 });
  });

  it("MUTATED at seq 0 under the wrong secret", async () => {
    const other = await createTestGateway({ backend, databaseUrl: gw.databaseUrl, secret: "another-secret" });
    try {
      expect(dataOf(await other.exec(VerifyChainDocument, {})).verifyChain).toMatchObject({ ok: false, kind: "MUTATED", firstBadSeq: 0 });
    } finally {
      await other.close();
    }
  });

  it("refuses a bad range with BAD_USER_INPUT", async () => {
    expect(codesOf(await gw.exec(VerifyChainDocument, { fromSeq: 4, toSeq: 2 }))).toEqual(["BAD_USER_INPUT"]);
    expect(codesOf(await gw.exec(VerifyChainDocument, { fromSeq: -1 }))).toEqual(["BAD_USER_INPUT"]);
  });
});

/**
 * verifyTrace(actionId): one record where it stands (the console's per-trace integrity). Each
 * tamper of the suite above, seen from the edited record and from its neighbours.
 */
describe.each(BACKENDS)("verifyTrace against direct database edits ($name)", (backend) => {
  let gw: TestGateway;

  beforeEach(async () => {
    gw = await createTestGateway({ backend });
    dataOf(await gw.exec(RecordTracesDocument, { input: seed }));
  });
  afterEach(() => gw.close());

  const verifyTrace = async (actionId: string, key = gw.adminKey) => dataOf(await gw.as(key).exec(VerifyTraceDocument, { actionId })).verifyTrace;
  const sqlite = (statement: string, ...params: unknown[]) => gw.db().run(statement, ...params);

  it("is ok for every record of an untouched chain, first and last included; null for an unknown id", async () => {
    for (let i = 0; i < seed.length; i++) {
      expect(await verifyTrace(`t-${i}`)).toEqual({ ok: true, checked: 1, firstBadSeq: null, kind: null, detail: "Verified 1 record(s)." });
    }
    expect(await verifyTrace("no-such-trace")).toBeNull();
    // A GraphQL literal as well as JSON variables.
    expect(dataOf(await gw.raw(`{ verifyTrace(actionId: "t-3") { ok checked } }`))).toEqual({ verifyTrace: { ok: true, checked: 1 } });
  });

  it("MUTATED: an edited payload is reported on its record only", async () => {
    await sqlite(`UPDATE "Trace" SET "payload" = replace("payload", '"limit":10', '"limit":99') WHERE "seq" = 2`);
    expect(await verifyTrace("t-2")).toMatchObject({ ok: false, kind: "MUTATED", firstBadSeq: 2, checked: 1 });
    expect(await verifyTrace("t-1")).toMatchObject({ ok: true });
    expect(await verifyTrace("t-3")).toMatchObject({ ok: true });
  });

  it("BROKEN_LINK: a record rewritten under the secret shows at the next record's link, from both sides", async () => {
    const [row] = await gw.db().all<{ prevHash: string; payload: string }>(`SELECT "prevHash", "payload" FROM "Trace" WHERE "seq" = 2`);
    const forged = row!.payload.replace('"limit":10', '"limit":99');
    expect(forged).not.toBe(row!.payload);
    await sqlite(`UPDATE "Trace" SET "payload" = ?, "recordHash" = ? WHERE "seq" = 2`, forged, gw.hash(2, row!.prevHash, forged));
    const seen = await verifyTrace("t-2");
    expect(seen).toMatchObject({ ok: false, kind: "BROKEN_LINK", firstBadSeq: 3, checked: 2 });
    expect(seen!.detail).toContain("seq 3");
    expect(await verifyTrace("t-3")).toMatchObject({ ok: false, kind: "BROKEN_LINK", firstBadSeq: 3, checked: 1 });
    expect(await verifyTrace("t-1")).toMatchObject({ ok: true });
  });

  it("COLUMN_MISMATCH: an indexed column edited", async () => {
    await sqlite(`UPDATE "Trace" SET "principalId" = 'mallory' WHERE "seq" = 1`);
    const result = await verifyTrace("t-1");
    expect(result).toMatchObject({ ok: false, kind: "COLUMN_MISMATCH", firstBadSeq: 1 });
    expect(result!.detail).toContain("principalId");
  });

  it("NON_CONTIGUOUS: a deleted record is reported by the records on either side", async () => {
    await sqlite(`DELETE FROM "Trace" WHERE "seq" = 3`);
    expect(await verifyTrace("t-2")).toMatchObject({ ok: false, kind: "NON_CONTIGUOUS", firstBadSeq: 3, checked: 2 });
    expect(await verifyTrace("t-4")).toMatchObject({ ok: false, kind: "NON_CONTIGUOUS", firstBadSeq: 3 });
    expect(await verifyTrace("t-3")).toBeNull();
  });

  it("answers a principal-scoped reader for its own traces, across other principals' neighbours, and nothing else", async () => {
    dataOf(await gw.exec(RecordTracesDocument, { input: [invoke("bob-1", { principalId: "bob" }), invoke("alice-after", { invokedAt: at(9) })] }));
    const bobReader = await gw.issueKey(["traces:read"], ["bob"]);
    expect(await verifyTrace("bob-1", bobReader)).toMatchObject({ ok: true, checked: 1 });
    expect(await verifyTrace("t-2", bobReader)).toBeNull();
    expect(codesOf(await gw.as(bobReader).exec(VerifyChainDocument, {}))).toEqual(["FORBIDDEN"]);
    // An edit of the neighbour that replaces it is visible to bob only as a broken link.
    const [next] = await gw.db().all<{ prevHash: string; payload: string }>(`SELECT "prevHash", "payload" FROM "Trace" WHERE "seq" = 5`);
    await sqlite(`UPDATE "Trace" SET "recordHash" = ? WHERE "seq" = 5`, gw.hash(5, next!.prevHash, next!.payload.replace("t-5", "t-X")));
    expect(await verifyTrace("bob-1", bobReader)).toMatchObject({ ok: false, kind: "BROKEN_LINK", firstBadSeq: 6, checked: 1 });
    const writer = await gw.issueKey(["traces:write"]);
    expect(codesOf(await gw.as(writer).exec(VerifyTraceDocument, { actionId: "t-1" }))).toEqual(["FORBIDDEN"]);
  });

  it("refuses an action id that no trace can have (NUL, lone surrogate) with BAD_USER_INPUT", async () => {
    expect(codesOf(await gw.exec(VerifyTraceDocument, { actionId: "t-\u0000" }))).toEqual(["BAD_USER_INPUT"]);
    expect(codesOf(await gw.exec(VerifyTraceDocument, { actionId: "t-\ud800" }))).toEqual(["BAD_USER_INPUT"]);
  });
});

/**
 * The reference's canonical JSON and record hash (docs/reference-compatibility.md#canonical-json)
 * written in CPython's own json and hmac modules; reads the SQLite file.
 */
const PYTHON_VERIFIER = String.raw`
import hashlib, hmac, json, sqlite3, sys
db, secret = sys.argv[1], sys.argv[2].encode("utf-8")
prev, count = "0" * 64, 0
for seq, prev_hash, record_hash, payload in sqlite3.connect(db).execute('SELECT seq, prevHash, recordHash, payload FROM "Trace" ORDER BY seq'):
    trace = json.loads(payload)
    canonical = json.dumps(trace, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert payload == canonical, f"payload of seq {seq} is not canonical"
    assert seq == count and prev_hash == prev, f"bad link at seq {seq}"
    message = json.dumps({"seq": seq, "prev_hash": prev_hash, "trace": trace}, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    expected = hmac.new(secret, message.encode("utf-8"), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, record_hash), f"hash mismatch at seq {seq}"
    prev, count = record_hash, count + 1
print(f"OK {count}")
`;

describe("independent verification (CPython)", () => {
  it("accepts the chain tracegate wrote, including tricky numbers and text", async () => {
    const gw = await createTestGateway({ backend: SQLITE });
    dataOf(await gw.exec(RecordTracesDocument, { input: seed }));
    dataOf(
      await gw.raw(`mutation { recordTraces(input: [
        { actionId: "py-1", capabilityId: "c", principalId: "\u00e9l\u00e8ve", invokedAt: "2026-01-01T00:00:00.000001Z", responseMode: TABLE,
          args: { f: 100.0, g: 1e-7, h: 1e16, big: 1152921504606846976, neg: -0.0, Alpha: 1, alpha: 2, ctl: "a\u0001\u007fb", rocket: "\u{1F680}", q: "\\"/" },
          resultSummary: { fact_count: 0, row_count: 0, warning_count: 1, has_handle: false } },
        { actionId: "py-2", capabilityId: "memory.write", principalId: "", invokedAt: "2026-01-01T00:00:01Z", responseMode: HANDLE_ONLY, eventType: EXPAND, handleId: "h" }
      ]) { seq } }`),
    );
    await gw.close();
    const run = spawnSync("python3", ["-c", PYTHON_VERIFIER, gw.databaseUrl.slice("file:".length), TEST_SECRET], { encoding: "utf8" });
    expect(run.error).toBeUndefined();
    expect(run.stderr).toBe("");
    expect(run.stdout.trim()).toBe("OK 8");
  });
});

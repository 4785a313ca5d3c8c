/**
 * GET /export, the streamed HTTP export (src/http/export-route.ts), in process through
 * yoga.fetch on both backends: every format, every filter and order, the keyset paging
 * behind the stream (more traces than one page), the snapshot an export takes of a chain
 * that keeps growing, and access control (401 without a key, 403 without traces:read or for
 * `chained` with a principal-scoped key, principal scoping of everything else, 400 for bad
 * parameters). The `chained` stream must verify as the chain it came from.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GENESIS_HASH } from "../../src/chain/hash.js";
import { canonicalJson, isJsonObject, type JsonValue, parseJsonLossless, pythonJsonDumps } from "../../src/chain/json.js";
import { verifyRecords } from "../../src/chain/verify.js";
import { CSV_COLUMNS, EXPORT_KEYS, EXPORT_PAGE_SIZE } from "../../src/export/formats.js";
import { RecordTracesDocument } from "../gql/graphql.js";
import { BACKENDS } from "../support/backends.js";
import { createTestGateway, dataOf, type TestGateway } from "../support/harness.js";
import { at, deny, invoke } from "../support/traces.js";

/** Chain order differs from time order on purpose (seq 1 is the earliest). */
const SEED = [
  invoke("e-0", { principalId: "team-a/alice", invokedAt: at(2) }),
  deny("e-1", "missing_role", { principalId: "team-b/bob", invokedAt: at(0) }),
  invoke("e-2", { principalId: "team-a/alice", invokedAt: at(1), error: "driver failed", driverId: "", handleId: null, resultSummary: null }),
  invoke("e-3", { principalId: "team-b/carol", invokedAt: at(3), eventType: "EXPAND", tokenId: "", driverId: "" }),
  deny("e-4", "rate_limited", { principalId: "team-a/bob", invokedAt: at(4) }),
];
/** Numbers and text only a lossless, Python-faithful writer gets right (GraphQL literals keep 100.0 a float). */
const TRICKY = `mutation { recordTraces(input: [{ actionId: "e-5", capabilityId: "c", principalId: "team-a/alice",
  invokedAt: "2026-01-01T00:05:00.000001Z", responseMode: TABLE,
  args: { f: 100.0, g: 1e-7, h: 1e16, big: 1152921504606846976, neg: -0.0, Alpha: 1, alpha: 2, ctl: "a\\u0001\\u007fb", rocket: "\\u{1F680}" } }]) { seq } }`;
const ALL = ["e-0", "e-1", "e-2", "e-3", "e-4", "e-5"];

describe.each(BACKENDS)("GET /export ($name)", (backend) => {
  let gw: TestGateway;
  let keys: Record<"reader" | "teamA" | "writer", string>;
  /** The stored payloads by action id, as GraphQL returns them. */
  const payloads = new Map<string, string>();

  const get = (query: string, key: string | null = gw.adminKey, init: RequestInit = {}) => {
    const headers: Record<string, string> = {};
    if (key !== null) headers.authorization = `Bearer ${key}`;
    return gw.app.yoga.fetch(`http://tracegate.test/export${query}`, { ...init, headers });
  };
  const lines = async (res: Response) => {
    const text = await res.text();
    expect(text === "" || text.endsWith("\n")).toBe(true);
    return text.split("\n").filter((l) => l !== "");
  };
  const ids = async (query: string, key?: string) =>
    (await lines(await get(query, key))).map((l) => (JSON.parse(l) as { action_id: string }).action_id);
  /** The export object of a stored payload, keys in the reference's order. */
  const exportObject = (actionId: string) => {
    const trace = parseJsonLossless(payloads.get(actionId)!);
    if (!isJsonObject(trace)) throw new Error("payload is not an object");
    return Object.fromEntries(EXPORT_KEYS.map((k) => [k, trace[k]!]));
  };
  const errorOf = async (res: Response) => (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };

  beforeAll(async () => {
    gw = await createTestGateway({ backend });
    for (const row of dataOf(await gw.exec(RecordTracesDocument, { input: SEED })).recordTraces) payloads.set(row.actionId, row.payload);
    dataOf(await gw.raw(TRICKY));
    const tricky = await gw.raw(`{ trace(actionId: "e-5") { payload } }`);
    payloads.set("e-5", (dataOf(tricky) as { trace: { payload: string } }).trace.payload);
    keys = {
      reader: await gw.issueKey(["traces:read"]),
      teamA: await gw.issueKey(["traces:read"], ["team-a/*"]),
      writer: await gw.issueKey(["traces:write"]),
    };
  });
  afterAll(() => gw.close());

  describe("formats", () => {
    it("csv: the documented columns, read back by CPython's csv module; formula cells neutralised", async () => {
      // On a gateway of its own, so the other tests' chain stays as they expect it.
      const own = await createTestGateway({ backend });
      // Cells a spreadsheet would run as formulas, and text that needs quoting.
      dataOf(
        await own.exec(RecordTracesDocument, {
          input: [invoke("e-csv", { principalId: "=HYPERLINK(\"x\")", invokedAt: at(9), error: 'line 1\nline 2, "quoted"', driverId: "@drv", tokenId: "-1" })],
        }),
      );
      const stored = await own.raw(`{ trace(actionId: "e-csv") { seq payload recordHash prevHash } }`);
      const row = (dataOf(stored) as { trace: { seq: number; payload: string; recordHash: string; prevHash: string } }).trace;
      const ownGet = (query: string) => own.app.yoga.fetch(`http://tracegate.test/export${query}`, { headers: { authorization: `Bearer ${own.adminKey}` } });
      const res = await ownGet("?format=csv&principalId=" + encodeURIComponent("=HYPERLINK(\"x\")"));
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
      const text = await res.text();
      // CPython's csv module is the independent reader.
      const read = spawnSync("python3", ["-c", "import csv,json,sys; print(json.dumps(list(csv.reader(sys.stdin))))"], { input: text, encoding: "utf8" });
      expect(read.status, read.stderr).toBe(0);
      const [header, ...records] = JSON.parse(read.stdout) as string[][];
      expect(header).toEqual([...CSV_COLUMNS]);
      expect(records).toHaveLength(1);
      const trace = parseJsonLossless(row.payload) as Record<string, JsonValue>;
      expect(Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, records[0]![i]]))).toEqual({
        seq: String(row.seq),
        invoked_at: trace.invoked_at,
        action_id: "e-csv",
        event_type: "invoke",
        status: "failed",
        capability_id: trace.capability_id,
        principal_id: `'=HYPERLINK("x")`,
        token_id: "'-1",
        driver_id: "'@drv",
        handle_id: trace.handle_id ?? "",
        response_mode: trace.response_mode,
        sensitivity: trace.sensitivity,
        reason_code: "",
        error: 'line 1\nline 2, "quoted"',
        args: pythonJsonDumps(trace.args!),
        result_summary: trace.result_summary === null ? "" : pythonJsonDumps(trace.result_summary!),
        record_hash: row.recordHash,
      });
      // No trace matched: the header alone.
      expect(await (await ownGet("?format=csv&principalId=nobody")).text()).toBe(`${CSV_COLUMNS.join(",")}\n`);
      await own.close();
    });

    it("jsonl (default): one export object per line in chain order, written like Python's json.dumps", async () => {
      const res = await get("");
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("no-store");
      const got = await lines(res);
      expect(got).toEqual(ALL.map((id) => pythonJsonDumps(exportObject(id))));
      const first = JSON.parse(got[0]!) as Record<string, unknown>;
      expect(Object.keys(first)).toEqual([...EXPORT_KEYS]);
      // Exact numbers: Python's int/float split and reprs survive the round trip.
      expect(got[5]).toContain('"args": {"Alpha": 1, "alpha": 2, "big": 1152921504606846976, "ctl": "a\\u0001\\u007fb", "f": 100.0, "g": 1e-07, "h": 1e+16, "neg": -0.0, "rocket": "\\ud83d\\ude80"}');
      expect(got[5]).toContain('"invoked_at": "2026-01-01T00:05:00.000001+00:00"');
    });

    it("envelope: the reference's export document, streamed, as application/json", async () => {
      const res = await get("?format=envelope");
      expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
      const text = await res.text();
      const objects = ALL.map((id) => pythonJsonDumps(exportObject(id)));
      expect(text).toBe(`{"schema": "weaver_kernel.action_trace_export", "version": "1", "traces": [${objects.join(", ")}]}\n`);
      const empty = await (await get("?format=envelope&principalId=nobody")).text();
      expect(empty).toBe('{"schema": "weaver_kernel.action_trace_export", "version": "1", "traces": []}\n');
    });

    it("chained: reference JSONL store lines that verify as the stored chain", async () => {
      const got = await lines(await get("?format=chained"));
      expect(got).toHaveLength(6);
      const records = got.map((line) => {
        const rec = parseJsonLossless(line);
        if (!isJsonObject(rec) || !isJsonObject(rec.trace!)) throw new Error("not a record");
        expect(Object.keys(rec)).toEqual(["seq", "prev_hash", "record_hash", "trace"]);
        expect(line).toBe(pythonJsonDumps(rec));
        return { seq: Number(rec.seq), prevHash: String(rec.prev_hash), recordHash: String(rec.record_hash), payload: canonicalJson(rec.trace) };
      });
      expect(records.map((r) => r.payload)).toEqual(ALL.map((id) => payloads.get(id)));
      expect(got[0]!.startsWith(`{"seq": 0, "prev_hash": "${GENESIS_HASH}", "record_hash": "`)).toBe(true);
      expect(await verifyRecords(records, { hash: gw.hash, expectedPrevHash: GENESIS_HASH, expectedFirstSeq: 0 })).toMatchObject({ ok: true, checked: 6 });
      // A prefix is still a verifiable run of the chain.
      expect(await lines(await get("?format=chained&limit=2"))).toEqual(got.slice(0, 2));
    });

    it("ocsf: one schema-valid OCSF API Activity event per line, with the action id and seq to deduplicate on", async () => {
      const events = (await lines(await get("?format=ocsf"))).map((l) => JSON.parse(l) as Record<string, any>);
      expect(events.map((e) => e.unmapped.action_id)).toEqual(ALL);
      expect(events.map((e) => [e.metadata.uid, e.metadata.sequence, e.unmapped.seq])).toEqual(ALL.map((id, seq) => [id, seq, seq]));
      expect(events[1]).toMatchObject({ class_uid: 6003, severity_id: 3, status_id: 2, status_detail: "Denied: missing_role", status_code: "missing_role", time: Date.UTC(2026, 0, 1) });
      expect(events[3]).toMatchObject({ activity_id: 2, activity_name: "Read", type_uid: 600302 });
      expect(events.every((e) => e.src_endpoint.svc_name === "weaver-kernel" && e.metadata.version === "1.3.0")).toBe(true);
      expect(events.every((e) => !("args" in e) && !JSON.stringify(e).includes('"limit"'))).toBe(true); // args never leave in OCSF
    });

    it("ocsf-reference: the reference's mapping, byte for byte what weaver-kernel's trace_to_ocsf gives json.dumps", async () => {
      const got = await lines(await get("?format=ocsf-reference"));
      expect(got.map((l) => (JSON.parse(l) as { unmapped: { action_id: string } }).unmapped.action_id)).toEqual(ALL);
      const e1 = exportObject("e-1");
      expect(got[1]).toBe(
        '{"activity_id": 99, "activity_name": "Other", "category_uid": 6, "category_name": "Application Activity", ' +
          '"class_uid": 6003, "class_name": "API Activity", "type_uid": 600399, "severity_id": 3, "severity": "Medium", ' +
          `"status_id": 2, "status": "Failure", "status_detail": "Denied: missing_role", "time": ${Date.UTC(2026, 0, 1)}, ` +
          '"metadata": {"version": "1.3.0", "product": {"name": "weaver-kernel", "vendor_name": "Weaver"}, ' +
          '"extensions": [{"name": "aos", "uid": "aos", "version": "draft"}]}, "actor": {"user": {"uid": "team-b/bob"}}, ' +
          `"api": {"operation": ${pythonJsonDumps(e1.capability_id!)}, "service": {"name": "weaver-kernel"}}, "unmapped": {"action_id": "e-1", ` +
          `"token_id": ${pythonJsonDumps(e1.token_id!)}, "event_type": "deny", "response_mode": ${pythonJsonDumps(e1.response_mode!)}, ` +
          `"sensitivity": ${pythonJsonDumps(e1.sensitivity!)}, "reason_code": "missing_role", "handle_id": null, "result_summary": null}}`,
      );
      // Not schema-valid on purpose: no src_endpoint, no metadata.uid.
      expect(got.every((l) => !l.includes("src_endpoint") && !l.includes('"uid": "e-'))).toBe(true);
    });

    it("the GraphQL ocsf field gives the same events: schema-valid by default, the reference's with mapping: REFERENCE", async () => {
      const valid = (await lines(await get("?format=ocsf"))).map((l) => JSON.parse(l) as unknown);
      const reference = (await lines(await get("?format=ocsf-reference"))).map((l) => JSON.parse(l) as unknown);
      for (const [i, actionId] of ALL.entries()) {
        const query = `query($id: String!) { trace(actionId: $id) { valid: ocsf reference: ocsf(mapping: REFERENCE) } }`;
        const { trace } = dataOf(await gw.as(keys.reader).raw(query, { id: actionId })) as { trace: { valid: unknown; reference: unknown } };
        expect(trace.valid, actionId).toEqual(valid[i]);
        expect(trace.reference, actionId).toEqual(reference[i]);
      }
    });

    it("HEAD answers the headers without running the export", async () => {
      const res = await get("?format=envelope", gw.adminKey, { method: "HEAD" });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(await res.text()).toBe("");
    });
  });

  describe("filters and order", () => {
    it("filters on every indexed field, AND-ed, since inclusive and until exclusive", async () => {
      expect(await ids("?principalId=team-a/alice")).toEqual(["e-0", "e-2", "e-5"]);
      expect(await ids("?capabilityId=c")).toEqual(["e-5"]);
      expect(await ids("?eventType=deny")).toEqual(["e-1", "e-4"]);
      expect(await ids("?eventType=EXPAND")).toEqual(["e-3"]);
      expect(await ids("?outcome=failed")).toEqual(["e-1", "e-2", "e-4"]);
      expect(await ids("?outcome=SUCCEEDED")).toEqual(["e-0", "e-3", "e-5"]);
      expect(await ids("?reasonCode=rate_limited")).toEqual(["e-4"]);
      expect(await ids(`?since=${encodeURIComponent(at(1))}&until=${encodeURIComponent(at(3))}`)).toEqual(["e-0", "e-2"]);
      expect(await ids("?since=2026-01-01T00:03:00&outcome=failed")).toEqual(["e-4"]);
      expect(await ids("?until=2026-01-01")).toEqual([]);
      expect((await lines(await get("?principalId=team-a/alice&outcome=failed&format=ocsf"))).length).toBe(1);
    });

    it("filters on id lists (a repeated parameter) and prefixes, as the GraphQL filter does", async () => {
      expect(await ids("?principalIdPrefix=team-a/")).toEqual(["e-0", "e-2", "e-4", "e-5"]);
      expect(await ids("?principalIdPrefix=team-a/&capabilityIdIn=c")).toEqual(["e-5"]);
      expect(await ids("?principalIdIn=team-a/bob&principalIdIn=team-b/bob")).toEqual(["e-1", "e-4"]);
      expect(await ids("?capabilityIdPrefix=%25")).toEqual([]); // a literal '%', not a wildcard
      // A principal-scoped key: a prefix outside its scope widens nothing.
      expect(await ids("?principalIdPrefix=team-", keys.teamA)).toEqual(["e-0", "e-2", "e-4", "e-5"]);
      expect(await ids("?principalIdPrefix=team-b/", keys.teamA)).toEqual([]);
    });

    it("orders by chain, by time or by time descending, and limits after filtering", async () => {
      expect(await ids("?order=seq")).toEqual(ALL);
      expect(await ids("?order=time")).toEqual(["e-1", "e-2", "e-0", "e-3", "e-4", "e-5"]);
      expect(await ids("?order=time-desc")).toEqual(["e-5", "e-4", "e-3", "e-0", "e-2", "e-1"]);
      expect(await ids("?order=seq-desc")).toEqual([...ALL].reverse());
      expect(await ids("?order=seq-desc&outcome=failed&limit=2")).toEqual(["e-4", "e-2"]);
      expect(await ids("?order=time&outcome=failed&limit=2")).toEqual(["e-1", "e-2"]);
      expect(await ids("?limit=0")).toEqual([]);
    });
  });

  describe("delivery cursor: afterSeq, withSeq, X-Tracegate-Last-Seq", () => {
    /** seq of each seeded trace, from the chain itself. */
    const seqOf = async () => {
      const rows = (await lines(await get("?format=chained"))).map((l) => JSON.parse(l) as { seq: number; trace: { action_id: string } });
      return new Map(rows.map((r) => [r.trace.action_id, r.seq]));
    };

    it("afterSeq keeps seq > n in chain order, with the filters, and works as a cursor page by page", async () => {
      const seq = await seqOf();
      expect(await ids(`?afterSeq=${seq.get("e-2")}`)).toEqual(["e-3", "e-4", "e-5"]);
      expect(await ids(`?afterSeq=${seq.get("e-0")}&eventType=deny`)).toEqual(["e-1", "e-4"]);
      expect(await ids(`?afterSeq=${seq.get("e-5")}`)).toEqual([]);
      expect(await ids("?afterSeq=999999999")).toEqual([]);
      // Paging as a forwarder does: limit n after the last seq held, until a short page.
      const got: string[] = [];
      let cursor: number | undefined;
      for (;;) {
        const page = (await lines(await get(`?withSeq=true&limit=2${cursor === undefined ? "" : `&afterSeq=${cursor}`}`))).map(
          (l) => JSON.parse(l) as { seq: number; data: { action_id: string } },
        );
        got.push(...page.map((p) => p.data.action_id));
        if (page.length < 2) break;
        cursor = page.at(-1)!.seq;
      }
      expect(got).toEqual(ALL);
    });

    it("afterSeq with a principal-scoped key: only its principals, whatever the cursor", async () => {
      const seq = await seqOf();
      expect(await ids(`?afterSeq=${seq.get("e-0")}`, keys.teamA)).toEqual(["e-2", "e-4", "e-5"]);
      expect(await ids(`?afterSeq=${seq.get("e-0")}&principalId=team-b/bob`, keys.teamA)).toEqual([]);
    });

    it("withSeq wraps each jsonl and ocsf line as {seq, data} around the unchanged line", async () => {
      const seq = await seqOf();
      for (const format of ["jsonl", "ocsf"]) {
        const plain = await lines(await get(`?format=${format}`));
        const wrapped = await lines(await get(`?format=${format}&withSeq=true`));
        expect(wrapped).toEqual(plain.map((line, i) => `{"seq": ${seq.get(ALL[i]!)}, "data": ${line}}`));
      }
      expect(await lines(await get("?withSeq=false"))).toEqual(await lines(await get("")));
    });

    it("X-Tracegate-Last-Seq is the newest seq the key and filters match; absent when none", async () => {
      const seq = await seqOf();
      const last = async (query: string, key?: string) => (await get(query, key)).headers.get("x-tracegate-last-seq");
      // (The streaming test below appends more; this runs before it.)
      expect(await last("")).toBe(String(seq.get("e-5")));
      expect(await last("?eventType=deny")).toBe(String(seq.get("e-4")));
      expect(await last("?principalId=team-b/bob&afterSeq=0")).toBe(String(seq.get("e-1")));
      expect(await last("?principalId=team-b/bob", keys.teamA)).toBeNull();
      expect(await last("?principalId=nobody")).toBeNull();
    });

    it("X-Tracegate-Chain-Id is the chain's id, the same for a principal-scoped key and when nothing matches", async () => {
      const { chainId } = await gw.stores.traces.head();
      expect(chainId).not.toBe("");
      const chainOf = async (query: string, key?: string) => (await get(query, key)).headers.get("x-tracegate-chain-id");
      expect(await chainOf("")).toBe(chainId);
      expect(await chainOf("?principalId=team-b/bob", keys.teamA)).toBe(chainId);
      expect(await chainOf("?principalId=nobody&withSeq=true")).toBe(chainId);
    });
  });

  describe("access", () => {
    it("401 UNAUTHENTICATED without a key or with an unknown one, with a Bearer challenge", async () => {
      for (const key of [null, "tgk_not-a-real-key-0123456789abcdefghijklmnop"]) {
        const res = await get("", key);
        expect(res.status).toBe(401);
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
        expect((await errorOf(res)).errors[0]!.extensions.code).toBe("UNAUTHENTICATED");
      }
    });

    it("403 FORBIDDEN for a key without traces:read", async () => {
      const res = await get("", keys.writer);
      expect(res.status).toBe(403);
      expect((await errorOf(res)).errors[0]!.extensions.code).toBe("FORBIDDEN");
    });

    it("a principal-scoped key exports only its principals, whatever it asks for", async () => {
      expect(await ids("", keys.teamA)).toEqual(["e-0", "e-2", "e-4", "e-5"]);
      expect(await ids("?principalId=team-b/bob", keys.teamA)).toEqual([]);
      expect(await ids("?order=time-desc&outcome=failed", keys.teamA)).toEqual(["e-4", "e-2"]);
      const envelope = JSON.parse(await (await get("?format=envelope", keys.teamA)).text()) as { traces: { principal_id: string }[] };
      expect(envelope.traces.map((t) => t.principal_id)).toEqual(["team-a/alice", "team-a/alice", "team-a/bob", "team-a/alice"]);
      expect((await lines(await get("?format=ocsf", keys.teamA))).length).toBe(4);
    });

    it("chained exposes the whole chain: 403 for a scoped key, 200 for an unscoped reader", async () => {
      const res = await get("?format=chained", keys.teamA);
      expect(res.status).toBe(403);
      expect((await errorOf(res)).errors[0]).toMatchObject({ extensions: { code: "FORBIDDEN" } });
      expect((await lines(await get("?format=chained", keys.reader))).length).toBe(6);
    });
  });

  describe("bad requests", () => {
    it.each([
      ["?format=xml", "format"],
      ["?order=random", "order"],
      ["?eventType=explode", "eventType"],
      ["?outcome=maybe", "outcome"],
      ["?since=yesterday", "since"],
      ["?until=2026-13-01T00:00:00Z", "until"],
      [`?since=${encodeURIComponent(at(3))}&until=${encodeURIComponent(at(1))}`, "since"],
      ["?limit=-1", "limit"],
      ["?limit=ten", "limit"],
      ["?principal=alice", "principal"],
      ["?principalId=a&principalId=b", "principalId"],
      ["?principalIdPrefix=", "principalIdPrefix"],
      ["?capabilityIdPrefix=a&capabilityIdPrefix=b", "capabilityIdPrefix"],
      ["?capabilityIdIn=%00", "capabilityIdIn"],
      ["?principalIdIn=%FF", "principalIdIn"],
      ["?principalIdIn=%ED%A0%80", "principalIdIn"],
      ["?principalIdPrefix=team-a%2F%FF", "principalIdPrefix"],
      ["?reasonCode=%C3", "reasonCode"],
      [`?${Array.from({ length: 101 }, (_, i) => `principalIdIn=p${i}`).join("&")}`, "principalIdIn"],
      ["?format=chained&principalId=team-a/alice", "format"],
      ["?format=chained&order=time", "format"],
      ["?afterSeq=-1", "afterSeq"],
      ["?afterSeq=1.5", "afterSeq"],
      ["?afterSeq=", "afterSeq"],
      ["?afterSeq=99999999999999999999", "afterSeq"],
      ["?afterSeq=3&order=time", "afterSeq"],
      ["?afterSeq=1&afterSeq=2", "afterSeq"],
      ["?withSeq=yes", "withSeq"],
      ["?withSeq=true&format=csv", "withSeq"],
      ["?withSeq=true&format=envelope", "withSeq"],
      ["?format=chained&afterSeq=2", "format"],
    ])("%s: 400 BAD_USER_INPUT", async (query, field) => {
      const res = await get(query);
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      const body = await errorOf(res);
      expect(body.errors).toHaveLength(1);
      expect(body.errors[0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field });
      expect(body.errors[0]!.message).toMatch(/\S/);
    });

    it("format=parquet: 400 naming the CLI command that writes Parquet", async () => {
      const res = await get("?format=parquet");
      expect(res.status).toBe(400);
      expect((await errorOf(res)).errors[0]).toMatchObject({
        message: expect.stringContaining("tracegate audit export --format parquet --out DIR") as unknown,
        extensions: { code: "BAD_USER_INPUT", field: "format" },
      });
    });

    it("authenticates before it validates: no key and a bad parameter is still 401", async () => {
      expect((await get("?format=xml", null)).status).toBe(401);
    });

    it("405 for anything but GET and HEAD", async () => {
      const res = await get("", gw.adminKey, { method: "POST" });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, HEAD");
    });
  });

  describe("streaming", () => {
    it("pages through more traces than one page holds, in order, and exports a snapshot of a growing chain", async () => {
      const many = Array.from({ length: EXPORT_PAGE_SIZE * 2 + 37 }, (_, i) =>
        invoke(`bulk-${String(i).padStart(5, "0")}`, { principalId: i % 2 ? "team-a/bulk" : "team-b/bulk", invokedAt: at(10, i) }),
      );
      dataOf(await gw.exec(RecordTracesDocument, { input: many }));
      const expected = [...ALL, ...many.map((t) => t.actionId)];

      const res = await get("");
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = "";
      const first = await reader.read();
      text += decoder.decode(first.value, { stream: true });
      // Appended after the export started: not part of it.
      dataOf(await gw.exec(RecordTracesDocument, { input: [invoke("late-1", { invokedAt: at(5) }), invoke("late-2", { invokedAt: at(60) })] }));
      for (let next = await reader.read(); !next.done; next = await reader.read()) text += decoder.decode(next.value, { stream: true });
      const got = text.split("\n").filter((l) => l !== "").map((l) => (JSON.parse(l) as { action_id: string }).action_id);
      expect(got).toEqual(expected);

      // Time order pages on (invokedAt, seq), across page boundaries, scoped.
      const scoped = await ids("?order=time&principalId=team-a/bulk", keys.teamA);
      expect(scoped).toEqual(many.filter((_, i) => i % 2).map((t) => t.actionId));
      expect(await ids("?limit=600")).toEqual([...expected, "late-1", "late-2"].slice(0, 600));
    });
  });
});

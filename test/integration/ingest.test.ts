/**
 * recordTraces end to end in process: the stored payload is the reference export, status
 * is derived, numbers keep their Python type, and bad batches write nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChainHeadDocument, RecordTracesDocument, TraceByActionIdDocument, VerifyChainDocument } from "../gql/graphql.js";
import { BACKENDS } from "../support/backends.js";
import { codesOf, createTestGateway, dataOf, type TestGateway } from "../support/harness.js";
import { at, deny, invoke } from "../support/traces.js";

describe.each(BACKENDS)("$name", (backend) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await createTestGateway({ backend });
  });
  afterAll(() => gw.close());

  describe("recordTraces", () => {
    it("appends a batch, returns receipts in chain order and stores the reference export", async () => {
      const res = dataOf(
        await gw.exec(RecordTracesDocument, {
          input: [invoke("ing-1", { invokedAt: at(1, 123456) }), deny("ing-2", "missing_role", { invokedAt: at(2) })],
        }),
      );
      const [first, second] = res.recordTraces;
      expect(first).toMatchObject({ seq: 0, prevHash: "0".repeat(64), actionId: "ing-1", outcome: "SUCCEEDED", eventType: "INVOKE" });
      expect(second).toMatchObject({ seq: 1, prevHash: first!.recordHash, outcome: "FAILED", eventType: "DENY", reasonCode: "missing_role" });
      expect(first!.invokedAt).toBe("2026-01-01T00:01:00.123456+00:00");
      const exported = JSON.parse(second!.payload) as Record<string, unknown>;
      expect(Object.keys(exported).sort()).toEqual(
        ["action_id", "args", "capability_id", "correction", "driver_id", "error", "event_type", "handle_id", "invoked_at",
          "principal_id", "reason_code", "response_mode", "result_summary", "sensitivity", "status", "token_id"].sort(),
      );
      expect(exported).toMatchObject({ status: "failed", event_type: "deny", token_id: "", driver_id: "", args: {}, correction: null, invoked_at: "2026-01-01T00:02:00+00:00" });
      expect(dataOf(await gw.exec(ChainHeadDocument)).chainHead).toEqual({ nextSeq: 2, headHash: second!.recordHash });
    });

    it("stores and verifies NUL and other control characters (PostgreSQL's jsonb cannot hold \\u0000)", async () => {
      const res = dataOf(await gw.exec(RecordTracesDocument, { input: [invoke("ing-nul", { args: { s: "a\u0000b\u0001" }, error: "x\u0000y" })] }));
      expect(res.recordTraces[0]!.payload).toContain('"s":"a\\u0000b\\u0001"');
      const v = dataOf(await gw.raw("{ verifyChain { ok kind detail } }")) as { verifyChain: { ok: boolean } };
      expect(v.verifyChain).toMatchObject({ ok: true });
    });

    it("acknowledges a re-sent identical trace instead of appending it again (idempotent retries)", async () => {
      const first = dataOf(await gw.exec(RecordTracesDocument, { input: [invoke("idem-1"), invoke("idem-2")] })).recordTraces;
      const head = dataOf(await gw.raw("{ chainHead { nextSeq } }")) as { chainHead: { nextSeq: number } };
      const again = dataOf(await gw.exec(RecordTracesDocument, { input: [invoke("idem-2"), invoke("idem-3"), invoke("idem-1")] })).recordTraces;
      expect(again.map((t) => t.actionId)).toEqual(["idem-2", "idem-3", "idem-1"]);
      expect(again[0]!.seq).toBe(first[1]!.seq);
      expect(again[2]!.recordHash).toBe(first[0]!.recordHash);
      expect(again[1]!.seq).toBe(head.chainHead.nextSeq);
      expect(dataOf(await gw.raw("{ chainHead { nextSeq } }"))).toEqual({ chainHead: { nextSeq: head.chainHead.nextSeq + 1 } });
      expect(dataOf(await gw.raw("{ verifyChain { ok } }"))).toEqual({ verifyChain: { ok: true } });
    });

    it("derives FAILED from an empty error string, as the reference does", async () => {
      const res = dataOf(await gw.exec(RecordTracesDocument, { input: [invoke("ing-empty-error", { error: "" })] }));
      expect(res.recordTraces[0]?.outcome).toBe("FAILED");
    });

    it("keeps 100.0 a float and big integers exact when written as literals", async () => {
      const res = dataOf(
        await gw.raw(`mutation { recordTraces(input: [{ actionId: "ing-num", capabilityId: "c", principalId: "p",
          invokedAt: "2026-01-01T00:00:00Z", responseMode: RAW,
          args: { f: 100.0, small: 1e-7, big: 1152921504606846976, s: "\u00e9\u{1F680}\u007f", nested: { B: 1, a: [1.5, null, true] } } }]) { payload } }`),
      ) as { recordTraces: { payload: string }[] };
      const payload = res.recordTraces[0]!.payload;
      expect(payload).toContain('"args":{"big":1152921504606846976,"f":100.0,"nested":{"B":1,"a":[1.5,null,true]},"s":"\\u00e9\\ud83d\\ude80\\u007f","small":1e-07}');
    });

    it("reads numbers in JSON variables by their lexemes: ints exact at any size, fractions as floats", async () => {
      const ok = dataOf(await gw.exec(RecordTracesDocument, { input: [invoke("ing-var", { args: { n: 3, x: 2.5 } })] }));
      expect(ok.recordTraces[0]!.payload).toContain('"args":{"n":3,"x":2.5}');
      // JSON.stringify writes 2**60 as 1152921504606847000 (its shortest form); the gateway keeps
      // exactly the digits the JSON text holds, not a re-rounded or refused value.
      const big = dataOf(await gw.exec(RecordTracesDocument, { input: [invoke("ing-var-big", { args: { n: 2 ** 60 } })] }));
      expect(big.recordTraces[0]!.payload).toContain(`"args":{"n":${JSON.stringify(2 ** 60)}}`);
      expect(JSON.stringify(2 ** 60)).toBe("1152921504606847000");
    });

    it("reads a trace back by action id with every field", async () => {
      const res = dataOf(await gw.exec(TraceByActionIdDocument, { actionId: "ing-1" }));
      expect(res.trace).toMatchObject({
        actionId: "ing-1", capabilityId: "billing.list_invoices", principalId: "alice", tokenId: "tok-ing-1",
        responseMode: "SUMMARY", driverId: "billing-api", handleId: "h-ing-1", sensitivity: "NONE",
        args: { limit: 10 }, resultSummary: { fact_count: 1, row_count: 10, warning_count: 0, has_handle: true }, error: null,
      });
      expect(dataOf(await gw.exec(TraceByActionIdDocument, { actionId: "nope" })).trace).toBeNull();
    });

    describe("refuses bad batches with a code and writes nothing", () => {
      const cases: [string, () => Promise<unknown[]>, string][] = [
        ["a duplicate within the batch", async () => codesOf(await gw.exec(RecordTracesDocument, { input: [invoke("dup-x"), invoke("dup-x")] })), "DUPLICATE_ACTION_ID"],
        ["an already stored action id with other content", async () => codesOf(await gw.exec(RecordTracesDocument, { input: [invoke("fresh-1"), invoke("ing-1", { principalId: "someone-else" })] })), "DUPLICATE_ACTION_ID"],
        ["a bad date", async () => codesOf(await gw.exec(RecordTracesDocument, { input: [invoke("bad-date", { invokedAt: "2026-02-30T00:00:00Z" })] })), "BAD_USER_INPUT"],
        ["a bad enum", async () => codesOf(await gw.raw("mutation($i:[TraceInput!]!){ recordTraces(input:$i){ seq } }", { i: [{ ...invoke("bad-enum"), eventType: "EXPLODE" }] })), "BAD_USER_INPUT"],
        ["a missing field", async () => codesOf(await gw.raw("mutation($i:[TraceInput!]!){ recordTraces(input:$i){ seq } }", { i: [{ actionId: "missing", principalId: "p", invokedAt: at(0), responseMode: "SUMMARY" }] })), "BAD_USER_INPUT"],
        ["an unknown field", async () => codesOf(await gw.raw("mutation($i:[TraceInput!]!){ recordTraces(input:$i){ seq } }", { i: [{ ...invoke("unknown"), surprise: 1 }] })), "BAD_USER_INPUT"],
        ["an empty action id", async () => codesOf(await gw.exec(RecordTracesDocument, { input: [invoke("")] })), "BAD_USER_INPUT"],
        ["args that are not an object", async () => codesOf(await gw.raw("mutation($i:[TraceInput!]!){ recordTraces(input:$i){ seq } }", { i: [{ ...invoke("arr"), args: [1, 2] }] })), "BAD_USER_INPUT"],
        ["an empty batch", async () => codesOf(await gw.exec(RecordTracesDocument, { input: [] })), "BAD_USER_INPUT"],
        ["an oversized batch", async () => codesOf(await gw.exec(RecordTracesDocument, { input: Array.from({ length: 5001 }, (_, i) => invoke(`big-${i}`)) })), "BAD_USER_INPUT"],
      ];
      it.each(cases)("%s", async (_name, run, code) => {
        const before = dataOf(await gw.exec(ChainHeadDocument)).chainHead;
        expect(await run()).toEqual([code]);
        expect(dataOf(await gw.exec(ChainHeadDocument)).chainHead).toEqual(before);
        expect(dataOf(await gw.exec(TraceByActionIdDocument, { actionId: "fresh-1" })).trace).toBeNull();
      });
    });

    it("leaves a chain that verifies", async () => {
      expect(dataOf(await gw.exec(VerifyChainDocument, {})).verifyChain).toMatchObject({ ok: true, kind: null, firstBadSeq: null });
    });
  });
});

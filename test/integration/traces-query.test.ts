/**
 * traces(...) connections: every filter, both orders, Relay paging forwards and backwards,
 * pages disjoint and complete while traces are being appended, and coded errors.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordTracesDocument, TraceNodeDocument, TracesDocument, TracesWithCountDocument, type TraceFilter, type TraceOrder } from "../gql/graphql.js";
import { BACKENDS } from "../support/backends.js";
import { codesOf, createTestGateway, dataOf, type TestGateway } from "../support/harness.js";
import { at, deny, invoke } from "../support/traces.js";

describe.each(BACKENDS)("$name", (backend) => {
  let gw: TestGateway;

  /** 60 traces: 3 principals, 2 capabilities, every 5th a deny; times deliberately not in seq order. */
  const corpus = Array.from({ length: 60 }, (_, i) => {
    const principalId = ["alice", "bob", "carol"][i % 3]!;
    const capabilityId = i % 2 === 0 ? "billing.list_invoices" : "crm.read";
    // Same minute for pairs (ties broken by seq) and a skew so time order != chain order.
    const invokedAt = at(Math.floor(((i * 7) % 60) / 2));
    return i % 5 === 0
      ? deny(`q-${i}`, i % 10 === 0 ? "missing_role" : "rate_limited", { principalId, capabilityId, invokedAt })
      : invoke(`q-${i}`, { principalId, capabilityId, invokedAt, error: i % 7 === 0 ? "driver failed" : null });
  });

  beforeAll(async () => {
    gw = await createTestGateway({ backend });
    dataOf(await gw.exec(RecordTracesDocument, { input: corpus }));
  });
  afterAll(() => gw.close());

  type Node = { seq: number; actionId: string; principalId: string; invokedAt: string };

  async function pageAll(filter: TraceFilter, orderBy: TraceOrder, size: number, backwards = false): Promise<Node[]> {
    const seen: Node[] = [];
    let cursor: string | null | undefined;
    for (let guard = 0; guard < 100; guard++) {
      const res = dataOf(
        await gw.exec(TracesDocument, backwards ? { filter, orderBy, last: size, before: cursor } : { filter, orderBy, first: size, after: cursor }),
      );
      const nodes = res.traces.edges.map((e) => e.node);
      if (backwards) seen.unshift(...nodes);
      else seen.push(...nodes);
      const more = backwards ? res.traces.pageInfo.hasPreviousPage : res.traces.pageInfo.hasNextPage;
      if (!more) return seen;
      cursor = backwards ? res.traces.pageInfo.startCursor : res.traces.pageInfo.endCursor;
    }
    throw new Error("paging did not terminate");
  }

  /** The expected result, computed independently from the corpus. */
  function expected(filter: TraceFilter, orderBy: TraceOrder): string[] {
    const rows = corpus
      .map((t, seq) => ({ t, seq, us: Date.parse(t.invokedAt) }))
      .filter(({ t, us }) =>
        (filter.principalId == null || t.principalId === filter.principalId) &&
        (filter.principalIdIn == null || filter.principalIdIn.includes(t.principalId)) &&
        (filter.principalIdPrefix == null || t.principalId.startsWith(filter.principalIdPrefix)) &&
        (filter.capabilityId == null || t.capabilityId === filter.capabilityId) &&
        (filter.capabilityIdIn == null || filter.capabilityIdIn.includes(t.capabilityId)) &&
        (filter.capabilityIdPrefix == null || t.capabilityId.startsWith(filter.capabilityIdPrefix)) &&
        (filter.eventType == null || (t.eventType ?? "INVOKE") === filter.eventType) &&
        (filter.outcome == null || (t.error != null ? "FAILED" : "SUCCEEDED") === filter.outcome) &&
        (filter.reasonCode == null || t.reasonCode === filter.reasonCode) &&
        (filter.since == null || us >= Date.parse(filter.since)) &&
        (filter.until == null || us < Date.parse(filter.until)));
    const byTime = (a: { us: number; seq: number }, b: { us: number; seq: number }) => a.us - b.us || a.seq - b.seq;
    if (orderBy === "SEQ_DESC") rows.reverse();
    if (orderBy === "INVOKED_AT_ASC") rows.sort(byTime);
    if (orderBy === "INVOKED_AT_DESC") rows.sort((a, b) => byTime(b, a));
    return rows.map((r) => r.t.actionId);
  }

  const FILTERS: [string, TraceFilter][] = [
    ["none", {}],
    ["principal", { principalId: "bob" }],
    ["capability", { capabilityId: "crm.read" }],
    ["event type", { eventType: "DENY" }],
    ["outcome", { outcome: "FAILED" }],
    ["reason code", { reasonCode: "rate_limited" }],
    ["time window", { since: at(5), until: at(20) }],
    ["combined", { principalId: "alice", eventType: "INVOKE", since: at(3), until: at(27) }],
    ["principal list", { principalIdIn: ["alice", "carol", "nobody"] }],
    ["principal prefix", { principalIdPrefix: "car" }],
    ["capability list", { capabilityIdIn: ["crm.read"] }],
    ["capability prefix and event type", { capabilityIdPrefix: "billing.", eventType: "DENY" }],
    ["lists, prefixes and a window", { principalIdIn: ["bob", "carol"], capabilityIdPrefix: "crm", since: at(2), until: at(25) }],
  ];
  const ORDERS: TraceOrder[] = ["SEQ_ASC", "SEQ_DESC", "INVOKED_AT_ASC", "INVOKED_AT_DESC"];

  describe("traces connection", () => {
    for (const [name, filter] of FILTERS) {
      for (const orderBy of ORDERS) {
        it(`filter ${name}, ${orderBy}: forward and backward pages are disjoint and complete`, async () => {
          const want = expected(filter, orderBy);
          const forward = await pageAll(filter, orderBy, 7);
          expect(forward.map((n) => n.actionId)).toEqual(want);
          const backward = await pageAll(filter, orderBy, 7, true);
          expect(backward.map((n) => n.actionId)).toEqual(want);
        });
      }
    }

    it("uses since inclusive and until exclusive", async () => {
      const nodes = await pageAll({ since: at(1), until: at(3) }, "INVOKED_AT_ASC", 50);
      expect(nodes.length).toBeGreaterThan(0);
      expect(new Set(nodes.map((n) => n.invokedAt))).toEqual(new Set([at(1), at(2)]));
    });

    it("returns an empty page for an empty window (since == until)", async () => {
      expect(await pageAll({ since: at(4), until: at(4) }, "SEQ_ASC", 10)).toEqual([]);
    });

    it("counts only when totalCount is selected, and counts the whole filter", async () => {
      const res = dataOf(await gw.exec(TracesWithCountDocument, { filter: { eventType: "DENY" } }));
      expect(res.traces.totalCount).toBe(expected({ eventType: "DENY" }, "SEQ_ASC").length);
    });

    it("keeps cursors valid and pages disjoint while traces are appended", async () => {
      const seen: string[] = [];
      let after: string | null | undefined;
      const appendBatch = async (n: number) =>
        dataOf(await gw.exec(RecordTracesDocument, { input: [0, 1, 2].map((k) => invoke(`live-${n}-${k}`, { principalId: "dave" })) }));
      await appendBatch(0);
      let appended = 1;
      for (;;) {
        const res = dataOf(await gw.exec(TracesDocument, { filter: { principalId: "dave" }, first: 3, after }));
        seen.push(...res.traces.edges.map((e) => e.node.actionId));
        const more = res.traces.pageInfo.hasNextPage;
        if (appended < 5) {
          // Append between page reads: later pages must include them, exactly once.
          await appendBatch(appended);
          appended++;
        } else if (!more) break;
        after = res.traces.pageInfo.endCursor;
      }
      expect(seen).toEqual(Array.from({ length: 15 }, (_, i) => `live-${Math.floor(i / 3)}-${i % 3}`));
      expect(new Set(seen).size).toBe(seen.length);
    });

    it("resolves a trace by its Relay node id and answers null for an unknown one", async () => {
      const res = dataOf(await gw.raw("{ traces(first: 1) { edges { node { id actionId } } } }")) as {
        traces: { edges: { node: { id: string; actionId: string } }[] };
      };
      const { id, actionId } = res.traces.edges[0]!.node;
      expect(dataOf(await gw.exec(TraceNodeDocument, { id })).node).toMatchObject({ actionId });
      const unknown = Buffer.from("Trace:999999").toString("base64");
      expect(dataOf(await gw.exec(TraceNodeDocument, { id: unknown })).node).toBeNull();
    });
  });

  describe("traces connection errors", () => {
    const seqCursor = () => Buffer.from("1:s:3").toString("base64url");
    const cases: [string, () => Promise<unknown[]>, string][] = [
      ["a garbage cursor", async () => codesOf(await gw.exec(TracesDocument, { after: "not-a-cursor!" })), "INVALID_CURSOR"],
      ["a base64 cursor tracegate did not issue", async () => codesOf(await gw.exec(TracesDocument, { after: Buffer.from("Trace:1").toString("base64url") })), "INVALID_CURSOR"],
      ["a chain-order cursor used for time order", async () => codesOf(await gw.exec(TracesDocument, { orderBy: "INVOKED_AT_ASC", after: seqCursor() })), "INVALID_CURSOR"],
      ["a huge cursor", async () => codesOf(await gw.exec(TracesDocument, { before: "A".repeat(10_000) })), "INVALID_CURSOR"],
      ["since after until", async () => codesOf(await gw.exec(TracesDocument, { filter: { since: at(10), until: at(5) } })), "BAD_USER_INPUT"],
      ["first over the maximum", async () => codesOf(await gw.exec(TracesDocument, { first: 501 })), "BAD_USER_INPUT"],
      ["a negative last", async () => codesOf(await gw.exec(TracesDocument, { last: -1 })), "BAD_USER_INPUT"],
      ["first together with last", async () => codesOf(await gw.exec(TracesDocument, { first: 2, last: 2 })), "BAD_USER_INPUT"],
      ["a malformed since", async () => codesOf(await gw.exec(TracesDocument, { filter: { since: "last tuesday" } })), "BAD_USER_INPUT"],
      ["a garbage node id", async () => codesOf(await gw.exec(TraceNodeDocument, { id: "%%%" })), "BAD_USER_INPUT"],
      ["a node id of another type", async () => codesOf(await gw.exec(TraceNodeDocument, { id: Buffer.from("User:1").toString("base64") })), "NOT_FOUND"],
      ["an empty prefix", async () => codesOf(await gw.exec(TracesDocument, { filter: { principalIdPrefix: "" } })), "BAD_USER_INPUT"],
      ["a prefix with NUL", async () => codesOf(await gw.exec(TracesDocument, { filter: { capabilityIdPrefix: "a\u0000" } })), "BAD_USER_INPUT"],
      ["a list over 100 ids", async () => codesOf(await gw.exec(TracesDocument, { filter: { capabilityIdIn: Array.from({ length: 101 }, (_, i) => `c${i}`) } })), "BAD_USER_INPUT"],
      ["a list with a lone surrogate", async () => codesOf(await gw.exec(TracesDocument, { filter: { principalIdIn: ["alice", "\ud800"] } })), "BAD_USER_INPUT"],
      ["a syntax error", async () => codesOf(await gw.raw("{ traces(first: ")), "GRAPHQL_PARSE_FAILED"],
      ["an unknown field", async () => codesOf(await gw.raw("{ traces { nope } }")), "GRAPHQL_VALIDATION_FAILED"],
    ];
    it.each(cases)("%s", async (_name, run, code) => {
      expect(await run()).toEqual([code]);
    });

    it("takes list and prefix filters as GraphQL literals too, and an empty list matches nothing", async () => {
      const res = dataOf(await gw.raw(`{ traces(filter: { principalIdIn: ["bob"], capabilityIdPrefix: "crm." }, first: 100) { totalCount edges { node { actionId } } } }`)) as {
        traces: { totalCount: number; edges: { node: { actionId: string } }[] };
      };
      expect(res.traces.edges.map((e) => e.node.actionId)).toEqual(expected({ principalIdIn: ["bob"], capabilityIdPrefix: "crm." }, "SEQ_ASC"));
      expect(res.traces.totalCount).toBeGreaterThan(0);
      expect(dataOf(await gw.exec(TracesWithCountDocument, { filter: { capabilityIdIn: [] } })).traces.totalCount).toBe(0);
    });

    it("accepts exactly the maximum page size", async () => {
      const res = dataOf(await gw.exec(TracesDocument, { first: 500 }));
      expect(res.traces.edges.length).toBeGreaterThan(0);
    });
  });
});

/**
 * A `traces:write`-only key (what README tells kernels to use) reads back the acknowledgement
 * of what it just wrote (id, seq, actionId, invokedAt, prevHash, recordHash) in the mutation's
 * own payload, and nothing else: every other Trace field, and every query, node and
 * subscription, stays FORBIDDEN. Over HTTP (yoga.fetch) and graphql-ws on both backends, and
 * the emitter (src/client) end to end on a real socket with such a key.
 */
import type { Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTraceEmitter, type DropReason, type TraceEmitterError } from "../../src/client/index.js";
import { BACKENDS } from "../support/backends.js";
import { codesOf, createTestGateway, dataOf, type GraphQLResponse, type TestGateway } from "../support/harness.js";
import { deny, invoke } from "../support/traces.js";
import { wsClient, wsExec } from "../support/ws.js";

const ACK_FIELDS = "id seq actionId invokedAt prevHash recordHash";
const RECORD = (selection: string) => `mutation($input: [TraceInput!]!) { recordTraces(input: $input) { ${selection} } }`;

interface Ack {
  id: string;
  seq: number;
  actionId: string;
  invokedAt: string;
  prevHash: string;
  recordHash: string;
}

type Exec = (query: string, variables?: Record<string, unknown>) => Promise<GraphQLResponse<Record<string, unknown>>>;

describe.each(BACKENDS)("$name: acknowledgements for a traces:write-only key", (backend) => {
  let gw: TestGateway;
  let writer: string;
  let ws: Client;
  let n = 0;

  beforeAll(async () => {
    gw = await createTestGateway({ backend });
    writer = await gw.issueKey(["traces:write"]);
    const { port } = await gw.app.start(0);
    ws = wsClient(`http://127.0.0.1:${port}/graphql`, `Bearer ${writer}`);
  });
  afterAll(async () => {
    await ws?.dispose();
    await gw.app.stop();
    await gw.close();
  });

  const roads: [string, () => Exec][] = [
    ["HTTP", () => (query, variables) => gw.as(writer).raw(query, variables)],
    ["graphql-ws", () => (query, variables) => wsExec(ws, query, variables) as Promise<GraphQLResponse<Record<string, unknown>>>],
  ];

  /** What an admin reads for these action ids: the truth to compare acknowledgements with. */
  const stored = async (actionIds: string[]) => {
    const res = dataOf(await gw.raw(`{ traces(first: 500) { edges { node { ${ACK_FIELDS} } } } }`)) as {
      traces: { edges: { node: Ack }[] };
    };
    return res.traces.edges.map((e) => e.node).filter((t) => actionIds.includes(t.actionId));
  };

  describe.each(roads)("over %s", (_road, road) => {
    it("reads every acknowledgement field of what it wrote, equal to what is stored", async () => {
      const ids = [`ack-${++n}`, `ack-${++n}`, `ack-${++n}`];
      const input = [invoke(ids[0]!), deny(ids[1]!, "missing_role"), invoke(ids[2]!, { error: "boom" })];
      const res = await road()(RECORD(ACK_FIELDS), { input });
      expect(res.errors).toBeUndefined();
      const acks = (res.data as { recordTraces: Ack[] }).recordTraces;
      expect(acks.map((a) => a.actionId)).toEqual(ids);
      expect(acks).toEqual(await stored(ids));
      expect(acks[1]!.prevHash).toBe(acks[0]!.recordHash);
      expect(acks[2]!.seq).toBe(acks[0]!.seq + 2);
    });

    it("reads them under an alias and beside __typename", async () => {
      const id = `ack-${++n}`;
      const res = await road()(`mutation($input: [TraceInput!]!) { mine: recordTraces(input: $input) { __typename s: seq recordHash } }`, {
        input: [invoke(id)],
      });
      expect(res.errors).toBeUndefined();
      const [ack] = (res.data as { mine: { __typename: string; s: number; recordHash: string }[] }).mine;
      expect(ack).toEqual({ __typename: "Trace", s: expect.any(Number), recordHash: (await stored([id]))[0]!.recordHash });
    });

    it.each(["principalId", "args", "payload", "capabilityId", "tokenId", "resultSummary", "ocsf", "redactions { path }"])(
      "may not read %s in the same mutation (the trace is stored all the same)",
      async (field) => {
        const id = `ack-${++n}`;
        const res = await road()(RECORD(`seq ${field}`), { input: [invoke(id, { principalId: "secret-principal", args: { card: "4111" } })] });
        expect(codesOf(res)).toEqual(["FORBIDDEN"]);
        expect(res.errors?.[0]?.message).toContain(`'Trace.${field.split(" ")[0]}'`);
        expect(JSON.stringify(res.data ?? null)).not.toMatch(/secret-principal|4111/);
        expect(await stored([id])).toHaveLength(1);
      },
    );

    it.each([
      ["traces", "{ traces { edges { node { seq actionId recordHash } } } }"],
      ["trace", `{ trace(actionId: "ack-1") { seq actionId } }`],
      ["node", `{ node(id: "${Buffer.from("Trace:0").toString("base64")}") { id ... on Trace { seq recordHash } } }`],
      ["nodes", `{ nodes(ids: ["${Buffer.from("Trace:0").toString("base64")}"]) { id } }`],
      ["chainHead", "{ chainHead { nextSeq headHash } }"],
    ])("may not read %s, not even the acknowledgement fields", async (_name, query) => {
      const res = await road()(query);
      expect(codesOf(res)).toEqual(["FORBIDDEN"]);
      expect(JSON.stringify(res.data ?? null)).not.toMatch(/ack-|[0-9a-f]{64}/);
    });
  });

  it("may not subscribe to traces, not even to their acknowledgement fields", async () => {
    for (const field of ["traceRecorded", "denyEvents"]) {
      const res = await wsExec(ws, `subscription { ${field}(afterSeq: -1) { trace { seq actionId } } }`);
      expect(codesOf(res as GraphQLResponse<unknown>), field).toEqual(["FORBIDDEN"]);
    }
  });

  it("a traces:read key still reads every field of a trace a writer recorded", async () => {
    const reader = await gw.issueKey(["traces:read"]);
    const res = dataOf(await gw.as(reader).raw(`{ trace(actionId: "ack-1") { ${ACK_FIELDS} principalId args payload } }`)) as {
      trace: Ack & { principalId: string };
    };
    expect(res.trace).toMatchObject({ actionId: "ack-1", seq: expect.any(Number), principalId: "alice" });
  });
});

describe("the emitter with a traces:write-only key", () => {
  let gw: TestGateway;
  afterAll(async () => {
    await gw?.app.stop();
    await gw?.close();
  });

  it("stores every trace and reports no batch failed", async () => {
    gw = await createTestGateway();
    const writer = await gw.issueKey(["traces:write"]);
    const { port } = await gw.app.start(0);
    const drops: { reason: DropReason; count: number }[] = [];
    const errors: TraceEmitterError[] = [];
    const em = createTraceEmitter({
      url: `http://127.0.0.1:${port}/graphql`,
      apiKey: writer,
      batchSize: 50,
      onDrop: (traces, reason) => drops.push({ reason, count: traces.length }),
      onError: (e) => errors.push(e),
    });
    const want = Array.from({ length: 230 }, (_, i) => `em-${String(i).padStart(4, "0")}`);
    want.forEach((id, i) => em.emit(i % 7 === 6 ? deny(id, "missing_role") : invoke(id)));
    await em.flush();
    await em.close();

    expect(errors).toEqual([]);
    expect(drops).toEqual([]);
    expect(em.stats()).toMatchObject({ sent: 230, failed: 0, dropped: 0, retries: 0, requests: 5 });
    const rows = await gw.db().all<{ actionId: string }>(`SELECT "actionId" FROM "Trace" ORDER BY "seq"`);
    expect(rows.map((r) => r.actionId)).toEqual(want);
    expect(dataOf(await gw.raw("{ verifyChain { ok checked } }")).verifyChain).toEqual({ ok: true, checked: 230 });
  });
});

/**
 * Access control, adversarially (issue 4): no key, wrong key, revoked key, wrong scope, and a
 * principal-scoped key trying to reach another principal's traces by filter, by action id,
 * by node id, by a cursor taken from another principal's page, by count and by writing.
 * Each attempt gets its code and nothing is written or leaked. Both backends.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordTracesDocument } from "../gql/graphql.js";
import { BACKENDS } from "../support/backends.js";
import { codesOf, createTestGateway, dataOf, type TestGateway } from "../support/harness.js";
import { at, deny, invoke } from "../support/traces.js";

/** Principals chosen to trip naive prefix matching: LIKE wildcards, case, the bare prefix. */
const PRINCIPALS = ["team-a/alice", "team-a/bob", "team-b/carol", "team-a", "team-a/%_x", "TEAM-A/dave", "team-ab/eve"];
const TEAM_A = new Set(["team-a/alice", "team-a/bob", "team-a/%_x"]);

const TRACES_QUERY = `query($filter: TraceFilter, $after: String, $orderBy: TraceOrder, $first: Int) {
  traces(filter: $filter, after: $after, orderBy: $orderBy, first: $first) {
    totalCount edges { cursor node { id actionId principalId } } pageInfo { endCursor hasNextPage } } }`;

type Edge = { cursor: string; node: { id: string; actionId: string; principalId: string } };
type TracesData = { traces: { totalCount: number; edges: Edge[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } };

describe.each(BACKENDS)("$name: access control", (backend) => {
  let gw: TestGateway;
  let keys: Record<"teamA" | "carolOnly" | "reader" | "writer" | "teamAWriter" | "revoker", string>;
  let carol: Edge["node"];

  const count = async () => ((await gw.raw("{ traces { totalCount } }")).data as TracesData).traces.totalCount;
  const tracesAs = async (key: string, variables: Record<string, unknown> = {}) => gw.as(key).raw(TRACES_QUERY, variables);

  beforeAll(async () => {
    gw = await createTestGateway({ backend });
    const input = PRINCIPALS.flatMap((principalId, i) => [
      invoke(`inv-${i}`, { principalId, invokedAt: at(i) }),
      deny(`deny-${i}`, "missing_role", { principalId, invokedAt: at(i, 5) }),
    ]);
    dataOf(await gw.exec(RecordTracesDocument, { input }));
    keys = {
      teamA: await gw.issueKey(["traces:read"], ["team-a/*"]),
      carolOnly: await gw.issueKey(["traces:read"], ["team-b/carol"]),
      reader: await gw.issueKey(["traces:read"]),
      writer: await gw.issueKey(["traces:write"]),
      teamAWriter: await gw.issueKey(["traces:write", "traces:read"], ["team-a/*"]),
      revoker: await gw.issueKey(["revocations:write"]),
    };
    const all = (await tracesAs(keys.reader, { first: 100 })).data as TracesData;
    carol = all.traces.edges.find((e) => e.node.principalId === "team-b/carol")!.node;
  });
  afterAll(() => gw.close());

  describe("authentication", () => {
    it("refuses a request without a key with 401, UNAUTHENTICATED and a WWW-Authenticate challenge", async () => {
      const res = await gw.app.yoga.fetch("http://tracegate.test/graphql", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ traces { totalCount } }" }),
      });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      const body = (await res.json()) as { data?: unknown; errors: { extensions: Record<string, unknown> }[] };
      expect(body.errors.map((e) => e.extensions.code)).toEqual(["UNAUTHENTICATED"]);
      expect(body.data).toBeUndefined();
      expect(body.errors[0]!.extensions).not.toHaveProperty("http");
    });

    it("writes nothing for a mutation without a key, with a made-up key or a malformed header", async () => {
      const before = await count();
      const mutation = `mutation { recordTraces(input: [{ actionId: "intruder", capabilityId: "c", principalId: "p",
        invokedAt: "2026-01-01T00:00:00Z", responseMode: SUMMARY }]) { seq } }`;
      for (const authorization of [null, "Bearer tgk_" + "A".repeat(43), `Basic ${gw.adminKey}`, "Bearer", gw.adminKey, `Bearer ${"x".repeat(600)}`]) {
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (authorization !== null) headers.authorization = authorization;
        const res = await gw.app.yoga.fetch("http://tracegate.test/graphql", { method: "POST", headers, body: JSON.stringify({ query: mutation }) });
        expect(res.status, String(authorization)).toBe(401);
        expect(codesOf((await res.json()) as never)).toEqual(["UNAUTHENTICATED"]);
      }
      expect(await count()).toBe(before);
    });

    it("does not let an unauthenticated caller probe the schema", async () => {
      const res = await gw.as(null).raw("{ __schema { types { name } } }");
      expect(codesOf(res)).toEqual(["UNAUTHENTICATED"]);
      expect(JSON.stringify(res)).not.toContain("TraceConnection");
      const typo = await gw.as(null).raw("{ tracez { totalCount } }");
      expect(codesOf(typo)).toEqual(["UNAUTHENTICATED"]); // no "Did you mean traces?"
    });

    it("refuses a key revoked through the API at once, and reports the revocation idempotently", async () => {
      const created = dataOf(
        await gw.raw(`mutation { createApiKey(input: { name: "temp", scopes: [TRACES_READ] }) { key apiKey { id revokedAt } } }`),
      ) as { createApiKey: { key: string; apiKey: { id: string; revokedAt: null } } };
      const { key, apiKey } = created.createApiKey;
      expect(key).toMatch(/^tgk_[A-Za-z0-9_-]{43}$/);
      expect(codesOf(await tracesAs(key))).toEqual([]);
      const revoke = `mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`;
      const first = dataOf(await gw.raw(revoke, { id: apiKey.id })) as { revokeApiKey: { revokedAt: string } };
      expect(first.revokeApiKey.revokedAt).toMatch(/^\d{4}-/);
      expect(codesOf(await tracesAs(key))).toEqual(["UNAUTHENTICATED"]);
      const again = dataOf(await gw.raw(revoke, { id: apiKey.id })) as { revokeApiKey: { revokedAt: string } };
      expect(again.revokeApiKey.revokedAt).toBe(first.revokeApiKey.revokedAt);
      expect(codesOf(await gw.raw(revoke, { id: "key_nonexistent" }))).toEqual(["NOT_FOUND"]);
      const listed = dataOf(await gw.raw("{ apiKeys(includeRevoked: true) { id revokedAt } active: apiKeys { id } }")) as {
        apiKeys: { id: string; revokedAt: string | null }[];
        active: { id: string }[];
      };
      expect(listed.apiKeys.find((k) => k.id === apiKey.id)?.revokedAt).toBe(first.revokeApiKey.revokedAt);
      expect(listed.active.map((k) => k.id)).not.toContain(apiKey.id);
      // The chain records who created and revoked the key, and never the key itself.
      const audit = dataOf(
        await gw.raw(`{ created: traces(filter: { capabilityId: "tracegate.createApiKey" }, last: 1) { edges { node { principalId args resultSummary } } }
          revoked: traces(filter: { capabilityId: "tracegate.revokeApiKey" }, last: 2) { edges { node { resultSummary } } } }`),
      ) as { created: { edges: { node: { principalId: string; args: unknown; resultSummary: unknown } }[] }; revoked: { edges: { node: { resultSummary: unknown } }[] } };
      const createdTrace = audit.created.edges[0]!.node;
      expect(createdTrace).toMatchObject({ args: { name: "temp", scopes: ["traces:read"], principals: null }, resultSummary: { id: apiKey.id } });
      expect(createdTrace.principalId).toMatch(/^key_/);
      expect(JSON.stringify(audit)).not.toContain(key);
      expect(audit.revoked.edges.map((e) => e.node.resultSummary)).toEqual([{ newlyRevoked: true }, { newlyRevoked: false }]);
    });

    it("never shows a key or its hash again after creation", async () => {
      const res = await gw.raw("{ apiKeys(includeRevoked: true) { id name scopes principals createdBy } }");
      expect(JSON.stringify(res)).not.toMatch(/tgk_|[0-9a-f]{64}/);
    });
  });

  describe("scopes", () => {
    const mutation = (principalId: string, actionId: string) => ({
      query: `mutation($input: [TraceInput!]!) { recordTraces(input: $input) { seq principalId } }`,
      variables: { input: [{ ...invoke(actionId, { principalId }) }] },
    });

    it.each([
      ["reader", "recordTraces"],
      ["revoker", "recordTraces"],
    ] as const)("a %s key may not %s, and nothing is written", async (who, _op) => {
      const before = await count();
      const m = mutation("team-a/alice", `forbidden-${who}`);
      expect(codesOf(await gw.as(keys[who]).raw(m.query, m.variables))).toEqual(["FORBIDDEN"]);
      expect(await count()).toBe(before);
    });

    it("a write-only key may not read traces, a trace, a node or the chain", async () => {
      for (const query of [
        "{ traces { totalCount } }",
        `{ trace(actionId: "inv-0") { actionId } }`,
        `{ node(id: "${carol.id}") { id } }`,
        "{ verifyChain { ok } }",
        "{ chainHead { nextSeq } }",
      ]) {
        const res = await gw.as(keys.writer).raw(query);
        expect(codesOf(res), query).toEqual(["FORBIDDEN"]);
        expect(JSON.stringify(res.data ?? null), query).not.toContain("team-");
      }
    });

    it("only admin keys administer keys", async () => {
      for (const key of [keys.reader, keys.writer, keys.revoker, keys.teamA]) {
        expect(codesOf(await gw.as(key).raw("{ apiKeys { id } }"))).toEqual(["FORBIDDEN"]);
        expect(codesOf(await gw.as(key).raw(`mutation { createApiKey(input: { name: "x", scopes: [ADMIN] }) { key } }`))).toEqual(["FORBIDDEN"]);
        expect(codesOf(await gw.as(key).raw(`mutation { revokeApiKey(id: "bootstrap") { id } }`))).toEqual(["FORBIDDEN"]);
      }
    });

    it("tells every key who it is", async () => {
      const res = dataOf(await gw.as(keys.teamA).raw("{ viewer { scopes principals } }")) as { viewer: unknown };
      expect(res.viewer).toEqual({ scopes: ["TRACES_READ"], principals: ["team-a/*"] });
    });

    it("refuses admin keys with a principal scope, and empty or malformed patterns", async () => {
      for (const input of [
        `{ name: "x", scopes: [ADMIN], principals: ["team-a/*"] }`,
        `{ name: "x", scopes: [TRACES_READ], principals: [] }`,
        `{ name: "x", scopes: [TRACES_READ], principals: ["*"] }`,
        `{ name: "x", scopes: [TRACES_READ], principals: ["a*b"] }`,
        `{ name: "", scopes: [TRACES_READ] }`,
        `{ name: "x", scopes: [] }`,
      ]) {
        expect(codesOf(await gw.raw(`mutation { createApiKey(input: ${input}) { key } }`)), input).toEqual(["BAD_USER_INPUT"]);
      }
    });
  });

  describe("principal scope", () => {
    async function pageAll(key: string, variables: Record<string, unknown>): Promise<Edge[]> {
      const edges: Edge[] = [];
      let after: string | null = null;
      for (let i = 0; i < 50; i++) {
        const res = await tracesAs(key, { ...variables, first: 3, after });
        const page = (dataOf(res) as TracesData).traces;
        edges.push(...page.edges);
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      return edges;
    }

    it("sees exactly its principals in pages and counts, in both orders", async () => {
      for (const orderBy of ["SEQ_ASC", "INVOKED_AT_DESC"]) {
        const seen = await pageAll(keys.teamA, { orderBy });
        expect(new Set(seen.map((e) => e.node.principalId))).toEqual(TEAM_A);
        expect(seen).toHaveLength(TEAM_A.size * 2);
      }
      expect(((await tracesAs(keys.teamA)).data as TracesData).traces.totalCount).toBe(TEAM_A.size * 2);
      const exact = await pageAll(keys.carolOnly, {});
      expect(exact.map((e) => e.node.principalId)).toEqual(["team-b/carol", "team-b/carol"]);
    });

    it("finds nothing of another principal by filter, and counts zero", async () => {
      for (const principalId of ["team-b/carol", "team-a", "TEAM-A/dave", "team-ab/eve"]) {
        const res = (dataOf(await tracesAs(keys.teamA, { filter: { principalId } })) as TracesData).traces;
        expect(res.edges, principalId).toEqual([]);
        expect(res.totalCount, principalId).toBe(0);
      }
    });

    it("gets null for another principal's action id and node id, and no data", async () => {
      const byAction = await gw.as(keys.teamA).raw(`{ trace(actionId: "${carol.actionId}") { actionId } }`);
      expect(byAction).toEqual({ data: { trace: null } });
      const byNode = await gw.as(keys.teamA).raw(`{ node(id: "${carol.id}") { id ... on Trace { principalId } } }`);
      expect(byNode.data?.node ?? null).toBeNull();
      expect(JSON.stringify(byNode)).not.toContain("team-b");
      const byNodes = await gw.as(keys.teamA).raw(`{ nodes(ids: ["${carol.id}"]) { id } }`);
      expect(JSON.stringify(byNodes)).not.toContain("team-b");
      // The owner of the scope still finds it.
      expect(dataOf(await gw.as(keys.carolOnly).raw(`{ node(id: "${carol.id}") { id } }`))).toEqual({ node: { id: carol.id } });
    });

    it("cannot step into another principal's rows with a cursor taken from their page", async () => {
      for (const orderBy of ["SEQ_ASC", "INVOKED_AT_ASC", "SEQ_DESC"]) {
        const foreign = (dataOf(await tracesAs(keys.reader, { orderBy, filter: { principalId: "team-b/carol" }, first: 1 })) as TracesData).traces;
        const cursor = foreign.edges[0]!.cursor;
        const res = (dataOf(await tracesAs(keys.teamA, { orderBy, after: cursor, first: 100 })) as TracesData).traces;
        expect(res.edges.length, orderBy).toBeGreaterThan(0);
        for (const e of res.edges) expect(TEAM_A.has(e.node.principalId), `${orderBy} ${e.node.principalId}`).toBe(true);
      }
    });

    it("may not verify or read the head of the whole chain", async () => {
      expect(codesOf(await gw.as(keys.teamA).raw("{ verifyChain { ok checked } }"))).toEqual(["FORBIDDEN"]);
      expect(codesOf(await gw.as(keys.teamA).raw("{ chainHead { nextSeq } }"))).toEqual(["FORBIDDEN"]);
      expect(codesOf(await gw.as(keys.reader).raw("{ verifyChain { ok } chainHead { nextSeq } }"))).toEqual([]);
    });

    it("writes only its own principals: a batch with one foreign trace is refused whole", async () => {
      const before = await count();
      const input = [invoke("scoped-ok", { principalId: "team-a/new" }), invoke("scoped-bad", { principalId: "team-b/mallory" })];
      const res = await gw.as(keys.teamAWriter).exec(RecordTracesDocument, { input });
      expect(codesOf(res)).toEqual(["FORBIDDEN"]);
      expect(res.errors![0]!.extensions?.field).toBe("input[1].principalId");
      expect(await count()).toBe(before);
      dataOf(await gw.as(keys.teamAWriter).exec(RecordTracesDocument, { input: [input[0]!] }));
      expect(await count()).toBe(before + 1);
      expect(dataOf(await gw.raw("{ verifyChain { ok } }"))).toEqual({ verifyChain: { ok: true } });
    });
  });
});

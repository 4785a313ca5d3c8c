/**
 * Compiled execution (src/http/jit.ts): a query's third and later runs go through
 * graphql-jit. Every answer must be byte for byte the plain executor's first answer: data
 * (exact JSON numbers, DateTime, enums, nulls, OCSF, redactions), partial data with coded
 * field errors, refusals, scope confinement and variable errors.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestGateway, dataOf, type TestGateway } from "../support/harness.js";

let gw: TestGateway;
let reader: string;
let aliceOnly: string;
let writer: string;

beforeAll(async () => {
  gw = await createTestGateway();
  const seeded = await gw.raw(`mutation {
    recordTraces(input: [
      { actionId: "a1", capabilityId: "billing.list", principalId: "alice", invokedAt: "2026-01-01T00:00:00.123456Z",
        responseMode: SUMMARY, args: { ratio: 100.0, big: 123456789012345678901234567890, s: "x", nested: [1, 2.50, null, { t: true }] },
        resultSummary: { n: 1e2 } },
      { actionId: "a2", capabilityId: "billing.pay", principalId: "bob", invokedAt: "2026-01-01T00:00:01Z",
        responseMode: SUMMARY, error: "boom Bearer abcdefghijklmnopqrstuvwxyz0123456789", args: { token: "ghp_abcdefghijklmnopqrstuvwxyz0123456789" } },
      { actionId: "a3", capabilityId: "billing.list", principalId: "alice", invokedAt: "2026-01-01T00:00:02.5Z",
        responseMode: TABLE, eventType: DENY, reasonCode: "missing_role" }
    ]) { seq }
  }`);
  dataOf(seeded);
  reader = await gw.issueKey(["traces:read"]);
  aliceOnly = await gw.issueKey(["traces:read"], ["alice"]);
  writer = await gw.issueKey(["traces:write"]);
});
afterAll(async () => {
  await gw.close();
});

const ALL_FIELDS = `id seq actionId capabilityId principalId tokenId invokedAt responseMode driverId handleId sensitivity
  outcome eventType reasonCode error args resultSummary redactions { path kind } ocsf prevHash recordHash payload`;

/** The response text of one request. */
async function text(key: string, query: string, variables?: Record<string, unknown>): Promise<string> {
  const res = await gw.app.yoga.fetch("http://tracegate.test/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return `${res.status} ${await res.text()}`;
}

const cases: { name: string; key: () => string; query: string; variables?: Record<string, unknown> }[] = [
  { name: "a page with every field", key: () => reader, query: `{ traces(first: 10) { totalCount edges { cursor node { ${ALL_FIELDS} } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }` },
  {
    name: "a time-ordered page from variables",
    key: () => reader,
    query: `query P($filter: TraceFilter, $after: String) { traces(filter: $filter, orderBy: INVOKED_AT_DESC, first: 2, after: $after) { edges { cursor node { seq invokedAt args } } pageInfo { hasNextPage endCursor } } }`,
    variables: { filter: { since: "2026-01-01T00:00:00Z", until: "2026-01-02T00:00:00+00:00" }, after: null },
  },
  { name: "trace by action id, and a missing one", key: () => reader, query: `{ a: trace(actionId: "a1") { ${ALL_FIELDS} } b: trace(actionId: "nope") { seq } }` },
  { name: "nodes with a garbage id (partial data, coded error)", key: () => reader, query: `{ nodes(ids: ["VHJhY2U6MA==", "garbage"]) { id ... on Trace { seq args } } }` },
  { name: "an invalid cursor", key: () => reader, query: `{ traces(first: 1, after: "bm9wZQ") { edges { node { seq } } } }` },
  { name: "an invalid DateTime variable", key: () => reader, query: `query Q($f: TraceFilter) { traces(filter: $f) { totalCount } }`, variables: { f: { since: "yesterday" } } },
  { name: "a principal-confined key", key: () => aliceOnly, query: `{ traces(first: 10) { totalCount edges { node { seq principalId } } } b: trace(actionId: "a2") { seq } }` },
  { name: "a key without traces:read", key: () => writer, query: `{ traces(first: 1) { edges { node { seq } } } }` },
  { name: "typename and fragments", key: () => reader, query: `{ __typename traces(first: 3) { ...C } } fragment C on TraceConnection { edges { node { __typename ...T } } } fragment T on Trace { seq outcome }` },
];

describe("compiled execution answers as the plain executor", () => {
  it.each(cases)("$name", async ({ key, query, variables }) => {
    const first = await text(key(), query, variables);
    for (let run = 2; run <= 5; run++) expect(await text(key(), query, variables), `run ${run}`).toBe(first);
  });
});

/**
 * One GraphQL rule set on every transport (issue 15): the same hostile documents sent over
 * HTTP (POST), SSE (POST with Accept: text/event-stream) and graphql-ws (a real socket) get
 * the same refusal, with no data, from a gateway configured as in production
 * (docs/security-model.md#limits): introspection, the armor limits, the `nodes` cost, field
 * suggestions and the Float-variable-in-JSON-literal rule (docs/exactness.md).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { type Listening, listeningGateways } from "../support/listening.js";
import { sseSubscribe } from "../support/sse.js";
import { wsClient, wsExec } from "../support/ws.js";

interface Result {
  data?: unknown;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** The three transports, each sending one document with the admin key to a started gateway. */
const TRANSPORTS = {
  http: async (url: string, key: string, query: string, variables?: Record<string, unknown>): Promise<Result> => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
    });
    return (await res.json()) as Result;
  },
  sse: async (url: string, key: string, query: string, variables?: Record<string, unknown>): Promise<Result> => {
    const stream = await sseSubscribe(url, query, { key, ...(variables ? { variables } : {}) });
    try {
      return (await stream.next()) ?? {};
    } finally {
      stream.abort();
    }
  },
  ws: async (url: string, key: string, query: string, variables?: Record<string, unknown>): Promise<Result> => {
    const client = wsClient(url, `Bearer ${key}`);
    try {
      return await wsExec(client, query, variables);
    } finally {
      await client.dispose();
    }
  },
} as const;
type Transport = keyof typeof TRANSPORTS;

const listening = listeningGateways();
async function start(env: Record<string, string>): Promise<Listening> {
  // The limits `tracegate serve` derives from this environment (NODE_ENV=production: introspection off).
  const { limits } = loadConfig({ TRACEGATE_HMAC_SECRET: "s".repeat(32), ...env });
  return listening({ limits });
}

const ids = Array.from({ length: 30_000 }, (_, i) => Buffer.from(`Trace:${i + 1}`).toString("base64"));
const recordWithArgs = (args: string, decl: string) =>
  `mutation(${decl}) { recordTraces(input: [{ actionId: "transports-1", capabilityId: "c", principalId: "alice",
    invokedAt: "2026-11-22T09:00:00Z", responseMode: SUMMARY, args: ${args} }]) { seq } }`;

/** [what, document, variables, refusal code, armor's limit name, text the response must not contain] */
const HOSTILE: [string, string, Record<string, unknown> | undefined, string, string | undefined, RegExp | undefined][] = [
  ["introspection", "{ __schema { types { name } } }", undefined, "GRAPHQL_VALIDATION_FAILED", undefined, /TraceConnection|__Schema"/],
  ["introspection by __type", `{ __type(name: "Trace") { fields { name } } }`, undefined, "GRAPHQL_VALIDATION_FAILED", undefined, /actionId/],
  ["an unknown field (no suggestions)", "{ tracez { totalCount } }", undefined, "GRAPHQL_VALIDATION_FAILED", undefined, /Did you mean|"traces"/],
  ["too deep", `{ ${"a { ".repeat(40)}b${" }".repeat(40)} }`, undefined, "QUERY_TOO_COMPLEX", "depth", undefined],
  ["too many aliases", `{ ${Array.from({ length: 31 }, (_, i) => `v${i}: viewer { keyId }`).join(" ")} }`, undefined, "QUERY_TOO_COMPLEX", "aliases", undefined],
  ["too many tokens", `{ viewer { ${"keyId ".repeat(6_000)} } }`, undefined, "QUERY_TOO_COMPLEX", "tokens", undefined],
  ["too many directives", `{ viewer ${"@include(if: true) ".repeat(21)} { keyId } }`, undefined, "QUERY_TOO_COMPLEX", "directives", undefined],
  ["too costly (a page size)", "{ traces(last: 100000) { totalCount } }", undefined, "QUERY_TOO_COMPLEX", "cost", undefined],
  ["too costly (nodes with 30,000 ids in variables)", "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", { ids }, "QUERY_TOO_COMPLEX", "cost", undefined],
  [
    "a subscription with too many directives",
    `subscription { traceRecorded ${"@include(if: true) ".repeat(21)} { __typename } }`,
    undefined,
    "QUERY_TOO_COMPLEX",
    "directives",
    undefined,
  ],
  ["a Float variable inside a JSONObject literal", recordWithArgs("{ ratio: $f }", "$f: Float"), { f: 100 }, "BAD_USER_INPUT", undefined, undefined],
];

describe("one rule set on HTTP, SSE and graphql-ws (production)", () => {
  let prod: Listening;
  beforeAll(async () => {
    prod = await start({ NODE_ENV: "production" });
  });

  describe.each(HOSTILE)("%s", (_what, query, variables, code, limit, hidden) => {
    it.each(Object.keys(TRANSPORTS) as Transport[])(`is refused with ${code} over %s`, async (transport) => {
      const res = await TRANSPORTS[transport](prod.url, prod.gw.adminKey, query, variables);
      expect(res.data ?? null).toBeNull();
      // One code (introspection is refused once per introspection field of the document).
      expect(res.errors?.length).toBeGreaterThan(0);
      expect([...new Set(res.errors!.map((e) => e.extensions?.code))]).toEqual([code]);
      if (limit) expect(res.errors![0]!.extensions?.limit).toBe(limit);
      expect(res.errors![0]!.extensions).not.toHaveProperty("http");
      if (hidden) expect(JSON.stringify(res)).not.toMatch(hidden);
    });
  });

  it.each(Object.keys(TRANSPORTS) as Transport[])("answers an ordinary query over %s (nothing refused was written)", async (transport) => {
    const res = await TRANSPORTS[transport](prod.url, prod.gw.adminKey, `{ viewer { scopes } traces { totalCount } }`);
    expect(res).toEqual({ data: { viewer: { scopes: ["ADMIN"] }, traces: { totalCount: 0 } } });
  });
});

describe("introspection where it is on (development)", () => {
  let dev: Listening;
  beforeAll(async () => {
    dev = await start({ NODE_ENV: "development" });
  });

  it.each(Object.keys(TRANSPORTS) as Transport[])("answers __schema over %s", async (transport) => {
    const res = await TRANSPORTS[transport](dev.url, dev.gw.adminKey, "{ __schema { queryType { name } } }");
    expect(res).toEqual({ data: { __schema: { queryType: { name: "Query" } } } });
  });
});

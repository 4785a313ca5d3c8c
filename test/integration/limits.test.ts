/**
 * Request limits (issue 4): graphql-armor's depth, cost, alias, token and directive limits,
 * the body size (with and without Content-Length), per-key and per-address rate limits,
 * and introspection. Each refusal carries its code and writes nothing.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordTracesDocument } from "../gql/graphql.js";
import { codesOf, createTestGateway, dataOf, type TestGateway } from "../support/harness.js";
import { Redis } from "ioredis";
import { testRedisUrl } from "../support/redis.js";
import { invoke } from "../support/traces.js";

const gateways: TestGateway[] = [];
async function gateway(options: Parameters<typeof createTestGateway>[0] = {}): Promise<TestGateway> {
  const gw = await createTestGateway(options);
  gateways.push(gw);
  return gw;
}
afterAll(async () => {
  for (const gw of gateways) await gw.close();
});

const nested = (depth: number) => `{ ${"a { ".repeat(depth)}b${" }".repeat(depth)} }`;

describe("query limits (defaults)", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await gateway();
    dataOf(await gw.exec(RecordTracesDocument, { input: [invoke("lim-1")] }));
  });

  it.each([
    ["depth", nested(40)],
    ["aliases", `{ ${Array.from({ length: 31 }, (_, i) => `v${i}: viewer { keyId }`).join(" ")} }`],
    ["tokens", `{ viewer { ${"keyId ".repeat(6_000)} } }`],
    ["directives", `{ viewer ${"@include(if: true) ".repeat(21)} { keyId } }`],
  ])("refuses a document over the %s limit with QUERY_TOO_COMPLEX", async (limit, query) => {
    const res = await gw.raw(query);
    expect(codesOf(res)).toEqual(["QUERY_TOO_COMPLEX"]);
    expect(res.errors![0]!.extensions?.limit).toBe(limit);
    expect(res.errors![0]!.message).not.toMatch(/^Syntax Error/);
  });

  it("accepts ordinary queries, GraphiQL's introspection included, in development", async () => {
    const res = await gw.raw(`{ traces(first: 500) { totalCount edges { node { actionId args redactions { path kind } } } } viewer { keyId } }`);
    expect(codesOf(res)).toEqual([]);
    const schema = await gw.raw("{ __schema { queryType { name } types { name fields { name } } } }");
    expect(codesOf(schema)).toEqual([]);
  });

  it("refuses pages over 500 with BAD_USER_INPUT", async () => {
    expect(codesOf(await gw.raw("{ traces(first: 501) { totalCount } }"))).toEqual(["BAD_USER_INPUT"]);
    expect(codesOf(await gw.raw("{ traces(last: 501) { totalCount } }"))).toEqual(["BAD_USER_INPUT"]);
    // armor's cost counts a page size as a multiplier: an absurd one is too costly to plan.
    expect(codesOf(await gw.raw("{ traces(last: 100000) { totalCount } }"))).toEqual(["QUERY_TOO_COMPLEX"]);
  });
});

describe("configured limits", () => {
  it("applies a lower depth and cost limit to otherwise valid queries", async () => {
    const gw = await gateway({ limits: { maxDepth: 3, maxCost: 10 } });
    const deep = await gw.raw("{ traces { edges { node { redactions { path } } } } }");
    expect(codesOf(deep)).toEqual(["QUERY_TOO_COMPLEX"]);
    const costly = await gw.raw("{ viewer { keyId name scopes principals } a: viewer { keyId name scopes principals } b: viewer { keyId name scopes principals } }");
    expect(codesOf(costly)).toEqual(["QUERY_TOO_COMPLEX"]);
    expect(costly.errors![0]!.extensions?.limit).toBe("cost");
    expect(codesOf(await gw.raw("{ viewer { keyId } }"))).toEqual([]);
  });

  it("hides the schema when introspection is off: no __schema, no field suggestions", async () => {
    const gw = await gateway({ limits: { introspection: false } });
    const res = await gw.raw("{ __schema { types { name } } }");
    expect(new Set(codesOf(res))).toEqual(new Set(["GRAPHQL_VALIDATION_FAILED"]));
    expect(JSON.stringify(res)).not.toContain("TraceConnection");
    const typo = await gw.raw("{ tracez { totalCount } }");
    expect(codesOf(typo)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
    expect(JSON.stringify(typo)).not.toMatch(/Did you mean/);
    expect(codesOf(await gw.raw("{ traces { totalCount } }"))).toEqual([]);
  });
});

describe("request body size", () => {
  let gw: TestGateway;
  const MAX = 4_096;
  beforeAll(async () => {
    gw = await gateway({ limits: { maxBodyBytes: MAX } });
  });

  const bigMutation = () =>
    JSON.stringify({
      query: "mutation($input: [TraceInput!]!) { recordTraces(input: $input) { seq } }",
      variables: { input: [invoke("big", { args: { blob: "x".repeat(MAX) } })] },
    });
  const count = async () => (dataOf(await gw.raw("{ traces { totalCount } }")) as { traces: { totalCount: number } }).traces.totalCount;

  it("refuses a body over the limit by its Content-Length with 413 PAYLOAD_TOO_LARGE", async () => {
    const res = await gw.app.yoga.fetch("http://tracegate.test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${gw.adminKey}` },
      body: bigMutation(),
    });
    expect(res.status).toBe(413);
    expect(codesOf((await res.json()) as never)).toEqual(["PAYLOAD_TOO_LARGE"]);
    expect(await count()).toBe(0);
  });

  it("refuses a streamed body without Content-Length once it passes the limit", async () => {
    const bytes = new TextEncoder().encode(bigMutation());
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 1_000) controller.enqueue(bytes.slice(i, i + 1_000));
        controller.close();
      },
    });
    const res = await gw.app.yoga.fetch("http://tracegate.test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${gw.adminKey}` },
      body,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(codesOf((await res.json()) as never)).toEqual(["PAYLOAD_TOO_LARGE"]);
    expect(await count()).toBe(0);
  });

  it("accepts a body under the limit", async () => {
    dataOf(await gw.exec(RecordTracesDocument, { input: [invoke("small")] }));
    expect(await count()).toBe(1);
  });

  it("refuses an invalid Content-Length with 400 before reading the body", async () => {
    const res = await gw.app.yoga.fetch("http://tracegate.test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "12, 12", authorization: `Bearer ${gw.adminKey}` },
      body: JSON.stringify({ query: "{ traces { totalCount } }" }),
    });
    expect(res.status).toBe(400);
  });

  describe("over real sockets", () => {
    let port = 0;
    beforeAll(async () => {
      port = (await gw.app.start(0)).port;
    });
    afterAll(async () => {
      await gw.app.stop();
    });

    /** POST over HTTP/1.1: with Content-Length, or chunked (no length) in pieces of 1,000 bytes. */
    const send = (body: string, options: { chunked: boolean; contentType?: string }) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const bytes = Buffer.from(body, "utf8");
        const req = request(
          {
            host: "127.0.0.1",
            port,
            path: "/graphql",
            method: "POST",
            headers: {
              "content-type": options.contentType ?? "application/json",
              authorization: `Bearer ${gw.adminKey}`,
              ...(options.chunked ? {} : { "content-length": bytes.length }),
            },
          },
          (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (c: string) => (text += c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        // The server may answer and close before the whole body is sent.
        req.on("error", (e: NodeJS.ErrnoException) => (e.code === "EPIPE" || e.code === "ECONNRESET" ? undefined : reject(e)));
        if (options.chunked) for (let i = 0; i < bytes.length; i += 1_000) req.write(bytes.subarray(i, i + 1_000));
        req.end(options.chunked ? undefined : bytes);
      });

    it.each([false, true])("refuses a body over the limit with 413 PAYLOAD_TOO_LARGE (chunked: %s)", async (chunked) => {
      const before = await count();
      const res = await send(bigMutation(), { chunked });
      expect(res.status).toBe(413);
      expect(codesOf(JSON.parse(res.text) as never)).toEqual(["PAYLOAD_TOO_LARGE"]);
      expect(await count()).toBe(before);
    });

    it.each([false, true])("reads a body under the limit whole and exact (chunked: %s)", async (chunked) => {
      // Padding puts the JSON number across a chunk boundary; 100.0 must stay a float.
      const body = `{"query":"mutation($input: [TraceInput!]!) { recordTraces(input: $input) { args } }",${" ".repeat(990)}"variables":{"input":[${JSON.stringify({ ...invoke(`exact-${chunked}`), args: "ARGS" }).replace('"ARGS"', '{"ratio":100.0}')}]}}`;
      const res = await send(body, { chunked });
      expect(res.status).toBe(200);
      expect(res.text).toContain('"args":{"ratio":100.0}');
    });

    it("refuses an application/graphql body over the limit, chunked, with 413", async () => {
      const res = await send(`{ traces { totalCount } }${" ".repeat(MAX)}`, { chunked: true, contentType: "application/graphql" });
      expect(res.status).toBe(413);
      expect(codesOf(JSON.parse(res.text) as never)).toEqual(["PAYLOAD_TOO_LARGE"]);
      const ok = await send("{ traces { totalCount } }", { chunked: true, contentType: "application/graphql" });
      expect(ok.status).toBe(200);
    });
  });
});

describe("rate limits", () => {
  it("gives a key its budget per minute, then 429 RATE_LIMITED with Retry-After, without touching other keys", async () => {
    const gw = await gateway({ limits: { ratePerMinute: 5 } });
    const flooder = await gw.issueKey(["traces:read", "traces:write"]);
    for (let i = 0; i < 5; i++) expect(codesOf(await gw.as(flooder).raw("{ viewer { keyId } }"))).toEqual([]);
    const res = await gw.app.yoga.fetch("http://tracegate.test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${flooder}` },
      body: JSON.stringify({ query: `mutation { recordTraces(input: [{ actionId: "flood", capabilityId: "c", principalId: "p", invokedAt: "2026-01-01T00:00:00Z", responseMode: SUMMARY }]) { seq } }` }),
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = (await res.json()) as { errors: { extensions: Record<string, unknown> }[] };
    expect(body.errors[0]!.extensions.code).toBe("RATE_LIMITED");
    expect(body.errors[0]!.extensions.retryAfterSeconds).toBeGreaterThan(0);
    // The admin key has its own budget; the refused mutation wrote nothing.
    const after = dataOf(await gw.raw(`{ trace(actionId: "flood") { seq } }`));
    expect(after).toEqual({ trace: null });
  });

  it("limits failed authentications per client address", async () => {
    const gw = await gateway();
    const codes: unknown[] = [];
    for (let i = 0; i < 32; i++) codes.push(...codesOf(await gw.as(`tgk_${String(i).padStart(43, "0")}`).raw("{ viewer { keyId } }")));
    expect(codes.slice(0, 30).every((c) => c === "UNAUTHENTICATED")).toBe(true);
    expect(codes.slice(30)).toEqual(["RATE_LIMITED", "RATE_LIMITED"]);
  });
});

describe.skipIf(!testRedisUrl("shared rate limits"))("rate limits shared through Redis", () => {
  it("counts one key's requests on every replica against one budget", async () => {
    const redis = new Redis(testRedisUrl("shared rate limits"));
    try {
      const first = await gateway({ limits: { ratePerMinute: 4 }, rateLimitRedis: redis });
      const second = await gateway({ databaseUrl: first.databaseUrl, limits: { ratePerMinute: 4 }, rateLimitRedis: redis });
      const key = await first.issueKey(["traces:read"]);
      const codes: unknown[] = [];
      for (const gw of [first, second, first, second, first, second]) {
        codes.push(codesOf(await gw.as(key).raw("{ viewer { keyId } }"))[0] ?? "ok");
      }
      expect(codes).toEqual(["ok", "ok", "ok", "ok", "RATE_LIMITED", "RATE_LIMITED"]);
    } finally {
      redis.disconnect();
    }
  });
});


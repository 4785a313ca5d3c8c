/**
 * Sending a batch (src/ship/transport.ts) to a real local HTTP server: what is retried and
 * what is final follows src/client/retry-policy.ts, the classification the emitter uses too.
 */
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { buildRequestBody, GatewayTransport, type TransportOptions } from "../../../src/ship/transport.js";
import { acknowledgeAll, refusal, type StandIn, standIn } from "./gateway.js";

const RECORDS = ['{"action_id":"a-0"}', '{"action_id":"a-1"}', '{"action_id":"a-2"}'];

let gateway: StandIn | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

function transport(url: string, over: Partial<TransportOptions> = {}): { t: GatewayTransport; warnings: string[] } {
  const warnings: string[] = [];
  const t = new GatewayTransport({ url, apiKey: "tgk_test", retryBaseMs: 1, retryMaxMs: 5, warn: (w) => warnings.push(w), ...over });
  return { t, warnings };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("sending a batch", () => {
  it("sends the records as $records strings with the key, and returns the acknowledgements", async () => {
    gateway = await standIn();
    const { t, warnings } = transport(gateway.url);
    expect(await t.send(RECORDS, "seq 0..2")).toEqual({ kind: "ack", traces: [{ seq: 0, actionId: "a-0" }, { seq: 1, actionId: "a-1" }, { seq: 2, actionId: "a-2" }] });
    expect(gateway.requests).toHaveLength(1);
    expect(gateway.requests[0]!.records).toEqual(RECORDS);
    expect(gateway.requests[0]!.headers.authorization).toBe("Bearer tgk_test");
    expect(gateway.requests[0]!.query).toMatch(/^mutation Ship\(\$records: \[String!\]!\) \{ recordTraceRecords\(records: \$records\) \{ seq actionId \} \}$/);
    expect(JSON.parse(buildRequestBody(RECORDS))).toEqual({ query: gateway.requests[0]!.query, variables: { records: RECORDS } });
    expect(warnings).toEqual([]);
  });

  it("retries 5xx, 429, 408 and transient codes (whatever the status) until acknowledged", async () => {
    const script = [
      { status: 503, body: "unavailable" },
      { status: 429, headers: { "retry-after": "0" }, body: "slow down" },
      { status: 408, body: "" },
      refusal(200, "RATE_LIMITED", "Too many requests.", { retryAfterSeconds: 0 }),
      refusal(500, "INTERNAL_SERVER_ERROR", "Unexpected error."),
      refusal(503, "SOMETHING_NEW", "a code this client does not know, on a 5xx"),
    ];
    gateway = await standIn((req, n) => script[n - 1] ?? acknowledgeAll(req, n));
    const { t, warnings } = transport(gateway.url);
    expect((await t.send(RECORDS, "seq 0..2")).kind).toBe("ack");
    expect(gateway.requests).toHaveLength(7);
    expect(warnings.map((w) => w.replace(/ in \d+ ms$/, ""))).toEqual([
      "gateway unavailable for seq 0..2 (HTTP 503); retry 1",
      "gateway unavailable for seq 0..2 (HTTP 429); retry 2",
      "gateway unavailable for seq 0..2 (HTTP 408); retry 3",
      "gateway unavailable for seq 0..2 (RATE_LIMITED: Too many requests.); retry 4",
      "gateway unavailable for seq 0..2 (INTERNAL_SERVER_ERROR: Unexpected error.); retry 5",
      "gateway unavailable for seq 0..2 (SOMETHING_NEW: a code this client does not know, on a 5xx); retry 6",
    ]);
  });

  it("never retries a refusal: client-fault codes (even on a 5xx), unknown codes on a 4xx, uncoded 4xx", async () => {
    const cases: [ReturnType<typeof refusal> | { status: number; body: string }, string, number | null][] = [
      [refusal(200, "BAD_USER_INPUT", "records[1]: unknown key 'extra'.", { field: "records[1]" }), "BAD_USER_INPUT: records[1]: unknown key 'extra'.", 1],
      [refusal(400, "BAD_USER_INPUT", 'Variable "$records" got invalid value 5 at "records[2]"; String cannot represent a non string value'), "BAD_USER_INPUT", 2],
      [refusal(401, "UNAUTHENTICATED", "Authentication required."), "UNAUTHENTICATED: Authentication required.", null],
      [refusal(502, "FORBIDDEN", "a client fault rewritten to 502 by a proxy"), "FORBIDDEN: a client fault rewritten to 502 by a proxy", null],
      [refusal(422, "SOMETHING_NEW", "unknown"), "SOMETHING_NEW: unknown", null],
      [{ status: 404, body: "not here" }, "HTTP 404 Not Found", null],
      [{ status: 200, body: "<html>a proxy's page</html>" }, "unexpected answer (HTTP 200): <html>a proxy's page</html>", null],
      [{ status: 200, body: JSON.stringify({ data: { recordTraceRecords: [{ seq: 0, actionId: "a-0" }] } }) }, "unexpected answer (HTTP 200)", null],
    ];
    for (const [answer, why, index] of cases) {
      gateway = await standIn(() => answer);
      const { t, warnings } = transport(gateway.url);
      const delivery = await t.send(RECORDS, "seq 0..2");
      expect(delivery.kind, why).toBe("refused");
      expect(delivery.kind === "refused" && delivery.why.startsWith(why), `${why} / ${JSON.stringify(delivery)}`).toBe(true);
      expect(delivery.kind === "refused" && delivery.index, why).toBe(index);
      expect(gateway.requests, why).toHaveLength(1);
      expect(warnings, why).toEqual([]);
      await gateway.close();
      gateway = undefined;
    }
  });

  it("reports a request over the body limit as too large, coded or not, without retrying", async () => {
    for (const answer of [refusal(413, "PAYLOAD_TOO_LARGE", "Request body too large."), { status: 413, body: "too large" }]) {
      gateway = await standIn(() => answer);
      expect(await transport(gateway.url).t.send(RECORDS, "seq 0..2")).toEqual({ kind: "too-large" });
      expect(gateway.requests).toHaveLength(1);
      await gateway.close();
      gateway = undefined;
    }
  });

  it("retries a connection refused until a stop is requested, then reports stopped", async () => {
    const port = await closedPort();
    const stop = new AbortController();
    const { t, warnings } = transport(`http://127.0.0.1:${port}/graphql`, { retryBaseMs: 5, retryMaxMs: 20, signal: stop.signal });
    setTimeout(() => stop.abort(), 150);
    expect(await t.send(RECORDS, "seq 0..2")).toEqual({ kind: "stopped" });
    expect(warnings.length).toBeGreaterThan(1);
    expect(warnings[0]).toMatch(/^gateway unavailable for seq 0\.\.2 \(network: ECONNREFUSED\); retry 1 in \d+ ms$/);
  });
});

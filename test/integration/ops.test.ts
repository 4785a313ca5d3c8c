/**
 * Operational endpoints: /healthz, /readyz (including a database that stopped answering)
 * and /metrics with the counters moving as traces are ingested, queried and verified.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordTracesDocument } from "../gql/graphql.js";
import pg from "pg";
import { BACKENDS } from "../support/backends.js";
import { createTestGateway, dataOf, type TestGateway } from "../support/harness.js";
import { PG_ADMIN_URL } from "../support/pg.js";
import { invoke } from "../support/traces.js";

let gw: TestGateway;
const get = (path: string) => gw.app.yoga.fetch(`http://tracegate.test${path}`);
const metric = (text: string, line: RegExp) => Number(text.split("\n").find((l) => line.test(l))?.split(" ").at(-1) ?? Number.NaN);

beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(() => gw.close());

describe("ops endpoints", () => {
  it("answers /healthz and /readyz without an API key", async () => {
    const health = await get("/healthz");
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const ready = await get("/readyz");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", nextSeq: 0, checks: { database: "up", writes: "up" } });
  });

  it("exports Prometheus metrics that follow ingest, queries and verification", async () => {
    const before = await (await get("/metrics")).text();
    expect(metric(before, /^tracegate_traces_appended_total /)).toBe(0);
    dataOf(await gw.exec(RecordTracesDocument, { input: [invoke("m-1"), invoke("m-2"), invoke("m-3")] }));
    dataOf(await gw.raw("{ verifyChain { ok } }"));
    dataOf(await gw.raw("{ traces { totalCount } }"));
    const res = await get("/metrics");
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(metric(text, /^tracegate_traces_appended_total /)).toBe(3);
    expect(metric(text, /^tracegate_chain_next_seq /)).toBe(3);
    expect(metric(text, /^tracegate_verify_runs_total\{result="ok"\} /)).toBe(1);
    expect(metric(text, /^tracegate_graphql_operation_duration_seconds_count\{operation="mutation",field="recordTraces",outcome="ok"\} /)).toBe(1);
    expect(metric(text, /^tracegate_graphql_operation_duration_seconds_count\{operation="query",field="traces",outcome="ok"\} /)).toBe(1);
    expect(text).toMatch(/^tracegate_process_resident_memory_bytes /m);
    expect(text).not.toContain("m-1"); // no trace content in metrics
  });

  // A SQLite file cannot stop answering; a PostgreSQL database can be dropped under the gateway.
  const postgres = BACKENDS.find((b) => b.name === "postgresql");
  it.runIf(postgres)("reports not ready (503) when the database stops answering", async () => {
    const other = await createTestGateway({ backend: postgres! });
    try {
      expect((await other.app.yoga.fetch("http://tracegate.test/readyz")).status).toBe(200);
      const name = new URL(other.databaseUrl).pathname.slice(1);
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE "${name}" WITH (FORCE)`);
      await admin.end();
      const res = await other.app.yoga.fetch("http://tracegate.test/readyz");
      expect(res.status).toBe(503);
      expect(((await res.json()) as { status: string }).status).toBe("unavailable");
    } finally {
      await other.close().catch(() => undefined);
    }
  });
});

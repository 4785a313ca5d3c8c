/**
 * SQLite: another process holding the database's write lock (a backup tool, a stuck writer, a
 * sqlite3 shell left in BEGIN IMMEDIATE). The gateway keeps answering other requests while a
 * write waits for the lock, a write that gets the lock within the retry window succeeds, and
 * one that does not answers UNAVAILABLE with Retry-After ("nothing was stored"), never
 * INTERNAL_SERVER_ERROR, and leaves /readyz ready (the database is not broken, only locked).
 */
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SQLITE } from "../support/backends.js";
import { codesOf, createTestGateway, dataOf, type TestGateway } from "../support/harness.js";
import { invoke } from "../support/traces.js";
import { sleep } from "../support/wait.js";

const RECORD = "mutation($input: [TraceInput!]!) { recordTraces(input: $input) { seq } }";

describe("SQLite write lock held by another process", { timeout: 180_000 }, () => {
  let gw: TestGateway;
  let other: Database.Database;

  beforeAll(async () => {
    gw = await createTestGateway({ backend: SQLITE });
    other = new Database(gw.databaseUrl.slice("file:".length));
  });
  afterAll(async () => {
    if (other.inTransaction) other.exec("ROLLBACK");
    other.close();
    await gw.close();
  });

  const count = async () => (dataOf(await gw.raw("{ traces { totalCount } }")) as { traces: { totalCount: number } }).traces.totalCount;

  it("answers reads while a write waits, and the write goes through once the lock is released", async () => {
    other.exec("BEGIN IMMEDIATE");
    let settled = false;
    const write = gw.raw(RECORD, { input: [invoke("lock-1")] }).finally(() => (settled = true));
    // Reads are served while the write is still waiting for the lock.
    for (let i = 0; i < 3; i++) {
      expect(await count()).toBe(0);
      expect((await gw.app.yoga.fetch("http://tracegate.test/healthz")).status).toBe(200);
    }
    expect(settled).toBe(false);
    await sleep(1_000);
    other.exec("ROLLBACK");
    expect(codesOf(await write)).toEqual([]);
    expect(await count()).toBe(1);
  });

  it("answers UNAVAILABLE with Retry-After when the lock outlasts the retry window, storing nothing", async () => {
    other.exec("BEGIN IMMEDIATE");
    try {
      const res = await gw.raw(RECORD, { input: [invoke("lock-2")] });
      expect(codesOf(res)).toEqual(["UNAVAILABLE"]);
      expect(res.errors?.[0]?.message).toMatch(/nothing was stored/);
      expect(res.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
      const ready = await gw.app.yoga.fetch("http://tracegate.test/readyz");
      expect(ready.status).toBe(200);
    } finally {
      other.exec("ROLLBACK");
    }
    expect(await count()).toBe(1);
    expect(codesOf(await gw.raw(RECORD, { input: [invoke("lock-3")] }))).toEqual([]);
    expect(dataOf(await gw.raw("{ verifyChain { ok checked } }"))).toEqual({ verifyChain: { ok: true, checked: 2 } });
  });
});

/**
 * PostgreSQL write faults (issue 14, case 3 where it applies): a statement that fails inside
 * the append transaction with a storage fault, and a connection killed in the middle of an
 * append, must fail that write with a coded error and never wedge the pool or the append
 * queue. The faults are the server's own: a trigger raises SQLSTATE 53100 (disk_full) or
 * sleeps so that pg_terminate_backend can cut the connection mid-transaction. More faults
 * than the pool has connections (10) prove that none is leaked.
 * (SQLite's disk full runs on a real filesystem: test/e2e/disk-full.test.ts.)
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PG_POOL_SIZE } from "../../src/stores/prisma/postgres.js";
import { BACKENDS } from "../support/backends.js";
import { createTestGateway, type TestGateway } from "../support/harness.js";
import { invoke } from "../support/traces.js";
import { sleep } from "../support/wait.js";

const postgres = BACKENDS.find((b) => b.name === "postgresql");
if (!postgres) process.stderr.write(`\n!! PostgreSQL unavailable: "PostgreSQL write faults" is SKIPPED.\n\n`);

const RECORD = "mutation($input: [TraceInput!]!) { recordTraces(input: $input) { seq } }";

describe.skipIf(!postgres)("PostgreSQL write faults", { timeout: 120_000 }, () => {
  let gw: TestGateway;
  let admin: pg.Client;
  let n = 0;
  const record = async (size = 1) => {
    const started = Date.now();
    const res = await gw.raw(RECORD, { input: Array.from({ length: size }, () => invoke(`wf-${n++}`)) });
    return { ...res, ms: Date.now() - started };
  };
  const readyz = async () => {
    const res = await gw.app.yoga.fetch("http://tracegate.test/readyz");
    return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, string> } };
  };
  const fault = (mode: "off" | "full" | "slow") => admin.query(`UPDATE "wf_fault" SET mode = $1`, [mode]);

  beforeAll(async () => {
    gw = await createTestGateway({ backend: postgres! });
    admin = new pg.Client({ connectionString: gw.databaseUrl });
    await admin.connect();
    await admin.query(`
      CREATE TABLE "wf_fault" (mode text NOT NULL);
      INSERT INTO "wf_fault" VALUES ('off');
      CREATE FUNCTION wf_fault() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE m text;
      BEGIN
        SELECT mode INTO m FROM "wf_fault";
        IF m = 'full' THEN
          RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100';
        ELSIF m = 'slow' THEN
          PERFORM pg_sleep(30);
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER wf_trace BEFORE INSERT ON "Trace" FOR EACH ROW EXECUTE FUNCTION wf_fault();
      CREATE TRIGGER wf_head BEFORE UPDATE ON "ChainHead" FOR EACH ROW EXECUTE FUNCTION wf_fault();
    `);
  });
  afterAll(async () => {
    await admin?.end();
    await gw?.close();
  });

  it("a disk-full error inside the append transaction answers UNAVAILABLE, and writes resume once it is gone", async () => {
    expect((await record(3)).errors).toBeUndefined();
    await fault("full");
    for (let i = 0; i < PG_POOL_SIZE + 3; i++) {
      const r = await record(2);
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: "UNAVAILABLE" });
      expect(r.ms).toBeLessThan(5_000);
    }
    const down = await readyz();
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: "unavailable", checks: { database: "up", writes: "down" } });
    await fault("off");
    expect((await readyz()).status).toBe(200);
    const ok = await record(2);
    expect(ok.errors).toBeUndefined();
    expect((ok.data as { recordTraces: { seq: number }[] }).recordTraces.map((t) => t.seq)).toEqual([3, 4]);
    expect(((await gw.raw("{ verifyChain { ok checked } }")).data as { verifyChain: unknown }).verifyChain).toEqual({ ok: true, checked: 5 });
  });

  it("connections killed mid-append fail those writes and leak nothing from the pool", async () => {
    const before = ((await gw.raw("{ chainHead { nextSeq } }")).data as { chainHead: { nextSeq: number } }).chainHead.nextSeq;
    await fault("slow");
    for (let i = 0; i < PG_POOL_SIZE + 2; i++) {
      const pending = record(1);
      // Wait until the append sleeps inside its transaction, then cut its connection.
      let killed = 0;
      for (let t = 0; t < 200 && killed === 0; t++) {
        await sleep(25);
        const r = await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event = 'PgSleep'`,
        );
        killed = r.rowCount ?? 0;
      }
      expect(killed).toBe(1);
      const r = await pending;
      expect(r.errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
    }
    await fault("off");
    // The pool still has its connections and the queue moves: writes succeed at once.
    const results = await Promise.all(Array.from({ length: PG_POOL_SIZE + 2 }, () => record(1)));
    for (const r of results) {
      expect(r.errors).toBeUndefined();
      expect(r.ms).toBeLessThan(10_000);
    }
    expect((await readyz()).status).toBe(200);
    const verify = (await gw.raw("{ verifyChain { ok checked } }")).data as { verifyChain: { ok: boolean; checked: number } };
    expect(verify.verifyChain).toEqual({ ok: true, checked: before + PG_POOL_SIZE + 2 });
  });
});

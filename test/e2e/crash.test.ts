/**
 * Crash safety with real processes: a gateway is killed with SIGKILL in the middle of
 * heavy ingest. After a restart every acknowledged trace is there, every batch is there
 * whole or not at all, the chain verifies, and appends continue the same chain.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { BACKENDS } from "../support/backends.js";
import { TEST_SECRET } from "../support/harness.js";
import { postGraphQL, startGatewayProcess } from "../support/process.js";
import { invoke } from "../support/traces.js";

const RECORD = "mutation($input: [TraceInput!]!) { recordTraces(input: $input) { seq } }";

describe.each(BACKENDS)("$name: kill -9 during ingest", (backend) => {
  it("keeps exactly the acknowledged batches and verifies after restart", async () => {
    const databaseUrl = await backend.freshDatabaseUrl();
    const env = { DATABASE_URL: databaseUrl, TRACEGATE_HMAC_SECRET: TEST_SECRET };
    const gateway = await startGatewayProcess(env);
    const sent: string[][] = [];
    const acknowledged: string[][] = [];
    let running = true;
    const writers = Array.from({ length: 3 }, async (_, w) => {
      for (let n = 0; running; n++) {
        const ids = Array.from({ length: 100 }, (_, k) => `crash-${w}-${n}-${k}`);
        sent.push(ids);
        try {
          const res = await postGraphQL(gateway.url, RECORD, { input: ids.map((id) => invoke(id)) });
          if (res.data?.recordTraces) acknowledged.push(ids);
        } catch {
          return; // the connection died with the gateway
        }
      }
    });
    await sleep(1_500);
    await gateway.kill();
    running = false;
    await Promise.all(writers);
    expect(acknowledged.length).toBeGreaterThan(3);

    const restarted = await startGatewayProcess(env);
    try {
      const db = backend.rawDb(databaseUrl);
      const present = new Set((await db.all<{ actionId: string }>(`SELECT "actionId" FROM "Trace"`)).map((r) => r.actionId));
      await db.close();
      for (const ids of acknowledged) expect(ids.every((id) => present.has(id))).toBe(true);
      for (const ids of sent) expect([0, ids.length]).toContain(ids.filter((id) => present.has(id)).length);

      const check = await postGraphQL(restarted.url, "{ verifyChain { ok checked kind detail } chainHead { nextSeq } }");
      expect(check.data.verifyChain).toMatchObject({ ok: true, checked: present.size });
      expect(check.data.chainHead.nextSeq).toBe(present.size);

      const after = await postGraphQL(restarted.url, RECORD, { input: [invoke("after-crash")] });
      expect(after.data.recordTraces[0].seq).toBe(present.size);
      const final = await postGraphQL(restarted.url, "{ verifyChain { ok checked } }");
      expect(final.data.verifyChain).toEqual({ ok: true, checked: present.size + 1 });
    } finally {
      await restarted.stop();
    }
  });
});

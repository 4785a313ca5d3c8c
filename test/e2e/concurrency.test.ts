/**
 * Concurrent writers never fork the chain: many recordTraces calls at once, in one gateway
 * and across two gateway processes sharing one database, end as one gapless chain that
 * verifies, with every trace exactly once.
 */
import { describe, expect, it } from "vitest";
import { RecordTracesDocument, VerifyChainDocument } from "../gql/graphql.js";
import { BACKENDS } from "../support/backends.js";
import { createTestGateway, dataOf, TEST_SECRET } from "../support/harness.js";
import { postGraphQL, startGatewayProcess } from "../support/process.js";
import { invoke } from "../support/traces.js";

const RECORD = "mutation($input: [TraceInput!]!) { recordTraces(input: $input) { seq } }";

/** Facts about the stored chain, read with raw SQL. */
async function chainFacts(db: { all<T>(sql: string): Promise<T[]> }) {
  const [row] = await db.all<{ n: unknown; lo: unknown; hi: unknown; ids: unknown }>(
    `SELECT COUNT(*) AS "n", MIN("seq") AS "lo", MAX("seq") AS "hi", COUNT(DISTINCT "actionId") AS "ids" FROM "Trace"`,
  );
  return { n: Number(row!.n), lo: Number(row!.lo), hi: Number(row!.hi), ids: Number(row!.ids) };
}

describe.each(BACKENDS)("$name: concurrent writers", (backend) => {
  it("in one gateway: 16 simultaneous batches form one gapless chain", async () => {
    const gw = await createTestGateway({ backend });
    try {
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, w) =>
          gw.exec(RecordTracesDocument, { input: Array.from({ length: 25 }, (_, k) => invoke(`in-${w}-${k}`, { principalId: `w${w}` })) }),
        ),
      );
      const seqs = results.flatMap((r) => dataOf(r).recordTraces.map((t) => t.seq)).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: 400 }, (_, i) => i));
      // Each batch got a contiguous run of seqs (one transaction per batch).
      for (const r of results) {
        const batch = dataOf(r).recordTraces.map((t) => t.seq);
        expect(batch.at(-1)! - batch[0]!).toBe(batch.length - 1);
      }
      expect(dataOf(await gw.exec(VerifyChainDocument, {})).verifyChain).toMatchObject({ ok: true, checked: 400 });
      expect(await chainFacts(gw.db())).toEqual({ n: 400, lo: 0, hi: 399, ids: 400 });
    } finally {
      await gw.close();
    }
  });

  it("in two gateway processes on one database: no fork, no gap, no duplicate", async () => {
    const databaseUrl = await backend.freshDatabaseUrl();
    const env = { DATABASE_URL: databaseUrl, TRACEGATE_HMAC_SECRET: TEST_SECRET };
    const gateways = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
    const CLIENTS = 4;
    const REQUESTS = 10;
    const BATCH = 20;
    await Promise.all(
      gateways.flatMap((g, gi) =>
        Array.from({ length: CLIENTS }, async (_, c) => {
          for (let r = 0; r < REQUESTS; r++) {
            const input = Array.from({ length: BATCH }, (_, k) => invoke(`mp-${gi}-${c}-${r}-${k}`, { principalId: `g${gi}c${c}` }));
            const res = await postGraphQL(g.url, RECORD, { input });
            expect(res.errors).toBeUndefined();
          }
        }),
      ),
    );
    const total = gateways.length * CLIENTS * REQUESTS * BATCH;
    for (const g of gateways) {
      const res = await postGraphQL(g.url, "{ verifyChain { ok checked kind detail } chainHead { nextSeq } }");
      expect(res.data.verifyChain).toMatchObject({ ok: true, checked: total });
      expect(res.data.chainHead.nextSeq).toBe(total);
    }
    await Promise.all(gateways.map((g) => g.stop()));
    const db = backend.rawDb(databaseUrl);
    try {
      expect(await chainFacts(db)).toEqual({ n: total, lo: 0, hi: total - 1, ids: total });
    } finally {
      await db.close();
    }
  });
});

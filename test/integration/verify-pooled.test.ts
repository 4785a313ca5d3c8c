/**
 * verifyChain over ranges long enough for the hash pool (src/app/verify.ts walkPooled, HMACs on
 * worker threads, the column pass beside the walk) on both backends: tampering anywhere in
 * the chain is named exactly as the single-thread walk names it (kind, first bad seq, records
 * checked), and a column mismatch counts only before the chain's own first failure.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { OPERATOR, OPERATOR_KEYS } from "../../src/app/caller.js";
import { POOL_MIN_RECORDS, verifyChain, type VerifyPorts } from "../../src/app/verify.js";
import { createCheckpointMac } from "../../src/chain/checkpoint.js";
import { createRecordHasher } from "../../src/chain/hash.js";
import { RecordHashPool } from "../../src/chain/hash-pool.js";
import { SqliteReadThread } from "../../src/stores/prisma/driver-client.js";
import { encodeTrace } from "../../src/chain/trace.js";
import { verifyRecords } from "../../src/chain/verify.js";
import { openStores, type Stores } from "../../src/stores/index.js";
import { type Backend, BACKENDS, type RawDb } from "../support/backends.js";

const SECRET = "verify-pooled-test-secret";
const hash = createRecordHasher(SECRET);
/** Long enough for the pool, with a few batches past the threshold. */
const RECORDS = POOL_MIN_RECORDS + 5_000;

const trace = (i: number) =>
  encodeTrace({
    actionId: `a-${i}`, capabilityId: `c-${i % 7}`, principalId: `p-${i % 13}`, tokenId: "", invokedAtUs: 1_767_225_600_000_000 + i * 1_000,
    responseMode: "summary", driverId: "", handleId: null, sensitivity: "NONE", eventType: i % 10 === 3 ? "deny" : "invoke",
    reasonCode: i % 10 === 3 ? "missing_role" : null, error: null, args: { n: i, s: "é✓" }, resultSummary: null,
  });

describe.each(BACKENDS)("$name: verifyChain with the hash pool", (backend: Backend) => {
  let stores: Stores;
  let raw: RawDb;
  let ports: VerifyPorts;

  beforeAll(async () => {
    const databaseUrl = await backend.freshDatabaseUrl();
    stores = await openStores({ databaseUrl, databaseProvider: backend.name }, hash);
    for (let from = 0; from < RECORDS; from += 2_500) {
      await stores.traces.append(Array.from({ length: 2_500 }, (_, k) => trace(from + k)));
    }
    raw = backend.rawDb(databaseUrl);
    ports = { stores, hash, checkpointMac: createCheckpointMac(SECRET), signal: new AbortController().signal, viewer: OPERATOR, keys: OPERATOR_KEYS };
  }, 300_000);
  afterAll(async () => {
    await raw?.close();
    await stores?.close();
  });

  /** Apply `edits`, verify, then undo them (the chain is shared by the cases). */
  async function verifyEdited(edits: [string, unknown[]][], undo: [string, unknown[]][], args = {}) {
    for (const [statement, params] of edits) await raw.run(statement, ...params);
    try {
      return await verifyChain(args, ports);
    } finally {
      for (const [statement, params] of undo) await raw.run(statement, ...params);
    }
  }
  const recordAt = async (seq: number) =>
    (await raw.all<{ payload: string; prevHash: string; principalId: string }>(`SELECT "payload", "prevHash", "principalId" FROM "Trace" WHERE "seq" = ?`, seq))[0]!;

  it("verifies the untouched chain, as the record-by-record walk does", async () => {
    // The parallel road really runs: HMACs on the pool, SQLite's column pass on its read thread.
    const pooled = vi.spyOn(RecordHashPool.prototype, "firstMismatch");
    const readThread = vi.spyOn(SqliteReadThread.prototype, "$queryRaw");
    const result = await verifyChain({}, ports);
    expect(pooled.mock.calls.reduce((n, [batch]) => n + batch.length, 0)).toBe(RECORDS);
    expect(readThread.mock.calls.length > 0).toBe(backend.name === "sqlite");
    pooled.mockRestore();
    readThread.mockRestore();
    expect(result).toEqual({ ok: true, checked: RECORDS, firstBadSeq: null, kind: null, detail: `Verified ${RECORDS} record(s).` });
    expect(await verifyRecords(stores.traces.scanChain({}), { hash, expectedPrevHash: "0".repeat(64), expectedFirstSeq: 0 })).toEqual(result);
    expect(await verifyChain({ fromSeq: 1_000, toSeq: 1_000 + POOL_MIN_RECORDS + 10 }, ports)).toMatchObject({ ok: true, checked: POOL_MIN_RECORDS + 11 });
  });

  it("MUTATED: an edited payload deep in the chain", async () => {
    const { payload } = await recordAt(21_234);
    const result = await verifyEdited(
      [[`UPDATE "Trace" SET "payload" = ? WHERE "seq" = ?`, [payload.replace('"n":21234', '"n":99'), 21_234]]],
      [[`UPDATE "Trace" SET "payload" = ? WHERE "seq" = ?`, [payload, 21_234]]],
    );
    expect(result).toMatchObject({ ok: false, kind: "MUTATED", firstBadSeq: 21_234, checked: 21_235 });
  });

  it("BROKEN_LINK: a prev_hash rewritten, and NON_CONTIGUOUS: a record deleted", async () => {
    const { prevHash } = await recordAt(15_000);
    expect(
      await verifyEdited(
        [[`UPDATE "Trace" SET "prevHash" = ? WHERE "seq" = ?`, ["b".repeat(64), 15_000]]],
        [[`UPDATE "Trace" SET "prevHash" = ? WHERE "seq" = ?`, [prevHash, 15_000]]],
      ),
    ).toMatchObject({ ok: false, kind: "BROKEN_LINK", firstBadSeq: 15_000, checked: 15_001 });
    await raw.run(`CREATE TABLE "TraceKept" AS SELECT * FROM "Trace" WHERE "seq" = 12345`);
    expect(
      await verifyEdited([[`DELETE FROM "Trace" WHERE "seq" = ?`, [12_345]]], [[`INSERT INTO "Trace" SELECT * FROM "TraceKept"`, []], [`DROP TABLE "TraceKept"`, []]]),
    ).toMatchObject({ ok: false, kind: "NON_CONTIGUOUS", firstBadSeq: 12_346 });
  });

  it("COLUMN_MISMATCH counts before the chain's first failure, not after it", async () => {
    const at10k = await recordAt(10_000);
    const at24k = await recordAt(24_000);
    const mutate = (seq: number, payload: string): [string, unknown[]] => [`UPDATE "Trace" SET "payload" = ? WHERE "seq" = ?`, [payload.replace(`"n":${seq}`, '"n":-1'), seq]];
    const restore = (seq: number, payload: string): [string, unknown[]] => [`UPDATE "Trace" SET "payload" = ? WHERE "seq" = ?`, [payload, seq]];
    const at20k = await recordAt(20_000);
    // A column edit alone, late in the chain.
    const alone = await verifyEdited(
      [[`UPDATE "Trace" SET "principalId" = 'mallory' WHERE "seq" = ?`, [24_000]]],
      [[`UPDATE "Trace" SET "principalId" = ? WHERE "seq" = ?`, [at24k.principalId, 24_000]]],
    );
    expect(alone).toMatchObject({ ok: false, kind: "COLUMN_MISMATCH", firstBadSeq: 24_000, checked: 24_001 });
    expect(alone.detail).toContain("principalId");
    // After a MUTATED record: the chain's failure is the first bad record.
    expect(
      await verifyEdited(
        [[`UPDATE "Trace" SET "principalId" = 'mallory' WHERE "seq" = ?`, [24_000]], mutate(20_000, at20k.payload)],
        [[`UPDATE "Trace" SET "principalId" = ? WHERE "seq" = ?`, [at24k.principalId, 24_000]], restore(20_000, at20k.payload)],
      ),
    ).toMatchObject({ ok: false, kind: "MUTATED", firstBadSeq: 20_000 });
    // Before it: the column mismatch is.
    expect(
      await verifyEdited(
        [[`UPDATE "Trace" SET "principalId" = 'mallory' WHERE "seq" = ?`, [10_000]], mutate(20_000, at20k.payload)],
        [[`UPDATE "Trace" SET "principalId" = ? WHERE "seq" = ?`, [at10k.principalId, 10_000]], restore(20_000, at20k.payload)],
      ),
    ).toMatchObject({ ok: false, kind: "COLUMN_MISMATCH", firstBadSeq: 10_000, checked: 10_001 });
  });

  it("TRUNCATED: the tail deleted while the head still vouches for it", async () => {
    await raw.run(`CREATE TABLE "TailKept" AS SELECT * FROM "Trace" WHERE "seq" >= ${RECORDS - 3}`);
    const result = await verifyEdited(
      [[`DELETE FROM "Trace" WHERE "seq" >= ?`, [RECORDS - 3]]],
      [[`INSERT INTO "Trace" SELECT * FROM "TailKept"`, []], [`DROP TABLE "TailKept"`, []]],
    );
    expect(result).toMatchObject({ ok: false, kind: "TRUNCATED", firstBadSeq: RECORDS - 3, checked: RECORDS - 2 });
    expect(await verifyChain({}, ports)).toMatchObject({ ok: true, checked: RECORDS });
  });
});

/**
 * The chain-writer port (src/stores/chain-writer.ts) on both backends: the one duplicate
 * decision of an append (one SELECT inside the locked transaction, pinned by the statements
 * the writer issues), records that keep their hashes (an import) refused unless they link,
 * startAfter and prune checkpoints, all-or-nothing writes, and concurrent writers from
 * separate connections (as separate processes) never forking the chain.
 */
import { afterAll, describe, expect, it } from "vitest";
import { checkpointMessage, createCheckpointMac, PRUNE_CHECKPOINT_TYPE } from "../../src/chain/checkpoint.js";
import { createRecordHasher, GENESIS_HASH } from "../../src/chain/hash.js";
import { encodeTrace, type EncodedTrace } from "../../src/chain/trace.js";
import { verifyRecords } from "../../src/chain/verify.js";
import { ChainLinkError, type ChainWrite } from "../../src/stores/chain-writer.js";
import { openStores, type Stores } from "../../src/stores/index.js";
import { postgresDialect, sqliteDialect } from "../../src/stores/prisma/dialect.js";
import { openSqliteDriverClient } from "../../src/stores/prisma/driver-client.js";
import { openPostgres } from "../../src/stores/prisma/postgres.js";
import { PrismaTraceStore } from "../../src/stores/prisma/prisma-trace-store.js";
import type { RawSqlClient, RawSqlRunner } from "../../src/stores/prisma/sql-client.js";
import { SQLITE_BUSY_TIMEOUT_MS } from "../../src/stores/prisma/sqlite.js";
import { type CheckpointSealer, DuplicateActionIdError, type TraceRow, type TraceStore } from "../../src/stores/trace-store.js";
import { type Backend, BACKENDS } from "../support/backends.js";

const SECRET = "chain-writer-test-secret";
const hash = createRecordHasher(SECRET);
const mac = createCheckpointMac(SECRET);
const seal: CheckpointSealer = (fields) => ({ mac: mac(checkpointMessage(PRUNE_CHECKPOINT_TYPE, fields, null)), keyId: null, signature: null });

const trace = (actionId: string, principalId = "p", args: Record<string, string> = {}): EncodedTrace =>
  encodeTrace({
    actionId, capabilityId: "c", principalId, tokenId: "", invokedAtUs: 1_767_225_600_000_000,
    responseMode: "summary", driverId: "", handleId: null, sensitivity: "NONE", eventType: "invoke",
    reasonCode: null, error: null, args, resultSummary: null,
  });
const traces = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => trace(`${prefix}-${i}`));

/** Records as another chain with `secret` would hold them, from `seq` after `prevHash` (what an import keeps). */
function linkedRecords(prefix: string, n: number, seq: number, prevHash: string, secret = SECRET): TraceRow[] {
  const h = createRecordHasher(secret);
  return traces(prefix, n).map(({ columns, payload }, i) => {
    const row: TraceRow = { ...columns, seq: seq + i, prevHash, recordHash: h(seq + i, prevHash, payload), payload };
    prevHash = row.recordHash;
    return row;
  });
}

async function verified(store: TraceStore, expectedPrevHash = GENESIS_HASH, expectedFirstSeq = 0) {
  return verifyRecords(store.scanChain({}), { hash, expectedPrevHash, expectedFirstSeq });
}

/** A client whose statements (SQL text, whitespace folded) are written to `log`, transactions included. */
function recording(client: RawSqlClient, log: string[]): RawSqlClient {
  const wrap = (runner: RawSqlRunner): RawSqlRunner => ({
    $queryRaw: (q) => (log.push(q.sql.replace(/\s+/g, " ")), runner.$queryRaw(q)),
    $executeRaw: (q) => (log.push(q.sql.replace(/\s+/g, " ")), runner.$executeRaw(q)),
  });
  return {
    ...wrap(client),
    $transaction: (fn, options) => client.$transaction((tx) => fn(wrap(tx)), options),
    $disconnect: () => client.$disconnect(),
  };
}

/** A trace store whose writer's statements land in `log`. */
async function recordedStore(backend: Backend, databaseUrl: string, log: string[]): Promise<PrismaTraceStore> {
  if (backend.name === "postgresql") {
    const db = openPostgres(databaseUrl);
    return new PrismaTraceStore({ writer: recording(db.sql, log), reader: db.sql, hash, dialect: postgresDialect, onClose: () => db.close() });
  }
  const file = databaseUrl.slice("file:".length);
  const [writer, reader] = [openSqliteDriverClient(file, SQLITE_BUSY_TIMEOUT_MS), openSqliteDriverClient(file, SQLITE_BUSY_TIMEOUT_MS)];
  return new PrismaTraceStore({ writer: recording(writer, log), reader, hash, dialect: sqliteDialect });
}

/**
 * The statement kinds of a log: the verb and the table it reads or writes. A run of inserts
 * into one table counts once: how many statements carry a batch is the dialect's choice
 * (SQLite: one cached single-row INSERT per record; PostgreSQL: one jsonb statement).
 */
const kinds = (log: readonly string[]) =>
  log
    .map((s) => {
      const verb = /^\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM)/.exec(s)?.[1] ?? s.slice(0, 40);
      return `${verb} ${/"(Trace|ChainHead|ChainKey|PruneCheckpoint)"/.exec(s)?.[1]}`;
    })
    .filter((kind, i, all) => !(kind.startsWith("INSERT INTO") && all[i - 1] === kind));

describe.each(BACKENDS)("$name: the chain writer", (backend) => {
  const open: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const s of open) await s.close();
  });
  const stores = async (databaseUrl?: string): Promise<Stores & { databaseUrl: string }> => {
    const url = databaseUrl ?? (await backend.freshDatabaseUrl());
    const s = await openStores({ databaseUrl: url, databaseProvider: backend.name }, hash);
    open.push(s);
    return Object.assign(s, { databaseUrl: url });
  };

  it("decides duplicate action ids once per append: one SELECT inside the locked transaction", async () => {
    const log: string[] = [];
    const store = await recordedStore(backend, await backend.freshDatabaseUrl(), log);
    open.push(store);
    await store.append([trace("d-0", "alice")]); // claims the key id
    log.length = 0;

    const fresh = await store.append([trace("d-1"), trace("d-2")]);
    expect(fresh.map((r) => r.seq)).toEqual([1, 2]);
    expect(kinds(log)).toEqual(["UPDATE ChainHead", "SELECT Trace", "INSERT INTO Trace", "UPDATE ChainHead"]);
    expect(log[1]).toContain('"actionId" IN');

    // A retry of a stored batch plus a new trace: the same one lookup acknowledges the stored
    // ones (their stored records come back) and appends only the new one.
    log.length = 0;
    const retried = await store.append([trace("d-1"), trace("d-3"), trace("d-2")]);
    expect(retried.map((r) => [r.actionId, r.seq])).toEqual([["d-1", 1], ["d-3", 3], ["d-2", 2]]);
    expect(retried[0]).toEqual(fresh[0]);
    expect(kinds(log)).toEqual(["UPDATE ChainHead", "SELECT Trace", "INSERT INTO Trace", "UPDATE ChainHead"]);

    // Only stored ones: acknowledged, nothing written, the head not moved.
    log.length = 0;
    expect(await store.append([trace("d-2")])).toEqual([fresh[1]]);
    expect(kinds(log)).toEqual(["UPDATE ChainHead", "SELECT Trace"]);

    // Other content under a stored id: refused with the stored principal, nothing written.
    log.length = 0;
    const refused = await store.append([trace("d-4"), trace("d-0", "mallory", { x: "changed" })]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DuplicateActionIdError);
    expect(refused).toMatchObject({ actionIds: ["d-0"], storedPrincipals: ["alice"] });
    expect(kinds(log)).toEqual(["UPDATE ChainHead", "SELECT Trace"]);
    expect(await store.head()).toMatchObject({ nextSeq: 4 });
    expect(await verified(store)).toMatchObject({ ok: true, checked: 4 });
  });

  it("refuses, under 'refuse', even byte-identical stored traces, in input order", async () => {
    const { traces: store } = await stores();
    await store.append([trace("r-0"), trace("r-1")]);
    const refused = await store.chain.write((chain) => chain.append([trace("r-2"), trace("r-1"), trace("r-0")], "refuse")).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DuplicateActionIdError);
    expect(refused).toMatchObject({ actionIds: ["r-1", "r-0"], storedPrincipals: ["p", "p"] });
    expect(await store.head()).toMatchObject({ nextSeq: 2 });
  });

  it("keeps the hashes of records that continue the chain, and refuses a broken link or a foreign hash, writing nothing", async () => {
    const { traces: store } = await stores();
    const kept = linkedRecords("k", 5, 0, GENESIS_HASH);
    // Two calls in one write: the second continues where the first ended.
    await store.chain.write(async (chain) => {
      await chain.appendLinked(kept.slice(0, 2));
      await chain.appendLinked(kept.slice(2));
    });
    expect(await store.head()).toMatchObject({ nextSeq: 5, headHash: kept[4]!.recordHash });
    expect((await store.findBySeqs([0, 4])).map((r) => r.recordHash)).toEqual([kept[0]!.recordHash, kept[4]!.recordHash]);

    const next = linkedRecords("n", 3, 5, kept[4]!.recordHash);
    const cases: [string, TraceRow[], RegExp][] = [
      ["a gap in seq", linkedRecords("g", 1, 6, kept[4]!.recordHash), /record seq 6 .*does not continue the chain, whose next record is seq 5/],
      ["a wrong prev_hash", linkedRecords("w", 1, 5, GENESIS_HASH), /record seq 5 .*does not continue the chain/],
      ["a link broken inside the batch", [next[0]!, { ...next[1]!, prevHash: next[0]!.prevHash }], /record seq 6 .*does not continue/],
      ["another secret's hash", linkedRecords("s", 1, 5, kept[4]!.recordHash, "another-secret"), /record seq 5: its record_hash is not what this chain's secret computes/],
      ["a stored action id", linkedRecords("k", 1, 5, kept[4]!.recordHash), /action_id already present in the store: k-0/],
    ];
    for (const [name, records, error] of cases) {
      await expect(store.chain.write((chain) => chain.appendLinked(records)), name).rejects.toThrow(error);
    }
    // A refusal also rolls back what the same write had appended before it.
    const late = store.chain.write(async (chain) => {
      await chain.append([trace("before")], "refuse");
      await chain.appendLinked(linkedRecords("late", 1, 5, kept[4]!.recordHash));
    });
    await expect(late).rejects.toBeInstanceOf(ChainLinkError);
    expect(await store.head()).toMatchObject({ nextSeq: 5, headHash: kept[4]!.recordHash });
    expect(await store.count({})).toBe(5);
    expect(await verified(store)).toMatchObject({ ok: true, checked: 5 });
  });

  it("starts an empty chain after an origin with an authenticated checkpoint, and only an empty one", async () => {
    const { traces: store } = await stores();
    const originHash = "ab".repeat(32);
    const records = linkedRecords("o", 3, 10, originHash);
    const checkpoint = await store.chain.write(async (chain) => {
      const cp = await chain.startAfter({ seq: 9, recordHash: originHash }, seal);
      await chain.appendLinked(records);
      return cp;
    });
    const head = await store.head();
    expect(head).toMatchObject({ nextSeq: 13, headHash: records[2]!.recordHash });
    expect(await store.pruneCheckpoint()).toEqual(checkpoint);
    expect(checkpoint).toMatchObject({ seq: 9, recordHash: originHash, keyId: null, signature: null });
    expect(checkpoint.mac).toBe(mac(checkpointMessage(PRUNE_CHECKPOINT_TYPE, { chainId: head.chainId, seq: 9, headHash: originHash, createdAtUs: checkpoint.createdAtUs }, null)));
    expect(await verified(store, originHash, 10)).toMatchObject({ ok: true, checked: 3 });

    await expect(store.chain.write((chain) => chain.startAfter({ seq: 20, recordHash: originHash }, seal))).rejects.toThrow(
      /the chain is not empty \(next seq 13\)/,
    );
    const empty = (await stores()).traces;
    await expect(empty.chain.write((chain) => chain.startAfter({ seq: -1, recordHash: originHash }, seal))).rejects.toBeInstanceOf(ChainLinkError);
    await expect(empty.chain.write((chain) => chain.startAfter({ seq: 3, recordHash: "not hex" }, seal))).rejects.toBeInstanceOf(ChainLinkError);
    expect(await empty.head()).toMatchObject({ nextSeq: 0, headHash: GENESIS_HASH });
    expect(await empty.pruneCheckpoint()).toBeNull();
  });

  it("prunes through the port: the prefix goes, its checkpoint replaces the last, the head stays", async () => {
    const { traces: store } = await stores();
    const rows = await store.append(traces("p", 10));
    const first = await store.chain.write((chain) => chain.prune({ beforeSeq: 4 }, seal));
    expect(first).toMatchObject({ pruned: 4, checkpoint: { seq: 3, recordHash: rows[3]!.recordHash } });
    const second = await store.chain.write((chain) => chain.prune({ beforeSeq: 6 }, seal));
    expect(second).toMatchObject({ pruned: 2, checkpoint: { seq: 5, recordHash: rows[5]!.recordHash } });
    expect(await store.pruneCheckpoint()).toEqual(second.checkpoint);
    // Nothing below the cut any more: nothing pruned, the checkpoint in force is reported.
    expect(await store.chain.write((chain) => chain.prune({ beforeSeq: 6 }, seal))).toEqual({ pruned: 0, checkpoint: second.checkpoint });
    expect(await store.head()).toMatchObject({ nextSeq: 10, headHash: rows[9]!.recordHash });
    expect(await store.firstSeq()).toBe(6);
    expect(await verified(store, rows[5]!.recordHash, 6)).toMatchObject({ ok: true, checked: 4 });
  });

  it("is all or nothing, tells listeners only what committed, and refuses interleaved or late use of a write", async () => {
    const { traces: store } = await stores();
    const heard: number[][] = [];
    store.onAppended((rows) => heard.push(rows.map((r) => r.seq)));
    await expect(
      store.chain.write(async (chain) => {
        await chain.append(traces("a", 3), "idempotent");
        throw new Error("work failed");
      }),
    ).rejects.toThrow("work failed");
    expect(await store.head()).toMatchObject({ nextSeq: 0 });
    expect(heard).toEqual([]);

    await store.chain.write(async (chain) => {
      const [, last] = await chain.append(traces("b", 2), "idempotent");
      await chain.appendLinked(linkedRecords("c", 1, 2, last!.recordHash));
    });
    expect(heard).toEqual([[0, 1, 2]]);

    let kept: ChainWrite | undefined;
    await expect(
      store.chain.write(async (chain) => {
        kept = chain;
        await Promise.all([chain.append([trace("x-0")], "refuse"), chain.append([trace("x-1")], "refuse")]);
      }),
    ).rejects.toThrow(/one chain write call at a time/);
    await expect(kept!.append([trace("x-2")], "refuse")).rejects.toThrow(/has ended/);
    expect(await store.head()).toMatchObject({ nextSeq: 3 });
    expect(await verified(store)).toMatchObject({ ok: true, checked: 3 });
  });

  it("never forks under concurrent appends, an import-sized write and an audited change", async () => {
    // On PostgreSQL the second writer is another pool, as another process would be. Two SQLite
    // writers in one process would stall each other (better-sqlite3 waits for a busy lock
    // synchronously, holding the event loop the lock holder needs), so there the writes share
    // one store's queue; separate SQLite processes: test/e2e/import.test.ts and
    // test/e2e/concurrency.test.ts.
    const a = await stores();
    const b = backend.name === "postgresql" ? await stores(a.databaseUrl) : a;
    const appends = Array.from({ length: 20 }, (_, i) => a.traces.append(traces(`ap${i}`, 5)));
    const imported = b.traces.chain.write(async (chain) => {
      // Re-chained in batches, as tracegate import does, yielding between them.
      for (let i = 0; i < 4; i++) {
        await chain.append(traces(`im${i}`, 50), "refuse");
        await new Promise((resolve) => setImmediate(resolve));
      }
      return chain.head.nextSeq;
    });
    const revoked = b.revocations.revokeToken("tok", "test", (r) => trace(`audit-${r.newlyRevoked}-${Math.random()}`));
    const [, firstImportedSeq] = await Promise.all([Promise.all(appends), imported, revoked]);
    const total = 20 * 5 + 4 * 50 + 1;
    expect(await a.traces.head()).toMatchObject({ nextSeq: total });
    expect(await verified(a.traces)).toMatchObject({ ok: true, checked: total });
    // The import's records are contiguous: its write held the lock throughout.
    const importedSeqs = (await a.traces.page({ filter: {}, order: "SEQ_ASC", limit: total }))
      .filter((r) => r.actionId.startsWith("im"))
      .map((r) => r.seq);
    expect(importedSeqs).toEqual(Array.from({ length: 200 }, (_, i) => firstImportedSeq + i));
  });
});

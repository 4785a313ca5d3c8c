/**
 * Group commit (src/stores/prisma/group-commit.ts) on both backends: concurrent appends from
 * many callers share chain writes, and each caller's outcome is exactly what its append
 * alone would give: its own records, its own acknowledgements, its own refusal. The chain
 * stays one unforked, verifiable sequence; listeners hear records in seq order; a duplicate
 * action id is decided once; one caller's bad batch never fails another's. Also end to end
 * through recordTraces with 16 concurrent single-trace clients.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createRecordHasher, GENESIS_HASH } from "../../src/chain/hash.js";
import { encodeTrace, type EncodedTrace } from "../../src/chain/trace.js";
import { verifyRecords } from "../../src/chain/verify.js";
import { postgresDialect, sqliteDialect } from "../../src/stores/prisma/dialect.js";
import { openSqliteDriverClient } from "../../src/stores/prisma/driver-client.js";
import { openPostgres } from "../../src/stores/prisma/postgres.js";
import { PrismaTraceStore } from "../../src/stores/prisma/prisma-trace-store.js";
import type { RawSqlClient, RawSqlRunner } from "../../src/stores/prisma/sql-client.js";
import { SQLITE_BUSY_TIMEOUT_MS } from "../../src/stores/prisma/sqlite.js";
import { DuplicateActionIdError, type TraceRow } from "../../src/stores/trace-store.js";
import { type Backend, BACKENDS } from "../support/backends.js";
import { codesOf, createTestGateway, dataOf } from "../support/harness.js";
import { invoke } from "../support/traces.js";

const SECRET = "group-commit-test-secret";
const hash = createRecordHasher(SECRET);

const trace = (actionId: string, args: Record<string, string> = {}, principalId = "p"): EncodedTrace =>
  encodeTrace({
    actionId, capabilityId: "c", principalId, tokenId: "", invokedAtUs: 1_767_225_600_000_000,
    responseMode: "summary", driverId: "", handleId: null, sensitivity: "NONE", eventType: "invoke",
    reasonCode: null, error: null, args, resultSummary: null,
  });

/** A writer client that counts its transactions (chain writes that reached the database). */
function counting(client: RawSqlClient, count: { transactions: number }): RawSqlClient {
  return {
    $queryRaw: (q) => client.$queryRaw(q),
    $executeRaw: (q) => client.$executeRaw(q),
    $transaction: (fn: (tx: RawSqlRunner) => Promise<unknown>, options) => {
      count.transactions += 1;
      return client.$transaction(fn, options);
    },
    $disconnect: () => client.$disconnect(),
  } as RawSqlClient;
}

async function openStore(backend: Backend, count: { transactions: number }): Promise<PrismaTraceStore> {
  const url = await backend.freshDatabaseUrl();
  if (backend.name === "postgresql") {
    const db = openPostgres(url);
    return new PrismaTraceStore({ writer: counting(db.sql, count), reader: db.sql, hash, dialect: postgresDialect, onClose: () => db.close() });
  }
  const file = url.slice("file:".length);
  const [writer, reader] = [openSqliteDriverClient(file, SQLITE_BUSY_TIMEOUT_MS), openSqliteDriverClient(file, SQLITE_BUSY_TIMEOUT_MS)];
  return new PrismaTraceStore({ writer: counting(writer, count), reader, hash, dialect: sqliteDialect });
}

const settle = <T>(p: Promise<T>) => p.then((value) => ({ value }), (error: unknown) => ({ error }));

describe.each(BACKENDS)("$name: group commit", (backend) => {
  const open: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const s of open) await s.close();
  });
  const store = async () => {
    const count = { transactions: 0 };
    const s = await openStore(backend, count);
    open.push(s);
    await s.append([trace("warm")]); // claims the key id
    count.transactions = 0;
    return { s, count };
  };

  it("concurrent single appends: one unforked chain, each caller its own record, fewer transactions than callers, listeners in seq order", async () => {
    const { s, count } = await store();
    const heard: number[] = [];
    s.onAppended((rows) => heard.push(...rows.map((r) => r.seq)));
    const callers = 64;
    const results = await Promise.all(Array.from({ length: callers }, (_, i) => s.append([trace(`c-${i}`, { i: String(i) })])));
    results.forEach(([row], i) => {
      expect(row!.actionId).toBe(`c-${i}`);
      expect(row!.payload).toBe(trace(`c-${i}`, { i: String(i) }).payload);
    });
    const seqs = results.map(([row]) => row!.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: callers }, (_, i) => i + 1));
    expect(count.transactions).toBeLessThan(callers);
    expect(heard).toEqual(seqs);
    expect(await s.head()).toMatchObject({ nextSeq: callers + 1 });
    expect(await verifyRecords(s.scanChain({}), { hash, expectedPrevHash: GENESIS_HASH, expectedFirstSeq: 0 })).toMatchObject({ ok: true, checked: callers + 1 });
  });

  it("duplicates within and across concurrent callers are decided once: identical ones acknowledged with the one record, other content refused for that caller only", async () => {
    const { s } = await store();
    const [stored] = await s.append([trace("old", { v: "1" })]);
    const outcomes = await Promise.all([
      settle(s.append([trace("x", { v: "1" }), trace("a-1")])),
      settle(s.append([trace("x", { v: "1" })])), // identical: acknowledged with the record above
      settle(s.append([trace("b-1"), trace("x", { v: "2" })])), // other content: refused, b-1 not stored
      settle(s.append([trace("old", { v: "1" }), trace("c-1")])), // retry of a stored one + a new one
      settle(s.append([trace("old", { v: "changed" }, "q")])), // refused against the stored record
      settle(s.append([trace("d-1")])),
    ]);
    const [first, second, third, fourth, fifth, sixth] = outcomes as { value?: TraceRow[]; error?: unknown }[];
    const x = first!.value![0]!;
    expect(second!.value).toEqual([x]);
    expect(third!.error).toBeInstanceOf(DuplicateActionIdError);
    expect(third!.error).toMatchObject({ actionIds: ["x"], storedPrincipals: ["p"] });
    expect(fourth!.value![0]).toEqual(stored);
    expect(fourth!.value![1]!.actionId).toBe("c-1");
    expect(fifth!.error).toMatchObject({ actionIds: ["old"], storedPrincipals: ["p"] });
    expect(sixth!.value![0]!.actionId).toBe("d-1");
    // Stored once each: warm, old, x, a-1, c-1, d-1; never b-1, never a second x.
    const all: string[] = [];
    for await (const r of s.scanChain({})) all.push((JSON.parse(r.payload) as { action_id: string }).action_id);
    expect(all.sort()).toEqual(["a-1", "c-1", "d-1", "old", "warm", "x"]);
    expect(await verifyRecords(s.scanChain({}), { hash, expectedPrevHash: GENESIS_HASH, expectedFirstSeq: 0 })).toMatchObject({ ok: true, checked: 6 });
  });

  it("a batch that fails the whole group (an action id repeated within itself) fails alone: the other callers' traces are stored", async () => {
    const { s } = await store();
    const alone = await settle(s.append([trace("dup"), trace("dup")]));
    expect(alone).toHaveProperty("error"); // what it does alone: refused by the unique index
    const outcomes = await Promise.all([
      settle(s.append([trace("ok-1")])),
      settle(s.append([trace("bad"), trace("bad")])),
      settle(s.append([trace("ok-2"), trace("ok-3")])),
      settle(s.append([trace("ok-4")])),
    ]);
    expect(outcomes[1]).toHaveProperty("error");
    expect(outcomes.filter((o) => "value" in o).flatMap((o) => (o as { value: TraceRow[] }).value.map((r) => r.actionId))).toEqual(["ok-1", "ok-2", "ok-3", "ok-4"]);
    const all: string[] = [];
    for await (const r of s.scanChain({})) all.push((JSON.parse(r.payload) as { action_id: string }).action_id);
    expect(all.sort()).toEqual(["ok-1", "ok-2", "ok-3", "ok-4", "warm"]);
    expect(await verifyRecords(s.scanChain({}), { hash, expectedPrevHash: GENESIS_HASH, expectedFirstSeq: 0 })).toMatchObject({ ok: true, checked: 5 });
  });

  it("recordTraces from 16 concurrent single-trace clients: each gets its own acknowledgement, a refused client alone is refused", async () => {
    const gw = await createTestGateway({ backend });
    open.push({ close: () => gw.close() });
    dataOf(await gw.raw(`mutation($input: [TraceInput!]!) { recordTraces(input: $input) { seq } }`, { input: [invoke("taken", { args: { v: 1 } })] }));
    const RECORD = `mutation($input: [TraceInput!]!) { recordTraces(input: $input) { seq actionId recordHash } }`;
    const responses = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        gw.raw(RECORD, { input: [i === 5 ? invoke("taken", { args: { v: 2 } }) : invoke(`g-${i}`)] }),
      ),
    );
    responses.forEach((res, i) => {
      if (i === 5) {
        expect(codesOf(res)).toEqual(["DUPLICATE_ACTION_ID"]);
      } else {
        const [ack] = (dataOf(res) as { recordTraces: { actionId: string }[] }).recordTraces;
        expect(ack!.actionId).toBe(`g-${i}`);
      }
    });
    const seqs = responses.filter((_, i) => i !== 5).map((res) => (dataOf(res) as { recordTraces: { seq: number }[] }).recordTraces[0]!.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(dataOf(await gw.raw(`{ verifyChain { ok checked } }`))).toEqual({ verifyChain: { ok: true, checked: 16 } });
  });
});

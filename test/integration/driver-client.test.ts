/**
 * The driver clients the stores' raw SQL runs on (src/stores/prisma/driver-client.ts), on both
 * backends: a transaction is all or nothing, a statement issued after its transaction ended
 * is refused (it would otherwise commit on its own), a transaction past its timeout fails as
 * "expired", a reader never sees another transaction's uncommitted rows, integers come back
 * exact, and (PostgreSQL) waiting for a pool connection is bounded and coded as contention.
 */
import { sqltag as sql } from "@prisma/client/runtime/client";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { pgPoolConfig } from "../../src/config.js";
import { openSqliteDriverClient, postgresDriverClient, SqliteReadThread } from "../../src/stores/prisma/driver-client.js";
import { type RawSqlClient, toNumber } from "../../src/stores/prisma/sql-client.js";
import { type Backend, BACKENDS } from "../support/backends.js";

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

/** Two clients on one fresh database (as the store's writer and reader), on a pool of `poolSize` for PostgreSQL. */
async function clients(backend: Backend, poolSize = 4): Promise<{ writer: RawSqlClient; reader: RawSqlClient; pool?: pg.Pool }> {
  const url = await backend.freshDatabaseUrl();
  if (backend.name === "postgresql") {
    const pool = new pg.Pool({ ...pgPoolConfig(url), max: poolSize });
    closers.push(() => pool.end());
    const client = postgresDriverClient(pool);
    return { writer: client, reader: client, pool };
  }
  const file = url.slice("file:".length);
  const writer = openSqliteDriverClient(file, 1_000);
  const reader = openSqliteDriverClient(file, 1_000);
  closers.push(() => writer.$disconnect(), () => reader.$disconnect());
  return { writer, reader };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const insert = (tokenId: string, expiresAtUs: number) =>
  sql`INSERT INTO "RevocationToken" ("tokenId", "expiresAtUs") VALUES (${tokenId}, ${expiresAtUs})`;
const tokens = async (c: RawSqlClient) =>
  (await c.$queryRaw<{ tokenId: string }[]>(sql`SELECT "tokenId" FROM "RevocationToken" ORDER BY "tokenId"`)).map((r) => r.tokenId);

describe.each(BACKENDS)("$name: the driver client", (backend) => {
  it("commits all or nothing and returns integers exactly", async () => {
    const { writer, reader } = await clients(backend);
    const big = 2 ** 53 - 1;
    await writer.$transaction(async (tx) => {
      expect(await tx.$executeRaw(insert("a", big))).toBe(1);
      await tx.$executeRaw(insert("b", 1));
    });
    await expect(
      writer.$transaction(async (tx) => {
        await tx.$executeRaw(insert("c", 2));
        throw new Error("work failed");
      }),
    ).rejects.toThrow("work failed");
    expect(await tokens(reader)).toEqual(["a", "b"]);
    const [row] = await reader.$queryRaw<{ expiresAtUs: unknown }[]>(sql`SELECT "expiresAtUs" FROM "RevocationToken" WHERE "tokenId" = ${"a"}`);
    expect(toNumber(row!.expiresAtUs)).toBe(big);
  });

  it("refuses a statement issued after its transaction ended, and it writes nothing", async () => {
    const { writer, reader } = await clients(backend);
    let late: Promise<unknown> | undefined;
    await expect(
      writer.$transaction(async (tx) => {
        await tx.$executeRaw(insert("first", 1));
        // A sibling keeps going after the work failed: its statement must not run on its own.
        late = sleep(50).then(() => tx.$executeRaw(insert("late", 1)));
        throw new Error("work failed");
      }),
    ).rejects.toThrow("work failed");
    await expect(late).rejects.toThrow(/Transaction already closed/);
    let kept: Parameters<Parameters<RawSqlClient["$transaction"]>[0]>[0] | undefined;
    await writer.$transaction(async (tx) => {
      kept = tx;
    });
    await expect(kept!.$executeRaw(insert("after-commit", 1))).rejects.toThrow(/Transaction already closed/);
    expect(await tokens(reader)).toEqual([]);
  });

  it("fails a transaction past its timeout as expired and rolls it back", async () => {
    const { writer, reader } = await clients(backend);
    await expect(
      writer.$transaction(
        async (tx) => {
          await tx.$executeRaw(insert("slow", 1));
          await sleep(300);
          await tx.$executeRaw(insert("slower", 1));
        },
        { timeout: 100 },
      ),
    ).rejects.toThrow(/expired transaction/);
    expect(await tokens(reader)).toEqual([]);
    // The connection is usable again.
    await writer.$transaction(async (tx) => void (await tx.$executeRaw(insert("next", 1))));
    expect(await tokens(reader)).toEqual(["next"]);
  });

  it("never shows a reader rows of an open transaction", async () => {
    const { writer, reader } = await clients(backend);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const didInsert = new Promise<void>((resolve) => (inserted = resolve));
    const write = writer.$transaction(async (tx) => {
      await tx.$executeRaw(insert("pending", 1));
      inserted();
      await held;
    });
    await didInsert;
    expect(await tokens(reader)).toEqual([]);
    release();
    await write;
    expect(await tokens(reader)).toEqual(["pending"]);
  });

  if (backend.name === "sqlite") {
    it("runs reads on its read thread with exact integers, and codes a failing statement", async () => {
      const { writer } = await clients(backend);
      const big = 2 ** 53 - 1;
      await writer.$transaction(async (tx) => void (await tx.$executeRaw(insert("t", big))));
      const file = (writer as unknown as { db: { name: string } }).db.name;
      const thread = new SqliteReadThread(file, 1_000);
      closers.push(() => thread.close());
      const rows = await thread.$queryRaw<{ tokenId: string; expiresAtUs: unknown }[]>(sql`SELECT "tokenId", "expiresAtUs" FROM "RevocationToken" WHERE "tokenId" = ${"t"}`);
      expect(rows.map((r) => [r.tokenId, toNumber(r.expiresAtUs)])).toEqual([["t", big]]);
      await expect(thread.$queryRaw(sql`SELECT nope FROM "RevocationToken"`)).rejects.toMatchObject({ code: "SQLITE_ERROR" });
      // The thread is read-only: a write is refused, and nothing changes.
      await expect(thread.$queryRaw(sql`DELETE FROM "RevocationToken" RETURNING "tokenId"`)).rejects.toMatchObject({ code: "SQLITE_READONLY" });
      expect(await tokens(writer)).toEqual(["t"]);
    });
  }

  if (backend.name === "postgresql") {
    it("bounds the wait for a pool connection and codes it as contention (P2028)", async () => {
      const { writer } = await clients(backend, 1);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const holder = writer.$transaction(() => held);
      await expect(writer.$transaction(async () => undefined, { maxWait: 100 })).rejects.toMatchObject({ code: "P2028" });
      release();
      await holder;
      await writer.$transaction(async () => undefined, { maxWait: 1_000 });
    });
  }
});

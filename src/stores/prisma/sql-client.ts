/**
 * The narrow part of a generated PrismaClient that the stores use. Both generated clients
 * (SQLite and PostgreSQL) satisfy it structurally, although their full types differ.
 */
import type { Sql } from "@prisma/client/runtime/client";

/** Something that runs raw SQL: the client itself or an interactive transaction. */
export interface RawSqlRunner {
  $queryRaw<T = unknown>(query: Sql): PromiseLike<T>;
  $executeRaw(query: Sql): PromiseLike<number>;
}

/** A Prisma client reduced to raw SQL, interactive transactions and shutdown. */
export interface RawSqlClient extends RawSqlRunner {
  $transaction<R>(
    fn: (tx: RawSqlRunner) => Promise<R>,
    options?: { maxWait?: number; timeout?: number },
  ): Promise<R>;
  $disconnect(): Promise<void>;
}

/** Integers come back as bigint (Int64 columns) or number; the chain fits in a safe integer. */
export function toNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") {
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new RangeError(`integer out of safe range: ${v}`);
    return n;
  }
  if (typeof v === "string" && /^-?\d+$/.test(v)) return toNumber(BigInt(v));
  throw new TypeError(`expected an integer column, got ${typeof v}`);
}

/**
 * A driver-adapter wrapper that never leaves a connection inside a dead transaction.
 *
 * Prisma's transaction manager (client-engine-runtime, transaction-manager.ts) ends an
 * interactive transaction by sending `COMMIT` or `ROLLBACK` through the transaction's
 * `executeRaw` and only *then* calls the adapter's `commit()`/`rollback()`, which is what
 * releases the connection: the better-sqlite3 adapter's single write mutex, a pg pool client.
 * When that statement fails, the release never happens:
 *
 * - SQLite, disk full: SQLITE_FULL mid-write rolls the whole transaction back by itself, so
 *   the following `ROLLBACK` fails ("cannot rollback - no transaction is active") and the
 *   mutex stays taken. Every later transaction on that connection waits for it for ever
 *   (measured: a write after the space returned had no answer until a restart). A failed
 *   `COMMIT` (the WAL cannot grow) leaves the transaction open as well.
 * - PostgreSQL: a connection lost mid-transaction fails its `ROLLBACK`, and the pool client
 *   is never returned; ten of those and the pool is empty.
 *
 * The wrapper catches a failed COMMIT/ROLLBACK, restores the connection (SQLite: roll back
 * what is still open; PostgreSQL: discard the connection) and releases it exactly once. A
 * failed COMMIT still fails the caller's transaction; a failed ROLLBACK is swallowed, since
 * the transaction it should end is gone with the failure, so the caller sees the original
 * error (e.g. "database or disk is full") rather than the rollback's.
 */
import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlQuery, Transaction } from "@prisma/driver-adapter-utils";

/** How to put a transaction's connection back in order after its COMMIT or ROLLBACK failed. */
export type Abandon = (tx: Transaction, failure: unknown) => Promise<void> | void;

/** SQLite: roll back whatever is still open on the connection, then release the write mutex. */
export const abandonSqlite: Abandon = async (tx) => {
  const db = (tx as unknown as { client?: { inTransaction?: boolean; exec(sql: string): unknown } }).client;
  if (db?.inTransaction) {
    try {
      db.exec("ROLLBACK");
    } catch {
      // Nothing more to try on this connection; the next BEGIN reports it.
    }
  }
  await tx.rollback();
};

/** PostgreSQL: the connection's state is unknown, so destroy it instead of returning it to the pool. */
export const abandonPostgres: Abandon = async (tx, failure) => {
  const pg = tx as unknown as { client?: { release(error?: Error | boolean): void }; cleanup?: () => void };
  if (typeof pg.client?.release !== "function") return tx.rollback();
  pg.cleanup?.();
  pg.client.release(failure instanceof Error ? failure : new Error(String(failure)));
};

function isEnd(query: SqlQuery): "COMMIT" | "ROLLBACK" | undefined {
  const s = query.sql.trim().toUpperCase();
  return s === "COMMIT" || s === "ROLLBACK" ? s : undefined;
}

/** One transaction whose connection is released exactly once, whatever fails. */
function guardTransaction(inner: Transaction, abandon: Abandon): Transaction {
  let settled = false;
  const settle = async (how: () => Promise<void> | void) => {
    if (settled) return;
    settled = true;
    await how();
  };
  return {
    get options() {
      return inner.options;
    },
    get provider() {
      return inner.provider;
    },
    get adapterName() {
      return inner.adapterName;
    },
    queryRaw: (query) => inner.queryRaw(query),
    async executeRaw(query) {
      const end = isEnd(query);
      if (!end) return inner.executeRaw(query);
      try {
        return await inner.executeRaw(query);
      } catch (e) {
        await settle(() => abandon(inner, e));
        if (end === "ROLLBACK") return 0;
        throw e;
      }
    },
    commit: () => settle(() => inner.commit()),
    rollback: () => settle(() => inner.rollback()),
  };
}

/** `factory` with every transaction guarded by `abandon` (see the module comment). */
export function withTransactionRecovery<F extends SqlDriverAdapterFactory>(factory: F, abandon: Abandon): SqlDriverAdapterFactory {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    async connect(): Promise<SqlDriverAdapter> {
      const adapter = await factory.connect();
      // A proxy keeps every other method and property of the adapter as it is.
      return new Proxy(adapter, {
        get(target, property, receiver) {
          if (property === "startTransaction") {
            return async (...args: Parameters<SqlDriverAdapter["startTransaction"]>) =>
              guardTransaction(await target.startTransaction(...args), abandon);
          }
          const value: unknown = Reflect.get(target, property, receiver);
          return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  };
}

/**
 * RawSqlClient straight on the database drivers (better-sqlite3, node-postgres), for the
 * stores' hot paths: the chain writes, the page read and the chain scan.
 *
 * Why not through Prisma: the stores already speak raw SQL (`Prisma.sql` fragments), and
 * Prisma's per-query cost — the query engine's argument and result conversion, a new prepared
 * statement per call on SQLite — was most of a page read's and a batch append's time
 * (BENCHMARKS.md, issue-16 run: the store reached 48% of the raw driver on the same SQL).
 * Prisma stays the owner of the schema, the migrations and the typed client (API keys); these
 * clients run the very same `Sql` objects, so the SQL text is written once.
 *
 * Shapes: `$queryRaw` resolves to row objects keyed by column name; integer columns arrive as
 * bigint (SQLite, safe integers on) or as decimal strings (PostgreSQL int8), both read by
 * toNumber (./sql-client.ts). `$executeRaw` resolves to the number of rows changed.
 *
 * Transactions: one at a time per client (SQLite: per connection; PostgreSQL: a pool client
 * per transaction). A transaction whose COMMIT or ROLLBACK fails never leaves its connection
 * inside a dead transaction: SQLite rolls back what is still open, PostgreSQL destroys the
 * pool client (the same contract as ./transaction-recovery.ts gives the Prisma clients).
 * A transaction past its `timeout` fails its next statement or its commit with an error whose
 * message says "expired transaction", which the chain writer reports as
 * ChainWriteTimeoutError, as it does for Prisma's.
 */
import type { Sql } from "@prisma/client/runtime/client";
import Database from "better-sqlite3";
import type pg from "pg";
import { siblingModule, WorkerThread } from "../../worker-thread.js";
import type { RawSqlClient, RawSqlRunner } from "./sql-client.js";

/** Prepared statements kept per SQLite connection; the stores use a few dozen distinct texts. */
const STATEMENT_CACHE = 256;

/** The error a statement of an expired transaction fails with (message read by the chain writer). */
export class ExpiredTransactionError extends Error {
  constructor(timeoutMs: number) {
    super(`Transaction expired after ${timeoutMs} ms: A commit cannot be executed on an expired transaction`);
    this.name = "ExpiredTransactionError";
  }
}

/** A promise chain that runs one task at a time, in arrival order. */
class Serial {
  #tail: Promise<unknown> = Promise.resolve();
  run<R>(task: () => Promise<R>): Promise<R> {
    const next = this.#tail.then(task, task);
    this.#tail = next.catch(() => undefined);
    return next;
  }
}

/**
 * One transaction's lifetime: its statements fail once it is past its timeout, and once it
 * has ended (a statement issued late, e.g. by work still running after a sibling failed,
 * would otherwise run outside any transaction and commit on its own).
 */
class TransactionState {
  #expired = false;
  #ended = false;
  readonly #timer: NodeJS.Timeout | undefined;
  constructor(readonly timeoutMs: number | undefined) {
    if (timeoutMs !== undefined) {
      this.#timer = setTimeout(() => (this.#expired = true), timeoutMs);
      this.#timer.unref();
    }
  }
  /** Throws unless a statement may still run in this transaction. */
  check(): void {
    if (this.#ended) throw new Error("Transaction already closed: a statement came after its commit or rollback");
    if (this.#expired) throw new ExpiredTransactionError(this.timeoutMs ?? 0);
  }
  end(): void {
    this.#ended = true;
    clearTimeout(this.#timer);
  }
}

/** better-sqlite3 cannot bind booleans; everything else the stores pass (numbers, strings, null) binds as is. */
function sqliteValue(v: unknown): unknown {
  return typeof v === "boolean" ? (v ? 1 : 0) : v;
}

/**
 * A RawSqlClient on one better-sqlite3 connection to `filePath`, set up as the Prisma clients
 * are (./sqlite.ts): WAL, synchronous=FULL and a busy timeout of `busyTimeoutMs`.
 * Statements run synchronously on the calling thread; each is prepared once and cached.
 * Throws better-sqlite3's SqliteError (with its SQLITE_* `code`) on failures.
 */
export function openSqliteDriverClient(
  filePath: string,
  busyTimeoutMs: number,
): RawSqlClient & { readonly db: Database.Database; readonly offThread: SqliteReadThread } {
  const db = new Database(filePath, { timeout: busyTimeoutMs });
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.defaultSafeIntegers(true);
  const statements = new Map<string, Database.Statement>();
  const prepare = (text: string): Database.Statement => {
    let statement = statements.get(text);
    if (statement) {
      // Most recently used last, so the first key is the one to evict.
      statements.delete(text);
    } else {
      statement = db.prepare(text);
      if (statements.size >= STATEMENT_CACHE) statements.delete(statements.keys().next().value!);
    }
    statements.set(text, statement);
    return statement;
  };
  const runner = (tx?: TransactionState): RawSqlRunner => ({
    async $queryRaw<T>(query: Sql): Promise<T> {
      tx?.check();
      const statement = prepare(query.sql);
      const values = query.values.map(sqliteValue);
      // A statement that returns no rows (an UPDATE without RETURNING) answers no rows.
      return (statement.reader ? statement.all(...values) : (statement.run(...values), [])) as T;
    },
    async $executeRaw(query: Sql): Promise<number> {
      tx?.check();
      const statement = prepare(query.sql);
      const values = query.values.map(sqliteValue);
      if (statement.reader) return statement.all(...values).length;
      return statement.run(...values).changes;
    },
  });
  const outside = runner();
  const serial = new Serial();
  // A statement outside a transaction waits for an open one to end: on this connection it
  // would otherwise run inside it and see rows that may still roll back.
  const alone = <R>(task: () => Promise<R>): Promise<R> => (db.inTransaction ? serial.run(task) : task());
  const offThread = new SqliteReadThread(filePath, busyTimeoutMs);
  return {
    db,
    offThread,
    $queryRaw: <T>(q: Sql) => alone(async () => outside.$queryRaw<T>(q)),
    $executeRaw: (q: Sql) => alone(async () => outside.$executeRaw(q)),
    $transaction<R>(fn: (tx: RawSqlRunner) => Promise<R>, options?: { timeout?: number }): Promise<R> {
      return serial.run(async () => {
        const state = new TransactionState(options?.timeout);
        db.exec("BEGIN");
        try {
          const result = await fn(runner(state));
          state.check();
          state.end();
          db.exec("COMMIT");
          return result;
        } catch (e) {
          state.end();
          // SQLITE_FULL and some I/O errors roll the transaction back by themselves.
          if (db.inTransaction) {
            try {
              db.exec("ROLLBACK");
            } catch {
              // Nothing more to try on this connection; the next BEGIN reports it.
            }
          }
          throw e;
        }
      });
    },
    async $disconnect() {
      await serial.run(async () => undefined);
      await offThread.close();
      statements.clear();
      if (db.open) db.close();
    },
  };
}

/** A thread stops after this long without a query (ms). */
const READ_THREAD_IDLE_MS = 10_000;

/** A query for the read thread: the statement's `?` text and its bound values. */
export interface ReadRequest {
  sql: string;
  values: unknown[];
}

/**
 * Read-only queries on a worker thread with its own connection to the same SQLite file, for
 * long reads that would otherwise hold the main thread (better-sqlite3 answers synchronously):
 * verifyChain's column pass runs here while the main thread walks the chain. The thread starts
 * on the first query and stops when idle (src/worker-thread.ts). `$queryRaw` rejects with an
 * Error carrying the SQLite `code` when the statement fails.
 */
export class SqliteReadThread {
  readonly #thread: WorkerThread<ReadRequest, unknown[]>;

  constructor(filePath: string, busyTimeoutMs: number) {
    this.#thread = new WorkerThread(siblingModule(import.meta.url, "sqlite-read-worker"), { filePath, busyTimeoutMs }, READ_THREAD_IDLE_MS);
  }

  async $queryRaw<T>(query: Sql): Promise<T> {
    return (await this.#thread.request({ sql: query.sql, values: query.values.map(sqliteValue) })) as T;
  }

  close(): Promise<void> {
    return this.#thread.close();
  }
}

/**
 * A RawSqlClient on a node-postgres pool (the same pool Prisma's adapter uses, ./postgres.ts).
 * Each transaction takes its own pool client; queries outside one take any free client.
 * `maxWait` bounds the wait for a pool client (then it fails with code P2028, as Prisma's
 * client does, which the chain writer counts as contention). Throws pg's
 * DatabaseError (SQLSTATE in `code`) on failures.
 */
export function postgresDriverClient(pool: pg.Pool): RawSqlClient {
  const runner = (client: pg.Pool | pg.PoolClient, tx?: TransactionState): RawSqlRunner => ({
    async $queryRaw<T>(query: Sql): Promise<T> {
      tx?.check();
      const result = await client.query(query.text, query.values);
      return result.rows as T;
    },
    async $executeRaw(query: Sql): Promise<number> {
      tx?.check();
      const result = await client.query(query.text, query.values);
      return result.rowCount ?? 0;
    },
  });
  const outside = runner(pool);
  return {
    $queryRaw: (q) => outside.$queryRaw(q),
    $executeRaw: (q) => outside.$executeRaw(q),
    async $transaction<R>(fn: (tx: RawSqlRunner) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R> {
      const client = await connectWithin(pool, options?.maxWait);
      // A connection lost while checked out emits "error" on its client (the pool listens only
      // while it is idle); unhandled, that would end the process. The transaction's pending
      // or next query fails with the loss instead.
      client.on("error", ignore);
      const state = new TransactionState(options?.timeout);
      // Set when the connection's state is unknown: it is destroyed, never returned to the pool.
      let broken: Error | undefined;
      let ending = false;
      try {
        await client.query("BEGIN");
        const result = await fn(runner(client, state));
        state.check();
        state.end();
        ending = true;
        await client.query("COMMIT");
        return result;
      } catch (e) {
        state.end();
        if (ending) {
          broken = asError(e);
        } else {
          try {
            await client.query("ROLLBACK");
          } catch (rollbackFailure) {
            broken = asError(rollbackFailure);
          }
        }
        throw e;
      } finally {
        state.end();
        client.off("error", ignore);
        client.release(broken);
      }
    },
    async $disconnect() {
      // The pool belongs to the Prisma adapter too; whoever opened it ends it.
    },
  };
}

const ignore = () => undefined;
const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/** A pool client, or a rejection after `maxWaitMs` (node-postgres has no per-call connect timeout). */
async function connectWithin(pool: pg.Pool, maxWaitMs: number | undefined): Promise<pg.PoolClient> {
  if (maxWaitMs === undefined) return pool.connect();
  const pending = pool.connect();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    // P2028 is Prisma's code for the same case; the chain writer retries it as contention.
    timer = setTimeout(() => reject(Object.assign(new Error(`no pool connection within ${maxWaitMs} ms`), { code: "P2028" })), maxWaitMs);
  });
  try {
    return await Promise.race([pending, timeout]);
  } catch (e) {
    // The connect may still succeed later: hand that client straight back.
    pending.then((c) => c.release(), () => undefined);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opening the embedded SQLite database through Prisma + better-sqlite3.
 */
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "../../generated/sqlite/client.js";
import type { RawSqlClient } from "./sql-client.js";
import { abandonSqlite, withTransactionRecovery } from "./transaction-recovery.js";

/** How long a writer waits for another process's write lock before failing (ms). */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;
/**
 * The busy timeout of the chain writer's connection (ms). better-sqlite3 waits for a lock on
 * the calling thread, so a long wait would freeze every request of the process; the chain
 * writer instead retries a busy write with backoff between short waits, for up to 30 s
 * (./prisma-chain-writer.ts), answering other requests meanwhile.
 */
export const SQLITE_WRITER_BUSY_TIMEOUT_MS = 200;

/**
 * A Prisma client on one SQLite file, with the connection settings tracegate relies on:
 * WAL (readers never block the writer and see committed data only), synchronous=FULL (an
 * acknowledged append survives a power loss, not just a process crash) and a busy timeout
 * so several processes can share the file. A write that fails mid-transaction (disk full)
 * releases the connection for the next one (./transaction-recovery.ts).
 */
export async function openSqliteClient(filePath: string): Promise<RawSqlClient & PrismaClient> {
  const adapter = withTransactionRecovery(new PrismaBetterSQLite3({ url: `file:${filePath}`, timeout: SQLITE_BUSY_TIMEOUT_MS }), abandonSqlite);
  const client = new PrismaClient({ adapter });
  await client.$queryRawUnsafe("PRAGMA journal_mode = WAL");
  await client.$executeRawUnsafe("PRAGMA synchronous = FULL");
  return client;
}

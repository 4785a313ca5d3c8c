/**
 * Opening a PostgreSQL database: one node-postgres pool, shared by Prisma's adapter (the typed
 * client) and by the driver client of the stores' raw SQL (./driver-client.ts).
 */
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { pgPoolConfig } from "../../config.js";
import { PrismaClient } from "../../generated/pg/client.js";
import { postgresDriverClient } from "./driver-client.js";
import type { RawSqlClient } from "./sql-client.js";
import { abandonPostgres, withTransactionRecovery } from "./transaction-recovery.js";

/** Connections per gateway process; appends hold one for the length of a batch. */
export const PG_POOL_SIZE = 10;

/** A database's clients: `prisma` for typed access, `sql` for the stores' raw SQL; `close` ends both. */
export interface PostgresClients {
  prisma: RawSqlClient & PrismaClient;
  sql: RawSqlClient;
  close(): Promise<void>;
}

/** The clients on one pool of PG_POOL_SIZE connections to `url`. */
export function openPostgres(url: string): PostgresClients {
  const pool = new pg.Pool({ ...pgPoolConfig(url), max: PG_POOL_SIZE, application_name: "tracegate" });
  // An idle connection that the server drops emits "error" on the pool; unhandled, that would
  // end the process. The next query on the pool reports the loss to its caller instead.
  pool.on("error", () => undefined);
  const prisma = openPrismaOnPool(pool);
  return {
    prisma,
    sql: postgresDriverClient(pool),
    async close() {
      await prisma.$disconnect();
      if (!pool.ended) await pool.end();
    },
  };
}

/** A Prisma client on `pool`; a transaction that cannot end cleanly gives up its connection (./transaction-recovery.ts). */
function openPrismaOnPool(pool: pg.Pool): RawSqlClient & PrismaClient {
  return new PrismaClient({ adapter: withTransactionRecovery(new PrismaPg(pool), abandonPostgres) });
}

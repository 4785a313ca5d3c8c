/**
 * Opening a PostgreSQL database through Prisma + node-postgres.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { pgPoolConfig } from "../../config.js";
import { PrismaClient } from "../../generated/pg/client.js";
import type { RawSqlClient } from "./sql-client.js";
import { abandonPostgres, withTransactionRecovery } from "./transaction-recovery.js";

/** Connections per gateway process; appends hold one for the length of a batch. */
export const PG_POOL_SIZE = 10;

/** A Prisma client on a connection pool to `url`; a transaction that cannot end cleanly gives up its connection (./transaction-recovery.ts). */
export function openPostgresClient(url: string): RawSqlClient & PrismaClient {
  const adapter = withTransactionRecovery(
    new PrismaPg({ ...pgPoolConfig(url), max: PG_POOL_SIZE, application_name: "tracegate" }),
    abandonPostgres,
  );
  return new PrismaClient({ adapter });
}

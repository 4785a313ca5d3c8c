/**
 * Opening the stores a Config selects. The only place that knows which backends exist.
 */
import { statfs } from "node:fs/promises";
import { dirname } from "node:path";
import type { RecordHasher } from "../chain/hash.js";
import { type Config, sqliteFilePath } from "../config.js";
import { postgresDialect, sqliteDialect } from "./prisma/dialect.js";
import { openSqliteDriverClient } from "./prisma/driver-client.js";
import { PrismaTraceStore } from "./prisma/prisma-trace-store.js";
import { PrismaKeyStore } from "./prisma/prisma-key-store.js";
import { PrismaRevocationStore } from "./prisma/prisma-revocation-store.js";
import type { RevocationStore } from "./revocation-store.js";
import type { KeyStore } from "./key-store.js";
import type { TraceStore } from "./trace-store.js";

/** Every store of one gateway process. */
export interface Stores {
  traces: TraceStore;
  keys: KeyStore;
  /** Token revocation; shares the trace store's clients, so closing the traces closes it too. */
  revocations: RevocationStore;
  close(): Promise<void>;
}

/** Open the stores on an already migrated database. */
export async function openStores(
  config: Pick<Config, "databaseUrl" | "databaseProvider">,
  hash: RecordHasher,
): Promise<Stores> {
  let traces: PrismaTraceStore;
  let keys: PrismaKeyStore;
  let revocations: PrismaRevocationStore;
  if (config.databaseProvider === "postgresql") {
    // One pool serves both roles: each transaction gets its own connection, and readers
    // never see another connection's uncommitted rows. The raw SQL of the trace and
    // revocation stores runs on the driver; API keys on Prisma's typed client.
    // Each backend's drivers and generated client are imported only when used: a CLI command
    // on SQLite never loads pg and the PostgreSQL client (BENCHMARKS.md, "CLI start-up").
    const { openPostgres } = await import("./prisma/postgres.js");
    const db = openPostgres(config.databaseUrl);
    traces = new PrismaTraceStore({ writer: db.sql, reader: db.sql, hash, dialect: postgresDialect, onClose: () => db.close() });
    keys = new PrismaKeyStore(db.prisma.apiKey);
    revocations = new PrismaRevocationStore({ chain: traces.chain, reader: db.sql, dialect: postgresDialect });
  } else {
    // Separate SQLite connections: a query must never run inside an open append transaction.
    // The raw SQL of the trace and revocation stores runs on the driver (one connection for
    // the chain writes, one for reads); API keys on Prisma's typed client, a third.
    const file = sqliteFilePath(config.databaseUrl);
    const { openSqliteClient, SQLITE_BUSY_TIMEOUT_MS, SQLITE_WRITER_BUSY_TIMEOUT_MS } = await import("./prisma/sqlite.js");
    const prisma = await openSqliteClient(file);
    const writer = openSqliteDriverClient(file, SQLITE_WRITER_BUSY_TIMEOUT_MS);
    const reader = openSqliteDriverClient(file, SQLITE_BUSY_TIMEOUT_MS);
    const directory = dirname(file);
    traces = new PrismaTraceStore({
      writer,
      reader,
      hash,
      dialect: sqliteDialect,
      longReads: reader.offThread,
      onClose: () => prisma.$disconnect(),
      freeBytes: async () => {
        const s = await statfs(directory);
        return s.bavail * s.bsize;
      },
    });
    keys = new PrismaKeyStore(prisma.apiKey);
    revocations = new PrismaRevocationStore({ chain: traces.chain, reader, dialect: sqliteDialect });
  }
  return { traces, keys, revocations, close: () => traces.close() };
}

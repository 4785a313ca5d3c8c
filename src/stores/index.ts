/**
 * Opening the stores a Config selects. The only place that knows which backends exist.
 */
import { statfs } from "node:fs/promises";
import { dirname } from "node:path";
import type { RecordHasher } from "../chain/hash.js";
import { type Config, sqliteFilePath } from "../config.js";
import { postgresDialect, sqliteDialect } from "./prisma/dialect.js";
import { openPostgresClient } from "./prisma/postgres.js";
import { PrismaTraceStore } from "./prisma/prisma-trace-store.js";
import { openSqliteClient } from "./prisma/sqlite.js";
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
    // never see another connection's uncommitted rows.
    const client = openPostgresClient(config.databaseUrl);
    traces = new PrismaTraceStore({ writer: client, reader: client, hash, dialect: postgresDialect });
    keys = new PrismaKeyStore(client.apiKey);
    revocations = new PrismaRevocationStore({ chain: traces.chain, reader: client, dialect: postgresDialect });
  } else {
    // Two SQLite connections: a query must never run inside an open append transaction.
    const file = sqliteFilePath(config.databaseUrl);
    const [writer, reader] = await Promise.all([openSqliteClient(file), openSqliteClient(file)]);
    const directory = dirname(file);
    traces = new PrismaTraceStore({
      writer,
      reader,
      hash,
      dialect: sqliteDialect,
      freeBytes: async () => {
        const s = await statfs(directory);
        return s.bavail * s.bsize;
      },
    });
    keys = new PrismaKeyStore(writer.apiKey);
    revocations = new PrismaRevocationStore({ chain: traces.chain, reader, dialect: sqliteDialect });
  }
  return { traces, keys, revocations, close: () => traces.close() };
}

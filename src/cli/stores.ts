/**
 * Opening the stores from a CLI command: migrate if needed, run, always close (so the
 * process exits promptly). Commands that never append pass `readOnlyChain(name)` as the
 * hasher: it keeps the HMAC secret out of them, and an accidental chain write fails loudly
 * instead of appending records hashed with a wrong secret.
 */
import { existsSync } from "node:fs";
import type { RecordHasher } from "../chain/hash.js";
import { type Config, ConfigError, devSecretPath, resolveHmacSecret, sqliteFilePath } from "../config.js";
import { openStores, type Stores } from "../stores/index.js";
import { ensureMigrated } from "../stores/prisma/migrate.js";

/** A hasher for commands that must not append to the chain. */
export function readOnlyChain(command: string): RecordHasher {
  return () => {
    throw new Error(`${command} must not hash chain records (no HMAC secret is loaded).`);
  };
}

/** Run `fn` on the migrated stores of `config`, closing them afterwards. */
export async function withStores<T>(config: Config, hash: RecordHasher, fn: (stores: Stores) => Promise<T>): Promise<T> {
  await ensureMigrated(config.databaseUrl);
  const stores = await openStores(config, hash);
  try {
    return await fn(stores);
  } finally {
    await stores.close();
  }
}

/**
 * The configured database must already exist: opening would otherwise create an empty store
 * (which `audit verify` would report as OK, hiding a mistyped path: the reference's rule).
 * @throws ConfigError naming the missing file
 */
export function assertDatabaseExists(config: Config, why = "the audit commands read an existing store; they do not create one"): void {
  if (!databaseExists(config)) {
    throw new ConfigError(`Trace store '${sqliteFilePath(config.databaseUrl)}' does not exist. Check DATABASE_URL / TRACEGATE_DATA_DIR (${why}).`);
  }
}

/** Whether the configured database is there already (always true for PostgreSQL: the server says). */
export function databaseExists(config: Config): boolean {
  return config.databaseProvider !== "sqlite" || existsSync(sqliteFilePath(config.databaseUrl));
}

/**
 * The chain secret of an existing gateway: TRACEGATE_HMAC_SECRET, or the development secret the
 * gateway keeps in the data directory. Never generated here: a fresh random secret would
 * report every record as tampered, or fork the chain when writing.
 * @throws ConfigError when there is neither
 */
export function existingChainSecret(config: Config): string {
  if (!config.hmacSecret && config.env !== "production" && !existsSync(devSecretPath(config))) {
    throw new ConfigError(
      `No chain secret: set TRACEGATE_HMAC_SECRET, or TRACEGATE_DATA_DIR to the gateway's data directory ` +
        `(no development secret at ${devSecretPath(config)}).`,
    );
  }
  return resolveHmacSecret(config, () => undefined);
}

/**
 * Opening the stores from a CLI command: migrate if needed, run, always close (so the
 * process exits promptly). Commands that never append pass `readOnlyChain(name)` as the
 * hasher: it keeps the HMAC secret out of them, and an accidental chain write fails loudly
 * instead of appending records hashed with a wrong secret.
 */
import type { RecordHasher } from "../chain/hash.js";
import type { Config } from "../config.js";
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

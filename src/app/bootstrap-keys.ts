/**
 * Making sure a gateway can be administered at all (issue 4, "bootstrapping"):
 * TRACEGATE_BOOTSTRAP_ADMIN_KEY installs that key as admin; in development a database with
 * no keys gets one admin key, printed once and kept in the data directory; production
 * refuses to start with no keys.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { type Config, ConfigError, devAdminKeyPath } from "../config.js";
import { bootstrapAdminKey, issueApiKey } from "./keys.js";
import type { KeyStore } from "../stores/key-store.js";

/** What happened, for the caller to report. */
export type KeyBootstrap =
  | { kind: "bootstrap-key" }
  | { kind: "existing-keys"; count: number }
  | { kind: "created-dev-key"; key: string; path: string };

export async function ensureAdminAccess(
  config: Pick<Config, "env" | "dataDir" | "bootstrapAdminKey">,
  keys: KeyStore,
): Promise<KeyBootstrap> {
  if (config.bootstrapAdminKey) {
    await bootstrapAdminKey(keys, config.bootstrapAdminKey);
    return { kind: "bootstrap-key" };
  }
  const count = await keys.countActive();
  if (count > 0) return { kind: "existing-keys", count };
  if (config.env === "production") {
    throw new ConfigError(
      "No API keys exist: set TRACEGATE_BOOTSTRAP_ADMIN_KEY, or create one with `tracegate keys create --name <name> --scope admin`.",
    );
  }
  const { key } = await issueApiKey(keys, { name: "development admin key", scopes: ["admin"] }, "cli");
  const path = devAdminKeyPath(config);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${key}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return { kind: "created-dev-key", key, path };
}

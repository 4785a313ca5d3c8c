/**
 * The persistence contract for API keys. Keys are stored as their SHA-256 only
 * (src/access/api-key.ts); a record never holds the key itself.
 */
import type { PrincipalScope, Scope } from "../access/scopes.js";

/** One stored API key. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  keyHash: string;
  scopes: Scope[];
  /** Whose traces the key may see and write; null = every principal. */
  principals: PrincipalScope | null;
  createdAt: Date;
  /** An API key id, "cli" or "bootstrap". */
  createdBy: string;
  revokedAt: Date | null;
}

/** What creating a key stores (the id and hash are computed by the caller). */
export type NewApiKey = Omit<ApiKeyRecord, "createdAt" | "revokedAt">;

export interface KeyStore {
  create(key: NewApiKey): Promise<ApiKeyRecord>;
  /** The key with this hash, revoked or not; null when there is none. */
  findByHash(keyHash: string): Promise<ApiKeyRecord | null>;
  findById(id: string): Promise<ApiKeyRecord | null>;
  /** All keys, oldest first; revoked ones only when asked for. */
  list(options?: { includeRevoked?: boolean }): Promise<ApiKeyRecord[]>;
  /** Keys that are not revoked. */
  countActive(): Promise<number>;
  /**
   * Revoke a key (idempotent: a revoked key keeps its first revocation time).
   * @returns the key after revocation, or null when no key has this id.
   */
  revoke(id: string, at: Date): Promise<ApiKeyRecord | null>;
  /**
   * Make `key` the one key with its id, replacing a previous key of that id (used for the
   * bootstrap admin key, so changing TRACEGATE_BOOTSTRAP_ADMIN_KEY rotates it).
   */
  upsert(key: NewApiKey): Promise<ApiKeyRecord>;
}

/**
 * Authentication: an API key (Authorization: Bearer on HTTP, connectionParams on
 * graphql-ws) becomes the Viewer every resolver sees. Keys are looked up by their SHA-256
 * through a short cache, so a flood of requests costs one database read per key and
 * second, and a flood of made-up keys costs none after the first of each.
 */
import { hashApiKey } from "./api-key.js";
import type { PrincipalScope, Scope } from "./scopes.js";
import { grants } from "./scopes.js";
import { TracegateError } from "../errors.js";

/**
 * What authentication reads of a stored key. The key store (src/stores/key-store.ts)
 * provides it; access/ declares it so that it depends on no store.
 */
export interface StoredKey {
  id: string;
  name: string;
  scopes: readonly Scope[];
  principals: PrincipalScope | null;
  revokedAt: Date | null;
}

/** The lookups authentication needs: by the key's SHA-256 and by key id. */
export interface KeyLookup {
  findByHash(keyHash: string): Promise<StoredKey | null>;
  findById(id: string): Promise<StoredKey | null>;
}

/** Who is asking: the authenticated key, as resolvers and stores need it. */
export interface Viewer {
  keyId: string;
  name: string;
  scopes: ReadonlySet<Scope>;
  /** The principals this key is confined to; null = every principal. */
  principals: PrincipalScope | null;
}

/** Whether a viewer holds a scope (admin holds all). */
export function viewerCan(viewer: Viewer, scope: Scope): boolean {
  return grants(viewer.scopes, scope);
}

/** How long a looked-up key (or its absence) is trusted before asking the database again. */
export const KEY_CACHE_MS = 2_000;
/** Cache entries kept at most; the oldest go first. Bounds memory under a made-up-key flood. */
const KEY_CACHE_ENTRIES = 10_000;

function toViewer(record: StoredKey): Viewer {
  return { keyId: record.id, name: record.name, scopes: new Set(record.scopes), principals: record.principals };
}

export function unauthenticated(message = "A valid API key is required: send 'Authorization: Bearer <key>'."): TracegateError {
  return new TracegateError("UNAUTHENTICATED", message);
}

export class Authenticator {
  readonly #keys: KeyLookup;
  readonly #cacheMs: number;
  readonly #cache = new Map<string, { viewer: Viewer | null; until: number }>();
  /** Only ids of keys that authenticated, so its size is bounded by the number of keys. */
  readonly #byId = new Map<string, { active: boolean; until: number }>();

  constructor(keys: KeyLookup, { cacheMs = KEY_CACHE_MS } = {}) {
    this.#keys = keys;
    this.#cacheMs = cacheMs;
  }

  /**
   * The viewer of a key.
   * @throws TracegateError UNAUTHENTICATED for no key, an unknown key or a revoked key.
   */
  async authenticate(key: string | null): Promise<Viewer> {
    if (key === null) throw unauthenticated();
    const keyHash = hashApiKey(key);
    const now = Date.now();
    let entry = this.#cache.get(keyHash);
    if (!entry || entry.until <= now) {
      const record = await this.#keys.findByHash(keyHash);
      entry = { viewer: record && !record.revokedAt ? toViewer(record) : null, until: now + this.#cacheMs };
      this.#cache.delete(keyHash);
      this.#cache.set(keyHash, entry);
      if (this.#cache.size > KEY_CACHE_ENTRIES) this.#cache.delete(this.#cache.keys().next().value as string);
    }
    // One message for unknown and revoked keys: a caller learns nothing about other keys.
    if (!entry.viewer) throw unauthenticated("The API key is unknown or revoked.");
    return entry.viewer;
  }

  /**
   * Check that a viewer's key is still valid (not revoked), for long-lived operations such
   * as subscriptions; lookups by key id share the cache lifetime of authenticate().
   * @throws TracegateError UNAUTHENTICATED once the key was revoked or deleted.
   */
  async assertActive(viewer: Viewer): Promise<void> {
    const now = Date.now();
    let entry = this.#byId.get(viewer.keyId);
    if (!entry || entry.until <= now) {
      const record = await this.#keys.findById(viewer.keyId);
      entry = { active: record !== null && !record.revokedAt, until: now + this.#cacheMs };
      this.#byId.set(viewer.keyId, entry);
    }
    if (!entry.active) throw unauthenticated("The API key of this subscription was revoked.");
  }

  /** Drop cached lookups, so a revocation in this process takes effect at once. */
  forgetAll(): void {
    this.#cache.clear();
    this.#byId.clear();
  }
}

/**
 * API key material. A key is `tgk_` + 32 random bytes in base64url: 256 bits, so it is
 * stored as a plain SHA-256 (a slow password hash buys nothing against that entropy) and
 * looked up by that hash. The `tgk_` prefix lets secret scanners, tracegate's own ingest
 * redaction included, recognise a leaked key.
 */
import { createHash, randomBytes } from "node:crypto";

export const API_KEY_PREFIX = "tgk_";
/** Shortest key accepted from outside (TRACEGATE_BOOTSTRAP_ADMIN_KEY). */
export const MIN_API_KEY_LENGTH = 32;
/** Longest Authorization value worth hashing; anything longer is refused unread. */
export const MAX_API_KEY_LENGTH = 512;

/** A fresh random key (shown once, never stored). */
export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString("base64url");
}

/** A fresh public key id: short, random, safe to log and show. */
export function generateKeyId(): string {
  return `key_${randomBytes(8).toString("hex")}`;
}

/** The stored form of a key: lowercase hex SHA-256 of its UTF-8 bytes. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/**
 * The key in an `Authorization: Bearer <key>` value, or null when the value is not a usable
 * bearer credential. graphql-ws clients often send the bare key in connectionParams, so the
 * scheme may be made optional there.
 */
export function bearerKey(authorization: string | null | undefined, { schemeOptional = false } = {}): string | null {
  if (typeof authorization !== "string" || authorization.length > MAX_API_KEY_LENGTH + 16) return null;
  const match = (schemeOptional ? /^\s*(?:bearer\s+)?(\S+)\s*$/i : /^\s*bearer\s+(\S+)\s*$/i).exec(authorization);
  const key = match?.[1];
  return key && key.length >= MIN_API_KEY_LENGTH && key.length <= MAX_API_KEY_LENGTH ? key : null;
}

/**
 * The record hash of the reference chain (docs/reference-compatibility.md#canonical-json and
 * docs/reference-compatibility.md#chaining):
 * `HMAC-SHA256(utf8(secret), canonical({"prev_hash", "seq", "trace"}))`, lowercase hex.
 */
import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from "node:crypto";

/** prev_hash of the first record: 64 ASCII zeros. */
export const GENESIS_HASH = "0".repeat(64);

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Computes the record hash of (seq, prev_hash, payload); bound to one secret. A hasher made
 * by createRecordHasher names its secret by `keyId`; one without a keyId (a command that
 * must never append) cannot pass the chain's key check.
 */
export interface RecordHasher {
  (seq: number, prevHash: string, payload: string): string;
  readonly keyId?: string;
  /**
   * The secret as a KeyObject, so that worker threads can compute the same HMACs
   * (./hash-pool.ts); not enumerable, so it never lands in a log or a JSON dump.
   */
  readonly key?: KeyObject;
}

/** The fixed message whose HMAC names a secret (docs/chain-format.md). */
const KEY_ID_LABEL = "tracegate chain key id v1";
/** Hex characters of a key id: 64 bits, enough to tell secrets apart, never to recover one. */
export const KEY_ID_LENGTH = 16;

/**
 * The key id of a chain secret: the first 16 hex characters of
 * HMAC-SHA256(utf8(secret), "tracegate chain key id v1"). Stored with the chain head, so a
 * gateway started with another secret refuses to write instead of forking the chain.
 */
export function chainKeyId(secret: string): string {
  return createHmac("sha256", Buffer.from(secret, "utf8")).update(KEY_ID_LABEL, "utf8").digest("hex").slice(0, KEY_ID_LENGTH);
}

/**
 * The exact message the reference hashes. Keys sort as prev_hash < seq < trace, and since
 * `payload` is already canonical JSON and prev_hash is hex (nothing to escape), plain
 * concatenation yields the canonical form without re-serialising the trace.
 */
export function chainMessage(seq: number, prevHash: string, payload: string): string {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`seq must be a non-negative integer, got ${seq}`);
  if (!HEX64.test(prevHash)) throw new RangeError("prev_hash must be 64 lowercase hex characters");
  return `{"prev_hash":"${prevHash}","seq":${seq},"trace":${payload}}`;
}

/** A hasher for one secret (the secret string is UTF-8 encoded, as the reference does). */
export function createRecordHasher(secret: string): RecordHasher {
  if (secret.length === 0) throw new RangeError("The chain secret must not be empty.");
  const key: KeyObject = createSecretKey(Buffer.from(secret, "utf8"));
  const hasher = (seq: number, prevHash: string, payload: string) =>
    createHmac("sha256", key).update(chainMessage(seq, prevHash, payload), "utf8").digest("hex");
  Object.defineProperty(hasher, "key", { value: key, enumerable: false });
  return Object.assign(hasher, { keyId: chainKeyId(secret) });
}

/** Constant-time comparison of two hex digests (false when lengths differ). */
export function hashesEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

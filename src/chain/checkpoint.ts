/**
 * Checkpoints: statements about the chain at one seq ("the record at seq S has hash H, in
 * chain C, as of time T") that can be checked later without trusting the database.
 *
 * - A **prune checkpoint** is kept in the database when a seq prefix is deleted. It carries
 *   an HMAC under the chain secret (and an Ed25519 signature when a signing key is set), so
 *   someone who can write the database but lacks the secret cannot forge one — the
 *   reference's unauthenticated `meta.checkpoint_hash` could be
 *   (docs/reference-compatibility.md#known-weaknesses).
 * - A **signed checkpoint** is handed out by createCheckpoint and kept by the client. Signed
 *   with Ed25519, it is verifiable by anyone with the public key, and lets verifyChain detect
 *   a cut or rewritten tail, which a bare hash chain cannot.
 *
 * Both sign the canonical JSON of their fields plus a `type` that separates the two uses.
 */
import {
  createHash,
  createHmac,
  createPublicKey,
  createSecretKey,
  type KeyObject,
  sign as signBytes,
  verify as verifyBytes,
} from "node:crypto";
import { canonicalJson } from "./json.js";
import type { EpochMicros } from "./time.js";

export const PRUNE_CHECKPOINT_TYPE = "tracegate.prune-checkpoint.v1";
export const SIGNED_CHECKPOINT_TYPE = "tracegate.checkpoint.v1";

/** What a checkpoint asserts. */
export interface CheckpointFields {
  chainId: string;
  seq: number;
  /** recordHash of the record at `seq`. */
  headHash: string;
  createdAtUs: EpochMicros;
}

/** The exact bytes a checkpoint's MAC or signature covers. */
export function checkpointMessage(type: string, f: CheckpointFields, keyId: string | null = null): string {
  return canonicalJson({
    type,
    chain_id: f.chainId,
    seq: BigInt(f.seq),
    head_hash: f.headHash,
    created_at_us: BigInt(f.createdAtUs),
    key_id: keyId,
  });
}

/** HMAC-SHA256 of checkpoint messages under the chain secret, lowercase hex. */
export type CheckpointMac = (message: string) => string;

/**
 * A MAC keyed with the chain secret. The domain prefix keeps a checkpoint MAC from ever
 * equalling a record hash (record messages start with `{"prev_hash"`).
 */
export function createCheckpointMac(secret: string): CheckpointMac {
  const key: KeyObject = createSecretKey(Buffer.from(secret, "utf8"));
  return (message) => createHmac("sha256", key).update("tracegate checkpoint\n").update(message, "utf8").digest("hex");
}

/**
 * A signed checkpoint as handed to clients: "the record at `seq` of chain `chainId` has hash
 * `headHash`, as of `createdAtUs`", signed with Ed25519 by the key `keyId`.
 */
export interface SignedCheckpoint extends CheckpointFields {
  /** checkpointKeyId of the signing key's public half; part of the signed message. */
  keyId: string;
  /** Ed25519 signature of checkpointMessage(SIGNED_CHECKPOINT_TYPE, fields, keyId), base64url without padding. */
  signature: string;
}

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows it. */
const ED25519_SPKI_PREFIX_LENGTH = 12;
const ED25519_PUBLIC_KEY_LENGTH = 32;
const ED25519_SIGNATURE_LENGTH = 64;
/** 64 bytes in unpadded base64url. */
const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{86}$/;

/**
 * The id of an Ed25519 public key: the first 16 hex characters of SHA-256 over the raw
 * 32-byte key. Stable across PEM/DER/JWK encodings of the same key.
 * @throws Error when the key is not an Ed25519 key.
 */
export function checkpointKeyId(publicKey: KeyObject): string {
  const key = publicKey.type === "private" ? createPublicKey(publicKey) : publicKey;
  if (key.asymmetricKeyType !== "ed25519") {
    throw new Error(`checkpoint keys are Ed25519, not ${key.asymmetricKeyType ?? key.type}`);
  }
  const spki = key.export({ format: "der", type: "spki" });
  const raw = spki.subarray(ED25519_SPKI_PREFIX_LENGTH);
  if (raw.length !== ED25519_PUBLIC_KEY_LENGTH) throw new Error("unexpected Ed25519 public key encoding");
  return createHash("sha256").update(raw).digest("hex").slice(0, 16);
}

/**
 * Sign checkpoint fields with an Ed25519 private key. `keyId` defaults to the key's
 * checkpointKeyId (pass it to skip recomputing it for every checkpoint).
 */
export function signCheckpoint(
  privateKey: KeyObject,
  fields: CheckpointFields,
  keyId: string = checkpointKeyId(privateKey),
): SignedCheckpoint {
  const f: CheckpointFields = {
    chainId: fields.chainId,
    seq: fields.seq,
    headHash: fields.headHash,
    createdAtUs: fields.createdAtUs,
  };
  const message = Buffer.from(checkpointMessage(SIGNED_CHECKPOINT_TYPE, f, keyId), "utf8");
  const signature = signBytes(null, message, privateKey).toString("base64url");
  return { ...f, keyId, signature };
}

/**
 * Whether `cp` carries a valid signature by `publicKey`: its keyId must be that key's id and
 * the signature must verify over the canonical message. Any malformed input (wrong types,
 * non-integer seq or time, a signature that is not exactly 64 bytes in canonical base64url,
 * a non-Ed25519 key) yields false; it never throws.
 */
export function verifyCheckpointSignature(cp: SignedCheckpoint, publicKey: KeyObject): boolean {
  try {
    if (typeof cp !== "object" || cp === null) return false;
    const { chainId, seq, headHash, createdAtUs, keyId, signature } = cp;
    if (typeof chainId !== "string" || typeof headHash !== "string" || typeof keyId !== "string") return false;
    if (!Number.isSafeInteger(seq) || seq < 0 || !Number.isSafeInteger(createdAtUs)) return false;
    if (typeof signature !== "string" || !SIGNATURE_PATTERN.test(signature)) return false;
    const bytes = Buffer.from(signature, "base64url");
    // Unpadded base64url of 64 bytes leaves 4 spare bits in the last character: refuse any
    // spelling but the canonical one, so one signature has exactly one accepted text.
    if (bytes.length !== ED25519_SIGNATURE_LENGTH || bytes.toString("base64url") !== signature) return false;
    if (keyId !== checkpointKeyId(publicKey)) return false;
    const message = Buffer.from(checkpointMessage(SIGNED_CHECKPOINT_TYPE, { chainId, seq, headHash, createdAtUs }, keyId), "utf8");
    const key = publicKey.type === "private" ? createPublicKey(publicKey) : publicKey;
    return verifyBytes(null, message, key, bytes);
  } catch {
    return false;
  }
}

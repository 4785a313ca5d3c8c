/**
 * Signed checkpoints (docs/security-model.md#signed-checkpoints): Ed25519 over the canonical
 * checkpoint message. Any changed field, another key, or a damaged signature must fail
 * verification without throwing; the message is canonical and separated by type from prune
 * checkpoints.
 */
import { createHash, createPublicKey, generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  type CheckpointFields,
  checkpointKeyId,
  checkpointMessage,
  PRUNE_CHECKPOINT_TYPE,
  SIGNED_CHECKPOINT_TYPE,
  type SignedCheckpoint,
  signCheckpoint,
  verifyCheckpointSignature,
} from "../../../src/chain/checkpoint.js";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const other = generateKeyPairSync("ed25519");

const fields: CheckpointFields = {
  chainId: "3f1c2a9e-chain",
  seq: 41,
  headHash: "ab".repeat(32),
  createdAtUs: 1_767_323_045_123_456,
};
const cp = signCheckpoint(privateKey, fields);

/** One character of a base64url string replaced by another alphabet character. */
function flip(text: string, index: number): string {
  const c = text[index] === "A" ? "B" : "A";
  return text.slice(0, index) + c + text.slice(index + 1);
}

describe("signCheckpoint / verifyCheckpointSignature", () => {
  it("round-trips, with the key's id and a 64-byte base64url signature", () => {
    expect(cp).toMatchObject({ ...fields, keyId: checkpointKeyId(publicKey) });
    expect(cp.signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(Buffer.from(cp.signature, "base64url")).toHaveLength(64);
    expect(verifyCheckpointSignature(cp, publicKey)).toBe(true);
    // A private key works too (its public half is used).
    expect(verifyCheckpointSignature(cp, privateKey)).toBe(true);
  });

  it.each<[string, Partial<SignedCheckpoint>]>([
    ["chainId", { chainId: "3f1c2a9e-chaim" }],
    ["seq", { seq: 42 }],
    ["seq (earlier)", { seq: 0 }],
    ["headHash", { headHash: `${"ab".repeat(31)}ac` }],
    ["createdAtUs", { createdAtUs: fields.createdAtUs + 1 }],
    ["keyId", { keyId: checkpointKeyId(other.publicKey) }],
    ["signature (first char)", { signature: flip(cp.signature, 0) }],
    ["signature (middle char)", { signature: flip(cp.signature, 40) }],
  ])("fails when %s changes", (_name, change) => {
    expect(verifyCheckpointSignature({ ...cp, ...change }, publicKey)).toBe(false);
  });

  it("fails under a wrong key, even when the keyId is rewritten to match it", () => {
    expect(verifyCheckpointSignature(cp, other.publicKey)).toBe(false);
    expect(verifyCheckpointSignature({ ...cp, keyId: checkpointKeyId(other.publicKey) }, other.publicKey)).toBe(false);
  });

  it("fails on truncated, padded, non-canonical or non-base64url signatures", () => {
    for (const signature of [
      cp.signature.slice(0, -1),
      cp.signature.slice(0, 43),
      "",
      `${cp.signature}==`,
      `${cp.signature}A`,
      Buffer.from(cp.signature, "base64url").toString("base64"), // standard alphabet, padded
      Buffer.from(cp.signature, "base64url").toString("hex"),
    ]) {
      expect(verifyCheckpointSignature({ ...cp, signature }, publicKey)).toBe(false);
    }
    // 86 characters carry 516 bits for 512: the last character's spare bits must be zero,
    // so the same signature bytes cannot be spelled a second way.
    const last = cp.signature.at(-1)!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const idx = alphabet.indexOf(last);
    const sibling = alphabet[idx ^ 1]!; // same top bits, one spare bit set or cleared
    const variant = cp.signature.slice(0, -1) + sibling;
    expect(Buffer.from(variant, "base64url").equals(Buffer.from(cp.signature, "base64url"))).toBe(true);
    expect(verifyCheckpointSignature({ ...cp, signature: variant }, publicKey)).toBe(false);
  });

  it("returns false, never throws, on malformed input", () => {
    const malformed: unknown[] = [
      null,
      undefined,
      "checkpoint",
      {},
      { ...cp, seq: 41.5 },
      { ...cp, seq: -1 },
      { ...cp, seq: "41" },
      { ...cp, seq: Number.MAX_SAFE_INTEGER + 1 },
      { ...cp, createdAtUs: Number.NaN },
      { ...cp, createdAtUs: "2026-01-02T03:04:05Z" },
      { ...cp, chainId: 7 },
      { ...cp, headHash: null },
      { ...cp, keyId: undefined },
      { ...cp, signature: 12 },
    ];
    for (const value of malformed) {
      expect(verifyCheckpointSignature(value as SignedCheckpoint, publicKey)).toBe(false);
    }
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    expect(verifyCheckpointSignature(cp, rsa.publicKey)).toBe(false);
    expect(verifyCheckpointSignature(cp, ec.publicKey)).toBe(false);
  });
});

describe("checkpointKeyId", () => {
  it("is the first 16 hex characters of SHA-256 of the raw 32-byte key, stable across encodings", () => {
    const id = checkpointKeyId(publicKey);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    const x = publicKey.export({ format: "jwk" }).x!;
    expect(id).toBe(createHash("sha256").update(Buffer.from(x, "base64url")).digest("hex").slice(0, 16));
    const pem = publicKey.export({ format: "pem", type: "spki" }).toString();
    expect(checkpointKeyId(createPublicKey(pem))).toBe(id);
    expect(checkpointKeyId(createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" }))).toBe(id);
    expect(checkpointKeyId(privateKey)).toBe(id);
    expect(checkpointKeyId(publicKey)).toBe(id);
    expect(checkpointKeyId(other.publicKey)).not.toBe(id);
  });

  it("refuses a key that is not Ed25519", () => {
    expect(() => checkpointKeyId(generateKeyPairSync("x25519").publicKey)).toThrow(/Ed25519/);
  });
});

describe("the signed message", () => {
  it("is canonical JSON of the fields, the key id and the type", () => {
    expect(checkpointMessage(SIGNED_CHECKPOINT_TYPE, fields, "0123456789abcdef")).toBe(
      '{"chain_id":"3f1c2a9e-chain","created_at_us":1767323045123456,' +
        `"head_hash":"${"ab".repeat(32)}","key_id":"0123456789abcdef","seq":41,"type":"tracegate.checkpoint.v1"}`,
    );
    // Field order of the input does not matter.
    const reordered = { createdAtUs: fields.createdAtUs, headHash: fields.headHash, seq: fields.seq, chainId: fields.chainId };
    expect(checkpointMessage(SIGNED_CHECKPOINT_TYPE, reordered, cp.keyId)).toBe(checkpointMessage(SIGNED_CHECKPOINT_TYPE, fields, cp.keyId));
  });

  it("is what the signature covers", () => {
    const message = Buffer.from(checkpointMessage(SIGNED_CHECKPOINT_TYPE, fields, cp.keyId), "utf8");
    expect(sign(null, message, privateKey).toString("base64url")).toBe(cp.signature); // Ed25519 is deterministic
  });

  it("is separated by type from prune checkpoints: a prune signature is not a checkpoint signature", () => {
    expect(PRUNE_CHECKPOINT_TYPE).not.toBe(SIGNED_CHECKPOINT_TYPE);
    const prune = checkpointMessage(PRUNE_CHECKPOINT_TYPE, fields, cp.keyId);
    expect(prune).not.toBe(checkpointMessage(SIGNED_CHECKPOINT_TYPE, fields, cp.keyId));
    const pruneSignature = sign(null, Buffer.from(prune, "utf8"), privateKey).toString("base64url");
    expect(verifyCheckpointSignature({ ...cp, signature: pruneSignature }, publicKey)).toBe(false);
  });
});

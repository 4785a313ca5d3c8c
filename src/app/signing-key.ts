/**
 * The Ed25519 key that signs checkpoints (docs/security-model.md#signed-checkpoints): from
 * TRACEGATE_SIGNING_KEY(_FILE), or, outside production, one generated once into the data
 * directory (like the development HMAC secret). In production without a key, signed checkpoints
 * are unavailable.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { type CheckpointFields, checkpointKeyId, type SignedCheckpoint, signCheckpoint } from "../chain/checkpoint.js";
import { type Config, ConfigError } from "../config.js";

/** The algorithm of every checkpoint signature, as published to clients. */
export const CHECKPOINT_ALGORITHM = "Ed25519";

/** Signs checkpoints with one private key; only the public half is ever shown. */
export interface CheckpointSigner {
  /** checkpointKeyId of the public key. */
  keyId: string;
  publicKey: KeyObject;
  /** The public key as SPKI PEM, for clients that verify offline. */
  publicKeyPem: string;
  sign(fields: CheckpointFields): SignedCheckpoint;
}

/**
 * A signer from a PEM private key (PKCS#8). Anything but an Ed25519 private key is a
 * ConfigError; the message never repeats key material.
 */
export function loadSigner(pem: string): CheckpointSigner {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new ConfigError("The checkpoint signing key is not a readable PEM private key.");
  }
  if (privateKey.asymmetricKeyType !== "ed25519") {
    throw new ConfigError(
      `The checkpoint signing key must be an Ed25519 private key, not ${privateKey.asymmetricKeyType ?? "a secret key"} ` +
        "(create one with `openssl genpkey -algorithm ed25519`).",
    );
  }
  const publicKey = createPublicKey(privateKey);
  const keyId = checkpointKeyId(publicKey);
  return {
    keyId,
    publicKey,
    publicKeyPem: publicKey.export({ format: "pem", type: "spki" }).toString(),
    sign: (fields) => signCheckpoint(privateKey, fields, keyId),
  };
}

/** Where the development signing key is kept when none is configured. */
export function devSigningKeyPath(config: Pick<Config, "dataDir">): string {
  return join(config.dataDir, "signing-key.pem");
}

/**
 * The checkpoint signer: the configured key; else, outside production, a key generated once
 * into `<dataDir>/signing-key.pem` (mode 0600) and reused later, with `onGenerated` called
 * so the caller can warn; else (production without a key) undefined, and checkpoints are
 * unavailable.
 */
export function resolveSigningKey(
  config: Pick<Config, "env" | "dataDir" | "signingKeyPem">,
  onGenerated: (path: string, created: boolean) => void,
): CheckpointSigner | undefined {
  if (config.signingKeyPem) return loadSigner(config.signingKeyPem);
  if (config.env === "production") return undefined;
  const path = devSigningKeyPath(config);
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    const { privateKey } = generateKeyPairSync("ed25519");
    const pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    try {
      writeFileSync(path, pem, { mode: 0o600, flag: "wx" });
      chmodSync(path, 0o600);
      onGenerated(path, true);
      return loadSigner(pem);
    } catch (e) {
      // Another process created it first: use theirs.
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
  const pem = readFileSync(path, "utf8");
  if (pem.trim() === "") throw new ConfigError(`The development signing key file ${path} is empty.`);
  onGenerated(path, false);
  return loadSigner(pem);
}

/**
 * Where the gateway serves the public-key document (src/http/well-known.ts); the GraphQL
 * checkpoint type and `tracegate checkpoint` name it too.
 */
export const CHECKPOINT_KEY_PATH = "/.well-known/tracegate/checkpoint-key";

/** The public-key document {keyId, algorithm, publicKeyPem}, or null when there is no signing key. */
export function checkpointKeyDocument(signer: CheckpointSigner | undefined) {
  return signer ? { keyId: signer.keyId, algorithm: CHECKPOINT_ALGORITHM, publicKeyPem: signer.publicKeyPem } : null;
}

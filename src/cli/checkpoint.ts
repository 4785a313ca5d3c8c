/**
 * `tracegate checkpoint verify|public-key`. `verify` checks a signed checkpoint offline, with
 * nothing but the server's public key (no database, no secret, no server); `public-key`
 * prints the public half of the configured (or development) signing key.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { checkpointKeyId, type SignedCheckpoint, verifyCheckpointSignature } from "../chain/checkpoint.js";
import { formatIsoMicros, parseTimestamp } from "../chain/time.js";
import { ConfigError, loadConfig } from "../config.js";
import { CHECKPOINT_ALGORITHM, checkpointKeyDocument, resolveSigningKey } from "../app/signing-key.js";

/** A checkpoint that does not verify, or a file that cannot be read as one. */
class CheckpointCheckError extends Error {
  override name = "CheckpointCheckError";
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new CheckpointCheckError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** An Ed25519 public key from a PEM file (a private key PEM is accepted: its public half is used). */
export function readPublicKey(path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(readText(path, "public key file"));
  } catch (e) {
    if (e instanceof CheckpointCheckError) throw e;
    throw new CheckpointCheckError(`${path} is not a PEM public key.`);
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new CheckpointCheckError(`${path} is a ${key.asymmetricKeyType ?? "non-asymmetric"} key; checkpoints are signed with Ed25519.`);
  }
  return key;
}

/**
 * A SignedCheckpoint from JSON as createCheckpoint returns it ({chainId, seq, headHash,
 * createdAt (ISO), keyId, signature[, algorithm]}), bare or as a whole GraphQL response.
 */
export function parseCheckpointJson(text: string): SignedCheckpoint {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CheckpointCheckError(`the checkpoint file is not JSON: ${(e as Error).message}`);
  }
  const wrapped = (value as { data?: { createCheckpoint?: unknown } } | null)?.data?.createCheckpoint;
  const cp = (wrapped ?? value) as Record<string, unknown> | null;
  if (typeof cp !== "object" || cp === null || Array.isArray(cp)) {
    throw new CheckpointCheckError("the checkpoint file must hold a JSON object (a SignedCheckpoint).");
  }
  const str = (field: string): string => {
    const v = cp[field];
    if (typeof v !== "string" || v === "") throw new CheckpointCheckError(`malformed checkpoint: '${field}' must be a non-empty string.`);
    return v;
  };
  if (cp.algorithm !== undefined && cp.algorithm !== CHECKPOINT_ALGORITHM) {
    throw new CheckpointCheckError(`unsupported checkpoint algorithm ${JSON.stringify(cp.algorithm)} (expected ${CHECKPOINT_ALGORITHM}).`);
  }
  const seq = cp.seq;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) {
    throw new CheckpointCheckError("malformed checkpoint: 'seq' must be a non-negative integer.");
  }
  let createdAtUs: number;
  try {
    createdAtUs = parseTimestamp(str("createdAt"));
  } catch (e) {
    if (e instanceof CheckpointCheckError) throw e;
    throw new CheckpointCheckError(`malformed checkpoint: createdAt: ${(e as Error).message}`);
  }
  return { chainId: str("chainId"), seq, headHash: str("headHash"), createdAtUs, keyId: str("keyId"), signature: str("signature") };
}

/** Verify a checkpoint file against a public key file; returns the OK line. */
export function verifyCheckpointFile(publicKeyPath: string, checkpointPath: string): string {
  const publicKey = readPublicKey(publicKeyPath);
  const cp = parseCheckpointJson(readText(checkpointPath, "checkpoint file"));
  const keyId = checkpointKeyId(publicKey);
  if (cp.keyId !== keyId) {
    throw new CheckpointCheckError(`wrong key: the checkpoint was signed by key ${JSON.stringify(cp.keyId)}, but ${publicKeyPath} is key ${keyId}.`);
  }
  if (!verifyCheckpointSignature(cp, publicKey)) {
    throw new CheckpointCheckError("bad signature: the checkpoint was altered, or was not signed by this key.");
  }
  return `OK checkpoint seq ${cp.seq} of chain ${cp.chainId} signed by ${cp.keyId} at ${formatIsoMicros(cp.createdAtUs)}`;
}

/** Add `checkpoint verify|public-key` to the program. */
export function registerCheckpointCommand(program: Command): void {
  const checkpoint = program.command("checkpoint").description("signed checkpoints: verify one offline, print the public key");

  checkpoint
    .command("verify")
    .description("verify a signed checkpoint (JSON from createCheckpoint) with only the server's public key")
    .requiredOption("--public-key <file>", "the server's Ed25519 public key (PEM, from `tracegate checkpoint public-key`)")
    .argument("<checkpoint.json>", "a SignedCheckpoint as createCheckpoint returned it")
    .action((file: string, options: { publicKey: string }) => {
      try {
        process.stdout.write(`${verifyCheckpointFile(options.publicKey, file)}\n`);
      } catch (e) {
        if (!(e instanceof CheckpointCheckError)) throw e;
        // main.ts prints it: one line, with the code, exit 1.
        throw Object.assign(e, { code: "CHECKPOINT_INVALID" });
      }
    });

  checkpoint
    .command("public-key")
    .description("print the public key of the configured signing key (TRACEGATE_SIGNING_KEY[_FILE], or the development key)")
    .option("--json", "print {keyId, algorithm, publicKeyPem} as JSON (the /.well-known/tracegate/checkpoint-key document)")
    .action((options: { json?: boolean }) => {
      const signer = resolveSigningKey(loadConfig(), (path, created) => {
        if (created) process.stderr.write(`tracegate: WARNING: generated a development checkpoint signing key in ${path}.\n`);
      });
      if (!signer) {
        throw new ConfigError("No checkpoint signing key: set TRACEGATE_SIGNING_KEY or TRACEGATE_SIGNING_KEY_FILE.");
      }
      process.stdout.write(options.json ? `${JSON.stringify(checkpointKeyDocument(signer))}\n` : signer.publicKeyPem);
    });
}

/**
 * Signed checkpoints (docs/security-model.md#signed-checkpoints): createCheckpoint signs the
 * current head with the server's Ed25519 key; checkSignedCheckpoint holds the stored chain
 * against a checkpoint a client kept, which detects a cut or rewritten tail that a bare hash
 * chain cannot show.
 */
import { type SignedCheckpoint, verifyCheckpointSignature } from "../chain/checkpoint.js";
import { hashesEqual } from "../chain/hash.js";
import { dateToMicros, type EpochMicros } from "../chain/time.js";
import type { ChainVerification, VerificationFailureKind } from "../chain/verify.js";
import { badUserInput, TracegateError } from "../errors.js";
import type { Caller } from "./caller.js";
import type { CheckpointSigner } from "./signing-key.js";
import type { Stores } from "../stores/index.js";

/** What the checkpoint resolvers need of the context (a Caller has it all). */
export interface CheckpointContext {
  stores: Pick<Stores, "traces">;
  signer?: CheckpointSigner | undefined;
}

/** A signed checkpoint as a client sends it back (GraphQL input SignedCheckpointInput). */
export interface SignedCheckpointInputShape {
  chainId: string;
  seq: number;
  headHash: string;
  /** The checkpoint's time (DateTime input, epoch microseconds). */
  createdAt: EpochMicros;
  keyId: string;
  signature: string;
}

/** The GraphQL input as the signed structure. */
export function toSignedCheckpoint(input: SignedCheckpointInputShape): SignedCheckpoint {
  return {
    chainId: input.chainId,
    seq: input.seq,
    headHash: input.headHash,
    createdAtUs: input.createdAt,
    keyId: input.keyId,
    signature: input.signature,
  };
}

function requireSigner(ctx: CheckpointContext): CheckpointSigner {
  if (!ctx.signer) {
    throw new TracegateError(
      "NOT_CONFIGURED",
      "Signed checkpoints are unavailable: this server has no signing key (set TRACEGATE_SIGNING_KEY or TRACEGATE_SIGNING_KEY_FILE).",
    );
  }
  return ctx.signer;
}

/**
 * Sign the current head: the newest record's seq and hash, this chain's id, and now.
 * @throws TracegateError NOT_CONFIGURED without a signing key, BAD_USER_INPUT on an empty chain.
 */
export async function createCheckpoint(ctx: Pick<Caller, "stores" | "signer">): Promise<SignedCheckpoint> {
  const signer = requireSigner(ctx);
  const head = await ctx.stores.traces.head();
  if (head.nextSeq === 0) throw badUserInput("The chain is empty: nothing to checkpoint.");
  return signer.sign({
    chainId: head.chainId,
    seq: head.nextSeq - 1,
    headHash: head.headHash,
    createdAtUs: dateToMicros(new Date()),
  });
}

function failure(kind: VerificationFailureKind, firstBadSeq: number | null, detail: string): ChainVerification {
  return { ok: false, checked: 0, firstBadSeq, kind, detail };
}

/**
 * Hold the stored chain against a signed checkpoint. Returns the failure, or null when the
 * chain is consistent with it:
 * - CHECKPOINT_INVALID (firstBadSeq null): signed by another key than this server's, a
 *   signature that does not verify, or a checkpoint of another chain;
 * - TRUNCATED: the head no longer reaches the checkpoint's seq (firstBadSeq = the first seq
 *   gone), or the record at the checkpoint's seq is missing while records before it remain;
 * - MUTATED: the record at the checkpoint's seq has another hash (rewritten).
 * A record missing because a seq prefix through it was pruned (no stored record precedes it)
 * is not a failure here: the prune checkpoint, checked by the chain walk, covers it.
 * `checked` is 0 in every failure; the caller sets its own count when it merges results.
 * @throws TracegateError NOT_CONFIGURED when the server has no signing key to check against.
 */
export async function checkSignedCheckpoint(
  ctx: CheckpointContext,
  input: SignedCheckpointInputShape,
): Promise<ChainVerification | null> {
  const signer = requireSigner(ctx);
  const cp = toSignedCheckpoint(input);
  if (cp.keyId !== signer.keyId) {
    return failure(
      "CHECKPOINT_INVALID",
      null,
      `Invalid checkpoint: signed by unknown key '${printable(cp.keyId)}' (this server's key is '${signer.keyId}').`,
    );
  }
  if (!verifyCheckpointSignature(cp, signer.publicKey)) {
    return failure("CHECKPOINT_INVALID", null, "Invalid checkpoint: its signature does not verify (forged or altered).");
  }
  const store = ctx.stores.traces;
  const head = await store.head();
  if (cp.chainId !== head.chainId) {
    return failure(
      "CHECKPOINT_INVALID",
      null,
      `Invalid checkpoint: it belongs to chain '${printable(cp.chainId)}', not to this chain '${head.chainId}'.`,
    );
  }
  if (head.nextSeq <= cp.seq) {
    return failure(
      "TRUNCATED",
      head.nextSeq,
      `Truncated chain: the checkpoint vouches for records through seq ${cp.seq}, but the chain now ends ` +
        (head.nextSeq === 0 ? "before seq 0" : `at seq ${head.nextSeq - 1}`) +
        " (the tail was cut and the head rewound).",
    );
  }
  const [record] = await store.findBySeqs([cp.seq]);
  if (!record) {
    const first = await store.firstSeq();
    if (first === null || first > cp.seq) return null; // pruned prefix: the prune checkpoint vouches for it
    return failure(
      "TRUNCATED",
      cp.seq,
      `Truncated chain: record seq ${cp.seq}, which the checkpoint vouches for, is missing (deletion).`,
    );
  }
  if (!hashesEqual(record.recordHash, cp.headHash)) {
    return failure(
      "MUTATED",
      cp.seq,
      `Rewritten chain: the record at seq ${cp.seq} no longer has the hash the checkpoint vouches for.`,
    );
  }
  return null;
}

/** Client-supplied text, shortened and without control characters, for a detail message. */
function printable(text: string): string {
  const clean = text.replace(/\p{Cc}/gu, "?");
  return clean.length > 64 ? `${clean.slice(0, 61)}...` : clean;
}

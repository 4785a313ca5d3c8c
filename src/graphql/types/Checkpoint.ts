/**
 * Signed checkpoints: `createCheckpoint`, `checkpointPublicKey`, and the input
 * `SignedCheckpointInput` a client sends a kept checkpoint back with (verifyChain).
 */
import type { SignedCheckpoint } from "../../chain/checkpoint.js";
import { createCheckpoint, type SignedCheckpointInputShape } from "../../app/checkpoints.js";
import { CHECKPOINT_ALGORITHM, CHECKPOINT_KEY_PATH, checkpointKeyDocument } from "../../app/signing-key.js";
import { builder } from "../builder.js";

const SignedCheckpointRef = builder.objectRef<SignedCheckpoint>("SignedCheckpoint").implement({
  description:
    "An Ed25519-signed statement that the record at `seq` of chain `chainId` has hash `headHash`, as of `createdAt`. " +
    "Keep it outside the server: verifyChain(checkpoint:) or `tracegate checkpoint verify` later detect a cut or " +
    "rewritten tail. The signature covers the canonical JSON of {type: \"tracegate.checkpoint.v1\", chain_id, seq, " +
    "head_hash, created_at_us, key_id}.",
  fields: (t) => ({
    chainId: t.exposeString("chainId", { description: "The chain's random id." }),
    seq: t.field({ type: "SafeInt", description: "seq of the newest record when the checkpoint was taken.", resolve: (c) => c.seq }),
    headHash: t.exposeString("headHash", { description: "recordHash of the record at `seq`." }),
    createdAt: t.field({ type: "DateTime", resolve: (c) => c.createdAtUs }),
    keyId: t.exposeString("keyId", { description: "Id of the signing key (see checkpointPublicKey)." }),
    signature: t.exposeString("signature", { description: "Ed25519 signature, base64url without padding." }),
    algorithm: t.string({ resolve: () => CHECKPOINT_ALGORITHM }),
  }),
});

type PublicKeyDocument = NonNullable<ReturnType<typeof checkpointKeyDocument>>;

const CheckpointPublicKeyRef = builder.objectRef<PublicKeyDocument>("CheckpointPublicKey").implement({
  description: `The public key that verifies signed checkpoints; also served without an API key at GET ${CHECKPOINT_KEY_PATH}.`,
  fields: (t) => ({
    keyId: t.exposeString("keyId", { description: "First 16 hex characters of SHA-256 of the raw 32-byte key." }),
    algorithm: t.exposeString("algorithm"),
    publicKeyPem: t.exposeString("publicKeyPem", { description: "SubjectPublicKeyInfo PEM." }),
  }),
});

/** A signed checkpoint as createCheckpoint returned it (algorithm omitted), for verifyChain. */
export const SignedCheckpointInput = builder.inputRef<SignedCheckpointInputShape>("SignedCheckpointInput").implement({
  description: "A signed checkpoint as createCheckpoint returned it.",
  fields: (t) => ({
    chainId: t.string({ required: true }),
    seq: t.field({ type: "SafeInt", required: true }),
    headHash: t.string({ required: true }),
    createdAt: t.field({ type: "DateTime", required: true }),
    keyId: t.string({ required: true }),
    signature: t.string({ required: true }),
  }),
});

builder.queryFields((t) => ({
  checkpointPublicKey: t.field({
    type: CheckpointPublicKeyRef,
    nullable: true,
    description: "The checkpoint signing key's public half; null when the server has no signing key.",
    authScopes: { authenticated: true },
    resolve: (_root, _args, ctx) => checkpointKeyDocument(ctx.signer),
  }),
}));

builder.mutationFields((t) => ({
  createCheckpoint: t.field({
    type: SignedCheckpointRef,
    description:
      "Sign the current chain head (newest seq and hash, chain id, now). Fails with BAD_USER_INPUT on an empty " +
      "chain and NOT_CONFIGURED when the server has no signing key.",
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => createCheckpoint(ctx),
  }),
}));

/**
 * Chain integrity: ChainVerification and ChainHead with `verifyChain` and `chainHead`.
 */
import type { ChainVerification } from "../../chain/verify.js";
import { chainHead, verifyChain, verifyTrace } from "../../app/verify.js";
import { storableIdentifier } from "../../errors.js";
import type { ChainHead } from "../../stores/trace-store.js";
import { builder } from "../builder.js";
import { SignedCheckpointInput } from "./Checkpoint.js";
import { VerificationFailureKindEnum } from "./enums.js";

const ChainVerificationRef = builder.objectRef<ChainVerification>("ChainVerification").implement({
  description: "The result of walking the chain and recomputing every record's HMAC.",
  fields: (t) => ({
    ok: t.exposeBoolean("ok"),
    checked: t.field({
      type: "SafeInt",
      description: "Records verified; on failure, the 1-based position of the failing record.",
      resolve: (v) => v.checked,
    }),
    firstBadSeq: t.field({ type: "SafeInt", nullable: true, resolve: (v) => v.firstBadSeq }),
    kind: t.field({ type: VerificationFailureKindEnum, nullable: true, resolve: (v) => v.kind }),
    detail: t.exposeString("detail"),
  }),
});

const ChainHeadRef = builder.objectRef<ChainHead>("ChainHead").implement({
  description: "Where the next record will attach.",
  fields: (t) => ({
    nextSeq: t.field({ type: "SafeInt", resolve: (h) => h.nextSeq }),
    headHash: t.exposeString("headHash", { description: "recordHash of the newest record (64 zeros when empty)." }),
    keyId: t.exposeString("keyId", {
      nullable: true,
      description:
        "Key id of the HMAC secret new records are hashed with: the first 16 hex characters of " +
        "HMAC-SHA256(secret, 'tracegate chain key id v1'). Null until a gateway first opened the chain.",
    }),
  }),
});

builder.queryFields((t) => ({
  verifyChain: t.field({
    type: ChainVerificationRef,
    description:
      "Recompute and check every record's link and HMAC in seq order (streamed, constant memory), " +
      "that indexed columns match the hashed payload, and that no record the head vouches for is missing.",
    args: {
      fromSeq: t.arg({ type: "SafeInt" }),
      toSeq: t.arg({ type: "SafeInt" }),
      checkpoint: t.arg({
        type: SignedCheckpointInput,
        description:
          "A checkpoint from createCheckpoint, kept outside the gateway: also report TRUNCATED if records it " +
          "vouches for were cut off (head rewound), MUTATED if they were rewritten, CHECKPOINT_INVALID if it " +
          "does not verify under this server's key.",
      }),
    },
    // The whole chain spans every principal: closed to a principal-scoped key.
    authScopes: { $all: { "traces:read": true, allPrincipals: true } },
    resolve: (_root, args, ctx) => verifyChain(args, ctx),
  }),
  verifyTrace: t.field({
    type: ChainVerificationRef,
    nullable: true,
    description:
      "Check one trace's record where it stands: its link to the record before it, its recomputed HMAC, its " +
      "indexed columns, and that the record after it links to it. Null when no trace with this actionId is " +
      "visible to the key (as `trace` answers). Open to principal-scoped keys: neighbours are compared by hash only.",
    args: { actionId: t.arg.string({ required: true }) },
    authScopes: { "traces:read": true },
    resolve: (_root, args, ctx) => verifyTrace(storableIdentifier(args.actionId, "actionId"), ctx),
  }),
  chainHead: t.field({
    type: ChainHeadRef,
    authScopes: { $all: { "traces:read": true, allPrincipals: true } },
    resolve: (_root, _args, ctx) => chainHead(ctx),
  }),
}));

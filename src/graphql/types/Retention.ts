/**
 * Retention: `pruneTraces` and the `pruneCheckpoint` it leaves behind.
 */
import { pruneTraces, type PruneResult } from "../../app/retention.js";
import type { PruneCheckpointRecord } from "../../stores/trace-store.js";
import { builder } from "../builder.js";
import { TraceRef } from "./Trace.js";

const PruneCheckpointRef = builder.objectRef<PruneCheckpointRecord>("PruneCheckpoint").implement({
  description:
    "The newest pruned record, authenticated with the chain secret: verifyChain starts the chain " +
    "here and reports CHECKPOINT_INVALID if it was edited or forged.",
  fields: (t) => ({
    seq: t.field({ type: "SafeInt", description: "seq of the newest pruned record.", resolve: (c) => c.seq }),
    recordHash: t.exposeString("recordHash", { description: "Its hash; the first kept record links to it." }),
    createdAt: t.field({ type: "DateTime", resolve: (c) => c.createdAtUs }),
    keyId: t.exposeString("keyId", { nullable: true, description: "Ed25519 key that also signed it, if any." }),
    signed: t.boolean({ resolve: (c) => c.signature !== null }),
  }),
});

const PruneResultRef = builder.objectRef<PruneResult>("PruneResult").implement({
  fields: (t) => ({
    pruned: t.field({ type: "SafeInt", description: "Records deleted by this call.", resolve: (r) => r.pruned }),
    checkpoint: t.field({ type: PruneCheckpointRef, nullable: true, resolve: (r) => r.checkpoint }),
    auditTrace: t.field({ type: TraceRef, description: "The chain record that logged this prune.", resolve: (r) => r.auditTrace }),
  }),
});

builder.queryFields((t) => ({
  pruneCheckpoint: t.field({
    type: PruneCheckpointRef,
    nullable: true,
    description: "The retention checkpoint, or null when nothing was ever pruned.",
    authScopes: { $all: { "traces:read": true, allPrincipals: true } },
    resolve: (_root, _args, ctx) => ctx.stores.traces.pruneCheckpoint(),
  }),
}));

builder.mutationFields((t) => ({
  pruneTraces: t.field({
    type: PruneResultRef,
    description:
      "Delete a seq prefix of the chain: every record below `beforeSeq`, or (with `before`) every record " +
      "up to the first one, in seq order, that is not older than `before` — never a record newer than one " +
      "that is kept, so skewed clocks cannot break the chain. Leaves an authenticated checkpoint.",
    args: { beforeSeq: t.arg({ type: "SafeInt" }), before: t.arg({ type: "DateTime" }) },
    authScopes: { admin: true },
    resolve: (_root, args, ctx) => pruneTraces(args, ctx),
  }),
}));

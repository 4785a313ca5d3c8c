/**
 * Retention: pruneTraces deletes a seq prefix (by seq, or up to the first record not older
 * than an instant) and leaves an authenticated checkpoint, recorded as an audit trace in
 * the same transaction. The scheduled sweep (TRACEGATE_RETENTION) is the same operation
 * with the actor `retention`.
 */
import { checkpointMessage, type CheckpointMac, PRUNE_CHECKPOINT_TYPE } from "../chain/checkpoint.js";
import type { JsonObject } from "../chain/json.js";
import type { EpochMicros } from "../chain/time.js";
import { formatIsoMicros } from "../chain/time.js";
import { badUserInput } from "../errors.js";
import type { Caller } from "./caller.js";
import type { CheckpointSigner } from "./signing-key.js";
import type { CheckpointSealer, PruneCut, PruneOutcome, TraceRow, TraceStore } from "../stores/trace-store.js";
import { type AdminActor, adminTrace } from "./admin-trace.js";

export interface PruneTracesArgs {
  /** Delete every record with a lower seq. */
  beforeSeq?: number | null;
  /** Delete records older than this, stopping at the first (in seq order) that is not. */
  before?: EpochMicros | null;
}

/** What pruneTraces returns: the outcome and the chain record that logged it. */
export interface PruneResult extends PruneOutcome {
  auditTrace: TraceRow;
}

/**
 * A sealer that MACs prune checkpoints with the chain secret and, with a signing key, also
 * signs them. The signature is an ordinary signed checkpoint ("record S had hash H in
 * this chain"), which is exactly what a prune checkpoint states.
 */
export function checkpointSealer(mac: CheckpointMac, signer?: CheckpointSigner): CheckpointSealer {
  return (fields) => {
    const keyId = signer?.keyId ?? null;
    return {
      mac: mac(checkpointMessage(PRUNE_CHECKPOINT_TYPE, fields, keyId)),
      keyId,
      signature: signer ? signer.sign(fields).signature : null,
    };
  };
}

/**
 * Prune a prefix on behalf of `actor`.
 * @param nowUs the present (epoch microseconds): a time cut may not be later
 * @throws BAD_USER_INPUT for a cut beyond the chain (beforeSeq past its next seq) or in the
 *   future: such a cut is a typo (2062 for 2026) that would delete the whole chain at once
 */
export async function prune(
  traces: TraceStore,
  seal: { mac: CheckpointMac; signer?: CheckpointSigner | undefined },
  actor: AdminActor,
  cut: PruneCut,
  nowUs: EpochMicros = Date.now() * 1000,
): Promise<PruneResult> {
  if ("beforeUs" in cut && cut.beforeUs > nowUs) {
    throw badUserInput(`before ${formatIsoMicros(cut.beforeUs)} is in the future; a prune deletes only records older than a past instant.`, "before");
  }
  if ("beforeSeq" in cut) {
    const { nextSeq } = await traces.head();
    if (cut.beforeSeq > nextSeq) {
      throw badUserInput(`beforeSeq ${cut.beforeSeq} is beyond the chain, whose next seq is ${nextSeq}: at most beforeSeq ${nextSeq} (the whole chain).`, "beforeSeq");
    }
  }
  const args: JsonObject = "beforeSeq" in cut ? { beforeSeq: BigInt(cut.beforeSeq) } : { before: formatIsoMicros(cut.beforeUs) };
  const { outcome, trace } = await traces.prune(cut, checkpointSealer(seal.mac, seal.signer), (o) =>
    adminTrace(actor, "pruneTraces", args, {
      pruned: BigInt(o.pruned),
      checkpointSeq: o.checkpoint ? BigInt(o.checkpoint.seq) : null,
    }),
  );
  return { ...outcome, auditTrace: trace };
}

/** pruneTraces(beforeSeq | before). */
export function pruneTraces(args: PruneTracesArgs, ctx: Caller): Promise<PruneResult> {
  const bySeq = args.beforeSeq != null;
  const byTime = args.before != null;
  if (bySeq === byTime) throw badUserInput("Pass exactly one of 'beforeSeq' and 'before'.", bySeq ? "before" : "beforeSeq");
  if (bySeq && args.beforeSeq! < 0) throw badUserInput("beforeSeq must not be negative.", "beforeSeq");
  const cut: PruneCut = bySeq ? { beforeSeq: args.beforeSeq! } : { beforeUs: args.before! };
  return prune(ctx.stores.traces, { mac: ctx.checkpointMac, signer: ctx.signer }, { keyId: ctx.viewer.keyId }, cut);
}

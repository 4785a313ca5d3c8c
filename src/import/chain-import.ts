/**
 * Writing a verified weaver-kernel store into tracegate's chain, inside one chain write
 * (src/stores/chain-writer.ts), so the chain lock, the key check, hashing and the head update
 * are the store's and nothing here touches the database directly. `tracegate import`
 * (src/cli/import.ts) verifies the store first and reports what this did.
 */
import { checkpointMessage, createCheckpointMac, PRUNE_CHECKPOINT_TYPE } from "../chain/checkpoint.js";
import type { RecordHasher } from "../chain/hash.js";
import { ChainLinkError, type ChainWrite } from "../stores/chain-writer.js";
import { type ChainHead, type CheckpointSealer, DuplicateActionIdError, type PruneCheckpointRecord } from "../stores/trace-store.js";
import { ImportError, type ProgressTick, type ReferenceStore, type StoreSummary, type VerifiedRecord, verifiedRecords } from "./reference-store.js";

/** Records per chain-write call (bounds memory and paces progress; the writer chunks its SQL itself). */
const BATCH = 1_000;

/** `kept`: original seq, prev_hash and record_hash; `rechained`: new ones after tracegate's head. */
export type ImportMode = "kept" | "rechained";

/** What writeImport needs: the verified store and how it was verified. */
export interface ImportContext {
  source: ReferenceStore;
  /** The first verification pass; the write re-verifies and must see the same records. */
  summary: StoreSummary;
  /** Hasher of the store's secret. */
  importHash: RecordHasher;
  /** Whether the store's secret is tracegate's chain secret. */
  sameSecret: boolean;
  /** The store's secret (seals the checkpoint of a pruned store kept as it is). */
  secret: string;
}

/** What writeImport did. */
export interface ImportOutcome {
  mode: ImportMode;
  /** Why the records were re-chained; null when kept. */
  reason: string | null;
  /** The seq the first record got in tracegate's chain. */
  firstNewSeq: number;
  imported: number;
}

/** Why the import cannot keep the original chain, or null when it can. */
export function rechainReason(head: ChainHead, checkpoint: PruneCheckpointRecord | null, sameSecret: boolean): string | null {
  if (head.nextSeq !== 0) return `tracegate's chain is not empty (next seq ${head.nextSeq})`;
  if (checkpoint) return "tracegate's chain was pruned (it has a prune checkpoint)";
  if (!sameSecret) return "the store's secret is not tracegate's chain secret (TRACEGATE_HMAC_SECRET)";
  return null;
}

/**
 * The store's own checkpoint was not authenticated
 * (docs/reference-compatibility.md#known-weaknesses); the chain it vouches for verified, so
 * tracegate seals it now under the (same) secret, with a MAC only.
 */
function macSealer(secret: string): CheckpointSealer {
  const mac = createCheckpointMac(secret);
  return (fields) => ({ mac: mac(checkpointMessage(PRUNE_CHECKPOINT_TYPE, fields, null)), keyId: null, signature: null });
}

/**
 * Inside one chain write (chain lock held): decide the mode from the head, then re-verify the
 * store and write every record. Kept: the writer checks that each record links and that
 * tracegate's own secret reproduces its hash. Re-chained: the writer assigns new seqs and
 * hashes after tracegate's head. `tick` hears the count of records written so far.
 * @throws ImportError (an action id already stored, a record that does not link, the store
 *   changed since `summary`) and ChainImportError (a record fails re-verification); the
 *   chain write then rolls back, so nothing is imported.
 */
export async function writeImport(chain: ChainWrite, ctx: ImportContext, tick: ProgressTick): Promise<ImportOutcome> {
  const { head } = chain;
  const reason = rechainReason(head, await chain.pruneCheckpoint(), ctx.sameSecret);
  const keep = reason === null;
  const origin = ctx.source.origin;
  if (keep && origin.firstSeq > 0) {
    await chain.startAfter({ seq: origin.firstSeq - 1, recordHash: origin.prevHash }, macSealer(ctx.secret));
  }

  let count = 0;
  let lastOriginalHash: string | null = null;
  let batch: VerifiedRecord[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    try {
      if (keep) {
        await chain.appendLinked(batch.map(({ columns, seq, prevHash, recordHash, payload }) => ({ ...columns, seq, prevHash, recordHash, payload })));
      } else {
        await chain.append(batch.map(({ columns, payload }) => ({ columns, payload })), "refuse");
      }
    } catch (e) {
      if (e instanceof DuplicateActionIdError) {
        throw new ImportError(`action_id '${e.actionIds[0]}' is already in tracegate's chain; nothing was imported.`);
      }
      if (e instanceof ChainLinkError) throw new ImportError(`${e.message}; nothing was imported.`);
      throw e;
    }
    batch = [];
  };

  for await (const r of verifiedRecords(ctx.source, ctx.importHash)) {
    lastOriginalHash = r.recordHash;
    batch.push(r);
    count += 1;
    if (batch.length >= BATCH) await flush();
    tick(count);
  }
  await flush();
  if (count !== ctx.summary.records || lastOriginalHash !== ctx.summary.lastHash) {
    throw new ImportError("the store changed while it was being imported; nothing was imported. Run the import again.");
  }
  const firstNewSeq = keep ? (ctx.summary.firstSeq ?? origin.firstSeq) : head.nextSeq;
  return { mode: keep ? "kept" : "rechained", reason, firstNewSeq, imported: count };
}

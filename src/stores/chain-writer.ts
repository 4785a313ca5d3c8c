/**
 * The chain-writer port: the one way anything writes to the hash chain. Ingest, the audit
 * trace of an administrative change, `tracegate import` (original hashes kept, or
 * re-chained), prune and its checkpoint all run as a ChainWriter.write: one transaction
 * holding the chain lock, in which the writer reads the head, checks the chain key, assigns
 * seqs, hashes (or checks that given hashes link), inserts records and checkpoints, and
 * finally moves the head. Nothing else in the code base does any of these.
 *
 * Implementation: src/stores/prisma/prisma-chain-writer.ts (SQLite and PostgreSQL).
 */
import type { EncodedTrace } from "../chain/trace.js";
import type { ChainHead, CheckpointSealer, PruneCheckpointRecord, PruneCut, PruneOutcome, TraceRow } from "./trace-store.js";

/**
 * What ChainWrite.append does with a trace whose action id is already stored.
 * - `idempotent`: byte-identical content is acknowledged (the stored record is returned and
 *   nothing is appended: retries and re-shipped files); other content is refused.
 * - `refuse`: any stored action id is refused, identical or not. For writes that must add a
 *   new record or none (an administrative change's audit trace, an import).
 * A refusal is a DuplicateActionIdError (src/stores/trace-store.ts) and rolls the whole
 * write back.
 */
export type StoredActionIds = "idempotent" | "refuse";

/** Where a chain point is: the seq of a record and its record hash. */
export interface ChainPoint {
  seq: number;
  recordHash: string;
}

/**
 * One chain write in progress, handed to the work of ChainWriter.write. Every method runs in
 * the write's transaction under the chain lock; its effects commit together when the work
 * returns, or not at all when anything throws.
 */
export interface ChainWrite {
  /**
   * The head as the lock found it, after the key check (so `keyId` is the writer's own).
   * Not moved by this write's appends: the head is updated once, when the work returns.
   */
  readonly head: ChainHead;
  /**
   * Append traces after the current end of the chain: seqs and record hashes are assigned
   * here, with the store's own secret, and every action id is looked up once among the
   * stored records (see StoredActionIds). Returns one record per trace, in input order: the
   * new record, or under `idempotent` the stored one it matched.
   * @throws DuplicateActionIdError (nothing of the write commits).
   */
  append(traces: readonly EncodedTrace[], stored: StoredActionIds): Promise<TraceRow[]>;
  /**
   * Append records that keep their seq, prevHash and recordHash (an import of a chain the
   * same secret wrote). Each must continue the chain exactly: its seq the next one, its
   * prevHash the record hash before it, and its recordHash what the store's secret computes.
   * Action ids already stored are refused as under `refuse`.
   * @throws ChainLinkError for the first record that does not continue the chain.
   * @throws DuplicateActionIdError
   */
  appendLinked(records: readonly TraceRow[]): Promise<void>;
  /**
   * Let an empty chain (no record ever appended) continue after `origin`, as a pruned chain
   * would: store an authenticated prune checkpoint for it, sealed by `seal`, and make
   * origin.seq + 1 the next seq and origin.recordHash the next prevHash. Used by an import of
   * a store the reference had pruned. Returns the checkpoint.
   * @throws ChainLinkError when the chain is not empty or origin.seq is negative.
   */
  startAfter(origin: ChainPoint, seal: CheckpointSealer): Promise<PruneCheckpointRecord>;
  /**
   * Delete the seq prefix `cut` chooses and replace the prune checkpoint with one, sealed by
   * `seal`, for the newest deleted record. Never deletes a record newer than one it keeps.
   * Returns how many records went and the checkpoint in force afterwards.
   */
  prune(cut: PruneCut, seal: CheckpointSealer): Promise<PruneOutcome>;
  /** The prune checkpoint in force, as this write sees it; null when the chain was never pruned. */
  pruneCheckpoint(): Promise<PruneCheckpointRecord | null>;
}

/**
 * Runs chain writes. `W` is the write handle the implementation gives its work; TraceStore
 * users see a plain ChainWrite, an implementation's sibling stores (revocations) may be given
 * more (src/stores/prisma/prisma-chain-writer.ts).
 */
export interface ChainWriter<W extends ChainWrite = ChainWrite> {
  /**
   * Run `work` as one chain write (see the module comment) and return its result once the
   * transaction committed. Writes of one process run one at a time; a write that lost the
   * lock to another process is retried whole, so `work` may run more than once and must
   * touch nothing outside the write handle. Listeners of TraceStore.onAppended hear the
   * appended records after the commit.
   * @throws whatever `work` throws (nothing is written), ChainKeyMismatchError,
   *   StoreUnavailableError (the database cannot commit), ChainWriteTimeoutError.
   */
  write<R>(work: (chain: W) => Promise<R>): Promise<R>;
}

/**
 * A record that does not continue the chain where ChainWrite.appendLinked or startAfter
 * would put it. Nothing of the write was stored.
 */
export class ChainLinkError extends Error {
  override name = "ChainLinkError";
  constructor(
    /** seq of the refused record (for startAfter: of the origin). */
    readonly seq: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A chain write that outlived the database transaction's time limit and was rolled back:
 * nothing of it was stored. Only writes that carry a great many records get near the limit.
 */
export class ChainWriteTimeoutError extends Error {
  override name = "ChainWriteTimeoutError";
  constructor(
    /** The transaction's time limit, in milliseconds. */
    readonly limitMs: number,
    options?: { cause?: unknown },
  ) {
    super(`the chain write did not finish within the transaction limit (${limitMs / 1000} s) and was rolled back`, options);
  }
}

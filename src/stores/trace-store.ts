/**
 * The persistence contract for the hash chain. Implementations: Prisma on SQLite (and on
 * PostgreSQL), each in src/stores/prisma/. Use cases never see an implementation: they
 * receive a TraceStore through their Caller (src/app/caller.ts), confined to the caller's
 * principals (src/stores/scoped-trace-store.ts).
 */
import type { PrincipalScope } from "../access/scopes.js";
import type { ChainWriter } from "./chain-writer.js";
import type { RecordHasher } from "../chain/hash.js";
import { ConfigError } from "../config.js";
import type { EncodedTrace, EventType, TraceColumns, TraceStatus } from "../chain/trace.js";
import type { ChainRecord } from "../chain/verify.js";
import type { EpochMicros } from "../chain/time.js";

/** One stored chain record with its filter columns. */
export interface TraceRow extends TraceColumns {
  seq: number;
  prevHash: string;
  recordHash: string;
  /** Canonical JSON of the trace, exactly as hashed. */
  payload: string;
}

/** Equality filters AND-ed together; the time window is [sinceUs, untilUs). */
export interface TraceFilter {
  principalId?: string;
  /** Any of these principal ids (an empty list matches nothing). */
  principalIds?: readonly string[];
  /** Principal ids starting with this text, compared by code point (no wildcards: `%` and `_` are text). */
  principalPrefix?: string;
  capabilityId?: string;
  /** Any of these capability ids (an empty list matches nothing). */
  capabilityIds?: readonly string[];
  /** Capability ids starting with this text (e.g. `astrocyte.`), compared by code point. */
  capabilityPrefix?: string;
  eventType?: EventType;
  status?: TraceStatus;
  reasonCode?: string;
  sinceUs?: EpochMicros;
  untilUs?: EpochMicros;
  /**
   * Tenant isolation: only traces of these principals exist for this query. Applied in the
   * SQL itself, so pages, counts and cursors can never reach past it.
   */
  principals?: PrincipalScope;
}

/** Chain order (seq) or time order ((invokedAtUs, seq) keyset). */
export type TraceOrder = "SEQ_ASC" | "SEQ_DESC" | "INVOKED_AT_ASC" | "INVOKED_AT_DESC";

/** A position in an order: seq, plus invokedAtUs for the time orders. */
export interface Keyset {
  seq: number;
  invokedAtUs?: EpochMicros;
}

/** One keyset page request. */
export interface PageQuery {
  filter: TraceFilter;
  order: TraceOrder;
  /** Only rows strictly after this position in `order`. */
  after?: Keyset;
  /** Only rows strictly before this position in `order`. */
  before?: Keyset;
  limit: number;
  /** Walk backwards from `before` (rows come back in reverse `order`). */
  inverted?: boolean;
}

/** The chain head: what the next append links to. */
export interface ChainHead {
  nextSeq: number;
  headHash: string;
  /** Random id of this chain (set by the migration), part of every checkpoint. */
  chainId: string;
  /**
   * Key id of the HMAC secret new records are hashed with (src/chain/hash.ts chainKeyId);
   * null on a chain no gateway has opened for writing since key ids exist.
   */
  keyId: string | null;
}

/** What checking a secret against the chain found (src/stores/prisma/chain-key.ts). */
export type ChainKeyVerdict =
  /** The stored key id is the secret's. */
  | { kind: "match"; keyId: string }
  /** No key id stored yet, and the secret fits: the chain is empty, or its newest record (verifiedSeq) verifies. */
  | { kind: "unrecorded"; keyId: string; verifiedSeq: number | null }
  /** Another secret: writing with it would fork the chain. */
  | { kind: "mismatch"; error: ChainKeyMismatchError };

/**
 * The configured HMAC secret is not the chain's: a refusal to write (and to start), since
 * every record appended with it would fail verification for ever. A ConfigError, because
 * the remedy is configuration: set the secret the chain was written with.
 */
export class ChainKeyMismatchError extends ConfigError {
  override name = "ChainKeyMismatchError";
  constructor(
    /** The chain's key id; null on a chain from before key ids. */
    readonly storedKeyId: string | null,
    readonly configuredKeyId: string,
    /** For a chain without a key id: why the secret does not fit it. */
    why?: string,
  ) {
    super(
      storedKeyId === null
        ? `The HMAC secret (key id ${configuredKeyId}) is not this chain's: ${why ?? "it does not verify"}; ` +
            "the chain predates key ids (stored key id: none). Refusing to write, which would fork the chain: " +
            "set TRACEGATE_HMAC_SECRET to the secret the chain was written with."
        : `The HMAC secret (key id ${configuredKeyId}) is not this chain's (stored key id ${storedKeyId}). ` +
            "Refusing to write, which would fork the chain: set TRACEGATE_HMAC_SECRET to the secret the chain was written with.",
    );
  }
}

/** Inclusive seq range for scans; open ends mean "from the first" / "to the last". */
export interface SeqRange {
  fromSeq?: number;
  toSeq?: number;
}

/** A column traceStats can group by. */
export type StatsDimension = "eventType" | "status" | "reasonCode" | "principalId" | "capabilityId";

/** One group of traceStats: the grouped values (only those asked for) and the count. */
export interface StatsGroup {
  count: number;
  eventType?: string;
  status?: string;
  reasonCode?: string | null;
  principalId?: string;
  capabilityId?: string;
  /** Start of the time bucket, when grouping by time. */
  bucketStartUs?: EpochMicros;
}

/** Which seq prefix to prune: below a seq, or up to the first record not older than an instant. */
export type PruneCut = { beforeSeq: number } | { beforeUs: EpochMicros };

/**
 * The authenticated record of the newest pruned record
 * (docs/security-model.md#prune-checkpoints).
 */
export interface PruneCheckpointRecord {
  /** seq of the newest pruned record; the chain continues at seq + 1. */
  seq: number;
  /** Its record hash: the prevHash of the first kept record. */
  recordHash: string;
  createdAtUs: EpochMicros;
  /** HMAC under the chain secret over the checkpoint message (src/chain/checkpoint.ts). */
  mac: string;
  keyId: string | null;
  signature: string | null;
}

/** What a prune did. */
export interface PruneOutcome {
  pruned: number;
  /** The checkpoint now in force (unchanged when nothing was pruned; null if never pruned). */
  checkpoint: PruneCheckpointRecord | null;
}

/** Seals a new prune checkpoint: the MAC, and a signature when a signing key is set. */
export type CheckpointSealer = (fields: { chainId: string; seq: number; headHash: string; createdAtUs: EpochMicros }) => {
  mac: string;
  keyId: string | null;
  signature: string | null;
};

/** An append refused because these action ids are stored with other content. Nothing was written. */
export class DuplicateActionIdError extends Error {
  override name = "DuplicateActionIdError";
  constructor(
    readonly actionIds: string[],
    /**
     * The principal of each stored trace, parallel to actionIds, so the caller can tell a
     * collision inside a writer's principal scope from one with another tenant's trace,
     * whose id it must not echo (issue 14, case 10).
     */
    readonly storedPrincipals: string[],
  ) {
    super(`action_id already present in the store: ${actionIds.slice(0, 10).join(", ")}`);
  }
}

/**
 * A write the database could not commit for a reason outside the write itself: disk full,
 * an I/O error, a lost connection. Nothing of it was stored, the store is ready for the next
 * write, and the same write may succeed once the fault is gone.
 */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
  constructor(readonly reason: string, options?: { cause?: unknown }) {
    super(`the database cannot commit writes: ${reason}`, options);
  }
}

/** Whether writes commit (see TraceStore.writeHealth). */
export type WriteHealth = { ok: true } | { ok: false; reason: string };

/** The hash-chained trace store. */
export interface TraceStore {
  /**
   * Every write to the chain goes through this port (src/stores/chain-writer.ts): append and
   * prune below are single writes on it, and `tracegate import` writes with it directly.
   */
  readonly chain: ChainWriter;
  /**
   * Append a batch in one transaction: seqs and hashes are assigned under the chain lock,
   * so concurrent appends never fork the chain. All or nothing. A trace already stored with
   * byte-identical content is acknowledged (its stored record is returned) rather than
   * appended twice, so retries and re-shipped files are idempotent. Returns the records
   * in input order.
   * @throws DuplicateActionIdError when an action id is stored with different content.
   * @throws StoreUnavailableError when the database cannot commit (nothing was stored).
   */
  append(traces: readonly EncodedTrace[]): Promise<TraceRow[]>;
  /** One keyset page, index-backed for every filter and order. */
  page(query: PageQuery): Promise<TraceRow[]>;
  /** Number of traces matching a filter. */
  count(filter: TraceFilter): Promise<number>;
  /**
   * Counts of matching traces grouped by columns and optionally by time bucket, computed in
   * the database; largest groups first (ties in group order), at most `limit` groups.
   */
  stats(filter: TraceFilter, groupBy: readonly StatsDimension[], bucketUs: number | null, limit: number): Promise<StatsGroup[]>;
  /** The trace with this action id, if it exists and lies inside `principals`. */
  findByActionId(actionId: string, principals?: PrincipalScope): Promise<TraceRow | null>;
  /** The traces with these seqs that exist and lie inside `principals`. */
  findBySeqs(seqs: readonly number[], principals?: PrincipalScope): Promise<TraceRow[]>;
  /** The current head (nextSeq 0 and the genesis hash when empty). */
  head(): Promise<ChainHead>;
  /**
   * Check the store's own secret against the chain and, on a chain without a key id, record
   * it (empty chain, or the newest record verifies). Call before serving writes; every
   * append checks again inside its transaction. Returns the key id.
   * @throws ChainKeyMismatchError when the secret is not the chain's.
   */
  claimChainKey(): Promise<string>;
  /** Check a secret's hasher against the chain without writing anything (doctor). */
  checkChainKey(hash: RecordHasher): Promise<ChainKeyVerdict>;
  /** The lowest stored seq, or null when the chain has no records. */
  firstSeq(): Promise<number | null>;
  /** Only the chained fields (seq, hashes, payload) in seq order: the verifier's fast path. */
  scanChain(range: SeqRange, batchSize?: number): AsyncIterable<ChainRecord>;
  /** scanChain in batches of up to `batchSize` records (the last may be shorter; none is empty). */
  scanChainBatches(range: SeqRange, batchSize?: number): AsyncIterable<ChainRecord[]>;
  /**
   * Seqs in `range`, ascending, whose indexed columns may disagree with their payload,
   * checked inside the database. A superset test: callers confirm each candidate.
   */
  columnMismatchCandidates(range: Required<SeqRange>, limit: number): Promise<number[]>;
  /**
   * Delete a seq prefix and store its authenticated checkpoint, holding the chain lock, and
   * append the audit trace `audit` builds from the outcome — all in one transaction. Never
   * deletes a record newer than one it keeps, so the rest of the chain stays verifiable.
   */
  prune(cut: PruneCut, seal: CheckpointSealer, audit: (outcome: PruneOutcome) => EncodedTrace): Promise<{ outcome: PruneOutcome; trace: TraceRow }>;
  /**
   * Call `listener` with every batch of records this store appended, after its transaction
   * committed, in seq order. Returns a function that removes the listener.
   */
  onAppended(listener: (rows: readonly TraceRow[]) => void): () => void;
  /** The stored prune checkpoint, or null when the chain was never pruned. */
  pruneCheckpoint(): Promise<PruneCheckpointRecord | null>;
  /**
   * Whether writes commit. Healthy until a write fails with StoreUnavailableError; from then
   * on each call tries an empty write (it locks the chain head and commits), and the first
   * write that commits, a probe or a real one, makes the store healthy again.
   */
  writeHealth(): Promise<WriteHealth>;
  close(): Promise<void>;
}

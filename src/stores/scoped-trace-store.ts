/**
 * The one principal-scope point (docs/architecture.md#one-scope-point). A caller's trace
 * store is made once, when the caller is made (src/app/caller.ts), from its key's principal
 * scope: every read that returns traces — pages, counts, stats, lookups by action id and by
 * seq — goes to the SQL with that scope, whatever filter the use case passes. A new query,
 * route or field that reads through the caller's store cannot forget the scope, and a filter
 * cannot widen it (the confinement replaces any `principals` a caller sets).
 *
 * Chain-level operations (head, scanChain, verification, prune, key checks) are about the
 * chain as a whole, not about whose traces it holds; they pass through unchanged, and the
 * GraphQL layer closes them to scoped keys (the `allPrincipals` auth scope).
 */
import { type PrincipalScope, principalInScope } from "../access/scopes.js";
import type { RecordHasher } from "../chain/hash.js";
import type { ChainWriter } from "./chain-writer.js";
import type { EncodedTrace } from "../chain/trace.js";
import type { ChainRecord } from "../chain/verify.js";
import type {
  ChainHead,
  ChainKeyVerdict,
  CheckpointSealer,
  PageQuery,
  PruneCheckpointRecord,
  PruneCut,
  PruneOutcome,
  SeqRange,
  StatsDimension,
  StatsGroup,
  TraceFilter,
  TraceRow,
  TraceStore,
  WriteHealth,
} from "./trace-store.js";

/** A trace store seen by one caller: reads are confined to `principals`. */
export interface ScopedTraceStore extends TraceStore {
  /** The principals this view is confined to; null = every principal. */
  readonly principals: PrincipalScope | null;
  /** Whether traces of this principal are visible (and writable) through this view. */
  admits(principalId: string): boolean;
}

/**
 * The view of `store` confined to `principals` (null: every principal, reads unchanged).
 * Cheap: one small object per caller, no I/O.
 */
export function confineTraces(store: TraceStore, principals: PrincipalScope | null): ScopedTraceStore {
  return new ConfinedTraceStore(store, principals);
}

class ConfinedTraceStore implements ScopedTraceStore {
  constructor(
    readonly inner: TraceStore,
    readonly principals: PrincipalScope | null,
  ) {}

  admits(principalId: string): boolean {
    return principalInScope(this.principals, principalId);
  }

  /** The filter with this view's scope in place of whatever scope the caller set. */
  #confined(filter: TraceFilter): TraceFilter {
    const { principals: _ignored, ...rest } = filter;
    return this.principals ? { ...rest, principals: this.principals } : rest;
  }

  page(query: PageQuery): Promise<TraceRow[]> {
    return this.inner.page({ ...query, filter: this.#confined(query.filter) });
  }
  count(filter: TraceFilter): Promise<number> {
    return this.inner.count(this.#confined(filter));
  }
  stats(filter: TraceFilter, groupBy: readonly StatsDimension[], bucketUs: number | null, limit: number): Promise<StatsGroup[]> {
    return this.inner.stats(this.#confined(filter), groupBy, bucketUs, limit);
  }
  findByActionId(actionId: string): Promise<TraceRow | null> {
    return this.inner.findByActionId(actionId, this.principals ?? undefined);
  }
  findBySeqs(seqs: readonly number[]): Promise<TraceRow[]> {
    return this.inner.findBySeqs(seqs, this.principals ?? undefined);
  }

  // Writes and chain-level operations: the chain is one, whoever asks.
  get chain(): ChainWriter {
    return this.inner.chain;
  }
  append(traces: readonly EncodedTrace[]): Promise<TraceRow[]> {
    return this.inner.append(traces);
  }
  head(): Promise<ChainHead> {
    return this.inner.head();
  }
  claimChainKey(): Promise<string> {
    return this.inner.claimChainKey();
  }
  checkChainKey(hash: RecordHasher): Promise<ChainKeyVerdict> {
    return this.inner.checkChainKey(hash);
  }
  firstSeq(): Promise<number | null> {
    return this.inner.firstSeq();
  }
  scanChain(range: SeqRange, batchSize?: number): AsyncIterable<ChainRecord> {
    return this.inner.scanChain(range, batchSize);
  }
  scanChainBatches(range: SeqRange, batchSize?: number): AsyncIterable<ChainRecord[]> {
    return this.inner.scanChainBatches(range, batchSize);
  }
  columnMismatchCandidates(range: Required<SeqRange>, limit: number): Promise<number[]> {
    return this.inner.columnMismatchCandidates(range, limit);
  }
  prune(cut: PruneCut, seal: CheckpointSealer, audit: (outcome: PruneOutcome) => EncodedTrace) {
    return this.inner.prune(cut, seal, audit);
  }
  onAppended(listener: (rows: readonly TraceRow[]) => void): () => void {
    return this.inner.onAppended(listener);
  }
  pruneCheckpoint(): Promise<PruneCheckpointRecord | null> {
    return this.inner.pruneCheckpoint();
  }
  writeHealth(): Promise<WriteHealth> {
    return this.inner.writeHealth();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * Group commit of idempotent appends (TraceStore.append): appends that arrive while a chain
 * write is running or queued join one group, and the group goes in as one chain write, one
 * transaction (PrismaChainWrite.appendEach). One-trace-per-call clients thus pay one head
 * lock, one duplicate lookup and one commit (one fsync) per group instead of per trace, and
 * on PostgreSQL fewer, larger transactions wait on the chain-head row.
 *
 * Each caller's outcome is what its append alone would give, as if the group's members had
 * run one after another in arrival order: its own records (new, or acknowledged stored ones),
 * or its own DuplicateActionIdError. A member refused for duplicates adds nothing and the
 * others still commit. Should the group's write fail as a whole (a storage fault, a unique
 * violation from a batch repeating an action id within itself, a timeout), nothing of it was
 * stored and every member is run again alone, so one caller's bad batch never fails
 * another's. Listeners hear a group once, after its commit, in seq order, as any write.
 *
 * No timer: a group starts its chain write at once and closes when that write's work begins,
 * so a lone caller waits for nothing but the writes already queued.
 */
import type { EncodedTrace } from "../../chain/trace.js";
import type { TraceRow } from "../trace-store.js";
import type { PrismaChainWriter } from "./prisma-chain-writer.js";

/**
 * Most traces one group carries: bounds the transaction's size and how long it holds the
 * chain lock (the same bound as one recordTraces call, src/app/ingest.ts MAX_BATCH).
 */
export const MAX_GROUP_TRACES = 5_000;

interface Member {
  traces: readonly EncodedTrace[];
  resolve: (rows: TraceRow[]) => void;
  reject: (e: unknown) => void;
}

interface Group {
  members: Member[];
  traces: number;
}

/** Coalesces concurrent idempotent appends on one chain writer (see the module comment). */
export class GroupCommit {
  readonly #chain: PrismaChainWriter;
  /** The group new appends join: its write is queued and its work has not begun. */
  #open: Group | undefined;

  constructor(chain: PrismaChainWriter) {
    this.#chain = chain;
  }

  /**
   * TraceStore.append through a group: resolves to the batch's records in input order once
   * the group committed. Throws what an append alone throws (DuplicateActionIdError,
   * StoreUnavailableError, ...).
   */
  append(traces: readonly EncodedTrace[]): Promise<TraceRow[]> {
    let group = this.#open;
    if (group === undefined || group.traces + traces.length > MAX_GROUP_TRACES) group = this.#start();
    group.traces += traces.length;
    return new Promise<TraceRow[]>((resolve, reject) => group.members.push({ traces, resolve, reject }));
  }

  #start(): Group {
    const group: Group = { members: [], traces: 0 };
    this.#open = group;
    this.#chain
      .write((chain) => {
        // Closed once its transaction holds the lock; a retried attempt runs the same members.
        if (this.#open === group) this.#open = undefined;
        return chain.appendEach(
          group.members.map((m) => m.traces),
          "idempotent",
        );
      })
      // A write can also end before its work began (a key mismatch, a fault at BEGIN): the
      // group closes here too, so no later append joins a group that has already ended.
      .finally(() => {
        if (this.#open === group) this.#open = undefined;
      })
      .then(
        (outcomes) =>
          group.members.forEach((m, i) => {
            const outcome = outcomes[i]!;
            if (outcome instanceof Error) m.reject(outcome);
            else m.resolve(outcome);
          }),
        (e: unknown) => {
          if (group.members.length === 1) return group.members[0]!.reject(e);
          // Nothing of the group was stored: each member alone, so a failure stays its own.
          for (const m of group.members) this.#chain.write((chain) => chain.append(m.traces, "idempotent")).then(m.resolve, m.reject);
        },
      );
    return group;
  }
}

/**
 * Record HMACs on worker threads, for verifying long ranges of the chain on every core: the
 * main thread reads records and checks seqs and links, the pool recomputes the HMACs of whole
 * batches meanwhile. Only "which record is the first whose stored hash differs" comes back;
 * the verifier then checks that record itself, so its failure report is the same as without
 * the pool (src/chain/verify.ts).
 *
 * Workers start on first use and stop after IDLE_MS without work, and an idle pool never
 * keeps a process alive (src/worker-thread.ts).
 */
import { availableParallelism } from "node:os";
import type { RecordHasher } from "./hash.js";
import type { ChainRecord } from "./verify.js";
import { siblingModule, WorkerThread } from "../worker-thread.js";

/** One batch for a worker: the records' chained fields as parallel arrays. */
export interface HashJob {
  seqs: number[];
  prevHashes: string[];
  payloads: string[];
  recordHashes: string[];
}

/** A pool stops its workers after this long without a batch (ms). */
const IDLE_MS = 10_000;

/** Worker threads: one per core but one, leaving a core to the thread that reads the records. */
export function defaultPoolSize(): number {
  return Math.max(1, availableParallelism() - 1);
}

/** A pool of hash workers bound to one chain secret; batches go to them in turn. */
export class RecordHashPool {
  readonly #workers: WorkerThread<HashJob, number>[];
  #next = 0;

  /** @throws RangeError when `hasher` carries no key (it was not made by createRecordHasher). */
  constructor(hasher: RecordHasher, size = defaultPoolSize()) {
    if (!hasher.key) throw new RangeError("this hasher has no key to hand to worker threads");
    const entry = siblingModule(import.meta.url, "hash-worker");
    this.#workers = Array.from({ length: size }, () => new WorkerThread<HashJob, number>(entry, { key: hasher.key }, IDLE_MS));
  }

  /**
   * Index in `records` of the first record whose recordHash is not the HMAC of its seq,
   * prevHash and payload (or whose fields cannot be hashed at all), or -1 when every one
   * matches. Rejects only when a worker dies.
   */
  firstMismatch(records: readonly ChainRecord[]): Promise<number> {
    const worker = this.#workers[this.#next++ % this.#workers.length]!;
    return worker.request({
      seqs: records.map((r) => r.seq),
      prevHashes: records.map((r) => r.prevHash),
      payloads: records.map((r) => r.payload),
      recordHashes: records.map((r) => r.recordHash),
    });
  }

  /** Stop the workers now (they would stop by themselves after IDLE_MS). */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.close()));
  }
}

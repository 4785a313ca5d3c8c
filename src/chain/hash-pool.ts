/**
 * Record HMACs on worker threads, for verifying long ranges of the chain on every core: the
 * main thread reads records and checks seqs and links, the pool recomputes the HMACs of whole
 * batches meanwhile. Only "which record is the first whose stored hash differs" comes back;
 * the verifier then checks that record itself, so its failure report is the same as without
 * the pool (src/chain/verify.ts).
 *
 * Workers start on first use and stop after IDLE_MS without work; they are unref'd, so an
 * idle pool never keeps a process alive. The worker runs ./hash-worker.ts through tsx, the
 * loader the gateway itself runs with (src/ts-worker.mjs).
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { RecordHasher } from "./hash.js";
import type { ChainRecord } from "./verify.js";

/** One batch for a worker: the records' chained fields as parallel arrays. */
export interface HashJob {
  id: number;
  seqs: number[];
  prevHashes: string[];
  payloads: string[];
  recordHashes: string[];
}

/** A worker's answer: index of the first record whose stored hash is not its HMAC, or -1. */
export interface HashVerdict {
  id: number;
  firstMismatch: number;
}

/** A pool stops its workers after this long without a batch (ms). */
const IDLE_MS = 10_000;

/** Worker threads: one per core but one, leaving a core to the thread that reads the records. */
export function defaultPoolSize(): number {
  return Math.max(1, availableParallelism() - 1);
}

interface Slot {
  worker: Worker;
  waiting: Map<number, { resolve: (i: number) => void; reject: (e: unknown) => void }>;
}

/** A pool of hash workers bound to one chain secret. */
export class RecordHashPool {
  readonly #hasher: RecordHasher;
  readonly #size: number;
  #slots: Slot[] = [];
  #next = 0;
  #jobs = 0;
  #idle: NodeJS.Timeout | undefined;

  /** @throws RangeError when `hasher` carries no key (it was not made by createRecordHasher). */
  constructor(hasher: RecordHasher, size = defaultPoolSize()) {
    if (!hasher.key) throw new RangeError("this hasher has no key to hand to worker threads");
    this.#hasher = hasher;
    this.#size = size;
  }

  /**
   * Index in `records` of the first record whose recordHash is not the HMAC of its seq,
   * prevHash and payload (or whose fields cannot be hashed at all), or -1 when every one
   * matches. Rejects only when a worker dies.
   */
  firstMismatch(records: readonly ChainRecord[]): Promise<number> {
    const slot = this.#slot();
    const id = ++this.#jobs;
    const job: HashJob = {
      id,
      seqs: records.map((r) => r.seq),
      prevHashes: records.map((r) => r.prevHash),
      payloads: records.map((r) => r.payload),
      recordHashes: records.map((r) => r.recordHash),
    };
    return new Promise<number>((resolve, reject) => {
      slot.waiting.set(id, { resolve, reject });
      slot.worker.ref();
      slot.worker.postMessage(job);
    });
  }

  /** Stop the workers now (they would stop by themselves after IDLE_MS). */
  async close(): Promise<void> {
    clearTimeout(this.#idle);
    const slots = this.#slots;
    this.#slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  #slot(): Slot {
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => void this.close(), IDLE_MS);
    this.#idle.unref();
    if (this.#slots.length < this.#size) this.#slots.push(this.#start());
    const slot = this.#slots[this.#next++ % this.#slots.length]!;
    return slot;
  }

  #start(): Slot {
    const worker = new Worker(new URL("../ts-worker.mjs", import.meta.url), {
      workerData: { entry: new URL("./hash-worker.ts", import.meta.url).href, key: this.#hasher.key },
    });
    worker.unref();
    const slot: Slot = { worker, waiting: new Map() };
    worker.on("message", (verdict: HashVerdict) => {
      const waiter = slot.waiting.get(verdict.id);
      slot.waiting.delete(verdict.id);
      // A worker with nothing to do must not keep the process alive.
      if (slot.waiting.size === 0) worker.unref();
      waiter?.resolve(verdict.firstMismatch);
    });
    const fail = (e: unknown) => {
      this.#slots = this.#slots.filter((s) => s !== slot);
      for (const w of slot.waiting.values()) w.reject(e);
      slot.waiting.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`hash worker exited with code ${code}`)));
    return slot;
  }
}

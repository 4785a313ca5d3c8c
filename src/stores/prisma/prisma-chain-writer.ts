/**
 * The chain writer on Prisma (the port: src/stores/chain-writer.ts), for SQLite and
 * PostgreSQL alike. Every chain write of the process comes through PrismaChainWriter.write,
 * and this file holds, once each: the chain lock, the key check, the duplicate decision, seq
 * assignment and hashing, the check of records that keep their hashes, the record and
 * checkpoint inserts, and the head update.
 *
 * The lock (docs/architecture.md#append-lock-per-backend): the first statement of the
 * transaction updates the "ChainHead" row, which takes SQLite's write lock at once and locks
 * the row on PostgreSQL, so no two writers can read the same head and the chain never forks.
 *
 * One file: the writer and its write handle share the one duplicate decision and insert path,
 * and splitting them would spread the chain's invariants over several files.
 */
import { sqltag as sql } from "@prisma/client/runtime/client";
import { hashesEqual, type RecordHasher } from "../../chain/hash.js";
import type { EncodedTrace } from "../../chain/trace.js";
import {
  type ChainPoint,
  ChainLinkError,
  type ChainWrite,
  type ChainWriter,
  ChainWriteTimeoutError,
  type StoredActionIds,
} from "../chain-writer.js";
import {
  type ChainHead,
  type CheckpointSealer,
  DuplicateActionIdError,
  type PruneCheckpointRecord,
  type PruneCut,
  type PruneOutcome,
  StoreUnavailableError,
  type TraceRow,
  type WriteHealth,
} from "../trace-store.js";
import { claimChainKey } from "./chain-key.js";
import type { SqlDialect } from "./dialect.js";
import { storageFault } from "./faults.js";
import { deletePrefix, readPruneCheckpoint, writePruneCheckpoint } from "./prune.js";
import type { RawSqlClient, RawSqlRunner } from "./sql-client.js";
import { HEAD_COLUMNS, type HeadRow, MISSING_HEAD, type RawTraceRow, toHead, toTraceRow } from "./trace-rows.js";

/**
 * Rows handed to dialect.insertRows (./dialect.ts) at a time, which chooses the statements
 * (PostgreSQL: one jsonb parameter; SQLite: cached multi-row VALUES statements).
 */
const INSERT_CHUNK = 2_000;
/** How long a write keeps retrying while other processes hold the chain lock. */
const RETRY_MS = 30_000;
/** How long a write waits for a connection (PostgreSQL pool) before it counts as contention. */
const MAX_WAIT_MS = 30_000;
/** The transaction's time limit: bounds how long one write may hold the chain lock. */
export const TRANSACTION_TIMEOUT_MS = 120_000;
/**
 * After a write failed for a storage fault, writes count as healthy again only with this much
 * space free where the database lives (when the store can tell): a failed batch leaves WAL
 * space behind that lets a tiny probe commit while real batches still cannot.
 */
export const MIN_FREE_BYTES_AFTER_FAULT = 4 * 1024 * 1024;

const HEX64 = /^[0-9a-f]{64}$/;

/** Lock contention from another process: SQLite busy, PostgreSQL serialization/deadlock, Prisma timeouts. */
function isContention(e: unknown): boolean {
  const text = `${(e as { code?: unknown })?.code ?? ""} ${(e as Error)?.message ?? ""}`;
  return /SQLITE_BUSY|database is locked|P2034|P2028|P1008|SocketTimeout|could not serialize|deadlock detected|40001|40P01/i.test(text);
}

/**
 * Prisma's report of a transaction that ran past its timeout and was rolled back ("A commit
 * cannot be executed on an expired transaction"). Not every "Transaction already closed": that
 * also reports a query on a transaction that ended for another reason.
 */
function isExpired(e: unknown): boolean {
  return /expired transaction/i.test((e as Error)?.message ?? "");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Options of the Prisma chain writer. */
export interface PrismaChainWriterOptions {
  /** The client chain writes run on (on SQLite the writer connection, never the reader). */
  client: RawSqlClient;
  /** The chain's secret: hashes new records, checks kept ones, and its key id is claimed. */
  hash: RecordHasher;
  dialect: SqlDialect;
  /** Bytes free on the volume holding the database, when that is known (SQLite). */
  freeBytes?: () => Promise<number>;
}

/** ChainWriter over Prisma raw SQL; its work also gets the transaction (PrismaChainWrite.tx). */
export class PrismaChainWriter implements ChainWriter<PrismaChainWrite> {
  readonly #client: RawSqlClient;
  readonly #hash: RecordHasher;
  readonly #d: SqlDialect;
  readonly #freeBytes: (() => Promise<number>) | undefined;
  /** Serializes the writes of this process; the database lock serializes processes. */
  #queue: Promise<unknown> = Promise.resolve();
  readonly #listeners = new Set<(rows: readonly TraceRow[]) => void>();
  /** Why the last write failed to commit, until a write commits again (health). */
  #fault: string | undefined;
  #probe: Promise<void> | undefined;

  constructor(options: PrismaChainWriterOptions) {
    this.#client = options.client;
    this.#hash = options.hash;
    this.#d = options.dialect;
    this.#freeBytes = options.freeBytes;
  }

  write<R>(work: (chain: PrismaChainWrite) => Promise<R>): Promise<R> {
    const run = this.#queue.then(() => this.#withRetry(work));
    this.#queue = run.catch(() => undefined);
    // Listeners hear a write only once it committed, and in commit (= seq) order, because
    // the writes of this process run one after another on the queue.
    return run.then(({ result, appended }) => {
      for (const listener of appended.length > 0 ? this.#listeners : []) {
        try {
          listener(appended);
        } catch {
          // The write is committed: a failing listener (a publisher) must not fail it.
        }
      }
      return result;
    });
  }

  /** TraceStore.onAppended: `listener` hears the records of every later write after it committed. */
  onAppended(listener: (rows: readonly TraceRow[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * TraceStore.writeHealth. One probe at a time, however many callers ask: enough free space
   * (where known), then a write of nothing, which still locks the head row and commits, so it
   * needs a connection and the database's write path as a real write does.
   */
  async health(): Promise<WriteHealth> {
    if (this.#fault === undefined) return { ok: true };
    this.#probe ??= (async () => {
      if (this.#freeBytes && (await this.#freeBytes()) < MIN_FREE_BYTES_AFTER_FAULT) return;
      await this.write(async () => undefined);
    })()
      .catch(() => undefined)
      .finally(() => {
        this.#probe = undefined;
      });
    await this.#probe;
    return this.#fault === undefined ? { ok: true } : { ok: false, reason: this.#fault };
  }

  /** Resolves when the writes queued so far have ended (before the clients close). */
  async idle(): Promise<void> {
    await this.#queue;
  }

  /**
   * Another process holding the chain lock surfaces as a busy or serialization error; the
   * transaction rolled back, so retrying the whole write is safe and keeps the chain whole.
   */
  async #withRetry<R>(work: (chain: PrismaChainWrite) => Promise<R>): Promise<{ result: R; appended: TraceRow[] }> {
    const deadline = Date.now() + RETRY_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        const done = await this.#attempt(work);
        this.#fault = undefined;
        return done;
      } catch (e) {
        // A storage fault (disk full, I/O error, lost connection) fails this write at once with
        // a coded error; the transaction rolled back and its connection was released
        // (./transaction-recovery.ts), so the next write starts clean.
        const fault = storageFault(e);
        if (fault !== undefined) {
          this.#fault = fault;
          throw new StoreUnavailableError(fault, { cause: e });
        }
        if (isExpired(e)) throw new ChainWriteTimeoutError(TRANSACTION_TIMEOUT_MS, { cause: e });
        if (!isContention(e)) throw e;
        // Still locked after RETRY_MS (another process holding the database's write lock, a
        // stuck replica): nothing was stored, the client may retry. Not a storage fault, so
        // health stays as it is.
        if (Date.now() > deadline) {
          throw new StoreUnavailableError(`another writer held the chain lock for over ${RETRY_MS / 1000} s`, { cause: e });
        }
        await sleep(Math.min(5 * 2 ** attempt, 200) * (0.5 + Math.random()));
      }
    }
  }

  #attempt<R>(work: (chain: PrismaChainWrite) => Promise<R>): Promise<{ result: R; appended: TraceRow[] }> {
    // Appended records are kept for the listeners only when there are any, so a large import
    // in a process without listeners (the CLI) holds no records in memory.
    const collect = this.#listeners.size > 0;
    return this.#client.$transaction(
      async (tx) => {
        const heads = await tx.$queryRaw<HeadRow[]>(
          sql`UPDATE "ChainHead" SET "nextSeq" = "nextSeq" WHERE "id" = 1 RETURNING ${HEAD_COLUMNS}`,
        );
        if (!heads[0]) throw new Error(MISSING_HEAD);
        const head = toHead(heads[0]);
        // The key check comes before anything else is written: another secret would fork the
        // chain (ChainKeyMismatchError). A hasher without a key id skips it (src/chain/hash.ts).
        if (this.#hash.keyId !== undefined && head.keyId !== this.#hash.keyId) {
          head.keyId = await claimChainKey(tx, this.#d, head, this.#hash);
        }
        const chain = new PrismaChainWrite(tx, head, this.#hash, this.#d, collect);
        try {
          const result = await work(chain);
          return { result, appended: await chain.finish() };
        } finally {
          chain.end();
        }
      },
      { maxWait: MAX_WAIT_MS, timeout: TRANSACTION_TIMEOUT_MS },
    );
  }
}

/**
 * One chain write on Prisma (ChainWrite), plus the transaction itself for the other Prisma
 * stores, whose own tables change in the same transaction as the audit trace recording the
 * change (./prisma-revocation-store.ts). Made by PrismaChainWriter only, one per attempt.
 */
export class PrismaChainWrite implements ChainWrite {
  /** The write's transaction: for sibling stores' own tables, never for chain tables. */
  readonly tx: RawSqlRunner;
  readonly head: ChainHead;
  readonly #hash: RecordHasher;
  readonly #d: SqlDialect;
  /** Where the next record goes: its seq and the hash it links to. */
  #next: { seq: number; prevHash: string };
  /** Records inserted so far, when the listeners want them. */
  readonly #appended: TraceRow[] | null;
  #busy = false;
  #over = false;

  constructor(tx: RawSqlRunner, head: ChainHead, hash: RecordHasher, d: SqlDialect, collect: boolean) {
    this.tx = tx;
    this.head = head;
    this.#hash = hash;
    this.#d = d;
    this.#next = { seq: head.nextSeq, prevHash: head.headHash };
    this.#appended = collect ? [] : null;
  }

  async append(traces: readonly EncodedTrace[], stored: StoredActionIds): Promise<TraceRow[]> {
    const [outcome] = await this.appendEach([traces], stored);
    if (outcome instanceof DuplicateActionIdError) throw outcome;
    return outcome ?? [];
  }

  /**
   * Append several callers' batches (group commit, ./group-commit.ts) as if each were an
   * append of its own, one after another in input order: one SELECT looks up every action id,
   * one run of inserts stores every new record. A batch sees the records of the batches
   * before it (an action id repeated across batches is appended once and acknowledged or
   * refused after that), never those of its own (as in append). A refused batch adds nothing
   * and its DuplicateActionIdError is its outcome; the others still go in. Returns one outcome
   * per batch: its records in input order, or its refusal.
   */
  appendEach(batches: readonly (readonly EncodedTrace[])[], stored: StoredActionIds): Promise<(TraceRow[] | DuplicateActionIdError)[]> {
    return this.#exclusive(async () => {
      const ids: string[] = [];
      for (const batch of batches) for (const t of batch) ids.push(t.columns.actionId);
      if (ids.length === 0) return batches.map(() => []);
      const found = await this.#lookUp(ids);
      let { seq, prevHash } = this.#next;
      const fresh: TraceRow[] = [];
      const outcomes = batches.map((batch) => {
        const refused = refusals(batch.map(({ columns, payload }) => ({ actionId: columns.actionId, payload })), found, stored);
        if (refused) return refused;
        const before = fresh.length;
        const out = batch.map(({ payload, columns }) => {
          const known = found.get(columns.actionId);
          if (known) return known;
          const recordHash = this.#hash(seq, prevHash, payload);
          const row: TraceRow = { ...columns, seq, prevHash, recordHash, payload };
          fresh.push(row);
          seq += 1;
          prevHash = recordHash;
          return row;
        });
        // Later batches see this one's records as stored (after it, not during it).
        for (let i = before; i < fresh.length; i++) found.set(fresh[i]!.actionId, fresh[i]!);
        return out;
      });
      await this.#insert(fresh);
      return outcomes;
    });
  }

  appendLinked(records: readonly TraceRow[]): Promise<void> {
    return this.#exclusive(async () => {
      if (records.length === 0) return;
      let { seq, prevHash } = this.#next;
      for (const r of records) {
        if (r.seq !== seq || r.prevHash !== prevHash) {
          throw new ChainLinkError(
            r.seq,
            `record seq ${r.seq} (prev_hash ${r.prevHash}) does not continue the chain, whose next record is seq ${seq} after ${prevHash}`,
          );
        }
        if (!hashesEqual(this.#hash(r.seq, r.prevHash, r.payload), r.recordHash)) {
          throw new ChainLinkError(r.seq, `record seq ${r.seq}: its record_hash is not what this chain's secret computes`);
        }
        seq += 1;
        prevHash = r.recordHash;
      }
      await this.#decideStored(records, "refuse");
      await this.#insert(records);
    });
  }

  startAfter(origin: ChainPoint, seal: CheckpointSealer): Promise<PruneCheckpointRecord> {
    return this.#exclusive(async () => {
      if (this.#next.seq !== 0) {
        throw new ChainLinkError(origin.seq, `the chain is not empty (next seq ${this.#next.seq}): only an empty chain can start after seq ${origin.seq}`);
      }
      if (!Number.isSafeInteger(origin.seq) || origin.seq < 0 || !HEX64.test(origin.recordHash)) {
        throw new ChainLinkError(origin.seq, `a chain can only start after a non-negative seq and a 64-hex record hash`);
      }
      const checkpoint = await this.#storeCheckpoint(origin, seal);
      this.#next = { seq: origin.seq + 1, prevHash: origin.recordHash };
      return checkpoint;
    });
  }

  prune(cut: PruneCut, seal: CheckpointSealer): Promise<PruneOutcome> {
    return this.#exclusive(async () => {
      const { pruned, newest } = await deletePrefix(this.tx, this.#d, this.#next.seq, cut);
      if (!newest) return { pruned: 0, checkpoint: await readPruneCheckpoint(this.tx) };
      return { pruned, checkpoint: await this.#storeCheckpoint(newest, seal) };
    });
  }

  pruneCheckpoint(): Promise<PruneCheckpointRecord | null> {
    return this.#exclusive(() => readPruneCheckpoint(this.tx));
  }

  /**
   * End the write (PrismaChainWriter only): move the head when records were appended or the
   * chain was started after an origin. Returns the appended records kept for the listeners.
   */
  finish(): Promise<TraceRow[]> {
    return this.#exclusive(async () => {
      const { seq, prevHash } = this.#next;
      if (seq !== this.head.nextSeq || prevHash !== this.head.headHash) {
        await this.tx.$executeRaw(sql`UPDATE "ChainHead" SET "nextSeq" = ${this.#d.int(seq)}, "headHash" = ${prevHash} WHERE "id" = 1`);
      }
      return this.#appended ?? [];
    });
  }

  /** Refuse every later call (PrismaChainWriter only, once the work returned or threw). */
  end(): void {
    this.#over = true;
  }

  /**
   * One call at a time, and none after the write ended: the seq and hash of the next record
   * are this object's state, so interleaved calls would hand out the same seq twice.
   */
  async #exclusive<T>(step: () => Promise<T>): Promise<T> {
    if (this.#over) throw new Error("this chain write has ended: use the handle only inside its work");
    if (this.#busy) throw new Error("one chain write call at a time: await each call before the next");
    this.#busy = true;
    try {
      return await step();
    } finally {
      this.#busy = false;
    }
  }

  /**
   * The one duplicate decision of a batch, with one SELECT: looks its action ids up among the
   * stored records and refuses those `stored` does not let through (see StoredActionIds).
   * Returns the stored records found, by action id (under `idempotent`, the acknowledged ones).
   * @throws DuplicateActionIdError naming the refused ids in input order, with their stored principals.
   */
  async #decideStored(batch: readonly { actionId: string; payload: string }[], stored: StoredActionIds): Promise<Map<string, TraceRow>> {
    const found = await this.#lookUp(batch.map((t) => t.actionId));
    const refused = refusals(batch, found, stored);
    if (refused) throw refused;
    return found;
  }

  /** The stored records of these action ids, by action id (one SELECT). */
  async #lookUp(actionIds: readonly string[]): Promise<Map<string, TraceRow>> {
    const rows = await this.tx.$queryRaw<RawTraceRow[]>(
      sql`SELECT ${this.#d.selectColumns} FROM "Trace" WHERE "actionId" IN (${this.#d.textArray(actionIds)})`,
    );
    return new Map(rows.map((r) => [r.actionId, toTraceRow(r)]));
  }

  /** Insert records that continue the chain, in seq order, and move the next seq past them. */
  async #insert(rows: readonly TraceRow[]): Promise<void> {
    const last = rows[rows.length - 1];
    if (!last) return;
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      for (const statement of this.#d.insertRows(rows.slice(i, i + INSERT_CHUNK))) await this.tx.$executeRaw(statement);
    }
    this.#next = { seq: last.seq + 1, prevHash: last.recordHash };
    if (this.#appended) for (const row of rows) this.#appended.push(row);
  }

  /** Seal and store the prune checkpoint for `point`, the newest record the chain no longer holds. */
  async #storeCheckpoint(point: ChainPoint, seal: CheckpointSealer): Promise<PruneCheckpointRecord> {
    const createdAtUs = Date.now() * 1000;
    const sealed = seal({ chainId: this.head.chainId, seq: point.seq, headHash: point.recordHash, createdAtUs });
    const checkpoint: PruneCheckpointRecord = { seq: point.seq, recordHash: point.recordHash, createdAtUs, ...sealed };
    await writePruneCheckpoint(this.tx, this.#d, checkpoint);
    return checkpoint;
  }
}

/**
 * The refusal of a batch whose action ids are `found` stored: those `stored` does not let
 * through, in input order, with their stored principals; undefined when none is refused.
 */
function refusals(
  batch: readonly { actionId: string; payload: string }[],
  found: ReadonlyMap<string, TraceRow>,
  stored: StoredActionIds,
): DuplicateActionIdError | undefined {
  const refused = batch.filter((t) => {
    const row = found.get(t.actionId);
    return row !== undefined && (stored === "refuse" || row.payload !== t.payload);
  });
  if (refused.length === 0) return undefined;
  return new DuplicateActionIdError(
    refused.map((t) => t.actionId),
    refused.map((t) => found.get(t.actionId)!.principalId),
  );
}

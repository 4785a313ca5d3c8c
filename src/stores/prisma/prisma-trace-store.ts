/**
 * TraceStore on Prisma. Hot paths use raw SQL through Prisma (`$queryRaw`/`$executeRaw`), which
 * measured 5-7x faster than the typed client for batch inserts
 * (docs/toolchain.md#measured-costs) and lets keyset conditions use row values that indexes
 * serve directly (docs/architecture.md#raw-sql-on-hot-paths).
 *
 * Two clients: `writer` runs appends, `reader` runs queries. On SQLite they are separate
 * connections, so a query never runs inside an open append transaction and never sees rows
 * that may still roll back (WAL readers see committed data only).
 */
import type { PrincipalScope } from "../../access/scopes.js";
import { empty, join, raw, sqltag as sql, type Sql } from "@prisma/client/runtime/client";
import { GENESIS_HASH, type RecordHasher } from "../../chain/hash.js";
import { type EncodedTrace, type EventType, mismatchedColumns, type TraceStatus } from "../../chain/trace.js";
import type { ChainRecord } from "../../chain/verify.js";
import {
  type ChainHead,
  type ChainKeyVerdict,
  type CheckpointSealer,
  DuplicateActionIdError,
  type Keyset,
  type PageQuery,
  type PruneCheckpointRecord,
  type PruneCut,
  type PruneOutcome,
  type SeqRange,
  type StatsDimension,
  type StatsGroup,
  StoreUnavailableError,
  type TraceFilter,
  type TraceOrder,
  type TraceRow,
  type TraceStore,
  type WriteHealth,
} from "../trace-store.js";
import { checkChainKey, claimChainKey } from "./chain-key.js";
import { type SqlDialect, sqliteDialect } from "./dialect.js";
import { storageFault } from "./faults.js";
import { prunePrefix, readPruneCheckpoint } from "./prune.js";
import { type RawSqlClient, type RawSqlRunner, toNumber } from "./sql-client.js";

/** Rows per INSERT statement (one JSON parameter each). */
const INSERT_CHUNK = 2_000;
/**
 * After a write failed for a storage fault, writes count as healthy again only with this much
 * space free where the database lives (when the store can tell): a failed batch leaves WAL
 * space behind that lets a tiny probe commit while real batches still cannot.
 */
export const MIN_FREE_BYTES_AFTER_FAULT = 4 * 1024 * 1024;
/** How long an append keeps retrying while other processes hold the chain lock. */
const APPEND_RETRY_MS = 30_000;

/** Lock contention from another process: SQLite busy, PostgreSQL serialization/deadlock, Prisma timeouts. */
function isContention(e: unknown): boolean {
  const text = `${(e as { code?: unknown })?.code ?? ""} ${(e as Error)?.message ?? ""}`;
  return /SQLITE_BUSY|database is locked|P2034|P2028|P1008|SocketTimeout|could not serialize|deadlock detected|40001|40P01/i.test(text);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Let other requests run. The SQLite adapter answers synchronously, so a long scan would
 * otherwise hold the event loop for its whole length (measured: 22 s for a 1M-record verify).
 */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Seqs per statement of the in-database column check. */
const COLUMN_CHECK_SLICE = 20_000;

/** Default rows per scan batch. */
const SCAN_BATCH = 2_000;


interface RawTraceRow {
  seq: unknown;
  actionId: string;
  principalId: string;
  capabilityId: string;
  eventType: string;
  status: string;
  reasonCode: string | null;
  invokedAtUs: unknown;
  prevHash: string;
  recordHash: string;
  payload: string;
}

interface HeadRow {
  nextSeq: unknown;
  headHash: string;
  chainId: string;
  keyId: string | null;
}

function toHead(r: HeadRow): ChainHead {
  return { nextSeq: toNumber(r.nextSeq), headHash: r.headHash, chainId: r.chainId, keyId: r.keyId };
}

function toTraceRow(r: RawTraceRow): TraceRow {
  return {
    seq: toNumber(r.seq),
    actionId: r.actionId,
    principalId: r.principalId,
    capabilityId: r.capabilityId,
    eventType: r.eventType as EventType,
    status: r.status as TraceStatus,
    reasonCode: r.reasonCode,
    invokedAtUs: toNumber(r.invokedAtUs),
    prevHash: r.prevHash,
    recordHash: r.recordHash,
    payload: r.payload,
  };
}

/*
 * Batches travel as one JSON parameter unpacked by the database (dialect.insertRows):
 * Prisma's per-parameter cost dominates multi-row VALUES lists (measured 18.5k rows/s this
 * way against 10k rows/s with 11 parameters a row, SQLite).
 */

/** Stats dimensions and their columns: a closed list, so column names never come from input. */
const STATS_COLUMNS: Record<StatsDimension, string> = {
  eventType: "eventType",
  status: "status",
  reasonCode: "reasonCode",
  principalId: "principalId",
  capabilityId: "capabilityId",
};

const isTimeOrder = (order: TraceOrder) => order === "INVOKED_AT_ASC" || order === "INVOKED_AT_DESC";
const isAscending = (order: TraceOrder) => order === "SEQ_ASC" || order === "INVOKED_AT_ASC";


/**
 * WHERE conditions of a filter (without keyset). With `timeAsResidual` the time window is
 * written as `+"invokedAtUs"`, which keeps the planner off the time index: in chain order a
 * time-index range would need a sort of the whole window, while a seq-ordered index scan that
 * checks the window per row returns a page without sorting.
 */
function filterConditions(d: SqlDialect, f: TraceFilter, timeAsResidual = false): Sql[] {
  const c: Sql[] = [];
  if (f.principalId !== undefined) c.push(sql`"principalId" = ${f.principalId}`);
  if (f.capabilityId !== undefined) c.push(sql`"capabilityId" = ${f.capabilityId}`);
  if (f.eventType !== undefined) c.push(sql`"eventType" = ${f.eventType}`);
  if (f.status !== undefined) c.push(sql`"status" = ${f.status}`);
  if (f.reasonCode !== undefined) c.push(sql`"reasonCode" = ${f.reasonCode}`);
  if (f.principals !== undefined) c.push(principalScopeCondition(d, f.principals));
  const at = timeAsResidual ? d.timeResidual : d.timeColumn;
  if (f.sinceUs !== undefined) c.push(sql`${at} >= ${d.time(f.sinceUs)}`);
  if (f.untilUs !== undefined) c.push(sql`${at} < ${d.time(f.untilUs)}`);
  return c;
}

/**
 * `"principalId"` inside a principal scope. Prefixes compare with substr, not LIKE (no
 * escaping of % and _) and not a string range (PostgreSQL's collation is not code-point
 * order); both databases count substr in characters, hence the code-point length.
 */
function principalScopeCondition(d: SqlDialect, scope: PrincipalScope): Sql {
  const terms: Sql[] = [];
  if (scope.exact.length > 0) terms.push(sql`"principalId" IN (${d.textArray(scope.exact)})`);
  for (const p of scope.prefixes) terms.push(sql`substr("principalId", 1, ${[...p].length}) = ${p}`);
  return terms.length === 0 ? sql`1 = 0` : sql`(${join(terms, " OR ")})`;
}

function where(conditions: Sql[]): Sql {
  return conditions.length === 0 ? empty : sql`WHERE ${join(conditions, " AND ")}`;
}

/**
 * The keyset page query: equality filters and the time window, the cursor as a row-value
 * comparison, ORDER BY the keyset and LIMIT. Exported so tests can EXPLAIN the exact SQL.
 */
export function pageSql(q: PageQuery, d: SqlDialect = sqliteDialect): Sql {
  const asc = isAscending(q.order);
  // A cursor bounds the keyset from below ("gt") or above ("lt"), depending on direction.
  const gt = asc ? q.after : q.before;
  const lt = asc ? q.before : q.after;
  let conditions: Sql[];
  if (isTimeOrder(q.order)) {
    // Merge the time window and the cursors into one inclusive range on the time column, so
    // the index seeks straight to the cursor however deep the page (with separate bounds the
    // planner seeks to the window edge and walks to the cursor: measured 9 ms at depth
    // 50,000 against 0.9 ms). The row-value comparison settles ties on the cursor's instant
    // (an OR there would invite SQLite's multi-index OR plan and a sort).
    const { sinceUs, untilUs, ...equality } = q.filter;
    conditions = filterConditions(d, equality);
    let lo = sinceUs;
    let hi = untilUs === undefined ? undefined : untilUs - 1;
    const t = d.timeColumn;
    if (gt) {
      const at = timeOf(gt);
      lo = lo === undefined ? at : Math.max(lo, at);
      conditions.push(sql`(${t}, "seq") > (${d.time(at)}, ${d.int(gt.seq)})`);
    }
    if (lt) {
      const at = timeOf(lt);
      hi = hi === undefined ? at : Math.min(hi, at);
      conditions.push(sql`(${t}, "seq") < (${d.time(at)}, ${d.int(lt.seq)})`);
    }
    if (lo !== undefined) conditions.push(sql`${t} >= ${d.time(lo)}`);
    if (hi !== undefined) conditions.push(sql`${t} <= ${d.time(hi)}`);
  } else {
    conditions = filterConditions(d, q.filter, true);
    if (gt) conditions.push(sql`"seq" > ${d.int(gt.seq)}`);
    if (lt) conditions.push(sql`"seq" < ${d.int(lt.seq)}`);
  }
  const forward = asc !== Boolean(q.inverted);
  const dir = forward ? sql`ASC` : sql`DESC`;
  const orderBy = isTimeOrder(q.order) ? sql`${d.timeColumn} ${dir}, "seq" ${dir}` : sql`"seq" ${dir}`;
  return sql`SELECT ${d.selectColumns} FROM "Trace" ${where(conditions)} ORDER BY ${orderBy} LIMIT ${q.limit}`;
}

function timeOf(k: Keyset): number {
  if (k.invokedAtUs === undefined) throw new RangeError("a time-order keyset needs invokedAtUs");
  return k.invokedAtUs;
}

/** Options of the Prisma trace store. */
export interface PrismaTraceStoreOptions {
  writer: RawSqlClient;
  reader: RawSqlClient;
  hash: RecordHasher;
  dialect: SqlDialect;
  /** Called after the clients are closed (e.g. to release files). */
  onClose?: () => Promise<void>;
  /** Bytes free on the volume holding the database, when that is known (SQLite). */
  freeBytes?: () => Promise<number>;
}

/** TraceStore over Prisma raw SQL, shared by SQLite and PostgreSQL through a SqlDialect. */
export class PrismaTraceStore implements TraceStore {
  readonly #writer: RawSqlClient;
  readonly #reader: RawSqlClient;
  readonly #hash: RecordHasher;
  readonly #d: SqlDialect;
  readonly #onClose: (() => Promise<void>) | undefined;
  readonly #freeBytes: (() => Promise<number>) | undefined;
  /** Serializes appends within this process; the database lock serializes processes. */
  #appendQueue: Promise<unknown> = Promise.resolve();
  readonly #appendListeners = new Set<(rows: readonly TraceRow[]) => void>();
  /** Why the last write failed to commit, until a write commits again (writeHealth). */
  #writeFault: string | undefined;
  #writeProbe: Promise<void> | undefined;

  constructor(options: PrismaTraceStoreOptions) {
    this.#writer = options.writer;
    this.#reader = options.reader;
    this.#hash = options.hash;
    this.#d = options.dialect;
    this.#onClose = options.onClose;
    this.#freeBytes = options.freeBytes;
  }

  async append(traces: readonly EncodedTrace[]): Promise<TraceRow[]> {
    if (traces.length === 0) return [];
    const { result: stored, rows } = await this.appendWithin(async (tx) => {
      const split = await this.#partitionStored(tx, traces);
      return { result: split.stored, traces: split.fresh };
    });
    const appended = new Map(rows.map((r) => [r.actionId, r]));
    return traces.map((t) => (stored.get(t.columns.actionId) ?? appended.get(t.columns.actionId))!);
  }

  /**
   * Separate traces already stored byte for byte (a retry, a re-shipped file: acknowledged,
   * not appended again) from new ones.
   * @throws DuplicateActionIdError when a stored action id holds different content.
   */
  async #partitionStored(tx: RawSqlRunner, traces: readonly EncodedTrace[]): Promise<{ fresh: EncodedTrace[]; stored: Map<string, TraceRow> }> {
    const ids = traces.map((t) => t.columns.actionId);
    const rows = await tx.$queryRaw<RawTraceRow[]>(
      sql`SELECT ${this.#d.selectColumns} FROM "Trace" WHERE "actionId" IN (${this.#d.textArray(ids)})`,
    );
    const stored = new Map(rows.map((r) => [r.actionId, toTraceRow(r)]));
    if (stored.size === 0) return { fresh: [...traces], stored };
    const conflicting = traces.filter((t) => {
      const row = stored.get(t.columns.actionId);
      return row !== undefined && row.payload !== t.payload;
    });
    if (conflicting.length > 0) {
      throw new DuplicateActionIdError(
        conflicting.map((t) => t.columns.actionId),
        conflicting.map((t) => stored.get(t.columns.actionId)!.principalId),
      );
    }
    return { fresh: traces.filter((t) => !stored.has(t.columns.actionId)), stored };
  }

  /**
   * Run `work` inside the append transaction, with the chain lock held, then append the
   * traces it returns, all in one transaction: a state change and the audit trace that
   * records it commit together or not at all. `work` may run more than once (a transaction
   * lost to another process's lock is retried whole), so it must only touch the database
   * through `tx`. Used by the revocation store and retention, not part of TraceStore.
   */
  appendWithin<R>(
    work: (tx: RawSqlRunner, head: ChainHead) => Promise<{ result: R; traces: readonly EncodedTrace[] }>,
  ): Promise<{ result: R; rows: TraceRow[] }> {
    const run = this.#appendQueue.then(() => this.#appendWithRetry(work));
    this.#appendQueue = run.catch(() => undefined);
    // Listeners hear a batch only once it committed, and in commit (= seq) order, because
    // appends of this process run one after another on the queue.
    return run.then((r) => {
      for (const listener of r.rows.length > 0 ? this.#appendListeners : []) {
        try {
          listener(r.rows);
        } catch {
          // The batch is committed: a failing listener (a publisher) must not fail the append.
        }
      }
      return r;
    });
  }

  onAppended(listener: (rows: readonly TraceRow[]) => void): () => void {
    this.#appendListeners.add(listener);
    return () => this.#appendListeners.delete(listener);
  }

  /**
   * Another process holding the chain lock surfaces as a busy or serialization error; the
   * transaction rolled back, so retrying the whole append is safe and keeps the chain whole.
   */
  async #appendWithRetry<R>(
    work: (tx: RawSqlRunner, head: ChainHead) => Promise<{ result: R; traces: readonly EncodedTrace[] }>,
  ): Promise<{ result: R; rows: TraceRow[] }> {
    const deadline = Date.now() + APPEND_RETRY_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        const done = await this.#appendLocked(work);
        this.#writeFault = undefined;
        return done;
      } catch (e) {
        // A storage fault (disk full, I/O error, lost connection) fails this write at once with
        // a coded error; the transaction rolled back and its connection was released
        // (./transaction-recovery.ts), so the next write starts clean.
        const fault = storageFault(e);
        if (fault !== undefined) {
          this.#writeFault = fault;
          throw new StoreUnavailableError(fault, { cause: e });
        }
        if (!isContention(e) || Date.now() > deadline) throw e;
        await sleep(Math.min(5 * 2 ** attempt, 200) * (0.5 + Math.random()));
      }
    }
  }

  async writeHealth(): Promise<WriteHealth> {
    if (this.#writeFault === undefined) return { ok: true };
    // One probe at a time, however many callers ask: enough free space (where known), then
    // an append of nothing, which still updates the head row and commits, so it needs a
    // connection and the database's write path as a real write does.
    this.#writeProbe ??= (async () => {
      if (this.#freeBytes && (await this.#freeBytes()) < MIN_FREE_BYTES_AFTER_FAULT) return;
      await this.appendWithin(async () => ({ result: undefined, traces: [] }));
    })()
      .catch(() => undefined)
      .finally(() => {
        this.#writeProbe = undefined;
      });
    await this.#writeProbe;
    return this.#writeFault === undefined ? { ok: true } : { ok: false, reason: this.#writeFault };
  }

  async #appendLocked<R>(
    work: (tx: RawSqlRunner, head: ChainHead) => Promise<{ result: R; traces: readonly EncodedTrace[] }>,
  ): Promise<{ result: R; rows: TraceRow[] }> {
    return this.#writer.$transaction(
      async (tx) => {
        // A write as the first statement takes the database write lock at once (SQLite) or
        // locks the head row (PostgreSQL), so no other writer can read the same head.
        const heads = await tx.$queryRaw<HeadRow[]>(
          sql`UPDATE "ChainHead" SET "nextSeq" = "nextSeq" WHERE "id" = 1 RETURNING "nextSeq", "headHash", "chainId", "keyId"`,
        );
        if (!heads[0]) throw new Error("ChainHead row is missing: the database was not migrated by tracegate.");
        const head = toHead(heads[0]);
        // The key check comes before anything else is written: another secret would fork the
        // chain (ChainKeyMismatchError). A hasher without a key id cannot hash, so cannot append.
        if (this.#hash.keyId !== undefined && head.keyId !== this.#hash.keyId) {
          head.keyId = await claimChainKey(tx, this.#d, head, this.#hash);
        }
        const { result, traces } = await work(tx, head);
        if (traces.length === 0) return { result, rows: [] };
        await this.#rejectStoredDuplicates(tx, traces);
        let seq = toNumber(head.nextSeq);
        let prevHash = head.headHash;
        const rows: TraceRow[] = traces.map(({ payload, columns }) => {
          const recordHash = this.#hash(seq, prevHash, payload);
          const row: TraceRow = { ...columns, seq, prevHash, recordHash, payload };
          seq += 1;
          prevHash = recordHash;
          return row;
        });
        for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
          await tx.$executeRaw(this.#d.insertRows(rows.slice(i, i + INSERT_CHUNK)));
        }
        await tx.$executeRaw(
          sql`UPDATE "ChainHead" SET "nextSeq" = ${this.#d.int(seq)}, "headHash" = ${prevHash} WHERE "id" = 1`,
        );
        return { result, rows };
      },
      { maxWait: 30_000, timeout: 120_000 },
    );
  }

  async #rejectStoredDuplicates(tx: RawSqlRunner, traces: readonly EncodedTrace[]): Promise<void> {
    const ids = traces.map((t) => t.columns.actionId);
    const rows = await tx.$queryRaw<{ actionId: string; principalId: string }[]>(
      sql`SELECT "actionId", "principalId" FROM "Trace" WHERE "actionId" IN (${this.#d.textArray(ids)})`,
    );
    if (rows.length > 0) throw new DuplicateActionIdError(rows.map((r) => r.actionId), rows.map((r) => r.principalId));
  }

  async page(q: PageQuery): Promise<TraceRow[]> {
    const rows = await this.#reader.$queryRaw<RawTraceRow[]>(pageSql(q, this.#d));
    return rows.map(toTraceRow);
  }

  async count(filter: TraceFilter): Promise<number> {
    const rows = await this.#reader.$queryRaw<{ n: unknown }[]>(
      sql`SELECT COUNT(*) AS "n" FROM "Trace" ${where(filterConditions(this.#d, filter))}`,
    );
    return toNumber(rows[0]?.n ?? 0);
  }

  async stats(filter: TraceFilter, groupBy: readonly StatsDimension[], bucketUs: number | null, limit: number): Promise<StatsGroup[]> {
    const columns: Sql[] = groupBy.map((c) => sql`${raw(`"${STATS_COLUMNS[c]}"`)}`);
    if (bucketUs !== null) columns.push(sql`${this.#d.timeBucket(bucketUs)}`);
    const names = [...groupBy, ...(bucketUs !== null ? ["bucketStartUs"] : [])];
    const select = columns.map((c, i) => sql`${c} AS ${raw(`"${names[i]}"`)}`);
    // Positions, not expressions: PostgreSQL would not match a bucket expression whose
    // parameters are numbered differently in SELECT and GROUP BY.
    const positions = columns.map((_, i) => raw(String(i + 2)));
    const grouping = columns.length === 0 ? empty : sql`GROUP BY ${join(positions, ", ")}`;
    const order = columns.length === 0 ? empty : sql`, ${join(positions, ", ")}`;
    const rows = await this.#reader.$queryRaw<Record<string, unknown>[]>(
      sql`SELECT COUNT(*) AS "count"${select.length > 0 ? sql`, ${join(select, ", ")}` : empty} FROM "Trace"
        ${where(filterConditions(this.#d, filter))} ${grouping} ORDER BY 1 DESC${order} LIMIT ${limit}`,
    );
    return rows.map((r) => {
      const g: StatsGroup = { count: toNumber(r.count) };
      for (const c of groupBy) (g as unknown as Record<string, unknown>)[c] = r[c] ?? null;
      if (bucketUs !== null) g.bucketStartUs = toNumber(r.bucketStartUs);
      return g;
    });
  }

  async findByActionId(actionId: string, principals?: PrincipalScope): Promise<TraceRow | null> {
    const conditions = [sql`"actionId" = ${actionId}`, ...filterConditions(this.#d, principals ? { principals } : {})];
    const rows = await this.#reader.$queryRaw<RawTraceRow[]>(
      sql`SELECT ${this.#d.selectColumns} FROM "Trace" ${where(conditions)}`,
    );
    return rows[0] ? toTraceRow(rows[0]) : null;
  }

  async findBySeqs(seqs: readonly number[], principals?: PrincipalScope): Promise<TraceRow[]> {
    if (seqs.length === 0) return [];
    const conditions = [
      sql`"seq" IN (${join(seqs.map((n) => this.#d.int(n)))})`,
      ...filterConditions(this.#d, principals ? { principals } : {}),
    ];
    const rows = await this.#reader.$queryRaw<RawTraceRow[]>(
      sql`SELECT ${this.#d.selectColumns} FROM "Trace" ${where(conditions)}`,
    );
    return rows.map(toTraceRow);
  }

  async head(): Promise<ChainHead> {
    const rows = await this.#reader.$queryRaw<HeadRow[]>(
      sql`SELECT "nextSeq", "headHash", "chainId", "keyId" FROM "ChainHead" WHERE "id" = 1`,
    );
    const row = rows[0];
    if (!row) throw new Error("ChainHead row is missing: the database was not migrated by tracegate.");
    return toHead(row);
  }

  async claimChainKey(): Promise<string> {
    // An append of nothing: the transaction locks the head and runs the key check.
    if (this.#hash.keyId === undefined) throw new Error("this store's hasher has no key id: it may not write to the chain");
    const { result } = await this.appendWithin(async (_tx, head) => ({ result: head.keyId!, traces: [] }));
    return result;
  }

  async checkChainKey(hash: RecordHasher): Promise<ChainKeyVerdict> {
    return checkChainKey(this.#reader, this.#d, await this.head(), hash);
  }

  async prune(
    cut: PruneCut,
    seal: CheckpointSealer,
    audit: (outcome: PruneOutcome) => EncodedTrace,
  ): Promise<{ outcome: PruneOutcome; trace: TraceRow }> {
    const { result, rows } = await this.appendWithin(async (tx, head) => {
      const outcome = await prunePrefix(tx, this.#d, head, cut, seal, Date.now() * 1000);
      return { result: outcome, traces: [audit(outcome)] };
    });
    return { outcome: result, trace: rows[0]! };
  }

  pruneCheckpoint(): Promise<PruneCheckpointRecord | null> {
    return readPruneCheckpoint(this.#reader);
  }

  async firstSeq(): Promise<number | null> {
    const rows = await this.#reader.$queryRaw<{ seq: unknown }[]>(
      sql`SELECT "seq" FROM "Trace" ORDER BY "seq" ASC LIMIT 1`,
    );
    return rows[0] ? toNumber(rows[0].seq) : null;
  }

  async *scanChain(range: SeqRange, batchSize = SCAN_BATCH): AsyncIterable<ChainRecord> {
    // Four columns instead of eleven: Prisma's per-column cost halves the scan time.
    const d = this.#d;
    let from = range.fromSeq ?? 0;
    const upper = range.toSeq === undefined ? empty : sql`AND "seq" <= ${d.int(range.toSeq)}`;
    for (;;) {
      const rows = await this.#reader.$queryRaw<{ seq: unknown; prevHash: string; recordHash: string; payload: string }[]>(
        sql`SELECT "seq", "prevHash", "recordHash", "payload" FROM "Trace" WHERE "seq" >= ${d.int(from)} ${upper} ORDER BY "seq" ASC LIMIT ${batchSize}`,
      );
      for (const r of rows) yield { seq: toNumber(r.seq), prevHash: r.prevHash, recordHash: r.recordHash, payload: r.payload };
      const last = rows[rows.length - 1];
      if (rows.length < batchSize || !last) return;
      from = toNumber(last.seq) + 1;
      await yieldToEventLoop();
    }
  }

  async columnMismatchCandidates(range: Required<SeqRange>, limit: number): Promise<number[]> {
    const d = this.#d;
    const found: number[] = [];
    // Slices of the seq range, so one statement never holds the event loop for long.
    for (let from = range.fromSeq; from <= range.toSeq && found.length < limit; from += COLUMN_CHECK_SLICE) {
      const to = Math.min(range.toSeq, from + COLUMN_CHECK_SLICE - 1);
      let seqs: number[];
      try {
        const rows = await this.#reader.$queryRaw<{ seq: unknown }[]>(d.columnMismatchCandidates(from, to, limit - found.length));
        seqs = rows.map((r) => toNumber(r.seq));
      } catch {
        // The database could not read some payload of this slice as JSON (see the dialect):
        // compare this slice in JavaScript instead. Verification must report, never fail.
        seqs = await this.#columnMismatchesInJs(from, to, limit - found.length);
      }
      found.push(...seqs);
      await yieldToEventLoop();
    }
    return found;
  }

  /** columnMismatchCandidates for [from, to], decided in JavaScript with the verifier's own comparison. */
  async #columnMismatchesInJs(from: number, to: number, limit: number): Promise<number[]> {
    const found: number[] = [];
    for (let next = from; next <= to && found.length < limit; ) {
      const rows = await this.#reader.$queryRaw<RawTraceRow[]>(
        sql`SELECT ${this.#d.selectColumns} FROM "Trace" WHERE "seq" >= ${this.#d.int(next)} AND "seq" <= ${this.#d.int(to)} ORDER BY "seq" ASC LIMIT ${SCAN_BATCH}`,
      );
      for (const row of rows.map(toTraceRow)) {
        let bad: boolean;
        try {
          bad = mismatchedColumns(row, row.payload).length > 0;
        } catch {
          bad = true; // not a trace payload at all: the caller's check reports it
        }
        if (bad) found.push(row.seq);
        if (found.length >= limit) break;
      }
      const last = rows[rows.length - 1];
      if (rows.length < SCAN_BATCH || !last) break;
      next = toNumber(last.seq) + 1;
      await yieldToEventLoop();
    }
    return found;
  }

  async close(): Promise<void> {
    await this.#appendQueue;
    await Promise.all([this.#writer.$disconnect(), this.#reader.$disconnect()]);
    await this.#onClose?.();
  }
}

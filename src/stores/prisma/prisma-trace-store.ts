/**
 * TraceStore on raw SQL, shared by SQLite and PostgreSQL. The SQL is written as Prisma `Sql`
 * fragments and runs on the drivers (./driver-client.ts; docs/architecture.md#prisma-owns-the-schema-the-drivers-run-the-hot-sql),
 * which lets keyset conditions use row values that indexes serve directly.
 *
 * Two clients: `writer` runs the chain writes (./prisma-chain-writer.ts), `reader` runs
 * queries. On SQLite they are separate connections, so a query never runs inside an open
 * append transaction and never sees rows that may still roll back (WAL readers see committed
 * data only).
 */
import type { PrincipalScope } from "../../access/scopes.js";
import { empty, join, raw, sqltag as sql, type Sql } from "@prisma/client/runtime/client";
import type { RecordHasher } from "../../chain/hash.js";
import { type EncodedTrace, mismatchedColumns } from "../../chain/trace.js";
import type { ChainRecord } from "../../chain/verify.js";
import {
  type ChainHead,
  type ChainKeyVerdict,
  type CheckpointSealer,
  type PageQuery,
  type PruneCheckpointRecord,
  type PruneCut,
  type PruneOutcome,
  type SeqRange,
  type StatsDimension,
  type StatsGroup,
  type TraceFilter,
  type TraceRow,
  type TraceStore,
  type WriteHealth,
} from "../trace-store.js";
import { checkChainKey } from "./chain-key.js";
import type { SqlDialect } from "./dialect.js";
import { GroupCommit } from "./group-commit.js";
import { PrismaChainWriter } from "./prisma-chain-writer.js";
import { readPruneCheckpoint } from "./prune.js";
import { type RawSqlClient, type RawSqlRunner, toNumber } from "./sql-client.js";
import { HEAD_COLUMNS, type HeadRow, MISSING_HEAD, type RawTraceRow, toHead, toTraceRow } from "./trace-rows.js";
import { filterConditions, pageSql, where } from "./trace-sql.js";

/**
 * Let other requests run. The SQLite adapter answers synchronously, so a long scan would
 * otherwise hold the event loop for its whole length (measured: 22 s for a 1M-record verify).
 */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Seqs per statement of the in-database column check. */
const COLUMN_CHECK_SLICE = 20_000;

/** Default rows per scan batch. */
const SCAN_BATCH = 2_000;

/** Stats dimensions and their columns: a closed list, so column names never come from input. */
const STATS_COLUMNS: Record<StatsDimension, string> = {
  eventType: "eventType",
  status: "status",
  reasonCode: "reasonCode",
  principalId: "principalId",
  capabilityId: "capabilityId",
};

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
  /**
   * Where long read-only statements (the column check of verifyChain) run, when not on the
   * reader: on SQLite a worker thread (./driver-client.ts SqliteReadThread), so they do not
   * hold the main thread while it walks the chain.
   */
  longReads?: Pick<RawSqlRunner, "$queryRaw">;
}

/**
 * TraceStore over Prisma raw SQL, shared by SQLite and PostgreSQL through a SqlDialect. Reads
 * are here; every write goes through `chain` (./prisma-chain-writer.ts).
 */
export class PrismaTraceStore implements TraceStore {
  /** The chain writer on the writer client; the revocation store writes through it too. */
  readonly chain: PrismaChainWriter;
  readonly #writer: RawSqlClient;
  readonly #reader: RawSqlClient;
  readonly #longReads: Pick<RawSqlRunner, "$queryRaw">;
  readonly #hash: RecordHasher;
  readonly #d: SqlDialect;
  readonly #onClose: (() => Promise<void>) | undefined;
  readonly #groups: GroupCommit;

  constructor(options: PrismaTraceStoreOptions) {
    this.#writer = options.writer;
    this.#reader = options.reader;
    this.#longReads = options.longReads ?? options.reader;
    this.#hash = options.hash;
    this.#d = options.dialect;
    this.#onClose = options.onClose;
    this.chain = new PrismaChainWriter({ client: options.writer, hash: options.hash, dialect: options.dialect, freeBytes: options.freeBytes });
    this.#groups = new GroupCommit(this.chain);
  }

  /** TraceStore.append; concurrent appends share one transaction (./group-commit.ts). */
  async append(traces: readonly EncodedTrace[]): Promise<TraceRow[]> {
    if (traces.length === 0) return [];
    return this.#groups.append(traces);
  }

  async prune(
    cut: PruneCut,
    seal: CheckpointSealer,
    audit: (outcome: PruneOutcome) => EncodedTrace,
  ): Promise<{ outcome: PruneOutcome; trace: TraceRow }> {
    return this.chain.write(async (chain) => {
      const outcome = await chain.prune(cut, seal);
      // The audit trace records this prune: a new record or none, never an old one acknowledged.
      const [trace] = await chain.append([audit(outcome)], "refuse");
      return { outcome, trace: trace! };
    });
  }

  async claimChainKey(): Promise<string> {
    const keyId = this.#hash.keyId;
    if (keyId === undefined) throw new Error("this store's hasher has no key id: it may not write to the chain");
    // A write of nothing: its transaction locks the head and runs the key check.
    await this.chain.write(async () => undefined);
    return keyId;
  }

  onAppended(listener: (rows: readonly TraceRow[]) => void): () => void {
    return this.chain.onAppended(listener);
  }

  writeHealth(): Promise<WriteHealth> {
    return this.chain.health();
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
    const rows = await this.#reader.$queryRaw<HeadRow[]>(sql`SELECT ${HEAD_COLUMNS} FROM "ChainHead" WHERE "id" = 1`);
    const row = rows[0];
    if (!row) throw new Error(MISSING_HEAD);
    return toHead(row);
  }

  async checkChainKey(hash: RecordHasher): Promise<ChainKeyVerdict> {
    return checkChainKey(this.#reader, this.#d, await this.head(), hash);
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
    for await (const batch of this.scanChainBatches(range, batchSize)) yield* batch;
  }

  async *scanChainBatches(range: SeqRange, batchSize = SCAN_BATCH): AsyncIterable<ChainRecord[]> {
    // Four columns instead of eleven: the per-column cost halves the scan time.
    const d = this.#d;
    let from = range.fromSeq ?? 0;
    const upper = range.toSeq === undefined ? empty : sql`AND "seq" <= ${d.int(range.toSeq)}`;
    for (;;) {
      const rows = await this.#reader.$queryRaw<{ seq: unknown; prevHash: string; recordHash: string; payload: string }[]>(
        sql`SELECT "seq", "prevHash", "recordHash", "payload" FROM "Trace" WHERE "seq" >= ${d.int(from)} ${upper} ORDER BY "seq" ASC LIMIT ${batchSize}`,
      );
      if (rows.length === 0) return;
      yield rows.map((r) => ({ seq: toNumber(r.seq), prevHash: r.prevHash, recordHash: r.recordHash, payload: r.payload }));
      if (rows.length < batchSize) return;
      from = toNumber(rows[rows.length - 1]!.seq) + 1;
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
        const rows = await this.#longReads.$queryRaw<{ seq: unknown }[]>(d.columnMismatchCandidates(from, to, limit - found.length));
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
    await this.chain.idle();
    await Promise.all([this.#writer.$disconnect(), this.#reader.$disconnect()]);
    await this.#onClose?.();
  }
}

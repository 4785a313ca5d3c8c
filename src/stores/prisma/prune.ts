/**
 * Retention on the Prisma stores: delete a seq prefix and keep an authenticated checkpoint. The
 * reference deleted rows by timestamp, which breaks the chain as soon as clocks skew
 * (docs/reference-compatibility.md#known-weaknesses); here a time cutoff only chooses where the
 * prefix ends: at the first record, in seq order, that is not older than the cutoff.
 */
import { sqltag as sql } from "@prisma/client/runtime/client";
import type { ChainHead, CheckpointSealer, PruneCheckpointRecord, PruneCut } from "../trace-store.js";
import type { SqlDialect } from "./dialect.js";
import { type RawSqlRunner, toNumber } from "./sql-client.js";

interface CheckpointRow {
  seq: unknown;
  recordHash: string;
  createdAtUs: unknown;
  mac: string;
  keyId: string | null;
  signature: string | null;
}

function toCheckpoint(row: CheckpointRow): PruneCheckpointRecord {
  return {
    seq: toNumber(row.seq),
    recordHash: row.recordHash,
    createdAtUs: toNumber(row.createdAtUs),
    mac: row.mac,
    keyId: row.keyId,
    signature: row.signature,
  };
}

/** The stored prune checkpoint, if any. */
export async function readPruneCheckpoint(db: RawSqlRunner): Promise<PruneCheckpointRecord | null> {
  const rows = await db.$queryRaw<CheckpointRow[]>(
    sql`SELECT "seq", "recordHash", "createdAtUs", "mac", "keyId", "signature" FROM "PruneCheckpoint" WHERE "id" = 1`,
  );
  return rows[0] ? toCheckpoint(rows[0]) : null;
}

/** The first seq to keep: everything below it goes. */
async function cutSeq(tx: RawSqlRunner, d: SqlDialect, cut: PruneCut, head: ChainHead): Promise<number> {
  if ("beforeSeq" in cut) return Math.min(cut.beforeSeq, head.nextSeq);
  const rows = await tx.$queryRaw<{ seq: unknown }[]>(
    sql`SELECT MIN("seq") AS "seq" FROM "Trace" WHERE ${d.timeColumn} >= ${d.time(cut.beforeUs)}`,
  );
  const first = rows[0]?.seq;
  return first === null || first === undefined ? head.nextSeq : toNumber(first);
}

/**
 * Inside the append transaction (chain lock held): delete the records below the cut and
 * replace the checkpoint with one for the newest deleted record. Returns how many records
 * went and the checkpoint in force afterwards.
 */
export async function prunePrefix(
  tx: RawSqlRunner,
  d: SqlDialect,
  head: ChainHead,
  cut: PruneCut,
  seal: CheckpointSealer,
  nowUs: number,
): Promise<{ pruned: number; checkpoint: PruneCheckpointRecord | null }> {
  const keepFrom = await cutSeq(tx, d, cut, head);
  const previous = await readPruneCheckpoint(tx);
  const last = await tx.$queryRaw<{ seq: unknown; recordHash: string }[]>(
    sql`SELECT "seq", "recordHash" FROM "Trace" WHERE "seq" < ${d.int(keepFrom)} ORDER BY "seq" DESC LIMIT 1`,
  );
  const newest = last[0];
  if (!newest) return { pruned: 0, checkpoint: previous };
  const pruned = await tx.$executeRaw(sql`DELETE FROM "Trace" WHERE "seq" < ${d.int(keepFrom)}`);
  const seq = toNumber(newest.seq);
  const sealed = seal({ chainId: head.chainId, seq, headHash: newest.recordHash, createdAtUs: nowUs });
  const checkpoint: PruneCheckpointRecord = { seq, recordHash: newest.recordHash, createdAtUs: nowUs, ...sealed };
  await tx.$executeRaw(sql`DELETE FROM "PruneCheckpoint" WHERE "id" = 1`);
  await tx.$executeRaw(sql`INSERT INTO "PruneCheckpoint" ("id", "seq", "recordHash", "createdAtUs", "mac", "keyId", "signature")
    VALUES (1, ${d.int(seq)}, ${checkpoint.recordHash}, ${d.int(nowUs)}, ${checkpoint.mac}, ${checkpoint.keyId}, ${checkpoint.signature})`);
  return { pruned, checkpoint };
}

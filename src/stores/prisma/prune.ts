/**
 * Retention on the Prisma stores: delete a seq prefix and keep an authenticated checkpoint. The
 * reference deleted rows by timestamp, which breaks the chain as soon as clocks skew
 * (docs/reference-compatibility.md#known-weaknesses); here a time cutoff only chooses where the
 * prefix ends: at the first record, in seq order, that is not older than the cutoff.
 *
 * The SQL only: the chain writer (./prisma-chain-writer.ts) decides when it runs, under the
 * chain lock, and seals the checkpoint.
 */
import { sqltag as sql } from "@prisma/client/runtime/client";
import type { ChainPoint } from "../chain-writer.js";
import type { PruneCheckpointRecord, PruneCut } from "../trace-store.js";
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

/** Replace the stored prune checkpoint (there is at most one: row id 1). */
export async function writePruneCheckpoint(tx: RawSqlRunner, d: SqlDialect, checkpoint: PruneCheckpointRecord): Promise<void> {
  await tx.$executeRaw(sql`DELETE FROM "PruneCheckpoint" WHERE "id" = 1`);
  await tx.$executeRaw(sql`INSERT INTO "PruneCheckpoint" ("id", "seq", "recordHash", "createdAtUs", "mac", "keyId", "signature")
    VALUES (1, ${d.int(checkpoint.seq)}, ${checkpoint.recordHash}, ${d.int(checkpoint.createdAtUs)}, ${checkpoint.mac}, ${checkpoint.keyId}, ${checkpoint.signature})`);
}

/** The first seq to keep: everything below it goes. */
async function cutSeq(tx: RawSqlRunner, d: SqlDialect, cut: PruneCut, nextSeq: number): Promise<number> {
  if ("beforeSeq" in cut) return Math.min(cut.beforeSeq, nextSeq);
  const rows = await tx.$queryRaw<{ seq: unknown }[]>(
    sql`SELECT MIN("seq") AS "seq" FROM "Trace" WHERE ${d.timeColumn} >= ${d.time(cut.beforeUs)}`,
  );
  const first = rows[0]?.seq;
  return first === null || first === undefined ? nextSeq : toNumber(first);
}

/**
 * Delete the records below the cut, on a chain whose next seq is `nextSeq`. Returns how many
 * went and the newest of them (the point a checkpoint must vouch for), or null when none did.
 */
export async function deletePrefix(
  tx: RawSqlRunner,
  d: SqlDialect,
  nextSeq: number,
  cut: PruneCut,
): Promise<{ pruned: number; newest: ChainPoint | null }> {
  const keepFrom = await cutSeq(tx, d, cut, nextSeq);
  const last = await tx.$queryRaw<{ seq: unknown; recordHash: string }[]>(
    sql`SELECT "seq", "recordHash" FROM "Trace" WHERE "seq" < ${d.int(keepFrom)} ORDER BY "seq" DESC LIMIT 1`,
  );
  const newest = last[0];
  if (!newest) return { pruned: 0, newest: null };
  const pruned = await tx.$executeRaw(sql`DELETE FROM "Trace" WHERE "seq" < ${d.int(keepFrom)}`);
  return { pruned, newest: { seq: toNumber(newest.seq), recordHash: newest.recordHash } };
}

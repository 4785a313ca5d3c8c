/**
 * The chain's key check (docs/chain-format.md): the key id of the configured HMAC secret
 * against the one stored with the chain head. A secret that does not match is refused
 * before anything is written, so a wrong TRACEGATE_HMAC_SECRET can never fork the chain.
 *
 * A chain from before key ids (ChainHead.keyId null) is checked by recomputing the HMAC of
 * its newest record; an empty one has nothing to check. Either way the key id is then
 * recorded, with the key epoch covering the chain from seq 0.
 */
import { sqltag as sql } from "@prisma/client/runtime/client";
import { hashesEqual, type RecordHasher } from "../../chain/hash.js";
import { ChainKeyMismatchError, type ChainKeyVerdict } from "../trace-store.js";
import type { SqlDialect } from "./dialect.js";
import { type RawSqlRunner, toNumber } from "./sql-client.js";

/** Check `hash` (which must carry a keyId) against the chain head `head`, reading through `db`. */
export async function checkChainKey(
  db: RawSqlRunner,
  d: SqlDialect,
  head: { nextSeq: number; keyId: string | null },
  hash: RecordHasher,
): Promise<ChainKeyVerdict> {
  const configured = hash.keyId;
  if (configured === undefined) throw new Error("this command's hasher has no key id: it may not write to the chain");
  if (head.keyId !== null) {
    return head.keyId === configured
      ? { kind: "match", keyId: configured }
      : { kind: "mismatch", error: new ChainKeyMismatchError(head.keyId, configured) };
  }
  if (head.nextSeq === 0) return { kind: "unrecorded", keyId: configured, verifiedSeq: null };
  const newest = head.nextSeq - 1;
  const rows = await db.$queryRaw<{ prevHash: string; recordHash: string; payload: string }[]>(
    sql`SELECT "prevHash", "recordHash", "payload" FROM "Trace" WHERE "seq" = ${d.int(newest)}`,
  );
  const row = rows[0];
  if (!row) {
    return { kind: "mismatch", error: new ChainKeyMismatchError(null, configured, `its newest record (seq ${newest}) is missing`) };
  }
  let verifies: boolean;
  try {
    verifies = hashesEqual(hash(newest, row.prevHash, row.payload), row.recordHash);
  } catch {
    verifies = false; // a malformed stored prevHash: certainly not this secret's record
  }
  return verifies
    ? { kind: "unrecorded", keyId: configured, verifiedSeq: newest }
    : { kind: "mismatch", error: new ChainKeyMismatchError(null, configured, `it does not verify the newest record (seq ${newest})`) };
}

/**
 * Check the configured secret and, on a chain without a key id, record it: run inside the
 * append transaction, with the head row locked. Throws ChainKeyMismatchError on another secret.
 */
export async function claimChainKey(
  tx: RawSqlRunner,
  d: SqlDialect,
  head: { nextSeq: number; keyId: string | null },
  hash: RecordHasher,
): Promise<string> {
  const verdict = await checkChainKey(tx, d, head, hash);
  if (verdict.kind === "mismatch") throw verdict.error;
  if (verdict.kind === "unrecorded") {
    // The first key covers the chain from its start: no other key id was ever recorded.
    await tx.$executeRaw(sql`UPDATE "ChainHead" SET "keyId" = ${verdict.keyId} WHERE "id" = 1`);
    await tx.$executeRaw(
      sql`INSERT INTO "ChainKey" ("keyId", "fromSeq", "createdAtUs") VALUES (${verdict.keyId}, ${d.int(0)}, ${d.int(Date.now() * 1000)})`,
    );
  }
  return verdict.keyId;
}

/** One key epoch: `keyId` covers seqs from `fromSeq` up to the next epoch's. */
export interface ChainKeyEpoch {
  keyId: string;
  fromSeq: number;
  createdAtUs: number;
}

/** The key epochs of the chain, oldest first (empty before the first claim). */
export async function readChainKeys(db: RawSqlRunner): Promise<ChainKeyEpoch[]> {
  const rows = await db.$queryRaw<{ keyId: string; fromSeq: unknown; createdAtUs: unknown }[]>(
    sql`SELECT "keyId", "fromSeq", "createdAtUs" FROM "ChainKey" ORDER BY "fromSeq" ASC`,
  );
  return rows.map((r) => ({ keyId: r.keyId, fromSeq: toNumber(r.fromSeq), createdAtUs: toNumber(r.createdAtUs) }));
}

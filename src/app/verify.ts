/**
 * verifyChain(fromSeq, toSeq) and chainHead: stream the stored records through the chain
 * verifier, hold the result against the stored head, which vouches for every seq below
 * nextSeq (records missing from the end are TRUNCATED, something a bare chain cannot show),
 * and check that the indexed columns still say what the hashed payloads say. After a prune
 * the chain starts at the prune checkpoint, which must authenticate (CHECKPOINT_INVALID
 * otherwise) and which the first kept record must link to.
 */
import { checkpointMessage, PRUNE_CHECKPOINT_TYPE, verifyCheckpointSignature } from "../chain/checkpoint.js";
import { GENESIS_HASH, hashesEqual, type RecordHasher } from "../chain/hash.js";
import { RecordHashPool } from "../chain/hash-pool.js";
import { type ChainRecord, ChainVerifier, type ChainVerification, checkColumns, columnMismatchFailure } from "../chain/verify.js";
import { badUserInput } from "../errors.js";
import { stillWanted } from "./cancellation.js";
import type { Caller } from "./caller.js";
import type { TraceStore } from "../stores/trace-store.js";
import { checkSignedCheckpoint, type SignedCheckpointInputShape } from "./checkpoints.js";
import type { ChainHead, PruneCheckpointRecord, SeqRange } from "../stores/trace-store.js";

/**
 * What verification needs: the whole chain's store (verification is chain-wide, never
 * confined), the secret's hasher and MAC, the signer's key, and who asks until when. A
 * Caller has it all; the CLI passes the operator's (src/cli/audit.ts).
 */
export type VerifyPorts = Pick<Caller, "hash" | "checkpointMac" | "signer" | "signal" | "viewer" | "keys"> & {
  stores: { traces: TraceStore };
  /**
   * Called now and then during the walk with the records checked so far and the records the
   * walk expects (the range through the head as read at the start): the CLI's progress.
   */
  onProgress?: (checked: number, total: number) => void;
};

export interface VerifyChainArgs {
  /** First seq to check (default: the chain start, which must be seq 0 at genesis). */
  fromSeq?: number | null;
  /** Last seq to check, inclusive (default: through the newest record). */
  toSeq?: number | null;
  /** A signed checkpoint the chain must still agree with (tail truncation, rewriting). */
  checkpoint?: SignedCheckpointInputShape | null;
}

/** Verify the stored chain, or the inclusive seq range [fromSeq, toSeq] of it. */
export async function verifyChain(args: VerifyChainArgs, ctx: VerifyPorts): Promise<ChainVerification> {
  const store = ctx.stores.traces;
  const { fromSeq, toSeq } = args;
  if (fromSeq != null && fromSeq < 0) throw badUserInput("fromSeq must not be negative.", "fromSeq");
  if (toSeq != null && toSeq < 0) throw badUserInput("toSeq must not be negative.", "toSeq");
  if (fromSeq != null && toSeq != null && fromSeq > toSeq) {
    throw badUserInput("fromSeq must not be greater than toSeq.", "fromSeq");
  }
  // A signed checkpoint catches what the stored head cannot: a tail cut with the head rewound.
  if (args.checkpoint) {
    const failure = await checkSignedCheckpoint(ctx, args.checkpoint);
    if (failure) return failure;
  }
  // Read the head before walking: it vouches for at least every record up to its nextSeq.
  const head = await store.head();
  const origin = await chainOrigin(ctx, head);
  if ("failure" in origin) return origin.failure;
  const start = Math.max(fromSeq ?? 0, origin.firstSeq);
  let expectedPrevHash = origin.prevHash;
  const verifier = () => new ChainVerifier({ hash: ctx.hash, expectedPrevHash, expectedFirstSeq: start });
  if (start > origin.firstSeq && start < head.nextSeq) {
    // Through the chain scan, which no principal scope confines: the record before a range
    // may be another principal's (verifyTrace runs for principal-scoped keys too).
    const previous = await chainRecordAt(store, start - 1);
    if (!previous) {
      const v = verifier();
      v.fail(1, start - 1, "NON_CONTIGUOUS", `Record seq ${start - 1}, the one before seq ${start}, is missing (deletion).`);
      return v.result();
    }
    expectedPrevHash = previous.recordHash;
  }
  // The head vouches for records through head.nextSeq - 1; later appends are walked too.
  const headEnd = Math.min(toSeq ?? Number.POSITIVE_INFINITY, head.nextSeq - 1);
  // Pass 2 (indexed columns against the payloads, compared inside the database) runs beside
  // pass 1 over what the head vouches for; it stops early once pass 1 has failed before it.
  const columnsBound = { through: headEnd };
  const columns = firstColumnMismatch(ctx, start, () => columnsBound.through);
  // Its failure (the client gone) is awaited below; until then it must not count as unhandled.
  columns.catch(() => undefined);
  // Pass 1: seq, link and HMAC of every record, streamed (the reference's checks).
  const v = verifier();
  let walk: Promise<void>;
  const total = Math.max(0, headEnd - start + 1);
  const progress = ctx.onProgress && (() => ctx.onProgress!(v.checked, total));
  try {
    const range = toSeq == null ? { fromSeq: start } : { fromSeq: start, toSeq };
    walk = ctx.hash.key && headEnd - start + 1 >= POOL_MIN_RECORDS ? walkPooled(ctx, range, v, progress) : walkInline(ctx, range, v, progress);
    await walk;
    progress?.();
  } catch (e) {
    columnsBound.through = -1;
    await columns.catch(() => undefined);
    throw e;
  }
  if (!v.failure) checkAgainstHead(v, head, start, toSeq ?? null);
  const chain = v.result();
  // A column mismatch before the chain's first failure is the first bad record.
  const vouchedThrough = chain.ok ? start + chain.checked - 1 : (chain.firstBadSeq ?? start) - 1;
  columnsBound.through = Math.min(headEnd, vouchedThrough);
  let mismatch = await columns;
  // Found while pass 1 was still running, beyond where the chain turned out to fail.
  if (mismatch && (mismatch.firstBadSeq ?? 0) > vouchedThrough) mismatch = null;
  if (!mismatch && vouchedThrough > headEnd) {
    mismatch = await firstColumnMismatch(ctx, Math.max(start, headEnd + 1), () => vouchedThrough, start);
  }
  return mismatch ?? chain;
}

/** Ranges shorter than this are hashed on the calling thread: starting workers would cost more. */
export const POOL_MIN_RECORDS = 20_000;
/** Batches handed to the hash pool ahead of the one being checked (bounds memory). */
const POOL_IN_FLIGHT = 4;
/** One hash pool per chain secret, kept while the hasher lives. */
const pools = new WeakMap<RecordHasher, RecordHashPool>();

/** Pass 1 on this thread, record by record. */
async function walkInline(ctx: VerifyPorts, range: SeqRange, v: ChainVerifier, progress?: () => void): Promise<void> {
  let sinceCheck = 0;
  for await (const record of ctx.stores.traces.scanChain(range)) {
    if (!v.check(record)) return;
    // The client may have left, or its key been revoked, since the walk began: stop then.
    if (++sinceCheck >= WANTED_CHECK_EVERY) {
      sinceCheck = 0;
      progress?.();
      await stillWanted(ctx);
    }
  }
}

/**
 * Pass 1 with the HMACs on worker threads: batches go to the pool as they are read, at most
 * POOL_IN_FLIGHT ahead, and are checked here in seq order (seq, link, and for the first
 * record the pool could not match, the HMAC again, so failures read as walkInline's).
 */
async function walkPooled(ctx: VerifyPorts, range: SeqRange, v: ChainVerifier, progress?: () => void): Promise<void> {
  let pool = pools.get(ctx.hash);
  if (!pool) pools.set(ctx.hash, (pool = new RecordHashPool(ctx.hash)));
  const ahead: { batch: ChainRecord[]; verdict: Promise<number> }[] = [];
  const checkNext = async (): Promise<boolean> => {
    const { batch, verdict } = ahead.shift()!;
    const firstMismatch = await verdict;
    for (let i = 0; i < batch.length; i++) {
      if (!v.check(batch[i]!, undefined, firstMismatch === -1 || i < firstMismatch)) return false;
    }
    progress?.();
    await stillWanted(ctx);
    return true;
  };
  try {
    for await (const batch of ctx.stores.traces.scanChainBatches(range)) {
      ahead.push({ batch, verdict: pool.firstMismatch(batch) });
      if (ahead.length >= POOL_IN_FLIGHT && !(await checkNext())) return;
    }
    while (ahead.length > 0) if (!(await checkNext())) return;
  } finally {
    // Verdicts nobody waits for any more must not surface as unhandled rejections.
    for (const { verdict } of ahead) verdict.catch(() => undefined);
  }
}

/**
 * Where the stored chain must begin: seq 0 at genesis, or just after an authenticated prune
 * checkpoint. A checkpoint whose MAC does not verify was edited or forged by someone
 * without the chain secret, and nothing after it can be trusted to be the whole chain.
 */
async function chainOrigin(
  ctx: VerifyPorts,
  head: ChainHead,
): Promise<{ firstSeq: number; prevHash: string } | { failure: ChainVerification }> {
  const checkpoint = await ctx.stores.traces.pruneCheckpoint();
  if (!checkpoint) return { firstSeq: 0, prevHash: GENESIS_HASH };
  const problem = pruneCheckpointProblem(ctx, head, checkpoint);
  if (problem) {
    const v = new ChainVerifier({ hash: ctx.hash, expectedPrevHash: GENESIS_HASH });
    v.fail(1, checkpoint.seq + 1, "CHECKPOINT_INVALID", `Prune checkpoint at seq ${checkpoint.seq} ${problem}.`);
    return { failure: v.result() };
  }
  return { firstSeq: checkpoint.seq + 1, prevHash: checkpoint.recordHash };
}

function pruneCheckpointProblem(ctx: VerifyPorts, head: ChainHead, cp: PruneCheckpointRecord): string | null {
  const fields = { chainId: head.chainId, seq: cp.seq, headHash: cp.recordHash, createdAtUs: cp.createdAtUs };
  const expected = ctx.checkpointMac(checkpointMessage(PRUNE_CHECKPOINT_TYPE, fields, cp.keyId));
  if (!hashesEqual(expected, cp.mac)) return "does not authenticate (edited, forged, or another chain's secret)";
  // The MAC settles authenticity; a signature by this server's current key must also hold
  // (one by an earlier, rotated key cannot be checked here and is left to the MAC).
  if (cp.signature !== null && ctx.signer && cp.keyId === ctx.signer.keyId) {
    const signed = { ...fields, keyId: cp.keyId, signature: cp.signature };
    if (!verifyCheckpointSignature(signed, ctx.signer.publicKey)) return "carries a signature that does not verify";
  }
  if (cp.seq >= head.nextSeq) return `lies beyond the chain head (next seq ${head.nextSeq})`;
  return null;
}

/** Candidates per database round trip of the column pass. */
const CANDIDATE_BATCH = 100;
/** Seqs per column-pass call; the client and its key are checked between windows. */
const COLUMN_WINDOW = 20_000;
/** Records walked between checks that the client is still there and its key still valid. */
const WANTED_CHECK_EVERY = 500;

/**
 * The first record in [fromSeq, through()] whose indexed columns disagree with its payload, as
 * a COLUMN_MISMATCH failure counted from `origin`; `through` is read before every window, so
 * the caller can shorten the pass while it runs.
 */
async function firstColumnMismatch(
  ctx: VerifyPorts,
  fromSeq: number,
  through: () => number,
  origin = fromSeq,
): Promise<ChainVerification | null> {
  const store = ctx.stores.traces;
  for (let from = fromSeq; from <= through(); ) {
    await stillWanted(ctx);
    // A window at a time, so that a client gone or a key revoked stops this pass too.
    const toSeq = through();
    const windowEnd = Math.min(toSeq, from + COLUMN_WINDOW - 1);
    const candidates = await store.columnMismatchCandidates({ fromSeq: from, toSeq: windowEnd }, CANDIDATE_BATCH);
    for (const row of (await store.findBySeqs(candidates)).sort((a, b) => a.seq - b.seq)) {
      if (row.seq > through()) return null;
      const columns = checkColumns(row, row.payload);
      if (columns.length > 0) return columnMismatchFailure(row.seq - origin + 1, row.seq, columns);
    }
    from = candidates.length < CANDIDATE_BATCH ? windowEnd + 1 : candidates[candidates.length - 1]! + 1;
  }
  return null;
}

function checkAgainstHead(v: ChainVerifier, head: ChainHead, start: number, toSeq: number | null): void {
  const next = v.nextSeq ?? start;
  const mustReach = Math.min(toSeq ?? Number.POSITIVE_INFINITY, head.nextSeq - 1);
  if (next <= mustReach) {
    v.fail(
      v.checked + 1,
      next,
      "TRUNCATED",
      `Truncated chain: the head vouches for records through seq ${head.nextSeq - 1}, but seq ${next} and later are missing.`,
    );
    return;
  }
  if (toSeq === null && next === head.nextSeq && v.checked > 0 && v.lastHash !== head.headHash) {
    v.fail(
      v.checked,
      next - 1,
      "TRUNCATED",
      `Chain head mismatch: the stored head hash is not the hash of the last record (seq ${next - 1}); the tail was cut or replaced.`,
    );
  }
}

/**
 * verifyTrace(actionId): is this one record intact where it stands? Checks, in the chain
 * verifier's order and with its failure kinds: the prune checkpoint if the chain starts at
 * one, the record's link to the record before it (which must exist), its recomputed HMAC,
 * its indexed columns against its payload, and then that the record after it (when the head
 * vouches for one) exists and links to it, so a record replaced in place under the secret
 * still shows as a BROKEN_LINK at the next seq. `checked` counts the records examined (1, or
 * 2 when the failure is the next record's link).
 *
 * The record is looked up through the caller's confined store: null when no trace with this
 * action id is visible to the caller (missing, or another principal's), the answer `trace`
 * gives. The neighbours are read through the chain scan: only their hashes are compared and
 * nothing of them is returned beyond their seq in a failure's detail.
 */
export async function verifyTrace(actionId: string, ctx: VerifyPorts): Promise<ChainVerification | null> {
  const store = ctx.stores.traces;
  const row = await store.findByActionId(actionId);
  if (!row) return null;
  const own = await verifyChain({ fromSeq: row.seq, toSeq: row.seq }, ctx);
  if (!own.ok) return own;
  const head = await store.head();
  const nextSeq = row.seq + 1;
  if (nextSeq >= head.nextSeq) return own;
  const next = await chainRecordAt(store, nextSeq);
  const v = new ChainVerifier({ hash: ctx.hash, expectedPrevHash: row.recordHash, expectedFirstSeq: row.seq });
  if (!next) {
    v.fail(2, nextSeq, "NON_CONTIGUOUS", `Record seq ${nextSeq}, which follows this record and which the head vouches for, is missing (deletion).`);
  } else if (!hashesEqual(next.prevHash, row.recordHash)) {
    v.fail(2, nextSeq, "BROKEN_LINK", `Record seq ${nextSeq} does not link to this record: this record or the next was replaced.`);
  }
  return v.failure ?? own;
}

/** The stored chain record at `seq`, unconfined (chain-level), or null when there is none. */
async function chainRecordAt(store: TraceStore, seq: number): Promise<ChainRecord | null> {
  for await (const record of store.scanChain({ fromSeq: seq, toSeq: seq })) return record;
  return null;
}

/** The current chain head. */
export function chainHead(ctx: VerifyPorts): Promise<ChainHead> {
  return ctx.stores.traces.head();
}

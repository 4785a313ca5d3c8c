/**
 * verifyChain(fromSeq, toSeq) and chainHead: stream the stored records through the chain
 * verifier, hold the result against the stored head, which vouches for every seq below
 * nextSeq (records missing from the end are TRUNCATED, something a bare chain cannot show),
 * and check that the indexed columns still say what the hashed payloads say.
 */
import { GENESIS_HASH } from "../chain/hash.js";
import { ChainVerifier, type ChainVerification, checkColumns, columnMismatchFailure } from "../chain/verify.js";
import { badUserInput } from "../errors.js";
import type { GatewayContext } from "../server/context.js";
import type { ChainHead } from "../stores/trace-store.js";

export interface VerifyChainArgs {
  /** First seq to check (default: the chain start, which must be seq 0 at genesis). */
  fromSeq?: number | null;
  /** Last seq to check, inclusive (default: through the newest record). */
  toSeq?: number | null;
}

/** Verify the stored chain, or the inclusive seq range [fromSeq, toSeq] of it. */
export async function verifyChain(args: VerifyChainArgs, ctx: GatewayContext): Promise<ChainVerification> {
  const store = ctx.stores.traces;
  const { fromSeq, toSeq } = args;
  if (fromSeq != null && fromSeq < 0) throw badUserInput("fromSeq must not be negative.", "fromSeq");
  if (toSeq != null && toSeq < 0) throw badUserInput("toSeq must not be negative.", "toSeq");
  if (fromSeq != null && toSeq != null && fromSeq > toSeq) {
    throw badUserInput("fromSeq must not be greater than toSeq.", "fromSeq");
  }
  // Read the head before walking: it vouches for at least every record up to its nextSeq.
  const head = await store.head();
  const start = fromSeq ?? 0;
  let expectedPrevHash = GENESIS_HASH;
  const verifier = () => new ChainVerifier({ hash: ctx.hash, expectedPrevHash, expectedFirstSeq: start });
  if (start > 0 && start < head.nextSeq) {
    const [previous] = await store.findBySeqs([start - 1]);
    if (!previous) {
      const v = verifier();
      v.fail(1, start - 1, "NON_CONTIGUOUS", `Record seq ${start - 1}, which precedes the range, is missing (deletion).`);
      return v.result();
    }
    expectedPrevHash = previous.recordHash;
  }
  // Pass 1: seq, link and HMAC of every record, streamed (the reference's checks).
  const v = verifier();
  for await (const record of store.scanChain(toSeq == null ? { fromSeq: start } : { fromSeq: start, toSeq })) {
    if (!v.check(record)) break;
  }
  if (!v.failure) checkAgainstHead(v, head, toSeq ?? null);
  const chain = v.result();
  // Pass 2: indexed columns against the payloads the chain just vouched for, compared inside
  // the database; candidates are confirmed here. A mismatch before the chain's first
  // failure is the first bad record.
  const vouchedThrough = chain.ok ? start + chain.checked - 1 : (chain.firstBadSeq ?? start) - 1;
  const mismatch = await firstColumnMismatch(ctx, start, vouchedThrough);
  return mismatch ?? chain;
}

/** Candidates per database round trip of the column pass. */
const CANDIDATE_BATCH = 100;

async function firstColumnMismatch(ctx: GatewayContext, fromSeq: number, toSeq: number): Promise<ChainVerification | null> {
  const store = ctx.stores.traces;
  for (let from = fromSeq; from <= toSeq; ) {
    const candidates = await store.columnMismatchCandidates({ fromSeq: from, toSeq }, CANDIDATE_BATCH);
    for (const row of (await store.findBySeqs(candidates)).sort((a, b) => a.seq - b.seq)) {
      const columns = checkColumns(row, row.payload);
      if (columns.length > 0) return columnMismatchFailure(row.seq - fromSeq + 1, row.seq, columns);
    }
    if (candidates.length < CANDIDATE_BATCH) return null;
    from = candidates[candidates.length - 1]! + 1;
  }
  return null;
}

function checkAgainstHead(v: ChainVerifier, head: ChainHead, toSeq: number | null): void {
  const next = v.nextSeq ?? 0;
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

/** The current chain head. */
export function chainHead(ctx: GatewayContext): Promise<ChainHead> {
  return ctx.stores.traces.head();
}

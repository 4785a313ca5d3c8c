/**
 * What the last chain verification (the Verify tab) found, so the explorer can mark each
 * row: verified, the record where the chain breaks, or unverified (after the first bad seq
 * nothing can be vouched for: verifyChain stops at the first failure). Kept in memory for
 * this page only: a reload or another key starts with "not verified".
 */
import type { VerificationFailureKind } from "../gql/graphql.js";

/** The result of one verifyChain run over [fromSeq, toSeq]. */
export interface VerificationRun {
  ok: boolean;
  /** The first seq checked. */
  fromSeq: number;
  /** The last seq checked (for an ok run) or that would have been checked. */
  toSeq: number;
  firstBadSeq: number | null;
  kind: VerificationFailureKind | null;
  detail: string;
  /** When the run finished (ISO). */
  at: string;
}

/** A row's standing after the last run. */
export type RowIntegrity =
  | { state: "verified" }
  | { state: "bad"; kind: VerificationFailureKind | null; detail: string }
  | { state: "unverified"; firstBadSeq: number }
  | { state: "unchecked" };

let last: VerificationRun | null = null;
const listeners = new Set<() => void>();

/** Record a run and tell the listeners (the explorer re-marks its rows). */
export function recordVerification(run: VerificationRun): void {
  last = run;
  for (const listener of listeners) listener();
}

export function lastVerification(): VerificationRun | null {
  return last;
}

export function onVerification(listener: () => void): void {
  listeners.add(listener);
}

/** The standing of the record at `seq` after the last run. */
export function integrityOf(seq: number, run = last): RowIntegrity {
  if (!run || seq < run.fromSeq || seq > run.toSeq) return { state: "unchecked" };
  if (run.ok) return { state: "verified" };
  // A failure without a seq (a checkpoint that does not authenticate) vouches for nothing.
  if (run.firstBadSeq === null) return { state: "unchecked" };
  if (seq < run.firstBadSeq) return { state: "verified" };
  if (seq === run.firstBadSeq) return { state: "bad", kind: run.kind, detail: run.detail };
  return { state: "unverified", firstBadSeq: run.firstBadSeq };
}

/**
 * The headline of verifyTrace's verdict on the record at `seq`: where the failure is (this
 * record, the one before or the one after) and what it is, by `kind` (the closed set of
 * src/chain/verify.ts). Built from the kind and the seq alone, never from the server's detail
 * text, so that a rewording there cannot make it wrong: a deleted neighbour is "missing",
 * not "does not link". Without a trailing full stop.
 */
export function verdictHeadline(kind: VerificationFailureKind | null, badSeq: number | null, seq: number): string {
  const here = badSeq === null || badSeq === seq;
  const side = here ? "this record" : badSeq < seq ? `the previous record (seq ${badSeq})` : `the next record (seq ${badSeq})`;
  const before = badSeq !== null && badSeq < seq;
  const doubt = before ? ", so this one cannot be vouched for" : "";
  switch (kind) {
    case "MUTATED":
      return here ? "at this record: its HMAC does not recompute, its content was changed" : `at ${side}: its HMAC does not recompute${doubt}`;
    case "COLUMN_MISMATCH":
      return `at ${side}: its indexed columns disagree with its hashed payload${doubt}`;
    case "BROKEN_LINK":
      if (here) return `at this record: it does not link to the record before it (seq ${seq - 1}) as stored`;
      if (before) return `at ${side}, which does not link to the record before it${doubt}`;
      return `at ${side}, which does not link to this one as stored: this record or the next was replaced`;
    case "NON_CONTIGUOUS":
      if (here) return "at this record: it is out of sequence";
      return `at ${side}: it is missing (deleted)${before ? doubt : ", though the chain head vouches for it"}`;
    case "TRUNCATED":
      if (here) return "at this record: the chain head vouches for it but the chain walk did not reach it (truncated)";
      return `at ${side}: records the chain head vouches for are missing from seq ${badSeq} on (truncated)`;
    case "CHECKPOINT_INVALID":
      return `at the prune checkpoint the chain starts from${badSeq === null ? "" : ` (seq ${badSeq})`}: it does not authenticate, so no record after it can be vouched for`;
    case null:
      return `at ${side}`;
  }
}

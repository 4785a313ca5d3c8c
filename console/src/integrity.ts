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

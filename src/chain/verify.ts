/**
 * Streaming chain verification: the reference's checks plus tracegate's extensions, both
 * described in docs/reference-compatibility.md#verification.
 *
 * Records are checked one at a time, in chain order, in constant memory. For each record the
 * reference's three checks run in its order - contiguous seq, link to the previous hash,
 * recomputed HMAC - and then tracegate's own: the indexed filter columns must agree with the
 * hashed payload (an edited index column would otherwise silently change query results).
 * The first failure ends the walk; its kind and the record's seq are reported.
 */
import { hashesEqual, type RecordHasher } from "./hash.js";
import { CorruptPayloadError, mismatchedColumns, type TraceColumns } from "./trace.js";

/** Why verification failed; a closed set, exposed as a GraphQL enum. */
export type VerificationFailureKind =
  | "NON_CONTIGUOUS"
  | "BROKEN_LINK"
  | "MUTATED"
  | "COLUMN_MISMATCH"
  | "TRUNCATED"
  | "CHECKPOINT_INVALID";

/** One stored chain record. */
export interface ChainRecord {
  seq: number;
  prevHash: string;
  recordHash: string;
  payload: string;
}

/** The outcome of a verification, in the reference's terms plus a failure kind. */
export interface ChainVerification {
  ok: boolean;
  /** Records checked; on failure, the 1-based position of the failing record. */
  checked: number;
  firstBadSeq: number | null;
  kind: VerificationFailureKind | null;
  detail: string;
}

export interface VerifyOptions {
  hash: RecordHasher;
  /** prev_hash the first record must carry (GENESIS_HASH, or a checkpoint's hash). */
  expectedPrevHash: string;
  /** seq the first record must carry; by default the first record's own seq (as the reference). */
  expectedFirstSeq?: number;
}

/** An incremental verifier: feed records in chain order with `check`, then read `result`. */
export class ChainVerifier {
  #expectedPrev: string;
  #expectedSeq: number | undefined;
  #checked = 0;
  #failure: ChainVerification | null = null;

  constructor(private readonly options: VerifyOptions) {
    this.#expectedPrev = options.expectedPrevHash;
    this.#expectedSeq = options.expectedFirstSeq;
  }

  /** The failure so far, if any. Once failed, further records are ignored. */
  get failure(): ChainVerification | null {
    return this.#failure;
  }

  /** The hash the next record must link to (the last verified record's hash). */
  get lastHash(): string {
    return this.#expectedPrev;
  }

  /** seq the next record must carry, once at least one record was seen. */
  get nextSeq(): number | undefined {
    return this.#expectedSeq;
  }

  /** Number of records verified so far. */
  get checked(): number {
    return this.#checked;
  }

  /**
   * Check the next record, and when `columns` (the indexed copies of payload fields) are
   * given, that they match the hashed payload. `hashVerified` says its HMAC was already
   * recomputed and matched elsewhere (./hash-pool.ts); seq and link are checked regardless.
   * Returns false once the chain has failed.
   */
  check(record: ChainRecord, columns?: TraceColumns, hashVerified = false): boolean {
    if (this.#failure) return false;
    const position = this.#checked + 1;
    const expectedSeq = this.#expectedSeq ?? record.seq;
    if (record.seq !== expectedSeq) {
      return this.fail(
        position,
        record.seq,
        "NON_CONTIGUOUS",
        `Non-contiguous sequence at position ${position}: expected seq ${expectedSeq}, found ${record.seq} (insertion, deletion, or reorder).`,
      );
    }
    if (!hashesEqual(record.prevHash, this.#expectedPrev)) {
      return this.fail(
        position,
        record.seq,
        "BROKEN_LINK",
        `Broken link at seq ${record.seq}: prev_hash does not match the preceding record's hash (insertion, deletion, or reorder).`,
      );
    }
    if (!hashVerified && !hashesEqual(this.options.hash(record.seq, record.prevHash, record.payload), record.recordHash)) {
      return this.fail(
        position,
        record.seq,
        "MUTATED",
        `Tampered record at seq ${record.seq}: content does not match its stored hash (mutation, or wrong secret).`,
      );
    }
    if (columns) {
      const mismatched = checkColumns(columns, record.payload);
      if (mismatched.length > 0) {
        this.#failure ??= columnMismatchFailure(position, record.seq, mismatched);
        return false;
      }
    }
    this.#checked = position;
    this.#expectedPrev = record.recordHash;
    this.#expectedSeq = record.seq + 1;
    return true;
  }

  /** Record a failure found outside the per-record checks (e.g. a truncated tail). */
  fail(position: number, seq: number, kind: VerificationFailureKind, detail: string): false {
    this.#failure ??= { ok: false, checked: position, firstBadSeq: seq, kind, detail };
    return false;
  }

  /** The verification result: the first failure, or success over every record checked. */
  result(): ChainVerification {
    return (
      this.#failure ?? {
        ok: true,
        checked: this.#checked,
        firstBadSeq: null,
        kind: null,
        detail: `Verified ${this.#checked} record(s).`,
      }
    );
  }
}

/** The failure for indexed columns that disagree with the hashed payload. */
export function columnMismatchFailure(position: number, seq: number, columns: readonly string[]): ChainVerification {
  return {
    ok: false,
    checked: position,
    firstBadSeq: seq,
    kind: "COLUMN_MISMATCH",
    detail: `Column mismatch at seq ${seq}: ${columns.join(", ")} differ from the hashed payload (index columns edited).`,
  };
}

/** The indexed columns of a record that disagree with its payload (a corrupt payload counts). */
export function checkColumns(columns: TraceColumns, payload: string): string[] {
  try {
    return mismatchedColumns(columns, payload);
  } catch (e) {
    if (!(e instanceof CorruptPayloadError)) throw e;
    return [`payload (${e.message})`];
  }
}

/** Verify a whole sequence of records (sync or async iterable) in constant memory. */
export async function verifyRecords(
  records: Iterable<ChainRecord> | AsyncIterable<ChainRecord>,
  options: VerifyOptions,
): Promise<ChainVerification> {
  const verifier = new ChainVerifier(options);
  for await (const record of records) {
    if (!verifier.check(record)) break;
  }
  return verifier.result();
}

/**
 * The persistence contract for capability-token revocation, with the reference's semantics
 * (docs/reference-compatibility.md#revocation): `trackToken` on every issue, idempotent
 * `revokeToken`, `revokePrincipal` counting only newly revoked tokens, and a sweep that forgets
 * expired tokens but never un-revokes a live one.
 *
 * Every mutation is audited: it takes an `audit` function that builds the admin trace from
 * the mutation's result, and the store applies the state change and appends that trace in
 * ONE transaction, so the revocation state never changes without a chain record saying so
 * (and a chain record never claims a change that rolled back).
 */
import type { EncodedTrace } from "../chain/trace.js";
import type { EpochMicros } from "../chain/time.js";
import type { TraceRow } from "./trace-store.js";

/** Everything stored about one token. */
export interface RevocationRecord {
  tokenId: string;
  /** Principals the token was tracked for (code-point order); empty once revokePrincipal dropped them. */
  principals: string[];
  /** From trackToken; null for a token that was revoked without being tracked (never swept). */
  expiresAtUs: EpochMicros | null;
  /** When the first revocation happened; null = not revoked. */
  revokedAtUs: EpochMicros | null;
  /** The first revocation's reason. */
  reason: string | null;
  /** Who revoked it first: the principal of the audit trace that recorded the revocation. */
  revokedBy: string | null;
}

/**
 * Builds the audit trace of a mutation from its result. It may be called more than once
 * (a transaction that lost a lock race is retried whole), so it must not have side effects.
 */
export type Audit<R> = (result: R) => EncodedTrace;

/** A committed mutation: what it did, and the chain record that logged it. */
export interface Audited<R> {
  result: R;
  trace: TraceRow;
}

/** What revokeToken did. */
export interface RevokeTokenOutcome {
  /** False when the token was already revoked (its first time and reason are kept). */
  newlyRevoked: boolean;
  /** The token after the call. */
  revocation: RevocationRecord;
}

/** Filters AND-ed together. */
export interface RevocationFilter {
  /** Only tokens tracked for this principal (and not yet dropped by revokePrincipal). */
  principalId?: string;
  /** Only revoked (true) or only unrevoked (false) tokens. */
  revoked?: boolean;
  /** Only tokens with an expiry strictly before this instant (tokens without expiry never match). */
  expiresBeforeUs?: EpochMicros;
}

/** One keyset page request, by tokenId ascending. */
export interface RevocationPageQuery {
  filter: RevocationFilter;
  /** Only tokens whose id sorts strictly after this one. */
  after?: string;
  limit: number;
}

/** Revocation state, durable and shared by every gateway process on the database. */
export interface RevocationStore {
  /**
   * Record that a token was issued to a principal and when it expires. A repeated
   * principal/token pair is ignored and the expiry is replaced (the reference's `track`).
   * Revocation state is untouched: tracking a revoked token does not un-revoke it.
   * The audit function receives the token's record after the call.
   */
  trackToken(
    tokenId: string,
    principalId: string,
    expiresAtUs: EpochMicros,
    audit: Audit<RevocationRecord>,
  ): Promise<Audited<RevocationRecord>>;

  /**
   * Revoke a token, tracked or not. Idempotent: a revoked token keeps its first revocation
   * time, reason and revoker. A token revoked without being tracked has no expiry, so it is
   * never swept. The audit function receives whether this call newly revoked it.
   */
  revokeToken(
    tokenId: string,
    reason: string | null,
    audit: Audit<{ newlyRevoked: boolean }>,
  ): Promise<Audited<RevokeTokenOutcome>>;

  /**
   * Revoke every token tracked for a principal and drop that principal's index rows. The
   * tokens' expiry rows stay, so they are still swept later.
   * @returns how many tokens were newly revoked (already revoked ones are not counted).
   */
  revokePrincipal(principalId: string, reason: string | null, audit: Audit<number>): Promise<Audited<number>>;

  /**
   * Remove all state (expiry, revoked flag, principal index rows) of every token whose
   * expiry is at or before `nowUs` (equality included). A token that has not expired is
   * never touched, so a live revoked token is never un-revoked; a token without expiry
   * (revoked but never tracked) is never swept.
   * @returns how many tokens were removed, revoked or not.
   */
  sweepExpired(nowUs: EpochMicros, audit: Audit<number>): Promise<Audited<number>>;

  /** Whether a token is revoked (a swept token is not: it is forgotten). */
  isRevoked(tokenId: string): Promise<boolean>;

  /** Everything stored about a token, or null when nothing is. */
  get(tokenId: string): Promise<RevocationRecord | null>;

  /** One keyset page of tokens by tokenId ascending (the database's text order). */
  page(query: RevocationPageQuery): Promise<RevocationRecord[]>;
}

/**
 * Token revocation (docs/reference-compatibility.md#revocation): trackToken, revokeToken,
 * revokePrincipal, sweepExpiredRevocations, and the isRevoked / revocation / revocations queries.
 *
 * Each mutation is validated here, before the store is called, so a refused request never
 * reaches the chain; the store then applies the change and appends its admin trace
 * (`tracegate.<operation>`, principal = the acting key) in one transaction.
 */
import type { JsonObject } from "../chain/json.js";
import { formatIsoMicros, type EpochMicros } from "../chain/time.js";
import { badUserInput, storableIdentifier } from "../errors.js";
import type { Caller } from "./caller.js";
import type {
  Audit,
  Audited,
  RevocationFilter,
  RevocationRecord,
  RevokeTokenOutcome,
} from "../stores/revocation-store.js";
import { adminTrace } from "./admin-trace.js";
import { type Connection, keysetConnection } from "./connection.js";
import { revocationCursor } from "./cursor.js";
import { MAX_ID_LENGTH } from "./ingest.js";

/** Longest revocation reason. */
export const MAX_REASON_LENGTH = 1_024;

/** A token or principal id: 1 to MAX_ID_LENGTH characters, like every id in a trace. */
function checkId(field: string, value: string): string {
  if (value.length === 0) throw badUserInput(`${field} must not be empty.`, field);
  if (value.length > MAX_ID_LENGTH) throw badUserInput(`${field} is longer than ${MAX_ID_LENGTH} characters.`, field);
  storableIdentifier(value, field);
  return value;
}

function checkReason(reason: string | null | undefined): string | null {
  if (reason == null) return null;
  if (reason.length > MAX_REASON_LENGTH) {
    throw badUserInput(`reason is longer than ${MAX_REASON_LENGTH} characters.`, "reason");
  }
  return storableIdentifier(reason, "reason");
}

/** The audit function of one operation by the request's key. */
function auditBy<R>(ctx: Caller, operation: string, args: JsonObject, summarize: (result: R) => JsonObject): Audit<R> {
  return (result) => adminTrace({ keyId: ctx.viewer.keyId }, operation, args, summarize(result));
}

/*
 * Counts go into the hashed JSON as bigint: a JS number there is a Python float (1 -> 1.0).
 */

export interface TrackTokenArgs {
  tokenId: string;
  principalId: string;
  /** May be in the past: the token is then swept by the next sweep. */
  expiresAt: EpochMicros;
}

/** trackToken: record that a token was issued to a principal, and its expiry. */
export function trackToken(args: TrackTokenArgs, ctx: Caller): Promise<Audited<RevocationRecord>> {
  const tokenId = checkId("tokenId", args.tokenId);
  const principalId = checkId("principalId", args.principalId);
  const audit = auditBy<RevocationRecord>(
    ctx,
    "trackToken",
    { tokenId, principalId, expiresAt: formatIsoMicros(args.expiresAt) },
    (r) => ({ revoked: r.revokedAtUs !== null }),
  );
  return ctx.stores.revocations.trackToken(tokenId, principalId, args.expiresAt, audit);
}

export interface RevokeTokenArgs {
  tokenId: string;
  reason?: string | null;
}

/** revokeToken: revoke one token; idempotent (the first time and reason are kept). */
export function revokeToken(args: RevokeTokenArgs, ctx: Caller): Promise<Audited<RevokeTokenOutcome>> {
  const tokenId = checkId("tokenId", args.tokenId);
  const reason = checkReason(args.reason);
  const audit = auditBy<{ newlyRevoked: boolean }>(ctx, "revokeToken", { tokenId, reason }, (r) => ({
    newlyRevoked: r.newlyRevoked,
  }));
  return ctx.stores.revocations.revokeToken(tokenId, reason, audit);
}

export interface RevokePrincipalArgs {
  principalId: string;
  reason?: string | null;
}

/** revokePrincipal: revoke every token tracked for a principal; counts only newly revoked ones. */
export function revokePrincipal(args: RevokePrincipalArgs, ctx: Caller): Promise<Audited<number>> {
  const principalId = checkId("principalId", args.principalId);
  const reason = checkReason(args.reason);
  const audit = auditBy<number>(ctx, "revokePrincipal", { principalId, reason }, (n) => ({ newlyRevoked: BigInt(n) }));
  return ctx.stores.revocations.revokePrincipal(principalId, reason, audit);
}

export interface SweepArgs {
  /** The sweep instant; absent = the server's clock. May not be later than the server's clock (plus SWEEP_CLOCK_SKEW_US). */
  now?: EpochMicros | null;
}

/** What a sweep did, and the instant it swept at. */
export interface SweepOutcome {
  swept: number;
  nowUs: EpochMicros;
}

/**
 * How far `now` may run ahead of the server's clock: 5 minutes, for a caller whose clock is a
 * little ahead. Beyond it the sweep is refused (BAD_USER_INPUT): a sweep "in the future" would
 * forget revocations of tokens that are still valid, and un-revoke them.
 */
export const SWEEP_CLOCK_SKEW_US = 5 * 60 * 1_000_000;

/**
 * sweepExpiredRevocations: forget every token whose expiry is at or before `now`.
 *
 * Revocation is one-way (docs/reference-compatibility.md#revocation: a sweep never un-revokes a
 * token that has not expired; issue 14, case 8): the instant swept at is the earlier of `now`
 * and the server's clock, so a token is only ever forgotten once it has really expired, and a
 * `now` more than SWEEP_CLOCK_SKEW_US ahead of the server's clock is refused rather than
 * silently clamped. An earlier `now` sweeps less, which is always safe.
 * @throws BAD_USER_INPUT (field `now`) when `now` is too far in the future.
 */
export async function sweepExpiredRevocations(args: SweepArgs, ctx: Caller): Promise<Audited<SweepOutcome>> {
  const serverUs = Date.now() * 1000;
  if (args.now != null && args.now > serverUs + SWEEP_CLOCK_SKEW_US) {
    throw badUserInput(
      `now (${formatIsoMicros(args.now)}) is later than the server's clock (${formatIsoMicros(serverUs)}) by more than 5 minutes: ` +
        "a sweep in the future would forget revocations of tokens that have not expired.",
      "now",
    );
  }
  const nowUs = args.now == null ? serverUs : Math.min(args.now, serverUs);
  const now = formatIsoMicros(nowUs);
  // args record what was asked (null = server time); the result records the instant used.
  const audit = auditBy<number>(ctx, "sweepExpiredRevocations", { now: args.now == null ? null : formatIsoMicros(args.now) }, (n) => ({
    swept: BigInt(n),
    now,
  }));
  const { result, trace } = await ctx.stores.revocations.sweepExpired(nowUs, audit);
  return { result: { swept: result, nowUs }, trace };
}

/** isRevoked(tokenId). */
export function isRevoked(args: { tokenId: string }, ctx: Caller): Promise<boolean> {
  return ctx.stores.revocations.isRevoked(checkId("tokenId", args.tokenId));
}

/** revocation(tokenId): everything stored about a token, or null. */
export function revocation(args: { tokenId: string }, ctx: Caller): Promise<RevocationRecord | null> {
  return ctx.stores.revocations.get(checkId("tokenId", args.tokenId));
}

// ---------------------------------------------------------------------------------------
// The revocations connection
// ---------------------------------------------------------------------------------------

/** Revocations page by tokenId ascending (src/app/cursor.ts). */
const REVOCATION_CURSOR = revocationCursor(MAX_ID_LENGTH);

/** The GraphQL RevocationFilter input. */
export interface RevocationFilterInput {
  principalId?: string | null;
  revoked?: boolean | null;
  /** Exclusive upper bound of expiresAt. */
  expiresBefore?: EpochMicros | null;
}

export interface RevocationsArgs {
  filter?: RevocationFilterInput | null;
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

function toStoreFilter(input: RevocationFilterInput | null | undefined): RevocationFilter {
  const f: RevocationFilter = {};
  if (!input) return f;
  if (input.principalId != null) f.principalId = checkId("filter.principalId", input.principalId);
  if (input.revoked != null) f.revoked = input.revoked;
  if (input.expiresBefore != null) f.expiresBeforeUs = input.expiresBefore;
  return f;
}

/** revocations(filter, first, after): keyset pages by tokenId ascending. */
export function revocations(args: RevocationsArgs, ctx: Pick<Caller, "stores">): Promise<Connection<RevocationRecord>> {
  const filter = toStoreFilter(args.filter);
  const store = ctx.stores.revocations;
  return keysetConnection<RevocationRecord, string>(args, {
    cursor: REVOCATION_CURSOR,
    // The keyset runs forward only; refusing beats silently ignoring the arguments.
    forwardOnly: "revocations pages forward only: use 'first' and 'after'.",
    read: ({ after, limit }) => store.page({ filter, limit, ...(after === undefined ? {} : { after }) }),
  });
}

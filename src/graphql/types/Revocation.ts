/**
 * Revocation: capability-token revocation state with the reference's semantics
 * (docs/reference-compatibility.md#revocation), its queries `isRevoked`, `revocation` and
 * `revocations`, and the mutations `trackToken`, `revokeToken`, `revokePrincipal` and
 * `sweepExpiredRevocations`. Each mutation result carries `auditTrace`, the chain record
 * appended in the same transaction as the change.
 */
import {
  isRevoked,
  revocation,
  revocations,
  revokePrincipal,
  revokeToken,
  type SweepOutcome,
  sweepExpiredRevocations,
  trackToken,
} from "../../app/revocations.js";
import type { Audited, RevocationRecord, RevokeTokenOutcome } from "../../stores/revocation-store.js";
import { builder } from "../builder.js";
import { TraceRef } from "./Trace.js";

/*
 * Scopes. Reading needs traces:read or revocations:write (a revoker must see what it did).
 * Everything but isRevoked also needs an unconfined key (`allPrincipals`): a token's record
 * names its principals, and a revocation or sweep acts across principals, so a key confined
 * to some principals could otherwise see or change other tenants' tokens.
 */
const READ = { $any: { "traces:read": true, "revocations:write": true } } as const;
const READ_ALL = { $all: { ...READ, allPrincipals: true } } as const;
const WRITE = { $all: { "revocations:write": true, allPrincipals: true } } as const;

const AUDIT_TRACE_DESCRIPTION =
  "The chain record (capability tracegate.<operation>, principal = the acting key) appended in the same " +
  "transaction as the change. Selecting it needs traces:read, like every Trace.";

const RevocationRef = builder.objectRef<RevocationRecord>("Revocation").implement({
  description:
    "What the gateway knows about one capability token: its expiry (from trackToken), its principals and " +
    "whether it is revoked. Swept tokens are forgotten entirely.",
  fields: (t) => ({
    tokenId: t.exposeString("tokenId"),
    principals: t.stringList({
      description: "Principals the token was tracked for, in code-point order. revokePrincipal drops its principal from this index.",
      resolve: (r) => r.principals,
    }),
    expiresAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "From trackToken. Null for a token revoked without being tracked: such a token is never swept.",
      resolve: (r) => r.expiresAtUs,
    }),
    revoked: t.boolean({ resolve: (r) => r.revokedAtUs !== null }),
    revokedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When it was first revoked (the instant of the audit trace that logged it). Later revocations keep it.",
      resolve: (r) => r.revokedAtUs,
    }),
    reason: t.exposeString("reason", { nullable: true, description: "The first revocation's reason." }),
    revokedBy: t.exposeString("revokedBy", { nullable: true, description: "The id of the API key that first revoked it." }),
  }),
});

const TrackTokenResultRef = builder.objectRef<Audited<RevocationRecord>>("TrackTokenResult").implement({
  fields: (t) => ({
    revocation: t.field({ type: RevocationRef, resolve: (a) => a.result }),
    auditTrace: t.field({ type: TraceRef, description: AUDIT_TRACE_DESCRIPTION, resolve: (a) => a.trace }),
  }),
});

const RevokeTokenResultRef = builder.objectRef<Audited<RevokeTokenOutcome>>("RevokeTokenResult").implement({
  fields: (t) => ({
    revocation: t.field({ type: RevocationRef, resolve: (a) => a.result.revocation }),
    newlyRevoked: t.boolean({
      description: "False when the token was already revoked; its first revocation time and reason were kept.",
      resolve: (a) => a.result.newlyRevoked,
    }),
    auditTrace: t.field({ type: TraceRef, description: AUDIT_TRACE_DESCRIPTION, resolve: (a) => a.trace }),
  }),
});

const RevokePrincipalResultRef = builder.objectRef<Audited<number>>("RevokePrincipalResult").implement({
  fields: (t) => ({
    newlyRevoked: t.int({
      description: "Tokens of the principal this call revoked; tokens that were already revoked are not counted.",
      resolve: (a) => a.result,
    }),
    auditTrace: t.field({ type: TraceRef, description: AUDIT_TRACE_DESCRIPTION, resolve: (a) => a.trace }),
  }),
});

const SweepResultRef = builder.objectRef<Audited<SweepOutcome>>("SweepResult").implement({
  fields: (t) => ({
    swept: t.int({
      description: "Tokens removed: every tracked token with expiresAt <= now, revoked or not.",
      resolve: (a) => a.result.swept,
    }),
    now: t.field({ type: "DateTime", description: "The instant swept at.", resolve: (a) => a.result.nowUs }),
    auditTrace: t.field({ type: TraceRef, description: AUDIT_TRACE_DESCRIPTION, resolve: (a) => a.trace }),
  }),
});

const RevocationFilterInput = builder.inputType("RevocationFilter", {
  description: "Filters AND-ed together.",
  fields: (t) => ({
    principalId: t.string({ description: "Only tokens tracked for this principal (revokePrincipal drops them from this index)." }),
    revoked: t.boolean({ description: "Only revoked (true) or only unrevoked (false) tokens." }),
    expiresBefore: t.field({
      type: "DateTime",
      description: "Only tokens whose expiresAt is strictly before this instant; tokens without expiry never match.",
    }),
  }),
});

builder.queryFields((t) => ({
  isRevoked: t.boolean({
    description: "Whether a token is revoked. A swept (expired) token is forgotten, so it reads false.",
    args: { tokenId: t.arg.string({ required: true }) },
    authScopes: READ,
    resolve: (_root, args, ctx) => isRevoked(args, ctx),
  }),
  revocation: t.field({
    type: RevocationRef,
    nullable: true,
    description: "Everything stored about a token, or null when nothing is (never tracked or revoked, or swept).",
    args: { tokenId: t.arg.string({ required: true }) },
    authScopes: READ_ALL,
    resolve: (_root, args, ctx) => revocation(args, ctx),
  }),
  revocations: t.connection(
    {
      type: RevocationRef,
      description: "Known tokens by tokenId ascending, as keyset pages (default 20, max 500; forward only: first/after).",
      args: { filter: t.arg({ type: RevocationFilterInput }) },
      authScopes: READ_ALL,
      resolve: (_root, args, ctx) => revocations(args, ctx),
    },
    { name: "RevocationConnection" },
  ),
}));

builder.mutationFields((t) => ({
  trackToken: t.field({
    type: TrackTokenResultRef,
    description:
      "Record that a token was issued to a principal and when it expires (call on every issue). A repeated " +
      "principal/token pair is ignored and the expiry replaced; a revoked token stays revoked. expiresAt may be past.",
    args: {
      tokenId: t.arg.string({ required: true }),
      principalId: t.arg.string({ required: true }),
      expiresAt: t.arg({ type: "DateTime", required: true }),
    },
    authScopes: WRITE,
    resolve: (_root, args, ctx) => trackToken(args, ctx),
  }),
  revokeToken: t.field({
    type: RevokeTokenResultRef,
    description:
      "Revoke a token, tracked or not. Idempotent: the first revocation's time, reason and revoker are kept. " +
      "A token revoked without being tracked has no expiry and is never swept.",
    args: {
      tokenId: t.arg.string({ required: true }),
      reason: t.arg.string({ description: "At most 1,024 characters and 1,024 UTF-8 bytes." }),
    },
    authScopes: WRITE,
    resolve: (_root, args, ctx) => revokeToken(args, ctx),
  }),
  revokePrincipal: t.field({
    type: RevokePrincipalResultRef,
    description:
      "Revoke every token tracked for a principal and drop that principal's index entries. The tokens' expiries " +
      "are kept, so they are still swept later. Returns how many tokens were newly revoked.",
    args: {
      principalId: t.arg.string({ required: true }),
      reason: t.arg.string({ description: "At most 1,024 characters and 1,024 UTF-8 bytes." }),
    },
    authScopes: WRITE,
    resolve: (_root, args, ctx) => revokePrincipal(args, ctx),
  }),
  sweepExpiredRevocations: t.field({
    type: SweepResultRef,
    description:
      "Remove all state (expiry, revoked flag, principal index) of every tracked token whose expiresAt <= now, " +
      "equality included. A token that has not expired is never touched, so a live revoked token is never " +
      "un-revoked; a token revoked without being tracked is never swept.",
    args: { now: t.arg({ type: "DateTime", description: "The sweep instant; default the server's clock." }) },
    authScopes: WRITE,
    resolve: (_root, args, ctx) => sweepExpiredRevocations(args, ctx),
  }),
}));

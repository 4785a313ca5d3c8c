/**
 * Trace: one record of the audit chain (Relay node), with its query fields
 * `trace(actionId)` and `traces(...)` and the ingest mutations `recordTraces` (TraceInput
 * objects) and `recordTraceRecords` (raw export-object JSON text, kept byte-exact).
 */
import { storableIdentifier, TracegateError } from "../../errors.js";
import { findRedactionMarkers, type Redaction } from "../../ingest/secrets.js";
import { MAX_BATCH, recordTraceRecords, recordTraces } from "../../app/ingest.js";
import { exactPayloadOf, ocsfOf, payloadNullableString, payloadString } from "../../app/trace-view.js";
import { traces } from "../../app/query.js";
import type { TraceRow } from "../../stores/trace-store.js";
import { viewerCan } from "../../access/authenticator.js";
import type { GraphQLContext } from "../context.js";
import { builder } from "../builder.js";
import {
  EventTypeEnum,
  OutcomeEnum,
  ResponseModeEnum,
  SensitivityEnum,
  TraceOrderEnum,
} from "./enums.js";
import type { ResponseMode, Sensitivity } from "../../chain/trace.js";

const SEQ_ID = /^\d{1,16}$/;

/**
 * Who may read a Trace: the type-level scope of every field. Guards node(id)/nodes(ids) too,
 * and the query, node and subscription fields returning Trace demand it as well.
 */
const TRACE_READ = { "traces:read": true } as const;

/**
 * The `$granted` scope of an acknowledgement. A mutation that appends traces grants it to the
 * Trace rows it returns (`grantScopes: GRANT_TRACE_ACK`), so a `traces:write`-only key reads
 * back exactly the acknowledgement fields of what it just wrote, and nothing else: every
 * other field keeps TRACE_READ, and Pothos grants reach only the list items of the granting
 * field, never a query, a node or a nested object.
 */
const TRACE_ACK = "Trace.ack";

/** Put on every mutation field that returns the Trace rows it appended: one line, `grantScopes: GRANT_TRACE_ACK`. */
export const GRANT_TRACE_ACK: string[] = [TRACE_ACK];

/** Scope map of the acknowledgement fields for a key without traces:read. */
const ACK_GRANTED = { $granted: TRACE_ACK } as const;

/**
 * Options of an acknowledgement field (id, seq, actionId, invokedAt, prevHash, recordHash):
 * TRACE_READ or the TRACE_ACK grant. It replaces the type-level check on these fields
 * (skipTypeScopes) rather than adding one, and a reader passes on a boolean that Pothos
 * answers without building a scope map: a traces page pays the same one check per field
 * and row as before, none more.
 */
const ACK = {
  skipTypeScopes: true,
  authScopes: (_row: TraceRow, _args: object, ctx: GraphQLContext) => viewerCan(ctx.viewer, "traces:read") || ACK_GRANTED,
} as const;

export const TraceRef = builder.objectRef<TraceRow>("Trace");

const RedactionRef = builder.objectRef<Redaction>("Redaction").implement({
  description: "One value redacted at ingest.",
  fields: (t) => ({
    path: t.exposeString("path", { description: "Where, e.g. args.headers.authorization or error." }),
    kind: t.exposeString("kind", { description: "What it looked like, e.g. aws-access-key-id, bearer-token." }),
  }),
});

builder.node(TraceRef, {
  description: "One audit trace and its place in the HMAC hash chain.",
  id: {
    ...ACK,
    resolve: (row) => String(row.seq),
    parse: (id) => {
      if (!SEQ_ID.test(id)) throw new TracegateError("NOT_FOUND", "No trace has this id.");
      return Number(id);
    },
  },
  authScopes: TRACE_READ,
  // A principal-scoped key loads only its own principals' traces: other ids are null. Pothos
  // reads the results by index, so they are put back in the order of the ids asked for (the
  // store returns the rows it found, in no particular order).
  loadMany: async (seqs: number[], ctx) => {
    const found = new Map((await ctx.stores.traces.findBySeqs(seqs)).map((row) => [row.seq, row]));
    return seqs.map((seq) => found.get(seq) ?? null);
  },
  fields: (t) => ({
    seq: t.field({ ...ACK, type: "SafeInt", description: "Position in the chain, gapless from 0.", resolve: (r) => r.seq }),
    actionId: t.exposeString("actionId", ACK),
    capabilityId: t.exposeString("capabilityId"),
    principalId: t.exposeString("principalId", { description: "Empty for an expand with no principal." }),
    tokenId: t.string({ description: "Empty for deny and expand events.", resolve: (r) => payloadString(r, "token_id") }),
    invokedAt: t.field({ ...ACK, type: "DateTime", resolve: (r) => r.invokedAtUs }),
    responseMode: t.field({ type: ResponseModeEnum, resolve: (r) => payloadString(r, "response_mode") as ResponseMode }),
    driverId: t.string({ resolve: (r) => payloadString(r, "driver_id") }),
    handleId: t.string({ nullable: true, resolve: (r) => payloadNullableString(r, "handle_id") }),
    sensitivity: t.field({ type: SensitivityEnum, resolve: (r) => (payloadString(r, "sensitivity") || "NONE") as Sensitivity }),
    outcome: t.field({ type: OutcomeEnum, resolve: (r) => r.status }),
    eventType: t.field({ type: EventTypeEnum, resolve: (r) => r.eventType }),
    reasonCode: t.exposeString("reasonCode", { nullable: true }),
    error: t.string({ nullable: true, resolve: (r) => payloadNullableString(r, "error") }),
    args: t.field({ type: "JSONObject", resolve: (r) => exactPayloadOf(r).args ?? {} }),
    resultSummary: t.field({ type: "JSONObject", nullable: true, resolve: (r) => exactPayloadOf(r).result_summary ?? null }),
    redactions: t.field({
      type: [RedactionRef],
      description: "Where ingest replaced a credential-looking value with [REDACTED:<kind>] (also the reference's bare [REDACTED]).",
      resolve: (r) => {
        const p = exactPayloadOf(r);
        return [
          ...findRedactionMarkers(p.args ?? {}, "args"),
          ...(p.result_summary ? findRedactionMarkers(p.result_summary, "resultSummary") : []),
          ...(typeof p.error === "string" ? findRedactionMarkers(p.error, "error") : []),
        ];
      },
    }),
    ocsf: t.field({
      type: "JSONObject",
      description: "This trace as an OCSF 1.3.0 API Activity (6003) event, mapped as weaver-kernel maps it; args are not included.",
      resolve: (r) => ocsfOf(r),
    }),
    prevHash: t.exposeString("prevHash", ACK),
    recordHash: t.exposeString("recordHash", ACK),
    payload: t.exposeString("payload", {
      description:
        "The trace's canonical JSON, byte for byte what recordHash covers: " +
        "HMAC-SHA256(secret, '{\"prev_hash\":\"<prevHash>\",\"seq\":<seq>,\"trace\":' + payload + '}').",
    }),
  }),
});

export const TraceFilterInput = builder.inputType("TraceFilter", {
  description: "Filters AND-ed together. The time window is [since, until).",
  fields: (t) => ({
    principalId: t.string(),
    principalIdIn: t.stringList({ description: "Any of these principal ids (at most 100; an empty list matches nothing)." }),
    principalIdPrefix: t.string({
      description: "Principal ids starting with this text, e.g. \"team-a/\". Plain text: no wildcard characters.",
    }),
    capabilityId: t.string(),
    capabilityIdIn: t.stringList({ description: "Any of these capability ids (at most 100; an empty list matches nothing)." }),
    capabilityIdPrefix: t.string({ description: "Capability ids starting with this text, e.g. \"billing.\". Plain text." }),
    eventType: t.field({ type: EventTypeEnum }),
    outcome: t.field({ type: OutcomeEnum }),
    reasonCode: t.string(),
    since: t.field({ type: "DateTime", description: "Inclusive lower bound of invokedAt." }),
    until: t.field({ type: "DateTime", description: "Exclusive upper bound of invokedAt." }),
  }),
});

const TraceInput = builder.inputType("TraceInput", {
  description: "One trace as the agent kernel reports it (the reference's ActionTrace).",
  fields: (t) => ({
    actionId: t.string({ required: true }),
    capabilityId: t.string({ required: true }),
    principalId: t.string({ required: true }),
    tokenId: t.string({ description: 'Default "".' }),
    invokedAt: t.field({ type: "DateTime", required: true }),
    responseMode: t.field({ type: ResponseModeEnum, required: true }),
    driverId: t.string({ description: 'Default "".' }),
    handleId: t.string(),
    sensitivity: t.field({ type: SensitivityEnum, description: "Default NONE." }),
    eventType: t.field({ type: EventTypeEnum, description: "Default INVOKE." }),
    reasonCode: t.string(),
    error: t.string({ description: "Non-null (even empty) makes the outcome FAILED." }),
    args: t.field({ type: "JSONObject", description: "Redacted invocation args. Default {}." }),
    resultSummary: t.field({ type: "JSONObject" }),
  }),
});

builder.queryFields((t) => ({
  trace: t.field({
    type: TraceRef,
    nullable: true,
    description: "The trace with this action id, or null.",
    args: { actionId: t.arg.string({ required: true }) },
    authScopes: { "traces:read": true },
    resolve: (_root, args, ctx) =>
      ctx.stores.traces.findByActionId(storableIdentifier(args.actionId, "actionId")),
  }),
  traces: t.connection(
    {
      type: TraceRef,
      description: "Traces matching a filter, in chain or time order, as keyset pages (default 20, max 500).",
      args: {
        filter: t.arg({ type: TraceFilterInput }),
        orderBy: t.arg({ type: TraceOrderEnum, defaultValue: "SEQ_ASC" }),
      },
      authScopes: { "traces:read": true },
      resolve: (_root, args, ctx) => traces(args, ctx),
    },
    {
      name: "TraceConnection",
      fields: (c) => ({
        totalCount: c.field({
          type: "SafeInt",
          description: "Traces matching the filter (one COUNT query, run only when selected).",
          resolve: (connection) => connection.totalCount(),
        }),
      }),
    },
  ),
}));

builder.mutationFields((t) => ({
  recordTraces: t.field({
    type: [TraceRef],
    description:
      "Append a batch of traces to the chain, all or nothing. Returns them with seq and hashes; a traces:write " +
      "key without traces:read may select only the acknowledgement fields id, seq, actionId, invokedAt, prevHash, recordHash.",
    args: { input: t.arg({ type: [TraceInput], required: true }) },
    authScopes: { "traces:write": true },
    grantScopes: GRANT_TRACE_ACK,
    resolve: (_root, args, ctx) => recordTraces(args.input, ctx),
  }),
  recordTraceRecords: t.field({
    type: [TraceRef],
    description:
      "Append a batch of traces given as weaver-kernel export records, all or nothing, like recordTraces. " +
      "Each string is the JSON text of one export object (the 16 keys action_id ... correction, e.g. the `trace` " +
      "of a weaver-kernel JSONL line). It is parsed losslessly and stored and hashed exactly as the reference " +
      "hashes it (100.0 stays a float, integers of any size and every string stay exact, invoked_at keeps its " +
      "text; NaN and Infinity, which the reference writes as bare words, are kept). Unknown keys, a status that " +
      "disagrees with error, a non-null correction, an overflowing literal (1e400), an integer over 4,300 digits and " +
      `nesting deeper than 64 are refused with BAD_USER_INPUT naming records[i]. At most ${MAX_BATCH} records per call.`,
    args: { records: t.arg.stringList({ required: true }) },
    authScopes: { "traces:write": true },
    grantScopes: GRANT_TRACE_ACK,
    resolve: (_root, args, ctx) => recordTraceRecords(args.records, ctx),
  }),
}));

/**
 * One principal-scope point, proved from outside (issue 15): a key confined to `alice` and
 * `team-a/*` sees no foreign trace through any root field, any subscription or GET /export.
 *
 * The schema is enumerated: OPERATIONS and SUBSCRIPTIONS below map every root field to the
 * documents that try hardest to reach other principals' traces (filters naming them, every
 * order, `last`/`before`, cursors and node ids of their rows, their action ids, stats grouped
 * by principal, replays and live appends, writes that reuse their action ids or content, the
 * whole-chain fields). A root field without an entry fails the test, so a new field needs a
 * new case. Each response (data, errors and extensions) is walked: every trace, stats group,
 * node id and cursor in it must belong to a visible principal, and the serialized response
 * must not contain any foreign principal id, action id, record hash, token, handle,
 * capability, reason code, error or node id. Fields returning traces must return exactly the
 * visible ones, so the scan cannot pass on an empty answer; refused fields must answer with
 * their code (FORBIDDEN for everything that spans every principal, even with the
 * revocations:write scope held).
 *
 * One thing is allowed on purpose: a visible record's `prevHash` is the `recordHash` of the
 * record before it, which may be another principal's. It is part of the visible record's own
 * hashed link and is checked to be exactly that, then left out of the scan.
 *
 * Queries and mutations run over HTTP (JSON variables) and over graphql-ws; subscriptions over
 * graphql-ws and SSE. Both backends.
 */
import { type Client } from "graphql-ws";
import { type GraphQLObjectType, Kind, type OperationDefinitionNode, parse, validate } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schema } from "../../src/graphql/index.js";
import { EXPORT_FORMATS, type ExportFormat } from "../../src/export/formats.js";
import { BACKENDS } from "../support/backends.js";
import { createTestGateway, dataOf, type TestGateway } from "../support/harness.js";
import { sseSubscribe } from "../support/sse.js";
import { at, deny, invoke } from "../support/traces.js";
import { sleep, waitFor } from "../support/wait.js";
import { wsClient, wsExec } from "../support/ws.js";
import { parse as parseCsv } from "csv-parse/sync";

type Json = Record<string, unknown>;
interface GqlError {
  message: string;
  path?: unknown[];
  extensions?: Json;
}
interface GqlResult {
  data?: Json | null;
  errors?: GqlError[];
  extensions?: Json;
}

/** The key's principal patterns, and the same rule written out independently of src/. */
const PATTERNS = ["alice", "team-a/*"];
const inScope = (principalId: string) => principalId === "alice" || principalId.startsWith("team-a/");
const ZERO_HASH = "0".repeat(64);
const FAR_FUTURE = "2099-01-01T00:00:00+00:00";

/** Every field of a Trace. */
const TRACE = `id seq actionId capabilityId principalId tokenId invokedAt responseMode driverId handleId sensitivity
  outcome eventType reasonCode error args resultSummary redactions { path kind } ocsf prevHash recordHash payload`;

/** A stored record as the admin key sees it. */
interface Row {
  id: string;
  seq: number;
  actionId: string;
  principalId: string;
  capabilityId: string;
  tokenId: string;
  handleId: string | null;
  reasonCode: string | null;
  error: string | null;
  eventType: string;
  invokedAt: string;
  recordHash: string;
  prevHash: string;
  payload: string;
}
const ROW = "id seq actionId principalId capabilityId tokenId handleId reasonCode error eventType invokedAt recordHash prevHash payload";

/** What the test knows about the chain, refreshed (as the admin sees it) after every operation. */
interface World {
  /** The confined key and its id. */
  key: string;
  keyId: string;
  adminKeyId: string;
  /** Every record ever seen, pruned ones included, by seq. */
  rows: Map<number, Row>;
  /** Stored now, in seq order. */
  stored: Row[];
  /** Stored now and inside the key's principals, in seq order. */
  visible: Row[];
  /** Strings of foreign records that must appear in no response. */
  needles: string[];
  /** A record by action id (any principal, pruned ones included). */
  row(actionId: string): Row;
  /** The admin key's cursor of bob's known trace in each order. */
  foreignCursor: Record<Order, string>;
}

type Order = "SEQ_ASC" | "SEQ_DESC" | "INVOKED_AT_ASC" | "INVOKED_AT_DESC";
const ORDERS: Order[] = ["SEQ_ASC", "SEQ_DESC", "INVOKED_AT_ASC", "INVOKED_AT_DESC"];

/** Epoch microseconds of a DateTime output. */
function micros(iso: string): number {
  const m = /^(.*?)(?:\.(\d{1,6}))?(Z|[+-]\d\d:\d\d)$/.exec(iso);
  if (!m) throw new Error(`not a DateTime: ${iso}`);
  return Date.parse(`${m[1]}${m[3]}`) * 1000 + Number((m[2] ?? "").padEnd(6, "0"));
}
/** Negative when `a` comes first in `order`. */
function compare(order: Order, a: Row, b: Row): number {
  const time = order.startsWith("INVOKED_AT") ? micros(a.invokedAt) - micros(b.invokedAt) : 0;
  const byKey = time !== 0 ? time : a.seq - b.seq;
  return order.endsWith("DESC") ? -byKey : byKey;
}
const ordered = (order: Order, rows: Row[]) => [...rows].sort((a, b) => compare(order, a, b));
const isDeny = (r: Row) => r.eventType === "DENY";
const actionIds = (rows: Row[]) => rows.map((r) => r.actionId);
const globalId = (seq: number) => Buffer.from(`Trace:${seq}`).toString("base64");

/** A needle matches only as a whole token: never inside a longer id, hash or base64 string. */
const needleRegex = (needle: string) =>
  new RegExp(`(?<![A-Za-z0-9_+/=.-])${needle.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![A-Za-z0-9_+/=-])`);

/** The seq a trace cursor names, or undefined when `value` is not one. */
function cursorSeq(value: string): number | undefined {
  const m = /^1:(?:s|t:-?\d+):(\d+)$/.exec(Buffer.from(value, "base64url").toString("utf8"));
  return m ? Number(m[1]) : undefined;
}

/**
 * Fail naming every way `value` shows a foreign record: a trace, group or export object of a
 * foreign principal, a foreign action id, seq, node id or cursor, or any needle anywhere in
 * the serialized value (messages and extensions included).
 */
function assertNoForeign(w: World, value: unknown, where: string): void {
  const problems: string[] = [];
  const visibleSeqs = new Set(w.visible.map((r) => r.seq));
  const visibleActions = new Set(actionIds(w.visible));
  const walk = (v: unknown, path: string): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
    if (v === null || typeof v !== "object") return v;
    const o = v as Json;
    const out: Json = {};
    for (const [k, x] of Object.entries(o)) {
      if (k === "prevHash" && typeof x === "string" && typeof o.seq === "number") {
        // The visible record's own link: exactly its predecessor's hash, whoever that was.
        const link = w.rows.get(o.seq - 1)?.recordHash ?? ZERO_HASH;
        if (x !== link) problems.push(`${path}.prevHash is not the link to seq ${o.seq - 1}`);
        out[k] = "<link>";
      } else out[k] = walk(x, `${path}.${k}`);
    }
    for (const k of ["principalId", "principal_id"]) {
      const p = o[k];
      if (typeof p === "string" && !inScope(p)) problems.push(`${path}.${k} is ${JSON.stringify(p)}`);
    }
    for (const k of ["actionId", "action_id"]) {
      const a = o[k];
      if (typeof a === "string" && !visibleActions.has(a)) problems.push(`${path}.${k} ${JSON.stringify(a)} is not visible`);
    }
    if (typeof o.seq === "number" && ("actionId" in o || "recordHash" in o) && !visibleSeqs.has(o.seq)) {
      problems.push(`${path}.seq ${o.seq} is not a visible record`);
    }
    for (const k of ["cursor", "startCursor", "endCursor"]) {
      const c = o[k];
      const seq = typeof c === "string" ? cursorSeq(c) : undefined;
      if (seq !== undefined && !visibleSeqs.has(seq)) problems.push(`${path}.${k} names seq ${seq}`);
    }
    if (typeof o.id === "string") {
      const m = /^Trace:(\d+)$/.exec(Buffer.from(o.id, "base64").toString("utf8"));
      if (m && !visibleSeqs.has(Number(m[1]))) problems.push(`${path}.id names seq ${m[1]}`);
    }
    return out;
  };
  const text = JSON.stringify(walk(value, "$"));
  for (const needle of w.needles) if (needleRegex(needle).test(text)) problems.push(`contains ${JSON.stringify(needle)}`);
  expect(problems, `${where}: ${text.slice(0, 3000)}`).toEqual([]);
}

// ---------------------------------------------------------------------------------------
// The cases: every root field
// ---------------------------------------------------------------------------------------

interface OpCase {
  name: string;
  query: string;
  variables?: (w: World) => Json;
  /** The code every error must carry (the field's data null); absent: the operation succeeds. */
  refused?: "FORBIDDEN" | "NOT_FOUND" | "DUPLICATE_ACTION_ID";
  /** For a refusal: the extensions.field it names. */
  field?: string;
  /** Assertions on a success's data: it shows exactly the visible records it should. */
  check?: (data: Json, w: World, where: string) => void;
  /** What must (not) have happened, as the admin sees it afterwards. */
  after?: (w: World, where: string) => void;
}

interface SubCase {
  name: string;
  variables: (w: World) => Json;
  /** The visible records this stream carries (from afterSeq, or from when it joined). */
  want: (r: Row) => boolean;
}

const TRACES = `query($filter: TraceFilter, $orderBy: TraceOrder, $first: Int, $last: Int, $after: String, $before: String) {
  traces(filter: $filter, orderBy: $orderBy, first: $first, last: $last, after: $after, before: $before) {
    totalCount edges { cursor node { ${TRACE} } } pageInfo { startCursor endCursor hasNextPage hasPreviousPage } } }`;
const TRACE_BY_ACTION = `query($actionId: String!) { trace(actionId: $actionId) { ${TRACE} } }`;
const NODE = `query($id: ID!) { node(id: $id) { id ... on Trace { ${TRACE} } } }`;
const NODES = `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Trace { ${TRACE} } } }`;
const STATS = `query($filter: TraceFilter, $groupBy: [TraceStatsDimension!], $bucket: TimeBucket, $limit: Int) {
  traceStats(filter: $filter, groupBy: $groupBy, bucket: $bucket, limit: $limit) {
    total groups { count principalId capabilityId reasonCode eventType outcome bucketStart } } }`;
const RECORD = `mutation($input: [TraceInput!]!) { recordTraces(input: $input) { ${TRACE} } }`;
const RECORD_RECORDS = `mutation($records: [String!]!) { recordTraceRecords(records: $records) { ${TRACE} } }`;
const REVOCATION = "tokenId principals expiresAt revoked revokedAt reason revokedBy";

type Page = { totalCount: number; edges: { cursor: string; node: Json }[]; pageInfo: Json };
const pageOf = (d: Json) => d.traces as Page;
/** The page holds exactly `rows`, in order, and counts `total`. */
const expectPage = (rows: (w: World) => Row[], total?: (w: World) => number) => (d: Json, w: World, where: string) => {
  const page = pageOf(d);
  expect(page.edges.map((e) => e.node.actionId), where).toEqual(actionIds(rows(w)));
  expect(page.totalCount, where).toBe(total ? total(w) : rows(w).length);
};
const noTraces = expectPage(() => []);
const tracesCase = (name: string, variables: (w: World) => Json, check: OpCase["check"]): OpCase => ({ name, query: TRACES, variables, check });

/** The known foreign records the cases aim at. */
const BOB_KNOWN = "bob-known-action";
const bob = (w: World) => w.row(BOB_KNOWN);
const adminTraceOf = (w: World, operation: string) => w.stored.find((r) => r.capabilityId === `tracegate.${operation}`)!;
/** The canonical payload of a record with some keys replaced: a recordTraceRecords record. */
const recordText = (w: World, actionId: string, changes: Json = {}) => JSON.stringify({ ...(JSON.parse(w.row(actionId).payload) as Json), ...changes });
const notStored = (...ids: string[]) => (w: World, where: string) => {
  for (const id of ids) expect(w.stored.some((r) => r.actionId === id), `${where}: ${id} stored`).toBe(false);
};

const OPERATIONS: Record<string, OpCase[]> = {
  // ---- Query ----
  traces: [
    tracesCase("everything, no filter", () => ({ first: 100 }), expectPage((w) => w.visible)),
    ...ORDERS.flatMap((orderBy) => [
      tracesCase(`first 100, ${orderBy}`, () => ({ orderBy, first: 100 }), expectPage((w) => ordered(orderBy, w.visible))),
      tracesCase(`last 100, ${orderBy}`, () => ({ orderBy, last: 100 }), expectPage((w) => ordered(orderBy, w.visible))),
      tracesCase(
        `after bob's cursor, ${orderBy}`,
        (w) => ({ orderBy, first: 100, after: w.foreignCursor[orderBy] }),
        expectPage(
          (w) => ordered(orderBy, w.visible).filter((r) => compare(orderBy, r, bob(w)) > 0),
          (w) => w.visible.length,
        ),
      ),
      tracesCase(
        `last before bob's cursor, ${orderBy}`,
        (w) => ({ orderBy, last: 100, before: w.foreignCursor[orderBy] }),
        expectPage(
          (w) => ordered(orderBy, w.visible).filter((r) => compare(orderBy, r, bob(w)) < 0),
          (w) => w.visible.length,
        ),
      ),
    ]),
    tracesCase("a one-row page", () => ({ first: 1 }), (d, w, where) => {
      const page = pageOf(d);
      expect(page.edges.map((e) => e.node.actionId), where).toEqual([w.visible[0]!.actionId]);
      expect(page.totalCount, where).toBe(w.visible.length);
      expect(page.pageInfo.hasNextPage, where).toBe(true);
    }),
    tracesCase("denies", () => ({ first: 100, filter: { eventType: "DENY", outcome: "FAILED" } }), expectPage((w) => w.visible.filter(isDeny))),
    ...["bob", "mallory", "team-a", "ALICE"].map((principalId) =>
      tracesCase(`principalId ${principalId}`, () => ({ first: 100, filter: { principalId } }), noTraces),
    ),
    tracesCase("mallory's denies, newest first", () => ({ last: 100, orderBy: "INVOKED_AT_DESC", filter: { principalId: "mallory", eventType: "DENY" } }), noTraces),
    tracesCase("bob's capability", () => ({ first: 100, filter: { capabilityId: "bob.private_tool" } }), noTraces),
    tracesCase("bob's reason code", () => ({ first: 100, filter: { reasonCode: "bob_reason" } }), noTraces),
    tracesCase("admin traces", () => ({ first: 100, filter: { capabilityId: "tracegate.createApiKey" } }), noTraces),
    ...[{ principalIdPrefix: "b" }, { principalIdPrefix: "m" }, { principalIdPrefix: "A" }, { principalIdIn: ["bob", "mallory"] }, { capabilityIdIn: ["bob.private_tool"] }, { capabilityIdPrefix: "bob." }, { capabilityIdPrefix: "tracegate." }].map((filter) =>
      tracesCase(`foreign list or prefix ${JSON.stringify(filter)}`, () => ({ first: 100, filter }), noTraces),
    ),
    tracesCase("the prefix of a visible principal", () => ({ first: 100, filter: { principalIdPrefix: "a" } }), expectPage((w) => w.visible.filter((r) => r.principalId.startsWith("a")))),
    tracesCase(
      "the instant of bob's known trace",
      (w) => ({ first: 100, filter: { since: bob(w).invokedAt, until: at(6, 1) } }),
      noTraces,
    ),
  ],
  trace: [
    ...[BOB_KNOWN, "b-deny-1", "m-deny-1", "ta-bare-1", "A-upper-1", "m-pruned"].map(
      (actionId): OpCase => ({
        name: `foreign actionId ${actionId}`,
        query: TRACE_BY_ACTION,
        variables: () => ({ actionId }),
        check: (d, _w, where) => expect(d.trace, where).toBeNull(),
      }),
    ),
    {
      name: "an admin trace's actionId",
      query: TRACE_BY_ACTION,
      variables: (w) => ({ actionId: adminTraceOf(w, "createApiKey").actionId }),
      check: (d, _w, where) => expect(d.trace, where).toBeNull(),
    },
    {
      name: "alice's own actionId",
      query: TRACE_BY_ACTION,
      variables: () => ({ actionId: "a-inv-1" }),
      check: (d, _w, where) => expect(d.trace, where).toMatchObject({ actionId: "a-inv-1", principalId: "alice" }),
    },
  ],
  node: [
    ...[BOB_KNOWN, "b-deny-1", "m-deny-1", "A-upper-1", "m-pruned"].map(
      (actionId): OpCase => ({
        name: `the node id of ${actionId}`,
        query: NODE,
        variables: (w) => ({ id: w.row(actionId).id }),
        check: (d, _w, where) => expect(d.node, where).toBeNull(),
      }),
    ),
    {
      name: "an admin trace's node id",
      query: NODE,
      variables: (w) => ({ id: adminTraceOf(w, "revokeToken").id }),
      check: (d, _w, where) => expect(d.node, where).toBeNull(),
    },
    {
      name: "a seq past the head",
      query: NODE,
      variables: () => ({ id: globalId(1_000_000) }),
      check: (d, _w, where) => expect(d.node, where).toBeNull(),
    },
    {
      name: "a node id naming another type (the admin key)",
      query: NODE,
      variables: (w) => ({ id: Buffer.from(`ApiKey:${w.adminKeyId}`).toString("base64") }),
      refused: "NOT_FOUND",
    },
    {
      name: "team-a/x's own node id",
      query: NODE,
      variables: (w) => ({ id: w.row("t-inv-1").id }),
      check: (d, _w, where) => expect(d.node, where).toMatchObject({ actionId: "t-inv-1", principalId: "team-a/x" }),
    },
  ],
  nodes: [
    {
      name: "visible and foreign ids mixed",
      query: NODES,
      variables: (w) => ({
        ids: ["a-inv-1", BOB_KNOWN, "m-deny-1", "t-deny-1", "ta-bare-1", "m-pruned"].map((a) => w.row(a).id).concat(adminTraceOf(w, "createApiKey").id),
      }),
      check: (d, _w, where) =>
        expect((d.nodes as (Json | null)[]).map((n) => n?.actionId ?? null), where).toEqual(["a-inv-1", null, null, "t-deny-1", null, null, null]),
    },
    {
      name: "foreign ids first, visible ones against chain order",
      query: NODES,
      variables: (w) => ({ ids: [BOB_KNOWN, "b-deny-1", "a-inv-2", "t-deny-1", "a-inv-1"].map((a) => w.row(a).id) }),
      check: (d, _w, where) =>
        expect((d.nodes as (Json | null)[]).map((n) => n?.actionId ?? null), where).toEqual([null, null, "a-inv-2", "t-deny-1", "a-inv-1"]),
    },
  ],
  traceStats: [
    {
      name: "grouped by principal",
      query: STATS,
      variables: () => ({ groupBy: ["PRINCIPAL"] }),
      check: (d, w, where) => {
        const stats = d.traceStats as { total: number; groups: { principalId: string; count: number }[] };
        expect(stats.total, where).toBe(w.visible.length);
        const counts = Object.fromEntries(["alice", "team-a/x"].map((p) => [p, w.visible.filter((r) => r.principalId === p).length]));
        expect(Object.fromEntries(stats.groups.map((g) => [g.principalId, g.count])), where).toEqual(counts);
      },
    },
    {
      name: "grouped by every dimension and minute",
      query: STATS,
      variables: () => ({ groupBy: ["PRINCIPAL", "CAPABILITY", "REASON_CODE", "EVENT_TYPE", "OUTCOME"], bucket: "MINUTE", limit: 1000 }),
      check: (d, w, where) => {
        const stats = d.traceStats as { total: number; groups: { count: number }[] };
        expect(stats.total, where).toBe(w.visible.length);
        expect(stats.groups.reduce((n, g) => n + g.count, 0), where).toBe(w.visible.length);
      },
    },
    ...[{ principalId: "bob" }, { principalId: "team-a" }, { reasonCode: "bob_reason" }, { capabilityId: "tracegate.revokePrincipal" }].map(
      (filter): OpCase => ({
        name: `filter ${JSON.stringify(filter)}`,
        query: STATS,
        variables: () => ({ filter, groupBy: ["PRINCIPAL", "REASON_CODE"] }),
        check: (d, _w, where) => expect(d.traceStats, where).toEqual({ total: 0, groups: [] }),
      }),
    ),
  ],
  verifyChain: [
    { name: "the whole chain", query: "{ verifyChain { ok checked firstBadSeq kind detail } }", refused: "FORBIDDEN" },
    {
      name: "just bob's record",
      query: "query($from: SafeInt, $to: SafeInt) { verifyChain(fromSeq: $from, toSeq: $to) { ok checked firstBadSeq kind detail } }",
      variables: (w) => ({ from: bob(w).seq, to: bob(w).seq }),
      refused: "FORBIDDEN",
    },
  ],
  verifyTrace: [
    ...[BOB_KNOWN, "b-deny-1", "m-deny-1", "ta-bare-1", "A-upper-1", "m-pruned"].map(
      (actionId): OpCase => ({
        name: `foreign actionId ${actionId}`,
        query: "query($actionId: String!) { verifyTrace(actionId: $actionId) { ok checked firstBadSeq kind detail } }",
        variables: () => ({ actionId }),
        check: (d, _w, where) => expect(d.verifyTrace, where).toBeNull(),
      }),
    ),
    {
      name: "alice's own record",
      query: "query($actionId: String!) { verifyTrace(actionId: $actionId) { ok checked firstBadSeq kind detail } }",
      variables: () => ({ actionId: "a-inv-1" }),
      check: (d, _w, where) => expect(d.verifyTrace, where).toMatchObject({ ok: true, checked: 1 }),
    },
  ],
  chainHead: [{ name: "the head", query: "{ chainHead { nextSeq headHash keyId } }", refused: "FORBIDDEN" }],
  pruneCheckpoint: [{ name: "the retention checkpoint", query: "{ pruneCheckpoint { seq recordHash createdAt keyId signed } }", refused: "FORBIDDEN" }],
  checkpointPublicKey: [
    {
      name: "the public key (no trace data)",
      query: "{ checkpointPublicKey { keyId algorithm publicKeyPem } }",
      check: (d, _w, where) => expect(d.checkpointPublicKey, where).toMatchObject({ algorithm: "Ed25519" }),
    },
  ],
  isRevoked: ["tok-b-inv-1", "tok-a-inv-1"].map((tokenId) => ({
    // Open to any reader by design (src/graphql/types/Revocation.ts): a yes or no, nothing else.
    name: `token ${tokenId}`,
    query: "query($tokenId: String!) { isRevoked(tokenId: $tokenId) }",
    variables: () => ({ tokenId }),
    check: (d, _w, where) => expect(typeof d.isRevoked, where).toBe("boolean"),
  })),
  revocation: ["tok-b-inv-1", "tok-a-inv-1"].map((tokenId) => ({
    name: `token ${tokenId}`,
    query: `query($tokenId: String!) { revocation(tokenId: $tokenId) { ${REVOCATION} } }`,
    variables: () => ({ tokenId }),
    refused: "FORBIDDEN",
  })),
  revocations: [{}, { principalId: "bob" }, { principalId: "alice" }].map((filter) => ({
    name: `filter ${JSON.stringify(filter)}`,
    query: `query($filter: RevocationFilter) { revocations(filter: $filter, first: 100) { edges { cursor node { ${REVOCATION} } } } }`,
    variables: () => ({ filter }),
    refused: "FORBIDDEN",
  })),
  apiKeys: [
    {
      name: "every key",
      query: "query($all: Boolean) { apiKeys(includeRevoked: $all) { id name scopes principals createdBy createdAt revokedAt } }",
      variables: () => ({ all: true }),
      refused: "FORBIDDEN",
    },
  ],
  viewer: [
    {
      name: "itself",
      query: "{ viewer { keyId name scopes principals } }",
      check: (d, w, where) => expect(d.viewer, where).toMatchObject({ keyId: w.keyId, principals: PATTERNS }),
    },
  ],

  // ---- Mutation ----
  recordTraces: [
    {
      name: "a new trace of alice (the key's own write; re-sent over the second transport)",
      query: RECORD,
      variables: () => ({ input: [invoke("scoped-new-1", { principalId: "alice", invokedAt: at(9) })] }),
      check: (d, _w, where) => expect(d.recordTraces, where).toMatchObject([{ actionId: "scoped-new-1", principalId: "alice" }]),
    },
    {
      name: "alice's trace under bob's existing actionId",
      query: RECORD,
      variables: () => ({ input: [invoke(BOB_KNOWN, { principalId: "alice" })] }),
      refused: "FORBIDDEN",
      field: "input[0].actionId",
    },
    {
      name: "bob's stored trace re-sent byte for byte (no idempotent answer with bob's record)",
      query: RECORD,
      variables: () => ({ input: [bobKnownInput()] }),
      refused: "FORBIDDEN",
      field: "input[0].principalId",
    },
    {
      name: "a team-a trace, then one under an admin trace's actionId",
      query: RECORD,
      variables: (w) => ({
        input: [invoke("scoped-new-2", { principalId: "team-a/x" }), invoke(adminTraceOf(w, "trackToken").actionId, { principalId: "alice" })],
      }),
      refused: "FORBIDDEN",
      field: "input[1].actionId",
      after: notStored("scoped-new-2"),
    },
    ...["A-upper-1", "ta-bare-1", "m-deny-1"].map(
      (actionId): OpCase => ({
        name: `alice's trace under foreign actionId ${actionId}`,
        query: RECORD,
        variables: () => ({ input: [invoke(actionId, { principalId: "alice" })] }),
        refused: "FORBIDDEN",
        field: "input[0].actionId",
      }),
    ),
    {
      name: "a new trace for bob",
      query: RECORD,
      variables: () => ({ input: [invoke("scoped-forged-bob", { principalId: "bob" })] }),
      refused: "FORBIDDEN",
      field: "input[0].principalId",
      after: notStored("scoped-forged-bob"),
    },
    {
      // The contrast: inside its scope the same conflict is an ordinary DUPLICATE_ACTION_ID.
      name: "team-a/x's own actionId with other content",
      query: RECORD,
      variables: () => ({ input: [invoke("t-inv-1", { principalId: "team-a/x", capabilityId: "other.capability" })] }),
      refused: "DUPLICATE_ACTION_ID",
      field: "input[0].actionId",
    },
  ],
  recordTraceRecords: [
    {
      name: "alice's stored record re-sent (idempotent: her own record back)",
      query: RECORD_RECORDS,
      variables: (w) => ({ records: [w.row("a-inv-1").payload] }),
      check: (d, w, where) =>
        expect(d.recordTraceRecords, where).toMatchObject([{ actionId: "a-inv-1", seq: w.row("a-inv-1").seq, recordHash: w.row("a-inv-1").recordHash }]),
    },
    {
      name: "bob's stored record re-sent byte for byte",
      query: RECORD_RECORDS,
      variables: (w) => ({ records: [bob(w).payload] }),
      refused: "FORBIDDEN",
      field: "records[0].principal_id",
    },
    {
      name: "alice's record under bob's actionId",
      query: RECORD_RECORDS,
      variables: (w) => ({ records: [recordText(w, "a-inv-1", { action_id: BOB_KNOWN })] }),
      refused: "FORBIDDEN",
      field: "records[0].action_id",
    },
    {
      name: "a new alice record, then one under mallory's actionId",
      query: RECORD_RECORDS,
      variables: (w) => ({ records: [recordText(w, "a-inv-1", { action_id: "scoped-rec-new" }), recordText(w, "a-inv-1", { action_id: "m-deny-1" })] }),
      refused: "FORBIDDEN",
      field: "records[1].action_id",
      after: notStored("scoped-rec-new"),
    },
  ],
  createApiKey: [null, ["bob"], ["alice"]].map((principals) => ({
    name: `a reader key, principals ${JSON.stringify(principals)}`,
    query: "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id principals } } }",
    variables: () => ({ input: { name: "escalation", scopes: ["TRACES_READ"], principals } }),
    refused: "FORBIDDEN",
  })),
  revokeApiKey: [
    {
      name: "the admin key",
      query: "mutation($id: ID!) { revokeApiKey(id: $id) { id name revokedAt } }",
      variables: (w) => ({ id: w.adminKeyId }),
      refused: "FORBIDDEN",
    },
  ],
  createCheckpoint: [
    { name: "sign the head", query: "mutation { createCheckpoint { chainId seq headHash createdAt keyId signature algorithm } }", refused: "FORBIDDEN" },
  ],
  pruneTraces: [
    {
      name: "a no-op prune (nothing below the first stored seq)",
      query: `mutation($beforeSeq: SafeInt) { pruneTraces(beforeSeq: $beforeSeq) { pruned checkpoint { seq recordHash signed } auditTrace { ${TRACE} } } }`,
      variables: (w) => ({ beforeSeq: w.stored[0]!.seq }),
      refused: "FORBIDDEN",
      after: (w, where) => expect(w.stored[0]!.seq, where).toBe(1),
    },
  ],
  trackToken: [
    ["tok-scoped-new", "alice"],
    ["tok-b-inv-1", "bob"],
  ].map(([tokenId, principalId]) => ({
    name: `${tokenId} for ${principalId}`,
    query: `mutation($tokenId: String!, $principalId: String!, $expiresAt: DateTime!) {
      trackToken(tokenId: $tokenId, principalId: $principalId, expiresAt: $expiresAt) { revocation { ${REVOCATION} } auditTrace { ${TRACE} } } }`,
    variables: () => ({ tokenId, principalId, expiresAt: FAR_FUTURE }),
    refused: "FORBIDDEN",
  })),
  revokeToken: ["tok-b-inv-2", "tok-a-inv-1"].map((tokenId) => ({
    name: tokenId,
    query: `mutation($tokenId: String!, $reason: String) {
      revokeToken(tokenId: $tokenId, reason: $reason) { newlyRevoked revocation { ${REVOCATION} } auditTrace { ${TRACE} } } }`,
    variables: () => ({ tokenId, reason: "scoped attempt" }),
    refused: "FORBIDDEN",
  })),
  revokePrincipal: ["bob", "alice"].map((principalId) => ({
    name: principalId,
    query: `mutation($principalId: String!) { revokePrincipal(principalId: $principalId) { newlyRevoked auditTrace { ${TRACE} } } }`,
    variables: () => ({ principalId }),
    refused: "FORBIDDEN",
  })),
  sweepExpiredRevocations: [
    {
      name: "now",
      query: `mutation($now: DateTime) { sweepExpiredRevocations(now: $now) { swept now auditTrace { ${TRACE} } } }`,
      variables: () => ({ now: null }),
      refused: "FORBIDDEN",
    },
  ],
};

const SUBSCRIPTIONS: Record<string, SubCase[]> = {
  traceRecorded: [
    { name: "live, no filter", variables: () => ({}), want: () => true },
    { name: "replay from the start", variables: () => ({ afterSeq: -1 }), want: () => true },
    { name: "replay from just before bob's trace", variables: (w) => ({ afterSeq: bob(w).seq - 1 }), want: () => true },
    { name: "bob's, replayed and live", variables: () => ({ afterSeq: -1, filter: { principalId: "bob" } }), want: () => false },
    { name: "bob's, live", variables: () => ({ filter: { principalId: "bob" } }), want: () => false },
    { name: "the bare prefix team-a", variables: () => ({ afterSeq: -1, filter: { principalId: "team-a" } }), want: () => false },
    { name: "ALICE", variables: () => ({ afterSeq: -1, filter: { principalId: "ALICE" } }), want: () => false },
    { name: "admin traces", variables: () => ({ afterSeq: -1, filter: { capabilityId: "tracegate.trackToken" } }), want: () => false },
    { name: "a foreign principal prefix", variables: () => ({ afterSeq: -1, filter: { principalIdPrefix: "b" } }), want: () => false },
    { name: "foreign principals in a list", variables: () => ({ afterSeq: -1, filter: { principalIdIn: ["bob", "mallory"] } }), want: () => false },
    { name: "bob's capability by prefix", variables: () => ({ afterSeq: -1, filter: { capabilityIdPrefix: "bob." } }), want: () => false },
  ],
  denyEvents: [
    { name: "live, no filter", variables: () => ({}), want: isDeny },
    { name: "replay from the start", variables: () => ({ afterSeq: -1 }), want: isDeny },
    { name: "mallory's, replayed and live", variables: () => ({ afterSeq: -1, filter: { principalId: "mallory" } }), want: () => false },
    { name: "bob's reason code", variables: () => ({ afterSeq: -1, filter: { reasonCode: "bob_reason" } }), want: () => false },
    { name: "bob's, live", variables: () => ({ filter: { principalId: "bob" } }), want: () => false },
    { name: "foreign principals by list and prefix", variables: () => ({ afterSeq: -1, filter: { principalIdIn: ["bob"], principalIdPrefix: "b" } }), want: () => false },
  ],
};

interface ExportCase {
  name: string;
  params: Record<string, string>;
  /** The visible records the export holds, in this order; absent: refused with 403 FORBIDDEN. */
  want?: (r: Row) => boolean;
  order?: Order;
}
const all = () => true;
const none = () => false;
const EXPORTS: Record<ExportFormat, ExportCase[]> = {
  jsonl: [
    { name: "everything", params: {}, want: all },
    { name: "in time order", params: { order: "time" }, want: all, order: "INVOKED_AT_ASC" },
    { name: "denies, newest first", params: { eventType: "deny", order: "time-desc" }, want: isDeny, order: "INVOKED_AT_DESC" },
    { name: "bob's", params: { principalId: "bob" }, want: none },
    { name: "mallory's denies", params: { principalId: "mallory", eventType: "DENY", order: "time-desc" }, want: none },
    { name: "bob's reason code", params: { reasonCode: "bob_reason" }, want: none },
    { name: "admin traces", params: { capabilityId: "tracegate.createApiKey" }, want: none },
    { name: "after a cursor (tracegate forward's read)", params: { afterSeq: "0" }, want: (r) => r.seq > 0 },
    { name: "bob's, after a cursor", params: { afterSeq: "0", principalId: "bob" }, want: none },
    { name: "a foreign principal prefix", params: { principalIdPrefix: "b" }, want: none },
    { name: "a visible principal prefix", params: { principalIdPrefix: "a" }, want: (r) => r.principalId.startsWith("a") },
    { name: "bob's capability in a list", params: { capabilityIdIn: "bob.private_tool" }, want: none },
  ],
  envelope: [
    { name: "everything", params: {}, want: all },
    { name: "bob's", params: { principalId: "bob" }, want: none },
  ],
  ocsf: [
    { name: "everything", params: {}, want: all },
    { name: "with seq, after a cursor (tracegate forward's read)", params: { withSeq: "true", afterSeq: "0" }, want: (r) => r.seq > 0 },
    { name: "bob's, newest first", params: { principalId: "bob", order: "time-desc" }, want: none },
  ],
  "ocsf-reference": [
    { name: "everything, by time", params: { order: "time" }, want: all, order: "INVOKED_AT_ASC" },
    { name: "bob's", params: { principalId: "bob" }, want: none },
  ],
  chained: [{ name: "the chain itself", params: {} }],
  csv: [
    { name: "everything", params: {}, want: all },
    { name: "bob's denies", params: { principalId: "bob", eventType: "deny" }, want: none },
  ],
};

/** bob's known trace as a TraceInput, exactly as it was recorded. */
const bobKnownInput = () => invoke(BOB_KNOWN, { principalId: "bob", capabilityId: "bob.private_tool", invokedAt: at(6) });

// ---------------------------------------------------------------------------------------

describe("scope cases", () => {
  const fieldsOf = (type: GraphQLObjectType | null | undefined) => Object.keys(type?.getFields() ?? {}).sort();

  it("covers every root field of the schema, and nothing else", () => {
    expect(Object.keys(OPERATIONS).sort()).toEqual([...fieldsOf(schema.getQueryType()), ...fieldsOf(schema.getMutationType())].sort());
    expect(Object.keys(SUBSCRIPTIONS).sort()).toEqual(fieldsOf(schema.getSubscriptionType()));
    expect(Object.keys(EXPORTS).sort()).toEqual([...EXPORT_FORMATS].sort());
    for (const cases of [...Object.values(OPERATIONS), ...Object.values(SUBSCRIPTIONS), ...Object.values(EXPORTS)]) {
      expect(cases.length).toBeGreaterThan(0);
    }
  });

  it("has only valid documents, each on the root field it is filed under", () => {
    const rootOf = (query: string) => {
      const doc = parse(query);
      expect(validate(schema, doc), query).toEqual([]);
      const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
      return { operation: op.operation, fields: op.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? s.name.value : s.kind)) };
    };
    const queryFields = new Set(fieldsOf(schema.getQueryType()));
    for (const [field, cases] of Object.entries(OPERATIONS)) {
      for (const c of cases) {
        expect(rootOf(c.query), `${field}: ${c.name}`).toEqual({ operation: queryFields.has(field) ? "query" : "mutation", fields: [field] });
      }
    }
    for (const field of Object.keys(SUBSCRIPTIONS)) {
      expect(rootOf(subscriptionDocument(field))).toEqual({ operation: "subscription", fields: [field] });
    }
  });
});

const subscriptionDocument = (field: string) =>
  `subscription($filter: TraceFilter, $afterSeq: SafeInt) { ${field}(filter: $filter, afterSeq: $afterSeq) { trace { ${TRACE} } gap { fromSeq toSeq } } }`;

/** One open subscription on either transport. */
interface Sub {
  label: string;
  spec: SubCase;
  variables: Json;
  results: GqlResult[];
  failure(): unknown;
  close(): Promise<void>;
}
const tracesOf = (sub: Sub, field: string) =>
  sub.results.flatMap((r) => {
    const event = r.data?.[field] as { trace: Json | null } | undefined;
    return event?.trace ? [event.trace as unknown as Row] : [];
  });

describe.each(BACKENDS)("$name: a principal-scoped key", (backend) => {
  let gw: TestGateway;
  let origin: string;
  let url: string;
  let w: World;
  let ws: Client;
  let foreignCursor: Record<Order, string>;
  const rowsEverSeen = new Map<number, Row>();
  /** The foreign records as seeded, before the key did anything. */
  let seededForeign: Row[];

  const admin = async (query: string, variables: Json = {}) => dataOf(await gw.raw(query, variables)) as Json;
  const record = (input: unknown[]) => admin(`mutation($input: [TraceInput!]!) { recordTraces(input: $input) { seq } }`, { input });

  /** Re-read the chain as the admin sees it. */
  async function refresh(key: string, keyId: string, adminKeyId: string): Promise<World> {
    const stored: Row[] = [];
    let after: string | null = null;
    for (;;) {
      const d = await admin(`query($after: String) { traces(first: 100, after: $after) { edges { node { ${ROW} } } pageInfo { endCursor hasNextPage } } }`, {
        after,
      });
      const page = d.traces as { edges: { node: Row }[]; pageInfo: { endCursor: string; hasNextPage: boolean } };
      stored.push(...page.edges.map((e) => e.node));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    for (const r of stored) rowsEverSeen.set(r.seq, r);
    const visible = stored.filter((r) => inScope(r.principalId));
    const foreign = [...rowsEverSeen.values()].filter((r) => !inScope(r.principalId));
    const fieldsOf = (r: Row) => [r.principalId, r.actionId, r.recordHash, r.tokenId, r.handleId, r.capabilityId, r.reasonCode, r.error, r.id];
    const shown = new Set(visible.flatMap(fieldsOf));
    const needles = [...new Set(foreign.flatMap(fieldsOf))].filter((s): s is string => typeof s === "string" && s !== "" && !shown.has(s));
    const byAction = new Map([...rowsEverSeen.values()].map((r) => [r.actionId, r]));
    return {
      key,
      keyId,
      adminKeyId,
      rows: rowsEverSeen,
      stored,
      visible,
      needles,
      row: (actionId) => byAction.get(actionId) ?? expect.fail(`no record ${actionId}`),
      foreignCursor,
    };
  }
  const again = () => refresh(w.key, w.keyId, w.adminKeyId).then((next) => (w = next));

  beforeAll(async () => {
    gw = await createTestGateway({ backend, limits: { ratePerMinute: 100_000 } });
    origin = `http://127.0.0.1:${(await gw.app.start(0)).port}`;
    url = `${origin}/graphql`;
    const adminKeyId = ((await admin("{ viewer { keyId } }")).viewer as { keyId: string }).keyId;

    // Seq 0 is pruned below; then the principals interleave, so visible records link to foreign ones.
    await record([invoke("m-pruned", { principalId: "mallory", invokedAt: at(0) })]);
    await record([
      invoke("a-inv-1", { principalId: "alice", invokedAt: at(1) }),
      invoke("b-inv-1", { principalId: "bob", capabilityId: "bob.private_tool", invokedAt: at(1, 5) }),
      invoke("t-inv-1", { principalId: "team-a/x", invokedAt: at(2) }),
      deny("m-deny-1", "mallory_reason", { principalId: "mallory", invokedAt: at(2, 1) }),
      deny("a-deny-1", "missing_role", { principalId: "alice", invokedAt: at(3) }),
      deny("b-deny-1", "bob_reason", { principalId: "bob", invokedAt: at(3, 1) }),
      invoke("ta-bare-1", { principalId: "team-a", invokedAt: at(4) }),
      deny("A-upper-1", "missing_role", { principalId: "ALICE", invokedAt: at(4, 1) }),
      deny("t-deny-1", "missing_role", { principalId: "team-a/x", invokedAt: at(5) }),
      bobKnownInput(),
      invoke("a-inv-2", { principalId: "alice", sensitivity: "PII", invokedAt: at(7) }),
      invoke("b-inv-2", { principalId: "bob", capabilityId: "bob.private_tool", invokedAt: at(7, 1) }),
    ]);
    w = await refresh("", "", adminKeyId); // keeps seq 0 in rowsEverSeen before it is pruned

    // The confined key, made through the admin API (that leaves an admin trace).
    const created = (
      await admin("mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id principals } } }", {
        input: { name: "scoped", scopes: ["TRACES_READ", "TRACES_WRITE", "REVOCATIONS_WRITE"], principals: PATTERNS },
      })
    ).createApiKey as { key: string; apiKey: { id: string; principals: string[] } };
    expect(created.apiKey.principals).toEqual(PATTERNS);

    // Admin traces, and revocation state naming bob and mallory.
    const track = "mutation($t: String!, $p: String!, $e: DateTime!) { trackToken(tokenId: $t, principalId: $p, expiresAt: $e) { revocation { tokenId } } }";
    await admin(track, { t: "tok-b-inv-1", p: "bob", e: FAR_FUTURE });
    await admin(track, { t: "tok-b-inv-2", p: "bob", e: FAR_FUTURE });
    await admin(track, { t: "tok-a-inv-1", p: "alice", e: FAR_FUTURE });
    await admin(track, { t: "tok-m-old", p: "mallory", e: "2020-01-01T00:00:00+00:00" });
    await admin("mutation { revokeToken(tokenId: \"tok-b-inv-1\", reason: \"bob compromised\") { newlyRevoked } }");
    await admin("mutation { revokePrincipal(principalId: \"mallory\", reason: \"mallory offboarded\") { newlyRevoked } }");
    await admin("mutation { sweepExpiredRevocations { swept } }");
    expect((await admin("mutation { pruneTraces(beforeSeq: 1) { pruned } }")).pruneTraces).toEqual({ pruned: 1 });
    await admin("mutation { createCheckpoint { seq } }");
    await record([invoke("a-inv-3", { principalId: "alice", invokedAt: at(8) }), invoke("b-inv-3", { principalId: "bob", invokedAt: at(8, 1) })]);

    // The admin's cursors of bob's known trace, in each order: what a leaked cursor would look like.
    const cursors = await Promise.all(
      ORDERS.map(async (orderBy) => {
        const d = await admin(`query($o: TraceOrder, $f: TraceFilter) { traces(orderBy: $o, filter: $f, first: 100) { edges { cursor node { actionId } } } }`, {
          o: orderBy,
          f: { principalId: "bob" },
        });
        const edge = (d.traces as { edges: { cursor: string; node: { actionId: string } }[] }).edges.find((e) => e.node.actionId === BOB_KNOWN)!;
        return [orderBy, edge.cursor] as const;
      }),
    );
    foreignCursor = Object.fromEntries(cursors) as Record<Order, string>;
    w = await refresh(created.key, created.apiKey.id, adminKeyId);
    ws = wsClient(url, `Bearer ${w.key}`);
    seededForeign = w.stored.filter((r) => !inScope(r.principalId));

    // The fixture holds what the cases aim at.
    expect(w.visible.length).toBeGreaterThanOrEqual(6);
    expect(w.stored.filter((r) => r.capabilityId.startsWith("tracegate.")).length).toBeGreaterThanOrEqual(7);
    expect(new Set(w.stored.map((r) => r.principalId))).toEqual(new Set(["alice", "team-a/x", "bob", "mallory", "team-a", "ALICE", adminKeyId]));
    expect(w.needles).toEqual(expect.arrayContaining(["bob", "mallory", adminKeyId, BOB_KNOWN, bob(w).recordHash, "bob_reason", "bob.private_tool"]));
    // Some visible record links to a foreign one, so the prevHash rule is exercised.
    expect(w.visible.some((r) => !inScope(w.rows.get(r.seq - 1)?.principalId ?? "alice"))).toBe(true);
  }, 120_000);

  afterAll(async () => {
    await ws?.dispose();
    await gw?.app.stop();
    await gw?.close();
  });

  const http = async (query: string, variables: Json): Promise<GqlResult> => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json", authorization: `Bearer ${w.key}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GqlResult;
  };
  const TRANSPORTS: [string, (query: string, variables: Json) => Promise<GqlResult>][] = [
    ["HTTP", http],
    ["graphql-ws", (query, variables) => wsExec(ws, query, variables) as Promise<GqlResult>],
  ];

  describe("queries and mutations", () => {
    for (const [field, cases] of Object.entries(OPERATIONS)) {
      it(field, async () => {
        for (const c of cases) {
          for (const [transport, exec] of TRANSPORTS) {
            const where = `${field}: ${c.name} (${transport})`;
            const res = await exec(c.query, c.variables?.(w) ?? {});
            await again();
            assertNoForeign(w, res, where);
            if (c.refused) {
              expect(res.errors?.length, `${where}: ${JSON.stringify(res)}`).toBeGreaterThan(0);
              expect(res.errors!.map((e) => e.extensions?.code), where).toEqual(res.errors!.map(() => c.refused));
              expect(res.data?.[field] ?? null, where).toBeNull();
              if (c.field) expect(res.errors![0]!.extensions?.field, where).toBe(c.field);
            } else {
              expect(res.errors, `${where}: ${JSON.stringify(res.errors)}`).toBeUndefined();
              c.check?.(res.data!, w, where);
            }
            c.after?.(w, where);
          }
        }
      }, 120_000);
    }
  });

  it("streams no foreign trace, replayed or live, over graphql-ws and SSE", async () => {
    const subs: Sub[] = [];
    try {
      for (const [field, specs] of Object.entries(SUBSCRIPTIONS)) {
        for (const spec of specs) {
          const variables = spec.variables(w);
          const query = subscriptionDocument(field);
          // graphql-ws
          {
            const results: GqlResult[] = [];
            let failure: unknown;
            const unsubscribe = ws.subscribe(
              { query, variables },
              { next: (r) => void results.push(r as GqlResult), error: (e) => void (failure = e ?? "error"), complete: () => undefined },
            );
            subs.push({ label: `${field}: ${spec.name} (graphql-ws)`, spec, variables, results, failure: () => failure, close: async () => unsubscribe() });
          }
          // SSE
          {
            const sse = await sseSubscribe(url, query, { key: w.key, variables });
            expect(sse.status, `${field}: ${spec.name} (SSE)`).toBe(200);
            const results: GqlResult[] = [];
            let failure: unknown;
            const reading = (async () => {
              try {
                for (let r = await sse.next(600_000); r; r = await sse.next(600_000)) results.push(r as GqlResult);
              } catch (e) {
                failure = e;
              }
            })();
            subs.push({
              label: `${field}: ${spec.name} (SSE)`,
              spec,
              variables,
              results,
              failure: () => failure,
              close: async () => {
                sse.abort();
                await reading;
              },
            });
          }
        }
      }
      const fieldOf = (sub: Sub) => sub.label.slice(0, sub.label.indexOf(":"));
      // The streams that carry visible denies (the warm-ups and the last sentinel are ones).
      const waiting = subs.filter((s) => s.spec.want(w.row("a-deny-1")));
      const liveOnly = waiting.filter((s) => s.variables.afterSeq === undefined);
      // A live-only stream starts when it joined: warm up until each has seen a visible deny.
      for (let i = 0; ; i++) {
        await record([deny(`warm-${i}`, "missing_role", { principalId: "alice", invokedAt: at(20, i) })]);
        const warm = () => liveOnly.every((s) => tracesOf(s, fieldOf(s)).some((t) => t.actionId.startsWith("warm-")));
        try {
          await waitFor(warm, () => "warm-up", 1_000);
          break;
        } catch (e) {
          if (i >= 30) throw e;
        }
      }
      // Foreign traces appended live (and an admin trace), then the visible sentinels.
      await record([
        invoke("b-live-1", { principalId: "bob", capabilityId: "bob.private_tool", invokedAt: at(30) }),
        deny("b-live-deny", "bob_reason", { principalId: "bob", invokedAt: at(30, 1) }),
        deny("m-live-deny", "mallory_reason", { principalId: "mallory", invokedAt: at(30, 2) }),
        deny("ta-live-deny", "missing_role", { principalId: "team-a", invokedAt: at(30, 3) }),
        deny("A-live-deny", "missing_role", { principalId: "ALICE", invokedAt: at(30, 4) }),
      ]);
      await admin("mutation { trackToken(tokenId: \"tok-b-live\", principalId: \"bob\", expiresAt: \"2099-01-01T00:00:00Z\") { revocation { tokenId } } }");
      await record([
        invoke("sentinel-alice", { principalId: "alice", invokedAt: at(31) }),
        deny("sentinel-team", "missing_role", { principalId: "team-a/x", invokedAt: at(31, 1) }),
      ]);
      await waitFor(
        () => waiting.every((s) => tracesOf(s, fieldOf(s)).some((t) => t.actionId === "sentinel-team") || s.failure() !== undefined),
        () => `the sentinel on ${waiting.filter((s) => !tracesOf(s, fieldOf(s)).some((t) => t.actionId === "sentinel-team")).map((s) => s.label).join(", ")}`,
        30_000,
      );
      // The streams that must stay empty had as long, and a moment more.
      await sleep(300);
      await again();
      expect(w.stored.some((r) => r.actionId === "b-live-1")).toBe(true);

      for (const sub of subs) {
        const field = fieldOf(sub);
        expect(sub.failure(), sub.label).toBeUndefined();
        for (const r of sub.results) {
          assertNoForeign(w, r, sub.label);
          expect(r.errors, sub.label).toBeUndefined();
        }
        // A gap names only seqs pruned before the stream read them, never a stored record.
        for (const r of sub.results) {
          const gap = (r.data?.[field] as { gap: { toSeq: number } | null } | undefined)?.gap;
          if (gap) expect(gap.toSeq, sub.label).toBeLessThan(w.stored[0]!.seq);
        }
        const got = tracesOf(sub, field);
        const afterSeq = sub.variables.afterSeq as number | undefined;
        const from = afterSeq ?? (got[0] ? got[0].seq - 1 : Number.MAX_SAFE_INTEGER);
        const expected = w.visible.filter((r) => r.seq > from && sub.spec.want(r));
        expect(actionIds(got), sub.label).toEqual(actionIds(expected));
        if (sub.spec.want(w.row("sentinel-team"))) expect(actionIds(got), sub.label).toContain("sentinel-team");
        if (afterSeq === -1 && sub.spec.want(w.row("a-deny-1"))) expect(actionIds(got), sub.label).toContain("a-deny-1");
      }
    } finally {
      await Promise.all(subs.map((s) => s.close()));
    }
  }, 120_000);

  it("exports no foreign trace in any format; chained is FORBIDDEN", async () => {
    for (const [format, cases] of Object.entries(EXPORTS)) {
      for (const c of cases) {
        const where = `/export ${format}: ${c.name}`;
        const query = new URLSearchParams({ format, ...c.params });
        const res = await fetch(`${origin}/export?${query}`, { headers: { authorization: `Bearer ${w.key}` } });
        const text = await res.text();
        const parsed: unknown[] =
          format === "envelope" || !c.want
            ? [JSON.parse(text)]
            : format === "csv"
              ? (parseCsv(text, { columns: true }) as unknown[])
              : text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as unknown);
        assertNoForeign(w, { text, parsed }, where);
        if (!c.want) {
          expect(res.status, where).toBe(403);
          expect((parsed[0] as GqlResult).errors?.map((e) => e.extensions?.code), where).toEqual(["FORBIDDEN"]);
          continue;
        }
        expect(res.status, `${where}: ${text.slice(0, 500)}`).toBe(200);
        const expected = actionIds(ordered(c.order ?? "SEQ_ASC", w.visible.filter(c.want)));
        // The newest matching seq the export announces is one of the key's own records.
        const last = res.headers.get("x-tracegate-last-seq");
        if (last !== null) expect(w.visible.some((r) => r.seq === Number(last)), `${where}: X-Tracegate-Last-Seq ${last}`).toBe(true);
        if (format === "ocsf" || format === "ocsf-reference") {
          expect(parsed.length, where).toBe(expected.length);
          for (const id of expected) expect(text, where).toContain(`"${id}"`);
        } else {
          const objects = format === "envelope" ? ((parsed[0] as { traces: Json[] }).traces ?? []) : (parsed as Json[]);
          expect(objects.map((o) => o.action_id), where).toEqual(expected);
        }
      }
    }
  }, 120_000);

  it("left the chain whole and the foreign records as they were", async () => {
    expect(dataOf(await gw.raw("{ verifyChain { ok } }"))).toEqual({ verifyChain: { ok: true } });
    await again();
    const now = new Map(w.stored.map((r) => [r.seq, r]));
    for (const r of seededForeign) expect(now.get(r.seq), r.actionId).toEqual(r);
    const revocation = "query($t: String!) { revocation(tokenId: $t) { revoked principals } }";
    expect((await admin(revocation, { t: "tok-b-inv-2" })).revocation).toEqual({ revoked: false, principals: ["bob"] });
    expect((await admin(revocation, { t: "tok-a-inv-1" })).revocation).toEqual({ revoked: false, principals: ["alice"] });
    expect((await admin(revocation, { t: "tok-scoped-new" })).revocation).toBeNull();
    const keys = (await admin("{ apiKeys(includeRevoked: true) { name revokedAt } }")).apiKeys as { name: string; revokedAt: string | null }[];
    expect(keys.filter((k) => k.name === "escalation")).toEqual([]);
    expect(keys.every((k) => k.revokedAt === null)).toBe(true);
  });
});

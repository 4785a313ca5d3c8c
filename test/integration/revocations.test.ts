/**
 * Token revocation through GraphQL, against the reference's semantics
 * (docs/reference-compatibility.md#revocation and the revocation items of
 * docs/reference-compatibility.md#tamper-checklist): durable across reopen, revokePrincipal
 * counts only newly revoked tokens, the sweep removes only expired entries (equality included)
 * and never un-revokes a live token or sweeps an untracked revoked one. Plus what tracegate
 * adds: every mutation appends exactly one audit trace in the same transaction, scopes, keyset
 * paging, and a sweep racing revocations from two gateways on one database. Both backends.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BACKENDS } from "../support/backends.js";
import { codesOf, createTestGateway, dataOf, type TestGateway } from "../support/harness.js";

/**
 * Sweep instant of most tests, and instants around it (microsecond precision matters at the
 * bound). In the past: a sweep may not run ahead of the server's clock (issue 14, case 8).
 */
const T = "2020-01-01T00:00:00+00:00";
const T_MINUS_1US = "2019-12-31T23:59:59.999999+00:00";
const T_PLUS_1US = "2020-01-01T00:00:00.000001+00:00";
const LONG_AGO = "2001-01-01T00:00:00+00:00";
const FAR_FUTURE = "2250-01-01T00:00:00+00:00";

const REVOCATION = `tokenId principals expiresAt revoked revokedAt reason revokedBy`;
const AUDIT = `auditTrace { seq principalId capabilityId eventType outcome invokedAt args resultSummary }`;

const TRACK = `mutation($tokenId: String!, $principalId: String!, $expiresAt: DateTime!) {
  trackToken(tokenId: $tokenId, principalId: $principalId, expiresAt: $expiresAt) { revocation { ${REVOCATION} } ${AUDIT} } }`;
const REVOKE = `mutation($tokenId: String!, $reason: String) {
  revokeToken(tokenId: $tokenId, reason: $reason) { newlyRevoked revocation { ${REVOCATION} } ${AUDIT} } }`;
const REVOKE_PRINCIPAL = `mutation($principalId: String!, $reason: String) {
  revokePrincipal(principalId: $principalId, reason: $reason) { newlyRevoked ${AUDIT} } }`;
const SWEEP = `mutation($now: DateTime) { sweepExpiredRevocations(now: $now) { swept now ${AUDIT} } }`;
const GET = `query($tokenId: String!) { isRevoked(tokenId: $tokenId) revocation(tokenId: $tokenId) { ${REVOCATION} } }`;
const PAGE = `query($filter: RevocationFilter, $first: Int, $after: String) {
  revocations(filter: $filter, first: $first, after: $after) {
    edges { cursor node { tokenId principals expiresAt revoked } } pageInfo { endCursor hasNextPage } } }`;

interface Revocation {
  tokenId: string;
  principals: string[];
  expiresAt: string | null;
  revoked: boolean;
  revokedAt: string | null;
  reason: string | null;
  revokedBy: string | null;
}
interface AuditTrace {
  seq: number;
  principalId: string;
  capabilityId: string;
  eventType: string;
  outcome: string;
  invokedAt: string;
  args: Record<string, unknown>;
  resultSummary: Record<string, unknown> | null;
}
type Client = Pick<TestGateway, "raw">;

const track = async (c: Client, tokenId: string, principalId: string, expiresAt: string) =>
  (dataOf(await c.raw(TRACK, { tokenId, principalId, expiresAt })) as { trackToken: { revocation: Revocation; auditTrace: AuditTrace } })
    .trackToken;
const revoke = async (c: Client, tokenId: string, reason?: string) =>
  (
    dataOf(await c.raw(REVOKE, { tokenId, reason })) as {
      revokeToken: { newlyRevoked: boolean; revocation: Revocation; auditTrace: AuditTrace };
    }
  ).revokeToken;
const revokePrincipal = async (c: Client, principalId: string, reason?: string) =>
  (dataOf(await c.raw(REVOKE_PRINCIPAL, { principalId, reason })) as { revokePrincipal: { newlyRevoked: number; auditTrace: AuditTrace } })
    .revokePrincipal;
const sweep = async (c: Client, now?: string) =>
  (dataOf(await c.raw(SWEEP, { now })) as { sweepExpiredRevocations: { swept: number; now: string; auditTrace: AuditTrace } })
    .sweepExpiredRevocations;
const lookup = async (c: Client, tokenId: string) =>
  dataOf(await c.raw(GET, { tokenId })) as { isRevoked: boolean; revocation: Revocation | null };

describe.each(BACKENDS)("$name: token revocation", (backend) => {
  let gw: TestGateway;
  let others: TestGateway[];

  /** A second gateway on the same database: another process, as far as the database can tell. */
  const reopen = async () => {
    const second = await createTestGateway({ backend, databaseUrl: gw.databaseUrl });
    others.push(second);
    return second;
  };
  const keyIdOf = async (c: Client) => (dataOf(await c.raw("{ viewer { keyId } }")) as { viewer: { keyId: string } }).viewer.keyId;
  const traceCount = async () => (dataOf(await gw.raw("{ traces { totalCount } }")) as { traces: { totalCount: number } }).traces.totalCount;
  const chainOk = async () => {
    const v = (dataOf(await gw.raw("{ verifyChain { ok checked detail } }")) as { verifyChain: { ok: boolean; checked: number; detail: string } })
      .verifyChain;
    expect(v.ok, v.detail).toBe(true);
    return v.checked;
  };
  /** The audit traces of one operation, in chain order. */
  const auditsOf = async (operation: string) =>
    (
      dataOf(
        await gw.raw(`query($c: String!) { traces(filter: { capabilityId: $c }, first: 500) { edges { node { principalId args resultSummary } } } }`, {
          c: `tracegate.${operation}`,
        }),
      ) as { traces: { edges: { node: { principalId: string; args: Record<string, unknown>; resultSummary: Record<string, unknown> } }[] } }
    ).traces.edges.map((e) => e.node);

  beforeEach(async () => {
    // Sweeps act on every token, so each test gets its own database.
    gw = await createTestGateway({ backend });
    others = [];
  });
  afterEach(async () => {
    for (const o of others) await o.close();
    await gw.close();
  });

  describe("reference revocation semantics", () => {
    it("tracks a token: a repeated principal/token pair is ignored and the expiry replaced", async () => {
      const first = await track(gw, "tok-1", "alice", T);
      expect(first.revocation).toEqual({
        tokenId: "tok-1",
        principals: ["alice"],
        expiresAt: T,
        revoked: false,
        revokedAt: null,
        reason: null,
        revokedBy: null,
      });
      await track(gw, "tok-1", "alice", T_PLUS_1US);
      const third = await track(gw, "tok-1", "bob", FAR_FUTURE);
      expect(third.revocation).toMatchObject({ principals: ["alice", "bob"], expiresAt: FAR_FUTURE, revoked: false });
      expect(await lookup(gw, "tok-1")).toMatchObject({ isRevoked: false, revocation: third.revocation });
      const rows = await gw.db().all(`SELECT "principalId" FROM "TokenPrincipal" WHERE "tokenId" = ? ORDER BY "principalId"`, "tok-1");
      expect(rows.map((r) => r.principalId)).toEqual(["alice", "bob"]);
    });

    it("revokes idempotently: the first revocation's time, reason and revoker are kept", async () => {
      await track(gw, "tok-1", "alice", FAR_FUTURE);
      const adminId = await keyIdOf(gw);
      const first = await revoke(gw, "tok-1", "leaked in a log");
      expect(first.newlyRevoked).toBe(true);
      expect(first.revocation).toMatchObject({ revoked: true, reason: "leaked in a log", revokedBy: adminId, expiresAt: FAR_FUTURE });
      // revokedAt is the instant of the audit trace that logged the revocation.
      expect(first.revocation.revokedAt).toBe(first.auditTrace.invokedAt);

      const revoker = gw.as(await gw.issueKey(["revocations:write", "traces:read"]));
      const again = await revoke(revoker, "tok-1", "a different reason");
      expect(again.newlyRevoked).toBe(false);
      expect(again.revocation).toEqual(first.revocation);
      expect(again.auditTrace.resultSummary).toEqual({ newlyRevoked: false });
      expect(await lookup(gw, "tok-1")).toEqual({ isRevoked: true, revocation: first.revocation });
      // Tracking a revoked token again does not un-revoke it, nor move its expiry earlier
      // (which a sweep would then act on): revocation is one-way.
      const tracked = await track(gw, "tok-1", "carol", T);
      expect(tracked.revocation).toMatchObject({ revoked: true, revokedAt: first.revocation.revokedAt, expiresAt: FAR_FUTURE });
    });

    it("is durable across reopen and shared between gateways on one database", async () => {
      await track(gw, "tok-1", "alice", FAR_FUTURE);
      const revoked = await revoke(gw, "tok-1", "compromised");
      await revoke(gw, "untracked");
      await gw.close();
      // A fresh gateway (fresh stores, fresh provider) on the same database.
      gw = await createTestGateway({ backend, databaseUrl: gw.databaseUrl });
      expect(await lookup(gw, "tok-1")).toEqual({ isRevoked: true, revocation: revoked.revocation });
      expect((await lookup(gw, "untracked")).isRevoked).toBe(true);
      expect((await lookup(gw, "never-seen")).isRevoked).toBe(false);
      // And a revocation through one gateway is seen by another at once.
      const second = await reopen();
      await track(second, "tok-2", "bob", FAR_FUTURE);
      await revoke(second, "tok-2");
      expect((await lookup(gw, "tok-2")).isRevoked).toBe(true);
      await chainOk();
    });

    it("revokePrincipal counts only newly revoked tokens, drops the principal's index, keeps the expiries", async () => {
      for (const t of ["a1", "a2", "a3"]) await track(gw, t, "alice", T);
      await track(gw, "shared", "alice", FAR_FUTURE);
      await track(gw, "shared", "bob", FAR_FUTURE);
      await track(gw, "b1", "bob", FAR_FUTURE);
      await revoke(gw, "a2", "first");

      const result = await revokePrincipal(gw, "alice", "offboarded");
      expect(result.newlyRevoked).toBe(3); // a1, a3, shared; a2 was already revoked
      for (const t of ["a1", "a2", "a3", "shared"]) expect((await lookup(gw, t)).isRevoked, t).toBe(true);
      expect((await lookup(gw, "b1")).isRevoked).toBe(false);
      const a1 = (await lookup(gw, "a1")).revocation!;
      expect(a1).toMatchObject({ principals: [], expiresAt: T, reason: "offboarded", revokedAt: result.auditTrace.invokedAt });
      expect((await lookup(gw, "a2")).revocation).toMatchObject({ reason: "first" }); // the first revocation is kept
      expect((await lookup(gw, "shared")).revocation!.principals).toEqual(["bob"]);

      // The index rows are gone, so a repeat finds nothing; bob's shared token is already revoked.
      expect((await revokePrincipal(gw, "alice")).newlyRevoked).toBe(0);
      expect((await revokePrincipal(gw, "bob")).newlyRevoked).toBe(1); // b1 only
      expect((await revokePrincipal(gw, "nobody")).newlyRevoked).toBe(0);
      // The kept expiry rows are still swept later.
      expect((await sweep(gw, T)).swept).toBe(3);
      for (const t of ["a1", "a2", "a3"]) expect(await lookup(gw, t), t).toEqual({ isRevoked: false, revocation: null });
      expect((await lookup(gw, "shared")).isRevoked).toBe(true);
    });

    it("sweeps only expired entries, equality at the bound included, and never un-revokes a live token", async () => {
      await track(gw, "past-revoked", "alice", T_MINUS_1US);
      await track(gw, "at-bound", "alice", T);
      await track(gw, "long-ago", "bob", LONG_AGO);
      await track(gw, "live-revoked", "alice", T_PLUS_1US);
      await track(gw, "live", "bob", T_PLUS_1US);
      await revoke(gw, "past-revoked");
      await revoke(gw, "live-revoked");
      await revoke(gw, "untracked-revoked");

      const result = await sweep(gw, T);
      expect(result.swept).toBe(3); // counts the revoked and the unrevoked expired tokens
      expect(result.now).toBe(T);
      for (const t of ["past-revoked", "at-bound", "long-ago"]) {
        // All state is gone: expiry, revoked flag and principal index.
        expect(await lookup(gw, t), t).toEqual({ isRevoked: false, revocation: null });
        expect(await gw.db().all(`SELECT * FROM "TokenPrincipal" WHERE "tokenId" = ?`, t), t).toEqual([]);
      }
      expect(await lookup(gw, "live-revoked")).toMatchObject({ isRevoked: true, revocation: { expiresAt: T_PLUS_1US, principals: ["alice"] } });
      expect(await lookup(gw, "live")).toMatchObject({ isRevoked: false, revocation: { expiresAt: T_PLUS_1US, principals: ["bob"] } });
      expect((await lookup(gw, "untracked-revoked")).isRevoked).toBe(true);

      expect((await sweep(gw, T)).swept).toBe(0);
      // One microsecond later the live tokens expire; the untracked revoked token never does.
      expect((await sweep(gw, T_PLUS_1US)).swept).toBe(2);
      expect((await sweep(gw)).swept).toBe(0);
      expect(await lookup(gw, "untracked-revoked")).toMatchObject({ isRevoked: true, revocation: { expiresAt: null, principals: [] } });
    });

    it("is one-way: a sweep in the future is refused, and one just ahead sweeps at the server's clock (issue 14, case 8)", async () => {
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
      await track(gw, "revoked-today", "alice", "2030-01-01T00:00:00Z");
      await track(gw, "expires-tomorrow", "alice", tomorrow);
      await revoke(gw, "revoked-today");
      const traces = async () => (dataOf(await gw.raw("{ traces { totalCount } }")) as { traces: { totalCount: number } }).traces.totalCount;
      const before = await traces();

      for (const now of ["2255-01-01T00:00:00Z", new Date(Date.now() + 6 * 60_000).toISOString()]) {
        const refused = await gw.raw(SWEEP, { now });
        expect(codesOf(refused), now).toEqual(["BAD_USER_INPUT"]);
        expect(refused.errors![0]!.extensions?.field).toBe("now");
      }
      expect(await traces()).toBe(before); // refused before the store: no audit trace either
      expect((await lookup(gw, "revoked-today")).isRevoked).toBe(true);

      // Within the 5-minute skew the sweep runs, at the server's clock: nothing live is swept.
      const ahead = new Date(Date.now() + 4 * 60_000).toISOString();
      const result = await sweep(gw, ahead);
      expect(result.swept).toBe(0);
      expect(Date.parse(result.now)).toBeLessThanOrEqual(Date.now() + 1);
      expect(result.auditTrace.args).toEqual({ now: expect.stringMatching(/^20/) });
      expect((await lookup(gw, "revoked-today")).isRevoked).toBe(true);
      expect((await lookup(gw, "expires-tomorrow")).revocation).not.toBeNull();
    });

    it("is one-way through trackToken too: re-tracking a revoked token with a past expiry cannot get it swept", async () => {
      await track(gw, "revoked-live", "alice", "2030-01-01T00:00:00Z");
      await revoke(gw, "revoked-live");
      await revoke(gw, "revoked-untracked");
      // The attack: move the expiry into the past, then sweep.
      await track(gw, "revoked-live", "alice", LONG_AGO);
      await track(gw, "revoked-untracked", "alice", LONG_AGO);
      expect((await lookup(gw, "revoked-live")).revocation).toMatchObject({ expiresAt: "2030-01-01T00:00:00+00:00", revoked: true });
      expect((await lookup(gw, "revoked-untracked")).revocation).toMatchObject({ expiresAt: null, revoked: true });
      await sweep(gw);
      expect((await lookup(gw, "revoked-live")).isRevoked).toBe(true);
      expect((await lookup(gw, "revoked-untracked")).isRevoked).toBe(true);
      // A later expiry is taken (the token lives longer than first known), and unrevoked tokens follow the reference.
      await track(gw, "revoked-live", "alice", FAR_FUTURE);
      expect((await lookup(gw, "revoked-live")).revocation).toMatchObject({ expiresAt: FAR_FUTURE });
      await track(gw, "plain", "alice", FAR_FUTURE);
      await track(gw, "plain", "alice", LONG_AGO);
      expect((await lookup(gw, "plain")).revocation).toMatchObject({ expiresAt: LONG_AGO, revoked: false });
    });

    it("sweeps at the server's clock when no instant is given", async () => {
      await track(gw, "expired", "alice", LONG_AGO);
      await track(gw, "live", "alice", FAR_FUTURE);
      const before = Date.now();
      const result = await sweep(gw);
      expect(result.swept).toBe(1);
      expect(Date.parse(result.now)).toBeGreaterThanOrEqual(before - 1);
      expect(Date.parse(result.now)).toBeLessThanOrEqual(Date.now() + 1);
      expect(result.auditTrace.args).toEqual({ now: null });
      expect(result.auditTrace.resultSummary).toEqual({ swept: 1, now: result.now });
    });
  });

  describe("audit trail", () => {
    it("appends exactly one trace per mutation, by the acting key, as tracegate.<operation>", async () => {
      const revokerKey = await gw.issueKey(["revocations:write", "traces:read"]);
      const revoker = gw.as(revokerKey);
      const revokerId = await keyIdOf(revoker);
      const head = async () => (dataOf(await gw.raw("{ chainHead { nextSeq } }")) as { chainHead: { nextSeq: number } }).chainHead.nextSeq;

      const steps: [string, () => Promise<{ auditTrace: AuditTrace }>, Record<string, unknown>, Record<string, unknown>][] = [
        ["trackToken", () => track(revoker, "tok-1", "alice", T), { tokenId: "tok-1", principalId: "alice", expiresAt: T }, { revoked: false }],
        ["revokeToken", () => revoke(revoker, "tok-1", "why"), { tokenId: "tok-1", reason: "why" }, { newlyRevoked: true }],
        ["revokeToken", () => revoke(revoker, "tok-1"), { tokenId: "tok-1", reason: null }, { newlyRevoked: false }],
        ["trackToken", () => track(revoker, "tok-2", "alice", T), { tokenId: "tok-2", principalId: "alice", expiresAt: T }, { revoked: false }],
        ["revokePrincipal", () => revokePrincipal(revoker, "alice"), { principalId: "alice", reason: null }, { newlyRevoked: 1 }],
        ["sweepExpiredRevocations", () => sweep(revoker, T), { now: T }, { swept: 2, now: T }],
        ["sweepExpiredRevocations", () => sweep(revoker, T), { now: T }, { swept: 0, now: T }],
      ];
      for (const [operation, run, args, summary] of steps) {
        const seq = await head();
        const { auditTrace } = await run();
        expect(await head(), operation).toBe(seq + 1);
        expect(auditTrace, operation).toMatchObject({
          seq,
          principalId: revokerId,
          capabilityId: `tracegate.${operation}`,
          eventType: "INVOKE",
          outcome: "SUCCEEDED",
          args,
          resultSummary: summary,
        });
      }
      expect(await traceCount()).toBe(steps.length);
      expect((await auditsOf("revokeToken")).map((t) => t.principalId)).toEqual([revokerId, revokerId]);
      expect(await chainOk()).toBe(steps.length);
    });

    it("appends nothing for a refused mutation", async () => {
      await track(gw, "tok-1", "alice", T);
      const before = await traceCount();
      const refused: [string, Record<string, unknown>, string | undefined][] = [
        [REVOKE, { tokenId: "" }, "tokenId"],
        [REVOKE, { tokenId: "x".repeat(1_025) }, "tokenId"],
        [REVOKE, { tokenId: "tok-1", reason: "r".repeat(1_025) }, "reason"],
        [REVOKE_PRINCIPAL, { principalId: "" }, "principalId"],
        [REVOKE_PRINCIPAL, { principalId: "p", reason: "r".repeat(1_025) }, "reason"],
        [TRACK, { tokenId: "", principalId: "alice", expiresAt: T }, "tokenId"],
        [TRACK, { tokenId: "tok-2", principalId: "", expiresAt: T }, "principalId"],
        [TRACK, { tokenId: "tok-2", principalId: "alice", expiresAt: "not a date" }, undefined],
        [TRACK, { tokenId: "tok-2", principalId: "alice", expiresAt: "2030-02-30T00:00:00Z" }, undefined],
        [SWEEP, { now: "yesterday" }, undefined],
      ];
      for (const [query, variables, field] of refused) {
        const res = await gw.raw(query, variables);
        const label = JSON.stringify(variables).slice(0, 80);
        expect(codesOf(res), label).toEqual(["BAD_USER_INPUT"]);
        if (field) expect(res.errors?.[0]?.extensions?.field, label).toBe(field);
      }
      // Forbidden calls append nothing either.
      const reader = gw.as(await gw.issueKey(["traces:read"]));
      expect(codesOf(await reader.raw(REVOKE, { tokenId: "tok-1" }))).toEqual(["FORBIDDEN"]);
      expect(await traceCount()).toBe(before);
      expect((await lookup(gw, "tok-1")).isRevoked).toBe(false);
      expect((await lookup(gw, "tok-2")).revocation).toBeNull();
      // The largest accepted values go through; an expiry in the past is accepted.
      expect((await revoke(gw, "x".repeat(1_024), "r".repeat(1_024))).newlyRevoked).toBe(true);
      expect((await track(gw, "tok-3", "alice", LONG_AGO)).revocation.expiresAt).toBe(LONG_AGO);
      await chainOk();
    });
  });

  describe("scopes", () => {
    const mutations: [string, Record<string, unknown>][] = [
      [TRACK, { tokenId: "tok-x", principalId: "alice", expiresAt: T }],
      [REVOKE, { tokenId: "tok-1" }],
      [REVOKE_PRINCIPAL, { principalId: "alice" }],
      [SWEEP, { now: T }],
    ];
    /** The mutations without auditTrace, which needs traces:read like every Trace. */
    const withoutAudit = (query: string) => query.replace(AUDIT, "__typename");

    it("lets a traces:read key query but not mutate", async () => {
      await track(gw, "tok-1", "alice", FAR_FUTURE);
      await revoke(gw, "tok-1");
      const reader = gw.as(await gw.issueKey(["traces:read"]));
      expect(await lookup(reader, "tok-1")).toMatchObject({ isRevoked: true, revocation: { tokenId: "tok-1" } });
      expect(codesOf(await reader.raw(PAGE))).toEqual([]);
      const before = await traceCount();
      for (const [query, variables] of mutations) {
        const res = await reader.raw(query, variables);
        expect(codesOf(res), query.slice(0, 40)).toEqual(["FORBIDDEN"]);
        expect(res.data ?? null).toBeNull();
      }
      expect(await traceCount()).toBe(before);
      expect((await lookup(gw, "tok-x")).revocation).toBeNull();
      expect((await lookup(gw, "tok-1")).isRevoked).toBe(true);
    });

    it("lets a revocations:write key mutate and query", async () => {
      const revoker = gw.as(await gw.issueKey(["revocations:write"]));
      await track(gw, "tok-1", "alice", FAR_FUTURE);
      for (const [query, variables] of mutations) {
        expect(codesOf(await revoker.raw(withoutAudit(query), variables)), query.slice(0, 40)).toEqual([]);
      }
      expect(await lookup(revoker, "tok-1")).toMatchObject({ isRevoked: true });
      expect(codesOf(await revoker.raw(PAGE))).toEqual([]);
      expect(await traceCount()).toBe(1 + mutations.length);
    });

    it("refuses keys without either scope, and principal-confined keys everywhere but isRevoked", async () => {
      await track(gw, "tok-1", "alice", FAR_FUTURE);
      const writer = gw.as(await gw.issueKey(["traces:write"]));
      for (const query of [`{ isRevoked(tokenId: "tok-1") }`, `{ revocation(tokenId: "tok-1") { tokenId } }`, `{ revocations { edges { cursor } } }`]) {
        expect(codesOf(await writer.raw(query)), query).toEqual(["FORBIDDEN"]);
      }
      // A key confined to some principals must not see or change other tenants' tokens.
      const confined = gw.as(await gw.issueKey(["revocations:write", "traces:read"], ["alice"]));
      expect(dataOf(await confined.raw(`{ isRevoked(tokenId: "tok-1") }`))).toEqual({ isRevoked: false });
      for (const query of [`{ revocation(tokenId: "tok-1") { tokenId } }`, `{ revocations { edges { cursor } } }`]) {
        expect(codesOf(await confined.raw(query)), query).toEqual(["FORBIDDEN"]);
      }
      const before = await traceCount();
      for (const [query, variables] of mutations) {
        expect(codesOf(await confined.raw(withoutAudit(query), variables)), query.slice(0, 40)).toEqual(["FORBIDDEN"]);
      }
      expect(await traceCount()).toBe(before);
    });
  });

  describe("the revocations connection", () => {
    type Node = { tokenId: string; principals: string[]; expiresAt: string | null; revoked: boolean };
    type Page = { revocations: { edges: { cursor: string; node: Node }[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } };

    /** Walk every page of a filter with a page size. */
    const walk = async (filter: Record<string, unknown> | undefined, first: number) => {
      const seen: Node[] = [];
      let after: string | null = null;
      for (let pages = 0; pages < 100; pages++) {
        const page: Page = dataOf(await gw.raw(PAGE, { filter, first, after })) as Page;
        const { edges, pageInfo } = page.revocations;
        expect(edges.length).toBeLessThanOrEqual(first);
        seen.push(...edges.map((e) => e.node));
        if (!pageInfo.hasNextPage) return seen;
        after = pageInfo.endCursor;
      }
      throw new Error("did not finish paging");
    };

    it("pages disjointly and completely in tokenId order, with filters", async () => {
      // 37 tokens: principals p0..p3, expiries spread around T, every third revoked,
      // plus two revoked without tracking.
      const expected = new Map<string, Node>();
      for (let i = 0; i < 37; i++) {
        const tokenId = `tok-${String(i).padStart(3, "0")}`;
        const principalId = `p${i % 4}`;
        const expiresAt = i % 2 === 0 ? T_MINUS_1US : T_PLUS_1US;
        await track(gw, tokenId, principalId, expiresAt);
        if (i % 3 === 0) await revoke(gw, tokenId);
        expected.set(tokenId, { tokenId, principals: [principalId], expiresAt, revoked: i % 3 === 0 });
      }
      for (const tokenId of ["tok-untracked-a", "tok-untracked-b"]) {
        await revoke(gw, tokenId);
        expected.set(tokenId, { tokenId, principals: [], expiresAt: null, revoked: true });
      }
      const all = [...expected.values()].sort((a, b) => (a.tokenId < b.tokenId ? -1 : 1));
      const cases: [Record<string, unknown> | undefined, (n: Node) => boolean][] = [
        [undefined, () => true],
        [{ principalId: "p1" }, (n) => n.principals.includes("p1")],
        [{ revoked: true }, (n) => n.revoked],
        [{ revoked: false }, (n) => !n.revoked],
        [{ expiresBefore: T }, (n) => n.expiresAt === T_MINUS_1US],
        [{ expiresBefore: T_PLUS_1US }, (n) => n.expiresAt === T_MINUS_1US], // strictly before
        [{ principalId: "p2", revoked: true, expiresBefore: FAR_FUTURE }, (n) => n.principals.includes("p2") && n.revoked],
        [{ principalId: "nobody" }, () => false],
      ];
      for (const [filter, keep] of cases) {
        const want = all.filter(keep);
        for (const first of [1, 7, 500]) {
          const got = await walk(filter, first);
          expect(got, `${JSON.stringify(filter)} first=${first}`).toEqual(want);
        }
      }
      // Default page size 20, with a cursor that resumes exactly after the last token.
      const firstPage = dataOf(await gw.raw(PAGE)) as Page;
      expect(firstPage.revocations.edges.map((e) => e.node.tokenId)).toEqual(all.slice(0, 20).map((n) => n.tokenId));
      const rest = dataOf(await gw.raw(PAGE, { first: 500, after: firstPage.revocations.pageInfo.endCursor })) as Page;
      expect(rest.revocations.edges.map((e) => e.node.tokenId)).toEqual(all.slice(20).map((n) => n.tokenId));
      // A cursor stays valid when its token is swept: it is a position, not a row.
      const cursorOfExpired = firstPage.revocations.edges[0]!.cursor; // tok-000 expires at T - 1us
      await sweep(gw, T);
      const after = dataOf(await gw.raw(PAGE, { first: 500, after: cursorOfExpired })) as Page;
      expect(after.revocations.edges.map((e) => e.node.tokenId)).toEqual(
        all.filter((n) => n.tokenId > "tok-000" && n.expiresAt !== T_MINUS_1US).map((n) => n.tokenId),
      );
    });

    it("refuses bad cursors and page sizes with coded errors", async () => {
      await track(gw, "tok-1", "alice", T);
      const traceCursor = (dataOf(await gw.raw("{ traces(first: 1) { pageInfo { endCursor } } }")) as {
        traces: { pageInfo: { endCursor: string } };
      }).traces.pageInfo.endCursor;
      for (const after of ["", "garbage!", "bm90IGEgY3Vyc29y", traceCursor, "A".repeat(5_000), Buffer.from("1:r:", "utf16le").toString("base64url")]) {
        const res = await gw.raw(PAGE, { after });
        expect(codesOf(res), after.slice(0, 40)).toEqual(["INVALID_CURSOR"]);
      }
      const bad = async (query: string, variables: Record<string, unknown>, field: string) => {
        const res = await gw.raw(query, variables);
        expect(codesOf(res), field).toEqual(["BAD_USER_INPUT"]);
        expect(res.errors?.[0]?.extensions?.field).toBe(field);
      };
      await bad(PAGE, { first: 501 }, "first");
      await bad(PAGE, { first: -1 }, "first");
      await bad(`{ revocations(last: 5) { edges { cursor } } }`, {}, "last");
      await bad(`{ revocations(before: "x") { edges { cursor } } }`, {}, "before");
      await bad(PAGE, { filter: { principalId: "" } }, "filter.principalId");
      await bad(`query($tokenId: String!) { isRevoked(tokenId: $tokenId) }`, { tokenId: "" }, "tokenId");
      await bad(`query($tokenId: String!) { revocation(tokenId: $tokenId) { tokenId } }`, { tokenId: "y".repeat(1_025) }, "tokenId");
    });
  });

  it(
    "keeps the semantics under a race: a sweep against concurrent revocations (two gateways on PostgreSQL)",
    async () => {
      // 200 tokens, half expired at the sweep instant T (one exactly at T), half live;
      // principals p0..p7. Tracked through both gateways at once.
      // On SQLite a second gateway in this process would not race but stall: better-sqlite3
      // waits for a lock synchronously, blocking the event loop the lock holder needs (the
      // busy timeout then expires). Cross-process SQLite writers are the e2e tests' job;
      // here SQLite races through one gateway, PostgreSQL through two.
      const second = backend.name === "postgresql" ? await reopen() : gw;
      const tokens = Array.from({ length: 200 }, (_, i) => ({
        tokenId: `race-${String(i).padStart(3, "0")}`,
        principalId: `p${i % 8}`,
        expired: i % 2 === 0,
        expiresAt: i % 2 === 0 ? (i === 0 ? T : T_MINUS_1US) : T_PLUS_1US,
      }));
      await Promise.all(tokens.map((t, i) => track(i % 2 === 0 ? gw : second, t.tokenId, t.principalId, t.expiresAt)));
      const before = await traceCount();

      // Interleaved: two sweeps (one per gateway), revokeToken on every third token (expired
      // and live alike, some twice) and revokePrincipal for p0..p2, alternating gateways.
      const ops: (() => Promise<unknown>)[] = [];
      const revokedTokens = new Set<string>();
      tokens.forEach((t, i) => {
        if (i % 3 === 0) {
          ops.push(() => revoke(i % 2 === 0 ? second : gw, t.tokenId, `race ${i}`));
          revokedTokens.add(t.tokenId);
        }
        if (i % 25 === 0) {
          ops.push(() => revoke(i % 2 === 0 ? gw : second, t.tokenId, "again"));
          revokedTokens.add(t.tokenId);
        }
        if (i === 40) ops.push(() => sweep(gw, T));
        if (i === 120) ops.push(() => sweep(second, T));
        if (i === 10) ops.push(() => revokePrincipal(second, "p0"));
        if (i === 90) ops.push(() => revokePrincipal(gw, "p1"));
        if (i === 150) ops.push(() => revokePrincipal(second, "p2"));
      });
      for (const t of tokens) if (["p0", "p1", "p2"].includes(t.principalId)) revokedTokens.add(t.tokenId);
      const results = await Promise.all(ops.map((op) => op()));
      const sweeps = results.filter((r): r is { swept: number } => typeof r === "object" && r !== null && "swept" in r);
      expect(sweeps).toHaveLength(2);
      // Every expired token was tracked before the race, so the two sweeps split exactly 100.
      expect(sweeps.reduce((sum, s) => sum + s.swept, 0)).toBe(100);

      for (const t of tokens) {
        const { isRevoked, revocation } = await lookup(gw, t.tokenId);
        if (t.expired) {
          // Gone, unless a revokeToken that ran after the sweep re-created it as an
          // untracked revocation (no expiry, no principals).
          if (revocation !== null) {
            expect(revocation, t.tokenId).toMatchObject({ expiresAt: null, principals: [], revoked: true });
            expect(revokedTokens.has(t.tokenId), t.tokenId).toBe(true);
          }
          continue;
        }
        // A live token keeps its expiry, and a revoked live token stayed revoked.
        expect(revocation?.expiresAt, t.tokenId).toBe(T_PLUS_1US);
        expect(isRevoked, t.tokenId).toBe(revokedTokens.has(t.tokenId));
      }
      const leftovers = await gw.db().all<{ n: unknown }>(
        `SELECT COUNT(*) AS n FROM "RevocationToken" WHERE "expiresAtUs" IS NOT NULL AND "expiresAtUs" <= ?`,
        Date.parse(T) * 1000,
      );
      expect(Number(leftovers[0]!.n)).toBe(0);

      // Exactly one audit trace per mutation, and the chain is whole.
      expect(await traceCount()).toBe(before + ops.length);
      expect(await auditsOf("sweepExpiredRevocations")).toHaveLength(2);
      expect(await auditsOf("revokePrincipal")).toHaveLength(3);
      expect(await chainOk()).toBe(before + ops.length);
    },
    120_000,
  );
});

/**
 * traceStats: grouped counts computed in the database agree with counting the corpus in
 * memory, for every dimension, time buckets and principal scope. Both backends.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordTracesDocument } from "../gql/graphql.js";
import { BACKENDS } from "../support/backends.js";
import { codesOf, createTestGateway, dataOf, type TestGateway } from "../support/harness.js";
import { at, deny, invoke } from "../support/traces.js";

type Group = { count: number; eventType: string | null; outcome: string | null; reasonCode: string | null; principalId: string | null; capabilityId: string | null; bucketStart: string | null };
const STATS = `query($filter: TraceFilter, $groupBy: [TraceStatsDimension!], $bucket: TimeBucket, $limit: Int) {
  traceStats(filter: $filter, groupBy: $groupBy, bucket: $bucket, limit: $limit) {
    total groups { count eventType outcome reasonCode principalId capabilityId bucketStart } } }`;

describe.each(BACKENDS)("$name: traceStats", (backend) => {
  let gw: TestGateway;
  const corpus = Array.from({ length: 90 }, (_, i) => {
    const principalId = ["team-a/alice", "team-a/bob", "carol"][i % 3]!;
    const capabilityId = ["crm.read", "billing.refund"][i % 2]!;
    const invokedAt = at(i * 7); // spans ~10.5 hours
    return i % 4 === 0
      ? deny(`s-${i}`, i % 8 === 0 ? "missing_role" : "rate_limited", { principalId, capabilityId, invokedAt })
      : invoke(`s-${i}`, { principalId, capabilityId, invokedAt, error: i % 5 === 0 ? "boom" : null });
  });

  beforeAll(async () => {
    gw = await createTestGateway({ backend });
    dataOf(await gw.exec(RecordTracesDocument, { input: corpus }));
  });
  afterAll(() => gw.close());

  const stats = async (variables: Record<string, unknown>, key?: string) =>
    (dataOf(await (key ? gw.as(key) : gw).raw(STATS, variables)) as { traceStats: { total: number; groups: Group[] } }).traceStats;
  const tally = (keyOf: (t: (typeof corpus)[number]) => string, items = corpus) => {
    const m = new Map<string, number>();
    for (const t of items) m.set(keyOf(t), (m.get(keyOf(t)) ?? 0) + 1);
    return m;
  };

  it("counts by each dimension as the corpus does, largest first", async () => {
    const byEvent = await stats({ groupBy: ["EVENT_TYPE"] });
    expect(byEvent.total).toBe(90);
    expect(new Map(byEvent.groups.map((g) => [g.eventType!, g.count]))).toEqual(tally((t) => t.eventType!));
    const byReason = await stats({ groupBy: ["REASON_CODE"], filter: { eventType: "DENY" } });
    expect(new Map(byReason.groups.map((g) => [g.reasonCode!, g.count]))).toEqual(tally((t) => t.reasonCode!, corpus.filter((t) => t.eventType === "DENY")));
    const pairs = await stats({ groupBy: ["PRINCIPAL", "OUTCOME"] });
    expect(new Map(pairs.groups.map((g) => [`${g.principalId}|${g.outcome}`, g.count]))).toEqual(
      tally((t) => `${t.principalId}|${t.error != null ? "FAILED" : "SUCCEEDED"}`),
    );
    const counts = pairs.groups.map((g) => g.count);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    expect(pairs.groups.every((g) => g.eventType === null && g.capabilityId === null)).toBe(true);
  });

  it("buckets by hour in UTC", async () => {
    const res = await stats({ bucket: "HOUR", limit: 1000 });
    const expected = tally((t) => `${t.invokedAt.slice(0, 13)}:00:00+00:00`);
    expect(new Map(res.groups.map((g) => [g.bucketStart!, g.count]))).toEqual(expected);
  });

  it("buckets by second, minute and day in UTC, sub-second instants in their second", async () => {
    // A few traces at fractions of a second, beside the corpus' whole-minute instants.
    const extra = [
      invoke("sub-1", { invokedAt: at(3, 999_999) }),
      invoke("sub-2", { invokedAt: at(3, 1) }),
      invoke("sub-3", { invokedAt: at(3, 0) }),
      invoke("sub-4", { invokedAt: at(4, 500_000) }),
    ];
    const local = await createTestGateway({ backend });
    try {
      dataOf(await local.exec(RecordTracesDocument, { input: [...corpus, ...extra] }));
      const all = [...corpus, ...extra];
      const run = async (bucket: string, filter?: Record<string, unknown>) =>
        (dataOf(await local.raw(STATS, { bucket, limit: 1000, ...(filter ? { filter } : {}) })) as { traceStats: { groups: Group[] } }).traceStats.groups;
      const within = (from: string, to: string) => all.filter((t) => t.invokedAt >= from && t.invokedAt < to);
      // Second buckets of [00:03, 00:05): the three traces at 00:03:00.x share one second.
      const seconds = await run("SECOND", { since: at(3), until: at(5) });
      expect(new Map(seconds.map((g) => [g.bucketStart!, g.count]))).toEqual(
        tally((t) => `${t.invokedAt.slice(0, 19)}+00:00`, within(at(3), at(5))),
      );
      expect(seconds.find((g) => g.bucketStart === at(3))?.count).toBe(3); // .000000, .000001 and .999999
      const minutes = await run("MINUTE");
      expect(new Map(minutes.map((g) => [g.bucketStart!, g.count]))).toEqual(tally((t) => `${t.invokedAt.slice(0, 16)}:00+00:00`, all));
      const days = await run("DAY");
      expect(new Map(days.map((g) => [g.bucketStart!, g.count]))).toEqual(tally((t) => `${t.invokedAt.slice(0, 10)}T00:00:00+00:00`, all));
    } finally {
      await local.close();
    }
  });

  it("confines a principal-scoped key to its principals", async () => {
    const scoped = await gw.issueKey(["traces:read"], ["team-a/*"]);
    const res = await stats({ groupBy: ["PRINCIPAL"] }, scoped);
    expect(res.groups.map((g) => g.principalId).sort()).toEqual(["team-a/alice", "team-a/bob"]);
    expect(res.total).toBe(60);
    const foreign = await stats({ groupBy: ["PRINCIPAL"], filter: { principalId: "carol" } }, scoped);
    expect(foreign).toEqual({ total: 0, groups: [] });
  });

  it("refuses a bad limit and a key without traces:read", async () => {
    expect(codesOf(await gw.raw(STATS, { limit: 0 }))).toEqual(["BAD_USER_INPUT"]);
    const writer = await gw.issueKey(["traces:write"]);
    expect(codesOf(await gw.as(writer).raw(STATS, {}))).toEqual(["FORBIDDEN"]);
  });
});

/**
 * matchesFilter (how live events are filtered) agrees with the store's SQL (how replays and
 * catch-up reads are filtered): for a corpus of traces chosen to trip string and time
 * edge cases, and random filters and principal scopes, the store's page equals the corpus
 * filtered in memory. If they disagreed, a subscriber would see different traces live than
 * after a resume. Both backends.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrincipalScope } from "../../../src/access/scopes.js";
import { matchesFilter } from "../../../src/streams/match.js";
import type { TraceFilter, TraceRow } from "../../../src/stores/trace-store.js";
import type { TraceInput } from "../../gql/graphql.js";
import { BACKENDS } from "../../support/backends.js";
import { createTestGateway, dataOf, type TestGateway } from "../../support/harness.js";
import { at, deny, invoke } from "../../support/traces.js";

/** Principals around prefixes, LIKE wildcards, case, Unicode normalisation and the empty id. */
const PRINCIPALS = [
  "alice", "alice2", "Alice", "team-a", "team-a/", "team-a/alice", "team-a/bob", "team-a/%_x", "TEAM-A/dave",
  "team-ab/eve", "a_b", "a%b", "axb", "é", "e\u0301", "ß", "日本/太郎", "",
];
const CAPABILITIES = ["billing.list_invoices", "crm.read", "crm.read.v2", "CRM.read"];
const REASONS = ["missing_role", "expired", "Missing_Role"];

function corpus(): TraceInput[] {
  return Array.from({ length: 60 }, (_, i) => {
    const fields = {
      principalId: PRINCIPALS[i % PRINCIPALS.length]!,
      capabilityId: CAPABILITIES[(i * 7) % CAPABILITIES.length]!,
      // Repeated minutes with microsecond offsets: equal times and 1 µs neighbours.
      invokedAt: at(i % 9, (i * 13) % 4),
    };
    if (i % 5 === 0) return deny(`m-${i}`, REASONS[i % REASONS.length]!, fields);
    if (i % 7 === 3) return invoke(`m-${i}`, { ...fields, eventType: "EXPAND" });
    if (i % 4 === 1) return invoke(`m-${i}`, { ...fields, error: "boom" }); // FAILED
    return invoke(`m-${i}`, fields);
  });
}

describe.each(BACKENDS)("$name: matchesFilter agrees with the store's filter SQL", (backend) => {
  let gw: TestGateway;
  let rows: TraceRow[];
  let times: number[];

  beforeAll(async () => {
    gw = await createTestGateway({ backend });
    dataOf(await gw.raw("mutation($input: [TraceInput!]!) { recordTraces(input: $input) { seq } }", { input: corpus() }));
    rows = await gw.stores.traces.page({ filter: {}, order: "SEQ_ASC", limit: 500 });
    times = [...new Set(rows.map((r) => r.invokedAtUs))];
  });
  afterAll(() => gw.close());

  const scopeArb: fc.Arbitrary<PrincipalScope> = fc
    .record({
      exact: fc.subarray([...PRINCIPALS, "nobody", "team-a/*"]),
      prefixes: fc.subarray(["team-a/", "team-a", "TEAM", "t", "a_", "a%", "a", "é", "e", "日本/", "alice", "%", "_"]),
    })
    .filter((s) => s.exact.length + s.prefixes.length > 0); // a scope has at least one pattern

  /** Each condition present one time in three, so that many filters still match something. */
  const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
  /** The list and prefix conditions one time in six: each narrows a lot. */
  const rarely = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
  const filterArb = (): fc.Arbitrary<TraceFilter> => {
    const time = fc.constantFrom(...times.flatMap((t) => [t - 1, t, t + 1]));
    return fc
      .record({
        principalId: maybe(fc.constantFrom(...PRINCIPALS, "nobody", "team-a/*", "ALICE")),
        principalIds: rarely(fc.subarray([...PRINCIPALS, "nobody", "team-a/*"], { maxLength: 4 })),
        principalPrefix: rarely(fc.constantFrom("team-a/", "team-a", "TEAM", "a_", "a%", "%", "_", "e", "é", "日本/", "alice")),
        capabilityId: maybe(fc.constantFrom(...CAPABILITIES, "crm")),
        capabilityIds: rarely(fc.subarray([...CAPABILITIES, "crm"], { maxLength: 3 })),
        capabilityPrefix: rarely(fc.constantFrom("crm.", "crm.read", "CRM", "billing.", "c", "%")),
        eventType: maybe(fc.constantFrom("invoke" as const, "expand" as const, "deny" as const)),
        status: maybe(fc.constantFrom("succeeded" as const, "failed" as const)),
        reasonCode: maybe(fc.constantFrom(...REASONS, "nope")),
        sinceUs: maybe(time),
        untilUs: maybe(time),
        principals: maybe(scopeArb),
      })
      .map((f) => Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) as TraceFilter);
  };

  const seqsInMemory = (f: TraceFilter) => rows.filter((r) => matchesFilter(r, f)).map((r) => r.seq);
  const seqsInStore = async (f: TraceFilter) => (await gw.stores.traces.page({ filter: f, order: "SEQ_ASC", limit: 500 })).map((r) => r.seq);

  it("the corpus is what it should be", () => {
    expect(rows).toHaveLength(60);
    expect(new Set(rows.map((r) => r.principalId)).size).toBe(PRINCIPALS.length);
    expect(new Set(rows.map((r) => r.eventType))).toEqual(new Set(["invoke", "expand", "deny"]));
    expect(new Set(rows.map((r) => r.status))).toEqual(new Set(["succeeded", "failed"]));
  });

  it("hand-picked filters", async () => {
    const cases: TraceFilter[] = [
      {},
      { principals: { exact: [], prefixes: ["team-a/"] } },
      { principals: { exact: ["team-a"], prefixes: ["team-a/"] } },
      { principals: { exact: [], prefixes: ["a%"] } },
      { principals: { exact: [], prefixes: ["a_"] } },
      { principals: { exact: [""], prefixes: [] } },
      { principals: { exact: ["é"], prefixes: [] } },
      { principals: { exact: [], prefixes: ["e"] } },
      { principalId: "team-a/bob", principals: { exact: [], prefixes: ["team-b/"] } },
      { sinceUs: times[2]!, untilUs: times[2]! },
      { sinceUs: times[2]!, untilUs: times[2]! + 1 },
      { reasonCode: "missing_role" },
      { principalPrefix: "team-a/" },
      { principalPrefix: "a_" },
      { principalPrefix: "e" },
      { principalIds: [] },
      { principalIds: ["alice", "é", ""] },
      { capabilityIds: ["crm.read", "CRM.read"], principalPrefix: "team-a" },
      { capabilityPrefix: "crm.read" },
      { capabilityPrefix: "crm.", principals: { exact: [], prefixes: ["team-a/"] } },
      { status: "failed", eventType: "invoke" },
    ];
    for (const f of cases) expect(await seqsInStore(f), JSON.stringify(f)).toEqual(seqsInMemory(f));
    // Sanity: the checks are not vacuous.
    expect(seqsInMemory({ principals: { exact: [], prefixes: ["team-a/"] } })).toHaveLength(rows.filter((r) => r.principalId.startsWith("team-a/")).length);
    expect(seqsInMemory({ principalPrefix: "team-a/" })).toEqual(seqsInMemory({ principals: { exact: [], prefixes: ["team-a/"] } }));
    expect(seqsInMemory({ capabilityPrefix: "crm.read" }).length).toBe(rows.filter((r) => r.capabilityId === "crm.read" || r.capabilityId === "crm.read.v2").length);
    expect(seqsInMemory({ capabilityPrefix: "crm.read" }).length).toBeGreaterThan(0);
  });

  it("random filters and principal scopes", async () => {
    let nonEmpty = 0;
    await fc.assert(
      fc.asyncProperty(filterArb(), async (f) => {
        const want = seqsInMemory(f);
        if (want.length > 0) nonEmpty++;
        expect(await seqsInStore(f)).toEqual(want);
        expect(await gw.stores.traces.count(f)).toBe(want.length);
      }),
      { numRuns: 300 },
    );
    expect(nonEmpty).toBeGreaterThan(45); // not vacuous: well over one filter in seven matches something
  });
});

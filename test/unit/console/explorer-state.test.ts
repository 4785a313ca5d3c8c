/**
 * The explorer's pure parts: its URL (console/src/query.ts), the histogram's bar widths and
 * axis labels (console/src/histogram.ts), the export URL read back by the gateway's own
 * /export parser (src/http/export-route.ts), the integrity marks (console/src/integrity.ts)
 * and chart label wrapping (console/src/stats.ts). The browser behaviour is tested in
 * test/e2e/console-explorer.test.ts.
 */
import { describe, expect, it } from "vitest";
import { exportUrl } from "../../../console/src/export.js";
import { chooseWidth, MAX_BARS, ticks } from "../../../console/src/histogram.js";
import { integrityOf, type VerificationRun, verdictHeadline } from "../../../console/src/integrity.js";
import { explorerHash, formatQuery, idFilter, parseQuery, PRESETS, readQuery, toFilter } from "../../../console/src/query.js";
import { wrapLabel } from "../../../console/src/stats.js";
import { parseExportQuery } from "../../../src/http/export-route.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe("explorer URL", () => {
  it("round-trips filters, a preset, order and size, leaving defaults out", () => {
    const search = "principalId=team-a%2Fdeployer&eventType=DENY&outcome=FAILED&reasonCode=missing_role&range=24h&order=SEQ_ASC&size=50";
    const query = parseQuery(search);
    expect(query).toEqual({
      principalId: "team-a/deployer",
      eventType: "DENY",
      outcome: "FAILED",
      reasonCode: "missing_role",
      range: { kind: "relative", preset: "24h" },
      order: "SEQ_ASC",
      size: 50,
    });
    expect(formatQuery(query)).toBe(search);
    expect(explorerHash(parseQuery(""))).toBe("#explorer");
  });

  it("keeps an absolute range as UTC instants", () => {
    const { query, problems } = readQuery("since=2026-01-02T03:04:05%2B01:00");
    expect(problems).toEqual([]);
    expect(query).toEqual({ range: { kind: "absolute", since: "2026-01-02T02:04:05.000Z" }, order: "SEQ_DESC", size: 20 });
    expect(formatQuery(query)).toBe("since=2026-01-02T02%3A04%3A05.000Z");
  });

  it("reads enums, presets and orders in any case, as /export and the CLI take them", () => {
    const { query, problems } = readQuery("eventType=deny&outcome=failed&range=1H&order=seq_asc");
    expect(problems).toEqual([]);
    expect(query).toEqual({ eventType: "DENY", outcome: "FAILED", range: { kind: "relative", preset: "1h" }, order: "SEQ_ASC", size: 20 });
    expect(readQuery("eventType=Invoke&outcome=Succeeded&range=7D").query).toMatchObject({ eventType: "INVOKE", outcome: "SUCCEEDED" });
  });

  it("names every parameter it cannot read, never dropping one silently", () => {
    const names = (search: string) => readQuery(search).problems.map((p) => `${p.name}=${p.value}`);
    expect(names("eventType=NOPE")).toEqual(["eventType=NOPE"]);
    expect(names("outcome=lost&since=garbage&until=nonsense")).toEqual(["outcome=lost", "since=garbage", "until=nonsense"]);
    expect(names("first=100000&colour=red")).toEqual(["first=100000", "colour=red"]);
    expect(names("range=2h")).toEqual(["range=2h"]);
    expect(names("range=1h&since=2026-01-01T00:00:00Z")).toEqual(["range=1h"]);
    expect(names("size=7&order=DROP")).toEqual(["order=DROP", "size=7"]);
    expect(names("eventType=DENY&eventType=INVOKE")).toEqual(["eventType=INVOKE"]);
    // A bare star is refused: leaving the field out is how "any principal" is said.
    expect(names("principalId=*")).toEqual(["principalId=*"]);
    expect(names("capabilityId=**")).toEqual(["capabilityId=**"]);
    expect(readQuery("principalId=*").problems[0]!.reason).toMatch(/leave it out/);
    // Empty fields are no filter, as an empty form field.
    expect(names("principalId=&eventType=")).toEqual([]);
    // What could be read stays readable (the form shows it); parseQuery keeps only that.
    expect(parseQuery("eventType=NOPE&principalId=alice")).toEqual({ principalId: "alice", range: { kind: "all" }, order: "SEQ_DESC", size: 20 });
  });

  it("resolves a preset at search time, without an upper bound; an absolute range keeps both", () => {
    const now = Date.parse("2026-06-01T12:00:00Z");
    expect(toFilter(parseQuery("range=1h&eventType=DENY"), now)).toEqual({ eventType: "DENY", since: "2026-06-01T11:00:00.000Z" });
    expect(toFilter(parseQuery("since=2026-01-01T00:00:00Z&until=2026-01-02T00:00:00Z"), now)).toEqual({
      since: "2026-01-01T00:00:00.000Z",
      until: "2026-01-02T00:00:00.000Z",
    });
  });
});

describe("id filters", () => {
  it("reads a trailing star as a prefix, as a key's principal scope is written", () => {
    expect(idFilter("principalId", "team-a/*")).toEqual({ principalIdPrefix: "team-a/" });
    expect(idFilter("capabilityId", "crm.*")).toEqual({ capabilityIdPrefix: "crm." });
    expect(idFilter("principalId", "alice")).toEqual({ principalId: "alice" });
    expect(idFilter("principalId", "*")).toEqual({ principalId: "*" }); // an empty prefix is no filter: refused as an id instead
    expect(toFilter(parseQuery("principalId=team-a%2F*&eventType=DENY"), 0)).toEqual({ principalIdPrefix: "team-a/", eventType: "DENY" });
  });

  it("sends a prefix to /export as the same prefix", () => {
    const url = new URL(exportUrl("jsonl", toFilter(parseQuery("principalId=team-a%2F*"), 0), "SEQ_ASC"), "http://console.test");
    expect(parseExportQuery(url.searchParams).filter).toEqual({ principalPrefix: "team-a/" });
  });
});

describe("histogram bars", () => {
  it("gives every preset 20 to 100 bars, summed from buckets traceStats can return in one call", () => {
    for (const span of [...Object.values(PRESETS), 30_000, 5 * MINUTE, 3 * HOUR, 30 * DAY, 400 * DAY]) {
      const { widthMs, bucket } = chooseWidth(span);
      const bars = Math.ceil(span / widthMs) + 1; // an unaligned range touches one more
      expect(bars, `${span} ms`).toBeLessThanOrEqual(MAX_BARS + 1);
      const bucketMs = { SECOND: 1_000, MINUTE: MINUTE, HOUR, DAY }[bucket];
      expect(widthMs % bucketMs).toBe(0);
      expect((bars * widthMs) / bucketMs).toBeLessThanOrEqual(1_000);
    }
    expect(chooseWidth(PRESETS["15m"])).toEqual({ widthMs: 10_000, bucket: "SECOND" }); // 90 bars
    expect(chooseWidth(PRESETS["1h"])).toEqual({ widthMs: MINUTE, bucket: "MINUTE" });
    expect(chooseWidth(PRESETS["24h"]).widthMs).toBe(HOUR);
    expect(chooseWidth(PRESETS["7d"]).widthMs).toBe(2 * HOUR);
  });

  it("labels the axis at round times, within the range", () => {
    const start = Date.parse("2026-01-01T00:00:00Z");
    const at = ticks(start + 7 * MINUTE, start + DAY).map((t) => t.at);
    expect(at.length).toBeGreaterThanOrEqual(4);
    expect(at.length).toBeLessThanOrEqual(8);
    for (const t of at) {
      expect(t).toBeGreaterThanOrEqual(start + 7 * MINUTE);
      expect(t).toBeLessThan(start + DAY);
      // Round in the test's zone: a whole number of hours there.
      expect((t - new Date(t).getTimezoneOffset() * MINUTE) % HOUR).toBe(0);
    }
  });
});

describe("export URL", () => {
  it("asks /export for the order the table shows, newest seq first included", () => {
    for (const order of ["SEQ_ASC", "SEQ_DESC", "INVOKED_AT_ASC", "INVOKED_AT_DESC"] as const) {
      expect(parseExportQuery(new URL(exportUrl("jsonl", {}, order), "http://console.test").searchParams).order).toBe(order);
    }
  });

  it("is read by /export as the same filter the explorer queries with", () => {
    const query = parseQuery("principalId=team-a%2Fdeployer&eventType=DENY&outcome=FAILED&capabilityId=crm.search&reasonCode=missing_role&since=2026-01-01T00:00:00Z&until=2026-01-02T00:00:00Z&order=INVOKED_AT_DESC");
    const filter = toFilter(query, Date.now());
    const url = new URL(exportUrl("csv", filter, query.order), "http://console.test");
    const parsed = parseExportQuery(url.searchParams);
    expect(parsed.format).toBe("csv");
    expect(parsed.order).toBe("INVOKED_AT_DESC");
    // The store filter GraphQL's traces(filter:) gets from the same query (src/app/query.ts).
    expect(parsed.filter).toEqual({
      principalId: "team-a/deployer",
      capabilityId: "crm.search",
      eventType: "deny",
      status: "failed",
      reasonCode: "missing_role",
      sinceUs: Date.parse("2026-01-01T00:00:00Z") * 1000,
      untilUs: Date.parse("2026-01-02T00:00:00Z") * 1000,
    });
  });
});

describe("integrity marks", () => {
  const run = (over: Partial<VerificationRun>): VerificationRun => ({
    ok: true,
    fromSeq: 0,
    toSeq: 99,
    firstBadSeq: null,
    kind: null,
    detail: "",
    at: "2026-01-01T00:00:00Z",
    ...over,
  });

  it("marks records before the first bad seq verified, it bad, and those after unverified", () => {
    const broken = run({ ok: false, firstBadSeq: 17, kind: "MUTATED", detail: "Tampered record at seq 17" });
    expect(integrityOf(16, broken)).toEqual({ state: "verified" });
    expect(integrityOf(17, broken)).toEqual({ state: "bad", kind: "MUTATED", detail: "Tampered record at seq 17" });
    expect(integrityOf(18, broken)).toEqual({ state: "unverified", firstBadSeq: 17 });
    expect(integrityOf(100, broken)).toEqual({ state: "unchecked" });
  });

  it("vouches only for the range checked, and for nothing without a run", () => {
    expect(integrityOf(5, run({ fromSeq: 10, toSeq: 20 }))).toEqual({ state: "unchecked" });
    expect(integrityOf(15, run({ fromSeq: 10, toSeq: 20 }))).toEqual({ state: "verified" });
    expect(integrityOf(15, null)).toEqual({ state: "unchecked" });
    expect(integrityOf(15, run({ ok: false, kind: "CHECKPOINT_INVALID" }))).toEqual({ state: "unchecked" });
  });
});

describe("trace verdict headline", () => {
  it("says what each kind verifyTrace returns means, at this record or a neighbour", () => {
    expect(verdictHeadline("MUTATED", 16, 16)).toMatch(/^at this record: its HMAC does not recompute/);
    expect(verdictHeadline("COLUMN_MISMATCH", 16, 16)).toBe("at this record: its indexed columns disagree with its hashed payload");
    expect(verdictHeadline("BROKEN_LINK", 16, 16)).toBe("at this record: it does not link to the record before it (seq 15) as stored");
    expect(verdictHeadline("BROKEN_LINK", 17, 16)).toMatch(/^at the next record \(seq 17\), which does not link to this one as stored/);
    // A deleted neighbour is missing, never "does not link".
    const deletedNext = verdictHeadline("NON_CONTIGUOUS", 17, 16);
    expect(deletedNext).toBe("at the next record (seq 17): it is missing (deleted), though the chain head vouches for it");
    expect(verdictHeadline("NON_CONTIGUOUS", 17, 18)).toBe("at the previous record (seq 17): it is missing (deleted), so this one cannot be vouched for");
    expect(verdictHeadline("TRUNCATED", 17, 16)).toMatch(/missing from seq 17 on \(truncated\)/);
    expect(verdictHeadline("TRUNCATED", 16, 16)).toMatch(/^at this record: .*truncated/);
    expect(verdictHeadline("CHECKPOINT_INVALID", null, 16)).toMatch(/^at the prune checkpoint .*does not authenticate/);
    expect(verdictHeadline(null, 16, 16)).toBe("at this record");
    for (const kind of ["MUTATED", "COLUMN_MISMATCH", "TRUNCATED", "CHECKPOINT_INVALID"] as const) {
      expect(verdictHeadline(kind, 17, 16), kind).not.toMatch(/does not link/);
    }
  });
});

describe("chart labels", () => {
  it("wraps a long label after a separator, never cutting a character", () => {
    expect(wrapLabel("change_freeze_window_applies")).toEqual(["change_freeze_window_applies"]);
    const long = "denied_by_org_policy_change_freeze_window";
    expect(wrapLabel(long)).toEqual(["denied_by_org_policy_change_", "freeze_window"]);
    const unbroken = "x".repeat(70);
    expect(wrapLabel(unbroken).join("")).toBe(unbroken);
    expect(Math.max(...wrapLabel(unbroken).map((l) => l.length))).toBeLessThanOrEqual(32);
  });
});

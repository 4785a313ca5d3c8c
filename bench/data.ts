/**
 * Deterministic, realistic-looking audit traces for the benchmarks.
 *
 * Mix: 100 principals (Zipf-skewed, s = 0.7, so a few are hot and the coldest still have
 * thousands of traces in 1M), 50 capabilities (10 domains x 5 verbs), ~10% deny events with
 * reference-style reason codes, ~4% expand events, ~2% failed invokes; invoke args carry a
 * few ints, one non-integral float and a string; invokedAt increases by 100 ms +- 90 ms.
 */
import type { JsonObject } from "../src/chain/json.js";
import type { EventType, ResponseMode, Sensitivity, Trace } from "../src/chain/trace.js";
import { formatIsoMicros } from "../src/chain/time.js";

/** Bump when the generator changes, so cached databases are rebuilt. */
export const DATASET_VERSION = 2;

/** 2026-01-01T00:00:00Z in epoch microseconds. */
export const BASE_US = Date.UTC(2026, 0, 1) * 1000;
/** Mean gap between consecutive traces (100 ms). */
export const MEAN_GAP_US = 100_000;

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DOMAINS = ["billing", "crm", "hr", "inventory", "support", "analytics", "storage", "email", "calendar", "payments"];
const VERBS = ["list_records", "get_record", "search", "update_record", "export"];

export const PRINCIPALS: readonly string[] = Array.from({ length: 100 }, (_, i) =>
  i % 4 === 0 ? `user-${String(i).padStart(3, "0")}@example.com` : `agent-${String(i).padStart(3, "0")}`,
);
export const CAPABILITIES: readonly string[] = DOMAINS.flatMap((d) => VERBS.map((v) => `${d}.${v}`));
export const REASON_CODES: readonly string[] = [
  "missing_role",
  "rate_limited",
  "budget_exceeded",
  "sensitivity_blocked",
  "token_expired",
  "scope_mismatch",
  "principal_suspended",
  "capability_disabled",
];
const SENSITIVE: readonly Sensitivity[] = ["PII", "PCI", "SECRETS", "MEMORY"];
const MODES: readonly ResponseMode[] = ["summary", "summary", "summary", "table", "handle_only", "raw"];
const WORDS = ["overdue", "refund", "acme", "q3 report", "onboarding", "priority:high", "eu-west", "renewal"];

/** Cumulative Zipf weights for picking principals. */
const PRINCIPAL_CDF: number[] = (() => {
  const w = PRINCIPALS.map((_, i) => 1 / Math.pow(i + 1, 0.7));
  const total = w.reduce((a, b) => a + b, 0);
  let acc = 0;
  return w.map((x) => (acc += x / total));
})();

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

function pickPrincipal(rand: () => number): string {
  const r = rand();
  let lo = 0;
  let hi = PRINCIPAL_CDF.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((PRINCIPAL_CDF[mid] as number) < r) lo = mid + 1;
    else hi = mid;
  }
  return PRINCIPALS[lo] as string;
}

function hex(rand: () => number, chars: number): string {
  let s = "";
  while (s.length < chars) s += Math.floor(rand() * 0x100000000).toString(16).padStart(8, "0");
  return s.slice(0, chars);
}

/** A UUID-shaped action id from the PRNG (unique in practice; `index` makes it certain). */
function actionId(rand: () => number, index: number): string {
  const h = hex(rand, 20);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(12, 15)}-a${h.slice(15, 18)}-${index.toString(16).padStart(12, "0")}`;
}

/** A stream of traces: call next() for the next one, in chain (and time) order. */
export class TraceGenerator {
  readonly #rand: () => number;
  #index = 0;
  #at = BASE_US;

  constructor(seed: number) {
    this.#rand = prng(seed);
  }

  next(): Trace {
    const rand = this.#rand;
    const index = this.#index++;
    this.#at += MEAN_GAP_US + Math.round((rand() * 2 - 1) * 90_000);
    const capabilityId = pick(rand, CAPABILITIES);
    const domain = capabilityId.slice(0, capabilityId.indexOf("."));
    const principalId = pickPrincipal(rand);
    const roll = rand();
    const eventType: EventType = roll < 0.1 ? "deny" : roll < 0.14 ? "expand" : "invoke";
    const base = { actionId: actionId(rand, index), capabilityId, principalId, invokedAtUs: this.#at };
    if (eventType === "deny") {
      // Shaped as the reference kernel records a denial (test/support/traces.ts `deny`).
      const reasonCode = pick(rand, REASON_CODES);
      return {
        ...base,
        tokenId: "",
        responseMode: "summary",
        driverId: "",
        handleId: null,
        sensitivity: "NONE",
        eventType,
        reasonCode,
        error: `Denied: ${reasonCode.replace(/_/g, " ")}`,
        args: {},
        resultSummary: null,
      };
    }
    if (eventType === "expand") {
      return {
        ...base,
        tokenId: "",
        responseMode: "table",
        driverId: `${domain}-api`,
        handleId: `h-${hex(rand, 16)}`,
        sensitivity: rand() < 0.2 ? pick(rand, SENSITIVE) : "NONE",
        eventType,
        reasonCode: null,
        error: null,
        args: { offset: BigInt(Math.floor(rand() * 20) * 50), limit: 50n },
        resultSummary: { fact_count: BigInt(Math.floor(rand() * 50)), row_count: 50n, warning_count: 0n, has_handle: true },
      };
    }
    const failed = rand() < 0.02;
    const responseMode = pick(rand, MODES);
    const args: JsonObject = {
      limit: BigInt(10 * (1 + Math.floor(rand() * 10))),
      page: BigInt(1 + Math.floor(rand() * 5)),
      min_score: Math.floor(rand() * 980 + 10) / 1000 + 0.0005, // never integral: stays a float through JSON
      query: pick(rand, WORDS),
    };
    const rows = BigInt(Math.floor(rand() * 200));
    return {
      ...base,
      tokenId: `tok-${hex(rand, 24)}`,
      responseMode,
      driverId: `${domain}-api`,
      handleId: responseMode === "handle_only" || responseMode === "table" ? `h-${hex(rand, 16)}` : null,
      sensitivity: rand() < 0.15 ? pick(rand, SENSITIVE) : "NONE",
      eventType,
      reasonCode: null,
      error: failed ? `Driver error: upstream ${domain}-api returned 503` : null,
      args,
      resultSummary: failed
        ? null
        : { fact_count: BigInt(Math.floor(rand() * 5)), row_count: rows, warning_count: 0n, has_handle: responseMode !== "summary" },
    };
  }

  /** The next `n` traces. */
  take(n: number): Trace[] {
    return Array.from({ length: n }, () => this.next());
  }
}

/** JSON-transport form of a JsonObject (bigint -> number; all values here are safe integers). */
function toTransport(o: JsonObject | null): Record<string, unknown> | null {
  if (o === null) return null;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = typeof v === "bigint" ? Number(v) : v;
  return out;
}

/** The GraphQL TraceInput variable for a trace (enum names upper case, DateTime as ISO). */
export function toGraphqlInput(t: Trace): Record<string, unknown> {
  return {
    actionId: t.actionId,
    capabilityId: t.capabilityId,
    principalId: t.principalId,
    tokenId: t.tokenId,
    invokedAt: formatIsoMicros(t.invokedAtUs),
    responseMode: t.responseMode.toUpperCase(),
    driverId: t.driverId,
    handleId: t.handleId,
    sensitivity: t.sensitivity,
    eventType: t.eventType.toUpperCase(),
    reasonCode: t.reasonCode,
    error: t.error,
    args: toTransport(t.args),
    resultSummary: toTransport(t.resultSummary),
  };
}

/**
 * The explorer's query as a URL: its filters, time range, order and page size live in the
 * hash (`#explorer?eventType=DENY&principalId=alice&range=24h`), so a link shows a colleague
 * the same traces (after they sign in with their own key: the key never goes in the URL),
 * a reload keeps them and back/forward step through earlier searches.
 *
 * A principal or capability ending in `*` is a prefix (`principalId=team-a/*`: the team's
 * principals), as in a key's principal scope.
 *
 * A time range is either a preset relative to now (`range=15m|1h|24h|7d`, like Grafana's
 * `now-24h`: the link keeps meaning "the last day" whenever it is opened) or absolute
 * (`since=`, `until=`: ISO 8601 instants in UTC, since inclusive, until exclusive), which a
 * custom range or a zoom on the histogram produces. Neither: all time.
 */
import type { EventType, Outcome, TraceFilter, TraceOrder } from "../gql/graphql.js";

/** The relative presets and their length in milliseconds. */
export const PRESETS = { "15m": 15 * 60_000, "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000 } as const;
export type Preset = keyof typeof PRESETS;

export type TimeRange = { kind: "all" } | { kind: "relative"; preset: Preset } | { kind: "absolute"; since?: string; until?: string };

/** Everything the explorer shows, as read from or written to the URL. */
export interface ExplorerQuery {
  principalId?: string;
  capabilityId?: string;
  eventType?: EventType;
  outcome?: Outcome;
  reasonCode?: string;
  range: TimeRange;
  order: TraceOrder;
  size: number;
}

export const DEFAULT_ORDER: TraceOrder = "SEQ_DESC";
export const DEFAULT_SIZE = 20;
export const PAGE_SIZES = [10, 20, 50, 100] as const;

const EVENT_TYPES: readonly EventType[] = ["INVOKE", "EXPAND", "DENY"];
const OUTCOMES: readonly Outcome[] = ["SUCCEEDED", "FAILED"];
const ORDERS: readonly TraceOrder[] = ["SEQ_DESC", "SEQ_ASC", "INVOKED_AT_DESC", "INVOKED_AT_ASC"];
const TEXT_FIELDS = ["principalId", "capabilityId", "reasonCode"] as const;

/** Every parameter the explorer's URL may hold; anything else is reported, never ignored. */
const KNOWN = new Set<string>([...TEXT_FIELDS, "eventType", "outcome", "range", "since", "until", "order", "size"]);

/** An enum value in any case, as /export (src/http/export-route.ts) and the CLI take `eventType=deny`. */
const oneOf = <T extends string>(value: string, allowed: readonly T[]) => allowed.find((a) => a.toLowerCase() === value.trim().toLowerCase());

/** A preset in any case (`1H` is `1h`). */
const preset = (value: string) => (Object.keys(PRESETS) as Preset[]).find((p) => p === value.trim().toLowerCase());

/** An ISO instant from the URL, or undefined if it is not one (a hand-edited link). */
function instant(value: string): string | undefined {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** A URL parameter the explorer could not apply, and why (shown to the user). */
export interface QueryProblem {
  /** The parameter's name as it is in the URL. */
  name: string;
  value: string;
  reason: string;
}

/** A query read from the URL, with what could not be read. */
export interface ReadQuery {
  /** What could be read; not to be searched when `problems` is not empty. */
  query: ExplorerQuery;
  problems: QueryProblem[];
}

/**
 * Read a query from the part of the hash after `?`. Enum values and presets are read in any
 * case. Everything else that cannot be read (an unknown parameter such as `first`, an unknown
 * event type, a date that is not one, a page size not offered, a bare `*` as an id) is a
 * problem: the caller must show it and not search, because a search without the filter the
 * link asked for would look like the filtered result (an auditor would take all traces for
 * "the denies"). Empty values (`principalId=`) mean no filter, as an empty form field does.
 */
export function readQuery(search: string): ReadQuery {
  const params = new URLSearchParams(search);
  const query: ExplorerQuery = { range: { kind: "all" }, order: DEFAULT_ORDER, size: DEFAULT_SIZE };
  const problems: QueryProblem[] = [];
  const problem = (name: string, value: string, reason: string) => problems.push({ name, value, reason });
  const seen = new Set<string>();
  for (const [name, value] of params) {
    if (!KNOWN.has(name)) problem(name, value, "is not a filter the explorer knows");
    else if (seen.has(name)) problem(name, value, "is given more than once");
    seen.add(name);
  }
  for (const name of TEXT_FIELDS) {
    const value = params.get(name)?.trim();
    if (!value) continue;
    // `*` alone would be an empty prefix: every principal, which the filter's absence says.
    if (name !== "reasonCode" && /^\*+$/.test(value)) problem(name, value, "is only a wildcard: leave it out to match any");
    else query[name] = value;
  }
  const eventType = params.get("eventType")?.trim();
  if (eventType) {
    const found = oneOf(eventType, EVENT_TYPES);
    if (found) query.eventType = found;
    else problem("eventType", eventType, `must be one of ${EVENT_TYPES.join(", ")}`);
  }
  const outcome = params.get("outcome")?.trim();
  if (outcome) {
    const found = oneOf(outcome, OUTCOMES);
    if (found) query.outcome = found;
    else problem("outcome", outcome, `must be one of ${OUTCOMES.join(", ")}`);
  }
  const order = params.get("order")?.trim();
  if (order) {
    const found = oneOf(order, ORDERS);
    if (found) query.order = found;
    else problem("order", order, `must be one of ${ORDERS.join(", ")}`);
  }
  const size = params.get("size")?.trim();
  if (size) {
    if ((PAGE_SIZES as readonly number[]).includes(Number(size))) query.size = Number(size);
    else problem("size", size, `must be one of ${PAGE_SIZES.join(", ")}`);
  }
  const range = params.get("range")?.trim();
  const since = params.get("since")?.trim();
  const until = params.get("until")?.trim();
  if (range) {
    const found = preset(range);
    if (!found) problem("range", range, `must be one of ${Object.keys(PRESETS).join(", ")}`);
    else if (since || until) problem("range", range, "cannot be combined with since/until");
    else query.range = { kind: "relative", preset: found };
  } else {
    const bounds: { since?: string; until?: string } = {};
    for (const [name, value] of [["since", since], ["until", until]] as const) {
      if (!value) continue;
      const read = instant(value);
      if (read) bounds[name] = read;
      else problem(name, value, "is not an ISO 8601 date and time (2026-12-01T05:00:00Z)");
    }
    if (bounds.since || bounds.until) query.range = { kind: "absolute", ...bounds };
  }
  return { query, problems };
}

/** The query a URL asks for, leaving out what cannot be read (see readQuery for its problems). */
export function parseQuery(search: string): ExplorerQuery {
  return readQuery(search).query;
}

/** The query as the part of the hash after `?` (defaults left out, so links stay short). */
export function formatQuery(query: ExplorerQuery): string {
  const params = new URLSearchParams();
  // The form's order: principal, capability, event type, outcome, reason code.
  if (query.principalId) params.set("principalId", query.principalId);
  if (query.capabilityId) params.set("capabilityId", query.capabilityId);
  if (query.eventType) params.set("eventType", query.eventType);
  if (query.outcome) params.set("outcome", query.outcome);
  if (query.reasonCode) params.set("reasonCode", query.reasonCode);
  if (query.range.kind === "relative") params.set("range", query.range.preset);
  if (query.range.kind === "absolute") {
    if (query.range.since) params.set("since", query.range.since);
    if (query.range.until) params.set("until", query.range.until);
  }
  if (query.order !== DEFAULT_ORDER) params.set("order", query.order);
  if (query.size !== DEFAULT_SIZE) params.set("size", String(query.size));
  return params.toString();
}

/** The explorer's hash for a query: `#explorer` or `#explorer?…`. */
export function explorerHash(query: ExplorerQuery): string {
  const search = formatQuery(query);
  return search ? `#explorer?${search}` : "#explorer";
}

/** The time bounds a range means at `now` (ms since the epoch); a preset ends at now. */
export function resolveRange(range: TimeRange, now: number): { since?: number; until?: number } {
  switch (range.kind) {
    case "all":
      return {};
    case "relative":
      return { since: now - PRESETS[range.preset], until: now };
    case "absolute":
      return {
        ...(range.since ? { since: Date.parse(range.since) } : {}),
        ...(range.until ? { until: Date.parse(range.until) } : {}),
      };
  }
}

/**
 * A principal or capability as typed: `team-a/*` (one trailing star, as in a key's principal
 * scope) means every id starting with `team-a/` (the filter's `...Prefix`), anything else
 * that exact id.
 */
export function idFilter(field: "principalId" | "capabilityId", value: string): TraceFilter {
  const prefix = value.endsWith("*") ? value.slice(0, -1) : null;
  if (prefix && !prefix.includes("*")) return field === "principalId" ? { principalIdPrefix: prefix } : { capabilityIdPrefix: prefix };
  return { [field]: value };
}

/**
 * The GraphQL TraceFilter of a query at `now`. A preset has no upper bound: traces recorded
 * while the user pages through "the last hour" still belong to it.
 */
export function toFilter(query: ExplorerQuery, now: number): TraceFilter {
  const filter: TraceFilter = {};
  if (query.principalId) Object.assign(filter, idFilter("principalId", query.principalId));
  if (query.capabilityId) Object.assign(filter, idFilter("capabilityId", query.capabilityId));
  if (query.reasonCode) filter.reasonCode = query.reasonCode;
  if (query.eventType) filter.eventType = query.eventType;
  if (query.outcome) filter.outcome = query.outcome;
  const { since, until } = resolveRange(query.range, now);
  if (since !== undefined) filter.since = new Date(since).toISOString();
  if (until !== undefined && query.range.kind === "absolute") filter.until = new Date(until).toISOString();
  return filter;
}

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

const isPreset = (value: string): value is Preset => Object.hasOwn(PRESETS, value);
const oneOf = <T extends string>(value: string | null, allowed: readonly T[]) => (allowed as readonly string[]).includes(value ?? "") ? (value as T) : undefined;

/** An ISO instant from the URL, or undefined if it is not one (a hand-edited link). */
function instant(value: string | null): string | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/**
 * Read a query from the part of the hash after `?`. Unknown parameters and unreadable values
 * are dropped (the form then shows what is actually applied).
 */
export function parseQuery(search: string): ExplorerQuery {
  const params = new URLSearchParams(search);
  const query: ExplorerQuery = { range: { kind: "all" }, order: DEFAULT_ORDER, size: DEFAULT_SIZE };
  for (const name of TEXT_FIELDS) {
    const value = params.get(name)?.trim();
    if (value) query[name] = value;
  }
  const eventType = oneOf(params.get("eventType"), EVENT_TYPES);
  if (eventType) query.eventType = eventType;
  const outcome = oneOf(params.get("outcome"), OUTCOMES);
  if (outcome) query.outcome = outcome;
  query.order = oneOf(params.get("order"), ORDERS) ?? DEFAULT_ORDER;
  const size = Number(params.get("size"));
  if ((PAGE_SIZES as readonly number[]).includes(size)) query.size = size;
  const preset = params.get("range");
  if (preset && isPreset(preset)) query.range = { kind: "relative", preset };
  else {
    const since = instant(params.get("since"));
    const until = instant(params.get("until"));
    if (since || until) query.range = { kind: "absolute", ...(since ? { since } : {}), ...(until ? { until } : {}) };
  }
  return query;
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

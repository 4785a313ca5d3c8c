/**
 * Live groups: subscribers with the same filter and the same principal scope hear the bus
 * through one listener (docs/architecture.md#live-streams). The group filters each row once
 * (scope, then filter) and makes one event object per matching row, which every member
 * yields. The shared object is what lets the GraphQL layer execute and serialize an event
 * once for all members that asked for the same selection (src/graphql/shared-execution.ts):
 * it memoizes by that object's identity.
 *
 * The group only hears and filters. Each member keeps its own seq bookkeeping, queue,
 * catch-up reads and replay (src/streams/trace-stream.ts), so lossless resume and the queue
 * limit are per subscriber exactly as before, and a slow member never holds up the others.
 *
 * Scope: the group key is the canonical principal scope, and a row passes only if the
 * store it was created with `admits` it. Two stores with the same principals admit the
 * same rows (src/stores/scoped-trace-store.ts), so members of a group see exactly what
 * each would have seen alone; different scopes never share a group.
 */
import type { PrincipalScope } from "../access/scopes.js";
import type { ScopedTraceStore } from "../stores/scoped-trace-store.js";
import type { TraceFilter, TraceRow } from "../stores/trace-store.js";
import type { TraceBus } from "./bus.js";
import { matchesFilter } from "./match.js";

/** A trace as a stream delivers it. Live events are shared by the members of a group: never mutate one. */
export interface TraceEvent {
  readonly trace: TraceRow;
  readonly gap?: undefined;
}

/**
 * A member's listener: one committed batch as the bus delivered it (`rows`, every seq, so the
 * member can see holes), and beside each row its shared event, or undefined when the row is
 * outside the group's scope or filter.
 */
export type GroupListener = (rows: readonly TraceRow[], events: readonly (TraceEvent | undefined)[]) => void;

interface Group {
  members: Set<GroupListener>;
  stop: () => void;
}

/** The groups of each bus by key; a group lives while it has members. */
const groupsOf = new WeakMap<TraceBus, Map<string, Group>>();

/** The principal scope as a stable string: "*" for every principal, else sorted exact ids and prefixes. */
function scopeKey(principals: PrincipalScope | null): string {
  if (principals === null) return "*";
  return JSON.stringify([[...principals.exact].sort(), [...principals.prefixes].sort()]);
}

/** The filter as a stable string (its own `principals` included: matchesFilter applies it too). */
function filterKey(filter: TraceFilter): string {
  const { principals, ...rest } = filter;
  const fields = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([fields, principals === undefined ? null : scopeKey(principals)]);
}

/** The key of the group a subscriber with this store and filter belongs to. */
export function liveGroupKey(store: ScopedTraceStore, filter: TraceFilter): string {
  return `${scopeKey(store.principals)}\n${filterKey(filter)}`;
}

/**
 * Join the live group of (`store`'s scope, `filter`) on `bus`, creating it (one bus
 * listener) for the first member. `listener` runs synchronously for every batch the bus
 * delivers. Returns the function that leaves the group; the last member to leave removes
 * the group's bus listener.
 */
export function joinLiveGroup(bus: TraceBus, store: ScopedTraceStore, filter: TraceFilter, listener: GroupListener): () => void {
  let groups = groupsOf.get(bus);
  if (!groups) groupsOf.set(bus, (groups = new Map()));
  const key = liveGroupKey(store, filter);
  let group = groups.get(key);
  if (!group) {
    const members = new Set<GroupListener>();
    const created: Group = { members, stop: () => undefined };
    const byKey = groups;
    const unsubscribe = bus.subscribe((rows) => {
      const events = rows.map((row) => (store.admits(row.principalId) && matchesFilter(row, filter) ? { trace: row } : undefined));
      for (const member of members) member(rows, events);
    });
    created.stop = () => {
      unsubscribe();
      if (byKey.get(key) === created) byKey.delete(key);
    };
    groups.set(key, (group = created));
  }
  const joined = group;
  joined.members.add(listener);
  let left = false;
  return () => {
    if (left) return;
    left = true;
    joined.members.delete(listener);
    if (joined.members.size === 0) joined.stop();
  };
}

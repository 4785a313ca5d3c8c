/**
 * The in-memory twin of the store's WHERE clause: whether a trace passes a TraceFilter
 * (equality, list and prefix filters, [since, until) window, principal scope). Live events are filtered
 * with it; replays and catch-up reads use the SQL. test/unit/streams/match.test.ts holds
 * both to the same answers.
 */
import { principalInScope } from "../access/scopes.js";
import type { TraceColumns } from "../chain/trace.js";
import type { TraceFilter } from "../stores/trace-store.js";

export function matchesFilter(row: TraceColumns, f: TraceFilter): boolean {
  if (f.principalId !== undefined && row.principalId !== f.principalId) return false;
  if (f.principalIds !== undefined && !f.principalIds.includes(row.principalId)) return false;
  if (f.principalPrefix !== undefined && !row.principalId.startsWith(f.principalPrefix)) return false;
  if (f.capabilityId !== undefined && row.capabilityId !== f.capabilityId) return false;
  if (f.capabilityIds !== undefined && !f.capabilityIds.includes(row.capabilityId)) return false;
  if (f.capabilityPrefix !== undefined && !row.capabilityId.startsWith(f.capabilityPrefix)) return false;
  if (f.eventType !== undefined && row.eventType !== f.eventType) return false;
  if (f.status !== undefined && row.status !== f.status) return false;
  if (f.reasonCode !== undefined && row.reasonCode !== f.reasonCode) return false;
  if (f.sinceUs !== undefined && row.invokedAtUs < f.sinceUs) return false;
  if (f.untilUs !== undefined && row.invokedAtUs >= f.untilUs) return false;
  return f.principals === undefined || principalInScope(f.principals, row.principalId);
}

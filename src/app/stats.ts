/**
 * traceStats(filter, groupBy, bucket, limit): counts of traces by event type, outcome,
 * reason code, principal, capability and time bucket, computed by the database.
 */
import { badUserInput } from "../errors.js";
import { stillWanted } from "./cancellation.js";
import type { Caller } from "./caller.js";
import type { StatsDimension, StatsGroup } from "../stores/trace-store.js";
import { type TraceFilterInput, toStoreFilter } from "./query.js";

/**
 * Bucket widths in microseconds. SECOND serves the console's histogram on short ranges (a
 * 15-minute window in 10-second bars, a zoom into one minute), where whole minutes would
 * leave only a handful of bars.
 */
export const TIME_BUCKETS_US = { SECOND: 1e6, MINUTE: 60e6, HOUR: 3_600e6, DAY: 86_400e6 } as const;
export type TimeBucket = keyof typeof TIME_BUCKETS_US;

/** Most groups one call returns. */
export const MAX_STATS_GROUPS = 1_000;

export interface TraceStatsArgs {
  filter?: TraceFilterInput | null;
  groupBy?: readonly StatsDimension[] | null;
  bucket?: TimeBucket | null;
  limit?: number | null;
}

export interface TraceStatsResult {
  total: () => Promise<number>;
  groups: StatsGroup[];
}

export async function traceStats(args: TraceStatsArgs, ctx: Caller): Promise<TraceStatsResult> {
  const limit = args.limit ?? 100;
  if (limit < 1 || limit > MAX_STATS_GROUPS) throw badUserInput(`limit must be 1 to ${MAX_STATS_GROUPS}.`, "limit");
  const groupBy = [...new Set(args.groupBy ?? [])];
  const filter = toStoreFilter(args.filter);
  const bucketUs = args.bucket ? TIME_BUCKETS_US[args.bucket] : null;
  // Each of these is one database statement, which cannot be stopped half-way; a client
  // that left (or a key revoked) before one starts does not start it.
  await stillWanted(ctx);
  const groups = await ctx.stores.traces.stats(filter, groupBy, bucketUs, limit);
  return {
    groups,
    total: async () => {
      await stillWanted(ctx);
      return ctx.stores.traces.count(filter);
    },
  };
}

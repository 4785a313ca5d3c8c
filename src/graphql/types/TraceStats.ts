/**
 * traceStats: grouped counts for dashboards, computed in the database.
 */
import { TIME_BUCKETS_US, traceStats, type TraceStatsResult } from "../../app/stats.js";
import type { StatsGroup } from "../../stores/trace-store.js";
import { builder } from "../builder.js";
import { EventTypeEnum, OutcomeEnum } from "./enums.js";
import { TraceFilterInput } from "./Trace.js";
import type { EventType, TraceStatus } from "../../chain/trace.js";

const DimensionEnum = builder.enumType("TraceStatsDimension", {
  values: {
    EVENT_TYPE: { value: "eventType" },
    OUTCOME: { value: "status" },
    REASON_CODE: { value: "reasonCode" },
    PRINCIPAL: { value: "principalId" },
    CAPABILITY: { value: "capabilityId" },
  } as const,
});

const BucketEnum = builder.enumType("TimeBucket", {
  description: "Width of a time bucket (UTC, aligned to the Unix epoch).",
  values: Object.keys(TIME_BUCKETS_US) as (keyof typeof TIME_BUCKETS_US)[],
});

const GroupRef = builder.objectRef<StatsGroup>("TraceStatsGroup").implement({
  description: "One group: the values it was grouped by (others are null) and its count.",
  fields: (t) => ({
    count: t.field({ type: "SafeInt", resolve: (g) => g.count }),
    eventType: t.field({ type: EventTypeEnum, nullable: true, resolve: (g) => (g.eventType as EventType | undefined) ?? null }),
    outcome: t.field({ type: OutcomeEnum, nullable: true, resolve: (g) => (g.status as TraceStatus | undefined) ?? null }),
    reasonCode: t.string({ nullable: true, resolve: (g) => g.reasonCode ?? null }),
    principalId: t.string({ nullable: true, resolve: (g) => g.principalId ?? null }),
    capabilityId: t.string({ nullable: true, resolve: (g) => g.capabilityId ?? null }),
    bucketStart: t.field({ type: "DateTime", nullable: true, resolve: (g) => g.bucketStartUs ?? null }),
  }),
});

const StatsRef = builder.objectRef<TraceStatsResult>("TraceStats").implement({
  fields: (t) => ({
    total: t.field({ type: "SafeInt", description: "Traces matching the filter.", resolve: (s) => s.total() }),
    groups: t.field({ type: [GroupRef], description: "Largest groups first.", resolve: (s) => s.groups }),
  }),
});

builder.queryFields((t) => ({
  traceStats: t.field({
    type: StatsRef,
    description: "Counts of matching traces grouped by dimensions and, with `bucket`, by time (confined to the key's principals).",
    args: {
      filter: t.arg({ type: TraceFilterInput }),
      groupBy: t.arg({ type: [DimensionEnum], defaultValue: [] }),
      bucket: t.arg({ type: BucketEnum }),
      limit: t.arg.int({ defaultValue: 100, description: "At most this many groups (1 to 1,000)." }),
    },
    authScopes: { "traces:read": true },
    resolve: (_root, args, ctx) => traceStats(args, ctx),
  }),
}));

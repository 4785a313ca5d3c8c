/**
 * Live streams: the `traceRecorded` and `denyEvents` subscriptions, over graphql-ws on the
 * GraphQL path and over SSE (yoga's built-in, `Accept: text/event-stream`).
 */
import { denyEvents, traceRecorded } from "../../app/subscriptions.js";
import type { StreamEvent } from "../../streams/trace-stream.js";
import { builder } from "../builder.js";
import { TraceFilterInput, TraceRef } from "./Trace.js";

const StreamGapRef = builder.objectRef<{ fromSeq: number; toSeq: number }>("StreamGap").implement({
  description: "Seqs this stream cannot deliver because they no longer exist (pruned before the subscriber read them).",
  fields: (t) => ({
    fromSeq: t.field({ type: "SafeInt", resolve: (g) => g.fromSeq }),
    toSeq: t.field({ type: "SafeInt", description: "Inclusive.", resolve: (g) => g.toSeq }),
  }),
});

const TraceStreamEventRef = builder.objectRef<StreamEvent>("TraceStreamEvent").implement({
  description: "One event of a trace stream: a trace, or (rarely) a gap. Exactly one field is set.",
  fields: (t) => ({
    trace: t.field({ type: TraceRef, nullable: true, resolve: (e) => e.trace ?? null }),
    gap: t.field({ type: StreamGapRef, nullable: true, resolve: (e) => e.gap ?? null }),
  }),
});

const streamArgs = (t: Parameters<Parameters<typeof builder.subscriptionFields>[0]>[0]) => ({
  filter: t.arg({ type: TraceFilterInput }),
  afterSeq: t.arg({
    type: "SafeInt",
    description:
      "Replay stored matching traces with a greater seq first (-1: from the start), then go live with no gap " +
      "and no duplicate. Pass the seq of the last trace you received to resume after a disconnect.",
  }),
});

builder.subscriptionType({ description: "Live traces, in seq order; a slow subscriber lags but never loses one." });

builder.subscriptionFields((t) => ({
  traceRecorded: t.field({
    type: TraceStreamEventRef,
    description: "Every trace matching the filter as it is recorded (confined to the key's principals).",
    args: streamArgs(t),
    authScopes: { "traces:read": true },
    subscribe: (_root, args, ctx) => traceRecorded(args, ctx),
    resolve: (event) => event,
  }),
  denyEvents: t.field({
    type: TraceStreamEventRef,
    description: "Deny events matching the filter as they are recorded: traceRecorded with eventType DENY.",
    args: streamArgs(t),
    authScopes: { "traces:read": true },
    subscribe: (_root, args, ctx) => denyEvents(args, ctx),
    resolve: (event) => event,
  }),
}));

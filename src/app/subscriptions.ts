/**
 * traceRecorded(filter, afterSeq) and denyEvents(filter, afterSeq): live streams of traces
 * (src/streams/trace-stream.ts) with the same filter, principal scope and key checks as
 * the traces query.
 */
import { badUserInput } from "../errors.js";
import type { Caller } from "./caller.js";
import { type StreamEvent, traceStream } from "../streams/trace-stream.js";
import { type TraceFilterInput, toStoreFilter } from "./query.js";

export interface StreamArgs {
  filter?: TraceFilterInput | null;
  /** Replay stored matching traces with a greater seq before going live. */
  afterSeq?: number | null;
}

/** The stream of traces matching `filter`, confined to the key's principals. */
export function traceRecorded(args: StreamArgs, ctx: Caller): AsyncIterableIterator<StreamEvent> {
  if (args.afterSeq != null && args.afterSeq < -1) throw badUserInput("afterSeq must be -1 (everything) or a seq.", "afterSeq");
  const filter = toStoreFilter(args.filter);
  return traceStream({
    store: ctx.stores.traces,
    bus: ctx.bus,
    filter,
    ...(args.afterSeq == null ? {} : { afterSeq: args.afterSeq }),
    queueLimit: ctx.streamQueueLimit,
    // A key revoked while its subscription runs ends the subscription.
    recheck: () => ctx.keys.assertActive(ctx.viewer),
  });
}

/** traceRecorded restricted to deny events. */
export function denyEvents(args: StreamArgs, ctx: Caller): AsyncIterableIterator<StreamEvent> {
  const asked = args.filter?.eventType;
  if (asked != null && asked !== "deny") {
    throw badUserInput("denyEvents streams deny events only; use traceRecorded for other event types.", "filter.eventType");
  }
  return traceRecorded({ ...args, filter: { ...args.filter, eventType: "deny" } }, ctx);
}

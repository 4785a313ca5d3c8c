/**
 * traces(filter, orderBy, first, after, last, before): keyset pages over the chain.
 */
import { resolveCursorConnection } from "@pothos/plugin-relay";
import type { EventType, TraceStatus } from "../chain/trace.js";
import type { EpochMicros } from "../chain/time.js";
import { PAGE_SIZE } from "../config.js";
import { badUserInput, storableIdentifier } from "../errors.js";
import type { Caller } from "./caller.js";
import type { TraceFilter, TraceOrder, TraceRow } from "../stores/trace-store.js";
import { decodeCursor, encodeCursor } from "./cursor.js";

/** The GraphQL TraceFilter input, with enum values already mapped to stored strings. */
export interface TraceFilterInput {
  principalId?: string | null;
  capabilityId?: string | null;
  eventType?: EventType | null;
  outcome?: TraceStatus | null;
  reasonCode?: string | null;
  /** Inclusive lower bound. */
  since?: EpochMicros | null;
  /** Exclusive upper bound. */
  until?: EpochMicros | null;
}

export interface TracesArgs {
  filter?: TraceFilterInput | null;
  orderBy?: TraceOrder | null;
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

/** A page of traces; totalCount runs its COUNT only when the field is selected. */
export interface TraceConnectionResult {
  edges: { cursor: string; node: TraceRow }[];
  pageInfo: { startCursor: string | null; endCursor: string | null; hasPreviousPage: boolean; hasNextPage: boolean };
  totalCount: () => Promise<number>;
}

/** Validate a filter input and turn it into a store filter. */
export function toStoreFilter(input: TraceFilterInput | null | undefined): TraceFilter {
  const f: TraceFilter = {};
  if (!input) return f;
  // No stored identifier holds NUL or a lone surrogate; refused here, PostgreSQL would fail on NUL.
  if (input.principalId != null) f.principalId = storableIdentifier(input.principalId, "filter.principalId");
  if (input.capabilityId != null) f.capabilityId = storableIdentifier(input.capabilityId, "filter.capabilityId");
  if (input.eventType != null) f.eventType = input.eventType;
  if (input.outcome != null) f.status = input.outcome;
  if (input.reasonCode != null) f.reasonCode = storableIdentifier(input.reasonCode, "filter.reasonCode");
  if (input.since != null) f.sinceUs = input.since;
  if (input.until != null) f.untilUs = input.until;
  if (f.sinceUs !== undefined && f.untilUs !== undefined && f.sinceUs > f.untilUs) {
    throw badUserInput("filter.since must not be later than filter.until (since is inclusive, until exclusive).", "filter");
  }
  return f;
}

function checkPageSize(name: "first" | "last", value: number | null | undefined): void {
  if (value == null) return;
  if (value < 0) throw badUserInput(`'${name}' must not be negative.`, name);
  if (value > PAGE_SIZE.max) throw badUserInput(`'${name}' must be at most ${PAGE_SIZE.max}, got ${value}.`, name);
}

/** Resolve one page of the `traces` connection. */
export async function traces(args: TracesArgs, ctx: Caller): Promise<TraceConnectionResult> {
  const order: TraceOrder = args.orderBy ?? "SEQ_ASC";
  if (args.first != null && args.last != null) {
    throw badUserInput("Pass either 'first' or 'last', not both.", "last");
  }
  checkPageSize("first", args.first);
  checkPageSize("last", args.last);
  const filter = toStoreFilter(args.filter);
  const after = args.after == null ? undefined : decodeCursor(order, args.after, "after");
  const before = args.before == null ? undefined : decodeCursor(order, args.before, "before");
  const store = ctx.stores.traces;
  const connection = await resolveCursorConnection<Promise<TraceRow[]>>(
    {
      args: {
        first: args.first ?? undefined,
        last: args.last ?? undefined,
        after: args.after ?? undefined,
        before: args.before ?? undefined,
      },
      defaultSize: PAGE_SIZE.default,
      maxSize: PAGE_SIZE.max,
      toCursor: (row: TraceRow) => encodeCursor(order, row),
    },
    ({ limit, inverted }) =>
      store.page({
        filter,
        order,
        limit,
        inverted,
        ...(after ? { after } : {}),
        ...(before ? { before } : {}),
      }),
  );
  if (!connection) throw new Error("resolveCursorConnection returned no connection");
  return {
    edges: connection.edges.filter((e): e is { cursor: string; node: TraceRow } => e !== null),
    pageInfo: {
      startCursor: connection.pageInfo.startCursor || null,
      endCursor: connection.pageInfo.endCursor || null,
      hasPreviousPage: connection.pageInfo.hasPreviousPage,
      hasNextPage: connection.pageInfo.hasNextPage,
    },
    totalCount: () => store.count(filter),
  };
}

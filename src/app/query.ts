/**
 * traces(filter, orderBy, first, after, last, before): keyset pages over the chain.
 */
import type { EventType, TraceStatus } from "../chain/trace.js";
import type { EpochMicros } from "../chain/time.js";
import { badUserInput, storableIdentifier } from "../errors.js";
import type { Caller } from "./caller.js";
import type { Keyset, TraceFilter, TraceOrder, TraceRow } from "../stores/trace-store.js";
import { type Connection, keysetConnection } from "./connection.js";
import { traceCursor } from "./cursor.js";

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
export interface TraceConnectionResult extends Connection<TraceRow> {
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

/** Resolve one page of the `traces` connection, confined to the caller's principals by its store. */
export async function traces(args: TracesArgs, ctx: Pick<Caller, "stores">): Promise<TraceConnectionResult> {
  const order: TraceOrder = args.orderBy ?? "SEQ_ASC";
  const filter = toStoreFilter(args.filter);
  const store = ctx.stores.traces;
  const connection = await keysetConnection<TraceRow, Keyset>(args, {
    cursor: traceCursor(order),
    read: ({ after, before, limit, inverted }) =>
      store.page({ filter, order, limit, inverted, ...(after ? { after } : {}), ...(before ? { before } : {}) }),
  });
  return { ...connection, totalCount: () => store.count(filter) };
}

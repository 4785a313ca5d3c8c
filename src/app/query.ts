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
  principalIdIn?: readonly string[] | null;
  principalIdPrefix?: string | null;
  capabilityId?: string | null;
  capabilityIdIn?: readonly string[] | null;
  capabilityIdPrefix?: string | null;
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

/**
 * Validate a filter input and turn it into a store filter.
 * @param field how errors name the input's fields: `filter.` + the name for GraphQL's
 *   `filter:` argument, or "" for /export's query parameters, which carry the bare names.
 * @throws TracegateError BAD_USER_INPUT naming the offending field.
 */
export function toStoreFilter(input: TraceFilterInput | null | undefined, field = "filter."): TraceFilter {
  const f: TraceFilter = {};
  if (!input) return f;
  // No stored identifier holds NUL or a lone surrogate; refused here, PostgreSQL would fail on NUL.
  if (input.principalId != null) f.principalId = storableIdentifier(input.principalId, `${field}principalId`);
  if (input.capabilityId != null) f.capabilityId = storableIdentifier(input.capabilityId, `${field}capabilityId`);
  if (input.principalIdIn != null) f.principalIds = identifierList(input.principalIdIn, `${field}principalIdIn`);
  if (input.principalIdPrefix != null) f.principalPrefix = identifierPrefix(input.principalIdPrefix, `${field}principalIdPrefix`);
  if (input.capabilityIdIn != null) f.capabilityIds = identifierList(input.capabilityIdIn, `${field}capabilityIdIn`);
  if (input.capabilityIdPrefix != null) f.capabilityPrefix = identifierPrefix(input.capabilityIdPrefix, `${field}capabilityIdPrefix`);
  if (input.eventType != null) f.eventType = input.eventType;
  if (input.outcome != null) f.status = input.outcome;
  if (input.reasonCode != null) f.reasonCode = storableIdentifier(input.reasonCode, `${field}reasonCode`);
  if (input.since != null) f.sinceUs = input.since;
  if (input.until != null) f.untilUs = input.until;
  if (f.sinceUs !== undefined && f.untilUs !== undefined && f.sinceUs > f.untilUs) {
    throw badUserInput(`${field}since must not be later than ${field}until (since is inclusive, until exclusive).`, field === "" ? "since" : "filter");
  }
  return f;
}

/** Most ids in one `...In` list: each is a term of the query (as the principal patterns of a key). */
export const MAX_FILTER_LIST = 100;

/** An `...In` list: at most MAX_FILTER_LIST storable ids, duplicates dropped; empty matches nothing. */
function identifierList(values: readonly string[], field: string): string[] {
  if (values.length > MAX_FILTER_LIST) throw badUserInput(`${field} takes at most ${MAX_FILTER_LIST} ids, got ${values.length}.`, field);
  return [...new Set(values.map((v) => storableIdentifier(v, field)))];
}

/** A `...Prefix`: plain text (no wildcards), not empty (an empty prefix would be no filter at all). */
function identifierPrefix(value: string, field: string): string {
  if (value === "") throw badUserInput(`${field} must not be empty: leave it out to match every id.`, field);
  return storableIdentifier(value, field);
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

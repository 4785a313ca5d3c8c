/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** What a key may do. ADMIN implies every other scope. */
export type ApiKeyScope =
  | 'ADMIN'
  | 'REVOCATIONS_WRITE'
  | 'TRACES_READ'
  | 'TRACES_WRITE';

/** What the kernel recorded: an invocation, a handle expansion, or a policy denial. */
export type EventType =
  | 'DENY'
  | 'EXPAND'
  | 'INVOKE';

/** FAILED when the trace carries an error (every deny is FAILED), otherwise SUCCEEDED. */
export type Outcome =
  | 'FAILED'
  | 'SUCCEEDED';

export type ResponseMode =
  | 'HANDLE_ONLY'
  | 'RAW'
  | 'SUMMARY'
  | 'TABLE';

export type Sensitivity =
  | 'MEMORY'
  | 'NONE'
  | 'PCI'
  | 'PII'
  | 'SECRETS';

/** Width of a time bucket (UTC, aligned to the Unix epoch). */
export type TimeBucket =
  | 'DAY'
  | 'HOUR'
  | 'MINUTE'
  | 'SECOND';

/** Filters AND-ed together. The time window is [since, until). */
export type TraceFilter = {
  capabilityId?: string | null | undefined;
  /** Any of these capability ids (at most 100; an empty list matches nothing). */
  capabilityIdIn?: Array<string> | null | undefined;
  /** Capability ids starting with this text, e.g. "billing.". Plain text. */
  capabilityIdPrefix?: string | null | undefined;
  eventType?: EventType | null | undefined;
  outcome?: Outcome | null | undefined;
  principalId?: string | null | undefined;
  /** Any of these principal ids (at most 100; an empty list matches nothing). */
  principalIdIn?: Array<string> | null | undefined;
  /** Principal ids starting with this text, e.g. "team-a/". Plain text: no wildcard characters. */
  principalIdPrefix?: string | null | undefined;
  reasonCode?: string | null | undefined;
  /** Inclusive lower bound of invokedAt. */
  since?: string | null | undefined;
  /** Exclusive upper bound of invokedAt. */
  until?: string | null | undefined;
};

/** Chain order (seq) or time order (invokedAt, ties broken by seq). */
export type TraceOrder =
  | 'INVOKED_AT_ASC'
  | 'INVOKED_AT_DESC'
  | 'SEQ_ASC'
  | 'SEQ_DESC';

export type TraceStatsDimension =
  | 'CAPABILITY'
  | 'EVENT_TYPE'
  | 'OUTCOME'
  | 'PRINCIPAL'
  | 'REASON_CODE';

export type VerificationFailureKind =
  /** A record's prevHash is not the previous record's hash. */
  | 'BROKEN_LINK'
  /** A retention or signed checkpoint does not authenticate. */
  | 'CHECKPOINT_INVALID'
  /** An indexed column differs from the hashed payload (a query column was edited). */
  | 'COLUMN_MISMATCH'
  /** A record's content does not match its HMAC (edited, or verified with the wrong secret). */
  | 'MUTATED'
  /** A seq is missing, repeated or out of order (deletion, insertion or reorder). */
  | 'NON_CONTIGUOUS'
  /** Records the chain head vouches for are missing from the end. */
  | 'TRUNCATED';

export type ConsoleVerifyChainQueryVariables = Exact<{
  fromSeq?: number | null | undefined;
  toSeq?: number | null | undefined;
}>;


export type ConsoleVerifyChainQuery = { verifyChain: { ok: boolean, checked: number, firstBadSeq: number | null, kind: VerificationFailureKind | null, detail: string }, chainHead: { nextSeq: number, headHash: string } };

export type ConsoleVerifyTraceQueryVariables = Exact<{
  actionId: string;
}>;


export type ConsoleVerifyTraceQuery = { verifyTrace: { ok: boolean, checked: number, firstBadSeq: number | null, kind: VerificationFailureKind | null, detail: string } | null };

export type ConsoleRecentDeniesQueryVariables = Exact<{
  first: number;
}>;


export type ConsoleRecentDeniesQuery = { traces: { edges: Array<{ node: { id: string, seq: number, actionId: string, principalId: string, capabilityId: string, eventType: EventType, outcome: Outcome, reasonCode: string | null, error: string | null, invokedAt: string } }> } };

export type ConsoleDenyEventsSubscriptionVariables = Exact<{
  afterSeq?: number | null | undefined;
  filter?: TraceFilter | null | undefined;
}>;


export type ConsoleDenyEventsSubscription = { denyEvents: { trace: { id: string, seq: number, actionId: string, principalId: string, capabilityId: string, eventType: EventType, outcome: Outcome, reasonCode: string | null, error: string | null, invokedAt: string } | null, gap: { fromSeq: number, toSeq: number } | null } };

export type ConsoleTraceStatsQueryVariables = Exact<{
  filter?: TraceFilter | null | undefined;
  groupBy?: Array<TraceStatsDimension> | TraceStatsDimension | null | undefined;
  limit?: number | null | undefined;
}>;


export type ConsoleTraceStatsQuery = { traceStats: { total: number, groups: Array<{ count: number, reasonCode: string | null, principalId: string | null, capabilityId: string | null, eventType: EventType | null, outcome: Outcome | null }> } };

export type ConsoleHistogramQueryVariables = Exact<{
  filter?: TraceFilter | null | undefined;
  bucket: TimeBucket;
}>;


export type ConsoleHistogramQuery = { traceStats: { total: number, groups: Array<{ bucketStart: string | null, count: number }> } };

export type ConsoleTraceRowFragment = { id: string, seq: number, actionId: string, principalId: string, capabilityId: string, eventType: EventType, outcome: Outcome, reasonCode: string | null, error: string | null, invokedAt: string };

export type ConsoleTracesQueryVariables = Exact<{
  filter?: TraceFilter | null | undefined;
  orderBy?: TraceOrder | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
}>;


export type ConsoleTracesQuery = { traces: { totalCount: number, edges: Array<{ cursor: string, node: { id: string, seq: number, actionId: string, principalId: string, capabilityId: string, eventType: EventType, outcome: Outcome, reasonCode: string | null, error: string | null, invokedAt: string } }>, pageInfo: { startCursor: string | null, endCursor: string | null, hasNextPage: boolean, hasPreviousPage: boolean } } };

export type ConsoleTraceQueryVariables = Exact<{
  actionId: string;
}>;


export type ConsoleTraceQuery = { trace: { tokenId: string, driverId: string, handleId: string | null, responseMode: ResponseMode, sensitivity: Sensitivity, args: Record<string, unknown>, resultSummary: Record<string, unknown> | null, prevHash: string, recordHash: string, payload: string, ocsf: Record<string, unknown>, id: string, seq: number, actionId: string, principalId: string, capabilityId: string, eventType: EventType, outcome: Outcome, reasonCode: string | null, error: string | null, invokedAt: string, redactions: Array<{ kind: string, path: string }> } | null };

export type ConsoleTraceBoundsQueryVariables = Exact<{
  filter?: TraceFilter | null | undefined;
}>;


export type ConsoleTraceBoundsQuery = { first: { edges: Array<{ node: { invokedAt: string } }> }, last: { edges: Array<{ node: { invokedAt: string } }> } };

export type ConsoleViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsoleViewerQuery = { viewer: { keyId: string, name: string, scopes: Array<ApiKeyScope>, principals: Array<string> | null } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const ConsoleTraceRowFragmentDoc = new TypedDocumentString(`
    fragment ConsoleTraceRow on Trace {
  id
  seq
  actionId
  principalId
  capabilityId
  eventType
  outcome
  reasonCode
  error
  invokedAt
}
    `, {"fragmentName":"ConsoleTraceRow"}) as unknown as TypedDocumentString<ConsoleTraceRowFragment, unknown>;
export const ConsoleVerifyChainDocument = new TypedDocumentString(`
    query ConsoleVerifyChain($fromSeq: SafeInt, $toSeq: SafeInt) {
  verifyChain(fromSeq: $fromSeq, toSeq: $toSeq) {
    ok
    checked
    firstBadSeq
    kind
    detail
  }
  chainHead {
    nextSeq
    headHash
  }
}
    `) as unknown as TypedDocumentString<ConsoleVerifyChainQuery, ConsoleVerifyChainQueryVariables>;
export const ConsoleVerifyTraceDocument = new TypedDocumentString(`
    query ConsoleVerifyTrace($actionId: String!) {
  verifyTrace(actionId: $actionId) {
    ok
    checked
    firstBadSeq
    kind
    detail
  }
}
    `) as unknown as TypedDocumentString<ConsoleVerifyTraceQuery, ConsoleVerifyTraceQueryVariables>;
export const ConsoleRecentDeniesDocument = new TypedDocumentString(`
    query ConsoleRecentDenies($first: Int!) {
  traces(filter: {eventType: DENY}, orderBy: SEQ_DESC, first: $first) {
    edges {
      node {
        ...ConsoleTraceRow
      }
    }
  }
}
    fragment ConsoleTraceRow on Trace {
  id
  seq
  actionId
  principalId
  capabilityId
  eventType
  outcome
  reasonCode
  error
  invokedAt
}`) as unknown as TypedDocumentString<ConsoleRecentDeniesQuery, ConsoleRecentDeniesQueryVariables>;
export const ConsoleDenyEventsDocument = new TypedDocumentString(`
    subscription ConsoleDenyEvents($afterSeq: SafeInt, $filter: TraceFilter) {
  denyEvents(afterSeq: $afterSeq, filter: $filter) {
    trace {
      ...ConsoleTraceRow
    }
    gap {
      fromSeq
      toSeq
    }
  }
}
    fragment ConsoleTraceRow on Trace {
  id
  seq
  actionId
  principalId
  capabilityId
  eventType
  outcome
  reasonCode
  error
  invokedAt
}`) as unknown as TypedDocumentString<ConsoleDenyEventsSubscription, ConsoleDenyEventsSubscriptionVariables>;
export const ConsoleTraceStatsDocument = new TypedDocumentString(`
    query ConsoleTraceStats($filter: TraceFilter, $groupBy: [TraceStatsDimension!], $limit: Int) {
  traceStats(filter: $filter, groupBy: $groupBy, limit: $limit) {
    total
    groups {
      count
      reasonCode
      principalId
      capabilityId
      eventType
      outcome
    }
  }
}
    `) as unknown as TypedDocumentString<ConsoleTraceStatsQuery, ConsoleTraceStatsQueryVariables>;
export const ConsoleHistogramDocument = new TypedDocumentString(`
    query ConsoleHistogram($filter: TraceFilter, $bucket: TimeBucket!) {
  traceStats(filter: $filter, bucket: $bucket, limit: 1000) {
    total
    groups {
      bucketStart
      count
    }
  }
}
    `) as unknown as TypedDocumentString<ConsoleHistogramQuery, ConsoleHistogramQueryVariables>;
export const ConsoleTracesDocument = new TypedDocumentString(`
    query ConsoleTraces($filter: TraceFilter, $orderBy: TraceOrder, $first: Int, $after: String, $last: Int, $before: String) {
  traces(
    filter: $filter
    orderBy: $orderBy
    first: $first
    after: $after
    last: $last
    before: $before
  ) {
    totalCount
    edges {
      cursor
      node {
        ...ConsoleTraceRow
      }
    }
    pageInfo {
      startCursor
      endCursor
      hasNextPage
      hasPreviousPage
    }
  }
}
    fragment ConsoleTraceRow on Trace {
  id
  seq
  actionId
  principalId
  capabilityId
  eventType
  outcome
  reasonCode
  error
  invokedAt
}`) as unknown as TypedDocumentString<ConsoleTracesQuery, ConsoleTracesQueryVariables>;
export const ConsoleTraceDocument = new TypedDocumentString(`
    query ConsoleTrace($actionId: String!) {
  trace(actionId: $actionId) {
    ...ConsoleTraceRow
    tokenId
    driverId
    handleId
    responseMode
    sensitivity
    args
    resultSummary
    redactions {
      kind
      path
    }
    prevHash
    recordHash
    payload
    ocsf
  }
}
    fragment ConsoleTraceRow on Trace {
  id
  seq
  actionId
  principalId
  capabilityId
  eventType
  outcome
  reasonCode
  error
  invokedAt
}`) as unknown as TypedDocumentString<ConsoleTraceQuery, ConsoleTraceQueryVariables>;
export const ConsoleTraceBoundsDocument = new TypedDocumentString(`
    query ConsoleTraceBounds($filter: TraceFilter) {
  first: traces(filter: $filter, orderBy: INVOKED_AT_ASC, first: 1) {
    edges {
      node {
        invokedAt
      }
    }
  }
  last: traces(filter: $filter, orderBy: INVOKED_AT_DESC, first: 1) {
    edges {
      node {
        invokedAt
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ConsoleTraceBoundsQuery, ConsoleTraceBoundsQueryVariables>;
export const ConsoleViewerDocument = new TypedDocumentString(`
    query ConsoleViewer {
  viewer {
    keyId
    name
    scopes
    principals
  }
}
    `) as unknown as TypedDocumentString<ConsoleViewerQuery, ConsoleViewerQueryVariables>;
/* eslint-disable */
import * as types from './graphql.js';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query ConsoleVerifyChain($fromSeq: SafeInt, $toSeq: SafeInt) {\n  verifyChain(fromSeq: $fromSeq, toSeq: $toSeq) {\n    ok\n    checked\n    firstBadSeq\n    kind\n    detail\n  }\n  chainHead {\n    nextSeq\n    headHash\n  }\n}\n\nquery ConsoleVerifyTrace($actionId: String!) {\n  verifyTrace(actionId: $actionId) {\n    ok\n    checked\n    firstBadSeq\n    kind\n    detail\n  }\n}": typeof types.ConsoleVerifyChainDocument,
    "query ConsoleRecentDenies($first: Int!) {\n  traces(filter: {eventType: DENY}, orderBy: SEQ_DESC, first: $first) {\n    edges {\n      node {\n        ...ConsoleTraceRow\n      }\n    }\n  }\n}\n\nsubscription ConsoleDenyEvents($afterSeq: SafeInt, $filter: TraceFilter) {\n  denyEvents(afterSeq: $afterSeq, filter: $filter) {\n    trace {\n      ...ConsoleTraceRow\n    }\n    gap {\n      fromSeq\n      toSeq\n    }\n  }\n}": typeof types.ConsoleRecentDeniesDocument,
    "query ConsoleTraceStats($filter: TraceFilter, $groupBy: [TraceStatsDimension!], $limit: Int) {\n  traceStats(filter: $filter, groupBy: $groupBy, limit: $limit) {\n    total\n    groups {\n      count\n      reasonCode\n      principalId\n      capabilityId\n      eventType\n      outcome\n    }\n  }\n}\n\nquery ConsoleHistogram($filter: TraceFilter, $bucket: TimeBucket!) {\n  traceStats(filter: $filter, bucket: $bucket, limit: 1000) {\n    total\n    groups {\n      bucketStart\n      count\n    }\n  }\n}": typeof types.ConsoleTraceStatsDocument,
    "fragment ConsoleTraceRow on Trace {\n  id\n  seq\n  actionId\n  principalId\n  capabilityId\n  eventType\n  outcome\n  reasonCode\n  error\n  invokedAt\n}\n\nquery ConsoleTraces($filter: TraceFilter, $orderBy: TraceOrder, $first: Int, $after: String, $last: Int, $before: String) {\n  traces(\n    filter: $filter\n    orderBy: $orderBy\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    totalCount\n    edges {\n      cursor\n      node {\n        ...ConsoleTraceRow\n      }\n    }\n    pageInfo {\n      startCursor\n      endCursor\n      hasNextPage\n      hasPreviousPage\n    }\n  }\n}\n\nquery ConsoleTrace($actionId: String!) {\n  trace(actionId: $actionId) {\n    ...ConsoleTraceRow\n    tokenId\n    driverId\n    handleId\n    responseMode\n    sensitivity\n    args\n    resultSummary\n    redactions {\n      kind\n      path\n    }\n    prevHash\n    recordHash\n    payload\n    ocsf\n  }\n}\n\nquery ConsoleTraceBounds($filter: TraceFilter) {\n  first: traces(filter: $filter, orderBy: INVOKED_AT_ASC, first: 1) {\n    edges {\n      node {\n        invokedAt\n      }\n    }\n  }\n  last: traces(filter: $filter, orderBy: INVOKED_AT_DESC, first: 1) {\n    edges {\n      node {\n        invokedAt\n      }\n    }\n  }\n}": typeof types.ConsoleTraceRowFragmentDoc,
    "query ConsoleViewer {\n  viewer {\n    keyId\n    name\n    scopes\n    principals\n  }\n}": typeof types.ConsoleViewerDocument,
};
const documents: Documents = {
    "query ConsoleVerifyChain($fromSeq: SafeInt, $toSeq: SafeInt) {\n  verifyChain(fromSeq: $fromSeq, toSeq: $toSeq) {\n    ok\n    checked\n    firstBadSeq\n    kind\n    detail\n  }\n  chainHead {\n    nextSeq\n    headHash\n  }\n}\n\nquery ConsoleVerifyTrace($actionId: String!) {\n  verifyTrace(actionId: $actionId) {\n    ok\n    checked\n    firstBadSeq\n    kind\n    detail\n  }\n}": types.ConsoleVerifyChainDocument,
    "query ConsoleRecentDenies($first: Int!) {\n  traces(filter: {eventType: DENY}, orderBy: SEQ_DESC, first: $first) {\n    edges {\n      node {\n        ...ConsoleTraceRow\n      }\n    }\n  }\n}\n\nsubscription ConsoleDenyEvents($afterSeq: SafeInt, $filter: TraceFilter) {\n  denyEvents(afterSeq: $afterSeq, filter: $filter) {\n    trace {\n      ...ConsoleTraceRow\n    }\n    gap {\n      fromSeq\n      toSeq\n    }\n  }\n}": types.ConsoleRecentDeniesDocument,
    "query ConsoleTraceStats($filter: TraceFilter, $groupBy: [TraceStatsDimension!], $limit: Int) {\n  traceStats(filter: $filter, groupBy: $groupBy, limit: $limit) {\n    total\n    groups {\n      count\n      reasonCode\n      principalId\n      capabilityId\n      eventType\n      outcome\n    }\n  }\n}\n\nquery ConsoleHistogram($filter: TraceFilter, $bucket: TimeBucket!) {\n  traceStats(filter: $filter, bucket: $bucket, limit: 1000) {\n    total\n    groups {\n      bucketStart\n      count\n    }\n  }\n}": types.ConsoleTraceStatsDocument,
    "fragment ConsoleTraceRow on Trace {\n  id\n  seq\n  actionId\n  principalId\n  capabilityId\n  eventType\n  outcome\n  reasonCode\n  error\n  invokedAt\n}\n\nquery ConsoleTraces($filter: TraceFilter, $orderBy: TraceOrder, $first: Int, $after: String, $last: Int, $before: String) {\n  traces(\n    filter: $filter\n    orderBy: $orderBy\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    totalCount\n    edges {\n      cursor\n      node {\n        ...ConsoleTraceRow\n      }\n    }\n    pageInfo {\n      startCursor\n      endCursor\n      hasNextPage\n      hasPreviousPage\n    }\n  }\n}\n\nquery ConsoleTrace($actionId: String!) {\n  trace(actionId: $actionId) {\n    ...ConsoleTraceRow\n    tokenId\n    driverId\n    handleId\n    responseMode\n    sensitivity\n    args\n    resultSummary\n    redactions {\n      kind\n      path\n    }\n    prevHash\n    recordHash\n    payload\n    ocsf\n  }\n}\n\nquery ConsoleTraceBounds($filter: TraceFilter) {\n  first: traces(filter: $filter, orderBy: INVOKED_AT_ASC, first: 1) {\n    edges {\n      node {\n        invokedAt\n      }\n    }\n  }\n  last: traces(filter: $filter, orderBy: INVOKED_AT_DESC, first: 1) {\n    edges {\n      node {\n        invokedAt\n      }\n    }\n  }\n}": types.ConsoleTraceRowFragmentDoc,
    "query ConsoleViewer {\n  viewer {\n    keyId\n    name\n    scopes\n    principals\n  }\n}": types.ConsoleViewerDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ConsoleVerifyChain($fromSeq: SafeInt, $toSeq: SafeInt) {\n  verifyChain(fromSeq: $fromSeq, toSeq: $toSeq) {\n    ok\n    checked\n    firstBadSeq\n    kind\n    detail\n  }\n  chainHead {\n    nextSeq\n    headHash\n  }\n}\n\nquery ConsoleVerifyTrace($actionId: String!) {\n  verifyTrace(actionId: $actionId) {\n    ok\n    checked\n    firstBadSeq\n    kind\n    detail\n  }\n}"): typeof import('./graphql.js').ConsoleVerifyChainDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ConsoleRecentDenies($first: Int!) {\n  traces(filter: {eventType: DENY}, orderBy: SEQ_DESC, first: $first) {\n    edges {\n      node {\n        ...ConsoleTraceRow\n      }\n    }\n  }\n}\n\nsubscription ConsoleDenyEvents($afterSeq: SafeInt, $filter: TraceFilter) {\n  denyEvents(afterSeq: $afterSeq, filter: $filter) {\n    trace {\n      ...ConsoleTraceRow\n    }\n    gap {\n      fromSeq\n      toSeq\n    }\n  }\n}"): typeof import('./graphql.js').ConsoleRecentDeniesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ConsoleTraceStats($filter: TraceFilter, $groupBy: [TraceStatsDimension!], $limit: Int) {\n  traceStats(filter: $filter, groupBy: $groupBy, limit: $limit) {\n    total\n    groups {\n      count\n      reasonCode\n      principalId\n      capabilityId\n      eventType\n      outcome\n    }\n  }\n}\n\nquery ConsoleHistogram($filter: TraceFilter, $bucket: TimeBucket!) {\n  traceStats(filter: $filter, bucket: $bucket, limit: 1000) {\n    total\n    groups {\n      bucketStart\n      count\n    }\n  }\n}"): typeof import('./graphql.js').ConsoleTraceStatsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment ConsoleTraceRow on Trace {\n  id\n  seq\n  actionId\n  principalId\n  capabilityId\n  eventType\n  outcome\n  reasonCode\n  error\n  invokedAt\n}\n\nquery ConsoleTraces($filter: TraceFilter, $orderBy: TraceOrder, $first: Int, $after: String, $last: Int, $before: String) {\n  traces(\n    filter: $filter\n    orderBy: $orderBy\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    totalCount\n    edges {\n      cursor\n      node {\n        ...ConsoleTraceRow\n      }\n    }\n    pageInfo {\n      startCursor\n      endCursor\n      hasNextPage\n      hasPreviousPage\n    }\n  }\n}\n\nquery ConsoleTrace($actionId: String!) {\n  trace(actionId: $actionId) {\n    ...ConsoleTraceRow\n    tokenId\n    driverId\n    handleId\n    responseMode\n    sensitivity\n    args\n    resultSummary\n    redactions {\n      kind\n      path\n    }\n    prevHash\n    recordHash\n    payload\n    ocsf\n  }\n}\n\nquery ConsoleTraceBounds($filter: TraceFilter) {\n  first: traces(filter: $filter, orderBy: INVOKED_AT_ASC, first: 1) {\n    edges {\n      node {\n        invokedAt\n      }\n    }\n  }\n  last: traces(filter: $filter, orderBy: INVOKED_AT_DESC, first: 1) {\n    edges {\n      node {\n        invokedAt\n      }\n    }\n  }\n}"): typeof import('./graphql.js').ConsoleTraceRowFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ConsoleViewer {\n  viewer {\n    keyId\n    name\n    scopes\n    principals\n  }\n}"): typeof import('./graphql.js').ConsoleViewerDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

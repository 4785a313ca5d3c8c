/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

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
    "query VerifyChain($fromSeq: SafeInt, $toSeq: SafeInt) {\n  verifyChain(fromSeq: $fromSeq, toSeq: $toSeq) {\n    ok\n    checked\n    firstBadSeq\n    kind\n    detail\n  }\n}\n\nquery ChainHead {\n  chainHead {\n    nextSeq\n    headHash\n  }\n}\n\nquery VerifyTrace($actionId: String!) {\n  verifyTrace(actionId: $actionId) {\n    ok\n    checked\n    firstBadSeq\n    kind\n    detail\n  }\n}": typeof types.VerifyChainDocument,
    "mutation CreateCheckpoint {\n  createCheckpoint {\n    chainId\n    seq\n    headHash\n    createdAt\n    keyId\n    signature\n    algorithm\n  }\n}\n\nquery CheckpointPublicKey {\n  checkpointPublicKey {\n    keyId\n    algorithm\n    publicKeyPem\n  }\n}": typeof types.CreateCheckpointDocument,
    "fragment TraceFields on Trace {\n  id\n  seq\n  actionId\n  capabilityId\n  principalId\n  tokenId\n  invokedAt\n  responseMode\n  driverId\n  handleId\n  sensitivity\n  outcome\n  eventType\n  reasonCode\n  error\n  args\n  resultSummary\n  prevHash\n  recordHash\n  payload\n}\n\nmutation RecordTraces($input: [TraceInput!]!) {\n  recordTraces(input: $input) {\n    ...TraceFields\n  }\n}\n\nmutation RecordTraceRecords($records: [String!]!) {\n  recordTraceRecords(records: $records) {\n    ...TraceFields\n  }\n}\n\nquery Traces($filter: TraceFilter, $orderBy: TraceOrder, $first: Int, $after: String, $last: Int, $before: String) {\n  traces(\n    filter: $filter\n    orderBy: $orderBy\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    edges {\n      cursor\n      node {\n        seq\n        actionId\n        principalId\n        invokedAt\n      }\n    }\n    pageInfo {\n      startCursor\n      endCursor\n      hasNextPage\n      hasPreviousPage\n    }\n  }\n}\n\nquery TracesWithCount($filter: TraceFilter) {\n  traces(filter: $filter, first: 1) {\n    totalCount\n  }\n}\n\nquery TraceByActionId($actionId: String!) {\n  trace(actionId: $actionId) {\n    ...TraceFields\n  }\n}\n\nquery TraceNode($id: ID!) {\n  node(id: $id) {\n    ... on Trace {\n      seq\n      actionId\n    }\n  }\n}": typeof types.TraceFieldsFragmentDoc,
};
const documents: Documents = {
    "query VerifyChain($fromSeq: SafeInt, $toSeq: SafeInt) {\n  verifyChain(fromSeq: $fromSeq, toSeq: $toSeq) {\n    ok\n    checked\n    firstBadSeq\n    kind\n    detail\n  }\n}\n\nquery ChainHead {\n  chainHead {\n    nextSeq\n    headHash\n  }\n}\n\nquery VerifyTrace($actionId: String!) {\n  verifyTrace(actionId: $actionId) {\n    ok\n    checked\n    firstBadSeq\n    kind\n    detail\n  }\n}": types.VerifyChainDocument,
    "mutation CreateCheckpoint {\n  createCheckpoint {\n    chainId\n    seq\n    headHash\n    createdAt\n    keyId\n    signature\n    algorithm\n  }\n}\n\nquery CheckpointPublicKey {\n  checkpointPublicKey {\n    keyId\n    algorithm\n    publicKeyPem\n  }\n}": types.CreateCheckpointDocument,
    "fragment TraceFields on Trace {\n  id\n  seq\n  actionId\n  capabilityId\n  principalId\n  tokenId\n  invokedAt\n  responseMode\n  driverId\n  handleId\n  sensitivity\n  outcome\n  eventType\n  reasonCode\n  error\n  args\n  resultSummary\n  prevHash\n  recordHash\n  payload\n}\n\nmutation RecordTraces($input: [TraceInput!]!) {\n  recordTraces(input: $input) {\n    ...TraceFields\n  }\n}\n\nmutation RecordTraceRecords($records: [String!]!) {\n  recordTraceRecords(records: $records) {\n    ...TraceFields\n  }\n}\n\nquery Traces($filter: TraceFilter, $orderBy: TraceOrder, $first: Int, $after: String, $last: Int, $before: String) {\n  traces(\n    filter: $filter\n    orderBy: $orderBy\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    edges {\n      cursor\n      node {\n        seq\n        actionId\n        principalId\n        invokedAt\n      }\n    }\n    pageInfo {\n      startCursor\n      endCursor\n      hasNextPage\n      hasPreviousPage\n    }\n  }\n}\n\nquery TracesWithCount($filter: TraceFilter) {\n  traces(filter: $filter, first: 1) {\n    totalCount\n  }\n}\n\nquery TraceByActionId($actionId: String!) {\n  trace(actionId: $actionId) {\n    ...TraceFields\n  }\n}\n\nquery TraceNode($id: ID!) {\n  node(id: $id) {\n    ... on Trace {\n      seq\n      actionId\n    }\n  }\n}": types.TraceFieldsFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query VerifyChain($fromSeq: SafeInt, $toSeq: SafeInt) {\n  verifyChain(fromSeq: $fromSeq, toSeq: $toSeq) {\n    ok\n    checked\n    firstBadSeq\n    kind\n    detail\n  }\n}\n\nquery ChainHead {\n  chainHead {\n    nextSeq\n    headHash\n  }\n}\n\nquery VerifyTrace($actionId: String!) {\n  verifyTrace(actionId: $actionId) {\n    ok\n    checked\n    firstBadSeq\n    kind\n    detail\n  }\n}"): (typeof documents)["query VerifyChain($fromSeq: SafeInt, $toSeq: SafeInt) {\n  verifyChain(fromSeq: $fromSeq, toSeq: $toSeq) {\n    ok\n    checked\n    firstBadSeq\n    kind\n    detail\n  }\n}\n\nquery ChainHead {\n  chainHead {\n    nextSeq\n    headHash\n  }\n}\n\nquery VerifyTrace($actionId: String!) {\n  verifyTrace(actionId: $actionId) {\n    ok\n    checked\n    firstBadSeq\n    kind\n    detail\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation CreateCheckpoint {\n  createCheckpoint {\n    chainId\n    seq\n    headHash\n    createdAt\n    keyId\n    signature\n    algorithm\n  }\n}\n\nquery CheckpointPublicKey {\n  checkpointPublicKey {\n    keyId\n    algorithm\n    publicKeyPem\n  }\n}"): (typeof documents)["mutation CreateCheckpoint {\n  createCheckpoint {\n    chainId\n    seq\n    headHash\n    createdAt\n    keyId\n    signature\n    algorithm\n  }\n}\n\nquery CheckpointPublicKey {\n  checkpointPublicKey {\n    keyId\n    algorithm\n    publicKeyPem\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment TraceFields on Trace {\n  id\n  seq\n  actionId\n  capabilityId\n  principalId\n  tokenId\n  invokedAt\n  responseMode\n  driverId\n  handleId\n  sensitivity\n  outcome\n  eventType\n  reasonCode\n  error\n  args\n  resultSummary\n  prevHash\n  recordHash\n  payload\n}\n\nmutation RecordTraces($input: [TraceInput!]!) {\n  recordTraces(input: $input) {\n    ...TraceFields\n  }\n}\n\nmutation RecordTraceRecords($records: [String!]!) {\n  recordTraceRecords(records: $records) {\n    ...TraceFields\n  }\n}\n\nquery Traces($filter: TraceFilter, $orderBy: TraceOrder, $first: Int, $after: String, $last: Int, $before: String) {\n  traces(\n    filter: $filter\n    orderBy: $orderBy\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    edges {\n      cursor\n      node {\n        seq\n        actionId\n        principalId\n        invokedAt\n      }\n    }\n    pageInfo {\n      startCursor\n      endCursor\n      hasNextPage\n      hasPreviousPage\n    }\n  }\n}\n\nquery TracesWithCount($filter: TraceFilter) {\n  traces(filter: $filter, first: 1) {\n    totalCount\n  }\n}\n\nquery TraceByActionId($actionId: String!) {\n  trace(actionId: $actionId) {\n    ...TraceFields\n  }\n}\n\nquery TraceNode($id: ID!) {\n  node(id: $id) {\n    ... on Trace {\n      seq\n      actionId\n    }\n  }\n}"): (typeof documents)["fragment TraceFields on Trace {\n  id\n  seq\n  actionId\n  capabilityId\n  principalId\n  tokenId\n  invokedAt\n  responseMode\n  driverId\n  handleId\n  sensitivity\n  outcome\n  eventType\n  reasonCode\n  error\n  args\n  resultSummary\n  prevHash\n  recordHash\n  payload\n}\n\nmutation RecordTraces($input: [TraceInput!]!) {\n  recordTraces(input: $input) {\n    ...TraceFields\n  }\n}\n\nmutation RecordTraceRecords($records: [String!]!) {\n  recordTraceRecords(records: $records) {\n    ...TraceFields\n  }\n}\n\nquery Traces($filter: TraceFilter, $orderBy: TraceOrder, $first: Int, $after: String, $last: Int, $before: String) {\n  traces(\n    filter: $filter\n    orderBy: $orderBy\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    edges {\n      cursor\n      node {\n        seq\n        actionId\n        principalId\n        invokedAt\n      }\n    }\n    pageInfo {\n      startCursor\n      endCursor\n      hasNextPage\n      hasPreviousPage\n    }\n  }\n}\n\nquery TracesWithCount($filter: TraceFilter) {\n  traces(filter: $filter, first: 1) {\n    totalCount\n  }\n}\n\nquery TraceByActionId($actionId: String!) {\n  trace(actionId: $actionId) {\n    ...TraceFields\n  }\n}\n\nquery TraceNode($id: ID!) {\n  node(id: $id) {\n    ... on Trace {\n      seq\n      actionId\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;
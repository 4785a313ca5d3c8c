/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
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

/** One trace as the agent kernel reports it (the reference's ActionTrace). */
export type TraceInput = {
  actionId: string;
  /** Redacted invocation args. Default {}. */
  args?: Record<string, unknown> | null | undefined;
  capabilityId: string;
  /** Default "". */
  driverId?: string | null | undefined;
  /** Non-null (even empty) makes the outcome FAILED. */
  error?: string | null | undefined;
  /** Default INVOKE. */
  eventType?: EventType | null | undefined;
  handleId?: string | null | undefined;
  invokedAt: string;
  principalId: string;
  reasonCode?: string | null | undefined;
  responseMode: ResponseMode;
  resultSummary?: Record<string, unknown> | null | undefined;
  /** Default NONE. */
  sensitivity?: Sensitivity | null | undefined;
  /** Default "". */
  tokenId?: string | null | undefined;
};

/** Chain order (seq) or time order (invokedAt, ties broken by seq). */
export type TraceOrder =
  | 'INVOKED_AT_ASC'
  | 'INVOKED_AT_DESC'
  | 'SEQ_ASC'
  | 'SEQ_DESC';

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

export type VerifyChainQueryVariables = Exact<{
  fromSeq?: number | null | undefined;
  toSeq?: number | null | undefined;
}>;


export type VerifyChainQuery = { verifyChain: { ok: boolean, checked: number, firstBadSeq: number | null, kind: VerificationFailureKind | null, detail: string } };

export type ChainHeadQueryVariables = Exact<{ [key: string]: never; }>;


export type ChainHeadQuery = { chainHead: { nextSeq: number, headHash: string } };

export type VerifyTraceQueryVariables = Exact<{
  actionId: string;
}>;


export type VerifyTraceQuery = { verifyTrace: { ok: boolean, checked: number, firstBadSeq: number | null, kind: VerificationFailureKind | null, detail: string } | null };

export type CreateCheckpointMutationVariables = Exact<{ [key: string]: never; }>;


export type CreateCheckpointMutation = { createCheckpoint: { chainId: string, seq: number, headHash: string, createdAt: string, keyId: string, signature: string, algorithm: string } };

export type CheckpointPublicKeyQueryVariables = Exact<{ [key: string]: never; }>;


export type CheckpointPublicKeyQuery = { checkpointPublicKey: { keyId: string, algorithm: string, publicKeyPem: string } | null };

export type TraceFieldsFragment = { id: string, seq: number, actionId: string, capabilityId: string, principalId: string, tokenId: string, invokedAt: string, responseMode: ResponseMode, driverId: string, handleId: string | null, sensitivity: Sensitivity, outcome: Outcome, eventType: EventType, reasonCode: string | null, error: string | null, args: Record<string, unknown>, resultSummary: Record<string, unknown> | null, prevHash: string, recordHash: string, payload: string };

export type RecordTracesMutationVariables = Exact<{
  input: Array<TraceInput> | TraceInput;
}>;


export type RecordTracesMutation = { recordTraces: Array<{ id: string, seq: number, actionId: string, capabilityId: string, principalId: string, tokenId: string, invokedAt: string, responseMode: ResponseMode, driverId: string, handleId: string | null, sensitivity: Sensitivity, outcome: Outcome, eventType: EventType, reasonCode: string | null, error: string | null, args: Record<string, unknown>, resultSummary: Record<string, unknown> | null, prevHash: string, recordHash: string, payload: string }> };

export type RecordTraceRecordsMutationVariables = Exact<{
  records: Array<string> | string;
}>;


export type RecordTraceRecordsMutation = { recordTraceRecords: Array<{ id: string, seq: number, actionId: string, capabilityId: string, principalId: string, tokenId: string, invokedAt: string, responseMode: ResponseMode, driverId: string, handleId: string | null, sensitivity: Sensitivity, outcome: Outcome, eventType: EventType, reasonCode: string | null, error: string | null, args: Record<string, unknown>, resultSummary: Record<string, unknown> | null, prevHash: string, recordHash: string, payload: string }> };

export type TracesQueryVariables = Exact<{
  filter?: TraceFilter | null | undefined;
  orderBy?: TraceOrder | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
}>;


export type TracesQuery = { traces: { edges: Array<{ cursor: string, node: { seq: number, actionId: string, principalId: string, invokedAt: string } }>, pageInfo: { startCursor: string | null, endCursor: string | null, hasNextPage: boolean, hasPreviousPage: boolean } } };

export type TracesWithCountQueryVariables = Exact<{
  filter?: TraceFilter | null | undefined;
}>;


export type TracesWithCountQuery = { traces: { totalCount: number } };

export type TraceByActionIdQueryVariables = Exact<{
  actionId: string;
}>;


export type TraceByActionIdQuery = { trace: { id: string, seq: number, actionId: string, capabilityId: string, principalId: string, tokenId: string, invokedAt: string, responseMode: ResponseMode, driverId: string, handleId: string | null, sensitivity: Sensitivity, outcome: Outcome, eventType: EventType, reasonCode: string | null, error: string | null, args: Record<string, unknown>, resultSummary: Record<string, unknown> | null, prevHash: string, recordHash: string, payload: string } | null };

export type TraceNodeQueryVariables = Exact<{
  id: string | number;
}>;


export type TraceNodeQuery = { node: { seq: number, actionId: string } | null };

export const TraceFieldsFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TraceFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Trace"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"seq"}},{"kind":"Field","name":{"kind":"Name","value":"actionId"}},{"kind":"Field","name":{"kind":"Name","value":"capabilityId"}},{"kind":"Field","name":{"kind":"Name","value":"principalId"}},{"kind":"Field","name":{"kind":"Name","value":"tokenId"}},{"kind":"Field","name":{"kind":"Name","value":"invokedAt"}},{"kind":"Field","name":{"kind":"Name","value":"responseMode"}},{"kind":"Field","name":{"kind":"Name","value":"driverId"}},{"kind":"Field","name":{"kind":"Name","value":"handleId"}},{"kind":"Field","name":{"kind":"Name","value":"sensitivity"}},{"kind":"Field","name":{"kind":"Name","value":"outcome"}},{"kind":"Field","name":{"kind":"Name","value":"eventType"}},{"kind":"Field","name":{"kind":"Name","value":"reasonCode"}},{"kind":"Field","name":{"kind":"Name","value":"error"}},{"kind":"Field","name":{"kind":"Name","value":"args"}},{"kind":"Field","name":{"kind":"Name","value":"resultSummary"}},{"kind":"Field","name":{"kind":"Name","value":"prevHash"}},{"kind":"Field","name":{"kind":"Name","value":"recordHash"}},{"kind":"Field","name":{"kind":"Name","value":"payload"}}]}}]} as unknown as DocumentNode<TraceFieldsFragment, unknown>;
export const VerifyChainDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"VerifyChain"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"fromSeq"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"SafeInt"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"toSeq"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"SafeInt"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"verifyChain"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"fromSeq"},"value":{"kind":"Variable","name":{"kind":"Name","value":"fromSeq"}}},{"kind":"Argument","name":{"kind":"Name","value":"toSeq"},"value":{"kind":"Variable","name":{"kind":"Name","value":"toSeq"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"ok"}},{"kind":"Field","name":{"kind":"Name","value":"checked"}},{"kind":"Field","name":{"kind":"Name","value":"firstBadSeq"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"detail"}}]}}]}}]} as unknown as DocumentNode<VerifyChainQuery, VerifyChainQueryVariables>;
export const ChainHeadDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ChainHead"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"chainHead"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"nextSeq"}},{"kind":"Field","name":{"kind":"Name","value":"headHash"}}]}}]}}]} as unknown as DocumentNode<ChainHeadQuery, ChainHeadQueryVariables>;
export const VerifyTraceDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"VerifyTrace"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"actionId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"verifyTrace"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"actionId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"actionId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"ok"}},{"kind":"Field","name":{"kind":"Name","value":"checked"}},{"kind":"Field","name":{"kind":"Name","value":"firstBadSeq"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"detail"}}]}}]}}]} as unknown as DocumentNode<VerifyTraceQuery, VerifyTraceQueryVariables>;
export const CreateCheckpointDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CreateCheckpoint"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createCheckpoint"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"chainId"}},{"kind":"Field","name":{"kind":"Name","value":"seq"}},{"kind":"Field","name":{"kind":"Name","value":"headHash"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"keyId"}},{"kind":"Field","name":{"kind":"Name","value":"signature"}},{"kind":"Field","name":{"kind":"Name","value":"algorithm"}}]}}]}}]} as unknown as DocumentNode<CreateCheckpointMutation, CreateCheckpointMutationVariables>;
export const CheckpointPublicKeyDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"CheckpointPublicKey"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"checkpointPublicKey"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"keyId"}},{"kind":"Field","name":{"kind":"Name","value":"algorithm"}},{"kind":"Field","name":{"kind":"Name","value":"publicKeyPem"}}]}}]}}]} as unknown as DocumentNode<CheckpointPublicKeyQuery, CheckpointPublicKeyQueryVariables>;
export const RecordTracesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RecordTraces"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"TraceInput"}}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"recordTraces"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TraceFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TraceFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Trace"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"seq"}},{"kind":"Field","name":{"kind":"Name","value":"actionId"}},{"kind":"Field","name":{"kind":"Name","value":"capabilityId"}},{"kind":"Field","name":{"kind":"Name","value":"principalId"}},{"kind":"Field","name":{"kind":"Name","value":"tokenId"}},{"kind":"Field","name":{"kind":"Name","value":"invokedAt"}},{"kind":"Field","name":{"kind":"Name","value":"responseMode"}},{"kind":"Field","name":{"kind":"Name","value":"driverId"}},{"kind":"Field","name":{"kind":"Name","value":"handleId"}},{"kind":"Field","name":{"kind":"Name","value":"sensitivity"}},{"kind":"Field","name":{"kind":"Name","value":"outcome"}},{"kind":"Field","name":{"kind":"Name","value":"eventType"}},{"kind":"Field","name":{"kind":"Name","value":"reasonCode"}},{"kind":"Field","name":{"kind":"Name","value":"error"}},{"kind":"Field","name":{"kind":"Name","value":"args"}},{"kind":"Field","name":{"kind":"Name","value":"resultSummary"}},{"kind":"Field","name":{"kind":"Name","value":"prevHash"}},{"kind":"Field","name":{"kind":"Name","value":"recordHash"}},{"kind":"Field","name":{"kind":"Name","value":"payload"}}]}}]} as unknown as DocumentNode<RecordTracesMutation, RecordTracesMutationVariables>;
export const RecordTraceRecordsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RecordTraceRecords"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"records"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"recordTraceRecords"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"records"},"value":{"kind":"Variable","name":{"kind":"Name","value":"records"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TraceFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TraceFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Trace"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"seq"}},{"kind":"Field","name":{"kind":"Name","value":"actionId"}},{"kind":"Field","name":{"kind":"Name","value":"capabilityId"}},{"kind":"Field","name":{"kind":"Name","value":"principalId"}},{"kind":"Field","name":{"kind":"Name","value":"tokenId"}},{"kind":"Field","name":{"kind":"Name","value":"invokedAt"}},{"kind":"Field","name":{"kind":"Name","value":"responseMode"}},{"kind":"Field","name":{"kind":"Name","value":"driverId"}},{"kind":"Field","name":{"kind":"Name","value":"handleId"}},{"kind":"Field","name":{"kind":"Name","value":"sensitivity"}},{"kind":"Field","name":{"kind":"Name","value":"outcome"}},{"kind":"Field","name":{"kind":"Name","value":"eventType"}},{"kind":"Field","name":{"kind":"Name","value":"reasonCode"}},{"kind":"Field","name":{"kind":"Name","value":"error"}},{"kind":"Field","name":{"kind":"Name","value":"args"}},{"kind":"Field","name":{"kind":"Name","value":"resultSummary"}},{"kind":"Field","name":{"kind":"Name","value":"prevHash"}},{"kind":"Field","name":{"kind":"Name","value":"recordHash"}},{"kind":"Field","name":{"kind":"Name","value":"payload"}}]}}]} as unknown as DocumentNode<RecordTraceRecordsMutation, RecordTraceRecordsMutationVariables>;
export const TracesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Traces"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"TraceFilter"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"orderBy"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"TraceOrder"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"last"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"before"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"traces"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}},{"kind":"Argument","name":{"kind":"Name","value":"orderBy"},"value":{"kind":"Variable","name":{"kind":"Name","value":"orderBy"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}},{"kind":"Argument","name":{"kind":"Name","value":"last"},"value":{"kind":"Variable","name":{"kind":"Name","value":"last"}}},{"kind":"Argument","name":{"kind":"Name","value":"before"},"value":{"kind":"Variable","name":{"kind":"Name","value":"before"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"seq"}},{"kind":"Field","name":{"kind":"Name","value":"actionId"}},{"kind":"Field","name":{"kind":"Name","value":"principalId"}},{"kind":"Field","name":{"kind":"Name","value":"invokedAt"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"startCursor"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}},{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"hasPreviousPage"}}]}}]}}]}}]} as unknown as DocumentNode<TracesQuery, TracesQueryVariables>;
export const TracesWithCountDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"TracesWithCount"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"TraceFilter"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"traces"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"1"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}}]}}]}}]} as unknown as DocumentNode<TracesWithCountQuery, TracesWithCountQueryVariables>;
export const TraceByActionIdDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"TraceByActionId"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"actionId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"trace"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"actionId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"actionId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TraceFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TraceFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Trace"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"seq"}},{"kind":"Field","name":{"kind":"Name","value":"actionId"}},{"kind":"Field","name":{"kind":"Name","value":"capabilityId"}},{"kind":"Field","name":{"kind":"Name","value":"principalId"}},{"kind":"Field","name":{"kind":"Name","value":"tokenId"}},{"kind":"Field","name":{"kind":"Name","value":"invokedAt"}},{"kind":"Field","name":{"kind":"Name","value":"responseMode"}},{"kind":"Field","name":{"kind":"Name","value":"driverId"}},{"kind":"Field","name":{"kind":"Name","value":"handleId"}},{"kind":"Field","name":{"kind":"Name","value":"sensitivity"}},{"kind":"Field","name":{"kind":"Name","value":"outcome"}},{"kind":"Field","name":{"kind":"Name","value":"eventType"}},{"kind":"Field","name":{"kind":"Name","value":"reasonCode"}},{"kind":"Field","name":{"kind":"Name","value":"error"}},{"kind":"Field","name":{"kind":"Name","value":"args"}},{"kind":"Field","name":{"kind":"Name","value":"resultSummary"}},{"kind":"Field","name":{"kind":"Name","value":"prevHash"}},{"kind":"Field","name":{"kind":"Name","value":"recordHash"}},{"kind":"Field","name":{"kind":"Name","value":"payload"}}]}}]} as unknown as DocumentNode<TraceByActionIdQuery, TraceByActionIdQueryVariables>;
export const TraceNodeDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"TraceNode"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Trace"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"seq"}},{"kind":"Field","name":{"kind":"Name","value":"actionId"}}]}}]}}]}}]} as unknown as DocumentNode<TraceNodeQuery, TraceNodeQueryVariables>;
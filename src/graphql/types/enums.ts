/**
 * Enums of the trace vocabulary. GraphQL names are upper case; their values are the reference's
 * stored strings (docs/reference-compatibility.md#vocabularies), so resolvers work with stored
 * values.
 */
import { EVENT_TYPES, RESPONSE_MODES, SENSITIVITIES, STATUSES } from "../../chain/trace.js";
import type { VerificationFailureKind } from "../../chain/verify.js";
import { builder } from "../builder.js";

function valuesOf<const T extends readonly string[]>(stored: T) {
  return Object.fromEntries(stored.map((v) => [v.toUpperCase(), { value: v }])) as {
    [K in T[number] as Uppercase<K>]: { value: K };
  };
}

export const EventTypeEnum = builder.enumType("EventType", {
  description: "What the kernel recorded: an invocation, a handle expansion, or a policy denial.",
  values: valuesOf(EVENT_TYPES),
});

export const OutcomeEnum = builder.enumType("Outcome", {
  description: "FAILED when the trace carries an error (every deny is FAILED), otherwise SUCCEEDED.",
  values: valuesOf(STATUSES),
});

export const ResponseModeEnum = builder.enumType("ResponseMode", {
  values: valuesOf(RESPONSE_MODES),
});

export const SensitivityEnum = builder.enumType("Sensitivity", {
  values: valuesOf(SENSITIVITIES),
});

export const TraceOrderEnum = builder.enumType("TraceOrder", {
  description: "Chain order (seq) or time order (invokedAt, ties broken by seq).",
  values: ["SEQ_ASC", "SEQ_DESC", "INVOKED_AT_ASC", "INVOKED_AT_DESC"] as const,
});

const FAILURE_KINDS: Record<VerificationFailureKind, string> = {
  NON_CONTIGUOUS: "A seq is missing, repeated or out of order (deletion, insertion or reorder).",
  BROKEN_LINK: "A record's prevHash is not the previous record's hash.",
  MUTATED: "A record's content does not match its HMAC (edited, or verified with the wrong secret).",
  COLUMN_MISMATCH: "An indexed column differs from the hashed payload (a query column was edited).",
  TRUNCATED: "Records the chain head vouches for are missing from the end.",
  CHECKPOINT_INVALID: "A retention or signed checkpoint does not authenticate.",
};

export const VerificationFailureKindEnum = builder.enumType("VerificationFailureKind", {
  values: Object.fromEntries(Object.entries(FAILURE_KINDS).map(([k, description]) => [k, { description }])) as {
    [K in VerificationFailureKind]: { description: string };
  },
});

export const OcsfMappingEnum = builder.enumType("OcsfMapping", {
  description: "Which OCSF mapping of a trace (docs/reference-compatibility.md#ocsf-mapping).",
  values: {
    SCHEMA_VALID: {
      value: "schema-valid",
      description: "Valid against OCSF 1.3.0 API Activity, with metadata.uid = actionId and the seq (the `ocsf` export format).",
    },
    REFERENCE: {
      value: "reference",
      description: "Exactly weaver-kernel's mapping, which lacks the required src_endpoint (the `ocsf-reference` export format).",
    },
  } as const,
});

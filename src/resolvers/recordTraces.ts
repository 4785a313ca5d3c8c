/**
 * recordTraces(input): validate a batch, encode each trace to its canonical payload, and
 * append the batch to the chain in one transaction. All or nothing.
 */
import { principalInScope } from "../auth/scopes.js";
import { storableIdentifier } from "../chain/identifier.js";
import type { JsonObject } from "../chain/json.js";
import { redactJson, redactText } from "../ingest/secrets.js";
import { encodeTrace, type EventType, type ResponseMode, type Sensitivity, type Trace } from "../chain/trace.js";
import type { EpochMicros } from "../chain/time.js";
import { badUserInput, TracegateError } from "../errors.js";
import type { GatewayContext } from "../server/context.js";
import { DuplicateActionIdError, type TraceRow } from "../stores/trace-store.js";

/** Largest batch one recordTraces call may carry. */
export const MAX_BATCH = 5_000;
/** Longest id-like string (action, capability, principal, token, driver, handle, reason code). */
export const MAX_ID_LENGTH = 1_024;
/** Longest error message. */
export const MAX_ERROR_LENGTH = 65_536;

/** The GraphQL TraceInput, enums already mapped to the reference's strings. */
export interface TraceInput {
  actionId: string;
  capabilityId: string;
  principalId: string;
  tokenId?: string | null;
  invokedAt: EpochMicros;
  responseMode: ResponseMode;
  driverId?: string | null;
  handleId?: string | null;
  sensitivity?: Sensitivity | null;
  eventType?: EventType | null;
  reasonCode?: string | null;
  error?: string | null;
  args?: JsonObject | null;
  resultSummary?: JsonObject | null;
}

/** Validate one input and apply the reference's defaults. */
export function toTrace(input: TraceInput, index: number): Trace {
  const at = (field: string) => `input[${index}].${field}`;
  const id = (field: keyof TraceInput, value: string | null | undefined, opts: { nonEmpty?: boolean } = {}) => {
    const v = value ?? "";
    if (opts.nonEmpty && v.length === 0) throw badUserInput(`${at(field)} must not be empty.`, at(field));
    if (v.length > MAX_ID_LENGTH) throw badUserInput(`${at(field)} is longer than ${MAX_ID_LENGTH} characters.`, at(field));
    return storableIdentifier(v, at(field));
  };
  const nullableId = (field: keyof TraceInput, value: string | null | undefined) =>
    value == null ? null : id(field, value);
  if (input.error != null && input.error.length > MAX_ERROR_LENGTH) {
    throw badUserInput(`${at("error")} is longer than ${MAX_ERROR_LENGTH} characters.`, at("error"));
  }
  return {
    actionId: id("actionId", input.actionId, { nonEmpty: true }),
    capabilityId: id("capabilityId", input.capabilityId, { nonEmpty: true }),
    principalId: id("principalId", input.principalId),
    tokenId: id("tokenId", input.tokenId),
    invokedAtUs: input.invokedAt,
    responseMode: input.responseMode,
    driverId: id("driverId", input.driverId),
    handleId: nullableId("handleId", input.handleId),
    sensitivity: input.sensitivity ?? "NONE",
    eventType: input.eventType ?? "invoke",
    reasonCode: nullableId("reasonCode", input.reasonCode),
    error: input.error ?? null,
    args: input.args ?? {},
    resultSummary: input.resultSummary ?? null,
  };
}

/**
 * Ingest hygiene: credentials in args, resultSummary or error never reach the chain. With
 * "redact" each match becomes `[REDACTED:<kind>]` before hashing, so the stored trace shows
 * (and its HMAC proves) that a redaction happened and where; with "reject" the whole batch
 * is refused, naming the path and kind but never the value.
 */
export function scrubSecrets(trace: Trace, index: number, policy: "redact" | "reject"): Trace {
  const args = redactJson(trace.args, "args");
  const summary = trace.resultSummary === null ? null : redactJson(trace.resultSummary, "resultSummary");
  const error = trace.error === null ? null : redactText(trace.error);
  const found = [...args.redactions, ...(summary?.redactions ?? []), ...(error?.kinds.map((kind) => ({ path: "error", kind })) ?? [])];
  if (found.length === 0) return trace;
  if (policy === "reject") {
    const first = found[0]!;
    throw badUserInput(
      `input[${index}].${first.path} looks like a credential (${first.kind}); this gateway rejects traces carrying secrets.`,
      `input[${index}].${first.path}`,
    );
  }
  return {
    ...trace,
    args: args.value as JsonObject,
    resultSummary: summary ? (summary.value as JsonObject) : null,
    error: error ? error.text : null,
  };
}

/** Append a batch of traces; returns the stored records in chain order. */
export async function recordTraces(input: readonly TraceInput[], ctx: GatewayContext): Promise<TraceRow[]> {
  if (input.length === 0) throw badUserInput("input must contain at least one trace.", "input");
  if (input.length > MAX_BATCH) {
    throw badUserInput(`input carries ${input.length} traces; at most ${MAX_BATCH} per call.`, "input");
  }
  const seen = new Set<string>();
  const repeated = new Set<string>();
  const principals = ctx.viewer.principals;
  const encoded = input.map((item, i) => {
    const trace = scrubSecrets(toTrace(item, i), i, ctx.secretsInTraces);
    if (!principalInScope(principals, trace.principalId)) {
      throw new TracegateError("FORBIDDEN", `input[${i}].principalId is outside this API key's principal scope.`, {
        field: `input[${i}].principalId`,
      });
    }
    if (seen.has(trace.actionId)) repeated.add(trace.actionId);
    seen.add(trace.actionId);
    return encodeTrace(trace);
  });
  if (repeated.size > 0) {
    throw new TracegateError("DUPLICATE_ACTION_ID", `actionId repeated within the batch: ${[...repeated].slice(0, 10).join(", ")}`, {
      actionIds: [...repeated].slice(0, 100),
    });
  }
  try {
    return await ctx.stores.traces.append(encoded);
  } catch (e) {
    if (e instanceof DuplicateActionIdError) {
      throw new TracegateError("DUPLICATE_ACTION_ID", `actionId already recorded with different content: ${e.actionIds.slice(0, 10).join(", ")}`, {
        actionIds: e.actionIds.slice(0, 100),
      });
    }
    throw e;
  }
}

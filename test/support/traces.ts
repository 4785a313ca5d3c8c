/** Builders of TraceInput values for tests. */
import type { TraceInput } from "../gql/graphql.js";

const BASE_MS = Date.UTC(2026, 0, 1);

/** An ISO timestamp `minutes` after 2026-01-01T00:00Z, with optional extra microseconds. */
export function at(minutes: number, micros = 0): string {
  const iso = new Date(BASE_MS + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, "");
  return micros === 0 ? `${iso}+00:00` : `${iso}.${String(micros).padStart(6, "0")}+00:00`;
}

/** A successful invoke trace; override any field. */
export function invoke(actionId: string, overrides: Partial<TraceInput> = {}): TraceInput {
  return {
    actionId,
    capabilityId: "billing.list_invoices",
    principalId: "alice",
    tokenId: `tok-${actionId}`,
    invokedAt: at(0),
    responseMode: "SUMMARY",
    driverId: "billing-api",
    handleId: `h-${actionId}`,
    sensitivity: "NONE",
    eventType: "INVOKE",
    args: { limit: 10 },
    resultSummary: { fact_count: 1, row_count: 10, warning_count: 0, has_handle: true },
    ...overrides,
  };
}

/**
 * A policy denial, shaped as the reference kernel records one
 * (docs/reference-compatibility.md#event-shapes).
 */
export function deny(actionId: string, reasonCode: string, overrides: Partial<TraceInput> = {}): TraceInput {
  return invoke(actionId, {
    tokenId: "",
    driverId: "",
    handleId: null,
    args: {},
    resultSummary: null,
    eventType: "DENY",
    reasonCode,
    error: `Denied: ${reasonCode}`,
    ...overrides,
  });
}

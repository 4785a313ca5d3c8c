/**
 * OCSF 1.3.0 class 6003 "API Activity" events from traces, exactly as the reference maps them
 * (docs/reference-compatibility.md#ocsf-mapping), so SIEM pipelines built for weaver-kernel
 * keep working. Pure and order-preserving; `args` never leaves (the mapping does not carry it).
 */
import type { JsonObject, JsonValue } from "../chain/json.js";
import { parseTimestamp } from "../chain/time.js";

export const OCSF_VERSION = "1.3.0";
const CLASS_UID = 6003;

const ACTIVITY: Record<string, [number, string]> = { expand: [2, "Read"] };
const OTHER: [number, string] = [99, "Other"];

function str(v: JsonValue | undefined): string {
  return typeof v === "string" ? v : "";
}

/**
 * `time` in epoch milliseconds, truncated, from the trace's invoked_at: floor(µs / 1000), the
 * reference's truncation of seconds × 1000. Read with the same parser ingest used, so every
 * form ingest accepted maps (a naive time is UTC, a space separator, a comma fraction...); a
 * payload whose invoked_at no longer reads at all (an edited database) maps to 0 rather than
 * failing the whole page or export: verifyChain reports such a record.
 */
function epochMillis(invokedAt: string): bigint {
  let us: number;
  try {
    us = parseTimestamp(invokedAt);
  } catch {
    return 0n;
  }
  return BigInt(Math.floor(us / 1000));
}

/** One OCSF event from a trace's export object (its 16-key payload). */
export function traceToOcsf(trace: JsonObject): JsonObject {
  const eventType = str(trace.event_type) || "invoke";
  const [activityId, activityName] = ACTIVITY[eventType] ?? OTHER;
  const failed = trace.error !== null && trace.error !== undefined;
  const deny = eventType === "deny";
  const driver = str(trace.driver_id);
  return {
    activity_id: BigInt(activityId),
    activity_name: activityName,
    category_uid: 6n,
    category_name: "Application Activity",
    class_uid: BigInt(CLASS_UID),
    class_name: "API Activity",
    type_uid: BigInt(CLASS_UID * 100 + activityId),
    severity_id: deny ? 3n : 1n,
    severity: deny ? "Medium" : "Informational",
    status_id: failed ? 2n : 1n,
    status: failed ? "Failure" : "Success",
    status_detail: failed ? (trace.error as JsonValue) : null,
    time: epochMillis(str(trace.invoked_at)),
    metadata: {
      version: OCSF_VERSION,
      product: { name: "weaver-kernel", vendor_name: "Weaver" },
      extensions: [{ name: "aos", uid: "aos", version: "draft" }],
    },
    actor: { user: { uid: str(trace.principal_id) } },
    api: { operation: str(trace.capability_id), service: { name: driver === "" ? "weaver-kernel" : driver } },
    unmapped: {
      action_id: str(trace.action_id),
      token_id: str(trace.token_id),
      event_type: eventType,
      response_mode: str(trace.response_mode),
      sensitivity: str(trace.sensitivity) || "NONE",
      reason_code: trace.reason_code ?? null,
      handle_id: trace.handle_id ?? null,
      result_summary: trace.result_summary ?? null,
    },
  };
}

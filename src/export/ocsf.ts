/**
 * OCSF 1.3.0 class 6003 "API Activity" events from traces, in two mappings
 * (docs/reference-compatibility.md#ocsf-mapping):
 *
 * * `traceToOcsf` (the `ocsf` export format): valid against the OCSF 1.3.0 schema
 *   (github.com/ocsf/ocsf-schema at tag 1.3.0: events/application/api.json,
 *   events/base_event.json, objects/*.json, dictionary.json), with the chain position so a
 *   SIEM can deduplicate re-sent exports. Checked attribute by attribute in
 *   test/unit/export/ocsf-schema.test.ts.
 * * `traceToOcsfReference` (the `ocsf-reference` format and GraphQL `ocsf(mapping: REFERENCE)`): exactly
 *   the reference kernel's `trace_to_ocsf`, so SIEM pipelines built for weaver-kernel keep
 *   working. It lacks the required `src_endpoint` and so is not schema-valid.
 *
 * Both are pure and carry no `args`. Integers are bigints, so the lossless JSON writer
 * (pythonJsonDumps) and the Parquet writer keep them exact.
 */
import type { JsonObject, JsonValue } from "../chain/json.js";
import { parseTimestamp } from "../chain/time.js";

export const OCSF_VERSION = "1.3.0";
/** API Activity (events/application/api.json: category application = 6, uid 3). */
export const OCSF_CLASS_UID = 6003;
const CLASS_NAME = "API Activity";
const CATEGORY_UID = 6;
const CATEGORY_NAME = "Application Activity";

const ACTIVITY: Record<string, [number, string]> = { expand: [2, "Read"] };
const OTHER: [number, string] = [99, "Other"];

/** The service name of the kernel, as the reference names it when a trace has no driver. */
const KERNEL = "weaver-kernel";

/**
 * Largest value of an OCSF `integer_t` attribute (such as `metadata.sequence`): Security Lake
 * and the OCSF Parquet schemas store integer_t as a 32-bit int, long_t as 64-bit.
 */
export const OCSF_INTEGER_MAX = 2_147_483_647;

/**
 * Longest OCSF `string_t` value, in UTF-8 bytes (dictionary.json of 1.3.0: `max_len: 65535`,
 * "UTF-8 encoded byte sequence"). Identifiers stay far below it (1,024 bytes); an `error` may
 * not (65,536 characters).
 */
export const OCSF_STRING_MAX_BYTES = 65_535;

/** The longest prefix of `text` that is at most `maxBytes` in UTF-8, cut between code points. */
function utf8Prefix(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text, "utf8") <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    // A lone surrogate is written as U+FFFD (3 bytes).
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += ch.length;
  }
  return text.slice(0, end);
}

/** A lone UTF-16 surrogate: text that has no UTF-8 form. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * `text` as a `string_t` holds it: well-formed Unicode (a lone surrogate, which reference
 * records may carry in `error`, becomes U+FFFD, as a UTF-8 encoder writes it) of at most
 * OCSF_STRING_MAX_BYTES in UTF-8.
 */
export function ocsfString(text: string): string {
  return utf8Prefix(text, OCSF_STRING_MAX_BYTES).replace(LONE_SURROGATE, "\uFFFD");
}

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
export function ocsfTime(invokedAt: JsonValue | undefined): bigint {
  let us: number;
  try {
    us = parseTimestamp(str(invokedAt));
  } catch {
    return 0n;
  }
  return BigInt(Math.floor(us / 1000));
}

/** The classification, severity and status both mappings share (the reference's rules). */
function classified(trace: JsonObject) {
  const eventType = str(trace.event_type) || "invoke";
  const [activityId, activityName] = ACTIVITY[eventType] ?? OTHER;
  const failed = trace.error !== null && trace.error !== undefined;
  const deny = eventType === "deny";
  return { eventType, activityId, activityName, failed, deny, driver: str(trace.driver_id) };
}

/** The class and activity attributes both mappings open with, in the reference's key order. */
function classification(activityId: number, activityName: string): JsonObject {
  return {
    activity_id: BigInt(activityId),
    activity_name: activityName,
    category_uid: BigInt(CATEGORY_UID),
    category_name: CATEGORY_NAME,
    class_uid: BigInt(OCSF_CLASS_UID),
    class_name: CLASS_NAME,
    type_uid: BigInt(OCSF_CLASS_UID * 100 + activityId),
  };
}

/** The reference's `unmapped` object: the trace fields OCSF 6003 has no attribute for. */
function unmappedOf(trace: JsonObject, eventType: string): JsonObject {
  return {
    action_id: str(trace.action_id),
    token_id: str(trace.token_id),
    event_type: eventType,
    response_mode: str(trace.response_mode),
    sensitivity: str(trace.sensitivity) || "NONE",
    reason_code: trace.reason_code ?? null,
    handle_id: trace.handle_id ?? null,
    result_summary: trace.result_summary ?? null,
  };
}

/**
 * The reference's OCSF event of a trace's export object (its 16-key payload), byte for byte
 * once written with pythonJsonDumps: keys in the reference's order, `status_detail` null on
 * success, `metadata.product` weaver-kernel/Weaver and the draft "aos" extension, no
 * `src_endpoint` (so not valid against the 1.3.0 schema, which requires it).
 */
export function traceToOcsfReference(trace: JsonObject): JsonObject {
  const { eventType, activityId, activityName, failed, deny, driver } = classified(trace);
  return {
    ...classification(activityId, activityName),
    severity_id: deny ? 3n : 1n,
    severity: deny ? "Medium" : "Informational",
    status_id: failed ? 2n : 1n,
    status: failed ? "Failure" : "Success",
    status_detail: failed ? (trace.error as JsonValue) : null,
    time: ocsfTime(trace.invoked_at),
    metadata: {
      version: OCSF_VERSION,
      product: { name: KERNEL, vendor_name: "Weaver" },
      extensions: [{ name: "aos", uid: "aos", version: "draft" }],
    },
    actor: { user: { uid: str(trace.principal_id) } },
    api: { operation: str(trace.capability_id), service: { name: driver === "" ? KERNEL : driver } },
    unmapped: unmappedOf(trace, eventType),
  };
}

/**
 * The schema-valid OCSF 1.3.0 API Activity event of a trace's export object and its chain
 * position `seq` (docs/reference-compatibility.md#ocsf-mapping, "schema-valid mapping").
 * Against the reference's it adds `type_name`; `src_endpoint` (required: the kernel, the
 * service that made the call, `svc_name` "weaver-kernel"); `dst_endpoint` (the driver that
 * served it, when there is one); `metadata.uid` = action_id, `metadata.sequence` = seq (when
 * it fits OCSF's 32-bit integer_t; `unmapped.seq` always has it), `metadata.original_time`
 * = invoked_at as recorded (microseconds), `metadata.log_provider` "tracegate";
 * `status_code` = reason_code; `status_detail` = error as a string_t holds it (ocsfString:
 * cut to 65,535 UTF-8 bytes, lone surrogates as U+FFFD; the exact text then in
 * `unmapped.error`). It leaves out null attributes (`status_detail` on success: null is no
 * string_t) and the reference's claim of the draft "aos" extension (no extension attribute
 * is used). A trace without a principal (an expand) has the kernel as its actor
 * (`app_name`), since `actor` needs one of user, process, session, app... and an empty
 * user uid names nobody. `metadata.product` stays the reference's: weaver-kernel, which
 * recorded the trace, by the vendor name the reference gives itself.
 * @param seq the record's chain position (0-based, a safe integer).
 */
export function traceToOcsf(trace: JsonObject, seq: number): JsonObject {
  const { eventType, activityId, activityName, failed, deny, driver } = classified(trace);
  const principal = str(trace.principal_id);
  const reasonCode = trace.reason_code;
  const event: JsonObject = {
    ...classification(activityId, activityName),
    type_name: `${CLASS_NAME}: ${activityName}`,
    severity_id: deny ? 3n : 1n,
    severity: deny ? "Medium" : "Informational",
    status_id: failed ? 2n : 1n,
    status: failed ? "Failure" : "Success",
  };
  if (typeof reasonCode === "string") event.status_code = reasonCode;
  // An error a string_t cannot hold (too long, a lone surrogate) is cut or mended there;
  // unmapped.error then has it exactly.
  const error = failed && typeof trace.error === "string" ? trace.error : null;
  const detail = error === null ? null : ocsfString(error);
  if (detail !== null) event.status_detail = detail;
  event.time = ocsfTime(trace.invoked_at);
  const metadata: JsonObject = {
    version: OCSF_VERSION,
    product: { name: KERNEL, vendor_name: "Weaver" },
    uid: str(trace.action_id),
  };
  if (seq <= OCSF_INTEGER_MAX) metadata.sequence = BigInt(seq);
  if (typeof trace.invoked_at === "string") metadata.original_time = trace.invoked_at;
  metadata.log_provider = "tracegate";
  event.metadata = metadata;
  event.actor = principal === "" ? { app_name: KERNEL } : { user: { uid: principal } };
  event.api = { operation: str(trace.capability_id), service: { name: driver === "" ? KERNEL : driver } };
  event.src_endpoint = { svc_name: KERNEL };
  if (driver !== "") event.dst_endpoint = { svc_name: driver };
  const unmapped: JsonObject = { seq: BigInt(seq), ...unmappedOf(trace, eventType) };
  if (error !== null && detail !== error) unmapped.error = error;
  event.unmapped = unmapped;
  return event;
}

/**
 * What the forwarder sends: one event per exported record, each carrying its seq so a
 * collector can drop the repeats at-least-once delivery may bring.
 *
 * - `jsonl`: `{"seq": <n>, "trace": <export object>}` per line (application/x-ndjson). The
 *   export object is the /export jsonl line byte for byte (the reference's 16 keys,
 *   docs/reference-compatibility.md#the-16-keys); seq goes beside it, not into it, so it can
 *   never collide with a key a trace holds.
 * - `ocsf`: the OCSF API Activity event /export?format=ocsf writes, with `metadata.sequence`
 *   set to the seq (OCSF's Metadata `sequence` attribute: "the sequence number of the event
 *   ... to make the exact ordering of events unambiguous"), one per line. Parsed and written
 *   losslessly (src/chain/json.ts), so numbers stay as the gateway wrote them.
 * - `splunk-hec`: Splunk HTTP Event Collector events, JSON objects concatenated (one per
 *   line) and POSTed to /services/collector/event with `Authorization: Splunk <token>`:
 *   `{"time": <epoch seconds, microsecond fraction>, "host", "source", "sourcetype",
 *   ["index",] "event": <export object or OCSF event>, "fields": {"seq": "<n>"}}` (Splunk,
 *   "Format events for HTTP Event Collector": time in epoch seconds, `fields` an object of
 *   index-time fields; their values are strings, so seq is sent as its decimal text).
 */
import { isJsonObject, type JsonObject, parseJsonLossless, pythonJsonDumps } from "../chain/json.js";
import { parseIsoInstant } from "../chain/isoformat.js";
import type { SeqLine } from "./read.js";

export const FORWARD_FORMATS = ["jsonl", "ocsf", "splunk-hec"] as const;
export type ForwardFormat = (typeof FORWARD_FORMATS)[number];

export function isForwardFormat(value: string): value is ForwardFormat {
  return (FORWARD_FORMATS as readonly string[]).includes(value);
}

/** Splunk HEC metadata of every event (`index` only when given: else the token's default index). */
export interface HecMetadata {
  host: string;
  source: string;
  sourcetype: string;
  index?: string;
}

/** One event ready to send: its seq and its text (no newline). */
export interface OutEvent {
  seq: number;
  text: string;
}

/** `jsonl`: the export object beside its seq. */
export function jsonlEvent(record: SeqLine): string {
  return `{"seq": ${record.seq}, "trace": ${record.line}}`;
}

/** `ocsf`: the OCSF event with metadata.sequence = seq (a metadata object is added if missing). */
export function ocsfEvent(record: SeqLine): string {
  const event = parseJsonLossless(record.line);
  if (!isJsonObject(event)) throw new TypeError(`the gateway's OCSF event at seq ${record.seq} is not a JSON object`);
  const metadata = event.metadata;
  const target: JsonObject = metadata !== undefined && metadata !== null && isJsonObject(metadata) ? metadata : (Object.create(null) as JsonObject);
  // A bigint, so it is written as an integer (src/chain/json.ts: a number would be a float, 12.0).
  target.sequence = BigInt(record.seq);
  event.metadata = target;
  return pythonJsonDumps(event);
}

/** Epoch microseconds as HEC's `time`: decimal seconds with six fraction digits, e.g. 1767225600.000042. */
export function hecTime(us: bigint): string {
  const negative = us < 0n;
  const abs = negative ? -us : us;
  const text = `${abs / 1_000_000n}.${String(abs % 1_000_000n).padStart(6, "0")}`;
  return negative ? `-${text}` : text;
}

/**
 * The event's time in epoch microseconds: `invoked_at` of an export object, or `time` (epoch
 * milliseconds) of an OCSF event; null when it has neither (HEC then uses the arrival time).
 */
function timeOf(line: string, source: "jsonl" | "ocsf"): bigint | null {
  let value: unknown;
  try {
    value = (JSON.parse(line) as Record<string, unknown>)[source === "jsonl" ? "invoked_at" : "time"];
  } catch {
    return null;
  }
  if (source === "ocsf") return typeof value === "number" && Number.isSafeInteger(value) ? BigInt(value) * 1000n : null;
  if (typeof value !== "string") return null;
  try {
    return parseIsoInstant(value);
  } catch {
    return null;
  }
}

/** `splunk-hec`: one HEC event; `event` is the record's line untouched. */
export function hecEvent(record: SeqLine, source: "jsonl" | "ocsf", meta: HecMetadata): string {
  const time = timeOf(record.line, source);
  const s = JSON.stringify;
  return (
    "{" +
    (time === null ? "" : `"time": ${hecTime(time)}, `) +
    `"host": ${s(meta.host)}, "source": ${s(meta.source)}, "sourcetype": ${s(meta.sourcetype)}, ` +
    (meta.index === undefined ? "" : `"index": ${s(meta.index)}, `) +
    `"event": ${record.line}, "fields": {"seq": ${s(String(record.seq))}}}`
  );
}

/** How one format reads from the gateway and writes to the collector. */
export interface FormatPlan {
  /** The /export format read. */
  read: "jsonl" | "ocsf";
  /** The event text of a record. */
  event: (record: SeqLine) => string;
  /** Content-Type of a batch. */
  contentType: string;
  /** The Authorization scheme the collector token goes with. */
  authScheme: "Bearer" | "Splunk";
}

/**
 * The plan of `format`.
 * @param hecPayload for splunk-hec: whether `event` is the export object (`jsonl`) or the OCSF event
 */
export function formatPlan(format: ForwardFormat, hec: HecMetadata, hecPayload: "jsonl" | "ocsf" = "jsonl"): FormatPlan {
  switch (format) {
    case "jsonl":
      return { read: "jsonl", event: jsonlEvent, contentType: "application/x-ndjson", authScheme: "Bearer" };
    case "ocsf":
      return { read: "ocsf", event: ocsfEvent, contentType: "application/x-ndjson", authScheme: "Bearer" };
    case "splunk-hec":
      return { read: hecPayload, event: (r) => hecEvent(r, hecPayload, hec), contentType: "application/json", authScheme: "Splunk" };
  }
}

/** A batch's body: the events one per line, each ended by "\n" (NDJSON; HEC takes concatenated objects with whitespace between). */
export function batchBody(events: readonly OutEvent[]): string {
  let body = "";
  for (const e of events) body += `${e.text}\n`;
  return body;
}

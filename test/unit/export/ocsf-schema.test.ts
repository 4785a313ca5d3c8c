/**
 * The `ocsf` export is valid against OCSF 1.3.0, class 6003 "API Activity": every event of a
 * varied set of traces (invoke, expand, deny; with and without error; empty driver and
 * principal; unicode; integers past 2^53; an error longer than a string_t or with a lone
 * surrogate; a seq past the
 * 32-bit integer_t) is checked against the schema's requirements and constraints, written
 * down below from the schema itself (github.com/ocsf/ocsf-schema, tag 1.3.0; each rule names
 * its file), with the type of every value (dictionary.json `types`) and the consistency of
 * the enum ids with their names. The reference's mapping (`ocsf-reference`) fails it: it has
 * no src_endpoint and a null status_detail.
 */
import { describe, expect, it } from "vitest";
import { type JsonObject, type JsonValue, parseJsonLossless, pythonJsonDumps } from "../../../src/chain/json.js";
import { encodeTrace, type Trace } from "../../../src/chain/trace.js";
import { OCSF_STRING_MAX_BYTES, traceToOcsf, traceToOcsfReference } from "../../../src/export/ocsf.js";

// ---------------------------------------------------------------------------------------
// The schema, as far as the mapping uses it (OCSF 1.3.0)
// ---------------------------------------------------------------------------------------

/**
 * dictionary.json `types`: integer_t "Signed integer value" (32-bit where the schema is
 * stored as columns: Security Lake's and the OCSF Parquet schemas), long_t "8-byte long,
 * signed integer value", timestamp_t a long_t of epoch milliseconds, string_t "UTF-8 encoded
 * byte sequence" with max_len 65535; `object` (unmapped) any JSON object. An attribute whose
 * type is an object names that object.
 */
type Scalar = "integer_t" | "long_t" | "timestamp_t" | "string_t" | "object";
type Requirement = "required" | "recommended" | "optional";
interface Attribute {
  type: Scalar | { object: string };
  requirement: Requirement;
  /** Where the requirement is set (the type is from dictionary.json). */
  from: string;
  /** The enum the value must be in: id → caption. */
  enum?: Readonly<Record<string, string>>;
}
interface ObjectSpec {
  /** Attributes of the object the mapping may use (every one exists in the schema). */
  attributes: Readonly<Record<string, Attribute>>;
  /** `constraints.at_least_one`, with the file that sets it. */
  atLeastOne?: { names: readonly string[]; from: string };
}

const CLASSIFICATION = "includes/classification.json";
const BASE = "events/base_event.json";
const API_ACTIVITY = "events/application/api.json";

/** events/application/api.json (uid 3 in category application, 6) over events/base_event.json. */
const API_ACTIVITY_6003: ObjectSpec = {
  attributes: {
    // includes/classification.json, with the class's own activity enum (api.json) over the
    // base enum (0 Unknown, 99 Other).
    activity_id: {
      type: "integer_t",
      requirement: "required",
      from: `${CLASSIFICATION}, enum ${API_ACTIVITY}`,
      enum: { 0: "Unknown", 1: "Create", 2: "Read", 3: "Update", 4: "Delete", 99: "Other" },
    },
    activity_name: { type: "string_t", requirement: "optional", from: CLASSIFICATION },
    category_uid: { type: "integer_t", requirement: "required", from: `${CLASSIFICATION}, categories.json`, enum: { 6: "Application Activity" } },
    category_name: { type: "string_t", requirement: "optional", from: CLASSIFICATION },
    class_uid: { type: "integer_t", requirement: "required", from: `${CLASSIFICATION}, ${API_ACTIVITY}`, enum: { 6003: "API Activity" } },
    class_name: { type: "string_t", requirement: "optional", from: CLASSIFICATION },
    type_uid: { type: "long_t", requirement: "required", from: CLASSIFICATION },
    type_name: { type: "string_t", requirement: "optional", from: CLASSIFICATION },
    // events/base_event.json; the enums from dictionary.json.
    severity_id: {
      type: "integer_t",
      requirement: "required",
      from: `${BASE}, enum dictionary.json`,
      enum: { 0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical", 6: "Fatal", 99: "Other" },
    },
    severity: { type: "string_t", requirement: "optional", from: BASE },
    status_id: { type: "integer_t", requirement: "recommended", from: `${BASE}, enum dictionary.json`, enum: { 0: "Unknown", 1: "Success", 2: "Failure", 99: "Other" } },
    status: { type: "string_t", requirement: "recommended", from: BASE },
    status_code: { type: "string_t", requirement: "recommended", from: BASE },
    status_detail: { type: "string_t", requirement: "recommended", from: BASE },
    time: { type: "timestamp_t", requirement: "required", from: "includes/occurrence.json" },
    metadata: { type: { object: "metadata" }, requirement: "required", from: BASE },
    unmapped: { type: "object", requirement: "optional", from: BASE },
    // events/application/api.json
    actor: { type: { object: "actor" }, requirement: "required", from: API_ACTIVITY },
    api: { type: { object: "api" }, requirement: "required", from: `${API_ACTIVITY} (profile null: required without the cloud profile)` },
    src_endpoint: { type: { object: "network_endpoint" }, requirement: "required", from: API_ACTIVITY },
    dst_endpoint: { type: { object: "network_endpoint" }, requirement: "recommended", from: API_ACTIVITY },
    // profiles/cloud.json makes `cloud` required only in events that apply the cloud profile
    // (metadata.profiles); the mapping applies no profile, so `cloud` is not listed, and an
    // event carrying it (or metadata.profiles) fails as an unknown attribute.
  },
};

const OBJECTS: Readonly<Record<string, ObjectSpec>> = {
  // objects/metadata.json
  metadata: {
    attributes: {
      version: { type: "string_t", requirement: "required", from: "objects/metadata.json" },
      product: { type: { object: "product" }, requirement: "required", from: "objects/metadata.json" },
      uid: { type: "string_t", requirement: "optional", from: "objects/metadata.json" },
      sequence: { type: "integer_t", requirement: "optional", from: "objects/metadata.json" },
      original_time: { type: "string_t", requirement: "recommended", from: "objects/metadata.json" },
      log_provider: { type: "string_t", requirement: "recommended", from: "objects/metadata.json" },
      extensions: { type: { object: "extension[]" }, requirement: "optional", from: "objects/metadata.json" },
    },
  },
  // objects/product.json extends objects/_entity.json (name, uid; at_least_one of them).
  product: {
    attributes: {
      vendor_name: { type: "string_t", requirement: "required", from: "objects/product.json" },
      name: { type: "string_t", requirement: "recommended", from: "objects/_entity.json" },
      uid: { type: "string_t", requirement: "recommended", from: "objects/_entity.json" },
      version: { type: "string_t", requirement: "recommended", from: "objects/product.json" },
    },
    atLeastOne: { names: ["name", "uid"], from: "objects/_entity.json" },
  },
  // objects/extension.json (constraints {}: none)
  extension: {
    attributes: {
      name: { type: "string_t", requirement: "required", from: "objects/extension.json" },
      uid: { type: "string_t", requirement: "required", from: "objects/extension.json" },
      version: { type: "string_t", requirement: "required", from: "objects/extension.json" },
    },
  },
  // objects/actor.json
  actor: {
    attributes: {
      user: { type: { object: "user" }, requirement: "recommended", from: "objects/actor.json" },
      app_name: { type: "string_t", requirement: "optional", from: "objects/actor.json" },
      invoked_by: { type: "string_t", requirement: "optional", from: "objects/actor.json" },
    },
    atLeastOne: { names: ["process", "user", "invoked_by", "session", "app_name", "app_uid"], from: "objects/actor.json" },
  },
  // objects/user.json extends objects/_entity.json
  user: {
    attributes: {
      uid: { type: "string_t", requirement: "recommended", from: "objects/user.json" },
      name: { type: "string_t", requirement: "recommended", from: "objects/user.json" },
    },
    atLeastOne: { names: ["account", "name", "uid"], from: "objects/user.json" },
  },
  // objects/api.json
  api: {
    attributes: {
      operation: { type: "string_t", requirement: "required", from: "objects/api.json" },
      service: { type: { object: "service" }, requirement: "optional", from: "objects/api.json" },
    },
  },
  // objects/service.json extends objects/_entity.json
  service: {
    attributes: {
      name: { type: "string_t", requirement: "recommended", from: "objects/_entity.json" },
      uid: { type: "string_t", requirement: "recommended", from: "objects/_entity.json" },
    },
    atLeastOne: { names: ["name", "uid"], from: "objects/_entity.json" },
  },
  // objects/network_endpoint.json extends objects/endpoint.json
  network_endpoint: {
    attributes: {
      svc_name: { type: "string_t", requirement: "recommended", from: "objects/network_endpoint.json" },
      name: { type: "string_t", requirement: "recommended", from: "objects/endpoint.json" },
      uid: { type: "string_t", requirement: "recommended", from: "objects/endpoint.json" },
      hostname: { type: "string_t", requirement: "recommended", from: "objects/endpoint.json" },
    },
    atLeastOne: {
      names: ["ip", "uid", "name", "hostname", "svc_name", "instance_uid", "interface_uid", "interface_name"],
      from: "objects/network_endpoint.json",
    },
  },
};

const INT32 = [-(2n ** 31n), 2n ** 31n - 1n] as const;
const INT64 = [-(2n ** 63n), 2n ** 63n - 1n] as const;

/** Every violation of `value` against `spec`, as "path: problem". */
function violations(value: JsonValue, spec: ObjectSpec, path: string): string[] {
  const out: string[] = [];
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [`${path}: not an object`];
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(spec.attributes, key)) out.push(`${path}.${key}: not an attribute of this object`);
  }
  for (const [name, attribute] of Object.entries(spec.attributes)) {
    const v = value[name];
    const at = `${path}.${name}`;
    if (v === undefined) {
      if (attribute.requirement === "required") out.push(`${at}: required (${attribute.from}) but missing`);
      continue;
    }
    out.push(...typeViolations(v, attribute, at));
  }
  if (spec.atLeastOne && !spec.atLeastOne.names.some((n) => value[n] !== undefined && value[n] !== null)) {
    out.push(`${path}: needs at least one of ${spec.atLeastOne.names.join(", ")} (${spec.atLeastOne.from})`);
  }
  return out;
}

function typeViolations(v: JsonValue, attribute: Attribute, at: string): string[] {
  const { type } = attribute;
  if (typeof type === "object") {
    if (type.object.endsWith("[]")) {
      if (!Array.isArray(v)) return [`${at}: not an array`];
      return v.flatMap((item, i) => violations(item, OBJECTS[type.object.slice(0, -2)]!, `${at}[${i}]`));
    }
    return violations(v, OBJECTS[type.object]!, at);
  }
  switch (type) {
    case "integer_t":
    case "long_t":
    case "timestamp_t": {
      // Integers are bigints in the mapping, so the writers keep them exact.
      if (typeof v !== "bigint") return [`${at}: ${type} must be an integer (bigint), got ${typeof v} ${String(v)}`];
      const [min, max] = type === "integer_t" ? INT32 : INT64;
      if (v < min || v > max) return [`${at}: ${v} outside ${type}`];
      if (attribute.enum && !Object.hasOwn(attribute.enum, String(v))) return [`${at}: ${v} is not in the enum`];
      return [];
    }
    case "string_t":
      if (typeof v !== "string") return [`${at}: string_t must be a string, got ${v === null ? "null" : typeof v}`];
      if (Buffer.byteLength(v, "utf8") > OCSF_STRING_MAX_BYTES) return [`${at}: longer than string_t's max_len 65535`];
      if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(v)) return [`${at}: not UTF-8 (a lone surrogate)`];
      return [];
    case "object":
      return v !== null && typeof v === "object" && !Array.isArray(v) ? [] : [`${at}: not an object`];
  }
}

/** The cross-attribute rules: enum names match their ids, type_uid and type_name follow. */
function consistency(event: JsonObject): string[] {
  const out: string[] = [];
  const a = API_ACTIVITY_6003.attributes;
  for (const [id, name] of [["activity_id", "activity_name"], ["category_uid", "category_name"], ["class_uid", "class_name"], ["severity_id", "severity"], ["status_id", "status"]] as const) {
    if (event[id] === undefined || event[name] === undefined) continue;
    const caption = a[id]!.enum![String(event[id])];
    if (event[name] !== caption) out.push(`${name}: ${String(event[name])} is not the caption of ${id} ${String(event[id])} (${caption})`);
  }
  if (typeof event.class_uid === "bigint" && typeof event.activity_id === "bigint" && event.type_uid !== event.class_uid * 100n + event.activity_id) {
    out.push(`type_uid: ${String(event.type_uid)} is not class_uid * 100 + activity_id`);
  }
  if (event.type_name !== undefined && event.type_name !== `${String(event.class_name)}: ${String(event.activity_name)}`) {
    out.push(`type_name: ${String(event.type_name)} is not "<class>: <activity>"`);
  }
  const metadata = event.metadata as JsonObject | undefined;
  if (metadata?.version !== "1.3.0") out.push(`metadata.version: ${String(metadata?.version)} is not 1.3.0`);
  return out;
}

const validate = (event: JsonObject) => [...violations(event, API_ACTIVITY_6003, "event"), ...consistency(event)];

// ---------------------------------------------------------------------------------------
// Traces
// ---------------------------------------------------------------------------------------

const base: Trace = {
  actionId: "act-1",
  capabilityId: "crm.read_contacts",
  principalId: "alice",
  tokenId: "tok-1",
  invokedAtUs: Date.UTC(2026, 2, 3, 4, 5, 6) * 1000 + 789_123,
  responseMode: "summary",
  driverId: "crm-api",
  handleId: "h-1",
  sensitivity: "PII",
  eventType: "invoke",
  reasonCode: null,
  error: null,
  args: { canary: "CANARY-7f3a", limit: 10n },
  resultSummary: { row_count: 3n, ratio: 0.5 },
};
const payloadOf = (t: Partial<Trace>) => parseJsonLossless(encodeTrace({ ...base, ...t }).payload) as JsonObject;

const longError = "é".repeat(40_000); // 80,000 bytes: past string_t's max_len
const CASES: [string, Partial<Trace>, number][] = [
  ["invoke, success", {}, 0],
  ["invoke, failed, no driver", { error: "No drivers available.", driverId: "", handleId: null, resultSummary: null }, 1],
  ["invoke, failed with an empty error", { error: "", driverId: "" }, 2],
  ["deny with a reason code", { eventType: "deny", tokenId: "", driverId: "", args: {}, error: "Denied: missing_role", reasonCode: "missing_role", sensitivity: "NONE" }, 3],
  ["deny without a reason code", { eventType: "deny", tokenId: "", driverId: "", args: {}, error: "Denied", sensitivity: "NONE" }, 4],
  ["expand without a principal", { eventType: "expand", principalId: "", tokenId: "", driverId: "", sensitivity: "NONE" }, 5],
  ["unicode everywhere", { actionId: "act-ü-😀", principalId: "équipe/ßob", capabilityId: "日本.読む", driverId: "drv-€", error: "échec \u2028 😀" }, 6],
  ["integers past 2^53 and a float", { resultSummary: { big: 123456789012345678901234567890n, neg: -(2n ** 70n), f: 100.0 } }, 7],
  ["an error longer than a string_t", { error: longError }, 8],
  ["an error with a lone surrogate (reference records may hold one)", { error: "bad \ud800 byte" }, 10],
  ["seq at the top of integer_t", {}, 2 ** 31 - 1],
  ["seq past integer_t", {}, 2 ** 40],
  ["before the epoch", { invokedAtUs: -1_500_000 }, 9],
];

describe("the ocsf export against OCSF 1.3.0 API Activity (6003)", () => {
  it.each(CASES)("%s: schema-valid", (_, t, seq) => {
    const event = traceToOcsf(payloadOf(t), seq);
    expect(validate(event)).toEqual([]);
    // The written line reads back as the same event (lossless JSON, bigints exact).
    expect(parseJsonLossless(pythonJsonDumps(event))).toEqual(event);
  });

  it.each(CASES)("%s: carries the trace's identity, time and values exactly", (_, t, seq) => {
    const trace = payloadOf(t);
    const event = traceToOcsf(trace, seq);
    const metadata = event.metadata as JsonObject;
    const unmapped = event.unmapped as JsonObject;
    expect(metadata.uid).toBe(trace.action_id);
    expect(metadata.original_time).toBe(trace.invoked_at);
    expect(metadata.sequence).toBe(seq <= 2 ** 31 - 1 ? BigInt(seq) : undefined);
    expect(unmapped.seq).toBe(BigInt(seq));
    const us = BigInt((t.invokedAtUs ?? base.invokedAtUs));
    expect(event.time).toBe(us >= 0n ? us / 1000n : (us - 999n) / 1000n); // floor
    expect(unmapped.result_summary).toEqual(trace.result_summary);
    const error = trace.error as string | null;
    if (error === null) expect(event).not.toHaveProperty("status_detail");
    else if (error.includes("\ud800")) expect([event.status_detail, unmapped.error]).toEqual([error.replace("\ud800", "\ufffd"), error]);
    else if (Buffer.byteLength(error) <= OCSF_STRING_MAX_BYTES) expect([event.status_detail, unmapped.error]).toEqual([error, undefined]);
    else {
      expect(error.startsWith(event.status_detail as string)).toBe(true);
      expect(Buffer.byteLength(event.status_detail as string)).toBeGreaterThan(OCSF_STRING_MAX_BYTES - 4);
      expect(unmapped.error).toBe(error);
    }
    expect(pythonJsonDumps(event)).not.toContain("CANARY");
  });

  it("names the kernel as source, the driver as destination and the principal as actor", () => {
    expect(traceToOcsf(payloadOf({}), 0)).toMatchObject({
      src_endpoint: { svc_name: "weaver-kernel" },
      dst_endpoint: { svc_name: "crm-api" },
      actor: { user: { uid: "alice" } },
      api: { operation: "crm.read_contacts", service: { name: "crm-api" } },
      metadata: { product: { name: "weaver-kernel", vendor_name: "Weaver" }, log_provider: "tracegate" },
    });
    const expand = traceToOcsf(payloadOf(CASES[5]![1]), 5);
    expect(expand).not.toHaveProperty("dst_endpoint");
    expect(expand.actor).toEqual({ app_name: "weaver-kernel" });
    expect(traceToOcsf(payloadOf(CASES[3]![1]), 3)).toMatchObject({ status_code: "missing_role", severity_id: 3n, status_id: 2n });
  });

  it("the reference mapping (ocsf-reference) is not schema-valid, and the check says why", () => {
    const problems = validate(traceToOcsfReference(payloadOf({})));
    expect(problems).toContain("event.src_endpoint: required (events/application/api.json) but missing");
    expect(problems).toContain("event.status_detail: string_t must be a string, got null");
    expect(validate(traceToOcsfReference(payloadOf(CASES[5]![1])))).toContain("event.src_endpoint: required (events/application/api.json) but missing");
  });

  it("the check catches what it claims to: a wrong enum name, type_uid, type, size or missing object", () => {
    const good = () => traceToOcsf(payloadOf({}), 1);
    const broken: [string, (e: JsonObject) => void, string][] = [
      ["activity name", (e) => (e.activity_name = "Read"), "activity_name: Read is not the caption of activity_id 99 (Other)"],
      ["type_uid", (e) => (e.type_uid = 600302n), "type_uid: 600302 is not class_uid * 100 + activity_id"],
      ["time as a float", (e) => (e.time = 1.5), "event.time: timestamp_t must be an integer (bigint), got number 1.5"],
      ["sequence past int32", (e) => ((e.metadata as JsonObject).sequence = 2n ** 31n), "event.metadata.sequence: 2147483648 outside integer_t"],
      ["no vendor", (e) => delete ((e.metadata as JsonObject).product as JsonObject).vendor_name, "event.metadata.product.vendor_name: required (objects/product.json) but missing"],
      ["empty actor", (e) => (e.actor = {}), "event.actor: needs at least one of process, user, invoked_by, session, app_name, app_uid (objects/actor.json)"],
      ["empty endpoint", (e) => (e.src_endpoint = {}), "event.src_endpoint: needs at least one of ip, uid, name, hostname, svc_name, instance_uid, interface_uid, interface_name (objects/network_endpoint.json)"],
      ["unknown attribute", (e) => (e.cloud = { provider: "x" }), "event.cloud: not an attribute of this object"],
      ["severity id", (e) => (e.severity_id = 7n), "event.severity_id: 7 is not in the enum"],
      ["long status detail", (e) => (e.status_detail = "x".repeat(65_536)), "event.status_detail: longer than string_t's max_len 65535"],
      ["lone surrogate", (e) => (e.status_detail = "a\udc00"), "event.status_detail: not UTF-8 (a lone surrogate)"],
    ];
    for (const [name, breakIt, problem] of broken) {
      const event = good();
      breakIt(event);
      expect(validate(event), name).toContain(problem);
    }
  });
});

/**
 * The reference's OCSF mapping (docs/reference-compatibility.md#ocsf-mapping and the OCSF items of
 * docs/reference-compatibility.md#tamper-checklist): a golden event, failure, deny and expand,
 * millisecond time, and args never leaking. Plus pythonJsonDumps against CPython, since exports
 * for the reference's tools are written with it.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { type JsonObject, parseJsonLossless, pythonJsonDumps } from "../../../src/chain/json.js";
import { encodeTrace, exportTrace, type Trace } from "../../../src/chain/trace.js";
import { traceToOcsfReference } from "../../../src/export/ocsf.js";

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
const ocsf = (t: Partial<Trace>) => traceToOcsfReference(parseJsonLossless(encodeTrace({ ...base, ...t }).payload) as JsonObject);

describe("traceToOcsfReference", () => {
  it("maps a successful PII invoke to the golden event, keys in the reference's order", () => {
    const event = ocsf({});
    expect(Object.keys(event)).toEqual([
      "activity_id", "activity_name", "category_uid", "category_name", "class_uid", "class_name", "type_uid",
      "severity_id", "severity", "status_id", "status", "status_detail", "time", "metadata", "actor", "api", "unmapped",
    ]);
    expect(pythonJsonDumps(event)).toBe(
      '{"activity_id": 99, "activity_name": "Other", "category_uid": 6, "category_name": "Application Activity", ' +
        '"class_uid": 6003, "class_name": "API Activity", "type_uid": 600399, "severity_id": 1, "severity": "Informational", ' +
        '"status_id": 1, "status": "Success", "status_detail": null, "time": 1772510706789, ' +
        '"metadata": {"version": "1.3.0", "product": {"name": "weaver-kernel", "vendor_name": "Weaver"}, ' +
        '"extensions": [{"name": "aos", "uid": "aos", "version": "draft"}]}, "actor": {"user": {"uid": "alice"}}, ' +
        '"api": {"operation": "crm.read_contacts", "service": {"name": "crm-api"}}, "unmapped": {"action_id": "act-1", ' +
        '"token_id": "tok-1", "event_type": "invoke", "response_mode": "summary", "sensitivity": "PII", "reason_code": null, ' +
        '"handle_id": "h-1", "result_summary": {"ratio": 0.5, "row_count": 3}}}',
    );
  });

  it("maps a failure to Failure/2 and an empty driver to the service name weaver-kernel", () => {
    const event = ocsf({ error: "driver exploded", driverId: "" });
    expect([event.status_id, event.status, event.status_detail]).toEqual([2n, "Failure", "driver exploded"]);
    expect(event.severity_id).toBe(1n);
    expect((event.api as JsonObject).service).toEqual({ name: "weaver-kernel" });
  });

  it("gives a deny severity 3 and an expand Read/2", () => {
    expect(ocsf({ eventType: "deny", error: "Denied", reasonCode: "missing_role" })).toMatchObject({ severity_id: 3n, severity: "Medium", activity_id: 99n, type_uid: 600399n });
    expect(ocsf({ eventType: "expand" })).toMatchObject({ activity_id: 2n, activity_name: "Read", type_uid: 600302n });
  });

  it("keeps time in epoch milliseconds, truncated", () => {
    expect(ocsf({ invokedAtUs: 1_000_999 }).time).toBe(1_000n);
    expect(ocsf({ invokedAtUs: 5_000_000 }).time).toBe(5_000n);
  });

  it("never carries args: a canary in args does not appear", () => {
    expect(pythonJsonDumps(ocsf({}))).not.toContain("CANARY");
    expect(exportTrace(base).args).toMatchObject({ canary: "CANARY-7f3a" });
  });
});

describe("pythonJsonDumps", () => {
  it("writes what CPython's json.dumps writes", () => {
    const values = [
      { b: 1n, a: [1.0, "é\u2028\u0000", null, true], c: { z: 100000000000000000000n, y: -0.0, x: 1e-7, w: 1e22 } },
      [],
      {},
      "\ud83d\ude00 \u007f \"quoted\" \\",
    ];
    const text = JSON.stringify(values.map((v) => pythonJsonDumps(v as never)));
    const script = `import json,sys
vals=[${values.map((v) => `json.loads(${JSON.stringify(pythonJsonDumps(v as never))})`).join(",")}]
print(json.dumps([json.dumps(v) for v in vals]))`;
    const python = execFileSync("python3", ["-c", script], { encoding: "utf8" }).trim();
    expect(JSON.parse(python)).toEqual(JSON.parse(text));
  });
});

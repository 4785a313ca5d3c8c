/**
 * The forwarder's event formats (src/forward/formats.ts) and its small parsers: what a
 * collector receives for one exported record, seq in every format, the record's text kept.
 */
import { describe, expect, it } from "vitest";
import { parseListen } from "../../../src/cli/forward.js";
import { ForwardError } from "../../../src/forward/errors.js";
import { formatPlan, hecEvent, hecTime, jsonlEvent, ocsfEvent } from "../../../src/forward/formats.js";
import { ForwardMetrics } from "../../../src/forward/metrics.js";

const TRACE = '{"action_id": "a-1", "invoked_at": "2026-11-22T09:00:00.000042+00:00", "args": {"f": 100.0, "big": 1152921504606846976}}';
const META = { host: "gw-1", source: "tracegate", sourcetype: "tracegate:trace" };

describe("forward formats", () => {
  it("jsonl: the export object untouched beside its seq", () => {
    expect(jsonlEvent({ seq: 42, line: TRACE })).toBe(`{"seq": 42, "trace": ${TRACE}}`);
  });

  it("ocsf: every byte as the gateway wrote it (the event names its seq itself)", () => {
    const line = '{"class_uid": 6003, "time": 1795338000000, "metadata": {"version": "1.3.0", "x": 100.0, "sequence": 7}, "unmapped": {"seq": 7, "n": 1152921504606846976}}';
    expect(ocsfEvent({ seq: 7, line })).toBe(line);
  });

  it("hecTime: epoch seconds with the microseconds as six fraction digits", () => {
    expect(hecTime(1_795_338_000_000_042n)).toBe("1795338000.000042");
    expect(hecTime(0n)).toBe("0.000000");
    expect(hecTime(-1n)).toBe("-0.000001");
  });

  it("splunk-hec: time from invoked_at (or the OCSF time), metadata, the event untouched, fields.seq as text", () => {
    expect(hecEvent({ seq: 9, line: TRACE }, "jsonl", { ...META, index: "audit" })).toBe(
      `{"time": 1795338000.000042, "host": "gw-1", "source": "tracegate", "sourcetype": "tracegate:trace", "index": "audit", "event": ${TRACE}, "fields": {"seq": "9"}}`,
    );
    const ocsf = '{"time": 1795338000123, "class_uid": 6003}';
    expect(hecEvent({ seq: 3, line: ocsf }, "ocsf", META)).toBe(
      `{"time": 1795338000.123000, "host": "gw-1", "source": "tracegate", "sourcetype": "tracegate:trace", "event": ${ocsf}, "fields": {"seq": "3"}}`,
    );
    // No readable time: left out, HEC stamps the arrival time.
    expect(hecEvent({ seq: 4, line: '{"invoked_at": "yesterday"}' }, "jsonl", META)).toMatch(/^\{"host": /);
    // Metadata is JSON-escaped.
    expect(hecEvent({ seq: 5, line: "{}" }, "jsonl", { ...META, host: 'a"b' })).toContain('"host": "a\\"b"');
  });

  it("plans: what each format reads and how it authenticates", () => {
    expect(formatPlan("jsonl", META)).toMatchObject({ read: "jsonl", contentType: "application/x-ndjson", authScheme: "Bearer" });
    expect(formatPlan("ocsf", META)).toMatchObject({ read: "ocsf", authScheme: "Bearer" });
    expect(formatPlan("splunk-hec", META, "ocsf")).toMatchObject({ read: "ocsf", contentType: "application/json", authScheme: "Splunk" });
  });

  it("--metrics-listen: host:port, IPv6 in brackets; anything else a usage error", () => {
    expect(parseListen("127.0.0.1:9464")).toEqual({ host: "127.0.0.1", port: 9464 });
    expect(parseListen("[::1]:0")).toEqual({ host: "::1", port: 0 });
    for (const bad of ["9464", "host:", "host:99999", "::1:80"]) {
      expect(() => parseListen(bad)).toThrow(ForwardError);
    }
  });

  it("lag: newest matching seq minus acknowledged seq, never negative, 0 when nothing matches", () => {
    const m = new ForwardMetrics();
    expect(m.lagSeqs).toBe(0);
    m.setGatewayLast(99);
    expect(m.lagSeqs).toBe(100);
    m.setAcked(89);
    expect(m.lagSeqs).toBe(10);
    m.setGatewayLast(95); // an older answer does not lower the head
    expect(m.lagSeqs).toBe(10);
    m.setAcked(99);
    expect(m.lagSeqs).toBe(0);
  });
});

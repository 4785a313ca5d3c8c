/**
 * The console reads responses exactly: what its trace detail shows (args, result summary,
 * OCSF) is what the gateway sent, numbers included (100.0 stays 100.0, 750727362669608961 is
 * not rounded to 750727362669609000 as response.json() would).
 */
import { describe, expect, it } from "vitest";
import { readJson } from "../../../console/src/api.js";
import { prettyJson } from "../../../console/src/dom.js";

describe("console exact JSON", () => {
  const response = `{"data":{"trace":{"seq":13,"args":{"accountId":750727362669608961,"ratio":100.0,"neg":-0.0,"tiny":1e-07,"x":12.5},"resultSummary":{"n":9007199254740993}}}}`;

  it("keeps numbers JavaScript would change as their digits, and the rest as numbers", () => {
    const body = readJson(response) as { data: { trace: { seq: unknown; args: Record<string, unknown> } } };
    expect(body.data.trace.seq).toBe(13);
    expect(body.data.trace.args.x).toBe(12.5);
    expect(String(body.data.trace.args.accountId)).toBe("750727362669608961");
  });

  it("shows args and result summary exactly as sent", () => {
    const trace = (readJson(response) as { data: { trace: { args: unknown; resultSummary: unknown } } }).data.trace;
    expect(prettyJson(trace.args)).toBe(
      ['{', '  "accountId": 750727362669608961,', '  "ratio": 100.0,', '  "neg": -0.0,', '  "tiny": 1e-07,', '  "x": 12.5', '}'].join("\n"),
    );
    expect(prettyJson(trace.resultSummary)).toContain('"n": 9007199254740993');
  });
});

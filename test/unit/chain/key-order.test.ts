/**
 * withDocumentKeyOrder (src/chain/key-order.ts): a parsed object keeps its text's key order for
 * the serializers that keep insertion order, even for array-index keys ("0", "17"), which a
 * JavaScript object lists first. Checked against CPython: for seeded random JSON texts
 * (nested objects and arrays, index and other keys, repeated keys), pythonJsonDumps and
 * pythonJsonIndent must print what `json.dumps(json.loads(text))` and `indent=2` print, while
 * the canonical form the chain hashes stays sorted.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { canonicalJson, parseJsonLossless, pythonJsonDumps } from "../../../src/chain/json.js";
import { withDocumentKeyOrder } from "../../../src/chain/key-order.js";
import { pythonJsonIndent } from "../../../src/export/formats.js";
import { seededRandom } from "../../support/random.js";


/** A JSON text written by hand (so keys repeat and come in any order), `depth` levels deep. */
function text(rnd: () => number, depth: number): string {
  const keys = ["0", "1", "17", "4294967294", "4294967295", "01", "-1", "a", "B", "\u00e9", "\\u0000", " "];
  const r = rnd();
  if (depth === 0 || r < 0.3) return [`1`, `2.50`, `"s,]}:"`, `null`, `true`, `NaN`, `-0.0`, `18446744073709551617`][Math.floor(rnd() * 8)]!;
  if (r < 0.5) return `[${Array.from({ length: Math.floor(rnd() * 4) }, () => text(rnd, depth - 1)).join(", ")}]`;
  const n = Math.floor(rnd() * 6);
  return `{${Array.from({ length: n }, () => `"${keys[Math.floor(rnd() * keys.length)]}": ${text(rnd, depth - 1)}`).join(",\n ")}}`;
}

describe("withDocumentKeyOrder", () => {
  it("prints keys in the text's order, as CPython's json.dumps of json.loads does", () => {
    const rnd = seededRandom(7);
    const texts = Array.from({ length: 300 }, () => `{"top": ${text(rnd, 4)}, "5": ${text(rnd, 3)}}`);
    const python = spawnSync(
      "python3",
      ["-c", "import json, sys\nfor t in json.load(sys.stdin):\n    v = json.loads(t)\n    print(json.dumps([json.dumps(v), json.dumps(v, indent=2)]))"],
      { input: JSON.stringify(texts), encoding: "utf8" },
    );
    expect(python.status, python.stderr).toBe(0);
    const expected = python.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as [string, string]);
    let reordered = 0;
    texts.forEach((t, i) => {
      const plain = parseJsonLossless(t);
      const ordered = withDocumentKeyOrder(parseJsonLossless(t), t);
      expect([pythonJsonDumps(ordered), pythonJsonIndent(ordered, 2)], t).toEqual(expected[i]);
      expect(canonicalJson(ordered)).toBe(canonicalJson(plain));
      if (pythonJsonDumps(plain) !== expected[i]![0]) reordered++;
    });
    // Without it, many of these texts would print in another order.
    expect(reordered).toBeGreaterThan(100);
  });

  it("leaves a text without array-index keys alone", () => {
    const t = '{"b": {"a": 1}, "a": [{"y": 2, "x": 1}]}';
    const v = withDocumentKeyOrder(parseJsonLossless(t), t);
    expect(pythonJsonDumps(v)).toBe(t);
    expect(Object.getOwnPropertySymbols(v)).toEqual([]);
  });
});

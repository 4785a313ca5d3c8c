import { spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  canonicalJson,
  compareCodePoints,
  isJsonObject,
  parseJsonLossless,
  pythonFloatRepr,
  type JsonObject,
  type JsonValue,
} from "../../../src/chain/json.js";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/** Deep equality on the Python value model: Object.is for floats (so -0 !== 0, NaN === NaN), === for bigints. */
function sameJson(a: JsonValue, b: JsonValue): boolean {
  if (typeof a === "number" || typeof b === "number") return Object.is(a, b);
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameJson(x, b[i] as JsonValue));
  }
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => sameJson(a[k] as JsonValue, b[k] as JsonValue));
}

/** Code-point comparison by brute force: for..of yields code points, lone surrogates as themselves (= Python str). */
function referenceCompare(a: string, b: string): number {
  const ca = Array.from(a, (c) => c.codePointAt(0) as number);
  const cb = Array.from(b, (c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    if (ca[i] !== cb[i]) return (ca[i] as number) - (cb[i] as number);
  }
  return ca.length - cb.length;
}


/** Valid float lexemes for x written in many non-canonical ways (Python must still see the same float). */
function messyFloat(x: number, rnd: () => number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (Object.is(x, -0)) return ["-0.0", "-0e0", "-0E+00", "-0.000e-5"][Math.floor(rnd() * 4)] as string;
  let s: string;
  switch (Math.floor(rnd() * 5)) {
    case 0:
      s = x.toPrecision(17);
      break;
    case 1:
      s = x.toExponential().toUpperCase();
      break;
    case 2:
      s = String(x);
      break;
    case 3:
      s = x.toExponential(20);
      break;
    default:
      s = pythonFloatRepr(x);
  }
  // "10000000000000000" (toPrecision(17) of 1e16) would be an int for Python: force a float lexeme.
  return /[.eE]/.test(s) ? s : s + ".0";
}

/** A JSON text for v with random key order, whitespace, raw non-ASCII and alternative escapes. */
function messyJson(v: JsonValue, rnd: () => number): string {
  const ws = (): string => [" ", "", "\n", "\t ", "\r\n"][Math.floor(rnd() * 5)] as string;
  const str = (s: string): string => {
    const plain = JSON.stringify(s); // raw non-ASCII; lone surrogates as \udxxx
    if (rnd() < 0.5) return plain;
    // Uppercase \u escapes for everything non-ASCII and an escaped "/".
    return plain.replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")).replace(/\//g, "\\/");
  };
  if (v === null || typeof v === "boolean") return String(v);
  if (typeof v === "string") return str(v);
  if (typeof v === "bigint") return v === 0n && rnd() < 0.5 ? "-0" : v.toString();
  if (typeof v === "number") return messyFloat(v, rnd);
  if (Array.isArray(v)) return "[" + ws() + v.map((x) => messyJson(x, rnd)).join(ws() + "," + ws()) + ws() + "]";
  const keys = Object.keys(v);
  for (let i = keys.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [keys[i], keys[j]] = [keys[j] as string, keys[i] as string];
  }
  const members = keys.map((k) => ws() + str(k) + ws() + ":" + ws() + messyJson(v[k] as JsonValue, rnd));
  // Sometimes a duplicate key whose earlier value must be discarded (Python keeps the last).
  if (keys.length > 0 && rnd() < 0.3) members.unshift(str(keys[0] as string) + ":" + '{"dup":[1,2.5]}');
  return "{" + members.join(",") + ws() + "}";
}

// ---------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------

/** Any UTF-16 code unit, so lone surrogates appear. */
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
/** Units that stress code-point ordering and escaping. */
const trickyUnit = fc.constantFrom(
  "a", "A", "/", '"', "\\", "\u0000", "\u001f", "\u007f", "\u0080", "\u00e9",
  "\ud800", "\udbff", "\udc00", "\udfff", "\ud83d", "\ude80", "\ue000", "\ufffd", "\uffff",
);
const specialStrings = fc.constantFrom(
  "", "Alpha", "alpha", "\uFFFD", "\u{1F680}", "\uD800", "\u007f", "/", "__proto__", "constructor",
  "NaN", "Infinity", "-Infinity", "E-00000000", "\u2028\u2029",
);
const stringArb = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.string({ unit: anyCodeUnit }),
  fc.string({ unit: trickyUnit }),
  specialStrings,
);
const specialDoubles = fc.constantFrom(
  100, 1e-5, 1e-7, 0.0001, 2 ** 60, -0, 0, 0.1, 0.1 + 0.2, 1e15, 1e16, 1e21, 1e22, 12.5,
  1.2345678901234568e20, 5e-324, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 2, -1.5e-10,
);
const leafArb: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  stringArb,
  fc.bigInt(),
  fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }),
  fc.double(), // includes NaN, ±Infinity and -0
  specialDoubles,
);
const { value: jsonArb } = fc.letrec<{ value: JsonValue; array: JsonValue[]; object: JsonObject }>((tie) => ({
  value: fc.oneof({ depthSize: "small", maxDepth: 4 }, leafArb, tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 5 }),
  object: fc.dictionary(stringArb, tie("value"), { maxKeys: 5 }),
}));

// ---------------------------------------------------------------------------
// Python reference corpus (one python3 process for the whole file)
// ---------------------------------------------------------------------------

interface CorpusEntry {
  label: string;
  text: string;
}

const HANDWRITTEN: string[] = [
  "100.0", "1e-05", "1E-5", "1e-7", "0.0001", "0.00001", "12.5", "-0.0", "0.0", "-0", "0", "1e15", "1e16",
  "1e22", "123456789012345678901.0", "5e-324", "4.9406564584124654e-324", "1.7976931348623157e308",
  "1e400", "-1e400", "1e-400", "-1e-400", "2.5E+3", "1.0000000000000000000000001", "0.1", "0.30000000000000004",
  String(2n ** 60n), String(-(2n ** 60n)), String(2n ** 200n), "9007199254740993", "9007199254740993.0",
  "NaN", "Infinity", "-Infinity", "[NaN, Infinity, -Infinity, \"NaN\", \"Infinity\"]",
  '{"b": NaN, "a": -Infinity}',
  '{"prev_hash": "' + "0".repeat(64) + '", "seq": 0, "trace": {"n": 0, "action_id": "a0"}}',
  '{"alpha": 1, "Alpha": 2, "\\uFFFD": 3, "\\ud83d\\ude80": 4, "\\ue000": 5, "b": 6, "_": 7, "": 8}',
  '{"\\ud800": 1, "\\ud800\\udc00": 2, "\\ue000": 3, "\\ud83d": 4, "\\udc00": 5, "\\ud83d\\ude80x": 6}',
  '"\\u007f\\u0000\\u001f\\b\\f\\n\\r\\t\\"\\\\\\/ /"',
  '"caf\u00e9 \u{1F680} \u2028 \ud800 \\udfff \\uD83D\\uDE80"',
  '"\\ud83d"', '"\\ude80\\ud83d"',
  '{"a": {"z": [1, 2.0, {"y": null, "x": true}], "b": false}, "A": []}',
  '[[], {}, [[]], [{}], ""]',
  '{"a": 1, "a": 2}', '{"a": 0.0, "a": -0.0}', '{"k": [], "k": {}}', '{"k": {"0": 1}, "k": [1]}',
  '{"k": {"x": 1}, "k": {"x": 1.0}}', '{"__proto__": {"a": 1}, "constructor": 2}',
  ' \t\n\r{ "spaced" : [ 1 , 2 ] } \n',
  '"E-00000000 NaN Infinity"', '[1E-000000001, NaN]',
];

/** Python rejects these; so must parseJsonLossless. */
const INVALID: string[] = [
  "", " ", "garbage", "{", "[1,]", '{"a":1,}', "01", "-01", "1.", ".5", "+1", "1e", "1e+", "--1", "-",
  '{"a" 1}', "{a:1}", "'a'", '"\u0001"', '"\n"', '"\\x41"', '"\\u12"', "[1 2]", "tru", "nulll", "1 2",
  "NaN1", "-NaN", "nan", "inf", "-Infinityx", "[Infinity1]", "1NaN", "\ufeff1", "[", '"abc',
  "{NaN: 1}", "1e-NaN",
];

function buildCorpus(): CorpusEntry[] {
  const corpus: CorpusEntry[] = HANDWRITTEN.map((text, i) => ({ label: `handwritten#${i}`, text }));
  const values = fc.sample(jsonArb, { numRuns: 400, seed: 20240611 });
  const rnd = seededRandom(42);
  values.forEach((v, i) => {
    corpus.push({ label: `canonical#${i}`, text: canonicalJson(v) });
    corpus.push({ label: `messy#${i}`, text: messyJson(v, rnd) });
  });
  const doubles = fc.sample(fc.double(), { numRuns: 1500, seed: 7 });
  doubles.forEach((x, i) => corpus.push({ label: `double#${i}`, text: messyFloat(x, rnd) }));
  // Random 64-bit patterns: uniform over the binary representation, not over values.
  const view = new DataView(new ArrayBuffer(8));
  for (let i = 0; i < 1500; i++) {
    view.setUint32(0, Math.floor(rnd() * 2 ** 32));
    view.setUint32(4, Math.floor(rnd() * 2 ** 32));
    corpus.push({ label: `bits#${i}`, text: messyFloat(view.getFloat64(0), rnd) });
  }
  INVALID.forEach((text, i) => corpus.push({ label: `invalid#${i}`, text }));
  return corpus;
}

const PYTHON_SCRIPT = `
import sys, json
out = []
for line in sys.stdin.buffer.read().decode("utf-8").split("\\n"):
    if not line:
        continue
    text = json.loads(line)
    try:
        out.append("OK " + json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=True))
    except ValueError as e:
        out.append("ERR " + type(e).__name__)
sys.stdout.write("\\n".join(out) + "\\n")
`;
import { seededRandom } from "../../support/random.js";

/** Runs every corpus text through CPython; each stdin line is a JSON string literal holding one text (so lone surrogates survive UTF-8). */
function runPython(corpus: CorpusEntry[]): string[] {
  const input = corpus.map((e) => JSON.stringify(e.text)).join("\n") + "\n";
  const res = spawnSync("python3", ["-c", PYTHON_SCRIPT], {
    input,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, PYTHONIOENCODING: "utf-8" },
  });
  // python3 is required (also in CI): a missing interpreter must fail, not skip.
  if (res.error) throw new Error(`python3 could not be run: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`python3 exited with ${String(res.status)}: ${res.stderr}`);
  const lines = res.stdout.split("\n");
  lines.pop();
  return lines;
}

function ours(text: string): string {
  try {
    return "OK " + canonicalJson(parseJsonLossless(text));
  } catch (err) {
    const msg = (err as Error).message;
    if (!msg.startsWith("Invalid JSON:")) throw err;
    return "ERR";
  }
}

describe("cross-check against CPython json.dumps(json.loads(text), sort_keys=True, ...)", () => {
  const corpus = buildCorpus();
  // Spawned lazily inside the tests (not in beforeAll, whose failure vitest reports as skipped
  // tests) so that a missing python3 makes every cross-check test FAIL.
  let cached: string[] | undefined;
  const pythonOutput = (): string[] => (cached ??= runPython(corpus));

  it("python3 answered every corpus entry", () => {
    expect(pythonOutput()).toHaveLength(corpus.length);
  });

  const groups = ["handwritten", "canonical", "messy", "double", "bits", "invalid"];
  for (const group of groups) {
    it(`matches Python byte for byte: ${group} texts`, () => {
      const mismatches: string[] = [];
      let checked = 0;
      const python = pythonOutput();
      corpus.forEach((entry, i) => {
        if (!entry.label.startsWith(group + "#")) return;
        checked++;
        const py = python[i] ?? "<missing>";
        const mine = ours(entry.text);
        // Only the "invalid" group may be rejected by Python; anything else must parse there.
        if (group !== "invalid" && !py.startsWith("OK ")) mismatches.push(`${entry.label}: python said ${py}`);
        const pyNorm = py.startsWith("ERR") ? "ERR" : py;
        if (mine !== pyNorm) {
          mismatches.push(`${entry.label} ${JSON.stringify(entry.text)}\n  python: ${py}\n  ours:   ${mine}`);
        }
      });
      expect(checked).toBeGreaterThan(0);
      expect(mismatches.slice(0, 10).join("\n")).toBe("");
    });
  }

  it("all invalid texts really are rejected by Python", () => {
    const python = pythonOutput();
    corpus.forEach((entry, i) => {
      if (entry.label.startsWith("invalid#")) expect(python[i], entry.label).toMatch(/^ERR /);
    });
  });
});

// ---------------------------------------------------------------------------
// Reference vector
// ---------------------------------------------------------------------------

describe("reference test vector", () => {
  const record: JsonValue = { prev_hash: "0".repeat(64), seq: 0n, trace: { action_id: "a0", n: 0n } };
  const expected = `{"prev_hash":"${"0".repeat(64)}","seq":0,"trace":{"action_id":"a0","n":0}}`;

  it("serializes to the reference canonical string", () => {
    expect(canonicalJson(record)).toBe(expected);
  });

  it("has the reference HMAC-SHA256", () => {
    const mac = createHmac("sha256", "chain-test-secret").update(canonicalJson(record)).digest("hex");
    expect(mac).toBe("57958f5c03db91330b38848806f17af98a9550e433ed70cebda0f886152a8402");
  });

  it("round-trips through parseJsonLossless with ints as bigint", () => {
    const parsed = parseJsonLossless(expected);
    expect(sameJson(parsed, record)).toBe(true);
    expect(canonicalJson(parsed)).toBe(expected);
  });
});

// ---------------------------------------------------------------------------
// pythonFloatRepr
// ---------------------------------------------------------------------------

describe("pythonFloatRepr", () => {
  it.each<[number, string]>([
    [100, "100.0"],
    [1e15, "1000000000000000.0"],
    [1e16, "1e+16"],
    [1e22, "1e+22"],
    [1.2345678901234568e20, "1.2345678901234568e+20"],
    [1e-5, "1e-05"],
    [1e-7, "1e-07"],
    [0.0001, "0.0001"],
    [0.00012345, "0.00012345"],
    [12.5, "12.5"],
    [0, "0.0"],
    [-0, "-0.0"],
    [-1.5, "-1.5"],
    [0.1, "0.1"],
    [0.1 + 0.2, "0.30000000000000004"],
    [5e-324, "5e-324"],
    [Number.MAX_VALUE, "1.7976931348623157e+308"],
    [2 ** 53, "9007199254740992.0"],
    [1234567890123456.7, "1234567890123456.8"],
    [-1.5e-10, "-1.5e-10"],
    [1.5e300, "1.5e+300"],
    [NaN, "NaN"],
    [Infinity, "Infinity"],
    [-Infinity, "-Infinity"],
  ])("repr(%s) === %s", (x, expected) => {
    expect(pythonFloatRepr(x)).toBe(expected);
  });

  it("round-trips every finite double through Number() and has Python's shape", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const r = pythonFloatRepr(x);
        expect(Object.is(Number(r), x)).toBe(true);
        expect(r).toMatch(/^-?(\d+\.\d+|\d(\.\d+)?e[+-]\d{2,3})$/);
      }),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------
// canonicalJson
// ---------------------------------------------------------------------------

describe("canonicalJson", () => {
  it("writes ints (bigint) as plain decimals, also beyond 2^53", () => {
    expect(canonicalJson(2n ** 60n)).toBe("1152921504606846976");
    expect(canonicalJson(-(2n ** 60n))).toBe("-1152921504606846976");
    expect(canonicalJson(9007199254740993n)).toBe("9007199254740993");
    expect(canonicalJson(0n)).toBe("0");
  });

  it("writes numbers as Python floats", () => {
    expect(canonicalJson([100, 1e-5, 1e16, -0, 0, NaN, Infinity, -Infinity])).toBe(
      "[100.0,1e-05,1e+16,-0.0,0.0,NaN,Infinity,-Infinity]",
    );
  });

  it("writes literals and keeps array order", () => {
    expect(canonicalJson([true, false, null, [], {}, "x", [3n, 1n, 2n]])).toBe('[true,false,null,[],{},"x",[3,1,2]]');
  });

  it("sorts keys by code point at every level, uppercase first, astral after U+FFFD", () => {
    const v: JsonValue = {
      alpha: 1n,
      Alpha: 2n,
      "\u{1F680}": 3n,
      "\uFFFD": 4n,
      "\uE000": 5n,
      b: { z: 1n, a: 2n, B: 3n },
      "": null,
    };
    expect(canonicalJson(v)).toBe(
      '{"":null,"Alpha":2,"alpha":1,"b":{"B":3,"a":2,"z":1},"\\ue000":5,"\\ufffd":4,"\\ud83d\\ude80":3}',
    );
  });

  it("escapes like ensure_ascii=True: DEL, controls, short escapes, lowercase hex, surrogate pairs", () => {
    expect(canonicalJson("\u007f")).toBe('"\\u007f"');
    expect(canonicalJson("\u0000\u0001\u001f")).toBe('"\\u0000\\u0001\\u001f"');
    expect(canonicalJson('"\\\n\r\t\b\f')).toBe('"\\"\\\\\\n\\r\\t\\b\\f"');
    expect(canonicalJson("\u00e9\u00ff\u0100\uABCD")).toBe('"\\u00e9\\u00ff\\u0100\\uabcd"');
    expect(canonicalJson("\u{1F680}")).toBe('"\\ud83d\\ude80"');
    expect(canonicalJson("\ud800")).toBe('"\\ud800"');
    expect(canonicalJson("\ude80\ud83d")).toBe('"\\ude80\\ud83d"');
    expect(canonicalJson("a/b ~")).toBe('"a/b ~"');
    expect(canonicalJson({ "k\u007f": "v" })).toBe('{"k\\u007f":"v"}');
  });

  it("accepts null-prototype objects and own __proto__ keys", () => {
    const o = Object.create(null) as JsonObject;
    o["b"] = 1n;
    o["a"] = 2n;
    expect(canonicalJson(o)).toBe('{"a":2,"b":1}');
    const p = parseJsonLossless('{"__proto__": 1, "a": 2}');
    expect(canonicalJson(p)).toBe('{"__proto__":1,"a":2}');
  });

  it("throws TypeError on values json.loads cannot produce", () => {
    class Point {
      x = 1n;
    }
    const bad: unknown[] = [
      undefined,
      new Date(0),
      new Point(),
      () => 1,
      Symbol("s"),
      new Map(),
      new Number(1),
      [1n, undefined],
      { a: undefined },
      [1n, , 2n],
    ];
    for (const v of bad) {
      expect(() => canonicalJson(v as JsonValue)).toThrow(TypeError);
    }
  });

  it("throws TypeError on circular structures", () => {
    const a: JsonValue[] = [];
    a.push(a);
    expect(() => canonicalJson(a)).toThrow(TypeError);
    const o: JsonObject = {};
    o["self"] = o;
    expect(() => canonicalJson(o)).toThrow(TypeError);
    // Shared (non-circular) references are fine.
    const shared: JsonObject = { x: 1n };
    expect(canonicalJson([shared, shared])).toBe('[{"x":1},{"x":1}]');
  });
});

// ---------------------------------------------------------------------------
// compareCodePoints / isJsonObject
// ---------------------------------------------------------------------------

describe("compareCodePoints", () => {
  it("orders the documented examples", () => {
    expect(compareCodePoints("Alpha", "alpha")).toBeLessThan(0);
    expect(compareCodePoints("\uFFFD", "\u{1F680}")).toBeLessThan(0);
    expect(compareCodePoints("\u{1F680}", "\uE000")).toBeGreaterThan(0);
    expect(compareCodePoints("a", "ab")).toBeLessThan(0);
    expect(compareCodePoints("same", "same")).toBe(0);
    // Lone surrogates are code points 0xD800..0xDFFF, i.e. below U+E000 but above U+D7FF.
    expect(compareCodePoints("\ud800", "\ue000")).toBeLessThan(0);
    expect(compareCodePoints("\ud83d", "\ud7ff")).toBeGreaterThan(0);
    // A paired surrogate is astral and beats a lone one with a higher unit.
    expect(compareCodePoints("\ud800\udc00", "\ud83d")).toBeGreaterThan(0);
    expect(compareCodePoints("\ud83d\ude80", "\ud83d\ue000")).toBeGreaterThan(0);
  });

  it("agrees with a brute-force code-point comparison", () => {
    const s = fc.oneof(fc.string({ unit: trickyUnit }), fc.string({ unit: anyCodeUnit }), fc.string({ unit: "binary" }));
    fc.assert(
      fc.property(s, s, (a, b) => {
        expect(Math.sign(compareCodePoints(a, b))).toBe(Math.sign(referenceCompare(a, b)));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("isJsonObject", () => {
  it("is true only for objects", () => {
    expect(isJsonObject({})).toBe(true);
    expect(isJsonObject(Object.create(null) as JsonObject)).toBe(true);
    expect(isJsonObject([])).toBe(false);
    expect(isJsonObject(null)).toBe(false);
    expect(isJsonObject("x")).toBe(false);
    expect(isJsonObject(1n)).toBe(false);
  });
});

// ---------------------------------------------------------------------------
// parseJsonLossless
// ---------------------------------------------------------------------------

describe("parseJsonLossless", () => {
  it("decides int vs float like Python", () => {
    expect(parseJsonLossless("1")).toBe(1n);
    expect(parseJsonLossless("-0")).toBe(0n);
    expect(parseJsonLossless("1152921504606846976")).toBe(2n ** 60n);
    expect(parseJsonLossless("1.0")).toBe(1);
    expect(parseJsonLossless("1e2")).toBe(100);
    expect(parseJsonLossless("1E2")).toBe(100);
    expect(Object.is(parseJsonLossless("-0.0"), -0)).toBe(true);
    expect(parseJsonLossless("1e400")).toBe(Infinity);
    expect(canonicalJson(parseJsonLossless("[100.0, 100, 1e-05]"))).toBe("[100.0,100,1e-05]");
  });

  it("accepts NaN, Infinity and -Infinity like json.loads, but not inside strings", () => {
    const v = parseJsonLossless('[NaN, Infinity, -Infinity, "NaN -Infinity", {"Infinity": NaN}]');
    expect(Array.isArray(v)).toBe(true);
    const arr = v as JsonValue[];
    expect(Number.isNaN(arr[0])).toBe(true);
    expect(arr[1]).toBe(Infinity);
    expect(arr[2]).toBe(-Infinity);
    expect(arr[3]).toBe("NaN -Infinity");
    expect(canonicalJson(v)).toBe('[NaN,Infinity,-Infinity,"NaN -Infinity",{"Infinity":NaN}]');
  });

  it("keeps the last value of a duplicate key, like Python", () => {
    expect(canonicalJson(parseJsonLossless('{"a": 1, "a": 2}'))).toBe('{"a":2}');
    expect(canonicalJson(parseJsonLossless('{"a": 0.0, "a": -0.0}'))).toBe('{"a":-0.0}');
    expect(canonicalJson(parseJsonLossless('{"k": [], "k": {}}'))).toBe('{"k":{}}');
    expect(canonicalJson(parseJsonLossless('{"k": {"0": 1}, "k": [1]}'))).toBe('{"k":[1]}');
  });

  it("creates __proto__ as an own key without touching the prototype", () => {
    const v = parseJsonLossless('{"__proto__": {"polluted": true}}');
    expect(isJsonObject(v)).toBe(true);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v as JsonObject)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("decodes escapes including surrogate pairs and lone surrogates", () => {
    expect(parseJsonLossless('"\\ud83d\\ude80\\/\\u00E9"')).toBe("\u{1F680}/\u00e9");
    expect(parseJsonLossless('"\\udc00"')).toBe("\udc00");
  });

  it("throws 'Invalid JSON:' with the position on garbage", () => {
    expect(() => parseJsonLossless("garbage")).toThrow(/^Invalid JSON: .*position 0/);
    expect(() => parseJsonLossless('{"a": 1,}')).toThrow(/^Invalid JSON: .*position 8/);
    expect(() => parseJsonLossless("[1, 2")).toThrow(/^Invalid JSON: /);
    expect(() => parseJsonLossless('"\u0001"')).toThrow(/^Invalid JSON: /);
    expect(() => parseJsonLossless("")).toThrow(/^Invalid JSON: /);
    // Positions refer to the caller's text even after a NaN/Infinity literal was rewritten.
    expect(() => parseJsonLossless("[NaN, Infinity x]")).toThrow(/^Invalid JSON: .*'x' at position 15/);
    expect(() => parseJsonLossless("[1NaN]")).toThrow(/^Invalid JSON: .*'N' at position 2/);
    expect(() => parseJsonLossless("NaN1")).toThrow(/^Invalid JSON: .*position 0/);
    try {
      parseJsonLossless("{");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).cause).toBeInstanceOf(SyntaxError);
    }
  });
});

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

describe("properties", () => {
  it("(a) parseJsonLossless(canonicalJson(v)) deep-equals v (Object.is on floats)", () => {
    fc.assert(
      fc.property(jsonArb, (v) => {
        expect(sameJson(parseJsonLossless(canonicalJson(v)), v)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("(b) the canonical form is a fixed point", () => {
    fc.assert(
      fc.property(jsonArb, (v) => {
        const c = canonicalJson(v);
        expect(canonicalJson(parseJsonLossless(c))).toBe(c);
      }),
      { numRuns: 500 },
    );
  });

  it("(c) the canonical form is printable ASCII only", () => {
    fc.assert(
      fc.property(jsonArb, (v) => {
        expect(canonicalJson(v)).toMatch(/^[\x20-\x7e]*$/);
      }),
      { numRuns: 500 },
    );
  });

  it("(d) pythonFloatRepr parses back to the same double", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => Object.is(Number(pythonFloatRepr(x)), x)),
      { numRuns: 500 },
    );
  });

  it("(e) messy, reordered, duplicated-key texts canonicalize to the same string as the value", () => {
    fc.assert(
      fc.property(jsonArb, fc.integer(), (v, seed) => {
        const text = messyJson(v, seededRandom(seed));
        // messyJson may prepend a discarded duplicate; the last value wins, so the result is v.
        expect(canonicalJson(parseJsonLossless(text))).toBe(canonicalJson(v));
      }),
      { numRuns: 500 },
    );
  });
});

/**
 * src/chain/wire-json.ts: the wire parser (native fast path or lossless-json) and the JSON
 * scalar's reading agree with the chain's own lossless parser (itself cross-checked against
 * CPython in json.test.ts) on every JSON text, and responses write numbers back exactly.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, type JsonValue, parseJsonLossless } from "../../../src/chain/json.js";
import { jsonValueFromWire, JsonValueError, MAX_JSON_DEPTH, parseWireJson, stringifyExact, toWireJson, WireJsonError } from "../../../src/chain/wire-json.js";

const number = fc.oneof(
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.constantFrom("100.0", "-0.0", "0", "-0", "1e+22", "1E-7", "2.50", "12.5", "9007199254740993", "1.0e0", "1234567.99999999999", "123456789.9999999999", "0.99999999999999999"),
);
const { json } = fc.letrec<{ json: string }>((tie) => ({
  json: fc.oneof(
    { depthSize: "small" },
    number,
    fc.string({ unit: "binary", maxLength: 6 }).map((s) => JSON.stringify(s)),
    fc.constantFrom("true", "false", "null"),
    fc.array(tie("json"), { maxLength: 4 }).map((xs) => `[${xs.join(",")}]`),
    fc.dictionary(fc.string({ maxLength: 4 }), tie("json"), { maxKeys: 4 }).map((o) => `{${Object.entries(o).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`),
  ),
}));

describe("wire JSON", () => {
  it("reads every JSON text as the chain's lossless parser does (int vs float by lexeme, exact digits)", () => {
    fc.assert(
      fc.property(json, (text) => {
        // Compact, and spaced the way Python's json.dumps and pretty-printers write it.
        for (const wrapped of [`{"v":${text}}`, `{ "v" :\n  ${text} ,"w": [ ${text} ] }`]) {
          const expected = canonicalJson(parseJsonLossless(wrapped));
          expect(canonicalJson(jsonValueFromWire(parseWireJson(wrapped), "$"))).toBe(expected);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("writes responses with Python's numbers: stringifyExact(toWireJson(v)) re-reads to the same canonical JSON", () => {
    fc.assert(
      fc.property(json, (text) => {
        const value = parseJsonLossless(`{"v":${text}}`);
        const written = stringifyExact(toWireJson(value));
        expect(canonicalJson(parseJsonLossless(written))).toBe(canonicalJson(value));
      }),
      { numRuns: 500 },
    );
  });

  it("takes the native parser only when it is exact: JSON.stringify's long floats yes, 100.0 or 1e+22 in any spacing no", () => {
    const read = (text: string) => canonicalJson(jsonValueFromWire(parseWireJson(text), "$"));
    expect(read(`{"a": 0.7134999999999999, "id": "9e0f-1.0-2e5"}`)).toBe(`{"a":0.7134999999999999,"id":"9e0f-1.0-2e5"}`);
    expect(read(`{"a" : [ 1 , 100.0 ] , "b":\t1e+22\n, "c": 1234567.99999999999}`)).toBe(`{"a":[1,100.0],"b":1e+22,"c":1234568.0}`);
    expect(read(`{"n": 18446744073709551617}`)).toBe(`{"n":18446744073709551617}`);
  });

  it("writes 100.0, -0.0, 1e-07 and 2^60 as Python does, and leaves other numbers to JSON.stringify", () => {
    const value = parseJsonLossless(`{"a":100.0,"b":-0.0,"c":1e-07,"d":1152921504606846976,"e":12.5,"f":7}`);
    expect(stringifyExact({ data: toWireJson(value) })).toBe(`{"data":{"a":100.0,"b":-0.0,"c":1e-07,"d":1152921504606846976,"e":12.5,"f":7}}`);
    // A string that merely looks like a number stays a string.
    expect(stringifyExact(toWireJson({ s: "100.0" } as JsonValue))).toBe(`{"s":"100.0"}`);
  });

  it("refuses overflowing floats, over-long ints and deep nesting with the path, and bad JSON", () => {
    const refused = (text: string) => {
      try {
        jsonValueFromWire(parseWireJson(text), "$");
      } catch (e) {
        if (e instanceof JsonValueError) return e.message;
        throw e;
      }
      return "accepted";
    };
    expect(refused(`{"a":[1,{"b-c":1e400}]}`)).toBe(`$.a[1]["b-c"]: 1e400 overflows to infinity; JSON has no infinite numbers.`);
    expect(refused(`{"n":${"9".repeat(4301)}}`)).toMatch(/^\$\.n: integer has 4301 digits/);
    expect(refused(`{"n":${"9".repeat(4300)}}`)).toBe("accepted");
    expect(refused(`${"[".repeat(MAX_JSON_DEPTH + 1)}${"]".repeat(MAX_JSON_DEPTH + 1)}`)).toMatch(/nested deeper than 64/);
    expect(() => parseWireJson(`{"a":`)).toThrow(WireJsonError);
    expect(() => parseWireJson(`{"a":NaN}`)).toThrow(WireJsonError);
    // Deep nesting: the native path parses it and the JSON scalar refuses it past 64 levels; the
    // lossless path (taken when a number needs its lexeme) refuses it while parsing.
    expect(refused(`${"[".repeat(100_000)}${"]".repeat(100_000)}`)).toMatch(/nested deeper than 64/);
    expect(() => parseWireJson(`${"[".repeat(100_000)}100.0${"]".repeat(100_000)}`)).toThrow(WireJsonError);
  });
});

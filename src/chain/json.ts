/**
 * Canonical JSON for the audit hash chain.
 *
 * The chain's HMACs were defined by a Python reference implementation as
 * `hmac(secret, json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=True))`.
 * Any byte of difference breaks verification, so this module reproduces CPython 3.11's
 * behaviour exactly: Python's int/float split (bigint vs number), `repr(float)` digits,
 * code-point key order and `ensure_ascii` escaping.
 */
import { parse as losslessParse } from "lossless-json";
import { keysInOrder } from "./key-order.js";

/** A JSON value as Python sees it: bigint = Python int (arbitrary precision), number = Python float (always, even 100.0). */
export type JsonValue = null | boolean | string | bigint | number | JsonValue[] | JsonObject;

/** A JSON object as produced by `json.loads`: string keys only, plain object (prototype Object.prototype or null). */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Narrows a JsonValue to a JsonObject (arrays and null excluded), since `typeof` alone cannot tell them apart. */
export function isJsonObject(v: JsonValue): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------
// Key order
// ---------------------------------------------------------------------------

const isHigh = (u: number): boolean => u >= 0xd800 && u <= 0xdbff;
const isLow = (u: number): boolean => u >= 0xdc00 && u <= 0xdfff;

/**
 * Sort key of the code unit at `i` (the first index where two strings differ): a unit that is
 * half of a valid surrogate pair belongs to an astral code point (>= 0x10000), so it is lifted
 * above every BMP unit; a lone surrogate keeps its own value, exactly like a Python str
 * holding that lone code point.
 */
function unitRank(s: string, i: number, u: number): number {
  if (isHigh(u)) {
    return isLow(s.charCodeAt(i + 1)) ? u + 0x10000 : u;
  }
  if (isLow(u)) {
    return i > 0 && isHigh(s.charCodeAt(i - 1)) ? u + 0x10000 : u;
  }
  return u;
}

/** Compares strings by Unicode code point like Python's `str <` (JS `<` compares UTF-16 units, which puts astral chars before U+E000..U+FFFF). */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // Fast path: no surrogate involved, so code-unit order is code-point order.
    if ((ca < 0xd800 || ca > 0xdfff) && (cb < 0xd800 || cb > 0xdfff)) return ca - cb;
    return unitRank(a, i, ca) - unitRank(b, i, cb);
  }
  // One string is a code-unit prefix of the other: the shorter one sorts first in code-point
  // order too (its last code point is either equal or a lone high surrogate < any astral).
  return a.length - b.length;
}

// ---------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------

// Python's ensure_ascii escapes everything outside printable ASCII 0x20..0x7E, so DEL (0x7F) is
// escaped as well (unlike JSON.stringify). Without the `u` flag the regex works on UTF-16 code
// units, which makes astral chars come out as surrogate pairs and lone surrogates as themselves,
// exactly like Python's `\uXXXX` output for code points > 0xFFFF and for lone surrogates.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;
const NEEDS_ESCAPE_G = /["\\\u0000-\u001f\u007f-\uffff]/g;

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

function escapeUnit(ch: string): string {
  const short = SHORT_ESCAPES[ch];
  if (short !== undefined) return short;
  // Python writes `\u` with four LOWERCASE hex digits.
  return "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0");
}

function quoteString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  return '"' + s.replace(NEEDS_ESCAPE_G, escapeUnit) + '"';
}

// ---------------------------------------------------------------------------
// Floats
// ---------------------------------------------------------------------------

/** Python's `repr(float)` as json.dumps writes it, because the hash input must match CPython's float formatting digit for digit. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  // toExponential() drops the sign of -0; Python keeps it.
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";

  // With no argument toExponential() yields the shortest digits that round-trip (the same
  // digits CPython's repr picks): "d[.ddd]e[+-]n".
  const exp = x.toExponential();
  const ePos = exp.indexOf("e");
  let mantissa = exp.slice(0, ePos);
  const n = Number(exp.slice(ePos + 1));
  let sign = "";
  if (mantissa.charCodeAt(0) === 0x2d /* - */) {
    sign = "-";
    mantissa = mantissa.slice(1);
  }
  const digits = mantissa.length > 1 ? mantissa[0] + mantissa.slice(2) : mantissa;

  if (n >= -4 && n <= 15) {
    // CPython's repr switches to fixed notation for decimal exponents -4..15.
    if (n < 0) return sign + "0." + "0".repeat(-n - 1) + digits;
    const intLen = n + 1;
    if (digits.length <= intLen) return sign + digits + "0".repeat(intLen - digits.length) + ".0";
    return sign + digits.slice(0, intLen) + "." + digits.slice(intLen);
  }
  const absN = Math.abs(n);
  // Scientific: one-digit mantissa has no ".0", exponent has a sign and at least two digits.
  return sign + mantissa + "e" + (n < 0 ? "-" : "+") + (absN < 10 ? "0" : "") + String(absN);
}

// ---------------------------------------------------------------------------
// Serializer
// ---------------------------------------------------------------------------

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") {
    const proto: unknown = Object.getPrototypeOf(v);
    const ctor =
      proto !== null && typeof proto === "object" && "constructor" in proto
        ? (proto as { constructor?: { name?: unknown } }).constructor?.name
        : undefined;
    return typeof ctor === "string" && ctor !== "" ? `object (${ctor})` : "object";
  }
  return typeof v;
}

/** How a serialization differs from the canonical form: key order and separators. */
interface Style {
  sortKeys: boolean;
  /** Between items (Python's default is ", ", the canonical form's ","). */
  item: string;
  /** Between a key and its value (": " vs ":"). */
  key: string;
}

const CANONICAL: Style = { sortKeys: true, item: ",", key: ":" };
const PYTHON_DEFAULT: Style = { sortKeys: false, item: ", ", key: ": " };

function serialize(v: unknown, path: object[], style: Style = CANONICAL): string {
  switch (typeof v) {
    case "string":
      return quoteString(v);
    case "number":
      return pythonFloatRepr(v);
    case "bigint":
      return v.toString();
    case "boolean":
      return v ? "true" : "false";
    case "object": {
      if (v === null) return "null";
      if (path.includes(v)) {
        // Python raises "Circular reference detected"; recursing would only overflow the stack.
        throw new TypeError("canonicalJson: circular reference detected");
      }
      if (Array.isArray(v)) {
        path.push(v);
        let out = "[";
        // Index loop (not for..of / map) so that holes surface as undefined and are rejected.
        for (let i = 0; i < v.length; i++) {
          if (i > 0) out += style.item;
          out += serialize(v[i], path, style);
        }
        path.pop();
        return out + "]";
      }
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        // Dates, Maps, class instances, boxed primitives… have no Python json.loads counterpart.
        throw new TypeError(`canonicalJson: unsupported value of type ${describe(v)}`);
      }
      path.push(v);
      const obj = v as Record<string, unknown>;
      const keys = style.sortKeys ? Object.keys(obj).sort(compareCodePoints) : keysInOrder(obj);
      let out = "{";
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i] as string;
        if (i > 0) out += style.item;
        out += quoteString(k) + style.key + serialize(obj[k], path, style);
      }
      path.pop();
      return out + "}";
    }
    default:
      throw new TypeError(`canonicalJson: unsupported value of type ${describe(v)}`);
  }
}

/** Byte-exact equivalent of Python's `json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=True)`, the HMAC input of the chain. */
export function canonicalJson(value: JsonValue): string {
  return serialize(value, []);
}

/**
 * Byte-exact equivalent of Python's plain `json.dumps(v)`: insertion order, ", " and ": "
 * separators, ASCII escaping. The reference writes its JSONL lines and export files this
 * way, so exports meant for its tools use it too.
 */
export function pythonJsonDumps(value: JsonValue): string {
  return serialize(value, [], PYTHON_DEFAULT);
}

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

interface Replacement {
  /** Start of the placeholder in the rewritten text. */
  newStart: number;
  /** End (exclusive) of the placeholder in the rewritten text. */
  newEnd: number;
  /** Start of the original token (NaN / Infinity / -Infinity) in the original text. */
  origStart: number;
  /** Length of the original token. */
  origLength: number;
}

interface Prepared {
  text: string;
  /** Exact placeholder lexeme -> float value, for the NaN/Infinity literals Python accepts. */
  specials: Map<string, number> | null;
  /** Substring that every placeholder contains and no number lexeme of the original text does. */
  marker: string;
  replacements: Replacement[];
}

const SPECIAL_TOKENS: ReadonlyArray<readonly [string, number]> = [
  ["-Infinity", -Infinity],
  ["Infinity", Infinity],
  ["NaN", NaN],
];

/**
 * lossless-json rejects the bare literals NaN / Infinity / -Infinity that Python's json.loads
 * accepts (and that json.dumps itself writes). Outside of strings, rewrite them into unique
 * placeholder number lexemes that the number parser maps back. A placeholder starts with "-"
 * so that invalid forms like "-NaN" still fail ("--0E…"), and it embeds a marker ("E-" plus
 * more zeros than any such run in the input) so that no genuine lexeme can be mistaken for one.
 */
function prepare(text: string): Prepared {
  if (!text.includes("NaN") && !text.includes("Infinity")) {
    return { text, specials: null, marker: "", replacements: [] };
  }
  let zeros = 8;
  while (text.includes("E-" + "0".repeat(zeros))) zeros *= 2;
  const marker = "E-" + "0".repeat(zeros);
  const placeholders = SPECIAL_TOKENS.map(([, value], idx) => [`-0${marker}${idx + 1}`, value] as const);

  let out = "";
  let last = 0;
  let inString = false;
  const replacements: Replacement[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    if (c !== 0x4e /* N */ && c !== 0x49 /* I */ && c !== 0x2d /* - */) continue;
    for (let t = 0; t < SPECIAL_TOKENS.length; t++) {
      const token = (SPECIAL_TOKENS[t] as readonly [string, number])[0];
      if (text.startsWith(token, i)) {
        const placeholder = (placeholders[t] as readonly [string, number])[0];
        out += text.slice(last, i);
        replacements.push({
          newStart: out.length,
          newEnd: out.length + placeholder.length,
          origStart: i,
          origLength: token.length,
        });
        out += placeholder;
        i += token.length - 1;
        last = i + 1;
        break;
      }
    }
  }
  if (replacements.length === 0) return { text, specials: null, marker: "", replacements };
  out += text.slice(last);
  return { text: out, specials: new Map(placeholders), marker, replacements };
}

/** Maps an error position in the rewritten text back to the caller's text. */
function originalPosition(pos: number, replacements: readonly Replacement[]): number {
  let shift = 0;
  for (const r of replacements) {
    if (pos < r.newStart) break;
    if (pos < r.newEnd) return r.origStart;
    shift += r.newEnd - r.newStart - r.origLength;
  }
  return pos - shift;
}

function fixMessage(message: string, prepared: Prepared, original: string): string {
  if (prepared.replacements.length === 0) return message;
  return message.replace(/(but got '[\s\S]' )?at position (\d+)/g, (_m, got: string | undefined, p: string) => {
    const orig = originalPosition(Number(p), prepared.replacements);
    return `${got === undefined ? "" : `but got '${original[orig] ?? ""}' `}at position ${orig}`;
  });
}

export interface LosslessParseOptions {
  /**
   * Refuse a number literal that overflows to infinity (`1e400`). CPython reads it as inf and
   * would write it back as `Infinity`, a different text; the reference itself only ever writes
   * the bare words NaN / Infinity / -Infinity, which stay accepted.
   */
  refuseOverflow?: boolean;
}

/**
 * Parses JSON exactly like Python's `json.loads` decides types: a number lexeme with ".", "e"
 * or "E" is a float (number), any other is an int (bigint), so re-serialising is lossless.
 * Duplicate keys keep the last value (like Python); NaN / Infinity / -Infinity are accepted.
 *
 * (lossless-json stores the new value itself when old and new are deep-equal, and asks
 * onDuplicateKey otherwise, so "last wins" holds even for `{"a":0.0,"a":-0.0}` or `{"k":[],"k":{}}`.)
 * Known divergence: Python 3.11 rejects int literals longer than 4300 digits
 * (sys.int_info.str_digits_check_threshold); this parser accepts them.
 */
export function parseJsonLossless(text: string, options: LosslessParseOptions = {}): JsonValue {
  const prepared = prepare(text);
  const { specials, marker } = prepared;

  const parseNumber = (lexeme: string): unknown => {
    if (specials !== null && lexeme.includes(marker)) {
      const special = specials.get(lexeme);
      if (special === undefined) {
        // A NaN/Infinity literal glued to digits, e.g. "NaN1": invalid for Python too.
        throw new SyntaxError(
          `Invalid number: NaN/Infinity literal followed by digits at position ${prepared.text.indexOf(lexeme)}`,
        );
      }
      return special;
    }
    // Same rule as CPython's json scanner: fraction or exponent => float, else int.
    for (let i = 0; i < lexeme.length; i++) {
      const c = lexeme.charCodeAt(i);
      if (c === 0x2e /* . */ || c === 0x65 /* e */ || c === 0x45 /* E */) {
        const n = Number(lexeme);
        if (options.refuseOverflow && !Number.isFinite(n)) {
          throw new SyntaxError(`${lexeme.length > 40 ? `${lexeme.slice(0, 40)}…` : lexeme} overflows to infinity`);
        }
        return n;
      }
    }
    return BigInt(lexeme);
  };

  try {
    return losslessParse(prepared.text, null, {
      parseNumber,
      // Python's dict construction keeps the last occurrence of a key.
      onDuplicateKey: ({ newValue }) => newValue,
    }) as JsonValue;
  } catch (err) {
    if (err instanceof SyntaxError) {
      throw new Error(`Invalid JSON: ${fixMessage(err.message, prepared, text)}`, { cause: err });
    }
    throw err;
  }
}

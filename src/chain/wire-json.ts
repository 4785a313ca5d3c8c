/**
 * Exact JSON on the wire: request bodies and query strings (HTTP, SSE) and graphql-ws
 * messages in, GraphQL responses out.
 *
 * `JSON.parse` turns `100.0` into the integer 100, `-0.0` into an integer zero and
 * `750727362669608961` into 750727362669608960; `JSON.stringify` writes `100`, `0`, `1e-7`.
 * The chain hashes Python's reading of a number (int vs float by lexeme, exact digits;
 * docs/exactness.md), so a value that crossed the wire that way would be hashed as
 * something the client never sent. Here:
 *
 * - `parseWireJson` parses with lossless-json and hands GraphQL an ordinary tree (numbers
 *   as JS numbers, which graphql-js's Int/Float/String coercion needs), remembering in a
 *   side table the lexeme of every number a JS number cannot stand for exactly.
 *   `jsonValueFromWire` reads such a tree back as tracegate's JSON model (bigint = Python
 *   int, number = Python float) using those lexemes; the JSON scalar calls it.
 * - `toWireJson` turns the JSON model into a tree for `JSON.stringify` in which numbers
 *   that JS would print differently from Python (`100.0`, `1e-07`, ints beyond 2^53) are
 *   `ExactNumber`s, and `restoreExactNumbers` puts their exact lexemes into the text.
 *   Node 20 has no `JSON.rawJSON`, and yoga and graphql-ws both stringify with
 *   `JSON.stringify`, so an ExactNumber stringifies to a string carrying a per-process
 *   random marker, which one pass over the finished text replaces by the bare lexeme. No
 *   client can forge the marker: it never leaves the process.
 */
import { randomBytes } from "node:crypto";
import { parse as losslessParse } from "lossless-json";
import { type JsonObject, type JsonValue, pythonFloatRepr } from "./json.js";

/** Deepest nesting of a JSON scalar value (args, resultSummary): documented, well inside what CPython's json module round-trips. */
export const MAX_JSON_DEPTH = 64;
/** Longest integer CPython 3.11's json.loads accepts (sys.int_info.default_max_str_digits); longer ones cannot be verified by the reference. */
export const MAX_INT_DIGITS = 4_300;
/** Deepest nesting of a whole request body or message. */
const MAX_WIRE_DEPTH = 200;

/** A JSON text on the wire that cannot be read (syntax, depth). */
export class WireJsonError extends Error {
  override name = "WireJsonError";
}

/** A value a JSON scalar refuses: it could not be hashed as the client's JSON says. */
export class JsonValueError extends Error {
  override name = "JsonValueError";
  /** Where, as `$.a[0]["b-c"]`; segments are added on the way out of the walk. */
  path = "";
  constructor(readonly problem: string) {
    super(problem);
  }
  /** Put `segment` in front of the path (the walk unwinds from the bad value to the root). */
  within(segment: string | number): this {
    const s = typeof segment === "number" ? `[${segment}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`;
    this.path = s + this.path;
    this.message = `${this.path}: ${this.problem}`;
    return this;
  }
  /** Name the root (e.g. "$" or "$args") once the walk is done. */
  at(root: string): this {
    this.path = root + this.path;
    this.message = `${this.path}: ${this.problem}`;
    return this;
  }
}

class Lexeme {
  constructor(readonly text: string) {}
}

/**
 * Lexemes of number members a JS number does not represent exactly, per parsed container
 * (object key, or array index as a string). Weak: they live as long as the request's tree.
 */
const lexemes = new WeakMap<object, Map<string, string>>();

const FLOAT_LEXEME = /[.eE]/;

/** Whether `Number(text)` loses what Python reads in the lexeme `text`. */
function needsLexeme(text: string, n: number): boolean {
  if (FLOAT_LEXEME.test(text)) return Number.isInteger(n) || !Number.isFinite(n); // 100.0, -0.0, 1e+22, 1e400
  return !Number.isSafeInteger(n); // ints beyond 2^53
}

function unwrap(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth > MAX_WIRE_DEPTH) throw new WireJsonError(`JSON nested deeper than ${MAX_WIRE_DEPTH} levels.`);
  const container = value as Record<string, unknown>;
  let found: Map<string, string> | undefined;
  for (const key of Object.keys(container)) {
    const child = container[key];
    if (child instanceof Lexeme) {
      const n = Number(child.text);
      container[key] = n;
      if (needsLexeme(child.text, n)) (found ??= new Map()).set(key, child.text);
    } else if (child !== null && typeof child === "object") {
      unwrap(child, depth + 1);
    }
  }
  if (found) lexemes.set(container, found);
  return value;
}

/**
 * The numbers of a JSON text that JSON.parse might read inexactly: in value position
 * (after `:`, `,` or `[`, before `,`, `}` or `]`) and holding a fraction, an exponent, or 16
 * or more digits. Each is then judged by needsLexeme (100.0, 1e+22 and 1234567.99999999999
 * read as integral doubles; 2^60 is not a safe integer), while 0.7134999999999999, which
 * JSON.stringify writes for most floats, is exact as a JS number. Matched over the raw text,
 * so a string that happens to contain `:1.0,` is a (harmless) false alarm; a number in value
 * position is never missed.
 */
const NUMBER_CANDIDATES = /[:,[]\s*(-?(?:[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+|[0-9]{16,}))(?=\s*[,}\]])/g;

/** Whether JSON.parse could misread some number of `text` (see NUMBER_CANDIDATES). */
function mayNeedLexemes(text: string): boolean {
  const trimmed = text.trim();
  if (trimmed.length > 0 && trimmed[0] !== "{" && trimmed[0] !== "[") return true; // a bare scalar: let the lossless path judge it
  NUMBER_CANDIDATES.lastIndex = 0;
  for (let m = NUMBER_CANDIDATES.exec(text); m !== null; m = NUMBER_CANDIDATES.exec(text)) {
    const lexeme = m[1]!;
    if (needsLexeme(lexeme, Number(lexeme))) return true;
  }
  return false;
}

/**
 * Parse JSON text from the wire (a request body, a `variables` query parameter, a
 * graphql-ws message). Returns plain JSON data with numbers as JS numbers; the exact
 * lexemes stay attached for `jsonValueFromWire`. Duplicate keys keep the last value.
 * @throws WireJsonError for invalid JSON, or (on the lossless path) nesting deeper than 200 levels;
 *   the JSON scalar refuses values nested deeper than MAX_JSON_DEPTH whichever path read them.
 */
export function parseWireJson(text: string): unknown {
  if (!mayNeedLexemes(text)) {
    // No number here that JSON.parse could misread: the native parser is exact (and ~5x faster).
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // Report the error (and its position) the way the lossless parser words it.
    }
  }
  let tree: unknown;
  try {
    tree = losslessParse(text, null, { parseNumber: (s: string) => new Lexeme(s), onDuplicateKey: ({ newValue }) => newValue });
  } catch (e) {
    if (e instanceof RangeError) throw new WireJsonError(`JSON nested too deeply.`);
    throw new WireJsonError(`Invalid JSON: ${(e as Error).message}`);
  }
  if (tree instanceof Lexeme) return Number(tree.text);
  return unwrap(tree, 0);
}

function intFromDigits(text: string): bigint {
  const digits = text.charCodeAt(0) === 0x2d ? text.length - 1 : text.length;
  if (digits > MAX_INT_DIGITS) throw new JsonValueError(`integer has ${digits} digits; at most ${MAX_INT_DIGITS} (CPython's json limit).`);
  return BigInt(text);
}

function floatFrom(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n)) throw new JsonValueError(`${text.length > 40 ? `${text.slice(0, 40)}…` : text} overflows to infinity; JSON has no infinite numbers.`);
  return n;
}

/**
 * A GraphQL FloatValue lexeme as a Python float.
 * @throws JsonValueError (path `root`) when it overflows to infinity (Python would read inf, which JSON cannot carry).
 */
export function floatFromLexeme(text: string, root: string): number {
  try {
    return floatFrom(text);
  } catch (e) {
    throw e instanceof JsonValueError ? e.at(root) : e;
  }
}

/**
 * A GraphQL IntValue lexeme as a Python int (exact).
 * @throws JsonValueError (path `root`) beyond 4,300 digits.
 */
export function intFromLexeme(text: string, root: string): bigint {
  try {
    return intFromDigits(text);
  } catch (e) {
    throw e instanceof JsonValueError ? e.at(root) : e;
  }
}

function numberFromWire(n: number, lexeme: string | undefined): JsonValue {
  if (lexeme !== undefined) return FLOAT_LEXEME.test(lexeme) ? floatFrom(lexeme) : intFromDigits(lexeme);
  if (!Number.isFinite(n)) throw new JsonValueError("NaN and Infinity are not JSON.");
  if (!Number.isInteger(n)) return n;
  // A value built in-process (no lexeme): an integral number is an int, unless JS already rounded it.
  if (!Number.isSafeInteger(n)) throw new JsonValueError(`integer ${n} is beyond 2^53 and was rounded before it reached the gateway.`);
  return BigInt(n);
}

/**
 * Containers this module built (already in the JSON model: numbers are floats, bigints ints).
 * A JSONObject variable used inside a JSONObject literal reaches the scalar a second time,
 * already read; reading it again would take its integral floats (-0.0, 1e+22) for ints.
 */
const alreadyRead = new WeakSet<object>();

function read(value: unknown, depth: number): JsonValue {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return numberFromWire(value, undefined);
    case "bigint":
      return value; // already read (e.g. a JSON-scalar variable used inside a literal)
    case "object": {
      if (value === null) return null;
      if (alreadyRead.has(value)) return value as JsonValue;
      if (depth >= MAX_JSON_DEPTH) throw new JsonValueError(`nested deeper than ${MAX_JSON_DEPTH} levels.`);
      const found = lexemes.get(value);
      if (Array.isArray(value)) {
        const out: JsonValue[] = new Array<JsonValue>(value.length);
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          try {
            out[i] = typeof v === "number" ? numberFromWire(v, found?.get(String(i))) : read(v, depth + 1);
          } catch (e) {
            throw e instanceof JsonValueError ? e.within(i) : e;
          }
        }
        alreadyRead.add(out);
        return out;
      }
      const out = Object.create(null) as JsonObject;
      for (const k of Object.keys(value)) {
        const v: unknown = (value as Record<string, unknown>)[k];
        try {
          out[k] = typeof v === "number" ? numberFromWire(v, found?.get(k)) : read(v, depth + 1);
        } catch (e) {
          throw e instanceof JsonValueError ? e.within(k) : e;
        }
      }
      alreadyRead.add(out);
      return out;
    }
    default:
      throw new JsonValueError(`${typeof value} is not a JSON value.`);
  }
}

/**
 * Read wire data (from `parseWireJson`, or built in-process) as tracegate's JSON model:
 * a number whose lexeme had a fraction or exponent is a float (number), any other an int
 * (bigint, exact), as CPython's json.loads decides. Objects get a null prototype, so a
 * "__proto__" key stays data. `depth` is the nesting already above `value`.
 * @throws JsonValueError, its path rooted at `root` (e.g. "$"), for an overflowing float, an
 *   integer longer than 4,300 digits, nesting deeper than MAX_JSON_DEPTH, or a non-JSON value.
 */
export function jsonValueFromWire(value: unknown, root: string, depth = 0): JsonValue {
  try {
    return read(value, depth);
  } catch (e) {
    throw e instanceof JsonValueError ? e.at(root) : e;
  }
}

// ---------------------------------------------------------------------------
// Out
// ---------------------------------------------------------------------------

const MARKER = `tg-exact-${randomBytes(12).toString("hex")}:`;
const MARKED = new RegExp(`"${MARKER}([-+.0-9eE]+)"`, "g");

/** A number to be written with exactly this lexeme (see restoreExactNumbers). */
export class ExactNumber {
  constructor(readonly lexeme: string) {}
  toJSON(): string {
    return MARKER + this.lexeme;
  }
}

/**
 * The JSON model as data for `JSON.stringify`, numbers written as CPython's json.dumps
 * writes them: ints with every digit, floats in repr form (`100.0`, `1e-07`, `-0.0`).
 * NaN and ±Infinity (possible only in records imported from reference stores, which
 * Python writes as bare NaN/Infinity) become the strings "NaN", "Infinity", "-Infinity",
 * since a bare NaN would make the whole response unreadable to JSON clients.
 */
export function toWireJson(value: JsonValue): unknown {
  switch (typeof value) {
    case "bigint": {
      const n = Number(value);
      return Number.isSafeInteger(n) ? n : new ExactNumber(value.toString());
    }
    case "number": {
      if (!Number.isFinite(value)) return String(value);
      const repr = pythonFloatRepr(value);
      return repr === JSON.stringify(value) ? value : new ExactNumber(repr);
    }
    case "object": {
      if (value === null) return null;
      if (Array.isArray(value)) return value.map(toWireJson);
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(value)) {
        const v = toWireJson(value[k] as JsonValue);
        // defineProperty: a "__proto__" key must stay an own data property.
        if (k === "__proto__") Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
        else out[k] = v;
      }
      return out;
    }
    default:
      return value;
  }
}

/** Replace the marked strings `JSON.stringify` wrote for ExactNumbers by their bare lexemes. */
export function restoreExactNumbers(text: string): string {
  return text.includes(MARKER) ? text.replace(MARKED, "$1") : text;
}

/** `JSON.stringify` that writes ExactNumbers exactly. */
export function stringifyExact(value: unknown): string {
  return restoreExactNumbers(JSON.stringify(value));
}

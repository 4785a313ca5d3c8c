/**
 * Scalars. DateTime and JSONObject are tracegate's own because they must be exact:
 * DateTime keeps microseconds (the reference's precision; JS Date keeps milliseconds), and
 * JSONObject keeps Python's int/float distinction, which decides the hashed bytes
 * (`100` vs `100.0`), in literals and in JSON variables (src/chain/wire-json.ts keeps the
 * lexemes of request bodies) and in responses. SafeInt comes from graphql-scalars.
 */
import { Kind, type ValueNode } from "graphql";
import { GraphQLSafeInt } from "graphql-scalars";
import type { JsonObject, JsonValue } from "../../chain/json.js";
import {
  floatFromLexeme,
  intFromLexeme,
  jsonValueFromWire,
  JsonValueError,
  MAX_INT_DIGITS,
  MAX_JSON_DEPTH,
  toWireJson,
} from "../../chain/wire-json.js";
import { formatIsoMicros, parseTimestamp, TimestampError } from "../../chain/time.js";
import { badUserInput } from "../../errors.js";
import { builder } from "../builder.js";

builder.addScalarType("SafeInt", GraphQLSafeInt);

builder.scalarType("DateTime", {
  description:
    "An instant as an RFC 3339 string with up to microsecond precision, e.g. 2026-01-02T03:04:05.123456+00:00. " +
    "Output is always UTC in Python isoformat style (the reference's invoked_at). Input without an offset is UTC.",
  serialize: (us) => serializeDateTime(us),
  parseValue: (value) => {
    if (typeof value !== "string") throw badUserInput("DateTime must be a string.");
    return parseDateTime(value);
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw badUserInput("DateTime must be a string.");
    return parseDateTime(ast.value);
  },
});

/** "00" .. "59". */
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, "0"));
const DAY_SECONDS = 86_400;
/** The last day serialized and its "YYYY-MM-DDT" text; "" for a day formatIsoMicros writes otherwise (years outside 0000-9999). */
let lastDay = Number.NaN;
let lastDayPrefix = "";

/**
 * formatIsoMicros(us), byte for byte (a unit test holds them equal), without building a
 * Date and an ISO string per value: the date part is remembered from the last call (the
 * rows of a page mostly share a day) and the time of day is plain arithmetic.
 */
export function serializeDateTime(us: number): string {
  const second = Math.floor(us / 1_000_000);
  const day = Math.floor(second / DAY_SECONDS);
  if (day !== lastDay) {
    const midnight = formatIsoMicros(day * DAY_SECONDS * 1_000_000);
    lastDayPrefix = /^\d{4}-\d{2}-\d{2}T00:00:00\+00:00$/.test(midnight) ? midnight.slice(0, 11) : "";
    lastDay = day;
  }
  if (lastDayPrefix === "") return formatIsoMicros(us);
  const time = second - day * DAY_SECONDS;
  const hh = TWO_DIGITS[Math.floor(time / 3600)]!;
  const mm = TWO_DIGITS[Math.floor(time / 60) % 60]!;
  const ss = TWO_DIGITS[time % 60]!;
  const frac = us - second * 1_000_000;
  return `${lastDayPrefix}${hh}:${mm}:${ss}${frac === 0 ? "" : `.${String(frac).padStart(6, "0")}`}+00:00`;
}

function parseDateTime(value: string): number {
  try {
    return parseTimestamp(value);
  } catch (e) {
    if (e instanceof TimestampError) throw badUserInput(e.message);
    throw e;
  }
}

builder.scalarType("JSONObject", {
  description:
    "A JSON object, exact in both directions: a number with a fraction or exponent is a float (100.0 stays 100.0), " +
    "any other an integer of any size, as Python's json module reads them. This holds for GraphQL literals and for " +
    "JSON variables alike, and responses write numbers back exactly as they were hashed. Refused with BAD_USER_INPUT: " +
    `floats that overflow to infinity (1e400), integers over ${MAX_INT_DIGITS} digits, nesting deeper than ${MAX_JSON_DEPTH}.`,
  serialize: (value) => toWireJson(value as JsonValue),
  parseValue: (value) => asObject(coded(() => jsonValueFromWire(value, "$"))),
  parseLiteral: (ast, variables) => asObject(coded(() => fromLiteral(ast, variables ?? undefined, "$", 0))),
});

function asObject(json: JsonValue): JsonObject {
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw badUserInput("Expected a JSON object.");
  return json;
}

/** JsonValueError as BAD_USER_INPUT (graphql-js prefixes the variable or argument path). */
function coded<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof JsonValueError) throw badUserInput(e.message);
    throw e;
  }
}

/** GraphQL literals keep the lexeme: IntValue -> int (bigint), FloatValue -> float. */
function fromLiteral(ast: ValueNode, variables: Record<string, unknown> | undefined, path: string, depth: number): JsonValue {
  switch (ast.kind) {
    case Kind.NULL:
      return null;
    case Kind.STRING:
      return ast.value;
    case Kind.ENUM:
      // A bare word is not JSON; storing it as a string would be a guess.
      throw new JsonValueError(`bare word ${ast.value} is not JSON: quote it ("${ast.value}").`).at(path);
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
      return intFromLexeme(ast.value, path);
    case Kind.FLOAT:
      return floatFromLexeme(ast.value, path);
    case Kind.LIST:
      if (depth >= MAX_JSON_DEPTH) throw new JsonValueError(`nested deeper than ${MAX_JSON_DEPTH} levels.`).at(path);
      return ast.values.map((v, i) => fromLiteral(v, variables, `${path}[${i}]`, depth + 1));
    case Kind.OBJECT: {
      if (depth >= MAX_JSON_DEPTH) throw new JsonValueError(`nested deeper than ${MAX_JSON_DEPTH} levels.`).at(path);
      const out: JsonObject = Object.create(null) as JsonObject; // null prototype: a "__proto__" key stays data
      for (const field of ast.fields) out[field.name.value] = fromLiteral(field.value, variables, `${path}.${field.name.value}`, depth + 1);
      return out;
    }
    case Kind.VARIABLE:
      return jsonValueFromWire(variables?.[ast.name.value] ?? null, `$${ast.name.value}`, depth);
  }
}

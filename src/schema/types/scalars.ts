/**
 * Scalars. DateTime and JSONObject are tracegate's own because they must be exact:
 * DateTime keeps microseconds (the reference's precision; JS Date keeps milliseconds), and
 * JSONObject keeps Python's int/float distinction, which decides the hashed bytes
 * (`100` vs `100.0`). SafeInt comes from graphql-scalars.
 */
import { Kind, type ValueNode } from "graphql";
import { GraphQLSafeInt } from "graphql-scalars";
import type { JsonObject, JsonValue } from "../../chain/json.js";
import { formatIsoMicros, parseTimestamp, TimestampError } from "../../chain/time.js";
import { badUserInput } from "../../errors.js";
import { builder } from "../builder.js";

builder.addScalarType("SafeInt", GraphQLSafeInt);

builder.scalarType("DateTime", {
  description:
    "An instant as an RFC 3339 string with up to microsecond precision, e.g. 2026-01-02T03:04:05.123456+00:00. " +
    "Output is always UTC in Python isoformat style (the reference's invoked_at). Input without an offset is UTC.",
  serialize: (us) => formatIsoMicros(us),
  parseValue: (value) => {
    if (typeof value !== "string") throw badUserInput("DateTime must be a string.");
    return parseDateTime(value);
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw badUserInput("DateTime must be a string.");
    return parseDateTime(ast.value);
  },
});

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
    "A JSON object. Integers are kept exact (arbitrary precision when written as a GraphQL literal) and " +
    "numbers with a fraction or exponent stay floats, as in the reference's hashed JSON. In variables, " +
    "integers beyond 2^53 are refused because JSON transport may already have rounded them.",
  serialize: (value) => value,
  parseValue: (value) => {
    const json = fromTransportJson(value, "$");
    if (json === null || typeof json !== "object" || Array.isArray(json)) throw badUserInput("Expected a JSON object.");
    return json as JsonObject;
  },
  parseLiteral: (ast, variables) => {
    const json = fromLiteral(ast, variables ?? undefined);
    if (json === null || typeof json !== "object" || Array.isArray(json)) throw badUserInput("Expected a JSON object.");
    return json as JsonObject;
  },
});

/** Values parsed by JSON.parse: integral numbers become Python ints (bigint), others floats. */
function fromTransportJson(value: unknown, path: string): JsonValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw badUserInput(`${path}: NaN and Infinity are not JSON.`);
    if (!Number.isInteger(value)) return value;
    if (!Number.isSafeInteger(value)) {
      throw badUserInput(
        `${path}: integer ${value} is beyond 2^53 and may have been rounded in transport; send it as a GraphQL literal.`,
      );
    }
    return BigInt(value);
  }
  if (Array.isArray(value)) return value.map((v, i) => fromTransportJson(v, `${path}[${i}]`));
  if (typeof value === "object") {
    const out: JsonObject = Object.create(null) as JsonObject; // null prototype: a "__proto__" key stays data
    for (const [k, v] of Object.entries(value)) out[k] = fromTransportJson(v, `${path}.${k}`);
    return out;
  }
  throw badUserInput(`${path}: ${typeof value} is not a JSON value.`);
}

/** GraphQL literals keep the lexeme: IntValue -> bigint, FloatValue -> float. */
function fromLiteral(ast: ValueNode, variables: Record<string, unknown> | undefined): JsonValue {
  switch (ast.kind) {
    case Kind.NULL:
      return null;
    case Kind.STRING:
    case Kind.ENUM:
      return ast.value;
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
      return BigInt(ast.value);
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.LIST:
      return ast.values.map((v) => fromLiteral(v, variables));
    case Kind.OBJECT: {
      const out: JsonObject = Object.create(null) as JsonObject; // null prototype: a "__proto__" key stays data
      for (const field of ast.fields) out[field.name.value] = fromLiteral(field.value, variables);
      return out;
    }
    case Kind.VARIABLE:
      return fromTransportJson(variables?.[ast.name.value] ?? null, `$${ast.name.value}`);
  }
}

/**
 * The closed set of error codes a client can see in `extensions.code`. Everything else is
 * masked by the server (src/http/mask-errors.ts) and reported as INTERNAL_SERVER_ERROR
 * with an errorId that is also logged.
 */
import { GraphQLError } from "graphql";
import { identifierProblem } from "./chain/identifier.js";

export const ERROR_CODES = [
  /** Arguments or input that fail validation (bad dates, since > until, page size, ...). */
  "BAD_USER_INPUT",
  /** A pagination cursor that tracegate did not issue, or one for another ordering. */
  "INVALID_CURSOR",
  /** A node id or action id that names nothing. */
  "NOT_FOUND",
  /** An appended action id that is already stored or repeated in the batch. */
  "DUPLICATE_ACTION_ID",
  /** No API key, an unknown or revoked key, or a malformed Authorization header (HTTP 401). */
  "UNAUTHENTICATED",
  /** The key lacks a scope the operation needs, or its principal scope excludes the data (HTTP 403). */
  "FORBIDDEN",
  /** Too many requests for this key (or, before authentication, this address); see `retryAfterSeconds` (HTTP 429). */
  "RATE_LIMITED",
  /** The request body exceeds the configured limit (HTTP 413). */
  "PAYLOAD_TOO_LARGE",
  /** The document exceeds a depth, cost, alias, token or directive limit. */
  "QUERY_TOO_COMPLEX",
  /** Syntax error in the GraphQL document. */
  "GRAPHQL_PARSE_FAILED",
  /** A document that does not validate against the schema. */
  "GRAPHQL_VALIDATION_FAILED",
  /** Anything unexpected; the message is masked and `errorId` points at the server log. */
  "INTERNAL_SERVER_ERROR",
  /** A feature needs configuration the server lacks (e.g. createCheckpoint without a signing key). */
  "NOT_CONFIGURED",
  /**
   * The database cannot commit writes right now (disk full, I/O error, connection lost):
   * nothing was stored; retry after `retryAfterSeconds` (HTTP 503, Retry-After).
   */
  "UNAVAILABLE",
  /** The client went away (aborted the request or closed the socket) while the work ran. */
  "CANCELLED",
  /** Expensive work (a chain walk) ran past the server's time limit and was stopped; see `timeoutMs`. */
  "TIMEOUT",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const BRAND = Symbol.for("tracegate.TracegateError");

/**
 * Codes that set the HTTP status of a whole response (yoga reads `extensions.http`). The
 * others are field errors in a 200 response, as GraphQL over HTTP prescribes.
 */
const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  UNAVAILABLE: 503,
};

/** A GraphQL error with one of tracegate's codes; its message is meant for the client. */
export class TracegateError extends GraphQLError {
  readonly code: ErrorCode;
  readonly [BRAND] = true;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    const status = HTTP_STATUS[code];
    super(message, { extensions: { code, ...details, ...(status ? { http: { status } } : {}) } });
    this.code = code;
  }
}

/**
 * Brand check instead of `instanceof`: graphql ships both CJS and ESM builds, and a test
 * runner or bundler may load two copies, so class identity is not reliable across modules.
 */
export function isTracegateError(error: unknown): error is TracegateError {
  return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
}

/** Duck-typed GraphQLError check, for the same reason as isTracegateError. */
export function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError || (error instanceof Error && error.name === "GraphQLError" && "extensions" in error);
}

/** BAD_USER_INPUT with an optional `field` naming the offending argument. */
export function badUserInput(message: string, field?: string): TracegateError {
  return new TracegateError("BAD_USER_INPUT", message, field === undefined ? undefined : { field });
}

/**
 * `value`, when it can be stored as an identifier.
 * @throws TracegateError BAD_USER_INPUT (src/chain/identifier.ts says what may be stored) naming `field` otherwise.
 */
export function storableIdentifier<T extends string | null | undefined>(value: T, field: string): T {
  if (typeof value === "string") {
    const problem = identifierProblem(value);
    if (problem) throw badUserInput(`${field} ${problem}.`, field);
  }
  return value;
}

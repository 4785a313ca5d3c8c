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

/** The HTTP status and headers of a response that refuses a request with a code. */
export interface HttpRefusal {
  status: number;
  headers: Record<string, string>;
}

/**
 * The one table from code to HTTP status. `graphql`: a GraphQL response carrying the code
 * takes its status wherever it was raised (yoga reads `extensions.http`); the other codes are
 * field errors in a 200 response, as GraphQL over HTTP prescribes, and take their status only
 * where they refuse a whole request before GraphQL runs (a malformed body, GET /export, an
 * unknown route). Codes not listed refuse a whole request with 500.
 */
const HTTP_STATUS: Partial<Record<ErrorCode, { status: number; graphql: boolean }>> = {
  BAD_USER_INPUT: { status: 400, graphql: false },
  UNAUTHENTICATED: { status: 401, graphql: true },
  FORBIDDEN: { status: 403, graphql: false },
  NOT_FOUND: { status: 404, graphql: false },
  PAYLOAD_TOO_LARGE: { status: 413, graphql: true },
  RATE_LIMITED: { status: 429, graphql: true },
  UNAVAILABLE: { status: 503, graphql: true },
};

/** Retry-After when a RATE_LIMITED or UNAVAILABLE error does not say (`retryAfterSeconds`). */
const DEFAULT_RETRY_AFTER_SECONDS = 60;

/**
 * The status and headers of a response refusing a whole request with `error` (GET /export,
 * the GraphQL gate, a WebSocket upgrade): 401 with a `Bearer realm="tracegate"` challenge,
 * 429 and 503 with Retry-After (`extensions.retryAfterSeconds`, else 60 s), 400, 403, 404,
 * 413 without headers, 500 for every other code.
 */
export function httpStatusOf(error: { code: ErrorCode; extensions?: Readonly<Record<string, unknown>> }): HttpRefusal {
  const status = HTTP_STATUS[error.code]?.status ?? 500;
  if (status === 401) return { status, headers: { "WWW-Authenticate": 'Bearer realm="tracegate"' } };
  if (status === 429 || status === 503) {
    const seconds = error.extensions?.retryAfterSeconds;
    return { status, headers: { "Retry-After": String(typeof seconds === "number" ? seconds : DEFAULT_RETRY_AFTER_SECONDS) } };
  }
  return { status, headers: {} };
}

/**
 * The `extensions.http` a GraphQL error with `code` carries: the status and headers of
 * httpStatusOf for the codes that set a GraphQL response's status, none for field errors.
 */
export function graphqlHttpOf(code: ErrorCode, extensions?: Readonly<Record<string, unknown>>): HttpRefusal | undefined {
  return HTTP_STATUS[code]?.graphql ? httpStatusOf(extensions ? { code, extensions } : { code }) : undefined;
}

/** The code a refused response's HTTP status stands for (the access log of routes without a GraphQL result); OK below 400. */
export function codeOfHttpStatus(status: number): ErrorCode | "OK" {
  if (status < 400) return "OK";
  const entry = Object.entries(HTTP_STATUS).find(([, http]) => http.status === status);
  return (entry?.[0] as ErrorCode | undefined) ?? "INTERNAL_SERVER_ERROR";
}

/** A GraphQL error with one of tracegate's codes; its message is meant for the client. */
export class TracegateError extends GraphQLError {
  readonly code: ErrorCode;
  readonly [BRAND] = true;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    const http = graphqlHttpOf(code, details);
    super(message, { extensions: { code, ...details, ...(http ? { http } : {}) } });
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

/** The errno code of a failed file operation, else its message (for `cannot open ...: ENOENT`). */
export function errnoOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/**
 * The closed set of error codes a client can see in `extensions.code`. Everything else is
 * masked by the server (src/server/mask-errors.ts) and reported as INTERNAL_SERVER_ERROR
 * with an errorId that is also logged.
 */
import { GraphQLError } from "graphql";

export const ERROR_CODES = [
  /** Arguments or input that fail validation (bad dates, since > until, page size, ...). */
  "BAD_USER_INPUT",
  /** A pagination cursor that tracegate did not issue, or one for another ordering. */
  "INVALID_CURSOR",
  /** A node id or action id that names nothing. */
  "NOT_FOUND",
  /** An appended action id that is already stored or repeated in the batch. */
  "DUPLICATE_ACTION_ID",
  /** Syntax error in the GraphQL document. */
  "GRAPHQL_PARSE_FAILED",
  /** A document that does not validate against the schema. */
  "GRAPHQL_VALIDATION_FAILED",
  /** Anything unexpected; the message is masked and `errorId` points at the server log. */
  "INTERNAL_SERVER_ERROR",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const BRAND = Symbol.for("tracegate.TracegateError");

/** A GraphQL error with one of tracegate's codes; its message is meant for the client. */
export class TracegateError extends GraphQLError {
  readonly code: ErrorCode;
  readonly [BRAND] = true;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message, { extensions: { code, ...details } });
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

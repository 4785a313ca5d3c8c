/**
 * Error masking (docs/security-model.md#errors-and-masking; the coding rules are in
 * docs/code-style.md#coded-errors-and-masking). A client sees a tracegate code and message, a
 * GraphQL parse/validation error, or "Unexpected error." with INTERNAL_SERVER_ERROR and an
 * errorId; the original of a masked error is logged under the same errorId. Both carry the
 * request's id (`requestId`, the X-Request-Id header; access-log.ts) when there is one.
 */
import { randomUUID } from "node:crypto";
import { GraphQLError } from "graphql";
import { ERROR_CODES, type ErrorCode, graphqlHttpOf, isGraphQLError, isTracegateError, type TracegateError } from "../errors.js";
import { currentRequest } from "./access-log.js";
import type { Logger } from "../logger.js";

const KNOWN_CODES = new Set<string>(ERROR_CODES);

/** yoga's own codes for transport errors, in tracegate's vocabulary. */
const YOGA_CODES: Record<string, ErrorCode> = { REQUEST_ENTITY_TOO_LARGE: "PAYLOAD_TOO_LARGE" };

function tracegateCause(error: unknown): TracegateError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    if (isTracegateError(current)) return current;
    current = (current as { originalError?: unknown }).originalError;
  }
  return undefined;
}

/** How long a client should wait before retrying a write the database could not commit. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** A StoreUnavailableError in the cause chain (by name: stores throw it, see src/stores/trace-store.ts). */
function unavailableCause(error: unknown): Error | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    if (current instanceof Error && current.name === "StoreUnavailableError") return current;
    current = (current as { originalError?: unknown }).originalError;
  }
  return undefined;
}

/** Build yoga's `maskError`, logging masked originals through `logger`. */
export function createErrorMasker(logger: Logger) {
  return (error: unknown, message: string): Error => {
    const unavailable = unavailableCause(error);
    if (unavailable) {
      // Not a bug, an outage: a coded, retryable answer; the cause goes to the log.
      const errorId = randomUUID();
      const requestId = currentRequest()?.requestId;
      logger.warn({ errorId, requestId, err: unavailable.cause ?? unavailable }, unavailable.message);
      const retryAfterSeconds = UNAVAILABLE_RETRY_AFTER_SECONDS;
      return new GraphQLError("The database cannot store this write right now; nothing was stored. Retry later.", {
        ...(isGraphQLError(error) ? { nodes: error.nodes, path: error.path } : {}),
        extensions: {
          code: "UNAVAILABLE",
          errorId,
          ...(requestId ? { requestId } : {}),
          retryAfterSeconds,
          http: graphqlHttpOf("UNAVAILABLE", { retryAfterSeconds }),
        },
      });
    }
    const cause = tracegateCause(error);
    if (isGraphQLError(error)) {
      if (cause) {
        // Keep graphql-js's message (it names the variable or field) and our code.
        return new GraphQLError(error.message, {
          nodes: error.nodes,
          source: error.source,
          positions: error.positions,
          path: error.path,
          extensions: { ...error.extensions, ...cause.extensions },
        });
      }
      if (!error.originalError || isGraphQLError(rootCause(error))) {
        // Parse, validation and variable-coercion errors from graphql-js / yoga: the whole
        // cause chain is GraphQL's own, so nothing internal can leak through the message.
        const { originalError: _internal, ...extensions } = error.extensions as Record<string, unknown>;
        const code = extensions.code;
        if (typeof code === "string" && code in YOGA_CODES) {
          return new GraphQLError(error.message, { extensions: { ...extensions, code: YOGA_CODES[code] } });
        }
        if (typeof code === "string" && KNOWN_CODES.has(code)) {
          // yoga attaches the underlying JSON.parse error of a malformed body; not for clients.
          if (_internal === undefined) return error;
          return new GraphQLError(error.message, { nodes: error.nodes, path: error.path, extensions });
        }
        const fallback: ErrorCode = error.message.startsWith("Syntax Error") ? "GRAPHQL_PARSE_FAILED" : "GRAPHQL_VALIDATION_FAILED";
        return new GraphQLError(error.message, {
          nodes: error.nodes,
          source: error.source,
          positions: error.positions,
          path: error.path,
          extensions: { ...extensions, code: variableError(error) ? "BAD_USER_INPUT" : fallback },
        });
      }
    }
    const errorId = randomUUID();
    const requestId = currentRequest()?.requestId;
    const original = isGraphQLError(error) && error.originalError ? error.originalError : error;
    logger.error({ errorId, requestId, err: original }, "unexpected error");
    return new GraphQLError(message, {
      ...(isGraphQLError(error) ? { nodes: error.nodes, path: error.path } : {}),
      extensions: { code: "INTERNAL_SERVER_ERROR", errorId, ...(requestId ? { requestId } : {}) },
    });
  };
}

/** The innermost originalError of an error chain. */
function rootCause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5; depth++) {
    const next = (current as { originalError?: unknown }).originalError;
    if (!next) break;
    current = next;
  }
  return current;
}

/** graphql-js reports bad variable values and bad argument values without a code. */
function variableError(error: GraphQLError): boolean {
  return /^Variable "\$[^"]+" (got invalid value|of required type|of non-null type)/.test(error.message) ||
    /^Argument "[^"]+" has invalid value/.test(error.message) ||
    /^Expected value of type/.test(error.message);
}

/**
 * GraphQL over HTTP to the gateway that served this page, with the session's key, and the
 * failures a user must be able to tell apart: a refused key (UNAUTHENTICATED), a key
 * without the scope (FORBIDDEN), too many requests, and a gateway that cannot be reached.
 */
import { isSafeNumber, LosslessNumber, parse as losslessParse } from "lossless-json";
import type { TypedDocumentString } from "../gql/graphql.js";

/**
 * Parse a gateway response exactly: a number JavaScript can hold without change (a seq, a
 * count, 12.5) becomes a number; one it cannot (100.0, whose ".0" says float in the hashed
 * JSON, or an integer beyond 2^53) stays a LosslessNumber with its digits, so the trace
 * detail shows an auditor what was hashed, not a rounded copy.
 */
export function readJson(text: string): unknown {
  return losslessParse(text, null, (digits: string) =>
    isSafeNumber(digits) && String(Number(digits)) === digits ? Number(digits) : new LosslessNumber(digits),
  );
}

/** The GraphQL endpoint, on this origin (the CSP allows no other). */
export const GRAPHQL_PATH = "/graphql";

/** How a request failed, as far as the user needs to know. */
export type FailureKind = "UNAUTHENTICATED" | "FORBIDDEN" | "RATE_LIMITED" | "UNREACHABLE" | "BAD_USER_INPUT" | "ERROR";

/** A failed request: its kind, the gateway's error code and message when there was one. */
export class ApiError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

interface WireError {
  message?: string;
  extensions?: { code?: unknown; retryAfterSeconds?: unknown; errorId?: unknown };
}

/** Turn a gateway error (HTTP or graphql-ws) into an ApiError. */
export function fromGraphQLError(error: WireError | undefined): ApiError {
  const code = typeof error?.extensions?.code === "string" ? error.extensions.code : undefined;
  const message = error?.message ?? "The gateway answered with an error.";
  switch (code) {
    case "UNAUTHENTICATED":
      return new ApiError("UNAUTHENTICATED", message, code);
    case "FORBIDDEN":
      return new ApiError("FORBIDDEN", message, code);
    case "RATE_LIMITED": {
      const after = error?.extensions?.retryAfterSeconds;
      return new ApiError("RATE_LIMITED", typeof after === "number" ? `${message} Retry in ${after} s.` : message, code);
    }
    case "BAD_USER_INPUT":
    case "INVALID_CURSOR":
      return new ApiError("BAD_USER_INPUT", message, code);
    default: {
      const id = typeof error?.extensions?.errorId === "string" ? ` (error id ${error.extensions.errorId})` : "";
      return new ApiError("ERROR", `${message}${id}`, code);
    }
  }
}

/** A sentence for the user, saying what happened and what to do. */
export function describeFailure(error: unknown): string {
  if (!(error instanceof ApiError)) return `Unexpected error: ${String(error)}`;
  switch (error.kind) {
    case "UNAUTHENTICATED":
      return "The gateway does not accept this API key (UNAUTHENTICATED): it is unknown, mistyped or revoked. Sign in with a valid key.";
    case "FORBIDDEN":
      return `This API key is not allowed to do that (FORBIDDEN): ${error.message}`;
    case "RATE_LIMITED":
      return `Too many requests (RATE_LIMITED): ${error.message}`;
    case "UNREACHABLE":
      return `Server down or unreachable: the gateway cannot be reached (${error.message.replace(/\.$/, "")}). Try again when it is back.`;
    case "BAD_USER_INPUT":
      return `The gateway refused the input: ${error.message}`;
    case "ERROR":
      return `The gateway failed: ${error.message}`;
  }
}

/** Run one query with the key; resolves with its data or rejects with an ApiError. */
export async function request<R, V>(document: TypedDocumentString<R, V>, variables: V, key: string): Promise<R> {
  let response: Response;
  try {
    response = await fetch(GRAPHQL_PATH, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
        authorization: `Bearer ${key}`,
      },
      body: JSON.stringify({ query: document.toString(), variables }),
      cache: "no-store",
      credentials: "omit",
    });
  } catch (e) {
    throw new ApiError("UNREACHABLE", `${(e as Error).message || "network error"}.`);
  }
  const type = response.headers.get("content-type") ?? "";
  if (!/json/.test(type)) {
    // A proxy in front of a stopped gateway answers 502/503/504 with HTML.
    const kind = response.status >= 500 ? "UNREACHABLE" : "ERROR";
    throw new ApiError(kind, `HTTP ${response.status} ${response.statusText}.`);
  }
  let body: { data?: R | null; errors?: WireError[] };
  try {
    body = readJson(await response.text()) as typeof body;
  } catch (e) {
    throw new ApiError("UNREACHABLE", `the response broke off (${(e as Error).message}).`);
  }
  if (body.errors?.length) throw fromGraphQLError(body.errors[0]);
  if (!body.data) throw new ApiError("ERROR", `HTTP ${response.status} without data.`);
  return body.data;
}

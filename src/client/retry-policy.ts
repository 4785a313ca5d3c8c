/**
 * One classification of a failed gateway request, shared by the emitter (src/client/emitter.ts)
 * and the shipper (src/ship/follower.ts) so they never disagree about what is worth repeating
 * (issue 14, case 4: a poison trace answered as a server fault was retried for ever and
 * blocked every trace behind it).
 *
 * - Client faults are final: the gateway refused the content or the caller (bad values,
 *   scope, duplicates, authentication, size). Sending the same request again can only be
 *   refused again, so it is never retried; a refusal that names one trace
 *   (`extensions.field` = `input[3].principalId`, `records[3].args`) lets the caller drop or
 *   stop at exactly that trace and keep the rest.
 * - Transport faults (no answer: network error, timeout), 5xx, 429 and 408 are transient
 *   and retried, as are the codes of transient trouble whatever their status.
 * - The code wins over the status: a known client-fault code is final even on a 5xx (a proxy
 *   rewriting statuses), and an unknown code on a 4xx is final.
 *
 * Dependency-free, like the emitter that imports it (it is loaded into other processes).
 */

/** `extensions.code`s that mean "this request will never be accepted as it is". */
export const CLIENT_FAULT_CODES: ReadonlySet<string> = new Set([
  "BAD_USER_INPUT",
  "DUPLICATE_ACTION_ID",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "PAYLOAD_TOO_LARGE",
  "QUERY_TOO_COMPLEX",
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "NOT_CONFIGURED",
  "NOT_FOUND",
  "INVALID_CURSOR",
]);

/** `extensions.code`s of transient trouble on the gateway's side, whatever the HTTP status. */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set(["RATE_LIMITED", "INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "BAD_RESPONSE"]);

/**
 * Whether a failed request may succeed if sent again unchanged.
 * @param status the HTTP status, or undefined when no answer arrived (a transport fault)
 * @param code the first error's `extensions.code`, or null when the answer has none
 */
export function isRetryable(status: number | undefined, code: string | null): boolean {
  if (status === undefined) return true;
  if (code !== null && CLIENT_FAULT_CODES.has(code)) return false;
  if (code !== null && TRANSIENT_CODES.has(code)) return true;
  return status === 408 || status === 429 || status >= 500;
}

/**
 * The position in the batch of the one trace a refusal names, from its `extensions.field`
 * (`input[3].principalId` for recordTraces, `records[3]...` for recordTraceRecords), or null
 * when the refusal is about the whole request or names no valid position.
 */
export function refusedIndex(field: unknown, batch: "input" | "records", length: number): number | null {
  if (typeof field !== "string" || !field.startsWith(`${batch}[`)) return null;
  const close = field.indexOf("]");
  const digits = field.slice(batch.length + 1, close);
  if (close < 0 || !/^(?:0|[1-9][0-9]{0,8})$/.test(digits)) return null;
  const index = Number(digits);
  return index < length ? index : null;
}

/** graphql-js' variable coercion message names the bad value's path: `... got invalid value "x" at "input[1].invokedAt"; ...`. */
const COERCION_PATH = / at "((?:input|records)\[[0-9]{1,9}\][^"]{0,200})"/;

/**
 * The field a GraphQL error names: its `extensions.field`, else the path in a variable
 * coercion message (a bad enum or DateTime in one trace is refused before any resolver runs),
 * else a message starting with the field (`records[3]: ...`).
 */
export function refusedField(error: { message?: unknown; extensions?: { field?: unknown } } | undefined): string | null {
  const field = error?.extensions?.field;
  if (typeof field === "string") return field;
  const message = typeof error?.message === "string" ? error.message : "";
  return COERCION_PATH.exec(message)?.[1] ?? /^(?:input|records)\[[0-9]{1,9}\]/.exec(message)?.[0] ?? null;
}

/**
 * One classification of a failed gateway request, shared by the emitter (src/client/emitter.ts)
 * and the shipper (src/ship/transport.ts) so they never disagree about what is worth repeating
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
 * - When to retry is the server's to say where it says it: the Retry-After header, else
 *   `extensions.retryAfterSeconds` (readAnswer).
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

/** A GraphQL error as the gateway writes it; every field may be missing or of another type. */
export interface AnswerError {
  message?: unknown;
  extensions?: { code?: unknown; retryAfterSeconds?: unknown; field?: unknown };
}

/** What a gateway answer says, read the same way by the emitter and the shipper. */
export interface GatewayAnswer {
  /** The body, when it is a JSON object (a proxy's error page is not). */
  body: { data?: Record<string, unknown> | null; errors?: unknown } | undefined;
  /** The body's `errors`, [] when there are none. */
  errors: unknown[];
  /** errors[0]: the error whose code decides (isRetryable) and which names the refused trace (refusedField). */
  first: AnswerError | undefined;
  /** first's `extensions.code`, or null when it has none (or there is no error). */
  code: string | null;
  /** first's `message`, or null. */
  message: string | null;
  /**
   * How long the gateway asked the client to wait before a retry, in ms: the Retry-After
   * header (delay-seconds or an HTTP date), else `extensions.retryAfterSeconds`; undefined
   * when it asked nothing.
   */
  retryAfterMs: number | undefined;
}

/** Retry-After as delay-seconds or an HTTP date, in ms (never negative); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Read a gateway answer: its body text and Retry-After header. Never throws; a body that is
 * not JSON reads as no body and no errors.
 */
export function readAnswer(text: string, retryAfterHeader: string | null): GatewayAnswer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const body = typeof parsed === "object" && parsed !== null ? (parsed as GatewayAnswer["body"]) : undefined;
  const errors = Array.isArray(body?.errors) ? (body.errors as unknown[]) : [];
  const first = errors[0] as AnswerError | undefined;
  const code = typeof first?.extensions?.code === "string" ? first.extensions.code : null;
  const message = typeof first?.message === "string" ? first.message : null;
  const bodyRetry = first?.extensions?.retryAfterSeconds;
  const retryAfterMs = parseRetryAfter(retryAfterHeader) ?? (typeof bodyRetry === "number" ? bodyRetry * 1000 : undefined);
  return { body, errors, first, code, message, retryAfterMs };
}

/** Backoff bounds of a client: the first delay and the cap of its own exponential backoff, in ms. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

/**
 * How long to wait before retry number `attempt` (1 for the first retry), in ms, for the
 * emitter and the shipper alike. The gateway's Retry-After, when it gave one, is honoured
 * (a retry sooner than asked would only be refused again) plus up to 10% (at most 1 s) of
 * jitter; otherwise exponential from `initialMs`, capped at `maxMs`, with "equal jitter"
 * (half fixed, half random). Jitter spreads out many clients that failed together (a
 * gateway restart, one 429 window).
 */
export function retryDelayMs(attempt: number, backoff: Backoff, retryAfterMs: number | undefined): number {
  if (retryAfterMs !== undefined) return retryAfterMs + Math.random() * Math.min(1_000, retryAfterMs * 0.1);
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, attempt - 1));
  return base / 2 + (Math.random() * base) / 2;
}

/**
 * One recordTraces request of the emitter (./emitter.ts), and what its answer means. The
 * body is spliced from the buffered JSON without re-serialising it. What is retried and what
 * is final is not decided here but in ./retry-policy.ts, shared with the shipper
 * (src/ship/transport.ts), so the two never disagree.
 *
 * Dependency-free, like the rest of src/client.
 */
import { TraceEmitterError } from "./api.js";
import { isRetryable, readAnswer, refusedField, refusedIndex } from "./retry-policy.js";

// Selecting only seq keeps the response small (the emitter does not need the records), and seq is an
// acknowledgement field, readable by the traces:write-only key kernels use (src/graphql/types/Trace.ts).
const QUERY = "mutation RecordTraces($input:[TraceInput!]!){recordTraces(input:$input){seq}}";
const BODY_HEAD = `{"query":${JSON.stringify(QUERY)},"variables":{"input":[`;
const BODY_TAIL = "]}}";

/** The request body for these buffered traces (their JSON, in order). */
export function requestBody(jsons: readonly string[]): string {
  return BODY_HEAD + jsons.join(",") + BODY_TAIL;
}

/** Let a timer not keep the process alive (Node); a no-op where timers have no unref. */
export function unref(timer: unknown): void {
  (timer as { unref?: () => void } | null)?.unref?.();
}

/** A request's end: acknowledged, or the error (retryable or not) it is reported as. */
export type Outcome = { ok: true } | { ok: false; error: TraceEmitterError };

/** A response as success or a classified error. */
function classify(status: number, retryAfter: string | null, text: string, batchLength: number): Outcome {
  const answer = readAnswer(text, retryAfter);
  const { errors, first, retryAfterMs } = answer;
  const ok2xx = status >= 200 && status < 300;
  if (ok2xx && errors.length === 0 && Array.isArray(answer.body?.data?.recordTraces)) return { ok: true };
  const code = answer.code ?? (ok2xx ? "BAD_RESPONSE" : `HTTP_${status}`);
  const message = answer.message ?? (ok2xx ? "response is not a recordTraces result" : `HTTP ${status}`);
  // A refusal of the content is final; overload and server faults pass, and the batch is
  // safe to repeat because ingest is idempotent. A 2xx without a result (BAD_RESPONSE) is
  // most likely a proxy in the way: retried, and reported through onError each time. Any
  // other code on a 4xx is a refusal this client does not know, so it is not repeated blindly.
  const retryable = isRetryable(status, code);
  const error = new TraceEmitterError(code, message, { status, retryable, errors, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
  if (!retryable) error.traceIndex = refusedIndex(refusedField(first), "input", batchLength) ?? undefined;
  return { ok: false, error };
}

/** Where the request goes, and how long it may take. */
export interface RequestTarget {
  fetch: typeof fetch;
  url: string;
  headers: Record<string, string>;
  /** Abort the request after this long (ms): a TIMEOUT, retryable. */
  timeoutMs: number;
}

/**
 * POST one batch (`n` traces) and classify the answer; never throws. `abort` lets the caller
 * abandon the request (close() timed out).
 */
export async function postBatch(target: RequestTarget, body: string, n: number, abort: AbortController): Promise<Outcome> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, target.timeoutMs);
  unref(timer);
  try {
    const res = await target.fetch(target.url, { method: "POST", headers: target.headers, body, signal: abort.signal });
    const text = await res.text();
    return classify(res.status, res.headers.get("retry-after"), text, n);
  } catch (e) {
    // The request may or may not have reached the gateway; a repeat is safe (idempotent ingest).
    const error = timedOut
      ? new TraceEmitterError("TIMEOUT", `no response within ${target.timeoutMs} ms`, { retryable: true, cause: e })
      : new TraceEmitterError("NETWORK_ERROR", describe(e), { retryable: true, cause: e });
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

/** fetch's "fetch failed" hides the reason in `cause` (ECONNREFUSED, ...). */
function describe(e: unknown): string {
  const err = e as { message?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined;
  const cause = err?.cause;
  const detail = typeof cause?.code === "string" ? cause.code : typeof cause?.message === "string" ? cause.message : undefined;
  const message = typeof err?.message === "string" ? err.message : String(e);
  return detail === undefined ? message : `${message} (${detail})`;
}

/**
 * Sending verified records to a gateway's `recordTraceRecords`, until the gateway answers
 * for good.
 *
 * Exactness. Each record's trace goes to the gateway as text: the canonical JSON of the
 * losslessly parsed `trace` object (what the chain hashes), one string per record in the
 * `$records: [String!]!` variable. That text is pure ASCII (canonical JSON escapes every other
 * code unit, a lone surrogate as `\udXXX`), so JSON transport carries it exactly, and the
 * gateway parses it losslessly again: every record the reference can write arrives as
 * written. The gateway validates it (recordTraceRecords).
 *
 * Retries. What is repeated and what is final is decided once, in
 * src/client/retry-policy.ts, shared with the emitter: network errors, timeouts, 5xx, 429 and
 * the transient codes are retried with backoff (the gateway's ingest is idempotent, so a
 * repeat is acknowledged, not duplicated); a refusal is final, and names the record
 * (`records[i]`) when the gateway says which one. A request over the gateway's body limit is
 * reported as such, so the caller can split the batch.
 */
import { setTimeout as delay } from "node:timers/promises";
import { isRetryable, readAnswer, refusedField, refusedIndex, retryDelayMs } from "../client/retry-policy.js";

/**
 * The one document the shipper sends. It selects only what a write-only (traces:write) key
 * may read of what it just wrote.
 */
const DOCUMENT = "mutation Ship($records: [String!]!) { recordTraceRecords(records: $records) { seq actionId } }";

/** The request body (JSON) carrying these record texts, in order. */
export function buildRequestBody(texts: readonly string[]): string {
  return JSON.stringify({ query: DOCUMENT, variables: { records: texts } });
}

/** What the gateway returned for one acknowledged trace. */
export interface AckedTrace {
  seq: number;
  actionId: string;
}

/** How a batch ended. */
export type Delivery =
  /** Stored (or already stored): one acknowledgement per record, in order. */
  | { kind: "ack"; traces: AckedTrace[] }
  /** A stop was requested while retrying; nothing is known to be stored. */
  | { kind: "stopped" }
  /** `maxAttempts` transient failures in a row (the last one's `why`); nothing is known to be stored. */
  | { kind: "unavailable"; why: string; attempts: number }
  /** The request is over the gateway's body size limit; nothing was stored. */
  | { kind: "too-large" }
  /**
   * Refused for good; nothing of the batch was stored. `why` is `CODE: message` (or the HTTP
   * status); `index` is the record the refusal names (`records[i]`), null when it names none.
   */
  | { kind: "refused"; why: string; index: number | null };

/** One attempt's outcome: a Delivery, or a transient failure to retry (`afterMs` from the gateway). */
type Attempt = Exclude<Delivery, { kind: "stopped" | "unavailable" }> | { kind: "retry"; why: string; afterMs: number | null };

export interface TransportOptions {
  /** The gateway's GraphQL endpoint. */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>` (a key with traces:write). */
  apiKey: string;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** Abort one request after this long (ms) and retry it; default 60,000. */
  requestTimeoutMs?: number;
  /** Backoff between retries: first delay and cap (ms); defaults 250 and 30,000. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Aborted = stop retrying (a request in flight is still finished). */
  signal?: AbortSignal;
  /** Attempts per batch before giving up as `unavailable`; default unlimited (a follower waits out an outage). */
  maxAttempts?: number;
  /** One line per retry (`gateway unavailable for <label> (<why>); retry n in t ms`). */
  warn?: (line: string) => void;
}

/** Sends batches to one gateway with one key; holds no state between batches. */
export class GatewayTransport {
  readonly #options: TransportOptions;
  readonly #fetch: typeof fetch;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
  }

  /**
   * POST one batch until the gateway answers for good: acknowledged, refused (or over the
   * body limit), a stop was requested while retrying, or `maxAttempts` attempts failed. Transient failures are retried with
   * jittered exponential backoff from `retryBaseMs` up to `retryMaxMs`, or after the
   * gateway's Retry-After (retryDelayMs, shared with the emitter), each reported through
   * `warn`. Never throws.
   * @param texts the record texts, in order (canonical JSON of each trace)
   * @param label how `warn` names the batch, e.g. `seq 0..149`
   */
  async send(texts: readonly string[], label: string): Promise<Delivery> {
    const { signal } = this.#options;
    const retryMax = this.#options.retryMaxMs ?? 30_000;
    const body = buildRequestBody(texts);
    const backoff = { initialMs: this.#options.retryBaseMs ?? 250, maxMs: retryMax };
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#post(body, texts.length);
      if (outcome.kind !== "retry") return outcome;
      if (signal?.aborted) return { kind: "stopped" };
      if (attempt >= (this.#options.maxAttempts ?? Number.POSITIVE_INFINITY)) return { kind: "unavailable", why: outcome.why, attempts: attempt };
      const wait = retryDelayMs(attempt, backoff, outcome.afterMs ?? undefined);
      this.#options.warn?.(`gateway unavailable for ${label} (${outcome.why}); retry ${attempt} in ${Math.round(wait)} ms`);
      await delay(wait, undefined, signal ? { signal } : {}).catch(() => undefined); // an abort ends the wait early
      if (signal?.aborted) return { kind: "stopped" };
    }
  }

  /** One request, classified; never throws. */
  async #post(body: string, expected: number): Promise<Attempt> {
    let res: Response;
    let text: string;
    try {
      res = await this.#fetch(this.#options.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json", authorization: `Bearer ${this.#options.apiKey}` },
        body,
        signal: AbortSignal.timeout(this.#options.requestTimeoutMs ?? 60_000),
      });
      text = await res.text();
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      return { kind: "retry", why: `network: ${cause?.code ?? cause?.message ?? (e as Error).message}`, afterMs: null };
    }
    const answer = readAnswer(text, res.headers.get("retry-after"));
    const { code } = answer;
    if (code === "PAYLOAD_TOO_LARGE" || (code === null && res.status === 413)) return { kind: "too-large" };
    if (code !== null) {
      const why = `${code}: ${answer.message ?? ""}`;
      if (isRetryable(res.status, code)) return { kind: "retry", why, afterMs: answer.retryAfterMs ?? null };
      return { kind: "refused", why, index: refusedIndex(refusedField(answer.first), "records", expected) };
    }
    if (res.status >= 400 && isRetryable(res.status, null)) return { kind: "retry", why: `HTTP ${res.status}`, afterMs: answer.retryAfterMs ?? null };
    if (res.status >= 400) return { kind: "refused", why: `HTTP ${res.status} ${res.statusText}`.trim(), index: null };
    // A 2xx that is not one acknowledgement per record: stop rather than guess what was stored.
    const acked = answer.body?.data?.recordTraceRecords;
    if (!Array.isArray(acked) || acked.length !== expected) {
      return { kind: "refused", why: `unexpected answer (HTTP ${res.status}): ${text.slice(0, 200)}`, index: null };
    }
    return { kind: "ack", traces: acked as AckedTrace[] };
  }
}

/**
 * Posting batches of events to the collector until it answers for good.
 *
 * - 2xx: acknowledged. Only then may the cursor move (./forward.ts).
 * - No answer (refused connection, reset, timeout), 408, 429, 5xx: retried with backoff and
 *   jitter, the collector's Retry-After honoured (./retry.ts; src/client/retry-policy.ts).
 * - 413: the batch is over the collector's body limit; it is split in halves and each half
 *   sent on its own (a single event over the limit is refused for good). The limit is
 *   remembered for the rest of the run (`bodyLimit`): later batches are cut to the largest
 *   body the collector acknowledged below the smallest one it refused, so one 413 does not
 *   become a split per batch, and the split is logged once. It does not grow back until a
 *   restart: probing upwards would cost a refused request now and then, and a collector's
 *   body limit is its configuration, which changes with a restart of the forwarder's operator
 *   rather than on its own. A later 413 below the remembered size lowers it again (logged).
 * - Any other 4xx: the collector refuses the request itself (a bad token, a bad URL, a body
 *   it cannot parse), and the same request would be refused again: COLLECTOR_REFUSED.
 *
 * Splunk's indexer acknowledgement (useACK channels) is not used: a 2xx from HEC means the
 * events were received, as for any HTTP collector.
 */
import { isRetryable, parseRetryAfter } from "../client/retry-policy.js";
import { ForwardError } from "./errors.js";
import { batchBody, type OutEvent } from "./formats.js";
import { type Attempt, networkWhy, type RetryOptions, type Retried, untilAnswered } from "./retry.js";

export interface CollectorOptions {
  /** Where batches are POSTed. */
  url: string;
  /** `Authorization: <authScheme> <token>`; no header when undefined. */
  token?: string;
  authScheme: "Bearer" | "Splunk";
  contentType: string;
  /** Abort one request after this long (ms) and retry it. */
  requestTimeoutMs: number;
  retry: RetryOptions;
}

/** What one POST got: acknowledged, or over the body limit. */
type Answer = "ack" | "too-large";

/** Sends batches to one collector. */
export class Collector {
  readonly #options: CollectorOptions;
  /** The smallest body (bytes) the collector refused with 413; null before any. */
  #refusedBytes: number | null = null;
  /** The largest body (bytes) acknowledged below #refusedBytes since it was set; null before any. */
  #fitBytes: number | null = null;

  constructor(options: CollectorOptions) {
    this.#options = options;
  }

  /**
   * Deliver `events` (in seq order), calling `onAck` with each acknowledged run of them in
   * order (the whole batch, or its halves when the collector found it too large). Returns
   * `stopped` when a stop was requested while retrying (what was acknowledged before was
   * reported), `exhausted` when `maxAttempts` ran out.
   * @throws ForwardError COLLECTOR_REFUSED on a refusal that a repeat cannot change.
   */
  /**
   * Bytes a batch body should stay within after a 413 (the largest acknowledged body below the
   * smallest refused one, or one byte below that before any acknowledgement); undefined while
   * the collector refused nothing.
   */
  get bodyLimit(): number | undefined {
    if (this.#refusedBytes === null) return undefined;
    return this.#fitBytes ?? this.#refusedBytes - 1;
  }

  async deliver(events: readonly OutEvent[], onAck: (acked: readonly OutEvent[]) => Promise<void>): Promise<Retried<void>> {
    const body = batchBody(events);
    const result = await untilAnswered(() => this.#post(body), `collector ${this.#options.url}`, this.#options.retry);
    if (result.kind !== "done") return result;
    const bytes = Buffer.byteLength(body);
    if (result.value === "ack") {
      if (this.#refusedBytes !== null && bytes < this.#refusedBytes && bytes > (this.#fitBytes ?? 0)) this.#fitBytes = bytes;
      await onAck(events);
      return { kind: "done", value: undefined };
    }
    if (events.length === 1) {
      throw new ForwardError("COLLECTOR_REFUSED", `the collector refused the event of seq ${events[0]!.seq} as too large (HTTP 413, ${Buffer.byteLength(body)} bytes)`);
    }
    if (this.#refusedBytes === null || bytes < this.#refusedBytes) {
      // Logged the first time, and when a size acknowledged before is refused now (the collector's limit dropped).
      const shrank = this.#fitBytes !== null && this.#fitBytes >= bytes;
      const log = this.#refusedBytes === null || shrank;
      this.#refusedBytes = bytes;
      if (shrank) this.#fitBytes = null;
      if (log) {
        this.#options.retry.warn?.(
          `collector ${this.#options.url} found ${events.length} events (${bytes} bytes) too large (HTTP 413); sending them in halves, and ` +
            `batches below ${bytes} bytes from now on, the largest it acknowledges, until a restart (lower --batch-bytes to match)`,
        );
      }
    }
    const half = Math.ceil(events.length / 2);
    const first = await this.deliver(events.slice(0, half), onAck);
    if (first.kind !== "done") return first;
    return this.deliver(events.slice(half), onAck);
  }

  async #post(body: string): Promise<Attempt<Answer>> {
    const headers: Record<string, string> = { "content-type": this.#options.contentType };
    if (this.#options.token !== undefined) headers.authorization = `${this.#options.authScheme} ${this.#options.token}`;
    let res: Response;
    let text: string;
    try {
      // Redirects are not followed: the token would go to wherever the collector points.
      res = await fetch(this.#options.url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(this.#options.requestTimeoutMs) });
      text = await res.text();
    } catch (e) {
      return { kind: "retry", why: networkWhy(e), afterMs: undefined };
    }
    if (res.status >= 200 && res.status < 300) return { kind: "done", value: "ack" };
    if (res.status === 413) return { kind: "done", value: "too-large" };
    const why = `HTTP ${res.status}${text.trim() === "" ? "" : `: ${text.trim().slice(0, 200)}`}`;
    if (isRetryable(res.status, null)) return { kind: "retry", why, afterMs: parseRetryAfter(res.headers.get("retry-after")) };
    // A redirect (not followed, see above) and any other 4xx are final.
    throw new ForwardError("COLLECTOR_REFUSED", `the collector ${this.#options.url} refused the batch (${why}); fix the collector URL, token or format and run again`);
  }
}

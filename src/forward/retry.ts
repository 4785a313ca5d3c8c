/**
 * Repeating one HTTP request until it is answered for good, for both ends of the forwarder
 * (reading the gateway's export, posting to the collector). What is worth repeating is
 * src/client/retry-policy.ts's rule, shared with the emitter and the shipper: no answer
 * (network error, timeout), 408, 429 and 5xx; the wait is its retryDelayMs (exponential with
 * equal jitter, capped; the server's Retry-After honoured when it gave one).
 */
import { setTimeout as delay } from "node:timers/promises";
import { type Backoff, retryDelayMs } from "../client/retry-policy.js";

/** One attempt's outcome: a value, or a transient failure (`afterMs`: the server's Retry-After). */
export type Attempt<T> = { kind: "done"; value: T } | { kind: "retry"; why: string; afterMs: number | undefined };

export interface RetryOptions {
  backoff: Backoff;
  /** Attempts before giving up (the --once bound); default unlimited (a follower waits out an outage). */
  maxAttempts?: number;
  /** Aborted = stop waiting: `stopped` is returned after the attempt in flight. */
  signal?: AbortSignal;
  /** Called on every failed attempt (metrics). */
  onFailure?: () => void;
  /** One line per retry. */
  warn?: (line: string) => void;
}

/** How the attempts ended. */
export type Retried<T> = { kind: "done"; value: T } | { kind: "stopped" } | { kind: "exhausted"; why: string; attempts: number };

/**
 * Run `attempt` until it returns `done`, a stop is requested, or `maxAttempts` attempts
 * failed. A final failure is the attempt's to throw (it is not caught here).
 * @param what how a retry line names the request, e.g. `collector http://…` (no secrets)
 */
export async function untilAnswered<T>(attempt: () => Promise<Attempt<T>>, what: string, options: RetryOptions): Promise<Retried<T>> {
  const { signal } = options;
  for (let n = 1; ; n++) {
    const outcome = await attempt();
    if (outcome.kind === "done") return outcome;
    options.onFailure?.();
    if (signal?.aborted) return { kind: "stopped" };
    if (n >= (options.maxAttempts ?? Number.POSITIVE_INFINITY)) return { kind: "exhausted", why: outcome.why, attempts: n };
    const wait = retryDelayMs(n, options.backoff, outcome.afterMs);
    options.warn?.(`${what} unavailable (${outcome.why}); retry ${n} in ${Math.round(wait)} ms`);
    await delay(wait, undefined, signal ? { signal } : {}).catch(() => undefined); // an abort ends the wait early
    if (signal?.aborted) return { kind: "stopped" };
  }
}

/** The transport failure of a fetch that got no answer, for messages: `network: ECONNREFUSED`, `timeout`. */
export function networkWhy(e: unknown): string {
  if ((e as Error).name === "TimeoutError") return "timeout";
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return `network: ${cause?.code ?? cause?.message ?? (e as Error).message}`;
}

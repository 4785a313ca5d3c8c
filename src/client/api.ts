/**
 * The emitter's public surface (re-exported by ./index.ts): the trace a kernel emits, the
 * options, the counters, why traces are dropped, and the error every failed request is
 * reported as. Kept apart from the machinery in ./emitter.ts so a caller's types never depend
 * on how the buffer or the requests work.
 *
 * Dependency-free, like the rest of src/client (it is loaded into other processes).
 */

/** What the kernel recorded. Absent means INVOKE. */
export type TraceEventType = "INVOKE" | "EXPAND" | "DENY";
export type TraceResponseMode = "HANDLE_ONLY" | "RAW" | "SUMMARY" | "TABLE";
export type TraceSensitivity = "MEMORY" | "NONE" | "PCI" | "PII" | "SECRETS";

/** One trace, shaped as the gateway's GraphQL `TraceInput` (see schema.graphql). */
export interface EmitTrace {
  actionId: string;
  capabilityId: string;
  principalId: string;
  /** RFC 3339 string (microseconds kept) or a Date (millisecond precision). */
  invokedAt: string | Date;
  responseMode: TraceResponseMode;
  eventType?: TraceEventType | null;
  tokenId?: string | null;
  driverId?: string | null;
  handleId?: string | null;
  sensitivity?: TraceSensitivity | null;
  reasonCode?: string | null;
  /** Non-null (even empty) makes the outcome FAILED. */
  error?: string | null;
  /** Already redacted invocation args. Integers must be safe (|n| <= 2^53 - 1). */
  args?: Record<string, unknown> | null;
  resultSummary?: Record<string, unknown> | null;
}

/**
 * Why traces were given up on:
 * - `buffer_full`: emitted while `maxBuffer` traces were waiting (never buffered);
 * - `invalid`: failed the emitter's cheap checks, or could not be serialised (never buffered);
 * - `rejected`: the gateway refused the batch with a non-retryable code (see the error);
 * - `retries_exhausted`: a retryable failure persisted for `retry.maxAttempts` attempts;
 * - `closed`: emitted after close(), or still unconfirmed when close() timed out.
 */
export type DropReason = "buffer_full" | "invalid" | "rejected" | "retries_exhausted" | "closed";

/** A failed request (or, for `invalid` drops, a trace the emitter refused). */
export class TraceEmitterError extends Error {
  override name = "TraceEmitterError";
  /**
   * The gateway's `extensions.code` (BAD_USER_INPUT, RATE_LIMITED, ...), or the emitter's own:
   * NETWORK_ERROR, TIMEOUT, HTTP_<status> (no code in the body), BAD_RESPONSE (2xx that is
   * not a recordTraces result), INVALID_TRACE.
   */
  readonly code: string;
  /** HTTP status, when a response arrived. */
  readonly status: number | undefined;
  /** Whether the emitter retries this kind of failure. */
  readonly retryable: boolean;
  /** For a refusal naming one trace: its position in the batch (it alone is dropped). */
  traceIndex: number | undefined;
  /** The server's Retry-After (header, else extensions.retryAfterSeconds), in ms. */
  readonly retryAfterMs: number | undefined;
  /** The GraphQL errors of the response, as received. */
  readonly errors: readonly unknown[];
  /** Which attempt at this batch failed (1 = the first request). */
  attempt = 0;
  /** When the batch will be sent again; undefined when it is not (it was dropped). */
  retryInMs: number | undefined;

  constructor(
    code: string,
    message: string,
    details: { status?: number; retryable: boolean; retryAfterMs?: number; errors?: readonly unknown[]; cause?: unknown },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = details.status;
    this.retryable = details.retryable;
    this.retryAfterMs = details.retryAfterMs;
    this.traceIndex = undefined;
    this.errors = details.errors ?? [];
  }
}

export interface RetryOptions {
  /** First backoff delay (ms), doubled per attempt; default 250. */
  initialMs?: number;
  /** Cap of the backoff delay (ms); default 30,000. A server's Retry-After is honoured even when longer. */
  maxMs?: number;
  /**
   * Attempts per batch before it is dropped as `retries_exhausted`; default Infinity: an
   * outage stalls the batch (later traces wait behind it, then overflow into `buffer_full`
   * drops) rather than losing it.
   */
  maxAttempts?: number;
}

export interface TraceEmitterOptions {
  /** The gateway's GraphQL endpoint, e.g. http://localhost:4000/graphql. */
  url: string;
  /** An API key with the traces:write scope. */
  apiKey: string;
  /** Traces per recordTraces request (1 to 5,000, the gateway's maximum); default 100. */
  batchSize?: number;
  /**
   * Upper bound of a request's serialised traces, in UTF-16 code units (a byte count for
   * ASCII); default 1 MiB, well under the gateway's 16 MiB default body limit even for
   * non-ASCII text. A single larger trace is still sent alone.
   */
  maxBatchChars?: number;
  /** A partial batch is sent after at most this long (ms); default 1,000. */
  flushIntervalMs?: number;
  /** Traces held (the in-flight batch included) before new ones are dropped; default 10,000. */
  maxBuffer?: number;
  /**
   * Only traces matching every given list are sent; others are silently counted as
   * `filtered`. An empty list allows nothing.
   */
  allow?: {
    eventTypes?: readonly TraceEventType[];
    /** Exact capability ids or patterns (tested against the whole id). */
    capabilities?: readonly (string | RegExp)[];
  };
  /**
   * Every trace that will never be sent is reported here exactly once (asynchronously, never
   * from inside emit()). Traces taken from the buffer are reported as sent (JSON copies).
   */
  onDrop?(traces: EmitTrace[], reason: DropReason, error?: TraceEmitterError): void;
  /** Every failed request, retried (`error.retryInMs` set) or not. */
  onError?(error: TraceEmitterError, traces: EmitTrace[]): void;
  retry?: RetryOptions;
  /** Abort a request after this long (ms) and retry it; default 30,000. */
  requestTimeoutMs?: number;
  /** The fetch to use (default: the global one), e.g. to add a proxy dispatcher. */
  fetch?: typeof fetch;
}

export interface TraceEmitterStats {
  /** Traces buffered and not yet settled, the in-flight batch included. */
  queued: number;
  /** Traces of the request in flight (0 or one batch). */
  inFlight: number;
  /** Traces the gateway acknowledged. */
  sent: number;
  /** Traces given up on without a final answer from the gateway: buffer_full, invalid, closed. */
  dropped: number;
  /** Traces given up on after requests failed: rejected, retries_exhausted. */
  failed: number;
  /** Traces the allow-list kept back. */
  filtered: number;
  /** Requests that were repeats of a failed one. */
  retries: number;
  /** Requests made. */
  requests: number;
}

export interface TraceEmitter {
  /** Queue a trace. Returns at once; never throws, whatever it is given. */
  emit(trace: EmitTrace): void;
  /**
   * Resolves when every trace emitted before the call was sent or dropped. Sends partial
   * batches immediately; during an outage it waits for the gateway (or `retry.maxAttempts`).
   */
  flush(): Promise<void>;
  /**
   * Stop accepting traces, flush, and stop the timer. After `timeoutMs` (default 10,000) the
   * request in flight is aborted and whatever is unconfirmed is dropped as `closed` (an
   * aborted batch may nevertheless have been recorded). Idempotent; never rejects.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
  /** Counters since creation. */
  stats(): TraceEmitterStats;
}

/**
 * A fire-and-forget trace emitter for agent kernels: `emit(trace)` costs the caller a few
 * microseconds and never throws or blocks; traces are batched into `recordTraces` mutations
 * and shipped in the background, one request at a time, in emit order.
 *
 * Why it looks the way it does:
 * - The caller is an agent's hot path. Anything that can fail or wait (the network, the
 *   gateway, user callbacks) runs later, outside emit().
 * - Ingest is idempotent (an identical trace re-sent is acknowledged, not duplicated), so a
 *   request whose outcome is unknown (timeout, reset connection, 5xx) is simply sent again.
 * - recordTraces is all or nothing and the chain is ordered, so exactly one request is in
 *   flight and a failing batch stays at the head of the buffer until it is settled.
 * - Memory is bounded: when the buffer is full, new traces are dropped and reported rather
 *   than growing without limit while the gateway is down.
 *
 * - A refusal that names one trace (`extensions.field` = `input[3]...`) drops exactly that
 *   trace (onDrop, `rejected`) and sends the rest: one poison trace never blocks the traces
 *   queued behind it. What is retried and what is final is decided in ./retry-policy.ts,
 *   shared with the shipper.
 *
 * Dependency-free on purpose (global fetch only): it is loaded into other people's processes.
 */
import { isRetryable, readAnswer, refusedField, refusedIndex } from "./retry-policy.js";

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

/** The gateway's own limits (src/resolvers/recordTraces.ts), checked here so a batch is never refused for them. */
const MAX_BATCH = 5_000;
const MAX_ID_LENGTH = 1_024;
const MAX_ERROR_LENGTH = 65_536;

// Selecting only seq keeps the response small (the emitter does not need the records), and seq is an
// acknowledgement field, readable by the traces:write-only key kernels use (src/schema/types/Trace.ts).
const QUERY = "mutation RecordTraces($input:[TraceInput!]!){recordTraces(input:$input){seq}}";
const BODY_HEAD = `{"query":${JSON.stringify(QUERY)},"variables":{"input":[`;
const BODY_TAIL = "]}}";

const EVENT_TYPES: ReadonlySet<unknown> = new Set(["INVOKE", "EXPAND", "DENY"]);
const RESPONSE_MODES: ReadonlySet<unknown> = new Set(["HANDLE_ONLY", "RAW", "SUMMARY", "TABLE"]);
const SENSITIVITIES: ReadonlySet<unknown> = new Set(["MEMORY", "NONE", "PCI", "PII", "SECRETS"]);

// setImmediate lets the caller's current task finish before a request is built; setTimeout
// is the fallback outside Node.
const defer: (fn: () => void) => void =
  typeof setImmediate === "function" ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0);

/** Let a timer not keep the process alive (Node); a no-op where timers have no unref. */
function unref(timer: unknown): void {
  (timer as { unref?: () => void } | null)?.unref?.();
}

const optionalId = (v: unknown) => v == null || (typeof v === "string" && v.length <= MAX_ID_LENGTH);
const optionalObject = (v: unknown) => v == null || (typeof v === "object" && !Array.isArray(v));

/**
 * Where `v` holds a number JSON.stringify would not carry exactly, or null: NaN and ±Infinity
 * (written as null) and integers beyond 2^53 (written with digits of another integer:
 * 2**60 becomes 1152921504606847000). The gateway hashes the digits it receives, so such a
 * value is refused here instead of changed silently; bigints carry big integers exactly.
 */
function inexactNumber(v: unknown, path: string, depth = 0): string | null {
  if (typeof v === "number") return Number.isFinite(v) && (!Number.isInteger(v) || Number.isSafeInteger(v)) ? null : path;
  if (v === null || typeof v !== "object" || depth > 64) return null;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const found = inexactNumber(v[i], `${path}[${i}]`, depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
  for (const k in v) {
    const found = inexactNumber((v as Record<string, unknown>)[k], `${path}.${k}`, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/**
 * What is wrong with a trace, or undefined. Deliberately cheap: types, enums, the gateway's
 * length limits and numbers JSON would change; a malformed date is left to the gateway.
 */
function problemOf(t: EmitTrace): string | undefined {
  const { actionId, capabilityId, invokedAt } = t;
  if (typeof actionId !== "string" || actionId.length === 0 || actionId.length > MAX_ID_LENGTH) {
    return "actionId must be a non-empty string of at most 1,024 characters";
  }
  if (typeof capabilityId !== "string" || capabilityId.length === 0 || capabilityId.length > MAX_ID_LENGTH) {
    return "capabilityId must be a non-empty string of at most 1,024 characters";
  }
  if (typeof t.principalId !== "string" || t.principalId.length > MAX_ID_LENGTH) return "principalId must be a string of at most 1,024 characters";
  if (typeof invokedAt === "string" ? invokedAt.length === 0 : !(invokedAt instanceof Date) || Number.isNaN(invokedAt.getTime())) {
    return "invokedAt must be an RFC 3339 string or a valid Date";
  }
  if (!RESPONSE_MODES.has(t.responseMode)) return "responseMode must be HANDLE_ONLY, RAW, SUMMARY or TABLE";
  if (t.eventType != null && !EVENT_TYPES.has(t.eventType)) return "eventType must be INVOKE, EXPAND or DENY";
  if (t.sensitivity != null && !SENSITIVITIES.has(t.sensitivity)) return "sensitivity must be MEMORY, NONE, PCI, PII or SECRETS";
  if (!optionalId(t.tokenId) || !optionalId(t.driverId) || !optionalId(t.handleId) || !optionalId(t.reasonCode)) {
    return "tokenId, driverId, handleId and reasonCode must be strings of at most 1,024 characters";
  }
  if (t.error != null && (typeof t.error !== "string" || t.error.length > MAX_ERROR_LENGTH)) return "error must be a string of at most 65,536 characters";
  if (!optionalObject(t.args) || !optionalObject(t.resultSummary)) return "args and resultSummary must be JSON objects";
  const inexact = inexactNumber(t.args, "args") ?? inexactNumber(t.resultSummary, "resultSummary");
  if (inexact !== null) return `${inexact} is NaN, Infinity or an integer beyond 2^53, which JSON would change; pass big integers as bigint`;
  return undefined;
}

/**
 * Stands in for a bigint's digits inside JSON.stringify's output. Random per process, so no
 * string in a caller's args (which may carry attacker-chosen text) can be mistaken for one.
 */
const BIGINT_MARK = `tracegate-bigint-${globalThis.crypto.randomUUID()}:`;
const BIGINT_MARKED = new RegExp(`"${BIGINT_MARK}(-?[0-9]+)"`, "g");

/**
 * The trace's JSON as sent, taken now: a caller mutating the object afterwards changes
 * nothing, and a value JSON cannot carry (cycles, functions) is refused here rather than
 * poisoning a whole batch later. Only TraceInput fields are copied, because GraphQL refuses
 * an input object with unknown fields; a fixed shape also keeps V8 on its fast path.
 *
 * Integers beyond 2^53 can be given as bigints (`accountId: 750727362669608961n`): they are
 * written with every digit, and the gateway hashes them exactly (its JSON variables keep
 * number lexemes). JSON.stringify refuses bigints, so only a trace holding one takes the
 * slower replacer path. (A JS number cannot say "float" for an integral value: 100.0 is
 * sent as 100; clients that need Python's float lexemes send raw records, see README.)
 */
function encode(t: EmitTrace): string {
  try {
    return JSON.stringify(inputOf(t));
  } catch (e) {
    if (!(e instanceof TypeError) || !/BigInt/i.test(e.message)) throw e;
    const text = JSON.stringify(inputOf(t), (_key, value: unknown) => (typeof value === "bigint" ? BIGINT_MARK + value.toString() : value));
    return text.replace(BIGINT_MARKED, "$1");
  }
}

function inputOf(t: EmitTrace): Record<string, unknown> {
  return {
    actionId: t.actionId,
    capabilityId: t.capabilityId,
    principalId: t.principalId,
    invokedAt: typeof t.invokedAt === "string" ? t.invokedAt : t.invokedAt.toISOString(),
    responseMode: t.responseMode,
    eventType: t.eventType,
    tokenId: t.tokenId,
    driverId: t.driverId,
    handleId: t.handleId,
    sensitivity: t.sensitivity,
    reasonCode: t.reasonCode,
    error: t.error,
    args: t.args,
    resultSummary: t.resultSummary,
  };
}

/** The allow-list as a predicate, or undefined when everything is allowed. */
function compileAllow(allow: TraceEmitterOptions["allow"]): ((t: EmitTrace) => boolean) | undefined {
  if (!allow || (allow.eventTypes === undefined && allow.capabilities === undefined)) return undefined;
  const types = allow.eventTypes === undefined ? undefined : new Set<unknown>(allow.eventTypes);
  const exact = new Set<unknown>();
  const patterns: RegExp[] = [];
  for (const c of allow.capabilities ?? []) {
    if (typeof c === "string") exact.add(c);
    // Without g/y, test() keeps no lastIndex state between calls.
    else patterns.push(new RegExp(c.source, c.flags.replace(/[gy]/g, "")));
  }
  const anyCapability = allow.capabilities === undefined;
  return (t) =>
    (types === undefined || types.has(t.eventType ?? "INVOKE")) &&
    (anyCapability || exact.has(t.capabilityId) || patterns.some((p) => p.test(t.capabilityId)));
}

type Outcome = { ok: true } | { ok: false; error: TraceEmitterError };

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

function positive(name: string, value: number, integer = false): number {
  if (!(value > 0) || (integer && !Number.isInteger(value))) throw new RangeError(`${name} must be a positive ${integer ? "integer" : "number"}; got ${value}`);
  return value;
}

class Emitter implements TraceEmitter {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #fetch: typeof fetch;
  readonly #batchSize: number;
  readonly #maxBatchChars: number;
  readonly #maxBuffer: number;
  readonly #allowed: ((t: EmitTrace) => boolean) | undefined;
  readonly #onDrop: TraceEmitterOptions["onDrop"];
  readonly #onError: TraceEmitterOptions["onError"];
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #maxAttempts: number;
  readonly #requestTimeoutMs: number;
  readonly #timer: ReturnType<typeof setInterval>;

  // The buffer: parallel arrays from #head on (ids for the in-batch duplicate check), so
  // emit() allocates nothing but the JSON string. Settled entries are compacted away lazily.
  #ids: string[] = [];
  #jsons: string[] = [];
  #head = 0;
  #chars = 0;
  // Entries are numbered in emit order: #enqueued counts entries buffered, #settled entries
  // removed from the head (sent or given up on). Everything below #due must go out now
  // (flush, timer, close) even as a partial batch.
  #enqueued = 0;
  #settled = 0;
  #due = 0;
  #waiters: { target: number; resolve: () => void }[] = [];

  #running = false;
  #scheduled = false;
  #closing: Promise<void> | undefined;
  /** No emit accepted any more. */
  #closed = false;
  /** Hard stop: the pump must not touch the buffer again. */
  #stopped = false;
  #abort: AbortController | undefined;
  #sleeping: { timer: ReturnType<typeof setTimeout>; wake: () => void } | undefined;
  #pendingFull: EmitTrace[] = [];

  #counts = { sent: 0, dropped: 0, failed: 0, filtered: 0, retries: 0, requests: 0 };
  #inFlight = 0;

  constructor(o: TraceEmitterOptions) {
    if (typeof o.url !== "string") throw new TypeError("url must be a string");
    this.#url = new URL(o.url).href; // throws on a malformed URL, at construction rather than on every request
    if (typeof o.apiKey !== "string" || o.apiKey.length === 0) throw new TypeError("apiKey must be a non-empty string");
    this.#headers = {
      "content-type": "application/json",
      // graphql-response+json makes the gateway answer request errors with 4xx statuses.
      accept: "application/graphql-response+json, application/json;q=0.9",
      authorization: `Bearer ${o.apiKey}`,
    };
    const f = o.fetch ?? globalThis.fetch;
    if (typeof f !== "function") throw new TypeError("no fetch: pass options.fetch");
    this.#fetch = f;
    this.#batchSize = positive("batchSize", o.batchSize ?? 100, true);
    if (this.#batchSize > MAX_BATCH) throw new RangeError(`batchSize must be at most ${MAX_BATCH} (the gateway's limit); got ${this.#batchSize}`);
    this.#maxBatchChars = positive("maxBatchChars", o.maxBatchChars ?? 1024 * 1024);
    this.#maxBuffer = positive("maxBuffer", o.maxBuffer ?? 10_000, true);
    const flushIntervalMs = positive("flushIntervalMs", o.flushIntervalMs ?? 1_000);
    this.#initialMs = positive("retry.initialMs", o.retry?.initialMs ?? 250);
    this.#maxMs = positive("retry.maxMs", o.retry?.maxMs ?? 30_000);
    this.#maxAttempts = positive("retry.maxAttempts", o.retry?.maxAttempts ?? Number.POSITIVE_INFINITY);
    this.#requestTimeoutMs = positive("requestTimeoutMs", o.requestTimeoutMs ?? 30_000);
    this.#allowed = compileAllow(o.allow);
    this.#onDrop = o.onDrop;
    this.#onError = o.onError;
    this.#timer = setInterval(() => {
      if (this.#enqueued > this.#settled) {
        this.#due = this.#enqueued;
        this.#kick();
      }
    }, flushIntervalMs);
    // The emitter must never be the reason a process stays up; close() is how to not lose the tail.
    unref(this.#timer);
  }

  emit(trace: EmitTrace): void {
    try {
      if (this.#closed) {
        this.#counts.dropped++;
        this.#reportLater([trace], "closed");
        return;
      }
      if (typeof trace !== "object" || trace === null) {
        this.#invalid(trace, "a trace must be an object");
        return;
      }
      if (this.#allowed !== undefined && !this.#allowed(trace)) {
        this.#counts.filtered++;
        return;
      }
      if (this.#enqueued - this.#settled >= this.#maxBuffer) {
        this.#counts.dropped++;
        // Coalesced: a flood against a full buffer makes one onDrop call, not one per trace.
        if (this.#pendingFull.push(trace) === 1) queueMicrotask(() => this.#reportFull());
        return;
      }
      const problem = problemOf(trace);
      if (problem !== undefined) {
        this.#invalid(trace, problem);
        return;
      }
      let json: string;
      try {
        json = encode(trace);
      } catch (e) {
        this.#invalid(trace, `not serialisable as JSON: ${(e as Error)?.message ?? e}`);
        return;
      }
      this.#ids.push(trace.actionId);
      this.#jsons.push(json);
      this.#chars += json.length;
      this.#enqueued++;
      if (this.#enqueued - this.#settled >= this.#batchSize || this.#chars >= this.#maxBatchChars) this.#kick();
    } catch (e) {
      // Only a hostile object gets here (a throwing getter, a Proxy): emit() never throws.
      try {
        this.#invalid(trace, `unreadable: ${(e as Error)?.message ?? e}`);
      } catch {
        // Nothing left to do without risking a throw.
      }
    }
  }

  flush(): Promise<void> {
    const target = this.#enqueued;
    if (this.#settled >= target) return Promise.resolve();
    if (target > this.#due) this.#due = target;
    const done = new Promise<void>((resolve) => this.#waiters.push({ target, resolve }));
    // Someone awaits the outcome now: a backoff in progress must keep the process alive.
    this.#sleeping?.timer.ref?.();
    this.#kick();
    return done;
  }

  close(options: { timeoutMs?: number } = {}): Promise<void> {
    return (this.#closing ??= this.#close(options.timeoutMs ?? 10_000));
  }

  stats(): TraceEmitterStats {
    return { queued: this.#enqueued - this.#settled, inFlight: this.#inFlight, ...this.#counts };
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Not unref'd: the caller awaits close(), so the process should wait for it too.
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
    const expired = await Promise.race([this.flush().then(() => false), timedOut]);
    clearTimeout(timer);
    if (expired) this.#stop();
    this.#stopped = true;
    if (this.#pendingFull.length > 0) this.#reportFull();
  }

  /** Abandon everything still buffered (close timed out). */
  #stop(): void {
    this.#stopped = true;
    this.#inFlight = 0;
    this.#abort?.abort();
    this.#sleeping?.wake();
    const n = this.#enqueued - this.#settled;
    if (n === 0) return;
    const rest = this.#jsons.slice(this.#head);
    this.#counts.dropped += n;
    this.#settle(n);
    this.#report(rest, "closed");
  }

  #invalid(trace: unknown, problem: string): void {
    this.#counts.dropped++;
    this.#reportLater([trace as EmitTrace], "invalid", new TraceEmitterError("INVALID_TRACE", problem, { retryable: false }));
  }

  #reportFull(): void {
    const traces = this.#pendingFull;
    this.#pendingFull = [];
    if (traces.length > 0) this.#callDrop(traces, "buffer_full");
  }

  /** Report from a microtask: user code never runs inside emit(). */
  #reportLater(traces: EmitTrace[], reason: DropReason, error?: TraceEmitterError): void {
    if (this.#onDrop) queueMicrotask(() => this.#callDrop(traces, reason, error));
  }

  /** Report buffered entries (JSON) as dropped. */
  #report(jsons: readonly string[], reason: DropReason, error?: TraceEmitterError): void {
    if (this.#onDrop) this.#callDrop(parseAll(jsons), reason, error);
  }

  #callDrop(traces: EmitTrace[], reason: DropReason, error?: TraceEmitterError): void {
    try {
      this.#onDrop?.(traces, reason, error);
    } catch {
      // A throwing callback must not stop the pump or reach emit()'s caller.
    }
  }

  #callError(error: TraceEmitterError, traces: () => EmitTrace[]): void {
    if (!this.#onError) return;
    try {
      this.#onError(error, traces());
    } catch {
      // As in #callDrop.
    }
  }

  /** Start the pump soon (after the caller's current task), unless it is running or scheduled. */
  #kick(): void {
    if (this.#running || this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    defer(() => {
      this.#scheduled = false;
      void this.#run();
    });
  }

  /** Send batches while any is ready, one request at a time. */
  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (let n = this.#ready(); n > 0; n = this.#ready()) await this.#send(n);
    } catch {
      // #send handles its own failures; this only guards the invariant that the pump stops cleanly.
    } finally {
      this.#running = false;
    }
  }

  /** Size of the batch to send now, or 0. */
  #ready(): number {
    const queued = this.#enqueued - this.#settled;
    if (queued === 0 || this.#stopped) return 0;
    if (queued < this.#batchSize && this.#chars < this.#maxBatchChars && this.#due <= this.#settled) return 0;
    // Cut the batch at the size limits and before an action id it already holds: the gateway
    // refuses a batch repeating an action id even when both traces are identical, while
    // across requests an identical trace is acknowledged (and a different one refused).
    const ids = new Set<string>();
    let chars = 0;
    let n = 0;
    for (let i = this.#head; n < queued && n < this.#batchSize; i++, n++) {
      const id = this.#ids[i]!;
      const len = this.#jsons[i]!.length;
      if (n > 0 && (chars + len > this.#maxBatchChars || ids.has(id))) break;
      ids.add(id);
      chars += len;
    }
    return n;
  }

  /** Send the first n buffered traces until they are acknowledged, refused or abandoned. */
  async #send(n: number): Promise<void> {
    const jsons = this.#jsons.slice(this.#head, this.#head + n);
    const body = BODY_HEAD + jsons.join(",") + BODY_TAIL;
    let parsed: EmitTrace[] | undefined;
    const traces = () => (parsed ??= parseAll(jsons));
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) this.#counts.retries++;
      this.#counts.requests++;
      this.#inFlight = n;
      const outcome = await this.#post(body, n);
      this.#inFlight = 0;
      if (this.#stopped) return; // close() timed out and already reported these as dropped
      if (outcome.ok) {
        this.#counts.sent += n;
        this.#settle(n);
        return;
      }
      const { error } = outcome;
      error.attempt = attempt;
      if (!error.retryable && error.traceIndex !== undefined) {
        // One trace refused: drop exactly it, and send the rest at once (a new request).
        const k = error.traceIndex;
        this.#counts.failed++;
        this.#callError(error, traces);
        this.#report([jsons[k]!], "rejected", error);
        this.#removeAt(k);
        if (n > 1) this.#due = Math.max(this.#due, this.#settled + n - 1);
        return;
      }
      if (!error.retryable || attempt >= this.#maxAttempts) {
        this.#counts.failed += n;
        this.#settle(n);
        this.#callError(error, traces);
        this.#report(jsons, error.retryable ? "retries_exhausted" : "rejected", error);
        return;
      }
      error.retryInMs = this.#delay(attempt, error.retryAfterMs);
      this.#callError(error, traces);
      await this.#sleep(error.retryInMs);
      if (this.#stopped) return;
    }
  }

  /** Backoff before attempt+1: the server's Retry-After when given, else exponential; both jittered. */
  #delay(attempt: number, retryAfterMs: number | undefined): number {
    // Jitter spreads out many emitters that failed together (a gateway restart, one 429 window).
    if (retryAfterMs !== undefined) return retryAfterMs + Math.random() * Math.min(1_000, retryAfterMs * 0.1);
    const base = Math.min(this.#maxMs, this.#initialMs * 2 ** (attempt - 1));
    return base / 2 + (Math.random() * base) / 2;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#sleeping = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      // Idle backoff must not keep a process alive, but a flush() or close() caller waits on it.
      if (this.#waiters.length === 0 && this.#closing === undefined) unref(timer);
      this.#sleeping = { timer, wake };
    });
  }

  /** One request; never throws. */
  async #post(body: string, n: number): Promise<Outcome> {
    const abort = new AbortController();
    this.#abort = abort;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, this.#requestTimeoutMs);
    unref(timer);
    try {
      const res = await this.#fetch(this.#url, { method: "POST", headers: this.#headers, body, signal: abort.signal });
      const text = await res.text();
      return classify(res.status, res.headers.get("retry-after"), text, n);
    } catch (e) {
      // The request may or may not have reached the gateway; a repeat is safe (idempotent ingest).
      const error = timedOut
        ? new TraceEmitterError("TIMEOUT", `no response within ${this.#requestTimeoutMs} ms`, { retryable: true, cause: e })
        : new TraceEmitterError("NETWORK_ERROR", describe(e), { retryable: true, cause: e });
      return { ok: false, error };
    } finally {
      clearTimeout(timer);
      if (this.#abort === abort) this.#abort = undefined;
    }
  }

  /**
   * Remove the entry k places after the head (a refused trace inside the in-flight batch).
   * Entries are numbered in emit order, so the ones after it move down by one, and so do the
   * flush targets and #due beyond it: a flush still waits for exactly the traces emitted before it.
   */
  #removeAt(k: number): void {
    if (k === 0) {
      this.#settle(1);
      return;
    }
    const i = this.#head + k;
    const number = this.#settled + k;
    this.#chars -= this.#jsons[i]!.length;
    this.#jsons.splice(i, 1);
    this.#ids.splice(i, 1);
    this.#enqueued--;
    if (this.#due > number) this.#due--;
    for (const w of this.#waiters) if (w.target > number) w.target--;
    while (this.#waiters.length > 0 && this.#waiters[0]!.target <= this.#settled) this.#waiters.shift()!.resolve();
  }

  /** Remove n entries from the head and resolve the flushes they complete. */
  #settle(n: number): void {
    for (let i = this.#head; i < this.#head + n; i++) this.#chars -= this.#jsons[i]!.length;
    this.#head += n;
    this.#settled += n;
    if (this.#head === this.#jsons.length) {
      this.#ids = [];
      this.#jsons = [];
      this.#head = 0;
      this.#chars = 0;
    } else if (this.#head >= 1_024 && this.#head * 2 >= this.#jsons.length) {
      // Amortised O(1): copy the live tail only once the dead head is at least as long.
      this.#ids = this.#ids.slice(this.#head);
      this.#jsons = this.#jsons.slice(this.#head);
      this.#head = 0;
    }
    while (this.#waiters.length > 0 && this.#waiters[0]!.target <= this.#settled) this.#waiters.shift()!.resolve();
  }
}

function parseAll(jsons: readonly string[]): EmitTrace[] {
  return jsons.map((j) => JSON.parse(j) as EmitTrace);
}

/** fetch's "fetch failed" hides the reason in `cause` (ECONNREFUSED, ...). */
function describe(e: unknown): string {
  const err = e as { message?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined;
  const cause = err?.cause;
  const detail = typeof cause?.code === "string" ? cause.code : typeof cause?.message === "string" ? cause.message : undefined;
  const message = typeof err?.message === "string" ? err.message : String(e);
  return detail === undefined ? message : `${message} (${detail})`;
}

/**
 * Create an emitter. Options are checked here (a TypeError or RangeError for a bad one);
 * from then on nothing the emitter does throws into the caller.
 */
export function createTraceEmitter(options: TraceEmitterOptions): TraceEmitter {
  return new Emitter(options);
}

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
 * The parts beside it: ./api.ts (public types and the error), ./encode.ts (checks and JSON
 * inside emit()), ./buffer.ts (the queue and the flushes waiting on it), ./request.ts (one
 * request and its answer). This file is the pump that drives them, and the callbacks.
 */
import { type DropReason, type EmitTrace, type TraceEmitter, TraceEmitterError, type TraceEmitterOptions, type TraceEmitterStats } from "./api.js";
import { TraceBuffer } from "./buffer.js";
import { compileAllow, encode, MAX_BATCH, parseAll, problemOf } from "./encode.js";
import { type Outcome, postBatch, type RequestTarget, requestBody, unref } from "./request.js";
import { retryDelayMs } from "./retry-policy.js";

// setImmediate lets the caller's current task finish before a request is built; setTimeout
// is the fallback outside Node.
const defer: (fn: () => void) => void =
  typeof setImmediate === "function" ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0);

/** An option's value when it is a positive number (an integer when `integer`); a RangeError otherwise. */
function positive(name: string, value: number, integer = false): number {
  if (!(value > 0) || (integer && !Number.isInteger(value))) throw new RangeError(`${name} must be a positive ${integer ? "integer" : "number"}; got ${value}`);
  return value;
}

class Emitter implements TraceEmitter {
  readonly #target: RequestTarget;
  readonly #batchSize: number;
  readonly #maxBatchChars: number;
  readonly #maxBuffer: number;
  readonly #allowed: ((t: EmitTrace) => boolean) | undefined;
  readonly #onDrop: TraceEmitterOptions["onDrop"];
  readonly #onError: TraceEmitterOptions["onError"];
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #maxAttempts: number;
  readonly #timer: ReturnType<typeof setInterval>;

  /** Traces waiting to be sent, as JSON, and the flushes waiting for them. */
  readonly #buffer = new TraceBuffer();

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
    const url = new URL(o.url).href; // throws on a malformed URL, at construction rather than on every request
    if (typeof o.apiKey !== "string" || o.apiKey.length === 0) throw new TypeError("apiKey must be a non-empty string");
    const headers = {
      "content-type": "application/json",
      // graphql-response+json makes the gateway answer request errors with 4xx statuses.
      accept: "application/graphql-response+json, application/json;q=0.9",
      authorization: `Bearer ${o.apiKey}`,
    };
    const f = o.fetch ?? globalThis.fetch;
    if (typeof f !== "function") throw new TypeError("no fetch: pass options.fetch");
    this.#batchSize = positive("batchSize", o.batchSize ?? 100, true);
    if (this.#batchSize > MAX_BATCH) throw new RangeError(`batchSize must be at most ${MAX_BATCH} (the gateway's limit); got ${this.#batchSize}`);
    this.#maxBatchChars = positive("maxBatchChars", o.maxBatchChars ?? 1024 * 1024);
    this.#maxBuffer = positive("maxBuffer", o.maxBuffer ?? 10_000, true);
    const flushIntervalMs = positive("flushIntervalMs", o.flushIntervalMs ?? 1_000);
    this.#initialMs = positive("retry.initialMs", o.retry?.initialMs ?? 250);
    this.#maxMs = positive("retry.maxMs", o.retry?.maxMs ?? 30_000);
    this.#maxAttempts = positive("retry.maxAttempts", o.retry?.maxAttempts ?? Number.POSITIVE_INFINITY);
    this.#target = { fetch: f, url, headers, timeoutMs: positive("requestTimeoutMs", o.requestTimeoutMs ?? 30_000) };
    this.#allowed = compileAllow(o.allow);
    this.#onDrop = o.onDrop;
    this.#onError = o.onError;
    this.#timer = setInterval(() => {
      if (this.#buffer.dueAll()) this.#kick();
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
      if (this.#buffer.queued >= this.#maxBuffer) {
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
      this.#buffer.push(trace.actionId, json);
      if (this.#buffer.queued >= this.#batchSize || this.#buffer.chars >= this.#maxBatchChars) this.#kick();
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
    if (this.#buffer.queued === 0) return Promise.resolve();
    const done = this.#buffer.flushed();
    // Someone awaits the outcome now: a backoff in progress must keep the process alive.
    this.#sleeping?.timer.ref?.();
    this.#kick();
    return done;
  }

  close(options: { timeoutMs?: number } = {}): Promise<void> {
    return (this.#closing ??= this.#close(options.timeoutMs ?? 10_000));
  }

  stats(): TraceEmitterStats {
    return { queued: this.#buffer.queued, inFlight: this.#inFlight, ...this.#counts };
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
    const n = this.#buffer.queued;
    if (n === 0) return;
    const rest = this.#buffer.peek();
    this.#counts.dropped += n;
    this.#buffer.settle(n);
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

  /** Size of the batch to send now, or 0 (see TraceBuffer.ready). */
  #ready(): number {
    return this.#stopped ? 0 : this.#buffer.ready(this.#batchSize, this.#maxBatchChars);
  }

  /** Send the first n buffered traces until they are acknowledged, refused or abandoned. */
  async #send(n: number): Promise<void> {
    const jsons = this.#buffer.peek(n);
    const body = requestBody(jsons);
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
        this.#buffer.settle(n);
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
        this.#buffer.removeAt(k);
        if (n > 1) this.#buffer.dueFirst(n - 1);
        return;
      }
      if (!error.retryable || attempt >= this.#maxAttempts) {
        this.#counts.failed += n;
        this.#buffer.settle(n);
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

  /** Backoff before attempt+1 (src/client/retry-policy.ts retryDelayMs, shared with the shipper). */
  #delay(attempt: number, retryAfterMs: number | undefined): number {
    return retryDelayMs(attempt, { initialMs: this.#initialMs, maxMs: this.#maxMs }, retryAfterMs);
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
      if (!this.#buffer.awaited && this.#closing === undefined) unref(timer);
      this.#sleeping = { timer, wake };
    });
  }

  /** One request; never throws. close() can abort it (#stop). */
  async #post(body: string, n: number): Promise<Outcome> {
    const abort = new AbortController();
    this.#abort = abort;
    try {
      return await postBatch(this.#target, body, n, abort);
    } finally {
      if (this.#abort === abort) this.#abort = undefined;
    }
  }
}

/**
 * Create an emitter. Options are checked here (a TypeError or RangeError for a bad one);
 * from then on nothing the emitter does throws into the caller.
 */
export function createTraceEmitter(options: TraceEmitterOptions): TraceEmitter {
  return new Emitter(options);
}

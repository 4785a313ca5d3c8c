/**
 * `tracegate forward`: push delivery of the audit trail to an HTTP collector (a SIEM's HTTP
 * input, Splunk's HTTP Event Collector), at least once, resuming from a persisted cursor.
 * Modelled on Teleport's event handler: the forwarder is a client of the gateway with its
 * own least-privilege identity (an API key holding only `traces:read`), reads in chain order
 * after its cursor, and retries both ends. CLI adapter: src/cli/forward.ts.
 *
 * The loop wires the parts, each with its reasons in its header:
 * - ./read.ts: pages of new records from GET /export (afterSeq, withSeq), retried;
 * - ./formats.ts: the event each record becomes (jsonl, ocsf, splunk-hec), seq in every one;
 * - ./deliver.ts: one batch to the collector, retried, 413 split, other 4xx final;
 * - ./state.ts: the cursor, replaced atomically and only after the collector's 2xx;
 * - ./metrics.ts: lag, delivered, failed attempts, last success, cursor ahead.
 *
 * The cursor against the gateway. Every read tells the chain (X-Tracegate-Chain-Id): a
 * cursor of another chain is refused (STATE), as its seqs say nothing about this one. A
 * newest matching seq below the cursor on the same chain is a restored backup: --once stops
 * with CURSOR_AHEAD (exit 1, so a cron job notices); a follower warns once, keeps going
 * after the cursor and sets the gauge tracegate_forward_cursor_ahead to 1 while it lasts.
 *
 * Batching. Records are read a page (`batch` records) at a time and sent in batches of at
 * most `batch` events and `batchBytes` bytes. A batch is sent when it is full; a partial one
 * when the gateway has nothing more and the oldest event in it has waited `flushMs`
 * (at once with --once, which ends at the newest seq there was when it began). So a busy chain goes out in full batches, a quiet one within
 * about flushMs + pollMs.
 *
 * Order of events. Batches are sent one at a time in seq order, so the cursor (the last seq
 * of the last acknowledged batch) has every matching record at or before it acknowledged.
 * A crash re-sends at most the batch in flight and those read after it: duplicates, never
 * gaps; every event carries its seq for the collector to drop them. A stop request (the
 * signal) lets the request in flight finish and its acknowledgement be saved, no more.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { Backoff } from "../client/retry-policy.js";
import { Collector } from "./deliver.js";
import { ForwardError } from "./errors.js";
import { type ForwardFormat, formatPlan, type HecMetadata, type OutEvent } from "./formats.js";
import type { ForwardMetrics } from "./metrics.js";
import { type ExportFilters, GatewayReader } from "./read.js";
import type { Retried } from "./retry.js";
import { type ForwardState, initialState, loadState, saveState } from "./state.js";

export interface ForwardOptions {
  /** The gateway's GraphQL endpoint (…/graphql) or base URL ending in "/". */
  gatewayUrl: string;
  /** A key with traces:read (maybe confined to principals). */
  apiKey: string;
  filters: ExportFilters;
  /** The collector URL batches are POSTed to (for splunk-hec, …/services/collector/event). */
  to: string;
  /** The collector's token: `Authorization: Bearer <token>`, or `Splunk <token>` for splunk-hec. */
  token?: string;
  format: ForwardFormat;
  /** splunk-hec: the events' metadata, and whether `event` is the export object or the OCSF event. */
  hec: HecMetadata;
  hecPayload: "jsonl" | "ocsf";
  /** The cursor file. */
  statePath: string;
  /** Keep polling for new records until the signal (false: deliver what exists and return). */
  follow: boolean;
  /** Events per batch (and records per read). */
  batch: number;
  /** Bytes per batch body, at most (a single larger event goes alone). */
  batchBytes: number;
  /** How long a partial batch may wait for more events (ms). */
  flushMs: number;
  /** Pause between reads of a gateway that had nothing new (ms). */
  pollMs: number;
  /** Per request, both ends (ms). */
  requestTimeoutMs: number;
  backoff: Backoff;
  /** Attempts per request before giving up (the --once bound); undefined: unlimited. */
  maxAttempts?: number;
  /** Aborted = stop: the request in flight finishes, its acknowledgement is saved. */
  signal?: AbortSignal;
  metrics: ForwardMetrics;
  /** Progress and retry lines (stderr). */
  log: (line: string) => void;
}

export interface ForwardSummary {
  /** Events acknowledged in this run. */
  delivered: number;
  /** The cursor as last saved (or loaded). */
  state: ForwardState;
  /** Why the run ended: everything there was delivered (--once), or a stop was requested. */
  ended: "done" | "stopped";
}

/** Lines of progress at most this often (as src/cli/progress.ts does for a log). */
const PROGRESS_EVERY_MS = 2_000;

/**
 * Forward until caught up (follow: false) or a stop is requested.
 * @throws ForwardError (./errors.ts): USAGE, STATE, GATEWAY_REFUSED, GATEWAY_UNAVAILABLE,
 *   COLLECTOR_REFUSED, COLLECTOR_UNAVAILABLE. Acknowledged work is saved first.
 */
export async function forward(options: ForwardOptions): Promise<ForwardSummary> {
  const state = (await loadState(options.statePath, options.to)) ?? initialState(options.to);
  return new Forwarder(options, state).run();
}

class Forwarder {
  readonly #o: ForwardOptions;
  readonly #reader: GatewayReader;
  readonly #collector: Collector;
  readonly #event: (record: { seq: number; line: string }) => string;
  #state: ForwardState;
  #delivered = 0;
  /** Read, not yet acknowledged, in seq order. */
  #pending: { event: OutEvent; bytes: number; /** When it was read (Date.now ms). */ readAt: number }[] = [];
  #pendingBytes = 0;
  /** The last seq read (the next read starts after it). */
  #readSeq: number | null;
  #lastProgress = 0;
  #sinceProgress = 0;
  /**
   * --once: the newest matching seq when the run began (undefined before the first read,
   * null when nothing matched). The run ends there, so a one-shot run on a busy chain ends.
   */
  #onceUntil: number | null | undefined;
  /** The cursor-ahead-of-the-gateway warning was given. */
  #warnedBehind = false;

  constructor(options: ForwardOptions, state: ForwardState) {
    this.#o = options;
    this.#state = state;
    this.#readSeq = state.ackedSeq;
    const plan = formatPlan(options.format, options.hec, options.hecPayload);
    this.#event = plan.event;
    const retry = (target: "gateway" | "collector") => ({
      backoff: options.backoff,
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      ...(options.signal ? { signal: options.signal } : {}),
      onFailure: () => options.metrics.failed.inc({ target }),
      warn: options.log,
    });
    this.#reader = new GatewayReader({
      url: options.gatewayUrl,
      apiKey: options.apiKey,
      format: plan.read,
      filters: options.filters,
      requestTimeoutMs: options.requestTimeoutMs,
      retry: retry("gateway"),
    });
    this.#collector = new Collector({
      url: options.to,
      ...(options.token === undefined ? {} : { token: options.token }),
      authScheme: plan.authScheme,
      contentType: plan.contentType,
      requestTimeoutMs: options.requestTimeoutMs,
      retry: retry("collector"),
    });
    options.metrics.setAcked(state.ackedSeq);
  }

  get #stopping(): boolean {
    return this.#o.signal?.aborted === true;
  }

  async run(): Promise<ForwardSummary> {
    const o = this.#o;
    o.log(
      `forwarding ${this.#reader.exportUrl} to ${o.to} as ${o.format}, ` +
        (this.#state.ackedSeq === null ? "from the start of the chain" : `after seq ${this.#state.ackedSeq} (cursor ${o.statePath})`),
    );
    for (;;) {
      if (this.#stopping) return this.#end("stopped");
      let caughtUp = true;
      if (this.#pending.length < o.batch) {
        const page = await this.#read();
        if (page === "stopped") return this.#end("stopped");
        caughtUp = page < o.batch || this.#onceDone();
      } else {
        caughtUp = false;
      }
      // Full batches go at once.
      while (this.#pending.length >= o.batch || this.#pendingBytes >= o.batchBytes) {
        if ((await this.#send()) === "stopped") return this.#end("stopped");
      }
      if (!caughtUp) continue;
      // The gateway has nothing more for now: a partial batch goes when it waited long enough.
      const due = (this.#pending[0]?.readAt ?? 0) + o.flushMs;
      if (this.#pending.length > 0 && (!o.follow || Date.now() >= due)) {
        while (this.#pending.length > 0) {
          if ((await this.#send()) === "stopped") return this.#end("stopped");
        }
      }
      if (!o.follow && this.#pending.length === 0) return this.#end("done");
      const wait = this.#pending.length > 0 ? Math.min(o.pollMs, Math.max(0, due - Date.now())) : o.pollMs;
      await delay(wait, undefined, o.signal ? { signal: o.signal } : {}).catch(() => undefined);
    }
  }

  /** Read one page after the last seq read into #pending; the number of records read, or "stopped". */
  async #read(): Promise<number | "stopped"> {
    const page = this.#unwrap(await this.#reader.read(this.#readSeq, this.#o.batch), "GATEWAY_UNAVAILABLE", "the gateway");
    if (page === "stopped") return page;
    this.#o.metrics.setGatewayLast(page.lastSeq);
    if (this.#onceUntil === undefined) this.#onceUntil = page.lastSeq;
    await this.#checkChain(page.chainId);
    const acked = this.#state.ackedSeq;
    const behind = acked !== null && page.lastSeq !== null && page.lastSeq < acked;
    this.#o.metrics.cursorAhead.set(behind ? 1 : 0);
    if (behind) {
      // The same chain (its id matched) without the records up to the cursor: a restored backup.
      // Seqs up to the cursor are not delivered again, and new records there would be skipped.
      const what = `the gateway's newest matching seq ${page.lastSeq} is below the cursor ${acked} of the same chain (a restored database backup?)`;
      if (!this.#o.follow) {
        throw new ForwardError(
          "CURSOR_AHEAD",
          `${what}; nothing was delivered. Records the gateway appends up to seq ${acked} would be skipped: set "ackedSeq" in ${this.#o.statePath} to ${page.lastSeq} to deliver from there, or keep it to go on after ${acked}`,
        );
      }
      if (!this.#warnedBehind) this.#o.log(`${what}; only seqs after ${acked} will be delivered (metric tracegate_forward_cursor_ahead is 1)`);
      this.#warnedBehind = true;
    }
    const readAt = Date.now();
    for (const record of page.records) {
      let text: string;
      try {
        text = this.#event(record);
      } catch (e) {
        throw new ForwardError("GATEWAY_REFUSED", `the gateway's record at seq ${record.seq} cannot be turned into a ${this.#o.format} event: ${(e as Error).message}`);
      }
      const bytes = Buffer.byteLength(text) + 1;
      this.#pending.push({ event: { seq: record.seq, text }, bytes, readAt });
      this.#pendingBytes += bytes;
      this.#readSeq = record.seq;
    }
    return page.records.length;
  }

  /**
   * The chain the gateway's seqs count in against the cursor's: a cursor of another chain is
   * refused; a cursor without one (from before the chain id) adopts the first it sees.
   * @throws ForwardError STATE on another chain.
   */
  async #checkChain(chainId: string | null): Promise<void> {
    // A gateway older than X-Tracegate-Chain-Id cannot tell; the cursor keeps what it has.
    if (chainId === null || chainId === this.#state.chainId) return;
    if (this.#state.chainId !== null) {
      throw new ForwardError(
        "STATE",
        `the cursor file ${this.#o.statePath} counts seqs of the gateway chain ${this.#state.chainId}, but ${this.#reader.exportUrl} serves the chain ${chainId} (another gateway or database); pass another --state.`,
      );
    }
    this.#state = { ...this.#state, chainId };
    // Saved at once for a cursor that has a position; a new one is saved with its first acknowledgement.
    if (this.#state.ackedSeq !== null) {
      await saveState(this.#o.statePath, this.#state);
      this.#o.log(`the cursor ${this.#o.statePath} had no gateway chain; it now names ${chainId}, the chain of ${this.#reader.exportUrl}`);
    }
  }

  /** --once: everything up to the newest seq as of the first read is read. */
  #onceDone(): boolean {
    if (this.#o.follow || this.#onceUntil === undefined) return false;
    return this.#onceUntil === null || (this.#readSeq ?? -1) >= this.#onceUntil;
  }

  /** Send the oldest pending events as one batch (within both limits); "stopped" when a stop came first. */
  async #send(): Promise<"sent" | "stopped"> {
    const o = this.#o;
    let take = 0;
    let bytes = 0;
    // After a 413, the body size the collector takes (./deliver.ts bodyLimit).
    const maxBytes = Math.min(o.batchBytes, this.#collector.bodyLimit ?? Number.POSITIVE_INFINITY);
    while (take < this.#pending.length && take < o.batch && (take === 0 || bytes + this.#pending[take]!.bytes <= maxBytes)) {
      bytes += this.#pending[take]!.bytes;
      take++;
    }
    const events = this.#pending.slice(0, take).map((p) => p.event);
    const result = await this.#collector.deliver(events, (acked) => this.#acknowledge(acked));
    const outcome = this.#unwrap(result, "COLLECTOR_UNAVAILABLE", `the collector ${o.to}`);
    return outcome === "stopped" ? "stopped" : "sent";
  }

  /** The collector acknowledged `acked` (the oldest pending events): save the cursor, then forget them. */
  async #acknowledge(acked: readonly { seq: number }[]): Promise<void> {
    const last = acked.at(-1)!.seq;
    this.#state = { ...this.#state, ackedSeq: last, delivered: this.#state.delivered + acked.length, updatedAt: new Date().toISOString() };
    await saveState(this.#o.statePath, this.#state);
    const removed = this.#pending.splice(0, acked.length);
    for (const p of removed) this.#pendingBytes -= p.bytes;
    this.#delivered += acked.length;
    this.#sinceProgress += acked.length;
    const m = this.#o.metrics;
    m.delivered.inc(acked.length);
    m.lastSuccess.set(Date.now() / 1000);
    m.setAcked(last);
    if (Date.now() - this.#lastProgress >= PROGRESS_EVERY_MS) this.#progress();
  }

  #progress(): void {
    if (this.#sinceProgress === 0) return;
    // The first count is since the previous line, the second the run's total; the lag counts seqs (./metrics.ts).
    this.#o.log(
      `delivered +${this.#sinceProgress} event(s) since the last line, ${this.#delivered} in this run; acknowledged up to seq ${this.#state.ackedSeq}; ` +
        `lag ${this.#o.metrics.lagSeqs} seq(s)`,
    );
    this.#sinceProgress = 0;
    this.#lastProgress = Date.now();
  }

  /** A retried request's value, "stopped", or the error of a --once run that gave up. */
  #unwrap<T>(result: Retried<T>, code: "GATEWAY_UNAVAILABLE" | "COLLECTOR_UNAVAILABLE", who: string): T | "stopped" {
    if (result.kind === "done") return result.value;
    if (result.kind === "stopped") return "stopped";
    throw new ForwardError(
      code,
      `${who} stayed unavailable for ${result.attempts} attempt(s) (${result.why}); delivered up to seq ${this.#state.ackedSeq ?? "(none)"}, which a rerun resumes after`,
    );
  }

  #end(ended: "done" | "stopped"): ForwardSummary {
    this.#progress();
    return { delivered: this.#delivered, state: this.#state, ended };
  }
}

/**
 * `tracegate ship`: follow a weaver-kernel JSONL trace store (one envelope per line, parsed by
 * src/ingest/reference-record.ts) as it grows, verify every new record against the chain, and
 * ship the verified traces to a gateway's `recordTraceRecords`, byte-exactly and at least once
 * (the gateway's ingest is idempotent, so a batch re-sent after a crash is acknowledged, not
 * duplicated). CLI adapter: src/cli/ship.ts.
 *
 * This is the poll loop that wires the parts, each with its own reasons in its header:
 * - ./state.ts: the saved position, replaced atomically and only after an acknowledgement;
 * - ./follow.ts: the checks that the file is still the one the position belongs to (else
 *   ROTATED), reading new complete lines, and chain verification (TAMPERED);
 * - ./transport.ts: one batch to the gateway, with the retry policy shared with the emitter;
 * - ./errors.ts: ShipError and its codes.
 *
 * Order of events. At the first verification failure the verified records before it are
 * shipped, the state saved, and the run stops with TAMPERED; nothing from the failing record
 * on is sent. A record the gateway refuses stops the run likewise, after the records before
 * it were shipped. A stop request (the signal) lets the request in flight finish and its
 * acknowledgement be saved, no more.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { RecordHasher } from "../chain/hash.js";
import { ShipError, type ShipPaths } from "./errors.js";
import { StoreFile, type VerifiedRecord } from "./follow.js";
import { acknowledge, type FileIdentity, initialState, loadState, saveState, type ShipState } from "./state.js";
import { type Delivery, GatewayTransport, type TransportOptions } from "./transport.js";

/** The store, the position, the verification and the pace; the gateway's part is TransportOptions. */
export interface ShipOptions extends TransportOptions {
  /** Absolute path of the JSONL store. */
  path: string;
  statePath: string;
  hash: RecordHasher;
  /** Keep polling for new lines (false: ship what is there and return). */
  follow: boolean;
  /** Records per recordTraceRecords call (fewer when a request is over the gateway's body limit). */
  batch: number;
  /** Pause between polls of a followed file (ms). */
  pollMs: number;
  /** Aborted = stop: the request in flight is finished and acknowledged work saved. */
  signal?: AbortSignal;
  /** Progress lines (stdout); warnings (stderr) go to `warn`. */
  log?: (line: string) => void;
}

export interface ShipSummary {
  /** Records acknowledged in this run. */
  shipped: number;
  /** The position as last saved (or, when nothing was shipped, as loaded). */
  state: ShipState;
  /** Why the run ended: everything there was shipped, or a stop was requested. */
  ended: "done" | "stopped";
  /** Bytes after the last complete line (a line still being written), when the run ended. */
  partialBytes: number;
}

/**
 * Ship new records of `options.path` until caught up (follow: false) or a stop is requested.
 * Acknowledged work is always saved first.
 * @throws ShipError: STATE (state file unreadable, invalid or unwritable), USAGE (no store),
 *   ROTATED, TAMPERED, GATEWAY (see ./errors.ts).
 */
export async function ship(options: ShipOptions): Promise<ShipSummary> {
  const state = (await loadState(options.statePath, options.path)) ?? initialState(options.path);
  return new Shipper(options, state).run();
}

/** `seq a..b` for a batch, as messages name it. */
const rangeOf = (records: readonly VerifiedRecord[]) => `seq ${records[0]!.seq}..${records.at(-1)!.seq}`;

/** One run of the shipper: the position and counters it advances, and the passes over the file. */
class Shipper {
  readonly #options: ShipOptions;
  readonly #paths: ShipPaths;
  readonly #transport: GatewayTransport;
  #state: ShipState;
  /** Records acknowledged in this run. */
  #shipped = 0;
  /** Unterminated bytes at the end of the file, as of the last pass. */
  #partialBytes = 0;

  constructor(options: ShipOptions, state: ShipState) {
    this.#options = options;
    this.#paths = { path: options.path, statePath: options.statePath };
    this.#state = state;
    this.#transport = new GatewayTransport(options);
  }

  async run(): Promise<ShipSummary> {
    for (;;) {
      if (this.#stopping()) return this.#summary("stopped");
      const finished = await this.#pass();
      if (!finished || this.#stopping()) return this.#summary("stopped");
      if (!this.#options.follow) return this.#summary("done");
      await delay(this.#options.pollMs, undefined, this.#options.signal ? { signal: this.#options.signal } : {}).catch(() => undefined); // an abort ends the wait early
    }
  }

  #summary(ended: ShipSummary["ended"]): ShipSummary {
    return { shipped: this.#shipped, state: this.#state, ended, partialBytes: this.#partialBytes };
  }

  #stopping(): boolean {
    return this.#options.signal?.aborted === true;
  }

  /** What was shipped so far, for the end of a stop message. */
  #sent(): string {
    return this.#state.lastSeq === null ? "nothing was shipped" : `shipped up to seq ${this.#state.lastSeq}`;
  }

  /** One pass over what the file holds beyond the saved offset. Returns false when stopped. */
  async #pass(): Promise<boolean> {
    const file = await StoreFile.open(this.#paths, this.#state, this.#options.follow);
    if (file === null) return true; // follow: wait for the kernel to create it
    try {
      if (file.size === this.#state.offset) {
        this.#partialBytes = 0;
        return true;
      }
      await file.checkSavedPosition(this.#state);
      let pending: VerifiedRecord[] = [];
      for await (const record of file.records(this.#state, this.#options.hash, this.#options.signal)) {
        pending.push(record);
        if (pending.length >= this.#options.batch) {
          if (!(await this.#flush(pending, file.identity))) return false;
          pending = [];
          if (this.#stopping()) return false;
        }
      }
      if (file.interrupted) return false;
      // Verified records before a failure are shipped first; then the failure stops the run.
      if (pending.length > 0 && !(await this.#flush(pending, file.identity))) return false;
      const failure = file.failure;
      if (failure) throw failure.withSuffix(`Stopped: ${this.#sent()}; nothing from seq ${failure.seq} on was sent.`);
      if (this.#state.ino === "") this.#state = { ...this.#state, ...file.identity };
      this.#partialBytes = await file.partialBytes(this.#state.offset);
      return true;
    } finally {
      await file.close();
    }
  }

  /**
   * Ship pending records in order, `options.batch` per request; saves the state after every
   * acknowledged request. A request over the gateway's body limit is split in halves. When
   * the gateway refuses one record (`records[i]`), the records before it are shipped first;
   * then the run stops (ShipError GATEWAY). Returns false when stopped.
   */
  async #flush(pending: VerifiedRecord[], identity: FileIdentity): Promise<boolean> {
    const queue: VerifiedRecord[][] = [];
    for (let i = 0; i < pending.length; i += this.#options.batch) queue.push(pending.slice(i, i + this.#options.batch));
    let refusal: ShipError | null = null;
    while (queue.length > 0) {
      // A stop lets the request in flight finish (and its acknowledgement be saved), no more.
      if (this.#stopping()) return false;
      const chunk = queue.shift()!;
      const delivery = await this.#transport.send(chunk.map((p) => p.text), rangeOf(chunk));
      switch (delivery.kind) {
        case "stopped":
          return false;
        case "unavailable":
          throw new ShipError(
            "GATEWAY",
            `the gateway did not take ${rangeOf(chunk)} after ${delivery.attempts} attempts (last: ${delivery.why}). Stopped: ${this.#sent()}.`,
            chunk[0]!.seq,
          );
        case "too-large":
          if (chunk.length === 1) {
            throw new ShipError(
              "GATEWAY",
              `the gateway refused seq ${chunk[0]!.seq}: alone, its request exceeds the gateway's body size limit (TRACEGATE_MAX_BODY_BYTES). Stopped: ${this.#sent()}.`,
              chunk[0]!.seq,
            );
          }
          queue.unshift(chunk.slice(0, chunk.length >> 1), chunk.slice(chunk.length >> 1));
          break;
        case "refused":
          refusal = this.#refusal(chunk, delivery);
          // Ship what came before the refused record, then stop.
          queue.length = 0;
          if (delivery.index !== null && delivery.index > 0) queue.push(chunk.slice(0, delivery.index));
          break;
        case "ack":
          await this.#acknowledged(chunk, delivery.traces, identity);
      }
    }
    if (refusal) throw refusal.withSuffix(`Stopped: ${this.#sent()}.`);
    return true;
  }

  /** The error for a refused batch, naming the record (and its line) when the gateway did. */
  #refusal(chunk: VerifiedRecord[], refused: Extract<Delivery, { kind: "refused" }>): ShipError {
    const bad = refused.index === null ? null : chunk[refused.index]!;
    const what = bad === null ? rangeOf(chunk) : `seq ${bad.seq} (${this.#paths.path}:${bad.lineNo})`;
    return new ShipError("GATEWAY", `the gateway refused ${what}: ${refused.why.replace(/\.$/, "")}.`, bad?.seq ?? chunk[0]!.seq);
  }

  /** Check the acknowledgement matches the batch, then save the new position. */
  async #acknowledged(chunk: VerifiedRecord[], acked: Extract<Delivery, { kind: "ack" }>["traces"], identity: FileIdentity): Promise<void> {
    const mismatch = acked.findIndex((a, i) => a.actionId !== chunk[i]!.actionId);
    if (mismatch >= 0) {
      throw new ShipError(
        "GATEWAY",
        `the gateway acknowledged seq ${chunk[mismatch]!.seq} as action_id ${String(acked[mismatch]!.actionId)}, not ${chunk[mismatch]!.actionId}. Stopped: ${this.#sent()}.`,
        chunk[mismatch]!.seq,
      );
    }
    const last = chunk.at(-1)!;
    this.#state = acknowledge(this.#state, identity, last, chunk.length);
    await saveState(this.#options.statePath, this.#state);
    this.#shipped += chunk.length;
    this.#options.log?.(`shipped ${rangeOf(chunk)} (${chunk.length} record(s))`);
  }
}

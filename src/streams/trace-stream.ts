/**
 * One subscriber's stream of traces: optionally a replay of stored traces after a seq,
 * then live traces, in seq order, with no gap and no duplicate
 * (docs/architecture.md#live-streams).
 *
 * The subscriber listens to the bus *before* it reads the head, so nothing committed in
 * between is missed. Live rows wait in a bounded queue. The database is the source of
 * truth: whenever the stream cannot vouch for the queue — a replay is asked for, a seq
 * arrived out of line (a lost or reordered bus message), or the queue overflowed because
 * the client reads slower than traces arrive — it drops the queue and reads the missing
 * range from the store in pages, then goes on live. A slow client therefore lags but loses
 * nothing, and the server holds at most one queue and one page per subscriber. The only
 * hole a client can see is one the chain itself has (records pruned before they were
 * read), and that comes as an explicit gap event.
 *
 * Subscribers with the same filter and scope hear the bus through one live group
 * (./live-group.ts), which filters each row once and hands every member the same event
 * object; replayed and caught-up traces are the subscriber's own objects.
 */
import type { ScopedTraceStore } from "../stores/scoped-trace-store.js";
import type { TraceFilter, TraceRow } from "../stores/trace-store.js";
import type { TraceBus } from "./bus.js";
import { joinLiveGroup, type TraceEvent } from "./live-group.js";

/**
 * A trace, or a range of seqs that no longer exist (pruned before they could be sent). Live
 * trace events are shared with the other members of the stream's live group (./live-group.ts).
 */
export type StreamEvent = TraceEvent | { readonly gap: { fromSeq: number; toSeq: number }; readonly trace?: undefined };

export interface TraceStreamOptions {
  /**
   * The subscriber's store: replays read through it, and live rows pass only when it admits
   * their principal, so a stream is confined exactly as the caller's queries are.
   */
  store: ScopedTraceStore;
  bus: TraceBus;
  filter: TraceFilter;
  /** Replay stored matching traces with a greater seq first; without it the stream starts now. */
  afterSeq?: number;
  /** Live rows held per subscriber before it falls back to reading the store. */
  queueLimit?: number;
  /** Rows per store read while catching up. */
  pageSize?: number;
  /** Throws when the subscriber's key is no longer valid; called every `recheckMs`. */
  recheck?: () => Promise<void>;
  recheckMs?: number;
}

/**
 * Takes a live event straight to the subscriber's connection, bypassing the iterator: true
 * when it wrote the event, false when it cannot now (its socket is backed up, the result is
 * not ready); the event then goes through the queue and the iterator as usual.
 */
export type LiveSink = (event: TraceEvent) => boolean;

/** A trace stream; `writeLiveTo` lets a transport take live events directly (see traceStream). */
export interface TraceStreamIterator extends AsyncIterableIterator<StreamEvent> {
  writeLiveTo(sink: LiveSink): void;
}

export const DEFAULT_QUEUE_LIMIT = 1_000;
const DEFAULT_PAGE_SIZE = 500;
const DEFAULT_RECHECK_MS = 5_000;

/**
 * The stream as an AsyncIterableIterator whose `return()` ends it promptly even while it
 * waits for the next trace (an async generator would only stop at its next event).
 *
 * Direct live writes (`writeLiveTo`): while the consumer waits for the next event with
 * nothing queued and nothing to read from the store, i.e. everything before was handed over,
 * a live event goes to the sink synchronously from the bus listener, in seq order; the
 * iterator only carries the replay, catch-up reads and whatever the sink declined. A
 * declined event (a backed-up socket) is queued, and the queue limit and catch-up from the
 * store apply as before.
 */
export function traceStream(options: TraceStreamOptions): TraceStreamIterator {
  const queueLimit = options.queueLimit ?? DEFAULT_QUEUE_LIMIT;
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  let queue: TraceEvent[] = [];
  /** What the group delivered before the head was read: rows, and each one's event (or undefined: not for us). */
  let pending: { row: TraceRow; event: TraceEvent | undefined }[] | null = [];
  let nextGlobal = 0;
  /** Every seq up to this one was sent or did not match (seen live, in order). */
  let covered = -1;
  let dirty = false;
  let stopped = false;
  let recheckDue = false;
  /** The last seq handed over (yielded or written to the sink). */
  let lastSent = -1;
  /** The consumer waits on an empty queue: live events may go to the sink. */
  let parked = false;
  let sink: LiveSink | null = null;
  let wake: (() => void) | null = null;
  const signal = () => {
    const w = wake;
    wake = null;
    w?.();
  };

  /**
   * Whether the sink wrote the event. It runs inside the bus listener, i.e. inside whoever
   * published: a sink that throws declines, and the event takes the iterator, where its
   * error reaches this subscriber alone.
   */
  const sinkTakes = (event: TraceEvent): boolean => {
    try {
      return sink!(event);
    } catch {
      return false;
    }
  };
  /** `event`: the group's event for the row, undefined when the scope or the filter leaves it out. */
  const accept = (row: TraceRow, event: TraceEvent | undefined) => {
    if (row.seq < nextGlobal) return; // already covered
    if (row.seq > nextGlobal) dirty = true; // a seq never arrived: read the store
    nextGlobal = row.seq + 1;
    if (!event) return;
    if (sink && parked && !dirty && !stopped && queue.length === 0 && event.trace.seq > lastSent && sinkTakes(event)) {
      lastSent = event.trace.seq;
      return;
    }
    if (queue.length >= queueLimit) {
      queue = [];
      dirty = true;
      return;
    }
    queue.push(event);
  };
  const unsubscribe = joinLiveGroup(options.bus, options.store, options.filter, (rows, events) => {
    if (pending) for (let i = 0; i < rows.length; i++) pending.push({ row: rows[i]!, event: events[i] });
    else {
      for (let i = 0; i < rows.length; i++) accept(rows[i]!, events[i]);
      // All of it written or filtered out while the consumer waits: nothing to wake it for.
      if (parked && sink && !dirty && queue.length === 0) {
        covered = nextGlobal - 1;
        return;
      }
    }
    signal();
  });
  const timer = setInterval(() => {
    recheckDue = true;
    signal();
  }, options.recheckMs ?? DEFAULT_RECHECK_MS);
  timer.unref();

  async function* run(): AsyncGenerator<StreamEvent> {
    const head = await options.store.head();
    const early = (pending ?? []).sort((a, b) => a.row.seq - b.row.seq);
    pending = null;
    if (options.afterSeq === undefined) {
      // The stream starts when it joined the bus, not when it read the head: rows that
      // committed in between were heard (`early`) and belong to it.
      lastSent = Math.min(head.nextSeq, early[0]?.row.seq ?? head.nextSeq) - 1;
      nextGlobal = lastSent + 1;
    } else {
      lastSent = options.afterSeq;
      nextGlobal = head.nextSeq;
      dirty = options.afterSeq < head.nextSeq - 1;
    }
    for (const { row, event } of early) accept(row, event);

    while (!stopped) {
      if (recheckDue) {
        recheckDue = false;
        await options.recheck?.();
      }
      if (dirty) {
        dirty = false;
        queue = [];
        // Read on after what this stream already passed live: a prune of records it saw go
        // by (matching or not) took nothing from this subscriber and is no gap.
        lastSent = Math.max(lastSent, covered);
        // Records below the chain's first seq were pruned before this subscriber read them.
        const first = await options.store.firstSeq();
        if (first !== null && first > lastSent + 1) {
          yield { gap: { fromSeq: lastSent + 1, toSeq: first - 1 } };
          lastSent = first - 1;
        }
        for (;;) {
          const page = await options.store.page({ filter: options.filter, order: "SEQ_ASC", after: { seq: lastSent }, limit: pageSize });
          for (const row of page) {
            if (stopped) return;
            yield { trace: row };
            lastSent = row.seq;
          }
          if (page.length < pageSize) break;
          // A replay of a long chain reads page after page; the SQLite adapter answers
          // synchronously, so let other requests run between pages.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        continue;
      }
      const event = queue.shift();
      if (event) {
        if (event.trace.seq > lastSent) {
          yield event;
          lastSent = event.trace.seq;
        }
        continue;
      }
      // Idle with an empty queue: every row heard so far was sent or filtered out.
      covered = nextGlobal - 1;
      parked = true;
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (stopped || dirty || recheckDue || queue.length > 0) signal();
      });
      parked = false;
    }
  }

  const inner = run();
  const stop = () => {
    stopped = true;
    unsubscribe();
    clearInterval(timer);
    signal();
  };
  return {
    next: () => inner.next().then((r) => {
      if (r.done) stop();
      return r;
    }, (e: unknown) => {
      stop();
      throw e;
    }),
    return: async () => {
      stop();
      await inner.return(undefined);
      return { done: true, value: undefined };
    },
    throw: async (e: unknown) => {
      stop();
      return inner.throw(e);
    },
    writeLiveTo(to: LiveSink) {
      sink = to;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

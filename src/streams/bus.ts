/**
 * The trace bus: every process publishes the records it appended, after they commit, and
 * every subscriber in every process hears them. In one process an in-memory EventTarget
 * does it; with REDIS_URL, Redis pub/sub carries them to every replica as well (and back to
 * the publisher itself), and a Redis outage only costs the other replicas' live view.
 *
 * The bus is only a wake-up service with the rows attached: Redis pub/sub may lose a
 * message (a reconnect, a slow subscriber), so streams never trust it to be complete.
 * They check that seqs arrive without holes and read the database when one appears
 * (src/streams/trace-stream.ts).
 */
import { setMaxListeners } from "node:events";
import type { Logger } from "../logger.js";
import type { TraceRow } from "../stores/trace-store.js";
import { softRedis } from "./redis.js";

/**
 * The channel of one chain. Two deployments sharing a Redis must never hear each other's
 * traces (a foreign seq would look like a hole, or worse, like a trace of this chain), so
 * the channel carries the chain's random id.
 */
export function tracesTopic(chainId: string): string {
  return `tracegate:traces:${chainId}`;
}

/** Listener of appended records (each call: one committed batch, ascending seq). */
export type TraceListener = (rows: readonly TraceRow[]) => void;

export interface TraceBus {
  publish(rows: readonly TraceRow[]): void;
  subscribe(listener: TraceListener): () => void;
  /** Whether the bus reaches the other replicas (Redis connected); absent: one process, always. */
  connected?(): boolean;
  close(): Promise<void>;
}

/** What the bus needs of an event target (the DOM's, or yoga's Redis-backed one). */
export interface EventTargetLike {
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
  dispatchEvent(event: Event): boolean;
}

/** A bus over an event target on one `topic`; `onClose` releases what the target holds (connections). */
export function eventTargetBus(
  target: EventTargetLike,
  topic: string,
  onClose: () => Promise<void> = async () => {},
): TraceBus {
  return {
    publish(rows) {
      if (rows.length > 0) target.dispatchEvent(new CustomEvent(topic, { detail: rows }));
    },
    subscribe(listener) {
      const handler = (event: Event) => listener((event as CustomEvent<readonly TraceRow[]>).detail);
      target.addEventListener(topic, handler);
      return () => target.removeEventListener(topic, handler);
    },
    close: onClose,
  };
}

/** The single-process bus. */
export function memoryBus(): TraceBus {
  const target = new EventTarget();
  // One listener per open subscription: many are normal, not a leak to warn about.
  setMaxListeners(0, target);
  return eventTargetBus(target, tracesTopic("local"));
}

/** What the Redis bus needs besides its URL. */
export interface RedisBusOptions {
  logger?: Logger;
  /**
   * The newest stored record (or none): announced again after Redis comes back, so every
   * subscriber (here and, through Redis, on other replicas) sees the seqs it missed during
   * the outage as a hole and reads them from the database (src/streams/trace-stream.ts).
   */
  latest?: () => Promise<readonly TraceRow[]>;
}

/** Delays after a Redis reconnection at which the newest record is announced again. */
const RESYNC_DELAYS_MS = [0, 1_000];

/**
 * A bus through Redis pub/sub at `url`: two connections (a subscribed connection can only
 * listen). Resolves once both are connected, so a misconfigured REDIS_URL fails at start.
 *
 * Redis failing later never fails an append or the process: records go to this process's
 * subscribers directly (not through Redis, so they keep flowing while Redis is down), and to
 * Redis for the other replicas when it is up; a publish that cannot be sent is dropped
 * (subscribers catch up from the database). This process also hears its own records back
 * through Redis; streams ignore seqs they already passed. The connections reconnect with
 * backoff (./redis.ts), and `connected()` says whether both are up.
 */
export async function redisBus(url: string, chainId: string, options: RedisBusOptions = {}): Promise<TraceBus> {
  const topic = tracesTopic(chainId);
  const local = new EventTarget();
  setMaxListeners(0, local);
  const deliver = (rows: readonly TraceRow[]) => {
    if (rows.length > 0) local.dispatchEvent(new CustomEvent(topic, { detail: rows }));
  };
  const send = (rows: readonly TraceRow[]) => {
    if (rows.length === 0 || !publisher.up()) return;
    publisher.client.publish(topic, JSON.stringify(rows)).catch(() => undefined);
  };
  let closed = false;
  const timers = new Set<NodeJS.Timeout>();
  const resync = () => {
    for (const delay of RESYNC_DELAYS_MS) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (closed || !options.latest) return;
        options.latest().then(
          (rows) => {
            deliver(rows);
            send(rows);
          },
          (e: unknown) => options.logger?.warn({ err: (e as Error).message }, "could not read the chain head after Redis returned"),
        );
      }, delay);
      timer.unref();
      timers.add(timer);
    }
  };
  const publisher = softRedis(url, "bus-publish", { ...(options.logger ? { logger: options.logger } : {}), onReconnect: resync });
  const subscriber = softRedis(url, "bus-subscribe", { ...(options.logger ? { logger: options.logger } : {}), onReconnect: resync });
  subscriber.client.on("message", (channel: string, message: string) => {
    if (channel !== topic) return;
    let rows: unknown;
    try {
      rows = JSON.parse(message);
    } catch {
      return; // not ours: a foreign publisher on our channel
    }
    if (Array.isArray(rows)) deliver(rows as TraceRow[]);
  });
  try {
    await Promise.all([publisher.client.connect(), subscriber.client.connect()]);
    await subscriber.client.subscribe(topic);
  } catch (e) {
    publisher.client.disconnect();
    subscriber.client.disconnect();
    throw e;
  }
  const bus = eventTargetBus(local, topic, async () => {
    closed = true;
    for (const t of timers) clearTimeout(t);
    await Promise.allSettled([publisher.client.quit(), subscriber.client.quit()]);
    publisher.client.disconnect();
    subscriber.client.disconnect();
  });
  return {
    ...bus,
    publish(rows) {
      deliver(rows);
      send(rows);
    },
    connected: () => publisher.up() && subscriber.up(),
  };
}

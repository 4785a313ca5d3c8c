/**
 * The trace bus: every process publishes the records it appended, after they commit, and
 * every subscriber in every process hears them. In one process an in-memory EventTarget
 * does it; with REDIS_URL, @graphql-yoga/redis-event-target carries the events through
 * Redis pub/sub to every replica (and back to the publisher itself).
 *
 * The bus is only a wake-up service with the rows attached: Redis pub/sub may lose a
 * message (a reconnect, a slow subscriber), so streams never trust it to be complete.
 * They check that seqs arrive without holes and read the database when one appears
 * (src/streams/trace-stream.ts).
 */
import { setMaxListeners } from "node:events";
import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import { Redis } from "ioredis";
import type { TraceRow } from "../stores/trace-store.js";

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

/**
 * A bus through Redis pub/sub at `url`: two connections (a subscribed connection can only
 * listen). Resolves once both are connected, so a misconfigured REDIS_URL fails at start.
 */
export async function redisBus(url: string, chainId: string): Promise<TraceBus> {
  const options = { lazyConnect: true, maxRetriesPerRequest: 3, enableAutoPipelining: true };
  const publishClient = new Redis(url, options);
  const subscribeClient = new Redis(url, options);
  try {
    await Promise.all([publishClient.connect(), subscribeClient.connect()]);
  } catch (e) {
    publishClient.disconnect();
    subscribeClient.disconnect();
    throw e;
  }
  const target = createRedisEventTarget({ publishClient, subscribeClient });
  return eventTargetBus(target as unknown as EventTargetLike, tracesTopic(chainId), async () => {
    await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
  });
}

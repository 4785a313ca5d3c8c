/**
 * Redis connections that fail soft. Redis is optional to correctness (the database is the
 * source of truth; docs/architecture.md#live-streams): when it goes away the gateway keeps
 * serving, logs the outage once, reconnects with capped, jittered exponential backoff for ever,
 * and reports the state through `up()` (shown by /readyz). Commands fail at once while it is
 * down (no offline queue), so nothing waits on a Redis that is not there.
 */
import { Redis } from "ioredis";
import type { Logger } from "../logger.js";

/** Reconnect delays: 100 ms doubling to at most 5 s, each between 50 % and 100 % of that. */
export function redisBackoff(attempt: number): number {
  const ceiling = Math.min(5_000, 100 * 2 ** Math.min(attempt - 1, 10));
  return Math.round(ceiling * (0.5 + Math.random() / 2));
}

export interface SoftRedis {
  client: Redis;
  /** Connected and ready for commands. */
  up(): boolean;
}

/**
 * A client to `url` for `role` (named in log lines). `onReady` runs on every (re)connection
 * after the first, once the client is ready again (subscriptions restored).
 */
export function softRedis(url: string, role: string, options: { logger?: Logger; onReconnect?: () => void } = {}): SoftRedis {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: redisBackoff,
  });
  let everReady = false;
  let down = false;
  // Without an 'error' listener ioredis prints every failed reconnect; the outage is logged
  // once here, and its end once on 'ready'.
  client.on("error", (e: Error) => {
    if (down || !everReady) return;
    down = true;
    options.logger?.warn({ role, err: e.message }, "Redis connection lost; continuing without it and reconnecting");
  });
  client.on("close", () => {
    if (!everReady || down) return;
    down = true;
    options.logger?.warn({ role }, "Redis connection closed; continuing without it and reconnecting");
  });
  client.on("ready", () => {
    if (!everReady) {
      everReady = true;
      return;
    }
    if (down) options.logger?.info({ role }, "Redis connection restored");
    down = false;
    options.onReconnect?.();
  });
  return { client, up: () => client.status === "ready" };
}

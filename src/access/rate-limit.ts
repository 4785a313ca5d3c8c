/**
 * Per-key request budgets on rate-limiter-flexible. With Redis (REDIS_URL) the counters are
 * shared by every replica, so a key's budget holds across the fleet; without it each
 * process counts alone. If Redis stops answering, an in-memory limiter takes over rather
 * than failing requests or letting them through unlimited.
 */
import type { Redis } from "ioredis";
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { TracegateError } from "../errors.js";

/** Failed authentications allowed per client address and minute, before RATE_LIMITED. */
export const AUTH_FAILURES_PER_MINUTE = 30;

export interface RateLimiter {
  /** Count one request of `subject`. @throws TracegateError RATE_LIMITED when over budget. */
  consume(subject: string): Promise<void>;
}

/**
 * A limiter allowing `perMinute` requests per subject (0 = unlimited), counted in Redis
 * under `name` when a client is given.
 */
export function createRateLimiter(perMinute: number, shared?: { redis: Redis; name: string }): RateLimiter {
  if (perMinute <= 0) return { consume: () => Promise.resolve() };
  const memory = new RateLimiterMemory({ points: perMinute, duration: 60 });
  const limiter: RateLimiterAbstract = shared
    ? new RateLimiterRedis({
        storeClient: shared.redis,
        points: perMinute,
        duration: 60,
        keyPrefix: `tracegate:rl:${shared.name}`,
        insuranceLimiter: memory,
      })
    : memory;
  return {
    async consume(subject) {
      try {
        await limiter.consume(subject);
      } catch (e) {
        if (!(e instanceof RateLimiterRes)) throw e;
        const retryAfterSeconds = Math.max(1, Math.ceil(e.msBeforeNext / 1000));
        throw new TracegateError("RATE_LIMITED", `Rate limit of ${perMinute} requests per minute exceeded; retry in ${retryAfterSeconds} s.`, {
          retryAfterSeconds,
        });
      }
    },
  };
}

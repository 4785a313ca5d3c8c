/**
 * Per-key request budgets on rate-limiter-flexible. Each process keeps its own counters,
 * so with N replicas behind a balancer a key gets up to N times the budget.
 */
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { TracegateError } from "../errors.js";

/** Failed authentications allowed per client address and minute, before RATE_LIMITED. */
export const AUTH_FAILURES_PER_MINUTE = 30;

export interface RateLimiter {
  /** Count one request of `subject`. @throws TracegateError RATE_LIMITED when over budget. */
  consume(subject: string): Promise<void>;
}

/** A limiter allowing `perMinute` requests per subject (0 = unlimited). */
export function createRateLimiter(perMinute: number): RateLimiter {
  if (perMinute <= 0) return { consume: () => Promise.resolve() };
  const limiter = new RateLimiterMemory({ points: perMinute, duration: 60 });
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

/**
 * Redis for tests: where it is (TRACEGATE_TEST_REDIS_URL, default redis://127.0.0.1:6379),
 * whether it answers, and a switch for Redis-dependent suites. The global setup pings Redis
 * once per run and provides the URL ("" when it does not answer); like PostgreSQL, a
 * missing Redis skips those suites with a notice, except under CI=true, where the global
 * setup fails the run instead.
 */
import { Redis } from "ioredis";
import { inject } from "vitest";

/** The Redis server the tests use. */
export function redisUrl(): string {
  return process.env.TRACEGATE_TEST_REDIS_URL || "redis://127.0.0.1:6379";
}

/** Why Redis at `url` does not answer PING within `timeoutMs`, or null when it does. */
export async function redisProblem(url = redisUrl(), timeoutMs = 2_000): Promise<string | null> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let cause: Error | undefined; // ioredis rejects with "Connection is closed."; the cause is here
  client.on("error", (e: Error) => void (cause ??= e));
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const pong = await Promise.race([client.connect().then(() => client.ping()), timeout]);
    return pong === "PONG" ? null : `PING answered ${JSON.stringify(pong)}`;
  } catch (e) {
    return cause?.message || (e as Error).message || String(e);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/** Whether Redis answers PING. */
export async function redisAvailable(url = redisUrl()): Promise<boolean> {
  return (await redisProblem(url)) === null;
}

/**
 * In a test file: the Redis URL the global setup found answering, or "" when Redis is down
 * (outside CI; under CI=true the run has already failed). Prints a notice naming `suite`
 * when it is down, so a skipped suite is never silent. Use with describe.skipIf(!url).
 */
export function testRedisUrl(suite: string): string {
  const url = inject("redisUrl");
  if (!url) process.stderr.write(`\n!! Redis unavailable: "${suite}" is SKIPPED.\n\n`);
  return url;
}

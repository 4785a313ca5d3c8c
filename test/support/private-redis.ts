/**
 * A Redis server of the test's own, on a free port, that the test may stop and start again:
 * the shared Redis on 6379 is never touched. No persistence (`--save "" --appendonly no`),
 * so a restarted server starts empty, as after a crash without a disk.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { afterAll } from "vitest";
import { redisProblem } from "./redis.js";

/** Why `redis-server` cannot run here, or null when it can. */
export function privateRedisProblem(): string | null {
  const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  return probe.error ? `redis-server not runnable: ${probe.error.message}` : null;
}

/** A port nobody listens on right now (listen on 0, note the port, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** Start (again) on the same port; resolves once it answers PING. */
  start(): Promise<void>;
  /** SIGKILL the server (a crash) and wait until it is gone. */
  kill(): Promise<void>;
}

const servers = new Set<ChildProcess>();
afterAll(() => {
  for (const s of servers) s.kill("SIGKILL");
});

export async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const redis: PrivateRedis = {
    url,
    port,
    async start() {
      const c = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
      child = c;
      servers.add(c);
      c.once("exit", () => servers.delete(c));
      const deadline = Date.now() + 10_000;
      while ((await redisProblem(url, 500)) !== null) {
        if (c.exitCode !== null) throw new Error(`redis-server on port ${port} exited with ${c.exitCode}`);
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within 10 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async kill() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const gone = new Promise<void>((resolve) => c.once("exit", () => resolve()));
      c.kill("SIGKILL");
      await gone;
    },
  };
  await redis.start();
  return redis;
}

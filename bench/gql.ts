/** In-process GraphQL over yoga.fetch, plus an explicit GC for stable memory baselines. */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { defaultLimits } from "../src/config.js";
import { bootstrapAdminKey } from "../src/app/keys.js";
import { buildApp, type App } from "../src/http/app.js";
import { createLogger } from "../src/logger.js";
import type { Stores } from "../src/stores/index.js";
import { createCheckpointMac } from "../src/chain/checkpoint.js";
import { BENCH_SECRET, hash } from "./db.js";

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** The key every benchmark request authenticates with (installed as the bootstrap admin key). */
export const BENCH_KEY = "tgk_bench-admin-key-0123456789abcdefghijklmnopqr";

/**
 * A gateway as `serve` builds it, minus the rate limit (a benchmark is a deliberate flood) and
 * the per-address allowance of sockets not yet authenticated (every bench subscriber connects
 * from 127.0.0.1, 50 at a time).
 */
export async function app(stores: Stores): Promise<App> {
  await bootstrapAdminKey(stores.keys, BENCH_KEY);
  return buildApp({ stores, hash, checkpointMac: createCheckpointMac(BENCH_SECRET), logger: createLogger("silent"), limits: defaultLimits({ ratePerMinute: 0, wsMaxPendingPerAddress: 0 }) });
}

/** Headers of every benchmark request. */
export const HEADERS = { "content-type": "application/json", authorization: `Bearer ${BENCH_KEY}` } as const;

/** POST an already serialised body; returns the parsed JSON response. */
export async function post<T>(a: App, body: string): Promise<GraphQLResponse<T>> {
  const res = await a.yoga.fetch("http://bench/graphql", {
    method: "POST",
    headers: HEADERS,
    body,
  });
  return (await res.json()) as GraphQLResponse<T>;
}

/** The data of a response; throws with the errors when there are any. */
export function dataOf<T>(res: GraphQLResponse<T>): T {
  if (res.errors?.length || !res.data) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
  return res.data;
}

setFlagsFromString("--expose-gc");
const gcFn = runInNewContext("gc") as (() => void) | undefined;

/** Full GC (twice, so finalisers from the first pass are collected too). */
export function gc(): void {
  gcFn?.();
  gcFn?.();
}

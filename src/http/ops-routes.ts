/**
 * Operational endpoints, outside GraphQL and without an API key (a prober or a Prometheus
 * scraper has none): `/healthz` (the process serves), `/readyz` (the database answers and
 * takes writes; optional dependencies such as Redis are reported), `/metrics` (Prometheus
 * text format). None of them reveals trace content.
 *
 * /readyz answers
 * - 200 `{"status":"ready", "nextSeq", "checks"}` when everything is up;
 * - 200 `{"status":"degraded", ..., "checks": {"redis": "down"}}` when only an optional
 *   dependency is down: the replica still commits and acknowledges writes, serves reads and
 *   its own subscribers, so taking it out of the load balancer would only make things worse
 *   (all replicas share that Redis);
 * - 503 `{"status":"unavailable", "reason", "checks"}` when the database does not answer
 *   within READY_TIMEOUT_MS or cannot commit writes (disk full, I/O error, lost connection;
 *   see TraceStore.writeHealth), until a write commits again.
 */
import type { Plugin } from "graphql-yoga";
import type { TraceStore } from "../stores/trace-store.js";
import type { Metrics } from "./metrics.js";

/** How long /readyz waits for the database before it answers 503. */
export const READY_TIMEOUT_MS = 2_000;

/** An optional dependency whose outage degrades the gateway without making it unready. */
export interface DependencyCheck {
  name: string;
  up(): boolean;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" } });
}

function withinReadyTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function ready(traces: TraceStore, dependencies: readonly DependencyCheck[]): Promise<Response> {
  const checks: Record<string, "up" | "down"> = { database: "down", writes: "down" };
  for (const d of dependencies) checks[d.name] = d.up() ? "up" : "down";
  let head;
  try {
    head = await withinReadyTimeout(traces.head());
    checks.database = "up";
  } catch (e) {
    return json(503, { status: "unavailable", reason: `database: ${(e as Error).message}`, checks });
  }
  try {
    const writes = await withinReadyTimeout(traces.writeHealth());
    if (!writes.ok) return json(503, { status: "unavailable", reason: `writes: ${writes.reason}`, checks });
    checks.writes = "up";
  } catch (e) {
    return json(503, { status: "unavailable", reason: `writes: ${(e as Error).message}`, checks });
  }
  const degraded = dependencies.some((d) => checks[d.name] === "down");
  return json(200, { status: degraded ? "degraded" : "ready", nextSeq: head.nextSeq, checks });
}

export function opsRoutesPlugin(deps: { traces: TraceStore; metrics: Metrics; dependencies?: readonly DependencyCheck[] }): Plugin {
  return {
    async onRequest({ request, url, endResponse }) {
      if (request.method !== "GET" && request.method !== "HEAD") return;
      switch (url.pathname) {
        case "/healthz":
          endResponse(json(200, { status: "ok" }));
          return;
        case "/readyz":
          endResponse(await ready(deps.traces, deps.dependencies ?? []));
          return;
        case "/metrics":
          endResponse(
            new Response(await deps.metrics.registry.metrics(), {
              status: 200,
              headers: { "content-type": deps.metrics.registry.contentType, "cache-control": "no-store" },
            }),
          );
          return;
      }
    },
  };
}

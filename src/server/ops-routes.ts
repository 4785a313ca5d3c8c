/**
 * Operational endpoints, outside GraphQL and without an API key (a prober or a Prometheus
 * scraper has none): `/healthz` (the process serves), `/readyz` (the database answers),
 * `/metrics` (Prometheus text format). None of them reveals trace content.
 */
import type { Plugin } from "graphql-yoga";
import type { TraceStore } from "../stores/trace-store.js";
import type { Metrics } from "./metrics.js";

/** How long /readyz waits for the database before it answers 503. */
export const READY_TIMEOUT_MS = 2_000;

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" } });
}

async function ready(traces: TraceStore): Promise<Response> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const head = await Promise.race([
      traces.head(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      }),
    ]);
    return json(200, { status: "ready", nextSeq: head.nextSeq });
  } catch (e) {
    return json(503, { status: "unavailable", reason: `database: ${(e as Error).message}` });
  } finally {
    clearTimeout(timer);
  }
}

export function opsRoutesPlugin(deps: { traces: TraceStore; metrics: Metrics }): Plugin {
  return {
    async onRequest({ request, url, endResponse }) {
      if (request.method !== "GET" && request.method !== "HEAD") return;
      switch (url.pathname) {
        case "/healthz":
          endResponse(json(200, { status: "ok" }));
          return;
        case "/readyz":
          endResponse(await ready(deps.traces));
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

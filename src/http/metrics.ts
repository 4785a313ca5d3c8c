/**
 * Prometheus metrics (prom-client), one registry per gateway: traces appended, GraphQL
 * operation latency by root field (ingest, queries, verification), verification outcomes,
 * open subscriptions and the chain head. No label carries a principal, key or trace id, so
 * /metrics reveals volumes, never who did what.
 */
import type { Plugin } from "graphql-yoga";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { TraceStore } from "../stores/trace-store.js";

export interface Metrics {
  registry: Registry;
  /** A yoga plugin timing every operation and counting subscriptions. */
  plugin: Plugin;
  /** Stop listening to the store. */
  close(): void;
}

interface ExecArgs {
  document?: { definitions?: readonly { kind: string; operation?: string; selectionSet?: { selections?: readonly { kind: string; name?: { value: string } }[] } }[] };
}

/** "query" / "mutation" / "subscription" and the first root field of an operation. */
function labelsOf(args: ExecArgs): { operation: string; field: string } {
  const op = args.document?.definitions?.find((d) => d.kind === "OperationDefinition");
  const first = op?.selectionSet?.selections?.find((s) => s.kind === "Field");
  return { operation: op?.operation ?? "unknown", field: first?.name?.value ?? "unknown" };
}

export function createMetrics(traces: TraceStore): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "tracegate_" });
  const appended = new Counter({
    name: "tracegate_traces_appended_total",
    help: "Traces appended to the chain by this process (ingest and tracegate's own audit traces).",
    registers: [registry],
  });
  const duration = new Histogram({
    name: "tracegate_graphql_operation_duration_seconds",
    help: "GraphQL operation execution time by operation type and first root field.",
    labelNames: ["operation", "field", "outcome"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const verifications = new Counter({
    name: "tracegate_verify_runs_total",
    help: "verifyChain runs by result (ok or failed).",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  const subscribers = new Gauge({
    name: "tracegate_subscriptions_open",
    help: "Open subscriptions (graphql-ws and SSE) on this process.",
    registers: [registry],
  });
  new Gauge({
    name: "tracegate_chain_next_seq",
    help: "The chain head: seq the next appended trace gets.",
    registers: [registry],
    async collect() {
      this.set((await traces.head()).nextSeq);
    },
  });
  const stopListening = traces.onAppended((rows) => appended.inc(rows.length));

  const plugin: Plugin = {
    onExecute({ args }) {
      const labels = labelsOf(args as ExecArgs);
      const end = duration.startTimer(labels);
      return {
        onExecuteDone({ result }) {
          const r = result as { errors?: unknown[]; data?: Record<string, { ok?: unknown } | null> | null };
          end({ outcome: r.errors?.length ? "error" : "ok" });
          const verified = labels.field === "verifyChain" ? r.data?.verifyChain?.ok : undefined;
          if (typeof verified === "boolean") verifications.inc({ result: verified ? "ok" : "failed" });
        },
      };
    },
    onSubscribe() {
      return {
        onSubscribeResult({ result }) {
          // A subscription refused at the start (an error result) never opened.
          if (!(typeof result === "object" && result !== null && Symbol.asyncIterator in result)) return;
          subscribers.inc();
          return { onEnd: () => subscribers.dec() };
        },
      };
    },
  };
  return { registry, plugin, close: stopListening };
}

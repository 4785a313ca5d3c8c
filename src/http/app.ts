/**
 * The gateway as a factory (docs/code-style.md#app-factory): buildApp(deps) returns the yoga
 * instance for in-process tests and `start`/`stop` for a real HTTP server that also speaks
 * graphql-ws on the same path. Every request passes the guard (API key, rate limit) and the
 * limits.
 */
import { setMaxListeners } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import type { Redis } from "ioredis";
import { createYoga, type YogaServerInstance } from "graphql-yoga";
import type { CheckpointMac } from "../chain/checkpoint.js";
import type { RecordHasher } from "../chain/hash.js";
import { type Config, defaultLimits, type Limits } from "../config.js";
import { schema } from "../graphql/index.js";
import type { Stores } from "../stores/index.js";
import { accessLogged, accessLogPlugin, isAccessLogged } from "./access-log.js";
import { Authenticator, unauthenticated, type Viewer } from "../access/authenticator.js";
import { createGate } from "../access/gate.js";
import type { GraphQLContext } from "../graphql/context.js";
import { callerOf, type Gateway } from "../app/caller.js";
import { createGuard } from "./guard.js";
import { consolePlugin } from "./console-route.js";
import { exactJsonPlugin } from "./exact-json.js";
import { EXPORT_PATH, exportRoutePlugin } from "./export-route.js";
import { compiledQueriesPlugin } from "./jit.js";
import { limitPlugins } from "./limits.js";
import { createMetrics } from "./metrics.js";
import { type DependencyCheck, opsRoutesPlugin } from "./ops-routes.js";
import type { Logger } from "../logger.js";
import { createErrorMasker } from "./mask-errors.js";
import { sharedExecutionPlugin } from "../graphql/shared-execution.js";
import { sseBackpressurePlugin } from "./sse-backpressure.js";
import { AUTH_FAILURES_PER_MINUTE, createRateLimiter } from "../access/rate-limit.js";
import type { CheckpointSigner } from "../app/signing-key.js";
import { wellKnownPlugin } from "./well-known.js";
import { attachWebSockets, WS_SIGNAL, WS_VIEWER } from "./ws.js";
import { memoryBus, type TraceBus } from "../streams/bus.js";
import { DEFAULT_QUEUE_LIMIT } from "../streams/trace-stream.js";

/** What the gateway needs: opened stores, the chain hasher, a logger, and its settings. */
export interface AppDeps {
  stores: Stores;
  hash: RecordHasher;
  /** MAC under the same secret as `hash`, for checkpoints. */
  checkpointMac: CheckpointMac;
  /** Ed25519 signer of checkpoints; without one, createCheckpoint answers NOT_CONFIGURED. */
  signer?: CheckpointSigner;
  logger: Logger;
  /** Serve GraphiQL at the GraphQL path (development). */
  graphiql?: boolean;
  /** Request limits (default: the configuration defaults). */
  limits?: Limits;
  /** What ingest does with values that look like credentials (default: redact). */
  secretsInTraces?: Config["secretsInTraces"];
  /** Announces appended traces to subscribers (default: in-process; Redis across replicas). */
  bus?: TraceBus;
  /** Share rate-limit counters with every replica through this Redis client. */
  rateLimitRedis?: Redis;
  /** Live traces held per subscriber (default 1,000). */
  streamQueueLimit?: number;
  /** How long a looked-up API key is trusted (ms); tests of revocation shorten it. */
  keyCacheMs?: number;
  /** Optional dependencies (Redis) whose state /readyz reports; down means degraded, not unready. */
  dependencies?: readonly DependencyCheck[];
}

export interface App {
  yoga: YogaServerInstance<Record<string, never>, GraphQLContext>;
  authenticator: Authenticator;
  /** Listen on port (0 = ephemeral) and host; resolves with the bound address. */
  start(port: number, host?: string): Promise<AddressInfo>;
  /**
   * Stop accepting connections, end SSE streams and close WebSockets with 1001, let in-flight
   * HTTP requests finish for up to `graceMs` (default 0: cut at once), then destroy what is left.
   * Resolves with the number of connections destroyed at the deadline.
   */
  stop(graceMs?: number): Promise<{ destroyed: number }>;
}

export function buildApp(deps: AppDeps): App {
  const limits = deps.limits ?? defaultLimits();
  const authenticator = new Authenticator(deps.stores.keys, deps.keyCacheMs === undefined ? {} : { cacheMs: deps.keyCacheMs });
  // One gate for GraphQL over HTTP and SSE, graphql-ws and /export: one set of budgets.
  const gate = createGate({
    authenticator,
    requests: createRateLimiter(limits.ratePerMinute, deps.rateLimitRedis && { redis: deps.rateLimitRedis, name: "requests" }),
    authFailures: createRateLimiter(AUTH_FAILURES_PER_MINUTE, deps.rateLimitRedis && { redis: deps.rateLimitRedis, name: "auth-failures" }),
    logger: deps.logger,
  });
  /** Aborted when the server starts shutting down: SSE streams end (access-log.ts). */
  const shuttingDown = new AbortController();
  // Every open SSE stream listens to it (until it ends): thousands of listeners are expected.
  setMaxListeners(0, shuttingDown.signal);
  const guard = createGuard(gate);
  const maskError = createErrorMasker(deps.logger);
  const bus = deps.bus ?? memoryBus();
  const metrics = createMetrics(deps.stores.traces);
  // Every committed append (ingest and audit traces alike) goes out to subscribers.
  const stopPublishing = deps.stores.traces.onAppended((rows) => bus.publish(rows));
  const gateway: Gateway = {
    stores: deps.stores,
    hash: deps.hash,
    checkpointMac: deps.checkpointMac,
    signer: deps.signer,
    keys: authenticator,
    bus,
    streamQueueLimit: deps.streamQueueLimit ?? DEFAULT_QUEUE_LIMIT,
    secretsInTraces: deps.secretsInTraces ?? "redact",
  };
  const yoga = createYoga<Record<string, never>, GraphQLContext>({
    schema,
    context: (initial: { request?: Request; [WS_VIEWER]?: Viewer; [WS_SIGNAL]?: AbortSignal }) => {
      // HTTP: the guard admitted this request; WebSocket: the connection's key (ws.ts).
      const viewer = initial[WS_VIEWER] ?? (initial.request ? guard.viewerOf(initial.request) : undefined);
      if (!viewer) throw unauthenticated();
      // The operation ends when its client goes away: the request's signal, or the socket operation's (ws.ts).
      const signal = initial[WS_SIGNAL] ?? initial.request?.signal ?? new AbortController().signal;
      // The caller's trace store is confined to the viewer's principals here, once.
      return callerOf(gateway, viewer, signal);
    },
    // Public routes first (health, metrics, the checkpoint key, the console's static files),
    // then the key guard and limits.
    plugins: [
      opsRoutesPlugin({ traces: deps.stores.traces, metrics, dependencies: deps.dependencies ?? [] }),
      wellKnownPlugin(deps.signer),
      consolePlugin(),
      // Streams exports, admitted by the same gate as GraphQL (same keys, scopes and rate limits).
      exportRoutePlugin({ gateway, gate }),
      guard.plugin,
      // Lossless request bodies within the body limit, and exact responses (JSON variables
      // keep 100.0 and 2^60 exact).
      exactJsonPlugin({ maxBodyBytes: limits.maxBodyBytes }),
      ...limitPlugins(limits),
      metrics.plugin,
      // Live events shared by subscribers with the same selection and scope execute once.
      sharedExecutionPlugin(),
      // An SSE subscriber that stops reading is ended, as graphql-ws ends it in ws.ts.
      sseBackpressurePlugin(limits),
      // Operation name, type and outcome for the access log line; SSE streams end at shutdown.
      accessLogPlugin(shuttingDown.signal),
      // Repeated queries run compiled (jit.ts).
      compiledQueriesPlugin(),
    ],
    // The body limit is enforced where the body is read (exact-json.ts), without yoga's
    // per-request stream re-wrap.
    maxRequestBodySize: false,
    // No file uploads; and yoga's multipart parser would read variables with JSON.parse.
    multipart: false,
    graphiql: deps.graphiql ?? false,
    // GraphiQL from the installed package, not from a CDN: it works on offline networks.
    renderGraphiQL,
    maskedErrors: { maskError },
    logging: {
      debug: (...args) => deps.logger.debug(args.map(String).join(" ")),
      info: (...args) => deps.logger.info(args.map(String).join(" ")),
      warn: (...args) => deps.logger.warn(args.map(String).join(" ")),
      // yoga reports every resolver error here, client mistakes included; genuinely
      // unexpected ones are logged by the error masker with their errorId.
      error: (...args) => deps.logger.debug(args.map(String).join(" ")),
    },
    landingPage: false,
  });
  let server: Server | undefined;
  let closeSockets: ((graceMs?: number) => Promise<void>) | undefined;
  return {
    yoga,
    authenticator,
    start(port, host = "127.0.0.1") {
      const logged = (pathname: string) => isAccessLogged(pathname, yoga.graphqlEndpoint, EXPORT_PATH);
      server = createServer(accessLogged(yoga, { logger: deps.logger, logged }));
      closeSockets = attachWebSockets(server, { gate, logger: deps.logger, yoga, limits, maskError });
      const s = server;
      return new Promise((resolve, reject) => {
        s.once("error", reject);
        s.listen(port, host, () => resolve(s.address() as AddressInfo));
      });
    },
    async stop(graceMs = 0) {
      const s = server;
      server = undefined;
      let destroyed = 0;
      if (s) {
        const deadline = Date.now() + graceMs;
        // No new connections; idle keep-alive connections close now, busy ones once their response is out.
        const closed = new Promise<void>((resolve) => s.close(() => resolve()));
        shuttingDown.abort();
        const sockets = closeSockets?.(graceMs);
        const drain = setInterval(() => s.closeIdleConnections(), 25);
        const timeout = new Promise<"deadline">((resolve) => setTimeout(() => resolve("deadline"), Math.max(0, deadline - Date.now())).unref());
        if ((await Promise.race([closed.then(() => "closed" as const), timeout])) === "deadline") {
          destroyed = (await new Promise<number>((resolve) => s.getConnections((_e, n) => resolve(n ?? 0))));
          s.closeAllConnections();
        }
        clearInterval(drain);
        await sockets;
        await closed;
      }
      stopPublishing();
      metrics.close();
      return { destroyed };
    },
  };
}

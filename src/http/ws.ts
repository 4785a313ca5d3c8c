/**
 * graphql-ws on the HTTP server's GraphQL path, through yoga's envelop so that both
 * transports share the schema, limits, context and error masking. The key arrives in
 * connectionParams.authorization and is admitted at connection_init by the access gate every
 * transport uses (src/access/gate.ts), and rechecked for every operation (through the
 * authenticator's cache), so a key revoked while its socket is open stops working there too.
 * Each operation counts against the key's rate limit and is checked for scopes like an HTTP
 * request. Each operation has its own request id (in every error's extensions and in its
 * access log line, written when it ends; access-log.ts).
 */
import { randomUUID } from "node:crypto";
import { type IncomingMessage, type Server, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { type ExecutionArgs, GraphQLError } from "graphql";
import { handleProtocols } from "graphql-ws";
import type { YogaServerInstance } from "graphql-yoga";
import { type WebSocket, WebSocketServer } from "ws";
import type { Limits } from "../config.js";
import { type ErrorCode, httpStatusOf, isTracegateError, TracegateError } from "../errors.js";
import { describeOperation, logAccess, outcomeOf, type RequestRecord, withRequest } from "./access-log.js";
import type { Viewer } from "../access/authenticator.js";
import type { Gate } from "../access/gate.js";
import type { GraphQLContext } from "../graphql/context.js";
import type { Logger } from "../logger.js";
import { type FrameWriter, LIVE_FRAMES, serializedResult } from "../graphql/shared-execution.js";
import { framePayload, serveGraphqlWs, writeNextFrame } from "./ws-protocol.js";

/** Where the WebSocket transport puts the viewer in yoga's initial context (see app.ts). */
export const WS_VIEWER = Symbol("tracegate.wsViewer");
/** Where it puts the operation's AbortSignal: aborted when the operation completes or its socket closes. */
export const WS_SIGNAL = Symbol("tracegate.wsSignal");

export { WS_CLOSE } from "./ws-protocol.js";

/**
 * The close code of a connection refused with a coded error: graphql-ws's own codes are 4000
 * plus the HTTP status (4400, 4401, 4403, 4500), so the one code table (src/errors.ts) gives
 * them: UNAUTHENTICATED 4401 (CloseCode.Unauthorized), RATE_LIMITED 4429 (WS_CLOSE.RATE_LIMITED).
 */
export function closeCodeOf(error: TracegateError): number {
  return 4000 + httpStatusOf(error).status;
}

type MaskError = (error: unknown, message: string) => Error;

export interface WsDeps {
  /** The access gate every transport admits its callers through. */
  gate: Gate;
  /** Where each operation's access line is written. */
  logger?: Logger;
  yoga: YogaServerInstance<Record<string, never>, GraphQLContext>;
  limits: Pick<
    Limits,
    "wsMaxConnections" | "wsInitTimeoutMs" | "wsMaxPendingPerAddress" | "maxBodyBytes" | "subscriberMaxBufferBytes" | "subscriberStallMs"
  >;
  maskError: MaskError;
}

/**
 * A coded error as a graphql-ws client sees it: no `http` extension, which is HTTP-only, and
 * the operation's request id (there is no response header to carry it).
 */
function forSocket(error: Error, requestId?: string): GraphQLError {
  const e = error instanceof GraphQLError ? error : new GraphQLError(error.message);
  const { http: _http, ...extensions } = e.extensions as Record<string, unknown>;
  return new GraphQLError(e.message, { nodes: e.nodes, path: e.path, extensions: requestId ? { ...extensions, requestId } : extensions });
}

/** WebSocket close reasons are limited to 123 bytes. */
const closeReason = (code: string, message: string) => `${code}: ${message}`.slice(0, 120);

/**
 * Serve graphql-ws on `server`; returns a function that closes every socket with 1001
 * "Going away" (clients reconnect, to another replica, and resume with afterSeq), waits up
 * to `graceMs` for them to close and then terminates what is left.
 */
export function attachWebSockets(server: Server, deps: WsDeps): (graceMs?: number) => Promise<void> {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: deps.limits.maxBodyBytes,
    handleProtocols: (protocols) => handleProtocols(protocols),
  });
  const path = deps.yoga.graphqlEndpoint;

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? "/", "http://x").pathname !== path) {
      refuseUpgrade(socket, "NOT_FOUND");
      return;
    }
    // Only authenticated connections count against the cap; a socket that has not (yet)
    // authenticated counts against its address's small pending allowance instead, and
    // holds it for at most the init timeout. Sockets that never send connection_init
    // therefore cannot lock out clients with a key.
    if (deps.limits.wsMaxConnections > 0 && authenticated.size >= deps.limits.wsMaxConnections) {
      refuseUpgrade(socket, "UNAVAILABLE");
      return;
    }
    const address = addressOf(req);
    const pendingHere = pending.get(address) ?? 0;
    if (deps.limits.wsMaxPendingPerAddress > 0 && pendingHere >= deps.limits.wsMaxPendingPerAddress) {
      refuseUpgrade(socket, "RATE_LIMITED");
      return;
    }
    pending.set(address, pendingHere + 1);
    wss.handleUpgrade(req, socket, head, (ws) => {
      pendingSockets.set(ws, address);
      ws.once("close", () => {
        release(ws);
        authenticated.delete(ws);
        for (const operation of operations.get(ws)?.values() ?? []) operation.abort();
        operations.delete(ws);
        // Operations the socket's close ended (graphql-ws does not always complete them).
        for (const [id] of records.get(ws) ?? []) finish(ws, id);
      });
      wss.emit("connection", ws, req);
    });
  };
  /** Unauthenticated connections per client address, and which address each one counts against. */
  const pending = new Map<string, number>();
  const pendingSockets = new WeakMap<WebSocket, string>();
  const authenticated = new Set<WebSocket>();
  /** The access record of each socket's operations by id, logged when the operation ends. */
  const records = new WeakMap<WebSocket, Map<string, RequestRecord>>();
  const recordOf = (ws: WebSocket, id: string) => records.get(ws)?.get(id);
  /** Log an operation's access line (once). */
  const finish = (ws: WebSocket, id: string) => {
    const record = recordOf(ws, id);
    if (!record) return;
    records.get(ws)!.delete(id);
    if (deps.logger) logAccess(deps.logger, record);
  };
  /** The running operations of each socket by id, to abort them when the client leaves. */
  const operations = new WeakMap<WebSocket, Map<string, AbortController>>();
  /** The socket no longer counts as pending (it authenticated or closed). */
  const release = (ws: WebSocket) => {
    const address = pendingSockets.get(ws);
    if (address === undefined) return;
    pendingSockets.delete(ws);
    const n = (pending.get(address) ?? 1) - 1;
    if (n <= 0) pending.delete(address);
    else pending.set(address, n);
  };
  server.on("upgrade", onUpgrade);

  /** The viewer each open connection was admitted as. */
  const connectionViewers = new WeakMap<object, Viewer>();
  const cleanup = serveGraphqlWs(
    {
      connectionInitWaitTimeout: deps.limits.wsInitTimeoutMs,
      // Inside the operation's request scope, so a masked error carries its requestId.
      execute: (args) => {
        const root = args.rootValue as OperationRoot;
        return withRequest(root.record, () => root.execute(args)) as never;
      },
      subscribe: (args) => {
        const root = args.rootValue as OperationRoot;
        // Shared live events may be written straight to this operation's socket (ws-protocol.ts).
        return withRequest(root.record, () => root.subscribe({ ...args, [LIVE_FRAMES]: root.frames } as ExecutionArgs)) as never;
      },
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket;
        const authorization = ctx.connectionParams?.authorization;
        let viewer: Viewer;
        try {
          viewer = await deps.gate.admit(typeof authorization === "string" ? authorization : null, { address: addressOf(ctx.extra.request), transport: "ws" });
        } catch (e) {
          if (!isTracegateError(e)) throw e;
          socket.close(closeCodeOf(e), closeReason(e.code, e.message));
          return false;
        }
        if (deps.limits.wsMaxConnections > 0 && authenticated.size >= deps.limits.wsMaxConnections) {
          socket.close(1013, "Try again later: the server holds its maximum of connections.");
          return false;
        }
        connectionViewers.set(ctx.extra, viewer);
        release(socket);
        authenticated.add(socket);
        return true;
      },
      // A subscription whose stream fails mid-way (its key revoked, the database gone) ends
      // with graphql-ws's error message; yoga has masked the error, but a status-bearing
      // code (UNAUTHENTICATED) still carries the HTTP-only extension.
      onError: (ctx, id, _payload, errors) => {
        const record = recordOf(ctx.extra.socket, id);
        if (record) record.code = outcomeOf(errors);
        return errors.map((e) => forSocket(e, record?.requestId).toJSON());
      },
      // A result without errors is serialized once, however many subscribers it goes to
      // (the members of a live group get the same result object: src/graphql/shared-execution.ts).
      // Results carry errors too (a variable refused at coercion): drop the HTTP-only extension there as well.
      onNext: (ctx, id, _payload, _args, result) => {
        if (!result.errors) return framePayload(serializedResult(result)) as never;
        const record = recordOf(ctx.extra.socket, id);
        if (record) record.code ??= outcomeOf(result.errors);
        return { ...result, errors: result.errors.map((e) => forSocket(e as Error, record?.requestId).toJSON()) };
      },
      // The operation is over (answered, or completed by the client): stop its work.
      onComplete: (ctx, id) => {
        const running = operations.get(ctx.extra.socket);
        running?.get(id)?.abort();
        running?.delete(id);
        finish(ctx.extra.socket, id);
      },
      onSubscribe: async (ctx, id, params) => {
        const socket = ctx.extra.socket;
        const record: RequestRecord = {
          requestId: randomUUID(),
          transport: "ws",
          address: addressOf(ctx.extra.request),
          start: performance.now(),
          operationName: params.operationName ?? null,
        };
        let ofSocket = records.get(socket);
        if (!ofSocket) records.set(socket, (ofSocket = new Map()));
        finish(socket, id);
        ofSocket.set(id, record);
        /** Refuse the operation: its errors carry the request id, and its access line is written now. */
        const refuse = (errors: readonly Error[]) => {
          const masked = errors.map((e) => forSocket(withRequest(record, () => deps.maskError(e, "Unexpected error.")), record.requestId));
          record.code = outcomeOf(masked);
          finish(socket, id);
          return masked;
        };
        // graphql-ws lets no operation in before connection_init was acknowledged (onConnect).
        const viewer = connectionViewers.get(ctx.extra)!;
        try {
          await deps.gate.recheck(viewer, {
            address: record.address,
            transport: "ws",
            requestId: record.requestId,
            onKey: (keyId) => (record.keyId = keyId),
          });
        } catch (e) {
          // Revoked since connection_init: end the connection, as at connect time.
          if (isTracegateError(e) && e.code === "UNAUTHENTICATED") socket.close(closeCodeOf(e), closeReason(e.code, e.message));
          return refuse([e as Error]);
        }
        try {
          const operation = new AbortController();
          let running = operations.get(ctx.extra.socket);
          if (!running) operations.set(ctx.extra.socket, (running = new Map()));
          running.get(id)?.abort();
          running.set(id, operation);
          const { schema, execute, subscribe, contextFactory, parse, validate } = deps.yoga.getEnveloped({
            ...ctx,
            req: ctx.extra.request,
            socket: ctx.extra.socket,
            params,
            [WS_VIEWER]: viewer,
            [WS_SIGNAL]: operation.signal,
          });
          const document = parse(params.query);
          Object.assign(record, describeOperation(document, params.operationName));
          const errors = validate(schema, document);
          if (errors.length > 0) {
            running.delete(id);
            return refuse(errors as readonly GraphQLError[]);
          }
          return {
            schema,
            operationName: params.operationName,
            document,
            variableValues: params.variables,
            contextValue: await contextFactory(),
            rootValue: {
              execute,
              subscribe,
              record,
              frames: (text) => !operation.signal.aborted && writeNextFrame(socket, id, text),
            } satisfies OperationRoot,
          };
        } catch (e) {
          operations.get(ctx.extra.socket)?.delete(id);
          return refuse([e as Error]);
        }
      },
    },
    wss,
    deps.limits,
  );

  return async (graceMs = 0) => {
    server.off("upgrade", onUpgrade);
    await cleanup.dispose();
    // Give clients the time to answer the close frame, then cut what is left.
    const deadline = Date.now() + graceMs;
    while (wss.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
}

/** The root value onSubscribe hands graphql-ws: yoga's enveloped execute/subscribe and the operation's record. */
interface OperationRoot {
  execute: (a: ExecutionArgs) => unknown;
  subscribe: (a: ExecutionArgs) => unknown;
  record: RequestRecord;
  /** Writes a shared live event's serialized result as this operation's next message. */
  frames: FrameWriter;
}

/** The client address of an upgrade request (failed authentications and pending sockets are counted by it). */
const addressOf = (request: IncomingMessage) => request.socket.remoteAddress ?? "unknown";

/** How long a refused upgrade (server full, too many pending sockets here) should wait. */
const UPGRADE_RETRY_AFTER_SECONDS = 5;

/** Answer an upgrade request with the status and headers of `code` (src/errors.ts httpStatusOf), and close. */
function refuseUpgrade(socket: Duplex, code: ErrorCode): void {
  const { status, headers } = httpStatusOf({ code, extensions: { retryAfterSeconds: UPGRADE_RETRY_AFTER_SECONDS } });
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${lines.join("")}Connection: close\r\nContent-Length: 0\r\n\r\n`);
}

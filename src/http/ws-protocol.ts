/**
 * graphql-ws's protocol server on `ws` sockets, with what the gateway adds to it: lossless
 * message parsing and exact numbers out, keepalive pings, and a bound on what a subscriber
 * may leave unread (SLOW_CONSUMER). The upgrade, admission and per-operation records are
 * src/http/ws.ts; this file is the per-socket protocol loop only.
 */
import type { IncomingMessage } from "node:http";
import { CloseCode, makeServer, type ServerOptions } from "graphql-ws";
import type { WebSocket, WebSocketServer } from "ws";
import { parseWireJson, restoreExactNumbers } from "../chain/wire-json.js";
import type { Limits } from "../config.js";

/**
 * graphql-ws close codes tracegate adds to the protocol's own. SLOW_CONSUMER: the client
 * left more than the configured buffer unread (or did not read for the stall time); nothing
 * is lost, reconnect and resubscribe with `afterSeq` = the last seq received.
 */
export const WS_CLOSE = { RATE_LIMITED: 4429, SLOW_CONSUMER: 4503 } as const;

/** What graphql-ws hands our hooks as `ctx.extra`. */
export interface WsExtra {
  socket: WebSocket;
  request: IncomingMessage;
}

/** graphql-ws pings every 12 s (under the usual 60 s proxy idle timeout) and drops a peer that does not pong in as long. */
const KEEPALIVE_MS = 12_000;

/**
 * graphql-ws's protocol server (makeServer) on `ws` sockets. graphql-ws ships this glue as
 * `useServer`, but that one hands the protocol server message text, which it reads with
 * JSON.parse: `100.0` in a subscription's variables would arrive as the integer 100. Here
 * each message is parsed losslessly (parseWireJson) and handed over as an object, which
 * makeServer accepts, and every outgoing message gets its exact numbers back.
 */
export function serveGraphqlWs(
  options: ServerOptions<Record<string, unknown> | undefined, WsExtra>,
  wss: WebSocketServer,
  limits: Pick<Limits, "subscriberMaxBufferBytes" | "subscriberStallMs">,
): { dispose(): Promise<void> } {
  const server = makeServer(options);
  wss.on("connection", (socket: WebSocket, request: IncomingMessage) => {
    let ended = false;
    /** Tell graphql-ws the connection is over (once): it ends every operation on it. */
    const end = (code: number, reason: string) => {
      if (ended) return;
      ended = true;
      if (pongWait) clearTimeout(pongWait);
      clearInterval(keepalive);
      void closed(code, reason);
    };
    /**
     * A client that does not read: its unread bytes passed the buffer bound, or one message
     * has waited for the socket to drain longer than the stall time. Its operations end at
     * once (no more store reads for it) and it gets a resumable close code.
     */
    const slowConsumer = () => {
      const reason = "SLOW_CONSUMER: reconnect and resubscribe with afterSeq = the last seq received";
      end(WS_CLOSE.SLOW_CONSUMER, reason);
      socket.close(WS_CLOSE.SLOW_CONSUMER, reason);
    };
    socket.once("error", () => socket.close(CloseCode.InternalServerError, "Internal server error"));
    let pongWait: NodeJS.Timeout | null = null;
    const keepalive = setInterval(() => {
      if (socket.readyState !== socket.OPEN) return;
      pongWait = setTimeout(() => socket.terminate(), KEEPALIVE_MS);
      socket.once("pong", () => {
        if (pongWait) clearTimeout(pongWait);
        pongWait = null;
      });
      socket.ping();
    }, KEEPALIVE_MS);
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (ended || socket.readyState !== socket.OPEN) return resolve();
            if (socket.bufferedAmount > limits.subscriberMaxBufferBytes) {
              slowConsumer();
              return resolve();
            }
            // graphql-ws waits for each message to be flushed before it pulls the next one;
            // a socket that stays full for the stall time belongs to a client that stopped reading.
            const stall = setTimeout(() => {
              slowConsumer();
              resolve();
            }, limits.subscriberStallMs);
            socket.send(restoreExactNumbers(data), (err) => {
              clearTimeout(stall);
              if (err) reject(err);
              else resolve();
            });
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (cb) =>
          socket.on("message", async (data) => {
            let message: unknown;
            try {
              message = parseWireJson(String(data));
            } catch {
              socket.close(CloseCode.BadRequest, "Invalid message received");
              return;
            }
            try {
              // makeServer reads a non-string message as the parsed object (graphql-ws parseMessage).
              await cb(message as string);
            } catch {
              socket.close(CloseCode.InternalServerError, "Internal server error");
            }
          }),
      },
      { socket, request },
    );
    socket.once("close", (code, reason) => end(code, String(reason)));
  });
  return {
    async dispose() {
      for (const client of wss.clients) client.close(1001, "Going away");
      wss.removeAllListeners("connection");
    },
  };
}

/**
 * graphql-ws's protocol server on `ws` sockets, with what the gateway adds to it: lossless
 * message parsing and exact numbers out, keepalive pings, and a bound on what a subscriber
 * may leave unread (SLOW_CONSUMER). The upgrade, admission and per-operation records are
 * src/http/ws.ts; this file is the per-socket protocol loop only.
 */
import { randomBytes } from "node:crypto";
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

/**
 * Pre-serialized payloads. graphql-ws builds every `next` message itself with JSON.stringify;
 * a payload shared by many subscribers (src/graphql/shared-execution.ts) is serialized once
 * instead: its `next` carries a placeholder object naming a token, and `send` splices the
 * text in place of the placeholder, so each frame costs the id and a copy, not a
 * serialization. The placeholder key carries a per-process random marker no client can
 * know, so no client-chosen value can be taken for one. A token lives from `framePayload`
 * to the `send` of its message (graphql-ws calls them back to back).
 */
const SPLICE_KEY = `tracegate-payload-${randomBytes(12).toString("hex")}`;
const SPLICE_OPEN = `{"${SPLICE_KEY}":"`;
const spliced = new Map<string, string>();
let nextToken = 0;

/**
 * The `payload` to return from graphql-ws's onNext for a result already serialized as
 * `text` (exact numbers restored): the frame sent is `{"id":…,"type":"next","payload":<text>}`.
 */
export function framePayload(text: string): Record<string, string> {
  const token = (nextToken = (nextToken + 1) % Number.MAX_SAFE_INTEGER).toString(36);
  spliced.set(token, text);
  return { [SPLICE_KEY]: token };
}

/** The message text to write: a placeholder payload replaced by its text, else the exact numbers restored. */
function wireText(data: string): string {
  if (data.endsWith('"}}')) {
    const at = data.lastIndexOf(SPLICE_OPEN);
    if (at !== -1) {
      const token = data.slice(at + SPLICE_OPEN.length, -3);
      const text = spliced.get(token);
      if (text === undefined) throw new Error("pre-serialized payload missing");
      spliced.delete(token);
      return `${data.slice(0, at)}${text}}`;
    }
  }
  return restoreExactNumbers(data);
}

/**
 * Bytes a socket may hold unsent before `send` waits for it to drain. Below it a message is
 * handed over at once, so graphql-ws pulls the next event in the same tick and the frames of
 * one tick leave in one write (the socket is corked until the tick ends).
 */
const WRITE_AHEAD_BYTES = 64 * 1024;

/** Each open socket's direct writer (see writeNextFrame). */
const directWriters = new WeakMap<WebSocket, (frame: string) => boolean>();

/**
 * Write a `next` message for operation `id` with the pre-serialized `payloadText`, outside
 * graphql-ws's per-operation loop (shared live events: src/graphql/shared-execution.ts).
 * The frame is the one graphql-ws would write. Returns false, writing nothing, when the
 * socket is not open or already holds more than WRITE_AHEAD_BYTES unsent: the caller then
 * sends the event through graphql-ws, which waits for the socket and applies the
 * slow-consumer bounds.
 */
export function writeNextFrame(socket: WebSocket, id: string, payloadText: string): boolean {
  const write = directWriters.get(socket);
  return write !== undefined && write(`{"id":${JSON.stringify(id)},"type":"next","payload":${payloadText}}`);
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
    /** The TCP socket under the WebSocket (ws keeps it as `_socket`), corked until the end of the tick. */
    const raw = (socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    let corked = false;
    const uncork = () => {
      corked = false;
      raw?.uncork();
    };
    /** Every message written in this tick leaves in one write when the tick ends. */
    const corkTick = () => {
      if (raw && !corked) {
        corked = true;
        raw.cork();
        process.nextTick(uncork);
      }
    };
    directWriters.set(socket, (frame) => {
      if (ended || socket.readyState !== socket.OPEN || socket.bufferedAmount > WRITE_AHEAD_BYTES) return false;
      corkTick();
      socket.send(frame);
      return true;
    });
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            const text = wireText(data);
            if (ended || socket.readyState !== socket.OPEN) return resolve();
            if (socket.bufferedAmount > limits.subscriberMaxBufferBytes) {
              slowConsumer();
              return resolve();
            }
            corkTick();
            // graphql-ws waits for each send before it pulls the next message. While little
            // is unsent, it may go on at once; past that, it waits for this message to drain,
            // and a socket that stays full for the stall time belongs to a client that stopped reading.
            let stall: NodeJS.Timeout | undefined;
            socket.send(text, (err) => {
              clearTimeout(stall);
              if (err) reject(err);
              else resolve();
            });
            if (socket.bufferedAmount <= WRITE_AHEAD_BYTES) return resolve();
            stall = setTimeout(() => {
              slowConsumer();
              resolve();
            }, limits.subscriberStallMs);
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

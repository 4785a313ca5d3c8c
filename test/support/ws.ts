/**
 * graphql-ws clients over real sockets for tests: one-shot operations and the close event
 * of a refused connection.
 */
import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";

export interface WsResult {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** A client that connects on first use and never retries (a refusal must stay visible). */
export function wsClient(url: string, authorization?: string): Client {
  return createClient({
    url: url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    ...(authorization === undefined ? {} : { connectionParams: { authorization } }),
  });
}

/**
 * A client like wsClient whose sockets the test can reach (`sockets`): to pause one and make
 * the gateway's writes back up, or resume it before disposing.
 */
export function pausableWsClient(url: string, authorization?: string): { client: Client; sockets: WebSocket[] } {
  const sockets: WebSocket[] = [];
  class Socket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      sockets.push(this);
    }
  }
  const client = createClient({
    url: url.replace(/^http/, "ws"),
    webSocketImpl: Socket,
    retryAttempts: 0,
    lazy: true,
    ...(authorization === undefined ? {} : { connectionParams: { authorization } }),
  });
  return { client, sockets };
}

/** Run one operation; resolves with its result or its errors, rejects with a close event. */
export function wsExec(client: Client, query: string, variables?: Record<string, unknown>): Promise<WsResult> {
  return new Promise((resolve, reject) => {
    let result: WsResult = {};
    client.subscribe(
      { query, ...(variables ? { variables } : {}) },
      {
        next: (r) => (result = r as WsResult),
        error: (e) => (Array.isArray(e) ? resolve({ errors: e as WsResult["errors"] }) : reject(e)),
        complete: () => resolve(result),
      },
    );
  });
}

/** The close code and reason a refused operation ends with. */
export async function wsCloseOf(client: Client, query = "{ viewer { keyId } }"): Promise<{ code: number; reason: string }> {
  try {
    await wsExec(client, query);
  } catch (e) {
    const event = e as { code?: number; reason?: string };
    if (typeof event.code === "number") return { code: event.code, reason: String(event.reason ?? "") };
    throw e;
  }
  throw new Error("the operation succeeded; expected the connection to be closed");
}

/**
 * One operation over graphql-ws with the subscribe payload written as raw JSON text (a
 * client library would re-stringify it and lose lexemes such as 100.0). Resolves with the
 * raw text of every `next` and `error` message, in order.
 */
export function wsRawOperation(url: string, authorization: string, payloadText: string, timeoutMs = 120_000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, "ws"), "graphql-transport-ws");
    const messages: string[] = [];
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no complete within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.close(1000);
      if (error) reject(error);
      else resolve(messages);
    };
    socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization } })));
    socket.on("message", (data) => {
      const text = String(data);
      const type = (JSON.parse(text) as { type: string }).type;
      if (type === "connection_ack") socket.send(`{"id":"1","type":"subscribe","payload":${payloadText}}`);
      else if (type === "next") messages.push(text);
      else if (type === "error") {
        messages.push(text);
        finish();
      } else if (type === "complete") finish();
    });
    socket.on("close", (code, reason) => finish(new Error(`closed ${code} ${String(reason)}`)));
    socket.on("error", (e) => finish(e));
  });
}

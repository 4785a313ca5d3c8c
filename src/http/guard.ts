/**
 * The yoga adapter of the access gate (src/access/gate.ts): every GraphQL request, plain or
 * SSE, is admitted before its body is even parsed, so a refused request costs neither parsing
 * nor validation and cannot probe the schema. GET /export admits its requests the same way
 * (admitRequest). The refusal's status and headers travel in `extensions.http`, set from the
 * one code table when the error is made (src/errors.ts).
 */
import type { Plugin } from "graphql-yoga";
import type { Gate, Transport } from "../access/gate.js";
import type { Viewer } from "../access/authenticator.js";
import { currentRequest } from "./access-log.js";

/** The guard plugin and the lookup of the viewer it admitted for a request. */
export interface Guard {
  plugin: Plugin;
  viewerOf(request: Request): Viewer | undefined;
}

/** The client address of a request served by node:http (yoga.fetch in tests has none). */
function clientAddress(serverContext: unknown): string {
  const req = (serverContext as { req?: { socket?: { remoteAddress?: string } } } | undefined)?.req;
  return req?.socket?.remoteAddress ?? "in-process";
}

/**
 * Admit a yoga request through the gate by its Authorization header and client address; its
 * access log line (access-log.ts) learns the key. `transport` defaults to the request's own
 * (http, or sse for `Accept: text/event-stream`).
 * @throws TracegateError UNAUTHENTICATED or RATE_LIMITED, as Gate.admit.
 */
export function admitRequest(gate: Gate, request: Request, serverContext: unknown, transport?: Transport): Promise<Viewer> {
  const record = currentRequest();
  return gate.admit(request.headers.get("authorization"), {
    address: clientAddress(serverContext),
    transport: transport ?? record?.transport ?? "http",
    requestId: record?.requestId,
    onKey: (keyId) => {
      if (record) record.keyId = keyId;
    },
  });
}

/** The guard of GraphQL requests: admits each one and remembers its viewer for the context. */
export function createGuard(gate: Gate): Guard {
  const viewers = new WeakMap<Request, Viewer>();
  const plugin: Plugin = {
    async onRequestParse({ request, serverContext }) {
      viewers.set(request, await admitRequest(gate, request, serverContext));
    },
  };
  return { plugin, viewerOf: (request) => viewers.get(request) };
}

/**
 * The HTTP gate in front of every GraphQL request: authenticate the API key and count the
 * request against the key's rate limit, before the body is even parsed. A refused request
 * costs neither parsing nor validation, and cannot probe the schema.
 */
import type { Plugin } from "graphql-yoga";
import { bearerKey } from "../access/api-key.js";
import { isTracegateError, TracegateError } from "../errors.js";
import { currentRequest, logAuthFailure } from "./access-log.js";
import type { Authenticator, Viewer } from "../access/authenticator.js";
import type { Logger } from "../logger.js";
import type { RateLimiter } from "../access/rate-limit.js";

export interface GuardDeps {
  authenticator: Authenticator;
  /** Budget per API key id. */
  requests: RateLimiter;
  /** Budget of failed authentications per client address. */
  authFailures: RateLimiter;
  /** Where failed authentications are logged (warn: address and reason, never the key). */
  logger?: Logger;
}

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

/** Attach HTTP headers a status-bearing error should carry (yoga reads extensions.http). */
function withHeaders(error: TracegateError, headers: Record<string, string>): TracegateError {
  const http = (error.extensions.http ?? {}) as { status?: number; headers?: Record<string, string> };
  (error.extensions as Record<string, unknown>).http = { ...http, headers: { ...http.headers, ...headers } };
  return error;
}

export function createGuard(deps: GuardDeps): Guard {
  const viewers = new WeakMap<Request, Viewer>();
  const plugin: Plugin = {
    async onRequestParse({ request, serverContext }) {
      let viewer: Viewer;
      try {
        viewer = await deps.authenticator.authenticate(bearerKey(request.headers.get("authorization")));
      } catch (e) {
        if (isTracegateError(e) && e.code === "UNAUTHENTICATED") {
          const address = clientAddress(serverContext);
          logAuthFailure(deps.logger, { address, transport: currentRequest()?.transport ?? "http", reason: e.message });
          await countFailure(deps.authFailures, address);
          throw withHeaders(e, { "WWW-Authenticate": 'Bearer realm="tracegate"' });
        }
        throw e;
      }
      const record = currentRequest();
      if (record) record.keyId = viewer.keyId;
      await countRequest(deps.requests, viewer.keyId);
      viewers.set(request, viewer);
    },
  };
  return { plugin, viewerOf: (request) => viewers.get(request) };
}

/** Count a failed authentication; over budget, RATE_LIMITED replaces UNAUTHENTICATED. */
export async function countFailure(limiter: RateLimiter, address: string): Promise<void> {
  await countRequest(limiter, `addr:${address}`);
}

/** Count one request, turning RATE_LIMITED into a 429 with Retry-After. */
export async function countRequest(limiter: RateLimiter, subject: string): Promise<void> {
  try {
    await limiter.consume(subject);
  } catch (e) {
    if (isTracegateError(e) && e.code === "RATE_LIMITED") {
      throw withHeaders(e, { "Retry-After": String(e.extensions.retryAfterSeconds) });
    }
    throw e;
  }
}

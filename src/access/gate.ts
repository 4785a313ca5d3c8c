/**
 * The one access gate (docs/architecture.md#data-flow). GraphQL over HTTP and SSE
 * (src/http/guard.ts), graphql-ws (src/http/ws.ts) and GET /export (src/http/export-route.ts)
 * all admit their callers here, so whichever door a request comes in by, its key is
 * authenticated the same way, a failed attempt is logged once and counted against the same
 * budget of its client address, and the request is counted against the same budget of its
 * key. The transports only say where the credential and the address are, and how a refusal
 * looks on their wire (src/errors.ts httpStatusOf for HTTP, close codes for graphql-ws).
 */
import { bearerKey } from "./api-key.js";
import type { Authenticator, Viewer } from "./authenticator.js";
import type { RateLimiter } from "./rate-limit.js";
import { isTracegateError } from "../errors.js";
import type { Logger } from "../logger.js";

/** The doors: GraphQL over plain HTTP, over SSE, over graphql-ws, and GET /export. */
export type Transport = "http" | "sse" | "ws" | "export";

/** Where an attempt comes from. */
export interface Attempt {
  /** The client address; failed authentications are counted per address. */
  address: string;
  transport: Transport;
  /** The request's (or graphql-ws operation's) id, for the log line of a failure. */
  requestId?: string | undefined;
  /**
   * Told the key's id once the key is known, before its budget is counted, so that the
   * access log of a request refused for its rate names the key.
   */
  onKey?: (keyId: string) => void;
}

export interface GateDeps {
  authenticator: Pick<Authenticator, "authenticate" | "assertActive">;
  /** Budget per API key id. */
  requests: RateLimiter;
  /** Budget of failed authentications per client address. */
  authFailures: RateLimiter;
  /** Where failed authentications are logged (warn: address, transport, reason; never the key). */
  logger?: Logger | undefined;
}

export interface Gate {
  /**
   * Admit a caller by its credential: the raw `Authorization` header value, or graphql-ws's
   * `connectionParams.authorization` (where the `Bearer` scheme may be left out); null when
   * none was sent. A failure is logged and counted against the address. Over HTTP, SSE and
   * /export the request is then counted against the key's budget; a graphql-ws connection is
   * not a request: its operations are counted one by one through `recheck`.
   * @throws TracegateError UNAUTHENTICATED for a missing, malformed, unknown or revoked key;
   *   RATE_LIMITED (with `retryAfterSeconds`) instead once the address has failed too often,
   *   or when the key's budget is spent.
   */
  admit(credential: string | null, attempt: Attempt): Promise<Viewer>;
  /**
   * Per operation on an admitted graphql-ws connection: the key is still valid (a revoked key
   * stops working on its open sockets too; the failure is logged but not counted, the key was
   * good when the socket opened), and the operation is counted against the key's budget.
   * @throws TracegateError UNAUTHENTICATED once the key was revoked; RATE_LIMITED over budget.
   */
  recheck(viewer: Viewer, attempt: Attempt): Promise<void>;
}

/** Failed authentications are counted under this subject, apart from key ids. */
const addressSubject = (address: string) => `addr:${address}`;

export function createGate(deps: GateDeps): Gate {
  /** Run an authentication; log a failure, and count it against the address when `count`. */
  const authenticated = async <T>(attempt: Attempt, count: boolean, authenticate: () => Promise<T>): Promise<T> => {
    try {
      return await authenticate();
    } catch (e) {
      if (!isTracegateError(e) || e.code !== "UNAUTHENTICATED") throw e;
      const { requestId, address, transport } = attempt;
      deps.logger?.warn({ requestId: requestId ?? null, address, transport, reason: e.message }, "authentication failed");
      // Over the address's budget, RATE_LIMITED replaces UNAUTHENTICATED.
      if (count) await deps.authFailures.consume(addressSubject(address));
      throw e;
    }
  };
  /** Count one request (or operation) of an authenticated key. */
  const counted = async (viewer: Viewer, attempt: Attempt) => {
    attempt.onKey?.(viewer.keyId);
    await deps.requests.consume(viewer.keyId);
  };
  return {
    async admit(credential, attempt) {
      const key = bearerKey(credential, { schemeOptional: attempt.transport === "ws" });
      const viewer = await authenticated(attempt, true, () => deps.authenticator.authenticate(key));
      if (attempt.transport === "ws") attempt.onKey?.(viewer.keyId);
      else await counted(viewer, attempt);
      return viewer;
    },
    async recheck(viewer, attempt) {
      await authenticated(attempt, false, () => deps.authenticator.assertActive(viewer));
      await counted(viewer, attempt);
    },
  };
}

/**
 * Request ids and the access log (README.md#operating-it). Every HTTP request gets an id
 * (a sane incoming `X-Request-Id`, or a random UUID), returned in the `X-Request-Id` response
 * header and carried through the request's async work in an AsyncLocalStorage, so the error
 * masker can put it next to an errorId and the access log line can name the key and
 * operation. graphql-ws has one id per operation (ws.ts), logged the same way.
 *
 * One JSON line per request at info level: requestId, keyId (never the key), operationName,
 * operationType, transport (http, sse, ws), status, code (OK or the first error's code),
 * durationMs, address. GraphQL and /export only; health, readiness, metrics, the checkpoint
 * key and the console's static files log at debug, so probes and scrapes do not flood the log.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type DocumentNode, getOperationAST } from "graphql";
import { isAsyncIterable, type Plugin } from "graphql-yoga";
import { codeOfHttpStatus } from "../errors.js";
import type { Logger } from "../logger.js";

export const REQUEST_ID_HEADER = "X-Request-Id";

/** What one request (or graphql-ws operation) did, filled in as it goes. */
export interface RequestRecord {
  requestId: string;
  transport: "http" | "sse" | "ws";
  address: string;
  start: number;
  keyId?: string;
  operationName?: string | null;
  operationType?: string;
  /** OK, or the first error's extensions.code. */
  code?: string;
}

const scope = new AsyncLocalStorage<RequestRecord>();

/** The record of the request this code runs for, if any. */
export function currentRequest(): RequestRecord | undefined {
  return scope.getStore();
}

/** Run `fn` as part of `record`'s request. */
export function withRequest<T>(record: RequestRecord, fn: () => T): T {
  return scope.run(record, fn);
}

/** An incoming id is kept when it is 1-128 printable ASCII characters without spaces; otherwise a new UUID. */
export function requestIdFrom(incoming: string | string[] | undefined | null): string {
  const value = Array.isArray(incoming) ? incoming[0] : incoming;
  return value && /^[\x21-\x7e]{1,128}$/.test(value) ? value : randomUUID();
}

/** The first error's code of a GraphQL result, or OK. */
export function outcomeOf(errors: readonly unknown[] | undefined): string {
  const first = errors?.[0] as { extensions?: { code?: unknown } } | undefined;
  if (!first) return "OK";
  return typeof first.extensions?.code === "string" ? first.extensions.code : "INTERNAL_SERVER_ERROR";
}

/** Name and type of the operation a document runs. */
export function describeOperation(document: DocumentNode, operationName?: string | null): { operationName: string | null; operationType?: string } {
  const op = getOperationAST(document, operationName ?? undefined);
  return { operationName: op?.name?.value ?? operationName ?? null, ...(op ? { operationType: op.operation } : {}) };
}

/** Write the access log line of a finished request or operation. */
export function logAccess(logger: Logger, record: RequestRecord, extra: Record<string, unknown> = {}, level: "info" | "debug" = "info"): void {
  logger[level](
    {
      access: true,
      requestId: record.requestId,
      transport: record.transport,
      keyId: record.keyId ?? null,
      operationName: record.operationName ?? null,
      operationType: record.operationType ?? null,
      code: record.code ?? "OK",
      durationMs: Math.round((performance.now() - record.start) * 10) / 10,
      address: record.address,
      ...extra,
    },
    "access",
  );
}

/** Paths whose requests are logged at info level; the rest (probes, static files) at debug. */
export function isAccessLogged(pathname: string, graphqlPath: string, exportPath: string): boolean {
  return pathname === graphqlPath || pathname === exportPath;
}

/**
 * The node:http request listener around `handler`: assigns the request id, sets the
 * response header, runs the handler inside the request's scope and logs the line when the
 * response is over (finished, or cut by the client: `aborted: true`).
 */
export function accessLogged(
  handler: (req: IncomingMessage, res: ServerResponse) => unknown,
  options: { logger: Logger; logged: (pathname: string) => boolean },
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const requestId = requestIdFrom(req.headers["x-request-id"]);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const accept = req.headers.accept ?? "";
    const record: RequestRecord = {
      requestId,
      transport: accept.includes("text/event-stream") ? "sse" : "http",
      address: req.socket.remoteAddress ?? "unknown",
      start: performance.now(),
    };
    const pathname = (req.url ?? "/").split("?")[0]!;
    res.once("close", () => {
      if (!record.code || (record.code === "OK" && res.statusCode >= 400)) record.code = codeOfHttpStatus(res.statusCode); // the export route, 404s
      const aborted = !res.writableFinished;
      logAccess(options.logger, record, { method: req.method, path: pathname, status: res.statusCode, ...(aborted ? { aborted } : {}) }, options.logged(pathname) ? "info" : "debug");
    });
    withRequest(record, () => handler(req, res));
  };
}

/**
 * The yoga side of the access log: the operation's name and type, its outcome code, and
 * the end of SSE streams at shutdown (their iterator returns, so yoga sends `complete`).
 */
export function accessLogPlugin(shutdown: AbortSignal): Plugin {
  return {
    onParams({ params }) {
      const record = currentRequest();
      if (record && record.operationName === undefined) record.operationName = params.operationName ?? null;
    },
    onExecute({ args }) {
      const record = currentRequest();
      if (record) Object.assign(record, describeOperation(args.document, args.operationName));
    },
    onSubscribe({ args }) {
      const record = currentRequest();
      if (record) Object.assign(record, describeOperation(args.document, args.operationName));
    },
    onResultProcess({ result, setResult }) {
      const record = currentRequest();
      if (isAsyncIterable(result)) {
        if (record) record.code ??= "OK";
        setResult(untilAborted(result, shutdown) as never);
        return;
      }
      if (!record) return;
      const results = (Array.isArray(result) ? result : [result]) as { errors?: readonly unknown[] }[];
      record.code = outcomeOf(results.find((r) => r.errors?.length)?.errors);
    },
  };
}

/** `source`, ended (its iterator returned) once `signal` aborts. */
function untilAborted<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncIterableIterator<T> {
  const it = source[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<IteratorResult<T>>((resolve) => {
    onAbort = () => resolve({ done: true, value: undefined });
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  let done = false;
  // The shutdown signal is the process's: a stream that ended must not stay subscribed to it.
  const release = () => {
    done = true;
    if (onAbort) signal.removeEventListener("abort", onAbort);
  };
  const finish = async (): Promise<IteratorResult<T>> => {
    if (!done) {
      release();
      await it.return?.();
    }
    return { done: true, value: undefined };
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (done) return { done: true, value: undefined };
      const r = await Promise.race([it.next(), aborted]);
      if (r.done) return finish();
      return r;
    },
    return: finish,
    async throw(e) {
      release();
      if (it.throw) return it.throw(e);
      throw e;
    },
  };
}

/**
 * GET /export: the audit trail as a streamed download, for jobs that want whole files rather
 * than GraphQL pages (SIEM ingestion, archives, weaver-kernel's own tools).
 *
 *   GET /export?format=jsonl|ocsf|ocsf-reference|csv|chained|envelope&principalId=&capabilityId=&eventType=
 *              &outcome=&reasonCode=&since=&until=&order=seq|seq-desc|time|time-desc&limit=
 *              &principalIdPrefix=&capabilityIdPrefix=&principalIdIn=&capabilityIdIn= (repeatable)
 *              &afterSeq=&withSeq=true|false
 *
 * The body is written page by page from keyset pages of the store as the client reads it
 * (application/x-ndjson, or application/json for the envelope), so memory stays constant and
 * a slow client slows the reads instead of filling a buffer. Formats: src/export/formats.ts.
 *
 * Access follows the GraphQL API: the same gate (src/access/gate.ts: `Authorization: Bearer
 * <key>`, 401 UNAUTHENTICATED without a valid one, the same rate limits), the `traces:read`
 * scope (403 FORBIDDEN), and a principal-scoped key sees only its principals (the scope goes
 * into the SQL). The key is checked again before every page: an export whose key is revoked,
 * or whose client went away, stops. `chained` is the chain itself, every principal's hashes
 * and links, so it needs an unscoped key, like verifyChain.
 * Unknown, repeated or malformed parameters are refused with 400 BAD_USER_INPUT rather than
 * ignored: an export that silently drops a misspelled filter would hand over too much.
 *
 * Delivery cursors (`tracegate forward`, src/forward/): `afterSeq=n` keeps only records with
 * seq > n, in chain order (order=seq; refused with the others), and `withSeq=true` writes each
 * jsonl or ocsf line as `{"seq": n, "data": <line>}`, so a consumer knows the position of
 * every record it holds. Every 200 carries `X-Tracegate-Last-Seq`: the newest seq this
 * request's key and filters match (ignoring afterSeq and limit), absent when none does; a
 * consumer's lag is that minus its cursor. It says nothing a principal-scoped key could not
 * read itself: it is computed through the same confined store. Every 200 also carries
 * `X-Tracegate-Chain-Id`, the chain's random id (set by the migration that created it,
 * kept by a backup's restore), so a cursor names the chain its seqs count in; the id says
 * nothing about any record, so a scoped key gets it too (docs/security-model.md).
 * Errors use the GraphQL error shape `{errors: [{message, extensions: {code}}]}`, with the
 * status and headers of the code table (src/errors.ts httpStatusOf).
 */
import type { Plugin } from "graphql-yoga";
import { TimestampError } from "../chain/time.js";
import { EVENT_TYPES, type EventType, STATUSES, type TraceStatus } from "../chain/trace.js";
import { badUserInput, httpStatusOf, isTracegateError, TracegateError } from "../errors.js";
import {
  EXPORT_CONTENT_TYPES,
  EXPORT_FORMATS,
  EXPORT_ORDERS,
  exportChunks,
  type ExportFormat,
  isExportFormat,
  isExportOrderName,
  parseExportTime,
} from "../export/formats.js";
import { toStoreFilter } from "../app/query.js";
import type { TraceFilter, TraceOrder } from "../stores/trace-store.js";
import { type Caller, callerOf, type Gateway } from "../app/caller.js";
import { viewerCan } from "../access/authenticator.js";
import type { Gate } from "../access/gate.js";
import { stillWanted } from "../app/cancellation.js";
import { currentRequest } from "./access-log.js";
import { admitRequest } from "./guard.js";

export const EXPORT_PATH = "/export";

export interface ExportRouteDeps {
  /** The use-case ports; each export reads through its caller's confined trace store. */
  gateway: Gateway;
  /** The access gate GraphQL requests pass too (keys, failed-auth and request budgets). */
  gate: Gate;
}

/** The query parameters /export understands. */
const PARAMETERS = new Set([
  "format",
  "principalId",
  "principalIdIn",
  "principalIdPrefix",
  "capabilityId",
  "capabilityIdIn",
  "capabilityIdPrefix",
  "eventType",
  "outcome",
  "reasonCode",
  "since",
  "until",
  "order",
  "limit",
  "afterSeq",
  "withSeq",
]);

/** The list parameters: repeated, one id each (`capabilityIdIn=a&capabilityIdIn=b`), as ids may hold commas. */
const LIST_PARAMETERS = new Set(["principalIdIn", "capabilityIdIn"]);
/** Response header: the newest seq the export's key and filters match (see the module comment). */
export const LAST_SEQ_HEADER = "x-tracegate-last-seq";
/** Response header: the chain's random id (ChainHead.chainId), which chain the seqs count in (see the module comment). */
export const CHAIN_ID_HEADER = "x-tracegate-chain-id";

/** A validated export request. */
export interface ExportRequest {
  format: ExportFormat;
  filter: TraceFilter;
  order: TraceOrder;
  limit: number | undefined;
  /** Only records with seq > afterSeq (chain order only). */
  afterSeq: number | undefined;
  /** Lines as `{"seq": n, "data": <line>}` (jsonl and ocsf). */
  withSeq: boolean;
}

/** A non-negative safe integer parameter, or undefined when absent. */
function count(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw badUserInput(`'${name}' must be a non-negative integer, got ${JSON.stringify(text.slice(0, 64))}.`, name);
  }
  return Number(text);
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  // The GraphQL enum spellings (DENY, FAILED) are accepted too.
  const lower = value.toLowerCase();
  const found = allowed.find((a) => a === lower);
  if (found === undefined) throw badUserInput(`'${name}' must be one of ${allowed.join(", ")}, got ${JSON.stringify(value.slice(0, 64))}.`, name);
  return found;
}

/** `since`/`until`: what Python's `datetime.fromisoformat` reads (naive = UTC), as the CLI's flags. */
function time(name: string, value: string | undefined): number | null {
  if (value === undefined) return null;
  try {
    return parseExportTime(value);
  } catch (e) {
    if (e instanceof TimestampError) throw badUserInput(`'${name}': ${e.message}`, name);
    throw e;
  }
}

/**
 * Refuse a query string whose percent-encoding is not UTF-8 (`%FF`, or `%ED%A0%80`, an
 * encoded lone surrogate): URLSearchParams would quietly read such bytes as U+FFFD, and a
 * filter on that text matches nothing, so a malformed filter would answer an empty export
 * where GraphQL answers BAD_USER_INPUT.
 * @param search the URL's raw query string, with or without its leading `?`.
 * @throws TracegateError BAD_USER_INPUT naming the parameter.
 */
export function checkQueryEncoding(search: string): void {
  for (const pair of search.replace(/^\?/, "").split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const [name, value] = eq === -1 ? [pair, ""] : [pair.slice(0, eq), pair.slice(eq + 1)];
    for (const part of [name, value]) {
      try {
        decodeURIComponent(part.replace(/\+/g, " "));
      } catch {
        const shown = name.slice(0, 64);
        throw badUserInput(`Parameter '${shown}' is not valid UTF-8 when percent-decoded.`, shown);
      }
    }
  }
}

/**
 * Read an export request from a query string.
 * @throws TracegateError BAD_USER_INPUT naming the offending parameter.
 */
export function parseExportQuery(params: URLSearchParams): ExportRequest {
  const values = new Map<string, string>();
  const lists = new Map<string, string[]>();
  for (const [name, value] of params) {
    if (!PARAMETERS.has(name)) {
      throw badUserInput(`Unknown parameter '${name.slice(0, 64)}': use ${[...PARAMETERS].join(", ")}.`, name.slice(0, 64));
    }
    if (LIST_PARAMETERS.has(name)) {
      lists.set(name, [...(lists.get(name) ?? []), value]);
      continue;
    }
    if (values.has(name)) throw badUserInput(`Parameter '${name}' is given more than once.`, name);
    values.set(name, value);
  }
  const format = values.get("format") ?? "jsonl";
  if (format === "parquet") {
    // Not a download: Security Lake takes a folder tree of per-day files (README "OCSF in Parquet").
    throw badUserInput(
      "format=parquet is not served over HTTP: `tracegate audit export --format parquet --out DIR` writes the Security Lake folder tree of per-day Parquet files; here take format=ocsf.",
      "format",
    );
  }
  if (!isExportFormat(format)) {
    throw badUserInput(`'format' must be one of ${EXPORT_FORMATS.join(", ")}, got ${JSON.stringify(format.slice(0, 64))}.`, "format");
  }
  const orderName = values.get("order") ?? "seq";
  if (!isExportOrderName(orderName)) {
    throw badUserInput(`'order' must be one of ${Object.keys(EXPORT_ORDERS).join(", ")}, got ${JSON.stringify(orderName.slice(0, 64))}.`, "order");
  }
  const limit = count("limit", values.get("limit"));
  const afterSeq = count("afterSeq", values.get("afterSeq"));
  const withSeqText = values.get("withSeq") ?? "false";
  if (withSeqText !== "true" && withSeqText !== "false") {
    throw badUserInput(`'withSeq' must be true or false, got ${JSON.stringify(withSeqText.slice(0, 64))}.`, "withSeq");
  }
  const withSeq = withSeqText === "true";
  if (withSeq && format !== "jsonl" && format !== "ocsf") {
    throw badUserInput(`withSeq=true applies to format=jsonl and format=ocsf (csv and chained carry seq already), not ${format}.`, "withSeq");
  }
  const eventType = values.get("eventType");
  const outcome = values.get("outcome");
  const since = time("since", values.get("since"));
  const until = time("until", values.get("until"));
  if (since !== null && until !== null && since > until) {
    throw badUserInput("'since' must not be later than 'until' (since is inclusive, until exclusive).", "since");
  }
  const filter = toStoreFilter({
    principalId: values.get("principalId") ?? null,
    principalIdIn: lists.get("principalIdIn") ?? null,
    principalIdPrefix: values.get("principalIdPrefix") ?? null,
    capabilityId: values.get("capabilityId") ?? null,
    capabilityIdIn: lists.get("capabilityIdIn") ?? null,
    capabilityIdPrefix: values.get("capabilityIdPrefix") ?? null,
    eventType: eventType === undefined ? null : oneOf<EventType>("eventType", eventType, EVENT_TYPES),
    outcome: outcome === undefined ? null : oneOf<TraceStatus>("outcome", outcome, STATUSES),
    reasonCode: values.get("reasonCode") ?? null,
    since,
    until,
  }, "");
  const order = EXPORT_ORDERS[orderName];
  if (format === "chained" && (Object.values(filter).some((v) => v !== undefined) || order !== "SEQ_ASC" || afterSeq !== undefined)) {
    // A chained file verifies only as an unbroken run of the chain from its start, in chain order.
    throw badUserInput("format=chained exports the chain itself: it takes no filters or afterSeq and only order=seq (limit keeps a prefix).", "format");
  }
  if (afterSeq !== undefined && order !== "SEQ_ASC") {
    // A cursor is a position in chain order; in time order "after seq n" would skip records.
    throw badUserInput("'afterSeq' is a position in chain order: use it with order=seq.", "afterSeq");
  }
  return { format, filter, order, limit, afterSeq, withSeq };
}

/** Serve GET /export (see the module comment). Place it before the guard in the plugin list. */
export function exportRoutePlugin(deps: ExportRouteDeps): Plugin {
  return {
    async onRequest({ url, request, serverContext, endResponse, fetchAPI }) {
      if (url.pathname !== EXPORT_PATH) return;
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
        new fetchAPI.Response(request.method === "HEAD" ? null : JSON.stringify(body), {
          status,
          headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
        });
      if (request.method !== "GET" && request.method !== "HEAD") {
        endResponse(
          json(405, { errors: [{ message: "Method not allowed: use GET.", extensions: { code: "BAD_USER_INPUT" } }] }, { allow: "GET, HEAD" }),
        );
        return;
      }
      const record = currentRequest();
      if (record) record.operationType = "export";
      try {
        const viewer = await admitRequest(deps.gate, request, serverContext, "export");
        if (!viewerCan(viewer, "traces:read")) {
          throw new TracegateError("FORBIDDEN", `API key '${viewer.keyId}' may not export traces: it lacks the traces:read scope.`);
        }
        checkQueryEncoding(url.search);
        const query = parseExportQuery(url.searchParams);
        if (query.format === "chained" && viewer.principals) {
          throw new TracegateError(
            "FORBIDDEN",
            `API key '${viewer.keyId}' is confined to some principals; format=chained exposes the whole chain and needs an unscoped key.`,
          );
        }
        const headers: Record<string, string> = {
          "content-type": EXPORT_CONTENT_TYPES[query.format],
          "cache-control": "no-store",
          "x-content-type-options": "nosniff",
        };
        if (request.method === "HEAD") {
          endResponse(new fetchAPI.Response(null, { status: 200, headers }));
          return;
        }
        // The caller's trace store is confined to the viewer's principals (src/app/caller.ts).
        const caller = callerOf(deps.gateway, viewer, request.signal);
        // One indexed read ((field, seq) indexes): the newest record this export could contain.
        const [newest] = await caller.stores.traces.page({ filter: query.filter, order: "SEQ_DESC", limit: 1 });
        if (newest) headers[LAST_SEQ_HEADER] = String(newest.seq);
        // Which chain those seqs count in, so a cursor kept against one gateway is refused by another.
        headers[CHAIN_ID_HEADER] = (await caller.stores.traces.head()).chainId;
        const breakTransfer = () => {
          const res = (serverContext as { res?: { destroy(): void } } | undefined)?.res;
          res?.destroy();
          return res !== undefined;
        };
        endResponse(new fetchAPI.Response(exportStream(caller, query, breakTransfer, fetchAPI.ReadableStream), { status: 200, headers }));
      } catch (e) {
        if (!isTracegateError(e)) throw e;
        if (record) record.code = e.code;
        const { status, headers } = httpStatusOf(e);
        const extensions: Record<string, unknown> = { ...e.extensions };
        delete extensions.http;
        endResponse(json(status, { errors: [{ message: e.message, extensions }] }, headers));
      }
    },
  };
}

/**
 * The export as a byte stream pulled by the client: each pull reads one store page. A
 * failure after the headers went out can no longer change the status, so it breaks the
 * transfer (the connection is destroyed; in process, the stream errors), and the client sees
 * a broken transfer instead of a short file that looks whole. The same happens when the
 * client's key is revoked mid-way; a client that went away stops the reads.
 */
function exportStream(
  caller: Caller,
  query: ExportRequest,
  /** Destroys the connection; false when there is none (in-process requests). */
  breakTransfer: () => boolean,
  Stream: typeof ReadableStream,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const chunks = exportChunks(caller.stores.traces, query.filter, query.order, query.format, {
    ...(query.limit === undefined ? {} : { limit: query.limit }),
    ...(query.afterSeq === undefined ? {} : { afterSeq: query.afterSeq }),
    withSeq: query.withSeq,
  });
  return new Stream<Uint8Array>({
    async pull(controller) {
      try {
        for (;;) {
          // Before each page: a client gone or a key revoked since the export began ends it.
          await stillWanted(caller);
          const next = await chunks.next();
          if (next.done) {
            controller.close();
            return;
          }
          if (next.value !== "") {
            controller.enqueue(encoder.encode(next.value));
            return;
          }
        }
      } catch (e) {
        await chunks.return(0).catch(() => undefined);
        // On a real server the transfer is broken by destroying the connection; closing the
        // stream (not erroring it) keeps the adapter from reporting an unhandled rejection.
        if (breakTransfer()) controller.close();
        else controller.error(e);
      }
    },
    async cancel() {
      await chunks.return(0);
    },
  });
}

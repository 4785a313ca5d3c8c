/**
 * Reading new traces from a running gateway: GET /export (src/http/export-route.ts) in chain
 * order after the cursor, with the key of the forwarder's own least-privilege identity (a
 * key that holds only `traces:read`, maybe confined to some principals: the gateway applies
 * its scope in the SQL, so a scoped forwarder only ever sees its principals).
 *
 * Why /export and not the GraphQL `traces` connection: /export already writes the formats a
 * collector wants (the reference's export object; the OCSF event, mapped in one place on the
 * gateway, src/export/ocsf.ts), byte for byte as `tracegate audit export` and every other
 * consumer get them, takes the same filters, and streams keyset pages from the seq index.
 * Its `afterSeq=n` is the cursor (seq > n, chain order) and `withSeq=true` tells the seq of
 * every line, as `{"seq": n, "data": <line>}` with the line untouched, so the forwarder cuts
 * the line out without parsing and re-serialising it (a float like 100.0 or an integer past
 * 2^53 stays as written). `X-Tracegate-Last-Seq` (the newest seq the key and filters match)
 * gives the lag, and `X-Tracegate-Chain-Id` names the chain the seqs count in (the cursor
 * records it, ./state.ts). The connection would have needed the OCSF mapping and the export object
 * rebuilt here, with a second copy of each to keep in step.
 */
import { isRetryable, readAnswer } from "../client/retry-policy.js";
import { ForwardError } from "./errors.js";
import { type Attempt, networkWhy, type RetryOptions, type Retried, untilAnswered } from "./retry.js";

/**
 * The /export filters the forwarder passes through (the same names and values as /export's;
 * a list goes as the parameter repeated, `principalIdIn=a&principalIdIn=b`, as ids may hold
 * commas). /export AND-s them.
 */
export interface ExportFilters {
  principalId?: string;
  /** Any of these principals. */
  principalIdIn?: string[];
  /** Principals whose id starts with this text (no wildcards). */
  principalIdPrefix?: string;
  capabilityId?: string;
  /** Any of these capabilities. */
  capabilityIdIn?: string[];
  /** Capabilities whose id starts with this text. */
  capabilityIdPrefix?: string;
  /** invoke, expand or deny. */
  eventType?: string;
  /** succeeded or failed. */
  outcome?: string;
  reasonCode?: string;
}

/** One exported record: its seq and the format's line, exactly as the gateway wrote it (no newline). */
export interface SeqLine {
  seq: number;
  line: string;
}

/** One page of new records. */
export interface ExportPage {
  /** In seq order, every seq greater than the cursor asked after. */
  records: SeqLine[];
  /** The newest seq the key and filters match (X-Tracegate-Last-Seq), null when none does. */
  lastSeq: number | null;
  /** The chain the seqs count in (X-Tracegate-Chain-Id); null from a gateway older than the header. */
  chainId: string | null;
}

export interface GatewayReaderOptions {
  /** The gateway's GraphQL endpoint (…/graphql) or its base URL ending in "/"; /export is resolved against it. */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>`: a key with traces:read. */
  apiKey: string;
  /** The line format to read: jsonl (export objects) or ocsf (OCSF events). */
  format: "jsonl" | "ocsf";
  filters: ExportFilters;
  /** Abort one request after this long (ms) and retry it. */
  requestTimeoutMs: number;
  retry: RetryOptions;
}

/** The fixed frame of a `withSeq=true` line (src/export/formats.ts withSeqLine). */
const FRAME = /^\{"seq": (0|[1-9][0-9]{0,15}), "data": ([\s\S]*)\}$/;

/** The /export URL of a gateway URL: `export` resolved against it (so a path prefix is kept). */
export function exportUrlOf(gatewayUrl: string): URL {
  return new URL("export", gatewayUrl);
}

/** Reads pages of new records from one gateway with one key. */
export class GatewayReader {
  readonly #options: GatewayReaderOptions;
  readonly #base: URL;

  constructor(options: GatewayReaderOptions) {
    this.#options = options;
    this.#base = exportUrlOf(options.url);
  }

  /** The export URL without query, for messages. */
  get exportUrl(): string {
    return this.#base.href;
  }

  /**
   * The next at most `limit` records after `afterSeq` (null: from the start of the chain),
   * retried while the gateway is unavailable.
   * @throws ForwardError GATEWAY_REFUSED when the gateway refuses the request for good (a
   *   bad or revoked key, a key without traces:read, a bad filter) or answers with something
   *   that is not an export in seq order after the cursor.
   */
  async read(afterSeq: number | null, limit: number): Promise<Retried<ExportPage>> {
    const url = new URL(this.#base);
    url.searchParams.set("format", this.#options.format);
    url.searchParams.set("withSeq", "true");
    url.searchParams.set("order", "seq");
    url.searchParams.set("limit", String(limit));
    if (afterSeq !== null) url.searchParams.set("afterSeq", String(afterSeq));
    for (const [name, value] of Object.entries(this.#options.filters)) {
      if (Array.isArray(value)) for (const v of value) url.searchParams.append(name, v);
      else if (value !== undefined) url.searchParams.set(name, value);
    }
    return untilAnswered(() => this.#attempt(url, afterSeq), `gateway ${this.#base.href}`, this.#options.retry);
  }

  async #attempt(url: URL, afterSeq: number | null): Promise<Attempt<ExportPage>> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        headers: { authorization: `Bearer ${this.#options.apiKey}`, accept: "application/x-ndjson" },
        signal: AbortSignal.timeout(this.#options.requestTimeoutMs),
      });
      // A transfer the gateway broke (a failure after the headers) rejects here: retried.
      text = await res.text();
    } catch (e) {
      return { kind: "retry", why: networkWhy(e), afterMs: undefined };
    }
    if (res.status !== 200) {
      const answer = readAnswer(text, res.headers.get("retry-after"));
      const why = answer.code !== null ? `${answer.code}: ${answer.message ?? ""}` : `HTTP ${res.status}`;
      if (isRetryable(res.status, answer.code)) return { kind: "retry", why, afterMs: answer.retryAfterMs };
      throw new ForwardError("GATEWAY_REFUSED", `the gateway refused the export (HTTP ${res.status}, ${why})`);
    }
    const lastText = res.headers.get("x-tracegate-last-seq");
    const lastSeq = lastText !== null && /^\d+$/.test(lastText) ? Number(lastText) : null;
    const chainId = res.headers.get("x-tracegate-chain-id") || null;
    if (text !== "" && !text.endsWith("\n")) return { kind: "retry", why: "export ended mid-line", afterMs: undefined };
    const records: SeqLine[] = [];
    let previous = afterSeq ?? -1;
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const m = FRAME.exec(line);
      const seq = m ? Number(m[1]) : Number.NaN;
      if (!m || !(seq > previous)) {
        // Not an export with seq after the cursor: an old gateway that ignores withSeq, or a proxy.
        throw new ForwardError("GATEWAY_REFUSED", `the gateway's export is not in seq order after ${previous} with seq on every line (is it older than afterSeq/withSeq?): ${line.slice(0, 120)}`);
      }
      records.push({ seq, line: m[2]! });
      previous = seq;
    }
    return { kind: "done", value: { records, lastSeq, chainId } };
  }
}

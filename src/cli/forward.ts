/**
 * `tracegate forward --to <collector>`: deliver the audit trail from a running gateway to an
 * HTTP collector (src/forward/forward.ts and the modules beside it have the how and why).
 * This file reads the flags, the environment and the key files, and reports.
 *
 * Exit status: 0 after SIGINT/SIGTERM (the request in flight is finished and its
 * acknowledgement saved first) or, with --once, when everything there was delivered; 1 with
 * `error: <message> [CODE]` when forwarding stopped (src/forward/errors.ts: a refusal of the
 * gateway or the collector, an unusable cursor file or one of another gateway chain, or with
 * --once an end that stayed away or a cursor ahead of the gateway's newest seq, CURSOR_AHEAD);
 * 130 on a second interrupt. The cursor always holds the last acknowledged seq.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { type Command, Option } from "commander";
import { EVENT_TYPES, STATUSES } from "../chain/trace.js";
import { ForwardError } from "../forward/errors.js";
import { forward, type ForwardSummary } from "../forward/forward.js";
import { FORWARD_FORMATS, type ForwardFormat } from "../forward/formats.js";
import { ForwardMetrics, serveMetrics } from "../forward/metrics.js";
import type { ExportFilters } from "../forward/read.js";
import { stopSignal } from "./interrupt.js";
import { intOption } from "./options.js";

export interface ForwardCliOptions {
  to?: string;
  format: ForwardFormat;
  url?: string;
  key?: string;
  keyFile?: string;
  token?: string;
  tokenFile?: string;
  state?: string;
  /** Repeatable: any of these. */
  principal?: string[];
  principalPrefix?: string;
  /** Repeatable: any of these. */
  capability?: string[];
  capabilityPrefix?: string;
  eventType?: string;
  outcome?: string;
  reasonCode?: string;
  follow?: boolean;
  once?: boolean;
  batch: number;
  batchBytes: number;
  flushMs: number;
  pollMs: number;
  timeoutMs: number;
  retries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  metricsListen?: string;
  hecHost?: string;
  hecSource: string;
  hecSourcetype?: string;
  hecIndex?: string;
  hecEvent: "trace" | "ocsf";
}

/** Splunk HEC's JSON event endpoint, appended to a --to that names only the HEC host. */
export const HEC_EVENT_PATH = "/services/collector/event";

const usage = (message: string) => new ForwardError("USAGE", message);

function httpUrl(flag: string, text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usage(`${flag} '${text}' is not a URL.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw usage(`${flag} must be http:// or https://, got '${text}'.`);
  return url;
}

/** A secret from a flag, else a file (flag or env), else an env var; the file's content is trimmed of its line end. */
function secret(value: string | undefined, file: string | undefined, env: string | undefined, fileFlag: string): string | undefined {
  if (value) return value;
  if (file) {
    try {
      const text = readFileSync(file, "utf8").trim();
      if (text === "") throw usage(`${fileFlag} ${file} is empty.`);
      return text;
    } catch (e) {
      if (e instanceof ForwardError) throw e;
      throw usage(`cannot read ${fileFlag} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return env || undefined;
}

/** `host:port` of --metrics-listen (port 0: any free port; `[::1]:9464` for IPv6). */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65_535) throw usage(`--metrics-listen must be host:port (e.g. 127.0.0.1:9464), got '${text}'.`);
  return { host: (m[1] ?? m[2])!, port };
}

/** Collects a repeated flag's values in order (commander's argParser). */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/**
 * /export's parameters of one id filter: one exact id as `<name>` (which every gateway with
 * /export takes), several as `<name>In` repeated (any of them), the prefix as `<name>Prefix`.
 */
function idFilter<N extends "principalId" | "capabilityId">(name: N, ids: string[] | undefined, prefix: string | undefined): ExportFilters {
  const out: Record<string, string | string[]> = {};
  if (ids !== undefined && ids.length === 1) out[name] = ids[0]!;
  if (ids !== undefined && ids.length > 1) out[`${name}In`] = ids;
  if (prefix !== undefined) out[`${name}Prefix`] = prefix;
  return out as ExportFilters;
}

/** Run the command; resolves with the summary, rejects with ForwardError. */
export async function runForward(options: ForwardCliOptions, env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<ForwardSummary> {
  if (!options.to) throw usage("--to is required (the collector URL, e.g. https://splunk.example:8088 for splunk-hec).");
  const to = httpUrl("--to", options.to);
  if (options.format === "splunk-hec" && (to.pathname === "/" || to.pathname === "")) to.pathname = HEC_EVENT_PATH;
  const gatewayText = options.url || env.TRACEGATE_URL;
  if (!gatewayText) throw usage("no gateway: pass --url, or set TRACEGATE_URL (its GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql).");
  const gateway = httpUrl("--url", gatewayText);
  const apiKey = secret(options.key, options.keyFile || env.TRACEGATE_API_KEY_FILE, env.TRACEGATE_API_KEY, "--key-file");
  if (!apiKey) throw usage("no API key: pass --key-file, or set TRACEGATE_API_KEY (a key with only the traces:read scope).");
  const token = secret(options.token, options.tokenFile || env.TRACEGATE_FORWARD_TOKEN_FILE, env.TRACEGATE_FORWARD_TOKEN, "--token-file");
  if (options.format === "splunk-hec" && !token) throw usage("splunk-hec needs the HEC token: pass --token-file, or set TRACEGATE_FORWARD_TOKEN.");
  if (!options.state) throw usage("--state is required: the file that keeps the cursor (the last seq the collector acknowledged).");
  const follow = options.once !== true;
  const metrics = new ForwardMetrics();
  const log = (line: string) => process.stderr.write(`tracegate forward: ${line}\n`);
  let server: Awaited<ReturnType<typeof serveMetrics>> | undefined;
  if (options.metricsListen) {
    const { host, port } = parseListen(options.metricsListen);
    try {
      server = await serveMetrics(metrics, host, port);
    } catch (e) {
      throw usage(`cannot listen on --metrics-listen ${options.metricsListen}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    log(`metrics at ${server.url}`);
  }
  const hecPayload = options.hecEvent === "ocsf" ? "ocsf" : "jsonl";
  try {
    return await forward({
      gatewayUrl: gateway.href,
      apiKey,
      filters: {
        ...idFilter("principalId", options.principal, options.principalPrefix),
        ...idFilter("capabilityId", options.capability, options.capabilityPrefix),
        ...(options.eventType === undefined ? {} : { eventType: options.eventType }),
        ...(options.outcome === undefined ? {} : { outcome: options.outcome }),
        ...(options.reasonCode === undefined ? {} : { reasonCode: options.reasonCode }),
      },
      to: to.href,
      ...(token === undefined ? {} : { token }),
      format: options.format,
      hec: {
        host: options.hecHost ?? hostname(),
        source: options.hecSource,
        sourcetype: options.hecSourcetype ?? (hecPayload === "ocsf" ? "tracegate:ocsf" : "tracegate:trace"),
        ...(options.hecIndex === undefined ? {} : { index: options.hecIndex }),
      },
      hecPayload,
      statePath: resolve(options.state),
      follow,
      batch: options.batch,
      batchBytes: options.batchBytes,
      flushMs: options.flushMs,
      pollMs: options.pollMs,
      requestTimeoutMs: options.timeoutMs,
      backoff: { initialMs: options.retryBaseMs, maxMs: Math.max(options.retryBaseMs, options.retryMaxMs) },
      // A one-shot run (cron, CI) must end: it gives up on an end that stays away. A follower waits out an outage.
      ...(follow ? {} : { maxAttempts: options.retries }),
      ...(signal ? { signal } : {}),
      metrics,
      log,
    });
  } finally {
    server?.server.close();
  }
}

/** Add `forward` to the program. */
export function registerForwardCommand(program: Command): void {
  program
    .command("forward")
    .description(
      "deliver new traces from a running gateway to an HTTP collector (a SIEM's HTTP input, Splunk HEC) at least once: " +
        "reads GET /export in seq order after a saved cursor with a traces:read key, batches, retries with backoff, " +
        "and saves the cursor only after the collector's 2xx; every event carries its seq so the collector can drop repeats",
    )
    .requiredOption("--to <url>", "the collector URL batches are POSTed to (splunk-hec: the HEC base URL, /services/collector/event is added)")
    .addOption(new Option("--format <format>", "jsonl: {\"seq\", \"trace\"} lines; ocsf: OCSF events with metadata.sequence; splunk-hec: HEC events with fields.seq").choices(FORWARD_FORMATS).default("jsonl"))
    .option("--state <file>", "the cursor file (required): the last seq the collector acknowledged; a restart resumes after it")
    .option("--url <url>", "the gateway's GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql (default: TRACEGATE_URL)")
    .option("--key <key>", "API key with only traces:read (default: TRACEGATE_API_KEY; prefer --key-file or the env var)")
    .option("--key-file <file>", "read the API key from this file (default: TRACEGATE_API_KEY_FILE)")
    .option("--token <token>", "the collector's token, sent as 'Authorization: Bearer <token>' ('Splunk <token>' for splunk-hec) (default: TRACEGATE_FORWARD_TOKEN; prefer --token-file)")
    .option("--token-file <file>", "read the collector's token from this file (default: TRACEGATE_FORWARD_TOKEN_FILE)")
    .option("--principal <id>", "only traces of this principal (exact match; repeat for any of several)", collect)
    .option("--principal-prefix <text>", "only traces of principals whose id starts with this text (e.g. team-a/; no wildcards)")
    .option("--capability <id>", "only traces of this capability (exact match; repeat for any of several)", collect)
    .option("--capability-prefix <text>", "only traces of capabilities whose id starts with this text (e.g. billing.)")
    .addOption(new Option("--event-type <type>", "only traces of this event type").choices(EVENT_TYPES))
    .addOption(new Option("--outcome <outcome>", "only succeeded or failed traces (a denial counts as failed)").choices(STATUSES))
    .option("--reason-code <code>", "only traces with this reason code (denials)")
    .option("--follow", "keep forwarding new traces until SIGINT/SIGTERM (the default)")
    .option("--once", "deliver what the gateway has, then exit (cron, backfills)")
    .option("--batch <n>", "events per batch, and records per read of the gateway", intOption(1, 10_000), 500)
    .option("--batch-bytes <n>", "bytes per batch body at most (a larger single event goes alone)", intOption(1_024, 1_073_741_824), 1_000_000)
    .option("--flush-ms <ms>", "how long a partial batch waits for more events", intOption(0, 3_600_000), 1_000)
    .option("--poll-ms <ms>", "pause between reads of a gateway that had nothing new", intOption(10, 3_600_000), 1_000)
    .option("--timeout-ms <ms>", "abort and retry a request (to either end) after this long", intOption(100, 3_600_000), 30_000)
    .option("--retries <n>", "with --once: attempts per request before giving up with exit 1 (8: about a minute)", intOption(1, 1_000), 8)
    .option("--retry-base-ms <ms>", "first backoff delay; doubled per retry, with jitter", intOption(1, 3_600_000), 250)
    .option("--retry-max-ms <ms>", "longest backoff delay (a Retry-After from either end is honoured instead)", intOption(1, 3_600_000), 30_000)
    .option("--metrics-listen <host:port>", "serve Prometheus metrics at http://host:port/metrics (lag, delivered, failed attempts, last success)")
    .option("--hec-host <host>", "splunk-hec: the events' host (default: this machine's hostname)")
    .option("--hec-source <source>", "splunk-hec: the events' source", "tracegate")
    .option("--hec-sourcetype <type>", "splunk-hec: the events' sourcetype (default tracegate:trace, or tracegate:ocsf with --hec-event ocsf)")
    .option("--hec-index <index>", "splunk-hec: the index (default: the token's default index)")
    .addOption(new Option("--hec-event <payload>", "splunk-hec: the event is the export object (trace) or the OCSF event (ocsf)").choices(["trace", "ocsf"]).default("trace"))
    .addHelpText(
      "after",
      `
Examples:
  # Splunk HEC, following until stopped; the key file holds a key with only traces:read
  TRACEGATE_FORWARD_TOKEN=... tracegate forward --url http://127.0.0.1:4000/graphql \\
    --key-file /run/secrets/tracegate_reader_key --to https://splunk.example:8088 \\
    --format splunk-hec --state /var/lib/tracegate/forward-splunk.json --metrics-listen 127.0.0.1:9464

  # Denials only, as OCSF, delivered once (cron)
  tracegate forward --once --url http://127.0.0.1:4000/graphql --key-file reader.key \\
    --to https://collector.example/ingest --format ocsf --event-type deny --state deny.cursor.json

Retries: network errors, timeouts, 408, 429 and 5xx are retried with exponential backoff and
jitter (Retry-After honoured); a 413 splits the batch; any other 4xx stops with exit 1
(COLLECTOR_REFUSED), like a gateway refusal (GATEWAY_REFUSED: a bad key, a key without
traces:read). Delivery is at least once: deduplicate on seq.`,
    )
    .action(async (options: ForwardCliOptions) => {
      const stop = stopSignal();
      let summary: ForwardSummary;
      try {
        summary = await runForward(options, process.env, stop);
      } catch (e) {
        if (!(e instanceof ForwardError)) throw e;
        process.stderr.write(`error: ${e.message} [${e.code}]\n`);
        process.exit(1);
      }
      const s = summary.state;
      process.stderr.write(
        `tracegate forward: ${summary.ended === "stopped" ? "stopped" : "done"}: ${summary.delivered} event(s) delivered in this run; ` +
          `${s.ackedSeq === null ? "nothing acknowledged yet" : `acknowledged up to seq ${s.ackedSeq}`}; cursor ${resolve(options.state!)}\n`,
      );
      process.exit(0);
    });
}

/**
 * The forwarder's Prometheus metrics (prom-client, text exposition format), served on
 * `--metrics-listen host:port` at GET /metrics:
 *
 * - `tracegate_forward_lag_seqs` (gauge): the newest seq the gateway has for this key and
 *   these filters (X-Tracegate-Last-Seq of the last read) minus the acknowledged seq; 0 when
 *   caught up. It is a distance in seqs, not a count of records: the seqs in between that
 *   the filters or a key's principals do not match (or that retention removed) count too, so
 *   it bounds the records still to deliver from above. Counting them would take a count
 *   query per read; the distance is free and 0 exactly when nothing is left.
 * - `tracegate_forward_cursor_ahead` (gauge): 1 while the gateway's newest matching seq is
 *   below the acknowledged seq on the same chain (a restored database: records appended
 *   there up to the cursor are skipped), else 0. Alert on it.
 * - `tracegate_forward_acked_seq`, `tracegate_forward_gateway_last_seq` (gauges): the two
 *   ends of the lag (-1 for none yet).
 * - `tracegate_forward_delivered_events_total` (counter): events the collector acknowledged
 *   in this run (repeats after a crash count again).
 * - `tracegate_forward_failed_attempts_total{target="gateway"|"collector"}` (counter):
 *   requests that failed and were retried.
 * - `tracegate_forward_last_success_timestamp_seconds` (gauge): when the collector last
 *   acknowledged a batch (unix seconds; 0 before the first). Alert on `time() - this`.
 */
import { createServer, type Server } from "node:http";
import { Counter, Gauge, Registry } from "prom-client";

export class ForwardMetrics {
  readonly registry = new Registry();
  readonly lag = new Gauge({
    name: "tracegate_forward_lag_seqs",
    help: "Newest seq the gateway has for this forwarder's key and filters minus the acknowledged seq (a seq distance: unmatched and removed seqs count too, so at most this many records remain)",
    registers: [this.registry],
  });
  readonly cursorAhead = new Gauge({
    name: "tracegate_forward_cursor_ahead",
    help: "1 while the gateway's newest matching seq is below the acknowledged seq on the same chain (restored database; records up to the cursor are skipped), else 0",
    registers: [this.registry],
  });
  readonly acked = new Gauge({ name: "tracegate_forward_acked_seq", help: "Last seq the collector acknowledged (-1: none)", registers: [this.registry] });
  readonly gatewayLast = new Gauge({ name: "tracegate_forward_gateway_last_seq", help: "Newest seq the gateway has for this forwarder's key and filters (-1: none)", registers: [this.registry] });
  readonly delivered = new Counter({ name: "tracegate_forward_delivered_events_total", help: "Events the collector acknowledged", registers: [this.registry] });
  readonly failed = new Counter({ name: "tracegate_forward_failed_attempts_total", help: "Requests that failed and were retried", labelNames: ["target"] as const, registers: [this.registry] });
  readonly lastSuccess = new Gauge({ name: "tracegate_forward_last_success_timestamp_seconds", help: "Unix time of the collector's last acknowledgement (0: none)", registers: [this.registry] });

  #ackedSeq: number | null = null;
  #lastSeq: number | null = null;

  constructor() {
    this.acked.set(-1);
    this.gatewayLast.set(-1);
    this.lastSuccess.set(0);
    this.lag.set(0);
    this.cursorAhead.set(0);
    this.failed.inc({ target: "gateway" }, 0);
    this.failed.inc({ target: "collector" }, 0);
  }

  /** The acknowledged seq moved (or was loaded). */
  setAcked(seq: number | null): void {
    this.#ackedSeq = seq;
    this.acked.set(seq ?? -1);
    this.#updateLag();
  }

  /** A read told the newest matching seq. */
  setGatewayLast(seq: number | null): void {
    // The newest seq only grows; a read answered before a later one must not lower it.
    if (seq !== null && (this.#lastSeq === null || seq > this.#lastSeq)) this.#lastSeq = seq;
    this.gatewayLast.set(this.#lastSeq ?? -1);
    this.#updateLag();
  }

  /** The lag gauge's value: newest matching seq minus acknowledged seq, 0 when caught up or nothing matches. */
  get lagSeqs(): number {
    return this.#lastSeq === null ? 0 : Math.max(0, this.#lastSeq - (this.#ackedSeq ?? -1));
  }

  #updateLag(): void {
    this.lag.set(this.lagSeqs);
  }
}

/**
 * Serve `metrics` at GET /metrics on `listen` (`host:port`, port 0 for any free one).
 * @returns the server and the URL it serves the metrics at
 */
export async function serveMetrics(metrics: ForwardMetrics, host: string, port: number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: GET /metrics\n");
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
      (e: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(`${e.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === "object" && address !== null ? address.port : port;
  const shown = host.includes(":") ? `[${host}]` : host;
  return { server, url: `http://${shown}:${bound}/metrics` };
}

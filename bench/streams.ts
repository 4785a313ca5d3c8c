/**
 * Benchmark 5: live subscriptions. A real gateway (`app.start(0)`: HTTP + graphql-ws on
 * /graphql) on a fresh SQLite database; N subscribers on real WebSockets in a child process
 * (bench/stream-clients.ts), so their CPU does not run on the gateway's event loop;
 * traces recorded through `recordTraces` (in-process yoga.fetch) in batches of 10 at a fixed
 * rate, each stamped with its send time in args.sentAtMs (and its scheduled send time in
 * args.dueAtMs); every client measures delivery
 * latency = receive - send on the machine-wide monotonic clock and checks that it got every
 * seq it should, in order.
 */
import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import type { Trace } from "../src/chain/trace.js";
import type { App } from "../src/http/app.js";
import type { Stores } from "../src/stores/index.js";
import { cpuMark, othersCores } from "./cpu.js";
import { type RawLimit, rawWriteLimit } from "./raw-fanout.js";
import { toGraphqlInput, TraceGenerator } from "./data.js";
import { BENCH_DIR, freshDb, open, removeDb } from "./db.js";
import { app, BENCH_KEY, dataOf, gc, post } from "./gql.js";
import { type ClientsResult, type FromClients, histPercentile, type Histogram, hrMs, type ToClients } from "./stream-clients.js";
import { int, mdTable, mib, ms, secs } from "./stats.js";

export interface StreamPoint {
  subscribers: number;
  eventsPerSec: number;
  /** Every k-th subscriber takes denyEvents instead of traceRecorded (0: all traceRecorded). */
  denyEvery: number;
  seconds: number;
}

export interface StreamResult {
  point: StreamPoint;
  /** Time to connect and subscribe every client (ms). */
  connectMs: number;
  clockRoundTripMs: number;
  tracesSent: number;
  ingestRate: number;
  /** Largest delay of a batch behind its schedule (ms). */
  maxSendLagMs: number;
  clients: ClientsResult;
  deliveriesPerSec: number;
  /** Time from the last send until the last client had everything (NaN: deadline hit). */
  drainMs: number;
  drainDeadlineMs: number;
  p50: number;
  p99: number;
  /** Latency from the scheduled send time, batches dropped for lack of time counted as never delivered. */
  p50Due: number;
  p99Due: number;
  /** Deliveries the dropped batches would have made. */
  droppedDeliveries: number;
  p999: number;
  max: number;
  windowP99: number[];
  catchUpReads: number;
  serverCores: number;
  /** Gateway CPU per delivery (us), ingest included. */
  serverUsPerDelivery: number;
  /** The same minus the ingest-alone cost of the traces sent: the fan-out's own cost. */
  fanOutUsPerDelivery: number;
  clientCores: number;
  othersCores: number | null;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  mem: { rssBase: number; heapBase: number; rssIdle: number; heapIdle: number; rssPeak: number; heapPeak: number; rssAfter: number; heapAfter: number };
  clientRss: number;
}

export const STREAM_TARGET_P99_MS = 100;

const RECORD = "mutation($input:[TraceInput!]!){ recordTraces(input:$input){ seq } }";
const SELECTION = "trace { seq invokedAt principalId capabilityId eventType args } gap { fromSeq toSeq }";
const ALL_QUERY = `subscription { traceRecorded { ${SELECTION} } }`;
const DENY_QUERY = `subscription { denyEvents { ${SELECTION} } }`;
const BATCH = 10;

const sleep = (msValue: number) => new Promise<void>((r) => setTimeout(r, msValue));

/** The forked subscriber process, with request/response over IPC. */
export class Clients {
  readonly child: ChildProcess;
  readonly #waiting = new Map<string, { resolve: (m: FromClients) => void; reject: (e: Error) => void }>();
  #exit: Error | undefined;

  constructor() {
    this.child = fork(join(BENCH_DIR, "stream-clients.ts"), [], {
      execArgv: ["--max-semi-space-size=64", "--import", "tsx"],
      env: { ...process.env, TRACEGATE_STREAM_CLIENTS: "1" },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      // Structured clone: NaN and the infinities survive the trip (JSON would make them null).
      serialization: "advanced",
    });
    this.child.on("message", (m: FromClients) => {
      const w = this.#waiting.get(m.type);
      this.#waiting.delete(m.type);
      w?.resolve(m);
    });
    this.child.on("exit", (code) => {
      this.#exit = new Error(`subscriber process exited with ${code}`);
      for (const w of this.#waiting.values()) w.reject(this.#exit);
      this.#waiting.clear();
    });
  }

  request<T extends FromClients["type"]>(msg: ToClients, reply: T, timeoutMs = 120_000): Promise<Extract<FromClients, { type: T }>> {
    if (this.#exit) return Promise.reject(this.#exit);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no '${reply}' from the subscriber process within ${timeoutMs} ms`)), timeoutMs);
      this.#waiting.set(reply, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Extract<FromClients, { type: T }>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send(msg);
    });
  }

  async close(): Promise<void> {
    if (this.#exit) return;
    const exited = new Promise<void>((r) => this.child.once("exit", () => r()));
    try {
      await this.request({ type: "close" }, "closed", 30_000);
    } catch {
      this.child.kill();
    }
    await Promise.race([exited, sleep(10_000)]);
    if (!this.#exit) this.child.kill();
  }
}

interface Sample {
  rss: number;
  heap: number;
}

function memNow(): Sample {
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

/**
 * Peak RSS sampled every 50 ms from a worker thread: a timer on the main thread would not
 * fire while the gateway's event loop is stalled, which is exactly when memory peaks.
 */
const RSS_SAMPLER = `
const { parentPort } = require("node:worker_threads");
let peak = process.memoryUsage.rss();
const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, 50);
parentPort.postMessage("ready");
parentPort.once("message", () => {
  clearInterval(timer);
  parentPort.postMessage(Math.max(peak, process.memoryUsage.rss()));
});
`;

async function rssPeakSampler(): Promise<{ stop(): Promise<number> }> {
  const worker = new Worker(RSS_SAMPLER, { eval: true });
  await new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", reject);
  });
  return {
    async stop() {
      const peak = new Promise<number>((resolve, reject) => {
        worker.once("message", (m: number) => resolve(m));
        worker.once("error", reject);
      });
      worker.postMessage("stop");
      const out = await peak;
      await worker.terminate();
      return out;
    },
  };
}

/** The trace with args.sentAtMs (actual send time) and args.dueAtMs (scheduled send time). */
function withSentAt(input: Record<string, unknown>, sentAtMs: number, dueAtMs = sentAtMs): Record<string, unknown> {
  return { ...input, args: { ...(input.args as Record<string, unknown> | null), sentAtMs, dueAtMs } };
}

interface Ingested {
  sent: number;
  /** Traces (and deny traces among them) dropped because their time was up before they could be sent. */
  unsent: number;
  unsentDeny: number;
  seqs: number[];
  denySeqs: number[];
  firstSendMs: number;
  lastSendMs: number;
  maxLagMs: number;
  /** Traces/s over the scheduled window (start to last send + one interval). */
  rate: number;
}

/**
 * recordTraces in batches of 10 through yoga.fetch on a fixed schedule (`eventsPerSec`),
 * each trace stamped with args.sentAtMs right before its body is serialised. A late batch
 * goes at once (the average rate holds if the gateway can take it); batches still unsent
 * when `seconds` are over are dropped, so a stalled gateway cannot stretch the run.
 */
async function ingest(gateway: App, inputs: readonly Record<string, unknown>[], eventsPerSec: number, seconds: number): Promise<Ingested> {
  const intervalMs = (BATCH / eventsPerSec) * 1000;
  const startMs = hrMs() + 5;
  const endMs = startMs + seconds * 1000;
  const seqs: number[] = [];
  const denySeqs: number[] = [];
  let maxLagMs = 0;
  let firstSendMs = Number.NaN;
  let lastSendMs = Number.NaN;
  for (let i = 0, k = 0; i < inputs.length; i += BATCH, k++) {
    const due = startMs + k * intervalMs;
    const wait = due - hrMs();
    if (wait > 0.5) await sleep(wait);
    const sentAtMs = hrMs();
    if (sentAtMs >= endMs) break;
    if (Number.isNaN(firstSendMs)) firstSendMs = sentAtMs;
    lastSendMs = sentAtMs;
    maxLagMs = Math.max(maxLagMs, sentAtMs - due);
    const batch = inputs.slice(i, i + BATCH);
    const body = JSON.stringify({ query: RECORD, variables: { input: batch.map((t) => withSentAt(t, sentAtMs, due)) } });
    const res = dataOf(await post<{ recordTraces: { seq: number }[] }>(gateway, body));
    res.recordTraces.forEach((r, j) => {
      seqs.push(r.seq);
      if (batch[j]!.eventType === "DENY") denySeqs.push(r.seq);
    });
    // A request over HTTP would arrive as its own I/O event: let the event loop turn between
    // batches even when behind schedule, or in-process yoga.fetch (all promise continuations,
    // SQLite being synchronous) would keep timers and socket I/O waiting for the whole run.
    await new Promise<void>((r) => setImmediate(r));
  }
  for (let j = 1; j < seqs.length; j++) if (seqs[j] !== seqs[j - 1]! + 1) throw new Error("recorded seqs are not contiguous");
  const rate = (seqs.length / (lastSendMs - startMs + intervalMs)) * 1000;
  const dropped = inputs.slice(seqs.length);
  return { sent: seqs.length, unsent: dropped.length, unsentDeny: dropped.filter((t) => t.eventType === "DENY").length, seqs, denySeqs, firstSendMs, lastSendMs, maxLagMs, rate };
}

export interface IngestBaseline {
  eventsPerSec: number;
  rate: number;
  cores: number;
  usPerTrace: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  othersCores: number | null;
}

/** The same ingest with no subscriber at all: what the fan-out has to share the gateway with. */
export async function ingestBaseline(template: string, eventsPerSec: number, seconds: number, log: (line: string) => void): Promise<IngestBaseline> {
  const file = freshDb(template, "streams-baseline");
  const stores = await open(file);
  try {
    const gateway = await app(stores);
    const inputs = new TraceGenerator(0x5edd).take(Math.round(eventsPerSec * seconds)).map(toGraphqlInput);
    await ingest(gateway, inputs.slice(0, Math.min(inputs.length, 200)).map((t) => ({ ...t, actionId: `warm-${String(t.actionId)}` })), eventsPerSec, 1);
    gc();
    const mark = cpuMark();
    const cpu0 = process.cpuUsage();
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const done = await ingest(gateway, inputs, eventsPerSec, seconds);
    loop.disable();
    const cpu = process.cpuUsage(cpu0);
    const windowSec = (performance.now() - mark.at) / 1000;
    const b: IngestBaseline = {
      eventsPerSec,
      rate: done.rate,
      cores: (cpu.user + cpu.system) / 1e6 / windowSec,
      usPerTrace: (cpu.user + cpu.system) / done.sent,
      loopDelayP99Ms: loop.percentile(99) / 1e6,
      loopDelayMaxMs: loop.max / 1e6,
      othersCores: othersCores(mark),
    };
    log(
      `  ingest alone (no subscriber) at ${int(eventsPerSec)} traces/s: ${int(b.rate)} traces/s achieved, gateway ${b.cores.toFixed(2)} cores ` +
        `(${b.usPerTrace.toFixed(0)} us/trace), event-loop delay p99 ${ms(b.loopDelayP99Ms)} ms, max ${ms(b.loopDelayMaxMs)} ms`,
    );
    return b;
  } finally {
    await stores.close();
    removeDb(file);
  }
}

/** One point: fresh database and gateway, `subscribers` clients, `eventsPerSec` for `seconds`. */
export async function streamPoint(
  template: string,
  point: StreamPoint,
  index: number,
  baseline: IngestBaseline,
  log: (line: string) => void,
): Promise<StreamResult> {
  const file = freshDb(template, `streams-${index}`);
  const stores: Stores = await open(file);
  // Count the store reads of streams catching up (queue overflowed or a seq arrived out of line).
  let catchUpReads = 0;
  const page = stores.traces.page.bind(stores.traces);
  stores.traces.page = (q) => {
    catchUpReads += 1;
    return page(q);
  };
  const gateway = await app(stores);
  const address = await gateway.start(0);
  const url = `ws://127.0.0.1:${address.port}/graphql`;
  const clients = new Clients();
  const gen = new TraceGenerator(0x5ee0 + index);
  const measured = gen.take(Math.round(point.eventsPerSec * point.seconds)).map(toGraphqlInput);
  const denyPool: Trace[] = gen
    .take(2_000)
    .filter((t) => t.eventType === "deny")
    .map((t, i) => ({ ...t, actionId: `warm-${i}-${t.actionId}` }));
  let warmUsed = 0;
  const warm = async (): Promise<number> => {
    const t = denyPool[warmUsed++ % denyPool.length]!;
    const input = withSentAt({ ...toGraphqlInput(t), actionId: `${t.actionId}-${warmUsed}` }, hrMs());
    const res = dataOf(await post<{ recordTraces: { seq: number }[] }>(gateway, JSON.stringify({ query: RECORD, variables: { input: [input] } })));
    return res.recordTraces[0]!.seq;
  };
  try {
    gc();
    const base = memNow();

    // The clocks agree: the child's reading falls between the parent's before and after.
    let rtt = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 5; i++) {
      const t1 = hrMs();
      const c = await clients.request({ type: "clock" }, "clock");
      const t2 = hrMs();
      if (c.hrMs < t1 || c.hrMs > t2) throw new Error(`clock mismatch: child ${c.hrMs} outside [${t1}, ${t2}]`);
      rtt = Math.min(rtt, t2 - t1);
    }

    const connected = await clients.request(
      { type: "connect", url, authorization: `Bearer ${BENCH_KEY}`, clients: point.subscribers, denyEvery: point.denyEvery, allQuery: ALL_QUERY, denyQuery: DENY_QUERY },
      "connected",
    );
    if (connected.failed > 0) throw new Error(`${connected.failed} of ${point.subscribers} subscribers failed to connect: ${connected.errors.join("; ")}`);

    // Warm-up: a deny trace (every subscription matches it) every 100 ms until every client
    // got one, i.e. every subscription is live.
    let warmDeadline = hrMs() + 60_000;
    for (;;) {
      await warm();
      await sleep(100);
      const s = await clients.request({ type: "status" }, "status");
      if (s.live === point.subscribers) break;
      if (hrMs() > warmDeadline) throw new Error(`only ${s.live} of ${point.subscribers} subscriptions live after 60 s: ${s.errors.join("; ")}`);
    }
    // JIT warm-up: a short run at the point's rate (about 20,000 deliveries at most); then one
    // more deny trace, and wait until every client has it, so the measured run starts quiet.
    const warmTraces = Math.max(BATCH, Math.min(point.eventsPerSec, Math.round(20_000 / point.subscribers / BATCH) * BATCH));
    await ingest(gateway, gen.take(warmTraces).map((t) => toGraphqlInput({ ...t, actionId: `jit-${t.actionId}` })), point.eventsPerSec, 10);
    const lastWarm = await warm();
    warmDeadline = hrMs() + 120_000;
    for (;;) {
      const s = await clients.request({ type: "status" }, "status");
      if (s.minLast >= lastWarm) break;
      if (hrMs() > warmDeadline) throw new Error(`the last warm-up trace did not reach every subscriber`);
      await sleep(20);
    }
    gc();
    const idle = memNow();

    // ---- measured ------------------------------------------------------------------------------
    await clients.request({ type: "measure", fromSeq: lastWarm + 1, startMs: hrMs() }, "measuring");
    const rss = await rssPeakSampler();
    const mark = cpuMark();
    const cpu0 = process.cpuUsage();
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    let heapPeak = idle.heap;
    const sampler = setInterval(() => {
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    }, 100);
    const sent = await ingest(gateway, measured, point.eventsPerSec, point.seconds);
    if (sent.seqs[0] !== lastWarm + 1) throw new Error(`first measured seq ${sent.seqs[0]}, expected ${lastWarm + 1}`);
    const drainDeadlineMs = Math.max(5_000, point.seconds * 1000);
    const { result } = await clients.request(
      { type: "finish", lastSeq: sent.seqs[sent.seqs.length - 1]!, denySeqs: sent.denySeqs, deadlineMs: sent.lastSendMs + drainDeadlineMs },
      "result",
      drainDeadlineMs + 600_000,
    );
    const windowSec = (performance.now() - mark.at) / 1000;
    clearInterval(sampler);
    loop.disable();
    const cpu = process.cpuUsage(cpu0);
    const cpuUs = cpu.user + cpu.system;
    const clientCores = result.cpuUs / 1e6 / windowSec;
    const others = othersCores(mark);
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    const rssPeak = await rss.stop();
    gc();
    const after = memNow();

    const complete = !Number.isNaN(result.completeAtMs);
    const droppedDeliveries = sent.unsent * result.allClients + sent.unsentDeny * result.denyClients;
    const fromDue = { ...result.fromDue, missing: result.fromDue.missing + droppedDeliveries };
    const endMs = complete ? result.completeAtMs : sent.lastSendMs + drainDeadlineMs;
    const r: StreamResult = {
      point,
      connectMs: connected.ms,
      clockRoundTripMs: rtt,
      tracesSent: sent.sent,
      ingestRate: sent.rate,
      maxSendLagMs: sent.maxLagMs,
      clients: result,
      deliveriesPerSec: (result.delivered / (endMs - sent.firstSendMs)) * 1000,
      drainMs: complete ? result.completeAtMs - sent.lastSendMs : Number.NaN,
      drainDeadlineMs,
      p50: histPercentile(result.all, 50),
      p99: histPercentile(result.all, 99),
      p999: histPercentile(result.all, 99.9),
      p50Due: histPercentile(fromDue, 50),
      p99Due: histPercentile(fromDue, 99),
      droppedDeliveries,
      max: result.pending > 0 ? Number.POSITIVE_INFINITY : result.all.max,
      windowP99: result.windows.map((w: Histogram) => histPercentile(w, 99)),
      catchUpReads,
      serverCores: cpuUs / 1e6 / windowSec,
      serverUsPerDelivery: cpuUs / Math.max(1, result.delivered),
      fanOutUsPerDelivery: Math.max(0, cpuUs - baseline.usPerTrace * sent.sent) / Math.max(1, result.delivered),
      clientCores,
      othersCores: others === null ? null : Math.max(0, others - clientCores),
      loopDelayP99Ms: loop.percentile(99) / 1e6,
      loopDelayMaxMs: loop.max / 1e6,
      mem: {
        rssBase: base.rss,
        heapBase: base.heap,
        rssIdle: idle.rss,
        heapIdle: idle.heap,
        rssPeak,
        heapPeak,
        rssAfter: after.rss,
        heapAfter: after.heap,
      },
      clientRss: result.rss,
    };
    log(`  ${pointLabel(point)}: ${resultLine(r)}`);
    return r;
  } finally {
    await clients.close();
    await gateway.stop();
    await stores.close();
    removeDb(file);
  }
}

/** The points of the benchmark: the target load and smaller ones that show where the knee is. */
export function streamPoints(subscribers: number, seconds: number): StreamPoint[] {
  const tenth = Math.max(1, Math.round(subscribers / 10));
  const hundredth = Math.max(1, Math.round(subscribers / 100));
  const p = (n: number, eventsPerSec: number, denyEvery = 0): StreamPoint => ({ subscribers: n, eventsPerSec, denyEvery, seconds });
  return [
    p(subscribers, 1_000),
    p(subscribers, 1_000, 2),
    p(subscribers, 100),
    p(subscribers, 10),
    // The 1,000 events/s ladder (1%, 3%, 10%, 30%, 100% of the subscribers) places its knee.
    p(Math.max(1, Math.round(subscribers * 0.3)), 1_000),
    p(tenth, 1_000),
    p(Math.max(1, Math.round(subscribers * 0.03)), 1_000),
    p(tenth, 100),
    p(tenth, 10),
    p(hundredth, 1_000),
    p(hundredth, 100),
  ];
}

export interface StreamsRun {
  baseline: IngestBaseline;
  /** Raw socket writes to the largest point's number of subscribers: the limit beside the results. */
  raw: RawLimit;
  results: StreamResult[];
}

/** The ingest-only baseline at the highest rate, then every point on its own database, gateway and subscriber process. */
export async function streamsRun(template: string, points: readonly StreamPoint[], log: (line: string) => void): Promise<StreamsRun> {
  const top = Math.max(...points.map((p) => p.eventsPerSec));
  const seconds = Math.min(...points.map((p) => p.seconds));
  const baseline = await ingestBaseline(template, top, seconds, log);
  const raw = await rawWriteLimit(Math.max(...points.map((p) => p.subscribers)), seconds, log);
  const results: StreamResult[] = [];
  for (const [i, p] of points.entries()) results.push(await streamPoint(template, p, i, baseline, log));
  return { baseline, raw, results };
}

// ---- report ---------------------------------------------------------------------------------

export function pointLabel(p: StreamPoint): string {
  const mix = p.denyEvery === 0 ? "traceRecorded" : p.denyEvery === 2 ? "half denyEvents" : `1/${p.denyEvery} denyEvents`;
  return `${int(p.subscribers)} subscriber${p.subscribers === 1 ? "" : "s"} (${mix}) x ${int(p.eventsPerSec)} events/s`;
}

/** A latency for a table in ms: the number, or "> 10.0 s" when it fell among the undelivered. */
function latency(r: StreamResult, v: number): string {
  return Number.isFinite(v) ? ms(v) : `> ${secs(r.drainDeadlineMs)}`;
}

/** The same with its unit, for text. */
function latencyMs(r: StreamResult, v: number): string {
  return Number.isFinite(v) ? `${ms(v)} ms` : `> ${secs(r.drainDeadlineMs)}`;
}

/** A latency from the schedule: "∞" when the percentile falls among deliveries that never happened. */
function dueLatency(v: number): string {
  return Number.isFinite(v) ? ms(v) : "∞";
}

/** "ingest 15 of 1,000 traces/s" when the gateway took less than 95% of the offered rate. */
function ingestShort(r: StreamResult): string {
  return r.ingestRate < 0.95 * r.point.eventsPerSec ? `, ingest only ${int(r.ingestRate)} of ${int(r.point.eventsPerSec)} traces/s` : "";
}

/** PASS: p99 under the target, nothing lost, pending or bad, and the gateway took >= 95% of the offered rate. */
export function passed(r: StreamResult): boolean {
  return r.p99 < STREAM_TARGET_P99_MS && r.ingestRate >= 0.95 * r.point.eventsPerSec && r.clients.lost === 0 && r.clients.pending === 0 && r.clients.orderViolations === 0 && r.clients.gaps === 0;
}

function resultLine(r: StreamResult): string {
  const c = r.clients;
  return (
    `p50 ${latencyMs(r, r.p50)}, p99 ${latencyMs(r, r.p99)}, max ${latencyMs(r, r.max)}; ` +
    `${int(c.delivered)} of ${int(c.expected)} deliveries (${int(r.deliveriesPerSec)}/s), lost ${int(c.lost)}, bad ${int(c.orderViolations + c.gaps)}, ` +
    `${c.pending > 0 ? `${int(c.pending)} still pending after ${secs(r.drainDeadlineMs)}` : `drained ${secs(r.drainMs)} after the last send`}; ` +
    `ingest ${int(r.ingestRate)} traces/s (max lag ${ms(r.maxSendLagMs)} ms); gateway ${r.serverCores.toFixed(2)} cores ` +
    `(${r.fanOutUsPerDelivery.toFixed(0)} us/delivery beyond ingest), event-loop stall max ${ms(r.loopDelayMaxMs)} ms; ` +
    `subscribers ${r.clientCores.toFixed(2)} cores` +
    (r.othersCores === null ? "" : `, others ${r.othersCores.toFixed(2)} cores`) +
    (c.errors.length > 0 ? `; client errors: ${c.errors.slice(0, 3).join(" | ")}` : "")
  );
}

export function streamsSummary(run: StreamsRun): string[][] {
  const raw = [
    `5 live subscriptions, limit: raw ws writes to ${int(run.raw.subscribers)} subscribers`,
    "-",
    `${int(run.raw.deliveriesPerSec)} deliveries/s, ${run.raw.usPerDelivery.toFixed(1)} us CPU per delivery`,
    "limit",
  ];
  return [raw, ...run.results.map((r) => [
    `5 live subscriptions, ${pointLabel(r.point)}`,
    `p99 < ${STREAM_TARGET_P99_MS} ms`,
    `p50 ${latencyMs(r, r.p50)}, p99 ${latencyMs(r, r.p99)}, ${int(r.deliveriesPerSec)} deliveries/s, lost ${int(r.clients.lost)}` +
      (r.clients.pending > 0 ? `, ${int(r.clients.pending)} undelivered` : "") +
      ingestShort(r),
    passed(r) ? "PASS" : "MISS",
  ])];
}

function coresText(cores: number | null): string {
  return cores === null ? "n/a" : cores.toFixed(2);
}

/** The knee at 1,000 events/s (traceRecorded only): the most subscribers that passed and the fewest that missed. */
function kneeText(results: readonly StreamResult[]): string {
  const ladder = results.filter((r) => r.point.eventsPerSec === 1_000 && r.point.denyEvery === 0).sort((a, b) => a.point.subscribers - b.point.subscribers);
  if (ladder.length === 0) return "";
  const pass = ladder.filter(passed).at(-1);
  const miss = ladder.find((r) => !passed(r));
  const at = (r: StreamResult) => `${int(r.point.subscribers)} subscribers (${int(r.deliveriesPerSec)} deliveries/s, p99 ${latencyMs(r, r.p99)}, ingest ${int(r.ingestRate)} traces/s)`;
  if (!miss) return `Knee at 1,000 events/s: beyond the ladder, every point up to ${at(ladder.at(-1)!)} passed.`;
  return `Knee at 1,000 events/s: ${pass ? `${at(pass)} passed` : "no point passed"}; ${at(miss)} missed.`;
}

export function streamsSection(run: StreamsRun, heading: string): string {
  const { baseline, results } = run;
  const first = results[0];
  const seconds = first?.point.seconds ?? 0;
  const deadline = first ? secs(first.drainDeadlineMs) : "?";
  const latencyRows = results.map((r) => [
    pointLabel(r.point),
    int(r.tracesSent),
    int(r.clients.expected),
    int(r.clients.delivered),
    `**${int(r.deliveriesPerSec)}**`,
    `**${latency(r, r.p50)}**`,
    `**${latency(r, r.p99)}**`,
    latency(r, r.p999),
    latency(r, r.max),
    `${dueLatency(r.p50Due)} / ${dueLatency(r.p99Due)}`,
    `${int(r.clients.lost)} / ${int(r.clients.pending)} / ${int(r.clients.orderViolations + r.clients.gaps)}`,
    Number.isNaN(r.drainMs) ? `> ${secs(r.drainDeadlineMs)}` : ms(r.drainMs),
    `< ${STREAM_TARGET_P99_MS}`,
    passed(r) ? "PASS" : "MISS",
  ]);
  const loadRows = results.map((r) => [
    pointLabel(r.point),
    int(r.ingestRate),
    ms(r.maxSendLagMs),
    int(r.catchUpReads),
    r.serverCores.toFixed(2),
    r.fanOutUsPerDelivery.toFixed(0),
    r.clientCores.toFixed(2),
    coresText(r.othersCores),
    `${ms(r.loopDelayP99Ms)} / ${ms(r.loopDelayMaxMs)}`,
    r.windowP99.map((v) => (Number.isFinite(v) ? (v < 10 ? v.toFixed(1) : v.toFixed(0)) : "-")).join(" "),
  ]);
  const perSub = (r: StreamResult, a: number, b: number) => (r.point.subscribers >= 100 ? `${((a - b) / r.point.subscribers / 1024).toFixed(1)} KiB` : "-");
  const memRows = results.map((r) => [
    pointLabel(r.point),
    `${mib(r.mem.rssBase)} / ${mib(r.mem.heapBase)}`,
    `${mib(r.mem.rssIdle)} / ${mib(r.mem.heapIdle)}`,
    `${perSub(r, r.mem.rssIdle, r.mem.rssBase)} / ${perSub(r, r.mem.heapIdle, r.mem.heapBase)}`,
    `${mib(r.mem.rssPeak)} / ${mib(r.mem.heapPeak)}`,
    `${mib(r.mem.rssAfter)} / ${mib(r.mem.heapAfter)}${r.clients.closedAtDeadline ? " (subscribers hung up)" : ""}`,
    mib(r.clientRss),
  ]);
  // Capacity: the fan-out's own CPU per delivery where there were enough deliveries to tell.
  const big = results.filter((r) => r.clients.delivered >= 10_000);
  const fanOutUs = big.length > 0 ? big.map((r) => r.fanOutUsPerDelivery).sort((a, b) => a - b)[Math.floor((big.length - 1) / 2)]! : Number.NaN;
  const target = results.find((r) => r.point.eventsPerSec === 1_000 && r.point.denyEvery === 0 && r.point.subscribers === Math.max(...results.map((x) => x.point.subscribers)));
  const needed = target ? target.point.subscribers * target.point.eventsPerSec : Number.NaN;
  const capacity = 1e6 / fanOutUs;
  const stalls = results.filter((r) => r.loopDelayMaxMs >= 1_000);
  const passing = results.filter(passed);
  const many = results.filter((r) => r.point.subscribers >= 100);
  const heapPerSub = many.map((r) => (r.mem.heapIdle - r.mem.heapBase) / r.point.subscribers / 1024).sort((a, b) => a - b)[Math.floor((many.length - 1) / 2)];

  return `${heading}

**Method.** A real gateway on a fresh SQLite database per point (\`bench/gql.ts\` \`app()\`: the
\`serve\` setup minus the rate limit, so the default 1,000-trace subscriber queue and the default
1,000-connection cap), listening with \`app.start(0)\` (HTTP + graphql-ws on /graphql). The
subscribers run in a child process (\`bench/stream-clients.ts\`, forked with \`--import tsx\`), so
their CPU is not spent on the gateway's event loop: bare \`ws\` sockets speaking
graphql-transport-ws, connected 50 at a time, each with one subscription selecting
\`trace { seq invokedAt principalId capabilityId eventType args } gap { fromSeq toSeq }\` of
\`traceRecorded\` (no filter) or, for every second client of the "half denyEvents" mix, of
\`denyEvents\` (~10% of the traces are deny events). Warm-up: a deny trace every 100 ms until every
client has received one (every subscription is live), a short run at the point's rate (at most
~20,000 deliveries, for the JIT), then one more deny trace that every client must receive.
Measured: \`recordTraces\` batches of ${BATCH} through in-process \`yoga.fetch\` on a fixed schedule
(every 10 ms for 1,000 events/s, every 100 ms for 100/s, ...) for ${seconds} s; a late batch goes at
once, batches still unsent when the ${seconds} s are over are dropped (so "ingest traces/s" below is
what the gateway actually took). Every trace's \`args.sentAtMs\` is stamped right before its request
body is serialised; latency = the client's receive time - sentAtMs, both read from
\`process.hrtime\` (CLOCK_MONOTONIC: one clock for every process on the machine, ns resolution;
before each point the benchmark checks that the child's reading falls between two of the parent's,
round trip ${first ? ms(first.clockRoundTripMs) : "?"} ms). It covers ingest (validation, hashing, the fsync-ed append),
the bus, each subscription's GraphQL execution, the socket and the client's event loop. It
starts when the batch actually went out: when the gateway cannot keep up, batches leave late
(the ingest loop waits for each \`recordTraces\` response), which throttles the offered load.
"From schedule" counts instead from the batch's scheduled send time (\`args.dueAtMs\`), with the
batches dropped at the end of the run counted as never delivered ("∞"): what an open-loop
producer sending 1,000 traces/s regardless would have seen.
Percentiles are over every delivery to every client (1%-wide histogram buckets); a delivery still
outstanding ${deadline} after the last send counts as infinitely late (shown as "> ${deadline}"), and at
that deadline the clients hang up (a gateway left with a backlog of hundreds of thousands of
deliveries would otherwise keep its event loop busy for minutes).

Losses: each \`traceRecorded\` client checks that seqs arrive strictly increasing with none missing
from the first measured seq to the last recorded one; each \`denyEvents\` client's seqs are compared
with the deny traces the benchmark recorded. "lost" = a seq missing although a later one arrived,
"pending" = not received by the deadline (lagging, not lost), "bad" = out of order, duplicate,
wrong event type, or a gap event. A point PASSes when its p99 is under ${STREAM_TARGET_P99_MS} ms, nothing was lost,
pending or bad, and the gateway took at least 95% of the offered traces/s (a gateway that sheds
the load by falling behind on ingest does not pass on the latency of the little it took).

${mdTable(["point", "traces recorded", "expected deliveries", "delivered", "deliveries/s", "p50 (ms)", "p99 (ms)", "p99.9 (ms)", "max (ms)", "p50 / p99 from schedule (ms)", "lost / pending / bad", "drain after last send (ms)", "target p99", "result"], latencyRows)}

Ingest alone, the same \`recordTraces\` batches of ${BATCH} at ${int(baseline.eventsPerSec)} traces/s on a gateway with
no subscriber: ${int(baseline.rate)} traces/s achieved, **${baseline.cores.toFixed(2)} cores** (${baseline.usPerTrace.toFixed(0)} µs of CPU per trace:
GraphQL, hashing and one Prisma transaction per batch), event-loop delay p99 ${ms(baseline.loopDelayP99Ms)} ms / max
${ms(baseline.loopDelayMaxMs)} ms; other processes ${coresText(baseline.othersCores)} cores. The fan-out shares the gateway's one
event loop with that.

Load over the measured window (first send to the last delivery or the deadline): the achieved
ingest rate and the latest a batch went out behind its schedule; store reads by streams catching
up from the database (a subscriber's queue of 1,000 overflowed); gateway CPU, and its CPU per
delivery beyond the ingest-alone cost of the traces recorded (the fan-out's own cost); CPU of the
subscriber process and of all other processes (machine total minus both); the gateway's event-loop
delay (p99 / max: how long timers, HTTP requests and socket events waited); p99 latency (ms) of the
traces sent in each second.

${mdTable(["point", "ingest traces/s", "max send lag (ms)", "catch-up reads", "gateway cores", "fan-out CPU per delivery (µs)", "subscriber cores", "other processes' cores", "event-loop delay p99 / max (ms)", "p99 by second of send time (ms)"], loadRows)}

Gateway memory (RSS / V8 heap used): with no subscriber (after a full GC; RSS carries over from
earlier points, as the benchmark runs them in one process), with every subscriber connected and
idle (after a full GC; per subscriber = the difference / N, for N >= 100), peak while the stream
ran (RSS sampled every 50 ms from a worker thread; heap every 100 ms on the main thread, which
misses samples while the event loop stalls, and includes garbage not yet collected), and after the
stream (full GC); last column: RSS of the subscriber process at the end.

${mdTable(["point", "no subscribers", "N idle subscribers", "per subscriber", "peak during stream", "after (GC)", "subscriber process RSS"], memRows)}

**Reading.** ${
    Number.isFinite(fanOutUs)
      ? `Delivering one trace to one subscriber costs the gateway about ${fanOutUs.toFixed(0)} µs of CPU beyond ingest (median over the points with >= 10,000 deliveries): one bus filter and one GraphQL execution and serialisation per live group and event, shared by the group's subscribers, then a frame per subscriber, written with the other frames of the same tick in one corked write. One event loop therefore fans out at most ~${int(capacity)} deliveries/s, and less while it also ingests.`
      : "Too few deliveries to estimate the fan-out cost per delivery."
  } The limit, measured in the same run: plain \`ws\` writing the same frames to ${int(run.raw.subscribers)} subscribers of the same subscriber process (no GraphQL, no database, each frame serialised once per batch of ${BATCH}, each socket corked per batch, unthrottled) reached **${int(run.raw.deliveriesPerSec)} deliveries/s** at ${run.raw.usPerDelivery.toFixed(1)} µs of CPU per delivery (${run.raw.cores.toFixed(2)} cores; other processes ${coresText(run.raw.othersCores)} cores)${Number.isFinite(fanOutUs) ? `: the gateway's fan-out costs ${(fanOutUs / run.raw.usPerDelivery).toFixed(1)}x the raw write per delivery` : ""}. Ingest itself is not free: ${int(baseline.eventsPerSec)} traces/s as \`recordTraces\` batches of ${BATCH} kept ${baseline.cores.toFixed(2)} cores busy with no subscriber at all (${int(baseline.rate)} traces/s achieved).${
    target
      ? ` The target load (${int(target.point.subscribers)} subscribers x ${int(target.point.eventsPerSec)} events/s) asks for ${int(needed)} deliveries/s, ~${Number.isFinite(capacity) ? Math.round(needed / capacity) : "?"}x that; measured: the gateway took ${int(target.ingestRate)} of the ${int(target.point.eventsPerSec)} traces/s offered and delivered ${int(target.deliveriesPerSec)} deliveries/s, p99 ${latencyMs(target, target.p99)} from the actual send (${passed(target) ? "PASS" : "MISS"})${Number.isFinite(target.p99Due) ? `, ${ms(target.p99Due)} ms from the schedule` : `; counted from the schedule, ${((target.droppedDeliveries / (target.droppedDeliveries + target.clients.expected)) * 100).toFixed(0)}% of the deliveries the target load asks for never happened`}.`
      : ""
  } Because a batch of ${BATCH} traces becomes ${BATCH} x N deliveries at once, p99 also has a floor of roughly ${BATCH} x N x the per-delivery cost even at low rates.${
    stalls.length > 0
      ? ` Under overload the gateway's event loop stalled for up to ${secs(Math.max(...stalls.map((r) => r.loopDelayMaxMs)))} (${stalls.length} point${stalls.length === 1 ? "" : "s"}): graphql-ws awaits each socket write, and a write the kernel accepts at once completes on process.nextTick, so delivering a batch to every subscriber runs as one chain of promise continuations that never yields to timers, ingest requests or socket events (with \`ws\` alone, 20,000 awaited sends in a row let a 1 ms interval fire 0 times).`
      : ""
  }${
    heapPerSub === undefined ? "" : ` Memory: an idle subscriber holds about ${heapPerSub.toFixed(0)} KiB of gateway heap (median over the points with >= 100 subscribers; RSS deltas are noisier)${results.every((r) => r.mem.heapAfter - r.mem.heapIdle < 16 * 1024 * 1024) ? ", and after each stream the heap (full GC) was back within 16 MiB of its idle level: nothing retained" : ""}.`
  } Losses: ${results.every((r) => r.clients.lost === 0 && r.clients.orderViolations === 0 && r.clients.gaps === 0) ? `none at any point${results.some((r) => r.catchUpReads > 0) ? `; subscribers that fell more than a queue behind caught up from the store, in order (${int(results.reduce((n, r) => n + r.catchUpReads, 0))} catch-up reads)` : ""}` : "**see the table**"}. ${
    passing.length > 0 ? `Passing points: ${passing.map((r) => pointLabel(r.point)).join("; ")}.` : "No point passed."
  } ${kneeText(results)}
`;
}

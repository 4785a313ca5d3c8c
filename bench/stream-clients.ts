/**
 * The subscriber side of benchmark 5 (bench/streams.ts), run as a child process so that
 * the clients' CPU does not land on the gateway's event loop. Forked by the benchmark with
 * TRACEGATE_STREAM_CLIENTS=1 and driven over the IPC channel; importing this module
 * elsewhere only yields the latency histogram helpers.
 *
 * Every client is a bare `ws` socket speaking the graphql-transport-ws protocol (the one
 * graphql-ws implements): connection_init with the key, one subscribe, then `next`
 * messages. Bare rather than through the graphql-ws client library so that the measuring
 * instrument is as cheap as it can be: per message one JSON.parse, one clock read and a
 * few comparisons.
 *
 * Clock: the gateway stamps args.sentAtMs with process.hrtime (CLOCK_MONOTONIC on Linux,
 * one clock for the whole machine) in ms as a float; a client takes its receive time from
 * the same clock, so latency = receive - send at sub-microsecond resolution, across the
 * process boundary. The benchmark checks that the clocks agree before it starts.
 */
import WebSocket from "ws";

/** Milliseconds on the machine-wide monotonic clock (process.hrtime: CLOCK_MONOTONIC on Linux). */
export function hrMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

// ---- latency histogram: log buckets, 1% wide, from 1 us to ~1,000 s -------------------------

const H_MIN_MS = 0.001;
const H_RATIO = 1.01;
const H_LOG_RATIO = Math.log(H_RATIO);
export const H_BUCKETS = Math.ceil(Math.log(1e6 / H_MIN_MS) / H_LOG_RATIO) + 1;

export interface Histogram {
  counts: number[];
  /** Samples that never arrived (counted as +infinity). */
  missing: number;
  total: number;
  max: number;
  sum: number;
}

export function newHistogram(): Histogram {
  return { counts: new Array<number>(H_BUCKETS).fill(0), missing: 0, total: 0, max: Number.NEGATIVE_INFINITY, sum: 0 };
}

function bucketOf(ms: number): number {
  if (!(ms > H_MIN_MS)) return 0;
  return Math.min(H_BUCKETS - 1, Math.floor(Math.log(ms / H_MIN_MS) / H_LOG_RATIO));
}

function record(h: Histogram, ms: number): void {
  h.counts[bucketOf(ms)]! += 1;
  h.total += 1;
  h.sum += ms;
  if (ms > h.max) h.max = ms;
}

export function mergeInto(into: Histogram, from: Histogram): void {
  for (let i = 0; i < H_BUCKETS; i++) into.counts[i]! += from.counts[i]!;
  into.missing += from.missing;
  into.total += from.total;
  into.sum += from.sum;
  if (from.max > into.max) into.max = from.max;
}

/**
 * Nearest-rank percentile in ms (the geometric middle of its 1%-wide bucket, capped at the
 * exact max); +Infinity when the rank falls among the samples that never arrived.
 */
export function histPercentile(h: Histogram, p: number): number {
  const n = h.total + h.missing;
  if (n === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  let acc = 0;
  for (let i = 0; i < H_BUCKETS; i++) {
    acc += h.counts[i]!;
    if (acc >= rank) return Math.min(h.max, H_MIN_MS * Math.pow(H_RATIO, i + 0.5));
  }
  return Number.POSITIVE_INFINITY;
}

// ---- the IPC protocol -----------------------------------------------------------------------

export type ToClients =
  | { type: "clock" }
  | { type: "connect"; url: string; authorization: string; clients: number; denyEvery: number; allQuery: string; denyQuery: string }
  | { type: "status" }
  | { type: "measure"; fromSeq: number; startMs: number }
  | { type: "finish"; lastSeq: number; denySeqs: number[]; deadlineMs: number }
  | { type: "close" };

export interface ClientsResult {
  /** Deliveries of measured traces (seq >= fromSeq). */
  delivered: number;
  expected: number;
  /** Seqs a client should have had, did not get, and got a later one (true losses). */
  lost: number;
  /** Expected deliveries still outstanding at the deadline (lagging, not lost). */
  pending: number;
  /** Duplicates, seqs out of order, and traces a denyEvents client should not have got. */
  orderViolations: number;
  gaps: number;
  errors: string[];
  all: Histogram;
  /** Latency from the batch's scheduled send time (args.dueAtMs) instead of its actual one. */
  fromDue: Histogram;
  allClients: number;
  denyClients: number;
  /** One histogram per second of send time since `measure`. */
  windows: Histogram[];
  clientsComplete: number;
  firstRecvMs: number;
  lastRecvMs: number;
  /** When every client had everything (NaN when the deadline came first). */
  completeAtMs: number;
  /** The deadline came first: every socket was closed then, which ends the gateway's backlog. */
  closedAtDeadline: boolean;
  negativeLatencies: number;
  cpuUs: number;
  rss: number;
}

export type FromClients =
  | { type: "clock"; hrMs: number }
  | { type: "connected"; ms: number; failed: number; errors: string[] }
  | { type: "status"; live: number; minLast: number; errors: string[] }
  | { type: "measuring"; cpuUs: number }
  | { type: "result"; result: ClientsResult }
  | { type: "closed" };

interface Client {
  ws: WebSocket;
  deny: boolean;
  acked: boolean;
  /** Last seq received (any), -1 before the first. */
  last: number;
  /** denyEvents clients: measured seqs received, in order. */
  received: number[];
  /** traceRecorded clients: measured seqs received. */
  count: number;
  lost: number;
}

interface NextMessage {
  type: string;
  id?: string;
  payload?: {
    data?: Record<string, { trace: { seq: number; eventType: string; args: { sentAtMs?: number; dueAtMs?: number } } | null; gap: { fromSeq: number; toSeq: number } | null }>;
    message?: string;
  };
}

async function main(): Promise<void> {
  const send = (m: FromClients) => process.send!(m);
  const clients: Client[] = [];
  const errors: string[] = [];
  const noteError = (e: string) => {
    if (errors.length < 20) errors.push(e);
  };
  let fromSeq = Number.POSITIVE_INFINITY;
  let startMs = 0;
  let measureCpu = process.cpuUsage();
  const all = newHistogram();
  const fromDue = newHistogram();
  const windows: Histogram[] = [];
  let firstRecvMs = Number.POSITIVE_INFINITY;
  let lastRecvMs = Number.NEGATIVE_INFINITY;
  let delivered = 0;
  let orderViolations = 0;
  let gaps = 0;
  let negative = 0;

  function onMessage(c: Client, raw: WebSocket.RawData): void {
    const now = hrMs();
    const m = JSON.parse(raw.toString()) as NextMessage;
    if (m.type === "next") {
      const field = m.payload?.data ? Object.values(m.payload.data)[0] : undefined;
      if (!field) {
        noteError(`next without data: ${JSON.stringify(m.payload).slice(0, 200)}`);
        return;
      }
      if (field.gap) {
        gaps += 1;
        return;
      }
      const t = field.trace;
      if (!t) return;
      const seq = t.seq;
      if (seq <= c.last || (c.deny && t.eventType !== "DENY")) orderViolations += 1;
      if (seq >= fromSeq) {
        if (!c.deny) {
          const missing = seq - Math.max(c.last, fromSeq - 1) - 1;
          if (missing > 0) c.lost += missing;
          c.count += 1;
        } else c.received.push(seq);
        delivered += 1;
        const sent = Number(t.args.sentAtMs);
        let latency = now - sent;
        if (latency < 0) {
          negative += 1;
          latency = 0;
        }
        record(all, latency);
        record(fromDue, Math.max(0, now - Number(t.args.dueAtMs ?? sent)));
        const w = Math.max(0, Math.floor((sent - startMs) / 1000));
        while (windows.length <= w) windows.push(newHistogram());
        record(windows[w]!, latency);
        if (now < firstRecvMs) firstRecvMs = now;
        if (now > lastRecvMs) lastRecvMs = now;
      }
      if (seq > c.last) c.last = seq;
    } else if (m.type === "connection_ack") {
      c.acked = true;
    } else if (m.type === "ping") {
      c.ws.send('{"type":"pong"}');
    } else if (m.type === "error" || m.type === "complete") {
      noteError(`${m.type}: ${JSON.stringify(m.payload).slice(0, 200)}`);
    }
  }

  function open(url: string, authorization: string, query: string, deny: boolean): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, "graphql-transport-ws", { perMessageDeflate: false });
      const c: Client = { ws, deny, acked: false, last: -1, received: [], count: 0, lost: 0 };
      const timer = setTimeout(() => reject(new Error("no connection_ack within 30 s")), 30_000);
      ws.on("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: { authorization } })));
      ws.on("message", (raw) => {
        const wasAcked = c.acked;
        onMessage(c, raw);
        if (!wasAcked && c.acked) {
          clearTimeout(timer);
          ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query } }));
          resolve(c);
        }
      });
      ws.on("error", (e) => {
        clearTimeout(timer);
        noteError(`socket error: ${e.message}`);
        reject(e);
      });
      ws.on("close", (code, reason) => {
        clearTimeout(timer);
        if (code !== 1000 && code !== 1005 && code !== 1006) noteError(`closed ${code} ${reason.toString()}`);
        reject(new Error(`closed ${code}`));
      });
    });
  }

  function terminateAll(): void {
    for (const c of clients) {
      c.ws.removeAllListeners("close");
      c.ws.removeAllListeners("message");
      c.ws.on("close", () => undefined);
      c.ws.terminate();
    }
  }

  function complete(c: Client, lastSeq: number, lastDeny: number): boolean {
    return c.deny ? lastDeny < 0 || c.last >= lastDeny : c.last >= lastSeq;
  }

  async function finish(lastSeq: number, denySeqs: number[], deadlineMs: number): Promise<ClientsResult> {
    const lastDeny = denySeqs.length > 0 ? denySeqs[denySeqs.length - 1]! : -1;
    let completeAtMs = Number.NaN;
    for (;;) {
      if (clients.every((c) => complete(c, lastSeq, lastDeny))) {
        completeAtMs = lastRecvMs;
        break;
      }
      if (hrMs() > deadlineMs) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const cpu = process.cpuUsage(measureCpu);
    let expected = 0;
    let lost = 0;
    let pending = 0;
    let clientsComplete = 0;
    const denySet = new Set(denySeqs);
    for (const c of clients) {
      if (complete(c, lastSeq, lastDeny)) clientsComplete += 1;
      if (!c.deny) {
        const want = lastSeq - fromSeq + 1;
        expected += want;
        lost += c.lost;
        const outstanding = lastSeq - Math.max(c.last, fromSeq - 1);
        if (outstanding > 0) pending += outstanding;
        if (c.count + c.lost + Math.max(0, outstanding) !== want) orderViolations += 1;
      } else {
        expected += denySeqs.length;
        const got = new Set(c.received);
        for (const s of c.received) if (!denySet.has(s)) orderViolations += 1;
        for (const s of denySeqs) {
          if (got.has(s)) continue;
          if (s < c.last) lost += 1;
          else pending += 1;
        }
      }
    }
    all.missing = pending;
    fromDue.missing = pending;
    // A backlog the gateway could not deliver in time would keep it busy for minutes (and,
    // as its event loop may be stalled, unresponsive): hang up, as a client giving up would.
    const closedAtDeadline = Number.isNaN(completeAtMs);
    if (closedAtDeadline) terminateAll();
    return {
      delivered,
      expected,
      lost,
      pending,
      orderViolations,
      gaps,
      errors,
      all,
      fromDue,
      allClients: clients.filter((c) => !c.deny).length,
      denyClients: clients.filter((c) => c.deny).length,
      windows,
      clientsComplete,
      firstRecvMs,
      lastRecvMs,
      completeAtMs,
      closedAtDeadline,
      negativeLatencies: negative,
      cpuUs: cpu.user + cpu.system,
      rss: process.memoryUsage().rss,
    };
  }

  process.on("message", (msg: ToClients) => {
    void (async () => {
      switch (msg.type) {
        case "clock":
          send({ type: "clock", hrMs: hrMs() });
          break;
        case "connect": {
          const t0 = hrMs();
          let failed = 0;
          const concurrency = 50;
          for (let i = 0; i < msg.clients; i += concurrency) {
            const opened = await Promise.allSettled(
              Array.from({ length: Math.min(concurrency, msg.clients - i) }, (_, j) => {
                const k = i + j;
                const deny = msg.denyEvery > 0 && k % msg.denyEvery === msg.denyEvery - 1;
                return open(msg.url, msg.authorization, deny ? msg.denyQuery : msg.allQuery, deny);
              }),
            );
            for (const r of opened) {
              if (r.status === "fulfilled") clients.push(r.value);
              else failed += 1;
            }
          }
          send({ type: "connected", ms: hrMs() - t0, failed, errors });
          break;
        }
        case "status": {
          const live = clients.filter((c) => c.last >= 0).length;
          const minLast = clients.reduce((m, c) => Math.min(m, c.last), Number.POSITIVE_INFINITY);
          send({ type: "status", live, minLast: clients.length === 0 ? -1 : minLast, errors });
          break;
        }
        case "measure":
          fromSeq = msg.fromSeq;
          startMs = msg.startMs;
          measureCpu = process.cpuUsage();
          send({ type: "measuring", cpuUs: 0 });
          break;
        case "finish":
          send({ type: "result", result: await finish(msg.lastSeq, msg.denySeqs, msg.deadlineMs) });
          break;
        case "close":
          terminateAll();
          send({ type: "closed" });
          process.disconnect();
          break;
      }
    })().catch((e: unknown) => {
      noteError(`child: ${(e as Error).stack ?? String(e)}`);
      console.error(e);
      process.exitCode = 1;
    });
  });
}

if (process.env.TRACEGATE_STREAM_CLIENTS === "1") void main();

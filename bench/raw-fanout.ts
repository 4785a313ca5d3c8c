/**
 * The limit of benchmark 5, measured in the same run: raw socket writes. A plain `ws` server
 * in this process speaks just enough graphql-ws (connection_ack, then `next` frames for
 * subscription id "1") to the same subscriber process (bench/stream-clients.ts) and the same
 * number of clients, and writes them the same kind of frames the gateway sends (a trace with
 * the selection of bench/streams.ts, stamped with args.sentAtMs) in batches of 10, each frame
 * serialized once per batch, each socket corked per batch: no GraphQL, no database, no bus.
 * Unthrottled, with a bound on unsent bytes per socket: its deliveries/s is the ceiling of
 * two cores' socket writes for this many subscribers, and its CPU per delivery is the floor
 * a gateway delivery is compared with.
 */
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { cpuMark, othersCores } from "./cpu.js";
import { TraceGenerator, toGraphqlInput } from "./data.js";
import { int } from "./stats.js";
import { histPercentile, hrMs } from "./stream-clients.js";
import { Clients } from "./streams.js";

export interface RawLimit {
  subscribers: number;
  seconds: number;
  delivered: number;
  lost: number;
  deliveriesPerSec: number;
  /** CPU of this (writing) process per delivery, in microseconds. */
  usPerDelivery: number;
  cores: number;
  p50: number;
  p99: number;
  othersCores: number | null;
}

const BATCH = 10;
/** Unsent bytes a socket may hold before the writer waits for it (keeps the ceiling honest: no unbounded buffering). */
const MAX_UNSENT = 256 * 1024;

const sleep = (msValue: number) => new Promise<void>((r) => setTimeout(r, msValue));
const turn = () => new Promise<void>((r) => setImmediate(r));

/** One frame as the gateway writes it for ALL_QUERY (bench/streams.ts), for the trace at `seq`. */
function frameOf(input: Record<string, unknown>, seq: number, sentAtMs: number): string {
  const trace = {
    seq,
    invokedAt: input.invokedAt,
    principalId: input.principalId,
    capabilityId: input.capabilityId,
    eventType: input.eventType,
    args: { ...(input.args as Record<string, unknown> | null), sentAtMs, dueAtMs: sentAtMs },
  };
  return JSON.stringify({ id: "1", type: "next", payload: { data: { traceRecorded: { trace, gap: null } } } });
}

/** Raw write ceiling for `subscribers` clients over `seconds`. */
export async function rawWriteLimit(subscribers: number, seconds: number, log: (line: string) => void): Promise<RawLimit> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const live = new Set<WebSocket>();
  wss.on("connection", (ws) => {
    ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as { type: string };
      if (m.type === "connection_init") ws.send('{"type":"connection_ack"}');
      else if (m.type === "subscribe") live.add(ws);
    });
    ws.on("close", () => live.delete(ws));
  });
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/graphql`;
  const clients = new Clients();
  const inputs = new TraceGenerator(0x5eef).take(2_000).map(toGraphqlInput);
  let seq = 0;
  /** Write the next `n` traces to every socket: each frame serialized once, each socket corked for the batch. */
  const writeBatch = (n: number) => {
    const sentAtMs = hrMs();
    const frames = Array.from({ length: n }, () => frameOf(inputs[seq % inputs.length]!, seq++, sentAtMs));
    for (const ws of live) {
      const raw = (ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
      raw.cork();
      for (const f of frames) ws.send(f);
      raw.uncork();
    }
  };
  try {
    const connected = await clients.request(
      { type: "connect", url, authorization: "raw", clients: subscribers, denyEvery: 0, allQuery: "raw", denyQuery: "raw" },
      "connected",
    );
    if (connected.failed > 0) throw new Error(`${connected.failed} of ${subscribers} raw subscribers failed to connect: ${connected.errors.join("; ")}`);
    for (const deadline = hrMs() + 60_000; ; ) {
      writeBatch(1);
      await sleep(100);
      const s = await clients.request({ type: "status" }, "status");
      if (s.live === subscribers) break;
      if (hrMs() > deadline) throw new Error(`only ${s.live} of ${subscribers} raw subscribers live`);
    }
    // JIT warm-up, then quiet.
    for (let i = 0; i < 50; i++) {
      writeBatch(BATCH);
      await turn();
    }
    await sleep(500);

    const fromSeq = seq;
    await clients.request({ type: "measure", fromSeq, startMs: hrMs() }, "measuring");
    const mark = cpuMark();
    const cpu0 = process.cpuUsage();
    const firstSendMs = hrMs();
    const endMs = firstSendMs + seconds * 1000;
    while (hrMs() < endMs) {
      writeBatch(BATCH);
      // Let the sockets drain; never hold more than MAX_UNSENT per socket.
      do await turn();
      while ([...live].some((ws) => ws.bufferedAmount > MAX_UNSENT) && hrMs() < endMs);
    }
    const { result } = await clients.request({ type: "finish", lastSeq: seq - 1, denySeqs: [], deadlineMs: hrMs() + 30_000 }, "result", 90_000);
    const cpu = process.cpuUsage(cpu0);
    const windowSec = (performance.now() - mark.at) / 1000;
    const cpuUs = cpu.user + cpu.system;
    const endRecv = Number.isNaN(result.completeAtMs) ? result.lastRecvMs : result.completeAtMs;
    const r: RawLimit = {
      subscribers,
      seconds,
      delivered: result.delivered,
      lost: result.lost,
      deliveriesPerSec: (result.delivered / (endRecv - firstSendMs)) * 1000,
      usPerDelivery: cpuUs / Math.max(1, result.delivered),
      cores: cpuUs / 1e6 / windowSec,
      p50: histPercentile(result.all, 50),
      p99: histPercentile(result.all, 99),
      othersCores: othersCores(mark),
    };
    log(
      `  raw ws write limit, ${int(subscribers)} subscribers (no GraphQL, no database): ${int(r.deliveriesPerSec)} deliveries/s, ` +
        `${r.usPerDelivery.toFixed(1)} us of writer CPU per delivery (${r.cores.toFixed(2)} cores), lost ${int(r.lost)}` +
        (r.othersCores === null ? "" : `, others ${r.othersCores.toFixed(2)} cores`),
    );
    return r;
  } finally {
    await clients.close();
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  }
}

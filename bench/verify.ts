/**
 * Benchmark 3: `verifyChain { ok checked }` over the whole big chain through GraphQL.
 *
 * Memory: the process RSS is sampled every 50 ms from a worker thread. (A setInterval on the
 * main thread would not do: the walk never yields to the event loop - the better-sqlite3
 * adapter resolves every query synchronously, so the whole walk runs as one long chain of
 * microtasks - and timers only fire after it ends.) The longest event-loop stall is
 * recorded too, as the largest gap between the ticks of a 10 ms main-thread interval
 * (perf_hooks.monitorEventLoopDelay does not see this kind of stall on Node 20).
 */
import { Worker } from "node:worker_threads";
import type { App } from "../src/http/app.js";
import { dataOf, gc, post } from "./gql.js";

export interface VerifyRun {
  ms: number;
  checked: number;
  rate: number;
  rssBase: number;
  /** Peak RSS minus the RSS just before the request. */
  rssPeakDelta: number;
  /** Peak RSS delta reached within the first 10% / 50% of the walk's duration. */
  rssDeltaAt10: number;
  rssDeltaAt50: number;
  /** Peak RSS delta reached by 10%, 20%, ..., 100% of the walk. */
  rssDeciles: number[];
  /** Main-thread heap after the walk and a full GC, minus before (what the walk retained). */
  heapRetained: number;
  /** RSS samples taken during the walk. */
  samples: number;
  /** Longest event-loop stall (ms) while the request ran. */
  maxLoopStallMs: number;
}

const VERIFY = JSON.stringify({ query: "{ verifyChain { ok checked } }" });

/** Worker source (plain CommonJS, no loader needed): samples process RSS until told to stop. */
const SAMPLER = `
const { parentPort, workerData } = require("node:worker_threads");
const samples = [];
const tick = () => samples.push([performance.timeOrigin + performance.now(), process.memoryUsage.rss()]);
tick();
const timer = setInterval(tick, workerData.intervalMs);
parentPort.postMessage("ready");
parentPort.once("message", () => {
  clearInterval(timer);
  tick();
  parentPort.postMessage(samples);
});
`;

/** Start sampling RSS on a worker thread; resolves once sampling runs. */
async function startRssSampler(intervalMs: number): Promise<{ stop(): Promise<[number, number][]> }> {
  const worker = new Worker(SAMPLER, { eval: true, workerData: { intervalMs } });
  await new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", reject);
  });
  return {
    async stop() {
      const samples = new Promise<[number, number][]>((resolve, reject) => {
        worker.once("message", (m: [number, number][]) => resolve(m));
        worker.once("error", reject);
      });
      worker.postMessage("stop");
      const out = await samples;
      await worker.terminate();
      return out;
    },
  };
}

const now = () => performance.timeOrigin + performance.now();

export async function verifyRun(a: App, expected: number): Promise<VerifyRun> {
  const sampler = await startRssSampler(50);
  gc();
  const heapBase = process.memoryUsage().heapUsed;
  const rssBase = process.memoryUsage.rss();
  let lastTick = now();
  let maxGap = 0;
  const ticker = setInterval(() => {
    const t = now();
    maxGap = Math.max(maxGap, t - lastTick);
    lastTick = t;
  }, 10);
  const t0 = now();
  let result: { ok: boolean; checked: number };
  let t1 = t0;
  try {
    result = dataOf(await post<{ verifyChain: { ok: boolean; checked: number } }>(a, VERIFY)).verifyChain;
  } finally {
    t1 = now();
    // Let the loop turn so the interval's late tick records the stall.
    await new Promise((resolve) => setTimeout(resolve, 30));
    clearInterval(ticker);
  }
  const samples = await sampler.stop();
  gc();
  const heapRetained = process.memoryUsage().heapUsed - heapBase;
  if (!result.ok || result.checked !== expected) {
    throw new Error(`verifyChain returned ok=${result.ok} checked=${result.checked}; expected ok=true checked=${expected}`);
  }
  const ms = t1 - t0;
  const during = samples.filter(([t]) => t >= t0 && t <= t1);
  const peakUntil = (fraction: number) =>
    Math.max(rssBase, ...during.filter(([t]) => t <= t0 + ms * fraction).map(([, rss]) => rss)) - rssBase;
  return {
    ms,
    checked: result.checked,
    rate: (result.checked / ms) * 1000,
    rssBase,
    rssPeakDelta: peakUntil(1),
    rssDeltaAt10: peakUntil(0.1),
    rssDeltaAt50: peakUntil(0.5),
    rssDeciles: Array.from({ length: 10 }, (_, i) => peakUntil((i + 1) / 10)),
    heapRetained,
    samples: during.length,
    maxLoopStallMs: maxGap,
  };
}

/**
 * Benchmark 3: `verifyChain { ok checked }` over the whole big chain through GraphQL, with the
 * process RSS (and V8 heap) sampled every 50 ms to show whether the walk streams.
 */
import type { App } from "../src/server/app.js";
import { dataOf, gc, post } from "./gql.js";

export interface VerifyRun {
  ms: number;
  checked: number;
  rate: number;
  rssBase: number;
  /** Peak RSS minus the RSS just before the request. */
  rssPeakDelta: number;
  heapPeakDelta: number;
  /** Peak RSS delta reached within the first 10% / 50% of the walk's duration. */
  rssDeltaAt10: number;
  rssDeltaAt50: number;
  samples: number;
}

const VERIFY = JSON.stringify({ query: "{ verifyChain { ok checked } }" });

export async function verifyRun(a: App, expected: number): Promise<VerifyRun> {
  gc();
  const rssBase = process.memoryUsage().rss;
  const heapBase = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const samples: { t: number; rss: number; heap: number }[] = [];
  const sample = () => {
    const m = process.memoryUsage();
    samples.push({ t: performance.now() - t0, rss: m.rss, heap: m.heapUsed });
  };
  const timer = setInterval(sample, 50);
  let result: { ok: boolean; checked: number };
  try {
    result = dataOf(await post<{ verifyChain: { ok: boolean; checked: number } }>(a, VERIFY)).verifyChain;
  } finally {
    clearInterval(timer);
  }
  const ms = performance.now() - t0;
  sample();
  if (!result.ok || result.checked !== expected) {
    throw new Error(`verifyChain returned ok=${result.ok} checked=${result.checked}; expected ok=true checked=${expected}`);
  }
  // Highest RSS seen within the first `fraction` of the walk (signed: RSS may drop after the GC).
  const peakUntil = (fraction: number) =>
    Math.max(...samples.filter((s) => s.t <= ms * fraction || s === samples[0]).map((s) => s.rss)) - rssBase;
  return {
    ms,
    checked: result.checked,
    rate: (result.checked / ms) * 1000,
    rssBase,
    rssPeakDelta: Math.max(...samples.map((s) => s.rss)) - rssBase,
    heapPeakDelta: Math.max(...samples.map((s) => s.heap)) - heapBase,
    rssDeltaAt10: peakUntil(0.1),
    rssDeltaAt50: peakUntil(0.5),
    samples: samples.length,
  };
}

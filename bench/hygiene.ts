/**
 * Benchmark 1c: what ingest hygiene adds per trace. scrubSecrets (credential scan of args,
 * resultSummary and error) against encodeTrace (canonical JSON) on the same realistic traces,
 * both in a tight loop; the median of several rounds, in microseconds per trace.
 */
import type { Trace } from "../src/chain/trace.js";
import { encodeTrace } from "../src/chain/trace.js";
import { scrubSecrets } from "../src/app/ingest.js";
import { median } from "./stats.js";

export interface HygieneResult {
  traces: number;
  scrubUs: number;
  encodeUs: number;
}

export function hygieneRun(traces: readonly Trace[], rounds: number): HygieneResult {
  const scrub: number[] = [];
  const encode: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let t0 = performance.now();
    for (let i = 0; i < traces.length; i++) scrubSecrets(traces[i]!, i, "redact");
    scrub.push(((performance.now() - t0) / traces.length) * 1000);
    t0 = performance.now();
    for (const t of traces) encodeTrace(t);
    encode.push(((performance.now() - t0) / traces.length) * 1000);
  }
  return { traces: traces.length, scrubUs: median(scrub), encodeUs: median(encode) };
}

/**
 * One point of benchmark 5 under a profiler, for the fan-out profile in BENCHMARKS.md:
 *   node --cpu-prof --cpu-prof-dir=bench/.cache/prof --import tsx bench/profile-stream.ts [subscribers] [events/s] [seconds]
 * then `node bench/profile-top.ts <file.cpuprofile>` (top self-time entries).
 */
import { createTemplate, removeDb } from "./db.js";
import { ingestBaseline, streamPoint } from "./streams.js";

const [subscribers = 100, eventsPerSec = 1_000, seconds = 3] = process.argv.slice(2).map(Number);
const template = await createTemplate();
try {
  const baseline = await ingestBaseline(template, eventsPerSec, seconds, console.log);
  await streamPoint(template, { subscribers, eventsPerSec, denyEvery: 0, seconds }, 0, baseline, console.log);
} finally {
  removeDb(template);
}

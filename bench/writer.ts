/**
 * One concurrent writer process for the scale benchmark: opens its own store on the shared
 * database (as a separate gateway replica would), waits for "go" on stdin, appends its
 * traces in batches and prints {startMs, endMs, n} as JSON.
 * Usage: tsx bench/writer.ts <databaseUrl> <writerIndex> <count> <batch>
 */
import { createInterface } from "node:readline";
import { providerOf } from "../src/config.js";
import { encodeTrace } from "../src/chain/trace.js";
import { openStores } from "../src/stores/index.js";
import { TraceGenerator } from "./data.js";
import { hash } from "./db.js";

const [databaseUrl, index, count, batch] = process.argv.slice(2) as [string, string, string, string];
const n = Number(count);
const size = Number(batch);
const traces = new TraceGenerator(1000 + Number(index)).take(n).map((t) => ({ ...t, actionId: `w${index}-${t.actionId}` }));
const stores = await openStores({ databaseUrl, databaseProvider: providerOf(databaseUrl) }, hash);
process.stdout.write("ready\n");
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once("line", () => resolve()));
const startMs = performance.timeOrigin + performance.now();
for (let i = 0; i < n; i += size) await stores.traces.append(traces.slice(i, i + size).map(encodeTrace));
const endMs = performance.timeOrigin + performance.now();
await stores.close();
process.stdout.write(`${JSON.stringify({ startMs, endMs, n })}\n`);

// Entry of worker threads whose code is TypeScript (./worker-thread.ts starts them): registers tsx, the loader
// the gateway runs with, in this thread, then imports the module named in workerData.entry.
// A worker's execArgv cannot carry `--import tsx` on Node 20 (the hooks do not reach it).
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);

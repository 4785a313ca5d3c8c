/**
 * The scheduled retention sweep (TRACEGATE_RETENTION): every interval, prune the records
 * older than the retention period, as the actor `retention`. Several replicas may run it:
 * each prune takes the chain lock, and a prune with nothing to delete only logs an audit
 * trace saying so.
 */
import type { CheckpointMac } from "../chain/checkpoint.js";
import { prune, type PruneResult } from "../app/retention.js";
import type { TraceStore } from "../stores/trace-store.js";
import type { Logger } from "../logger.js";
import type { CheckpointSigner } from "../app/signing-key.js";

/** The principal of the audit traces the sweep writes. */
export const RETENTION_ACTOR = { keyId: "retention" };

export interface RetentionOptions {
  traces: TraceStore;
  mac: CheckpointMac;
  /** Also signs the checkpoints it leaves, when set. */
  signer?: CheckpointSigner | undefined;
  /** Keep this much history (ms). */
  retentionMs: number;
  /** Time between sweeps (ms); the first runs right away. */
  intervalMs: number;
  logger: Logger;
  now?: () => number;
}

export interface RetentionSchedule {
  /** Run one sweep now (also what the timer does). */
  runOnce(): Promise<PruneResult>;
  /** Stop the timer and wait for a sweep in progress. */
  stop(): Promise<void>;
}

export function scheduleRetention(options: RetentionOptions): RetentionSchedule {
  const now = options.now ?? Date.now;
  let running: Promise<unknown> = Promise.resolve();
  const runOnce = () => {
    const beforeUs = (now() - options.retentionMs) * 1000;
    const run = prune(options.traces, { mac: options.mac, signer: options.signer }, RETENTION_ACTOR, { beforeUs }, now() * 1000);
    running = run.then(
      (r) => {
        if (r.pruned > 0) options.logger.info({ pruned: r.pruned, checkpointSeq: r.checkpoint?.seq }, "retention sweep pruned the chain");
      },
      (e: unknown) => options.logger.error({ err: e }, "retention sweep failed"),
    );
    return run;
  };
  let stopped = false;
  const tick = () => {
    if (!stopped) void runOnce().catch(() => undefined);
  };
  const timer = setInterval(tick, options.intervalMs);
  // A sweep must never keep the process alive on its own.
  timer.unref();
  const first = setImmediate(tick);
  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearImmediate(first);
      await running;
    },
  };
}

/**
 * The worker thread of the record-hash pool (./hash-pool.ts): for each batch it recomputes
 * every record's HMAC with the chain secret it was started with and answers the index of the
 * first record whose stored hash differs (-1 when all match). Request shape: HashJob.
 */
import { createHmac, type KeyObject } from "node:crypto";
import { workerData } from "node:worker_threads";
import { answerRequests } from "../worker-thread.js";
import { chainMessage, hashesEqual } from "./hash.js";
import type { HashJob } from "./hash-pool.js";

const key = (workerData as { key: KeyObject }).key;

answerRequests((job: HashJob): number => {
  for (let i = 0; i < job.seqs.length; i++) {
    let ok: boolean;
    try {
      const digest = createHmac("sha256", key).update(chainMessage(job.seqs[i]!, job.prevHashes[i]!, job.payloads[i]!), "utf8").digest("hex");
      // The verifier's own comparison: the stored text must be this lowercase hex exactly.
      ok = hashesEqual(digest, job.recordHashes[i]!);
    } catch {
      ok = false; // a malformed seq or prev_hash: the main thread's own check names it
    }
    if (!ok) return i;
  }
  return -1;
});

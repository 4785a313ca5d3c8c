/**
 * The forwarder's cursor: the last seq the collector acknowledged (a 2xx for the batch that
 * ended with it). It is replaced atomically (src/atomic-file.ts) and only after the ack, so
 * a crash at any point re-sends at most the batches that were not acknowledged: delivery is
 * at least once, and every event carries its seq for the collector to drop repeats.
 *
 * The file names the collector it counts for: a cursor kept for one destination says
 * nothing about what another one received, so it is refused there (STATE). It also names
 * the gateway's chain (the X-Tracegate-Chain-Id of /export, ChainHead.chainId): a seq counts
 * only in its chain, so a cursor copied to a forwarder of another gateway would skip that
 * chain's records up to the copied seq; ./forward.ts refuses it (STATE). A file from before
 * the chain id (no `chainId`) adopts the chain of its first read.
 */
import { readFile } from "node:fs/promises";
import { replaceFileAtomically } from "../atomic-file.js";
import { ForwardError } from "./errors.js";
import { errnoOf } from "../errors.js";

/** The saved cursor (JSON, version 1). */
export interface ForwardState {
  version: 1;
  /** The collector URL the cursor counts for. */
  to: string;
  /** The gateway chain the seqs count in (/export's X-Tracegate-Chain-Id); null until the first read sees it. */
  chainId: string | null;
  /** The last seq the collector acknowledged; null before the first acknowledgement. */
  ackedSeq: number | null;
  /** Events this file has seen acknowledged, across runs. */
  delivered: number;
  /** ISO 8601 time of the last save; "" before the first. */
  updatedAt: string;
}

/** The cursor of a collector nothing was delivered to yet. */
export function initialState(to: string): ForwardState {
  return { version: 1, to, chainId: null, ackedSeq: null, delivered: 0, updatedAt: "" };
}


/**
 * Read the cursor file; null when it does not exist.
 * @throws ForwardError STATE when it cannot be read, is not a version-1 forward cursor, or
 *   counts for another collector than `to`.
 */
export async function loadState(statePath: string, to: string): Promise<ForwardState | null> {
  let text: string;
  try {
    text = await readFile(statePath, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new ForwardError("STATE", `cannot read the cursor file ${statePath}: ${errnoOf(e)}`, { cause: e });
  }
  const bad = (why: string) => new ForwardError("STATE", `the cursor file ${statePath} is not a tracegate forward cursor (${why}); move it away to forward from the start.`);
  let s: Partial<ForwardState>;
  try {
    s = JSON.parse(text) as Partial<ForwardState>;
  } catch {
    throw bad("not JSON");
  }
  if (s === null || typeof s !== "object" || s.version !== 1) throw bad("unknown version");
  if (typeof s.to !== "string") throw bad("no collector URL");
  if (!(s.ackedSeq === null || (Number.isSafeInteger(s.ackedSeq) && (s.ackedSeq as number) >= 0))) throw bad("bad ackedSeq");
  if (!Number.isSafeInteger(s.delivered) || (s.delivered as number) < 0) throw bad("bad delivered count");
  if (!(s.chainId === undefined || s.chainId === null || (typeof s.chainId === "string" && s.chainId !== ""))) throw bad("bad chainId");
  if (s.to !== to) {
    throw new ForwardError("STATE", `the cursor file ${statePath} counts for the collector ${s.to}, not ${to}; pass another --state.`);
  }
  return { version: 1, to: s.to, chainId: s.chainId ?? null, ackedSeq: s.ackedSeq ?? null, delivered: s.delivered as number, updatedAt: typeof s.updatedAt === "string" ? s.updatedAt : "" };
}

/**
 * Replace the cursor file atomically (temp file + fsync + rename + directory fsync).
 * @throws ForwardError STATE when it cannot be written.
 */
export async function saveState(statePath: string, state: ForwardState): Promise<void> {
  try {
    await replaceFileAtomically(statePath, `${JSON.stringify(state, null, 2)}\n`);
  } catch (e) {
    throw new ForwardError("STATE", `cannot write the cursor file ${statePath}: ${errnoOf(e)}`, { cause: e });
  }
}

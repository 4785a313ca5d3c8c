/**
 * Work that outlives its client costs the server for nothing: every long walk or export
 * (verifyChain, traceStats, /export, replays) calls `stillWanted` between pages and stops
 * when the client aborted the request or closed its socket, or when the API key behind it
 * was revoked since the work began (the key cache bounds the lookups to one
 * per key and cache lifetime).
 */
import { isTracegateError, TracegateError } from "../errors.js";
import type { Viewer } from "../access/authenticator.js";
import type { KeyValidity } from "./caller.js";

export interface WorkOwner {
  signal: AbortSignal;
  viewer: Viewer;
  keys: Pick<KeyValidity, "assertActive">;
}

export function cancelled(): TracegateError {
  return new TracegateError("CANCELLED", "The client went away; the work was stopped.");
}

/**
 * @throws TracegateError CANCELLED when the client is gone, UNAUTHENTICATED when the key was
 * revoked, TIMEOUT when the work ran past its deadline (src/http/budget.ts).
 */
export async function stillWanted(owner: WorkOwner): Promise<void> {
  if (owner.signal.aborted) throw whyStopped(owner.signal);
  await owner.keys.assertActive(owner.viewer);
  if (owner.signal.aborted) throw whyStopped(owner.signal);
}

/** The coded reason a signal carries (a deadline's TIMEOUT), else CANCELLED. */
function whyStopped(signal: AbortSignal): TracegateError {
  return isTracegateError(signal.reason) ? signal.reason : cancelled();
}

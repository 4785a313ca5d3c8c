/**
 * Cleanup when a CLI job is interrupted (Ctrl-C, SIGTERM): the registered functions run (the
 * progress bar gives the terminal back its line wrapping, an export removes its partial file),
 * then the process exits with the status a shell gives a process killed by that signal (130
 * for Ctrl-C, 143 for SIGTERM). Exiting rather than re-raising the signal: a job started in
 * the background of a script inherits SIGINT ignored, and Node restores that disposition once
 * its last listener is gone, so a re-raised SIGINT would be ignored and the job would go on.
 * Commands that stop gracefully instead (ship, forward) use stopSignal; serve has its own.
 */
import { constants } from "node:os";

const cleanups = new Set<() => void>();
let installed = false;

function interrupted(signal: NodeJS.Signals): void {
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // The process is going away; the other cleanups must still run.
    }
  }
  process.exit(128 + constants.signals[signal]);
}

/** Run `cleanup` if the process is interrupted; returns the function that unregisters it. */
export function onInterrupt(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  if (!installed) {
    installed = true;
    process.once("SIGINT", interrupted);
    process.once("SIGTERM", interrupted);
  }
  return () => void cleanups.delete(cleanup);
}

/**
 * A graceful stop for long-running commands (ship, forward): the first SIGINT or SIGTERM
 * aborts the returned signal, so the job saves its position and returns; a second one exits
 * 130 at once, for an operator who will not wait.
 */
export function stopSignal(): AbortSignal {
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return stop.signal;
}

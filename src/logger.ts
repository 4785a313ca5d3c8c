/** The process logger (pino, JSON lines on stderr). */
import { pino, type Logger } from "pino";

export type { Logger };

/** A logger at `level`; secrets never go through it. */
export function createLogger(level: string): Logger {
  // Synchronous writes: a line is out before the next statement runs, so a crash loses none,
  // and nothing is left to flush at exit. (pino's asynchronous default flushes at exit with
  // sonic-boom's flushSync, which retries a broken pipe for ever: a gateway whose log reader
  // had died then never finished stopping on SIGTERM.) On EPIPE pino stops writing by itself.
  const destination = pino.destination({ dest: 2, sync: true });
  return pino({ level, base: { service: "tracegate" } }, destination);
}

/** An 'error' listener for output streams that drops EPIPE (the reader is gone) and rethrows anything else. */
export function ignoreClosedPipe(e: NodeJS.ErrnoException): void {
  if (e.code !== "EPIPE") throw e;
}

/** The process logger (pino, JSON lines on stderr). */
import { pino, type Logger } from "pino";

export type { Logger };

/** A logger at `level`; secrets never go through it. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "tracegate" } }, pino.destination(2));
}

/** A logger whose JSON lines a test reads back (failed authentications, access lines, errorIds). */
import { pino, type Logger } from "pino";

/** A logger at info level and the lines it wrote, parsed, in order. */
export function capturedLogs(): { logger: Logger; logged: Record<string, unknown>[] } {
  const logged: Record<string, unknown>[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, logged };
}

/**
 * Which database errors mean "the database cannot commit writes right now" (disk full, I/O
 * error, read-only file, connection lost, server shutting down), as opposed to a refusal of
 * this particular write (a constraint, a value the database cannot store) or lock
 * contention (retried by the store). Only storage faults make a write answer UNAVAILABLE
 * and /readyz not ready: a client retrying a refused value would retry for ever.
 */

/** SQLite result codes (primary or extended) of a database that cannot write. */
const SQLITE_STORAGE = /^SQLITE_(FULL|IOERR|CANTOPEN|READONLY|NOMEM|CORRUPT|NOTADB)/;
/**
 * PostgreSQL SQLSTATEs: 08 connection exception, 53 insufficient resources (53100 disk
 * full), 58 system error (58030 I/O error), 57P01-57P03 shutdown / cannot connect now.
 */
const PG_STORAGE = /^(08[0-9A-Z]{3}|53[0-9A-Z]{3}|58[0-9A-Z]{3}|57P0[123])$/;
/** Prisma: P1001/P1002 cannot reach the server, P1017 server closed the connection, P2024 no pool connection in time. */
const PRISMA_STORAGE = /^(P1001|P1002|P1017|P2024)$/;
/** Lost or refused connections, as Node and node-postgres report them. */
const CONNECTION_LOST =
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection terminated|terminating connection|connection is not open|Client has encountered a connection error|server closed the connection/i;

/**
 * A short reason (e.g. `SQLITE_FULL: database or disk is full`) when `error`, or an error it
 * wraps, is a storage fault; otherwise undefined.
 */
export function storageFault(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current !== null && typeof current === "object"; depth++) {
    const e = current as { code?: unknown; message?: unknown; cause?: unknown; meta?: { code?: unknown } };
    const message = typeof e.message === "string" ? e.message : "";
    // Prisma reports a failed raw query as P2010 with the database's own code in `meta`
    // or in the message ("Code: `53100`").
    const codes = [e.code, e.meta?.code, /Code: `([0-9A-Z_]+)`/.exec(message)?.[1]].filter((c): c is string => typeof c === "string");
    for (const code of codes) {
      if (SQLITE_STORAGE.test(code) || PG_STORAGE.test(code) || PRISMA_STORAGE.test(code)) return `${code}: ${firstLine(message)}`;
    }
    if (/database or disk is full|disk I\/O error|attempt to write a readonly database|No space left on device/i.test(message)) {
      return firstLine(message);
    }
    if (CONNECTION_LOST.test(message) || (typeof e.code === "string" && CONNECTION_LOST.test(e.code))) return firstLine(message);
    current = e.cause;
  }
  return undefined;
}

function firstLine(message: string): string {
  const line = message.split("\n").find((l) => l.trim() !== "") ?? "database error";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

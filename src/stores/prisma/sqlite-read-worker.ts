/**
 * The worker thread behind SqliteReadThread (./driver-client.ts): one read-only better-sqlite3
 * connection to the file named in workerData, answering { id, sql, values } with
 * { id, rows } or { id, error } (message, SQLite code).
 */
import Database from "better-sqlite3";
import { parentPort, workerData } from "node:worker_threads";

const { filePath, busyTimeoutMs } = workerData as { filePath: string; busyTimeoutMs: number };
const db = new Database(filePath, { readonly: true, timeout: busyTimeoutMs });
db.defaultSafeIntegers(true);
const statements = new Map<string, Database.Statement>();

parentPort!.on("message", ({ id, sql, values }: { id: number; sql: string; values: unknown[] }) => {
  try {
    let statement = statements.get(sql);
    if (!statement) statements.set(sql, (statement = db.prepare(sql)));
    parentPort!.postMessage({ id, rows: statement.all(...values) });
  } catch (e) {
    const error = e as { message?: string; code?: string };
    parentPort!.postMessage({ id, error: { message: String(error.message ?? e), code: error.code } });
  }
});

/**
 * The worker thread behind SqliteReadThread (./driver-client.ts): one read-only better-sqlite3
 * connection to the file named in workerData, answering each ReadRequest with its rows.
 */
import Database from "better-sqlite3";
import { workerData } from "node:worker_threads";
import { answerRequests } from "../../worker-thread.js";
import type { ReadRequest } from "./driver-client.js";

const { filePath, busyTimeoutMs } = workerData as { filePath: string; busyTimeoutMs: number };
const db = new Database(filePath, { readonly: true, timeout: busyTimeoutMs });
db.defaultSafeIntegers(true);
const statements = new Map<string, Database.Statement>();

answerRequests(({ sql, values }: ReadRequest) => {
  let statement = statements.get(sql);
  if (!statement) statements.set(sql, (statement = db.prepare(sql)));
  return statement.all(...values);
});

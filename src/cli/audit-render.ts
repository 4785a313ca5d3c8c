/**
 * What `tracegate audit` shares between its two modes (src/cli/audit.ts on the gateway
 * database, src/cli/audit-store.ts on a weaver-kernel store file): what it prints - the
 * reference CLI's table, its `--json` array and verify lines
 * (docs/reference-compatibility.md#operator-cli), output with backpressure, files written
 * whole or not at all - and how it reads the flags both modes take (--since/--until as
 * Python's `datetime.fromisoformat` reads them, --limit). Light imports only: the command
 * definitions load this module.
 */
import { once } from "node:events";
import { createWriteStream, openSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseIsoInstant } from "../chain/isoformat.js";
import { type JsonObject, pythonJsonDumps } from "../chain/json.js";
import { TimestampError } from "../chain/time.js";
import { pythonJsonIndent } from "../export/formats.js";
import { onInterrupt } from "./interrupt.js";

/**
 * A usage error of the reference-compatible `audit` command: printed as `error: <message>`
 * and exit 2, argparse's status (src/cli/audit.ts turns it into a commander error).
 */
export class AuditUsageError extends Error {
  override name = "AuditUsageError";
}

/**
 * A `--since`/`--until` value as an exact UTC instant in epoch microseconds: what Python
 * 3.11's `datetime.fromisoformat` accepts (src/chain/isoformat.ts), naive meaning UTC.
 * @throws AuditUsageError naming the flag, for anything CPython refuses.
 */
export function timeBound(flag: string, value: string): bigint {
  try {
    return parseIsoInstant(value);
  } catch (e) {
    if (!(e instanceof TimestampError)) throw e;
    throw new AuditUsageError(
      `${flag}: ${e.message} (expected an ISO 8601 date or date-time as Python's datetime.fromisoformat reads it, ` +
        "e.g. 2026-03-03, 2026-03-03T00:00 or 2026-03-03T00:00:00+00:00; no offset means UTC).",
    );
  }
}

/** A `--limit` must not be negative (the reference would slice like Python, dropping rows from the end). */
export function checkLimit(limit: number | undefined): void {
  if (limit !== undefined && limit < 0) throw new AuditUsageError(`--limit must be 0 or more, got ${limit}.`);
}

/** Control characters replaced, so stored text cannot rewrite the operator's terminal. */
export function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, "?");
}

/** Left-align in a column of `width` code points, like Python's `f"{s:<width}"`. */
export function padColumn(text: string, width: number): string {
  const length = [...text].length;
  return length >= width ? text : text + " ".repeat(width - length);
}

/** Write to stdout, waiting for it to drain when its buffer is full (constant memory). */
export function writeStdout(chunk: string): void | Promise<void> {
  if (!process.stdout.write(chunk)) return once(process.stdout, "drain").then(() => undefined);
}

/** A reader that went away (`| head`): stop quietly, with the status a SIGPIPE death gives. */
export function exitOnBrokenPipe(): void {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(141);
    throw e;
  });
}

/** The reference's table header: four left-aligned columns (38/28/18/9), then INVOKED_AT. */
export const TABLE_HEADER = `${padColumn("ACTION_ID", 38)} ${padColumn("CAPABILITY", 28)} ${padColumn("PRINCIPAL", 18)} ${padColumn("STATUS", 9)} INVOKED_AT`;

/** The header line and the line of dashes under it, each with its newline. */
export const TABLE_HEAD = `${TABLE_HEADER}\n${"-".repeat(TABLE_HEADER.length)}\n`;

/** What `list` prints when nothing matched. */
export const NO_TRACES = "No traces matched.\n";

/**
 * One table row (without newline) of a trace's export object: action, capability,
 * principal, status (from `error`), then `invoked_at` as the object holds it.
 */
export function tableRow(trace: Readonly<Record<string, unknown>>): string {
  const text = (key: string) => printable(typeof trace[key] === "string" ? trace[key] : "");
  const status = trace.error === null || trace.error === undefined ? "succeeded" : "failed";
  return `${padColumn(text("action_id"), 38)} ${padColumn(text("capability_id"), 28)} ${padColumn(text("principal_id"), 18)} ${padColumn(status, 9)} ${text("invoked_at")}`;
}

/**
 * `json.dumps(list, indent=2)` of export objects, written one element at a time: `item(obj)`
 * returns the text to print for the next element, `end()` what closes the array (`[]` when
 * nothing came).
 */
export function jsonArrayWriter(): { item(obj: JsonObject): string; end(): string } {
  let count = 0;
  return {
    item: (obj) => (count++ === 0 ? "[\n  " : ",\n  ") + pythonJsonIndent(obj, 2, 1),
    end: () => (count === 0 ? "[]\n" : "\n]\n"),
  };
}

/** `show`: the export object as `json.dumps(obj, indent=2)` and a newline. */
export function showText(obj: JsonObject): string {
  return `${pythonJsonIndent(obj, 2)}\n`;
}

/** The outcome of a verification, in the reference's terms. */
export interface VerifyReport {
  ok: boolean;
  checked: number;
  firstBadSeq: number | null;
  detail: string;
  /** tracegate's failure kind, printed in the gateway mode's --json only. */
  kind?: string | null;
}

/**
 * `verify`'s output: `OK: <detail>` / `TAMPER DETECTED: <detail>`, or with --json the
 * reference's one-line `{"ok", "records_checked", "first_bad_seq", "detail"}` (plus `kind`
 * when the report has one).
 */
export function verifyText(report: VerifyReport, json: boolean): string {
  if (!json) return `${report.ok ? "OK: " : "TAMPER DETECTED: "}${report.detail}\n`;
  const out: JsonObject = {
    ok: report.ok,
    records_checked: BigInt(report.checked),
    first_bad_seq: report.firstBadSeq === null ? null : BigInt(report.firstBadSeq),
    detail: report.detail,
  };
  if (report.kind !== undefined) out.kind = report.kind;
  return `${pythonJsonDumps(out)}\n`;
}

/** `export --out F`'s confirmation line. */
export function wroteText(count: number, path: string): string {
  return `Wrote ${count} trace(s) to ${path}\n`;
}

/**
 * Write a file through a temporary sibling renamed into place on success, so an export that
 * fails halfway never leaves a plausible-looking but truncated audit file behind.
 */
export async function exportToFile(path: string, run: (write: (chunk: string) => void | Promise<void>) => Promise<number>): Promise<number> {
  const partial = join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
  // Opened synchronously: the file exists before anything else runs, so an interrupt's cleanup
  // always finds it (an asynchronous open could complete after the cleanup, leaving it behind).
  const file = createWriteStream(partial, { fd: openSync(partial, "wx") });
  const failed = new Promise<never>((_, reject) => file.once("error", reject));
  failed.catch(() => undefined);
  // Ctrl-C or SIGTERM mid-export: the partial file goes too.
  const forget = onInterrupt(() => rmSync(partial, { force: true }));
  try {
    const n = await Promise.race([
      run((chunk) => {
        if (!file.write(chunk)) return Promise.race([once(file, "drain").then(() => undefined), failed]);
      }),
      failed,
    ]);
    file.end();
    await Promise.race([once(file, "close"), failed]);
    renameSync(partial, path);
    return n;
  } catch (e) {
    file.destroy();
    rmSync(partial, { force: true });
    throw e;
  } finally {
    forget();
  }
}

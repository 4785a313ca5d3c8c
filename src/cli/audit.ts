/**
 * `tracegate audit list|show|verify|export`: the reference CLI's audit commands
 * (docs/reference-compatibility.md#operator-cli) on the database the environment selects
 * (DATABASE_URL, or the SQLite file in TRACEGATE_DATA_DIR), with the same outputs and exit
 * codes:
 *
 * * `list`: the reference's table, or `--json` (a 2-space-indented array of export objects).
 * * `show ID`: the export object as Python's `json.dumps(obj, indent=2)` prints it; exit 1
 *   when no trace has that id.
 * * `verify`: `OK: Verified N record(s).` (exit 0) or `TAMPER DETECTED: <detail>` (exit 1),
 *   or with `--json` one line `{"ok", "records_checked", "first_bad_seq", "detail", "kind"}`.
 *   Runs the gateway's own verification (head, prune checkpoint, index columns included).
 * * `export`: JSONL as the reference writes it, or `--format envelope|chained|ocsf`, to
 *   stdout or `--out FILE` (then `Wrote N trace(s) to FILE`), in constant memory.
 *
 * Beyond the reference: `--event-type`, `--reason-code` and `--order seq|time|time-desc`; a
 * negative `--limit` is an error (the reference slices like Python, dropping rows from the
 * end). Usage errors exit 2 as argparse's do; every other error prints `error: <message>`
 * and exits 1. Only `verify` needs the chain secret; the reading commands never load it.
 */
import { once } from "node:events";
import { createWriteStream, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { type Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { createCheckpointMac } from "../chain/checkpoint.js";
import { createRecordHasher, type RecordHasher } from "../chain/hash.js";
import { type JsonObject, pythonJsonDumps } from "../chain/json.js";
import { TimestampError } from "../chain/time.js";
import { EVENT_TYPES, type EventType, parsePayload, STATUSES, type TraceStatus } from "../chain/trace.js";
import { type Config, loadConfig } from "../config.js";
import { badUserInput, TracegateError } from "../errors.js";
import {
  EXPORT_FORMATS,
  EXPORT_ORDERS,
  type ExportFormat,
  type ExportOrderName,
  exportObjectOf,
  parseExportTime,
  pythonJsonIndent,
  streamExport,
  traceRowPages,
} from "../export/formats.js";
import { toStoreFilter } from "../app/query.js";
import { verifyChain, type VerifyPorts } from "../app/verify.js";
import { OPERATOR, OPERATOR_KEYS } from "../app/caller.js";
import type { Stores } from "../stores/index.js";
import type { TraceFilter, TraceOrder } from "../stores/trace-store.js";
import { jobProgress, tracked } from "./progress.js";
import { assertDatabaseExists, existingChainSecret, readOnlyChain, withStores } from "./stores.js";

/** The reading commands never hash; a hasher that throws keeps the secret out of them. */
const noChainHasher = readOnlyChain("tracegate audit list/show/export");

/** Run `fn` on the migrated stores of an existing database, closing them afterwards. */
function withExistingStores<T>(config: Config, hash: RecordHasher, fn: (stores: Stores) => Promise<T>): Promise<T> {
  assertDatabaseExists(config);
  return withStores(config, hash, fn);
}

/** Control characters replaced, so stored text cannot rewrite the operator's terminal. */
function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, "?");
}

/** Left-align in a column of `width` code points, like Python's `f"{s:<width}"`. */
function padColumn(text: string, width: number): string {
  const length = [...text].length;
  return length >= width ? text : text + " ".repeat(width - length);
}

/** Write to stdout, waiting for it to drain when its buffer is full (constant memory). */
function writeStdout(chunk: string): void | Promise<void> {
  if (!process.stdout.write(chunk)) return once(process.stdout, "drain").then(() => undefined);
}

/** A reader that went away (`| head`): stop quietly, with the status a SIGPIPE death gives. */
function exitOnBrokenPipe(): void {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(141);
    throw e;
  });
}

// ---------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------

interface FilterOptions {
  principal?: string;
  capability?: string;
  status?: TraceStatus;
  eventType?: EventType;
  reasonCode?: string;
  since?: string;
  until?: string;
  limit?: number;
  order: ExportOrderName;
}

function parseInteger(value: string): number {
  if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError("not an integer.");
  }
  return Number(value);
}

function addFilterOptions(command: Command): Command {
  return command
    .option("--principal <id>", "only traces of this principal (exact match)")
    .option("--capability <id>", "only traces of this capability (exact match)")
    .addOption(new Option("--status <status>", "only succeeded or failed traces (a denial counts as failed)").choices(STATUSES))
    .addOption(new Option("--event-type <type>", "only traces of this event type").choices(EVENT_TYPES))
    .option("--reason-code <code>", "only traces with this reason code (denials)")
    .option("--since <iso>", "only traces at or after this ISO 8601 instant or date (naive = UTC)")
    .option("--until <iso>", "only traces strictly before this ISO 8601 instant or date (naive = UTC)")
    .option("--limit <n>", "at most this many traces, after filtering", parseInteger)
    .addOption(
      new Option("--order <order>", "chain order, or by invoked_at (ties in chain order)")
        .choices(Object.keys(EXPORT_ORDERS))
        .default("seq"),
    );
}

function parseTime(flag: string, value: string | undefined) {
  if (value === undefined) return null;
  try {
    return parseExportTime(value);
  } catch (e) {
    if (e instanceof TimestampError) throw badUserInput(`${flag}: ${e.message}`, flag);
    throw e;
  }
}

/** The store filter, order and limit of the filter flags. */
function selection(options: FilterOptions): { filter: TraceFilter; order: TraceOrder; limit: number | undefined } {
  if (options.limit !== undefined && options.limit < 0) {
    throw badUserInput(`--limit must be 0 or more, got ${options.limit}.`, "limit");
  }
  const since = parseTime("--since", options.since);
  const until = parseTime("--until", options.until);
  if (since !== null && until !== null && since > until) {
    throw badUserInput("--since must not be later than --until (since is inclusive, until exclusive).", "since");
  }
  const filter = toStoreFilter({
    principalId: options.principal ?? null,
    capabilityId: options.capability ?? null,
    eventType: options.eventType ?? null,
    outcome: options.status ?? null,
    reasonCode: options.reasonCode ?? null,
    since,
    until,
  });
  return { filter, order: EXPORT_ORDERS[options.order], limit: options.limit };
}

function hasFilter(filter: TraceFilter): boolean {
  return Object.values(filter).some((v) => v !== undefined);
}

// ---------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------

const TABLE_HEADER = `${padColumn("ACTION_ID", 38)} ${padColumn("CAPABILITY", 28)} ${padColumn("PRINCIPAL", 18)} ${padColumn("STATUS", 9)} INVOKED_AT`;

function tableRow(trace: Record<string, unknown>): string {
  const text = (key: string) => printable(typeof trace[key] === "string" ? trace[key] : "");
  const status = trace.error === null || trace.error === undefined ? "succeeded" : "failed";
  return `${padColumn(text("action_id"), 38)} ${padColumn(text("capability_id"), 28)} ${padColumn(text("principal_id"), 18)} ${padColumn(status, 9)} ${text("invoked_at")}`;
}

async function listTraces(options: FilterOptions & { json?: boolean }): Promise<void> {
  const { filter, order, limit } = selection(options);
  await withExistingStores(loadConfig(), noChainHasher, async (stores) => {
    let count = 0;
    for await (const rows of traceRowPages(stores.traces, filter, order, limit === undefined ? {} : { limit })) {
      let text = "";
      for (const row of rows) {
        if (options.json) {
          // json.dumps(list, indent=2), one element at a time.
          text += (count === 0 ? "[\n  " : ",\n  ") + pythonJsonIndent(exportObjectOf(row), 2, 1);
        } else {
          if (count === 0) text += `${TABLE_HEADER}\n${"-".repeat(TABLE_HEADER.length)}\n`;
          text += tableRow(parsePayload(row.payload)) + "\n";
        }
        count++;
      }
      await writeStdout(text);
    }
    if (options.json) await writeStdout(count === 0 ? "[]\n" : "\n]\n");
    else if (count === 0) await writeStdout("No traces matched.\n");
  });
}

async function showTrace(actionId: string): Promise<void> {
  const row = await withExistingStores(loadConfig(), noChainHasher, (stores) => stores.traces.findByActionId(actionId));
  // The reference's message (its SQLite store's `get`,
  // docs/reference-compatibility.md#sqlite-store).
  if (!row) throw new TracegateError("NOT_FOUND", `No action trace found for action_id='${printable(actionId)}'.`);
  process.stdout.write(`${pythonJsonIndent(exportObjectOf(row), 2)}\n`);
}

async function verifyStore(options: { json?: boolean; quiet?: boolean }): Promise<void> {
  const config = loadConfig();
  assertDatabaseExists(config);
  const secret = existingChainSecret(config);
  const hash = createRecordHasher(secret);
  const progress = jobProgress("verify", { quiet: options.quiet === true });
  const result = await tracked(progress, withExistingStores(config, hash, (stores) => {
    // The operator at the terminal: nothing aborts the walk and no key can be revoked mid-way.
    const ports: VerifyPorts = {
      stores,
      hash,
      checkpointMac: createCheckpointMac(secret),
      signal: new AbortController().signal,
      viewer: OPERATOR,
      keys: OPERATOR_KEYS,
      onProgress: (checked, total) => progress.update(checked, total),
    };
    return verifyChain({}, ports);
  }));
  if (options.json) {
    const report: JsonObject = {
      ok: result.ok,
      records_checked: BigInt(result.checked),
      first_bad_seq: result.firstBadSeq === null ? null : BigInt(result.firstBadSeq),
      detail: result.detail,
      kind: result.kind,
    };
    process.stdout.write(`${pythonJsonDumps(report)}\n`);
  } else {
    process.stdout.write(`${result.ok ? "OK: " : "TAMPER DETECTED: "}${result.detail}\n`);
  }
  if (!result.ok) process.exitCode = 1;
}

interface ExportCommandOptions extends FilterOptions {
  format: ExportFormat;
  out?: string;
  quiet?: boolean;
}

async function exportTraces(options: ExportCommandOptions): Promise<void> {
  const { filter, order, limit } = selection(options);
  if (options.format === "chained" && (hasFilter(filter) || order !== "SEQ_ASC")) {
    // A chained file verifies only as an unbroken run of the chain, in chain order.
    throw badUserInput("--format chained exports the chain itself: it takes no filters and only --order seq (--limit keeps a prefix).", "format");
  }
  const paging = limit === undefined ? {} : { limit };
  await withExistingStores(loadConfig(), noChainHasher, async (stores) => {
    const first = options.format === "chained" ? await stores.traces.firstSeq() : null;
    if (first !== null && first > 0) {
      // After a prune the chain no longer starts at GENESIS; the reference verifies from there.
      process.stderr.write(
        `tracegate: note: the chain was pruned before seq ${first}; verify this file from the prev_hash of its first ` +
          "record (the reference's JSONL store verifies from GENESIS and reports a broken link at the first record).\n",
      );
    }
    const progress = jobProgress("export", { quiet: options.quiet === true, unit: "traces" });
    // The total is counted beside the export; the progress shows a rate until it is known.
    void stores.traces.count(filter).then(
      (n) => progress.update(exported, limit === undefined ? n : Math.min(n, limit)),
      () => undefined,
    );
    let exported = 0;
    const tick = (n: number) => progress.update((exported = n));
    try {
      if (options.out === undefined) {
        const n = await streamExport(stores.traces, filter, order, options.format, writeStdout, tick, paging);
        // The reference prints the joined lines, so an empty JSONL export is one empty line.
        if (n === 0 && options.format === "jsonl") await writeStdout("\n");
        progress.finish();
        return;
      }
      const n = await exportToFile(options.out, (write) => streamExport(stores.traces, filter, order, options.format, write, tick, paging));
      progress.finish();
      process.stdout.write(`Wrote ${n} trace(s) to ${options.out}\n`);
    } catch (e) {
      progress.abort();
      throw e;
    }
  });
}

/**
 * Write a file through a temporary sibling renamed into place on success, so an export that
 * fails halfway never leaves a plausible-looking but truncated audit file behind.
 */
async function exportToFile(path: string, run: (write: (chunk: string) => void | Promise<void>) => Promise<number>): Promise<number> {
  const partial = join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
  const file = createWriteStream(partial, { flags: "wx" });
  const failed = new Promise<never>((_, reject) => file.once("error", reject));
  failed.catch(() => undefined);
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
  }
}

/** Add `audit list|show|verify|export` to the program. */
export function registerAuditCommand(program: Command): void {
  const audit = program
    .command("audit")
    .description("inspect, filter, export and verify the stored traces (DATABASE_URL / TRACEGATE_DATA_DIR select the database)")
    // Usage errors exit 2, as the reference's argparse does; help exits 0. Set before the
    // subcommands are added, which inherit it.
    .exitOverride((e: CommanderError) => process.exit(e.exitCode === 0 ? 0 : 2))
    .hook("preAction", exitOnBrokenPipe);

  addFilterOptions(audit.command("list").description("list traces as a table (chain order unless --order)"))
    .option("--json", "print a JSON array of export objects")
    .action((options: FilterOptions & { json?: boolean }) => listTraces(options));

  audit
    .command("show")
    .description("print one trace's export object")
    .argument("<action_id>", "the trace's action id")
    .action((actionId: string) => showTrace(actionId));

  audit
    .command("verify")
    .description("verify the hash chain (needs TRACEGATE_HMAC_SECRET or the data directory's development secret); exit 1 on tampering")
    .option("--json", 'print {"ok", "records_checked", "first_bad_seq", "detail", "kind"} on one line')
    .option("--quiet", "no progress on stderr")
    .action((options: { json?: boolean; quiet?: boolean }) => verifyStore(options));

  addFilterOptions(audit.command("export").description("export traces, one per line (or as one envelope document)"))
    .addOption(
      new Option("--format <format>", "jsonl (export objects), envelope (one JSON document), chained (reference JSONL store lines), ocsf")
        .choices(EXPORT_FORMATS)
        .default("jsonl"),
    )
    .option("--out <file>", "write to this file instead of stdout")
    .option("--quiet", "no progress on stderr")
    .action((options: ExportCommandOptions) => exportTraces(options));
}

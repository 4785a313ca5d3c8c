/**
 * `tracegate audit list|show|verify|export`: the reference CLI's audit commands
 * (docs/reference-compatibility.md#operator-cli) in two modes.
 *
 * With `--store PATH` they read a weaver-kernel store file (SQLite or JSONL) directly and
 * read-only, with the reference's flags, outputs and exit codes: src/cli/audit-store.ts,
 * imported only then. There `--format` is the store's format (sqlite|jsonl).
 *
 * Without it (the default) they read the database the environment selects (DATABASE_URL, or
 * the SQLite file in TRACEGATE_DATA_DIR), with the same outputs and exit codes:
 *
 * * `list`: the reference's table, or `--json` (a 2-space-indented array of export objects).
 * * `show ID`: the export object as Python's `json.dumps(obj, indent=2)` prints it; exit 1
 *   when no trace has that id.
 * * `verify`: `OK: Verified N record(s).` (exit 0) or `TAMPER DETECTED: <detail>` (exit 1),
 *   or with `--json` one line `{"ok", "records_checked", "first_bad_seq", "detail", "kind"}`.
 *   Runs the gateway's own verification (head, prune checkpoint, index columns included).
 * * `export`: JSONL as the reference writes it, or `--format envelope|chained|ocsf|ocsf-reference|csv` (here the
 *   OUTPUT format), to stdout or `--out FILE` (then `Wrote N trace(s) to FILE`), in constant
 *   memory; or `--format parquet --out DIR --source-name S --region R --account-id A`: OCSF
 *   events as Amazon Security Lake Parquet files under DIR (./audit-parquet.ts), each file
 *   and its rows on stdout, then `Wrote N trace(s) to K Parquet file(s) under DIR`.
 *
 * Beyond the reference: `--event-type`, `--reason-code` and `--order seq|time|time-desc`
 * (gateway mode only). In both modes a negative `--limit` and a `--since`/`--until` that
 * Python's `datetime.fromisoformat` refuses are usage errors, and a flag that does not fit
 * the mode (a store `--format` without `--store`, `--order` with it...) too. Usage errors
 * exit 2 as argparse's do; every other error prints `error: <message>` and exits 1. Only
 * `verify` needs the chain secret; the reading commands never load it. Rendering shared by
 * both modes lives in ./audit-render.ts, the flags of the store mode and the dispatch between
 * the modes in ./audit-modes.ts.
 */
import { type Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { createCheckpointMac } from "../chain/checkpoint.js";
import { createRecordHasher, type RecordHasher } from "../chain/hash.js";
import { EVENT_TYPES, type EventType, parsePayload, STATUSES, type TraceStatus } from "../chain/trace.js";
import { type Config, loadConfig } from "../config.js";
import { badUserInput, TracegateError } from "../errors.js";
import {
  EXPORT_ORDERS,
  type ExportFormat,
  type ExportOrderName,
  clampedMicros,
  exportObjectOf,
  streamExport,
  traceRowPages,
} from "../export/formats.js";
import { toStoreFilter } from "../app/query.js";
import { verifyChain, type VerifyPorts } from "../app/verify.js";
import { OPERATOR, OPERATOR_KEYS } from "../app/caller.js";
import type { Stores } from "../stores/index.js";
import type { TraceFilter, TraceOrder } from "../stores/trace-store.js";
import { addStoreOptions, dispatch } from "./audit-modes.js";
import {
  checkLimit,
  exitOnBrokenPipe,
  exportToFile,
  jsonArrayWriter,
  NO_TRACES,
  printable,
  showText,
  TABLE_HEAD,
  tableRow,
  timeBound,
  verifyText,
  writeStdout,
  wroteText,
} from "./audit-render.js";
import { jobProgress, tracked } from "./progress.js";
import { PARQUET_ROWS_PER_FILE } from "../export/parquet.js";
import { assertDatabaseExists, existingChainSecret, readOnlyChain, withStores } from "./stores.js";

/** The reading commands never hash; a hasher that throws keeps the secret out of them. */
const noChainHasher = readOnlyChain("tracegate audit list/show/export");

/** Run `fn` on the migrated stores of an existing database, closing them afterwards. */
function withExistingStores<T>(config: Config, hash: RecordHasher, fn: (stores: Stores) => Promise<T>): Promise<T> {
  assertDatabaseExists(config);
  return withStores(config, hash, fn);
}

// ---------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------

interface FilterOptions {
  principal?: string;
  capability?: string;
  principalPrefix?: string;
  capabilityPrefix?: string;
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

function parsePositive(value: string): number {
  const n = parseInteger(value);
  if (n < 1) throw new InvalidArgumentError("must be 1 or more.");
  return n;
}

function addFilterOptions(command: Command): Command {
  return command
    .option("--principal <id>", "only traces of this principal (exact match)")
    .option("--capability <id>", "only traces of this capability (exact match)")
    .option("--principal-prefix <text>", "only traces whose principal starts with this text, e.g. team-a/ (plain text, no wildcards; gateway database only)")
    .option("--capability-prefix <text>", "only traces whose capability starts with this text, e.g. billing. (gateway database only)")
    .addOption(new Option("--status <status>", "only succeeded or failed traces (a denial counts as failed)").choices(STATUSES))
    .addOption(new Option("--event-type <type>", "only traces of this event type (gateway database only)").choices(EVENT_TYPES))
    .option("--reason-code <code>", "only traces with this reason code, denials (gateway database only)")
    .option("--since <iso>", "only traces at or after this date or date-time, as Python's datetime.fromisoformat reads it (naive = UTC)")
    .option("--until <iso>", "only traces strictly before this date or date-time (as --since)")
    .option("--limit <n>", "at most this many traces, after filtering (0 or more)", parseInteger)
    .addOption(
      new Option("--order <order>", "chain order, or by invoked_at, ties in chain order (gateway database only; --format parquet is always by time)")
        .choices(Object.keys(EXPORT_ORDERS))
        .default("seq"),
    );
}

/** A time bound as the store filter takes it: epoch microseconds, clamped to the safe range. */
function parseTime(flag: string, value: string | undefined): number | null {
  return value === undefined ? null : clampedMicros(timeBound(flag, value));
}

/** The store filter, order and limit of the filter flags. */
function selection(options: FilterOptions): { filter: TraceFilter; order: TraceOrder; limit: number | undefined } {
  checkLimit(options.limit);
  const since = parseTime("--since", options.since);
  const until = parseTime("--until", options.until);
  if (since !== null && until !== null && since > until) {
    throw badUserInput("--since must not be later than --until (since is inclusive, until exclusive).", "since");
  }
  const filter = toStoreFilter({
    principalId: options.principal ?? null,
    capabilityId: options.capability ?? null,
    principalIdPrefix: options.principalPrefix ?? null,
    capabilityIdPrefix: options.capabilityPrefix ?? null,
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

async function listTraces(options: FilterOptions & { json?: boolean }): Promise<void> {
  const { filter, order, limit } = selection(options);
  const array = jsonArrayWriter();
  await withExistingStores(loadConfig(), noChainHasher, async (stores) => {
    let count = 0;
    for await (const rows of traceRowPages(stores.traces, filter, order, limit === undefined ? {} : { limit })) {
      let text = "";
      for (const row of rows) {
        if (options.json) {
          text += array.item(exportObjectOf(row));
        } else {
          if (count === 0) text += TABLE_HEAD;
          text += tableRow(parsePayload(row.payload)) + "\n";
        }
        count++;
      }
      await writeStdout(text);
    }
    if (options.json) await writeStdout(array.end());
    else if (count === 0) await writeStdout(NO_TRACES);
  });
}

async function showTrace(actionId: string): Promise<void> {
  const row = await withExistingStores(loadConfig(), noChainHasher, (stores) => stores.traces.findByActionId(actionId));
  // The reference's message (its SQLite store's `get`,
  // docs/reference-compatibility.md#sqlite-store).
  if (!row) throw new TracegateError("NOT_FOUND", `No action trace found for action_id='${printable(actionId)}'.`);
  process.stdout.write(showText(exportObjectOf(row)));
}

async function verifyStore(options: { json?: boolean; quiet?: boolean }): Promise<void> {
  const config = loadConfig();
  assertDatabaseExists(config);
  const secret = existingChainSecret(config);
  const hash = createRecordHasher(secret);
  const progress = jobProgress("verify", { quiet: options.quiet === true });
  const result = await tracked(progress, withExistingStores(config, hash, async (stores) => {
    // A secret whose key id is not the one the chain recorded is the wrong secret, not a
    // tampered chain: say so instead of reporting every record as tampered (a chain from
    // before key ids cannot tell the two apart, and is walked).
    const key = await stores.traces.checkChainKey(hash);
    if (key.kind === "mismatch" && key.error.storedKeyId !== null) {
      throw new Error(
        `wrong secret: its key id ${key.error.configuredKeyId} is not the chain's (${key.error.storedKeyId}); nothing was verified. ` +
          "Set TRACEGATE_HMAC_SECRET to the secret the chain was written with (or the chain's recorded key id was edited).",
      );
    }
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
  process.stdout.write(verifyText(result, options.json === true));
  if (!result.ok) process.exitCode = 1;
}

interface ExportCommandOptions extends FilterOptions {
  format: ExportFormat | "parquet";
  out?: string;
  quiet?: boolean;
  sourceName?: string;
  region?: string;
  accountId?: string;
  rowsPerFile?: number;
}

/** `--format parquet` (flags checked by audit-modes.ts checkParquet): Security Lake files under --out. */
async function exportParquet(options: ExportCommandOptions): Promise<void> {
  // Always in time order: the files are per day and sorted by time.
  const { filter, limit } = selection({ ...options, order: "time" });
  const outDir = options.out!;
  // Imported only here: the Parquet writer is not loaded by the other commands.
  const { parquetWroteText, writeParquetExport } = await import("./audit-parquet.js");
  await withExistingStores(loadConfig(), noChainHasher, async (stores) => {
    const progress = jobProgress("export", { quiet: options.quiet === true, unit: "traces" });
    void stores.traces.count(filter).then(
      (n) => progress.update(exported, limit === undefined ? n : Math.min(n, limit)),
      () => undefined,
    );
    let exported = 0;
    try {
      const files = await writeParquetExport(stores.traces, filter, {
        outDir,
        target: { sourceName: options.sourceName!, region: options.region!, accountId: options.accountId! },
        ...(limit === undefined ? {} : { limit }),
        rowsPerFile: options.rowsPerFile ?? PARQUET_ROWS_PER_FILE,
        onProgress: (n) => progress.update((exported = n)),
      });
      progress.finish();
      process.stdout.write(parquetWroteText(files, outDir));
    } catch (e) {
      progress.abort();
      throw e;
    }
  });
}

async function exportTraces(options: ExportCommandOptions): Promise<void> {
  if (options.format === "parquet") return exportParquet(options);
  const format = options.format;
  const { filter, order, limit } = selection(options);
  if (format === "chained" && (hasFilter(filter) || order !== "SEQ_ASC")) {
    // A chained file verifies only as an unbroken run of the chain, in chain order.
    throw badUserInput("--format chained exports the chain itself: it takes no filters and only --order seq (--limit keeps a prefix).", "format");
  }
  const paging = limit === undefined ? {} : { limit };
  await withExistingStores(loadConfig(), noChainHasher, async (stores) => {
    const first = format === "chained" ? await stores.traces.firstSeq() : null;
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
        const n = await streamExport(stores.traces, filter, order, format, writeStdout, tick, paging);
        // The reference prints the joined lines, so an empty JSONL export is one empty line.
        if (n === 0 && format === "jsonl") await writeStdout("\n");
        progress.finish();
        return;
      }
      const n = await exportToFile(options.out, (write) => streamExport(stores.traces, filter, order, format, write, tick, paging));
      progress.finish();
      process.stdout.write(wroteText(n, options.out));
    } catch (e) {
      progress.abort();
      throw e;
    }
  });
}

/** Add `audit list|show|verify|export` to the program. */
export function registerAuditCommand(program: Command): void {
  const audit = program
    .command("audit")
    .description(
      "inspect, filter, export and verify traces: the gateway database (DATABASE_URL / TRACEGATE_DATA_DIR), " +
        "or with --store PATH a weaver-kernel store file, as the reference's CLI does",
    )
    // Usage errors exit 2, as the reference's argparse does; help exits 0. Set before the
    // subcommands are added, which inherit it.
    .exitOverride((e: CommanderError) => process.exit(e.exitCode === 0 ? 0 : 2))
    .hook("preAction", exitOnBrokenPipe);

  const list = addStoreOptions(addFilterOptions(audit.command("list").description("list traces as a table (chain order unless --order)")))
    .option("--json", "print a JSON array of export objects");
  list.action(() => dispatch(list, "list", () => listTraces(list.opts<FilterOptions & { json?: boolean }>())));

  const show = addStoreOptions(audit.command("show").description("print one trace's export object"))
    .argument("<action_id>", "the trace's action id")
    .option("--json", "accepted, as by the reference (show always prints JSON)");
  show.action((actionId: string) => dispatch(show, "show", () => showTrace(actionId), actionId));

  const verify = addStoreOptions(
    audit
      .command("verify")
      .description(
        "verify the hash chain; exit 1 on tampering (the gateway database needs TRACEGATE_HMAC_SECRET or the data " +
          "directory's development secret, a store file WEAVER_KERNEL_SECRET, --secret-file or --secret)",
      ),
  )
    .option("--json", 'print {"ok", "records_checked", "first_bad_seq", "detail"} on one line (and "kind" for the gateway database)')
    .option("--quiet", "no progress on stderr");
  verify.action(() => dispatch(verify, "verify", () => verifyStore(verify.opts<{ json?: boolean; quiet?: boolean }>())));

  const exporter = addStoreOptions(
    addFilterOptions(audit.command("export").description("export traces, one per line (or as one envelope document, or as Parquet files)")),
    "without --store: the output format, jsonl (the default: export objects), envelope (one JSON document), chained " +
      "(reference JSONL store lines), ocsf (schema-valid OCSF 1.3.0), ocsf-reference (OCSF as weaver-kernel maps it), csv, " +
      "or parquet (OCSF in Parquet files for Amazon Security Lake, with --out DIR) (README \"Export formats\"); with --store: the store's format, sqlite or jsonl (default: jsonl when the " +
      "path ends in .jsonl, else sqlite), the output being JSONL export objects",
  )
    .option("--out <file>", "write to this file instead of stdout (with --format parquet: the folder the ext/... tree goes under)")
    .option("--source-name <name>", "--format parquet: the Security Lake custom source's name (the folder under ext/)")
    .option("--region <region>", "--format parquet: the AWS Region of the data (region=... folder), e.g. us-east-1")
    .option("--account-id <id>", "--format parquet: the 12-digit AWS account id (accountId=... folder)")
    .option("--rows-per-file <n>", `--format parquet: at most this many rows per file (default ${PARQUET_ROWS_PER_FILE})`, parsePositive)
    .option("--json", "accepted, as by the reference (export always prints JSONL)")
    .option("--quiet", "no progress on stderr");
  exporter.action(() =>
    dispatch(exporter, "export", () => {
      const options = exporter.opts<Omit<ExportCommandOptions, "format"> & { format?: ExportCommandOptions["format"] }>();
      return exportTraces({ ...options, format: options.format ?? "jsonl" });
    }),
  );
}

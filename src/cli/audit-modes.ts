/**
 * The two modes of `tracegate audit` (src/cli/audit.ts): the flags of the store mode that
 * every subcommand takes, the check that each flag fits the mode it is used in, and the
 * dispatch to the store implementation (src/cli/audit-store.ts, imported only when --store
 * is given) or to the gateway database's. Light imports only: the command definitions load
 * this module.
 */
import type { Command } from "commander";
import { isExportFormat } from "../export/formats.js";
import { checkSecurityLakeTarget } from "../export/parquet.js";
import { isTracegateError } from "../errors.js";
import { AuditUsageError } from "./audit-render.js";
import type { StoreCommand, StoreCommandOptions } from "./audit-store.js";

/** The flags of the store mode (--store) every subcommand takes. */
interface StoreFlags {
  store?: string;
  format?: string;
  secret?: string;
  secretFile?: string;
  json?: boolean;
}

const STORE_FORMAT_HELP =
  "with --store: the store's format, sqlite or jsonl (default: jsonl when the path ends in .jsonl, else sqlite)";

/**
 * Add --store, --format, --secret and --secret-file to a subcommand. `formatHelp` says what
 * --format means there (export's also names its output formats without --store).
 */
export function addStoreOptions(command: Command, formatHelp = STORE_FORMAT_HELP): Command {
  return command
    .option("--store <path>", "read this weaver-kernel trace store file (SQLite or JSONL) directly, read-only, instead of the gateway database")
    .option("--format <format>", formatHelp)
    .option("--secret <secret>", `with --store: the chain secret for verify (default: WEAVER_KERNEL_SECRET); visible in the process list, prefer the variable or --secret-file`)
    .option("--secret-file <path>", "with --store: read the chain secret from the first line of this file");
}

/** The gateway mode's own flags, which the reference's CLI (and so --store) lacks. */
const GATEWAY_ONLY = [
  ["eventType", "--event-type"],
  ["reasonCode", "--reason-code"],
  ["principalPrefix", "--principal-prefix"],
  ["capabilityPrefix", "--capability-prefix"],
  ["order", "--order"],
  ["sourceName", "--source-name"],
  ["region", "--region"],
  ["accountId", "--account-id"],
  ["rowsPerFile", "--rows-per-file"],
] as const;

/** `export --format` values of the gateway mode written only to files by the CLI (not over /export). */
export const CLI_ONLY_FORMATS = ["parquet"] as const;

/**
 * Refuse the flags that do not fit the mode: with --store, the gateway's extra filters and an
 * output --format; without it, the store's secret flags and a store --format.
 */
function checkMode(command: Command, name: StoreCommand): void {
  const options = command.opts<StoreFlags>();
  if (options.store !== undefined) {
    for (const [key, flag] of GATEWAY_ONLY) {
      if (command.getOptionValueSource(key) === "cli") {
        throw new AuditUsageError(
          `${flag} is not available with --store: the reference CLI filters by --principal, --capability, --status, --since, --until and --limit.`,
        );
      }
    }
    return;
  }
  for (const flag of ["--secret", "--secret-file"] as const) {
    if (options[flag === "--secret" ? "secret" : "secretFile"] !== undefined) {
      throw new AuditUsageError(`${flag} reads a store file's chain secret and needs --store PATH (the gateway database's secret is TRACEGATE_HMAC_SECRET).`);
    }
  }
  if (options.format === undefined) return;
  if (name !== "export") {
    throw new AuditUsageError(`--format names a store file's format (sqlite or jsonl) and needs --store PATH.`);
  }
  if (!isExportFormat(options.format) && !(CLI_ONLY_FORMATS as readonly string[]).includes(options.format)) {
    throw new AuditUsageError(
      `without --store, --format is the output format: jsonl, envelope, chained, ocsf, ocsf-reference, csv or parquet, not '${options.format}'` +
        ((options.format === "sqlite" ? " (a store's format needs --store PATH)" : "") + "."),
    );
  }
}

/** The flags only `export --format parquet` takes. */
const PARQUET_FLAGS = [
  ["sourceName", "--source-name"],
  ["region", "--region"],
  ["accountId", "--account-id"],
  ["rowsPerFile", "--rows-per-file"],
] as const;

/**
 * `export --format parquet` (gateway mode): it writes a folder tree, so it needs `--out DIR`,
 * the Security Lake target (`--source-name`, `--region`, `--account-id`, checked by
 * checkSecurityLakeTarget) and time order (an explicit `--order` other than `time` is
 * refused); its flags are refused with any other format.
 */
function checkParquet(command: Command): void {
  const options = command.opts<{ format?: string; out?: string; order?: string; sourceName?: string; region?: string; accountId?: string }>();
  if (options.format !== "parquet") {
    for (const [key, flag] of PARQUET_FLAGS) {
      if (command.getOptionValueSource(key) === "cli") throw new AuditUsageError(`${flag} is an option of --format parquet.`);
    }
    return;
  }
  if (options.out === undefined) {
    throw new AuditUsageError("--format parquet writes a folder tree: give --out DIR (the root the ext/<source>/... folders go under, e.g. a copy of the Security Lake bucket).");
  }
  if (command.getOptionValueSource("order") === "cli" && options.order !== "time") {
    throw new AuditUsageError("--format parquet writes each day's events in time order: --order must be time (the default for parquet).");
  }
  const missing = PARQUET_FLAGS.filter(([key]) => key !== "rowsPerFile" && options[key] === undefined).map(([, flag]) => flag);
  if (missing.length > 0) throw new AuditUsageError(`--format parquet needs ${missing.join(", ")} (the Security Lake custom source the files are for).`);
  try {
    checkSecurityLakeTarget({ sourceName: options.sourceName!, region: options.region!, accountId: options.accountId! });
  } catch (e) {
    if (isTracegateError(e)) throw new AuditUsageError(e.message);
    throw e;
  }
}

/**
 * Run a subcommand in its mode: the store module (imported only then) with --store, else the
 * gateway database. Usage errors become commander's, which exit 2.
 */
export async function dispatch(command: Command, name: StoreCommand, gateway: () => Promise<void>, actionId?: string): Promise<void> {
  try {
    checkMode(command, name);
    const options = command.opts<StoreFlags>();
    if (name === "export" && options.store === undefined) checkParquet(command);
    if (options.store === undefined) return await gateway();
    const { runStoreCommand } = await import("./audit-store.js");
    await runStoreCommand(name, options as StoreCommandOptions, actionId);
  } catch (e) {
    if (e instanceof AuditUsageError) command.error(`error: ${e.message}`, { exitCode: 2, code: "tracegate.audit.usage" });
    throw e;
  }
}


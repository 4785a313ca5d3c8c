/**
 * The two modes of `tracegate audit` (src/cli/audit.ts): the flags of the store mode that
 * every subcommand takes, the check that each flag fits the mode it is used in, and the
 * dispatch to the store implementation (src/cli/audit-store.ts, imported only when --store
 * is given) or to the gateway database's. Light imports only: the command definitions load
 * this module.
 */
import type { Command } from "commander";
import { isExportFormat } from "../export/formats.js";
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

/** The gateway mode's own filters, which the reference's CLI (and so --store) lacks. */
const GATEWAY_ONLY = [
  ["eventType", "--event-type"],
  ["reasonCode", "--reason-code"],
  ["order", "--order"],
] as const;

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
  if (!isExportFormat(options.format)) {
    throw new AuditUsageError(
      `without --store, --format is the output format: jsonl, envelope, chained, ocsf, ocsf-reference or csv, not '${options.format}'` +
        ((options.format === "sqlite" ? " (a store's format needs --store PATH)" : "") + "."),
    );
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
    if (options.store === undefined) return await gateway();
    const { runStoreCommand } = await import("./audit-store.js");
    await runStoreCommand(name, options as StoreCommandOptions, actionId);
  } catch (e) {
    if (e instanceof AuditUsageError) command.error(`error: ${e.message}`, { exitCode: 2, code: "tracegate.audit.usage" });
    throw e;
  }
}


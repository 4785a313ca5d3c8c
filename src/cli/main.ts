/**
 * The `tracegate` command line. Each command lives in its own file beside this one (flags ->
 * src/app/ use cases -> print) and is imported only when the command line names it, so
 * `tracegate --help` and `--version` load commander and nothing else (BENCHMARKS.md, "CLI
 * start-up").
 *
 * Exit codes, one policy: 0 done; 1 an error or a check that failed (audit verify, doctor,
 * checkpoint verify); 2 a usage error of the reference-compatible `audit` command (argparse's
 * code); 130 a second interrupt while `ship` or `forward` drains; 141 a closed output pipe
 * (`audit list | head`). An error is one line on stderr (`fail` below); its stack only with
 * `--debug` (or TRACEGATE_DEBUG=1).
 */
import { readFileSync } from "node:fs";
import { Command } from "commander";

/** A command: its name and one-line summary for `tracegate --help`, and the module that defines it. */
interface CommandEntry {
  name: string;
  summary: string;
  /** Adds the command, with its flags and action, to the program. */
  load: () => Promise<(program: Command) => void>;
}

const COMMANDS: CommandEntry[] = [
  { name: "serve", summary: "migrate the database and serve GraphQL (the default command)", load: async () => (await import("./serve.js")).registerServeCommand },
  { name: "migrate", summary: "apply pending database migrations and exit (only reads an up-to-date database)", load: async () => (await import("./migrate.js")).registerMigrateCommand },
  { name: "keys", summary: "create, list and revoke API keys", load: async () => (await import("./keys.js")).registerKeysCommand },
  { name: "checkpoint", summary: "verify a signed checkpoint offline; print the checkpoint signing public key", load: async () => (await import("./checkpoint.js")).registerCheckpointCommand },
  { name: "doctor", summary: "check the configuration, the database and the chain", load: async () => (await import("./doctor.js")).registerDoctorCommand },
  { name: "import", summary: "import a weaver-kernel trace store (JSONL or SQLite) into the chain", load: async () => (await import("./import.js")).registerImportCommand },
  { name: "prune", summary: "delete the oldest records, leaving an authenticated checkpoint", load: async () => (await import("./prune.js")).registerPruneCommand },
  { name: "audit", summary: "list, show, export and verify traces (the reference CLI's audit commands)", load: async () => (await import("./audit.js")).registerAuditCommand },
  { name: "ship", summary: "follow a weaver-kernel JSONL store and send its traces to a gateway", load: async () => (await import("./ship.js")).registerShipCommand },
  { name: "forward", summary: "deliver new traces to an HTTP collector (SIEM, Splunk HEC) at least once, from a saved cursor", load: async () => (await import("./forward.js")).registerForwardCommand },
];

const HELP_FLAGS = new Set(["-h", "--help"]);
const VERSION_FLAGS = new Set(["-V", "--version"]);

/**
 * The command `args` run: the first word that is not a flag (the word after `help` for
 * `tracegate help <command>`), `serve` when there is none, or null for the program's own
 * `--help` / `--version`.
 */
function commandNamed(args: readonly string[]): string | null {
  const at = args.findIndex((arg) => !arg.startsWith("-"));
  const flags = at === -1 ? args : args.slice(0, at);
  if (flags.some((arg) => HELP_FLAGS.has(arg) || VERSION_FLAGS.has(arg))) return null;
  if (at === -1) return "serve";
  return args[at] === "help" ? (args[at + 1] ?? null) : args[at]!;
}

const wanted = commandNamed(process.argv.slice(2));
if (wanted !== null && !COMMANDS.some((c) => c.name === wanted)) {
  // Not an argument for the default command (commander would say "too many arguments for 'serve'").
  process.stderr.write(`error: unknown command '${wanted}'; \`tracegate --help\` lists the commands [USAGE]\n`);
  process.exit(1);
}
const debug = () => process.argv.includes("--debug") || process.env.TRACEGATE_DEBUG === "1";

/** Codes for the errors that carry none, by class name (the classes are not imported: see above). */
const CODE_OF: Record<string, string> = {
  ConfigError: "CONFIG",
  ChainKeyMismatchError: "CHAIN_KEY_MISMATCH",
  MigrationError: "MIGRATION_FAILED",
  StoreUnavailableError: "STORE_UNAVAILABLE",
  ChainWriteTimeoutError: "CHAIN_LOCK_TIMEOUT",
  DuplicateActionIdError: "DUPLICATE_ACTION_ID",
  ImportError: "IMPORT_FAILED",
  ChainImportError: "CHAIN_INVALID",
  TimestampError: "BAD_USER_INPUT",
};

/** A database another process holds locked (SQLite's busy timeout ran out), in any of the words the drivers use. */
const LOCKED = /SQLITE_BUSY|database is locked|SocketTimeout/i;

/** The Prisma CLI's own chatter, which precedes the message that matters in a failed migration. */
const PRISMA_NOISE = /^(Loaded Prisma config[^\n]*|Prisma schema loaded[^\n]*|Datasource "[^\n]*|WARNING:[\s\S]*?(?=\nError:|$))\n?/gm;

/**
 * Report `e` and exit 1, as one line: `error: <message> [<CODE>]`. The code is the error's own
 * (tracegate's coded errors, SQLite's, Node's system errors) or its class's (CODE_OF); an
 * error of no known kind is INTERNAL (a bug: its stack is printed with --debug). The
 * reference-compatible `audit` command prints the reference's `error: <message>` exactly.
 */
function fail(e: unknown): never {
  const error = e as { message?: unknown; code?: unknown; name?: unknown; stack?: unknown } | null;
  // Prisma prefixes its errors with the call that failed, which says nothing to an operator.
  let message = String(error?.message ?? e)
    .replace(PRISMA_NOISE, "")
    // A stack folded into a message (Prisma's schema engine does that) says nothing to an operator.
    .replace(/\n\s+at [^\n]*/g, "")
    .replace(/\s*\n\s*/g, " ")
    .replace(/^Invalid `[^`]*` invocation:\s*/, "")
    .trim();
  let code = typeof error?.code === "string" && /^[A-Z][A-Z0-9_]+$/.test(error.code) ? error.code : (CODE_OF[String(error?.name)] ?? "INTERNAL");
  const cause = String((error as { cause?: { message?: unknown } } | null)?.cause?.message ?? "");
  if (LOCKED.test(message) || LOCKED.test(cause) || code === "SQLITE_BUSY" || (code === "P1008" && process.env.DATABASE_URL?.startsWith("postgres") !== true)) {
    code = "DATABASE_LOCKED";
    message = `the database is locked by another process (a running gateway or CLI command): try again, or stop it first (${message})`;
  } else if (code === "INTERNAL" && /^timeout expired$|Connection terminated due to connection timeout/.test(message)) {
    // node-postgres found no PostgreSQL server answering at DATABASE_URL in time.
    code = "DATABASE_UNREACHABLE";
    message = `no PostgreSQL server answered at DATABASE_URL in time (${message})`;
  } else if (code === "P1008") {
    code = "DATABASE_TIMEOUT";
    message = `the database did not answer in time (locked by another process, or overloaded): try again (${message})`;
  }
  let tail = wanted === "audit" || message.includes(`[${code}]`) ? "" : ` [${code}]`;
  if (code === "INTERNAL" && !debug()) tail += " (run again with --debug for the stack)";
  process.stderr.write(`error: ${message}${tail}\n`);
  if (debug() && typeof error?.stack === "string") process.stderr.write(`${error.stack}\n`);
  process.exit(1);
}

/** The package's version (package.json two levels up, from src/cli/ and dist/cli/ alike). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
}

const program = new Command()
  // Usage errors (an unknown flag, a missing value) get the error line's code too; the
  // reference-compatible audit command exits 2 on them, as argparse does.
  .configureOutput({ outputError: (text, write) => write(wanted === "audit" ? text : text.replace(/\n?$/, " [USAGE]\n")) })
  .name("tracegate")
  .description("GraphQL audit query gateway over a tamper-evident HMAC hash chain")
  .version(packageVersion(), "-V, --version", "print the version and exit")
  .option("--debug", "print the stack of an error as well as its message (also TRACEGATE_DEBUG=1)");

for (const entry of COMMANDS) {
  if (entry.name === wanted) (await entry.load())(program);
  // The others only for the command list of `tracegate --help`.
  else program.command(entry.name, { isDefault: entry.name === "serve" }).description(entry.summary);
}

await program.parseAsync(process.argv).catch(fail);

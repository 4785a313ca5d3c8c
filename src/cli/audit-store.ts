/**
 * `tracegate audit list|show|verify|export --store PATH`: the reference CLI's audit commands,
 * as is, on a weaver-kernel trace store file (docs/reference-compatibility.md#operator-cli),
 * read directly and read-only (src/import/reference-store.ts: no byte, mtime or side file of
 * the store changes; src/import/reference-view.ts: what the reference makes of the records).
 *
 * Same flags, outputs and exit codes as `weaver-kernel audit`: `--format sqlite|jsonl` is the
 * store's format (by default JSONL for a path ending in `.jsonl`, else SQLite); traces are
 * printed as the reference prints them, decoded and re-exported (`invoked_at` re-written by
 * `isoformat()`, the 16 keys in order); filters keep chain order and `--limit` applies after
 * them; `verify` is the reference's `verify_chain` and its messages; a missing store, a file
 * that is not SQLite, a corrupt record or an unknown id print `error: <message>` and exit 1,
 * even for `verify`; usage errors exit 2.
 *
 * Deliberate differences, each in the compatibility doc: a negative `--limit` and a time
 * CPython refuses are usage errors (the reference slices, or dies with a traceback); with no
 * secret `verify` fails instead of hashing with a random one; `--secret-file`; a warning for
 * `--secret`; control characters in the table become `?`; a stored naive `invoked_at` is UTC.
 *
 * `verify` and `export` show progress on stderr when they run past a second (src/cli/progress.ts;
 * `--quiet` silences it), as in the gateway mode.
 *
 * Memory stays constant: records are streamed. `list` and a stdout `export` read the store
 * twice - first to find any corrupt record (the reference decodes them all before printing
 * anything, so it prints nothing then), then to print - and `export --out` once, into a file
 * renamed into place only when complete.
 */
import { readFileSync } from "node:fs";
import { createRecordHasher } from "../chain/hash.js";
import { instantOf } from "../chain/isoformat.js";
import { pythonJsonDumps } from "../chain/json.js";
import type { TraceStatus } from "../chain/trace.js";
import { assertStoreExists, ImportError, openReferenceStore, type ReferenceStore, STORE_FORMATS, type StoreFormat } from "../import/reference-store.js";
import { findTrace, type ReexportedTrace, reexportedTraces, verifyStoreChain } from "../import/reference-view.js";
import {
  AuditUsageError,
  checkLimit,
  exportToFile,
  jsonArrayWriter,
  NO_TRACES,
  showText,
  TABLE_HEAD,
  tableRow,
  timeBound,
  verifyText,
  writeStdout,
  wroteText,
} from "./audit-render.js";
import { type JobProgress, jobProgress } from "./progress.js";

/** The environment variable the reference reads its chain secret from. */
export const SECRET_ENV = "WEAVER_KERNEL_SECRET";

/** The flags of `audit <command> --store PATH` (commander's camel-cased option values). */
export interface StoreCommandOptions {
  store: string;
  format?: string;
  secret?: string;
  secretFile?: string;
  json?: boolean;
  principal?: string;
  capability?: string;
  status?: TraceStatus;
  since?: string;
  until?: string;
  limit?: number;
  out?: string;
  /** No progress on stderr (verify, export). */
  quiet?: boolean;
}

export type StoreCommand = "list" | "show" | "verify" | "export";

/** The list/export filter, the reference's `_matches`. Times are exact UTC microseconds. */
interface StoreFilter {
  principal?: string;
  capability?: string;
  status?: TraceStatus;
  since: bigint | null;
  until: bigint | null;
  limit: number;
}

/** Output is written in chunks of about this many characters. */
const FLUSH_CHARS = 64 * 1024;

/**
 * Run one audit command on the store file `options.store`. Usage errors throw
 * AuditUsageError (exit 2); store problems ImportError (`error:`, exit 1); a verify that
 * fails sets exit status 1.
 */
export async function runStoreCommand(command: StoreCommand, options: StoreCommandOptions, actionId?: string): Promise<void> {
  const format = storeFormat(options);
  const filter = command === "list" || command === "export" ? storeFilter(options) : null;
  if (options.secret !== undefined && options.secretFile !== undefined) {
    throw new AuditUsageError("--secret and --secret-file both name the chain secret; pass one of them.");
  }
  if (options.secret) {
    process.stderr.write(
      "tracegate: warning: --secret shows the chain secret to every user of this machine (process list); " +
        `prefer ${SECRET_ENV} or --secret-file.\n`,
    );
  }
  assertStoreExists(options.store, "Check the --store path (the audit commands read an existing store; they do not create one)");
  const secret = command === "verify" ? chainSecret(options) : null;
  const store = openReferenceStore(options.store, format);
  try {
    const quiet = options.quiet === true;
    if (command === "verify") await verify(store, secret!, options.json === true, quiet);
    else if (command === "show") process.stdout.write(showText((await findTrace(store, actionId!)).exported));
    else if (command === "list") await list(store, filter!, options.json === true);
    else await withProgress(jobProgress("export", { quiet, unit: "traces" }), (progress) =>
      options.out === undefined ? exportToStdout(store, filter!, progress) : exportFile(store, filter!, options.out, progress),
    );
  } finally {
    store.close();
  }
}

/** `--format`, or the reference's default: JSONL when the path ends in `.jsonl`. */
function storeFormat(options: StoreCommandOptions): StoreFormat {
  if (options.format === undefined) return options.store.endsWith(".jsonl") ? "jsonl" : "sqlite";
  if ((STORE_FORMATS as readonly string[]).includes(options.format)) return options.format as StoreFormat;
  throw new AuditUsageError(
    `with --store, --format is the store's format: sqlite or jsonl, not '${options.format}' ` +
      "(the output is the reference's: a table, JSON or JSONL; envelope, chained, ocsf, ocsf-reference, csv and parquet exports are made from a gateway database).",
  );
}

/** The filter flags; an empty --since/--until is no bound, as in the reference (`if args.since`). */
function storeFilter(options: StoreCommandOptions): StoreFilter {
  checkLimit(options.limit);
  return {
    ...(options.principal !== undefined ? { principal: options.principal } : {}),
    ...(options.capability !== undefined ? { capability: options.capability } : {}),
    ...(options.status !== undefined ? { status: options.status } : {}),
    since: options.since ? timeBound("--since", options.since) : null,
    until: options.until ? timeBound("--until", options.until) : null,
    limit: options.limit ?? Number.POSITIVE_INFINITY,
  };
}

/** The reference CLI's `_matches`; a naive stored time counts as UTC. */
function matches({ exported: t, invokedAt }: ReexportedTrace, f: StoreFilter): boolean {
  if (f.principal !== undefined && t.principal_id !== f.principal) return false;
  if (f.capability !== undefined && t.capability_id !== f.capability) return false;
  if (f.status !== undefined && (t.error === null ? "succeeded" : "failed") !== f.status) return false;
  if (f.since === null && f.until === null) return true;
  const at = instantOf(invokedAt);
  return !(f.since !== null && at < f.since) && !(f.until !== null && at >= f.until);
}

/**
 * The chain secret for verify: `--secret` (when not empty), `--secret-file`'s first line,
 * else WEAVER_KERNEL_SECRET (when not empty). None at all is an error: the reference would
 * hash with a random development secret and report every record as tampered.
 */
function chainSecret(options: StoreCommandOptions): string {
  if (options.secret) return options.secret;
  if (options.secretFile !== undefined) return secretFromFile(options.secretFile);
  const env = process.env[SECRET_ENV];
  if (env) return env;
  throw new ImportError(
    `no chain secret: set ${SECRET_ENV}, or pass --secret-file PATH (or --secret S) with the secret the store was written with.`,
  );
}

/** The first line of a secret file, trimmed. */
function secretFromFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ImportError(`cannot read --secret-file '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
  const secret = (text.split(/\r?\n/, 1)[0] ?? "").trim();
  if (secret === "") throw new ImportError(`--secret-file '${path}' holds no secret on its first line.`);
  return secret;
}

/** Run `job` with a progress display: finished (a summary when it was drawn) or aborted on failure. */
async function withProgress<T>(progress: JobProgress, job: (progress: JobProgress) => Promise<T>): Promise<T> {
  try {
    const result = await job(progress);
    progress.finish();
    return result;
  } catch (e) {
    progress.abort();
    throw e;
  }
}

async function verify(store: ReferenceStore, secret: string, json: boolean, quiet: boolean): Promise<void> {
  const hash = createRecordHasher(secret);
  const result = await withProgress(jobProgress("verify", { quiet }), (progress) => verifyStoreChain(store, hash, (n) => progress.update(n)));
  process.stdout.write(verifyText({ ok: result.ok, checked: result.checked, firstBadSeq: result.firstBadSeq, detail: result.detail }, json));
  if (!result.ok) process.exitCode = 1;
}

/** Read every trace once, so that a corrupt record fails the command before anything is printed. */
async function checkReadable(store: ReferenceStore): Promise<void> {
  for await (const _ of reexportedTraces(store));
}

/** Each matching trace, in chain order, up to the limit (the store already checked whole). */
async function* selected(store: ReferenceStore, filter: StoreFilter): AsyncGenerator<ReexportedTrace> {
  if (filter.limit === 0) return;
  let count = 0;
  for await (const trace of reexportedTraces(store)) {
    if (!matches(trace, filter)) continue;
    yield trace;
    if (++count >= filter.limit) return;
  }
}

/** Print `render` of each selected trace, in chunks; returns how many were printed. */
async function printSelected(
  store: ReferenceStore,
  filter: StoreFilter,
  render: (trace: ReexportedTrace, index: number) => string,
  progress?: JobProgress,
): Promise<number> {
  await checkReadable(store);
  let count = 0;
  let text = "";
  for await (const trace of selected(store, filter)) {
    text += render(trace, count++);
    if (text.length >= FLUSH_CHARS) {
      await writeStdout(text);
      text = "";
      progress?.update(count);
    }
  }
  if (text !== "") await writeStdout(text);
  return count;
}

async function list(store: ReferenceStore, filter: StoreFilter, json: boolean): Promise<void> {
  if (json) {
    const array = jsonArrayWriter();
    await printSelected(store, filter, (t) => array.item(t.exported));
    await writeStdout(array.end());
    return;
  }
  const n = await printSelected(store, filter, (t, i) => (i === 0 ? TABLE_HEAD : "") + tableRow(t.exported) + "\n");
  if (n === 0) await writeStdout(NO_TRACES);
}

async function exportToStdout(store: ReferenceStore, filter: StoreFilter, progress: JobProgress): Promise<void> {
  const n = await printSelected(store, filter, (t) => pythonJsonDumps(t.exported) + "\n", progress);
  progress.update(n);
  // The reference prints the joined lines: an empty export is one empty line.
  if (n === 0) await writeStdout("\n");
}

/** One pass into a temporary file; a corrupt record anywhere discards it (nothing written). */
async function exportFile(store: ReferenceStore, filter: StoreFilter, out: string, progress: JobProgress): Promise<void> {
  const n = await exportToFile(out, async (write) => {
    let count = 0;
    let text = "";
    for await (const trace of reexportedTraces(store)) {
      if (count >= filter.limit || !matches(trace, filter)) continue;
      text += pythonJsonDumps(trace.exported) + "\n";
      count++;
      if (text.length >= FLUSH_CHARS) {
        await write(text);
        text = "";
        progress.update(count);
      }
    }
    if (text !== "") await write(text);
    progress.update(count);
    return count;
  });
  process.stdout.write(wroteText(n, out));
}

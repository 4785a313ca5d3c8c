/**
 * `tracegate ship <path>`: follow a weaver-kernel JSONL trace store and ship every verified
 * record to a gateway's recordTraceRecords (src/ship/ship.ts and the modules beside it have
 * the how and why).
 *
 * Exit status: 0 when everything there was shipped (without --follow / with --once) or after
 * SIGINT/SIGTERM (the request in flight is finished and its acknowledgement saved first);
 * 1 with `error: <message>` when shipping stopped: a record failed verification (TAMPERED at
 * seq n; the verified records before it were shipped), the file was truncated or rotated,
 * or the gateway refused a batch or a record (its code named; the records before a refused
 * record were shipped).
 * Network errors, 5xx and 429 are retried with backoff and never move the saved position.
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import { createRecordHasher } from "../chain/hash.js";
import { ShipError } from "../ship/errors.js";
import { ship, type ShipSummary } from "../ship/ship.js";
import { defaultStatePath } from "../ship/state.js";
import { stopSignal } from "./interrupt.js";
import { intOption } from "./options.js";

export interface ShipCliOptions {
  follow?: boolean;
  once?: boolean;
  url?: string;
  key?: string;
  secret?: string;
  state?: string;
  batch: number;
  pollMs: number;
  /** Attempts per batch before a one-shot run gives up (not used with --follow). */
  retries: number;
}

/** Largest batch the gateway takes in one recordTraceRecords call (MAX_BATCH). */
const MAX_BATCH = 5_000;

function usage(message: string): ShipError {
  return new ShipError("USAGE", message);
}

/** Run the command; resolves with the summary, rejects with ShipError. */
export async function runShip(path: string, options: ShipCliOptions, env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<ShipSummary> {
  const file = resolve(path);
  if (!options.url) throw usage("--url is required (the gateway's GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql).");
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw usage(`--url '${options.url}' is not a URL.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw usage(`--url must be http:// or https://, got '${options.url}'.`);
  const apiKey = options.key || env.TRACEGATE_API_KEY;
  if (!apiKey) throw usage("no API key: pass --key, or set TRACEGATE_API_KEY (a key with the traces:write scope).");
  const secret = options.secret || env.WEAVER_KERNEL_SECRET;
  if (!secret) throw usage("no secret to verify the store with: pass --secret, or set WEAVER_KERNEL_SECRET (the kernel's chain secret).");
  return ship({
    path: file,
    statePath: resolve(options.state ?? defaultStatePath(file)),
    url: url.href,
    apiKey,
    hash: createRecordHasher(secret),
    follow: options.follow === true && options.once !== true,
    // A one-shot run (cron, CI) must end: it gives up on a gateway that stays away. A follower
    // waits out an outage.
    ...(options.follow === true && options.once !== true ? {} : { maxAttempts: options.retries }),
    batch: options.batch,
    pollMs: options.pollMs,
    ...(signal ? { signal } : {}),
    log: (line) => process.stdout.write(`${line}\n`),
    warn: (line) => process.stderr.write(`tracegate ship: ${line}\n`),
  });
}

function report(path: string, summary: ShipSummary, statePath: string): string {
  const s = summary.state;
  const head = s.lastSeq === null ? "nothing shipped yet" : `shipped up to seq ${s.lastSeq}`;
  const lines = [
    `${summary.ended === "stopped" ? "Stopped" : "Done"}: ${summary.shipped} record(s) shipped from ${path} in this run; ${head}; state file ${statePath}.`,
  ];
  if (summary.partialBytes > 0) lines.push(`An incomplete last line (${summary.partialBytes} byte(s), no newline yet) was left for the next run.`);
  return `${lines.join("\n")}\n`;
}

/** Add `ship <path>` to the program. */
export function registerShipCommand(program: Command): void {
  program
    .command("ship")
    .description(
      "verify a weaver-kernel JSONL trace store record by record and ship it byte-exactly to a gateway's recordTraceRecords, " +
        "resuming from a saved position; --follow keeps shipping what the kernel appends",
    )
    .argument("<path>", "the reference's JSONL trace file")
    .option("--follow", "keep polling the file for new records (stop with SIGINT/SIGTERM)")
    .option("--once", "ship what is there and exit (overrides --follow)")
    .option("--retries <n>", "without --follow: attempts per batch before giving up with exit 1 (default 8, about a minute)", intOption(1, 1_000), 8)
    .option("--url <url>", "the gateway's GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql")
    .option("--key <key>", "API key with traces:write (default: TRACEGATE_API_KEY; prefer the env var)")
    .option("--secret <secret>", "the store's chain secret (default: WEAVER_KERNEL_SECRET; prefer the env var)")
    .option("--state <file>", "where the position is saved (default: <path>.tracegate-ship.json)")
    .option("--batch <n>", `records per recordTraceRecords call, 1 to ${MAX_BATCH}`, intOption(1, MAX_BATCH), 500)
    .option("--poll-ms <ms>", "how often --follow checks the file size", intOption(10, 3_600_000), 500)
    .action(async (path: string, options: ShipCliOptions) => {
      const stop = stopSignal();
      let summary: ShipSummary;
      try {
        summary = await runShip(path, options, process.env, stop);
      } catch (e) {
        if (!(e instanceof ShipError)) throw e;
        process.stderr.write(`error: ${e.message} [${e.code}]\n`);
        process.exit(1);
      }
      const file = resolve(path);
      process.stdout.write(report(file, summary, resolve(options.state ?? defaultStatePath(file))));
      process.exit(0);
    });
}

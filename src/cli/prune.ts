/**
 * `tracegate prune --before TIME | --before-seq N`: retention by hand, the operation the
 * scheduled sweep (TRACEGATE_RETENTION) and the pruneTraces mutation run (src/app/retention.ts):
 * delete a seq prefix of the chain, leave an authenticated (and, with a signing key, signed)
 * prune checkpoint, and record the prune as an admin trace (actor `cli`) in the same
 * transaction. Needs the chain secret the gateway uses (TRACEGATE_HMAC_SECRET, or the data
 * directory's development secret); a secret that is not the chain's is refused before
 * anything is written (CHAIN_KEY_MISMATCH).
 *
 * Output: `Pruned N record(s); the chain now starts at seq S.` (or `Nothing to prune ...`), or
 * with `--json` `{"pruned", "checkpointSeq", "auditSeq"}`; progress on stderr when it runs
 * longer than a second (`--quiet` silences it).
 */
import { type Command, InvalidArgumentError } from "commander";
import { prune } from "../app/retention.js";
import { resolveSigningKey } from "../app/signing-key.js";
import { createCheckpointMac } from "../chain/checkpoint.js";
import { createRecordHasher } from "../chain/hash.js";
import type { EpochMicros } from "../chain/time.js";
import { loadConfig } from "../config.js";
import { badUserInput } from "../errors.js";
import { parseExportTime } from "../export/formats.js";
import { jobProgress, tracked } from "./progress.js";
import { assertDatabaseExists, existingChainSecret, withStores } from "./stores.js";

interface PruneOptions {
  /** --before, parsed (epoch microseconds). */
  before?: EpochMicros;
  beforeSeq?: number;
  json?: boolean;
  quiet?: boolean;
}

/** --before as Python's datetime.fromisoformat reads it; a usage error (one line, exit 1) otherwise. */
function parseBefore(value: string): EpochMicros {
  try {
    return parseExportTime(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function parseSeq(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError("not a seq (an integer, 0 or more).");
  return Number(value);
}

async function runPrune(options: PruneOptions): Promise<void> {
  if ((options.before === undefined) === (options.beforeSeq === undefined)) {
    throw badUserInput("give exactly one of --before TIME and --before-seq N.", "before");
  }
  const cut = options.beforeSeq !== undefined ? { beforeSeq: options.beforeSeq } : { beforeUs: options.before! };
  const config = loadConfig();
  assertDatabaseExists(config);
  const secret = existingChainSecret(config);
  const signer = resolveSigningKey(config, () => undefined);
  const progress = jobProgress("prune", { quiet: options.quiet === true });
  const result = await tracked(progress, withStores(config, createRecordHasher(secret), async ({ traces }) => {
      await traces.claimChainKey();
      return prune(traces, { mac: createCheckpointMac(secret), signer }, { keyId: "cli" }, cut);
    }));
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ pruned: result.pruned, checkpointSeq: result.checkpoint?.seq ?? null, auditSeq: result.auditTrace.seq })}\n`);
  } else if (result.pruned === 0) {
    process.stdout.write(`Nothing to prune: no record before the cut. The prune was recorded at seq ${result.auditTrace.seq}.\n`);
  } else {
    process.stdout.write(
      `Pruned ${result.pruned} record(s); the chain now starts at seq ${result.checkpoint!.seq + 1} (authenticated checkpoint at seq ` +
        `${result.checkpoint!.seq}${result.checkpoint!.signature ? ", signed" : ""}). The prune was recorded at seq ${result.auditTrace.seq}.\n`,
    );
  }
}

/** Add `prune` to the program. */
export function registerPruneCommand(program: Command): void {
  program
    .command("prune")
    .description("delete the oldest records (a seq prefix), leaving an authenticated checkpoint and an audit record of the prune")
    .option("--before <time>", "prune records older than this ISO 8601 instant or date (naive = UTC), up to the first record that is not", parseBefore)
    .option("--before-seq <n>", "prune every record with a lower seq", parseSeq)
    .option("--json", 'print {"pruned", "checkpointSeq", "auditSeq"}')
    .option("--quiet", "no progress on stderr")
    .action((options: PruneOptions) => runPrune(options));
}

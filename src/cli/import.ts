/**
 * `tracegate import <path>`: bring a weaver-kernel trace store (JSONL or SQLite:
 * docs/reference-compatibility.md#jsonl-store and #sqlite-store) into tracegate's chain.
 *
 * 1. The whole store is verified with its secret before anything is written (a second pass
 *    re-verifies while importing, so a file changed in between cannot slip through).
 * 2. Into an EMPTY tracegate chain whose secret is the store's, the records keep their seq,
 *    prev_hash, record_hash and payload bytes: the imported chain still verifies under the
 *    original secret. A pruned SQLite store becomes a pruned tracegate chain, its checkpoint
 *    now authenticated (MAC under the secret).
 * 3. Otherwise the traces are re-chained (new seq and hashes after tracegate's head); the
 *    mapping from original to new seq/hash is reported, the payload is not changed.
 *
 * Everything is written in one chain write (src/import/chain-import.ts through the store's
 * chain writer, src/stores/chain-writer.ts): one database transaction, all or nothing, holding
 * the chain lock for the whole import (other writers wait, and give up after 30 s) and is
 * bounded by the store's transaction timeout (120 s): a few hundred thousand records per
 * import (measured on SQLite, 2 busy cores: 250,000 records verified and written in 46 s).
 * Reading is streamed; memory grows only with the set of action ids (duplicate check).
 * The original record hashes of re-chained records are reported (first/last), not stored.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type Command, Option } from "commander";
import { createRecordHasher, type RecordHasher } from "../chain/hash.js";
import { type Config, devSecretPath, loadConfig, resolveHmacSecret, sqliteFilePath } from "../config.js";
import {
  ChainImportError,
  detectFormat,
  assertStoreExists,
  ImportError,
  openReferenceStore,
  type ReferenceStore,
  STORE_FORMATS,
  type StoreFormat,
  type StoreSummary,
  verifiedRecords,
  verifyReferenceStore,
} from "../import/reference-store.js";
import { type ImportContext, type ImportMode, type ImportOutcome, rechainReason, writeImport } from "../import/chain-import.js";
import { ChainWriteTimeoutError } from "../stores/chain-writer.js";
import { jobProgress, tracked } from "./progress.js";
import { openStores, type Stores } from "../stores/index.js";
import { ensureMigrated } from "../stores/prisma/migrate.js";

export interface ImportOptions {
  format?: StoreFormat;
  secret?: string;
  dryRun?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** Original seq/hash of a record and the seq it has in tracegate's chain. */
export interface SeqMapping {
  originalSeq: number;
  originalHash: string;
  seq: number;
}

/** What `--json` prints. */
export interface ImportSummary {
  format: StoreFormat;
  path: string;
  records: number;
  firstSeq: number | null;
  lastSeq: number | null;
  verified: true;
  mode: ImportMode | null;
  /** Why the records were (or would be) re-chained; null when kept. */
  reason: string | null;
  imported: number;
  dryRun: boolean;
  /** The source's prune checkpoint (a pruned SQLite store), else null. */
  prunedBefore: { seq: number; prevHash: string } | null;
  /** Where the first and last records went (identity when kept). */
  mapping: { first: SeqMapping; last: SeqMapping } | null;
}

// ---------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------

/** The secret the store was written with: --secret, WEAVER_KERNEL_SECRET, TRACEGATE_HMAC_SECRET. */
function importSecret(options: ImportOptions, env: NodeJS.ProcessEnv): string {
  const secret = options.secret || env.WEAVER_KERNEL_SECRET || env.TRACEGATE_HMAC_SECRET;
  if (!secret) {
    throw new ImportError(
      "no secret to verify the store with: pass --secret, or set WEAVER_KERNEL_SECRET (the reference's) or TRACEGATE_HMAC_SECRET.",
    );
  }
  return secret;
}

/**
 * tracegate's own chain secret. A dry run never creates the development secret: without one
 * it reports that the records would be re-chained (under the secret a real run generates).
 */
function tracegateSecret(config: Config, dryRun: boolean): string | null {
  if (config.hmacSecret) return config.hmacSecret;
  if (dryRun) {
    if (config.env === "production") return null;
    const path = devSecretPath(config);
    return existsSync(path) ? readFileSync(path, "utf8").trim() || null : null;
  }
  return resolveHmacSecret(config, (path, created) => {
    process.stderr.write(
      `tracegate: WARNING: TRACEGATE_HMAC_SECRET is not set: ${created ? "generated a development secret in" : "using the development secret kept in"} ${path}.\n`,
    );
  });
}

// ---------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------

function mappingOf(summary: StoreSummary, firstNewSeq: number): ImportSummary["mapping"] {
  if (summary.records === 0) return null;
  return {
    first: { originalSeq: summary.firstSeq!, originalHash: summary.firstHash!, seq: firstNewSeq },
    last: { originalSeq: summary.lastSeq!, originalHash: summary.lastHash!, seq: firstNewSeq + summary.records - 1 },
  };
}

// ---------------------------------------------------------------------------
// Dry run
// ---------------------------------------------------------------------------

/** In a dry run: the first of these action ids already in tracegate's chain, if any. */
async function firstStoredId(stores: Stores, source: ReferenceStore, hash: RecordHasher): Promise<string | null> {
  let pending: string[] = [];
  const check = async (): Promise<string | null> => {
    const found = await Promise.all(pending.map((id) => stores.traces.findByActionId(id)));
    const i = found.findIndex((row) => row !== null);
    pending = [];
    return i >= 0 ? found[i]!.actionId : null;
  };
  for await (const r of verifiedRecords(source, hash)) {
    pending.push(r.columns.actionId);
    if (pending.length >= 100) {
      const hit = await check();
      if (hit !== null) return hit;
    }
  }
  return check();
}

// ---------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------

function report(s: ImportSummary, options: ImportOptions): void {
  if (options.json) {
    process.stdout.write(`${JSON.stringify(s)}\n`);
    return;
  }
  const lines: string[] = [];
  const range = s.records === 0 ? "no records" : `seq ${s.firstSeq}..${s.lastSeq}`;
  lines.push(`Verified ${s.records} record(s) of ${s.path} (${s.format}, ${range}).`);
  if (s.prunedBefore) {
    lines.push(`The store was pruned before seq ${s.prunedBefore.seq} (checkpoint hash ${s.prunedBefore.prevHash}).`);
  }
  if (s.records === 0) {
    lines.push("Nothing to import.");
  } else if (s.mode === "kept") {
    lines.push(
      `${s.dryRun ? "Dry run: would import" : "Imported"} ${s.records} record(s) keeping their original seq, prev_hash and record_hash ` +
        `(seq ${s.firstSeq}..${s.lastSeq}); the chain verifies under the original secret.`,
    );
    if (s.prunedBefore) {
      lines.push(`${s.dryRun ? "Would record" : "Recorded"} an authenticated prune checkpoint at seq ${s.prunedBefore.seq - 1}.`);
    }
  } else {
    const m = s.mapping!;
    lines.push(
      `${s.dryRun ? "Dry run: would re-chain" : "Re-chained"} ${s.records} record(s) under tracegate's chain: ${s.reason}.`,
      `Provenance: original seq ${m.first.originalSeq} (record_hash ${m.first.originalHash}) -> seq ${m.first.seq}; ` +
        `original seq ${m.last.originalSeq} (record_hash ${m.last.originalHash}) -> seq ${m.last.seq}` +
        `${s.dryRun ? " (seqs as of now)" : ""}.`,
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** Verify `path` and import it (or, with dryRun, report what an import would do). */
export async function runImport(path: string, options: ImportOptions, env: NodeJS.ProcessEnv = process.env): Promise<ImportSummary> {
  const file = resolve(path);
  assertStoreExists(file);
  const format = options.format ?? detectFormat(file);
  const secret = importSecret(options, env);
  const config = loadConfig(env);
  const importHash = createRecordHasher(secret);

  const source = openReferenceStore(file, format);
  try {
    // Pass 1: verify everything before tracegate's database is even opened.
    const verifying = jobProgress("import: verifying", { quiet: options.quiet === true });
    const summary = await tracked(verifying, verifyReferenceStore(source, importHash, (n) => verifying.update(n)));
    const base = {
      format,
      path: file,
      records: summary.records,
      firstSeq: summary.firstSeq,
      lastSeq: summary.lastSeq,
      verified: true as const,
      dryRun: options.dryRun === true,
      prunedBefore: source.origin.pruned ? { seq: source.origin.firstSeq, prevHash: source.origin.prevHash } : null,
    };
    if (summary.records === 0) return { ...base, mode: null, reason: null, imported: 0, mapping: null };

    const ownSecret = tracegateSecret(config, options.dryRun === true);
    const sameSecret = ownSecret === secret;

    if (options.dryRun && config.databaseProvider === "sqlite" && !existsSync(sqliteFilePath(config.databaseUrl))) {
      // No database yet: it would be created empty.
      const reason = sameSecret ? null : rechainReason({ nextSeq: 0, headHash: "", chainId: "", keyId: null }, null, false);
      return { ...base, mode: reason ? "rechained" : "kept", reason, imported: 0, mapping: mappingOf(summary, reason ? 0 : summary.firstSeq!) };
    }

    await ensureMigrated(config.databaseUrl);
    const tracegateHash = ownSecret ? createRecordHasher(ownSecret) : importHash;
    const stores = await openStores(config, tracegateHash);
    try {
      const traces = stores.traces;
      if (options.dryRun) {
        const head = await traces.head();
        const reason = rechainReason(head, await traces.pruneCheckpoint(), sameSecret);
        if (reason !== null && head.nextSeq > 0) {
          const clash = await firstStoredId(stores, source, importHash);
          if (clash !== null) throw new ImportError(`action_id '${clash}' is already in tracegate's chain; the import would be refused.`);
        }
        const firstNewSeq = reason === null ? summary.firstSeq! : head.nextSeq;
        return { ...base, mode: reason === null ? "kept" : "rechained", reason, imported: 0, mapping: mappingOf(summary, firstNewSeq) };
      }
      // Pass 2, in one transaction under the chain lock: re-verify and write.
      const writing = jobProgress("import: writing", { quiet: options.quiet === true, total: summary.records });
      const ctx: ImportContext = { source, summary, importHash, sameSecret, secret };
      let outcome: ImportOutcome;
      try {
        outcome = await tracked(writing, traces.chain.write((chain) => writeImport(chain, ctx, (n) => writing.update(n))));
      } catch (e) {
        if (e instanceof ChainWriteTimeoutError) {
          throw new ImportError(
            `the import did not finish within the database transaction limit (${e.limitMs / 1000} s) and was rolled back; nothing was imported. ` +
              "Import while the gateway is idle, or split the store (the later part is then re-chained).",
          );
        }
        throw e;
      }
      return {
        ...base,
        mode: outcome.mode,
        reason: outcome.reason,
        imported: outcome.imported,
        mapping: mappingOf(summary, outcome.firstNewSeq),
      };
    } finally {
      await stores.close();
    }
  } finally {
    source.close();
  }
}

/** Add `import <path>` to the program. */
export function registerImportCommand(program: Command): void {
  program
    .command("import")
    .description(
      "verify a weaver-kernel trace store (JSONL or SQLite) with its secret and import it into tracegate's chain " +
        "(original hashes kept when tracegate's chain is empty and uses the same secret, re-chained otherwise)",
    )
    .argument("<path>", "the reference's JSONL file or SQLite database")
    .addOption(new Option("--format <format>", "store format (default: SQLite by file header, else JSONL)").choices(STORE_FORMATS))
    .option("--secret <secret>", "the store's chain secret (default: WEAVER_KERNEL_SECRET, then TRACEGATE_HMAC_SECRET; prefer the env var)")
    .option("--dry-run", "verify and report what an import would do, without writing")
    .option("--json", "print the summary as one JSON object")
    .option("--quiet", "no progress on stderr")
    .action(async (path: string, options: ImportOptions) => {
      let summary: ImportSummary;
      try {
        summary = await runImport(path, options);
      } catch (e) {
        if (!(e instanceof ImportError)) throw e;
        // main.ts prints it: one line, with the code, exit 1.
        if (e instanceof ChainImportError) throw Object.assign(new Error(`${e.message} Nothing was imported.`), { code: "CHAIN_INVALID" });
        throw Object.assign(e, { code: "IMPORT_FAILED" });
      }
      report(summary, options);
    });
}

/**
 * Scratch databases for the benchmarks, all under bench/.cache/.
 *
 * - a migrated template (the real `prisma migrate deploy`), copied for every fresh database;
 * - the big chain for the query and verify benchmarks, built once through the store's own
 *   append (so it is a genuine HMAC chain) and cached under a key derived from the SQLite
 *   migrations, the generator version, the size and the secret.
 */
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { createRecordHasher } from "../src/chain/hash.js";
import { encodeTrace } from "../src/chain/trace.js";
import { migrateDatabase } from "../src/stores/prisma/migrate.js";
import { openStores, type Stores } from "../src/stores/index.js";
import { DATASET_VERSION, TraceGenerator } from "./data.js";

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(BENCH_DIR, "..");
export const CACHE_DIR = join(BENCH_DIR, ".cache");
const MIGRATIONS_DIR = join(ROOT, "prisma", "sqlite", "migrations");

/** The HMAC secret of every benchmark chain. */
export const BENCH_SECRET = "tracegate-bench-secret-0123456789abcdef";
export const hash = createRecordHasher(BENCH_SECRET);

/** Seed of the big cached chain. */
const CHAIN_SEED = 0x7ace;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]))
    .sort();
}

/** sha256 over prisma/sqlite/migrations/** (relative path and content of every file). */
export function migrationsHash(): string {
  const h = createHash("sha256");
  for (const file of filesUnder(MIGRATIONS_DIR)) {
    h.update(relative(MIGRATIONS_DIR, file)).update("\0").update(readFileSync(file)).update("\0");
  }
  return h.digest("hex");
}

/** Remove a SQLite file and its sidecars. */
export function removeDb(file: string): void {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(file + suffix, { force: true });
}

/** Migrate a template database once per benchmark process. */
export async function createTemplate(): Promise<string> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const file = join(CACHE_DIR, "template.db");
  removeDb(file);
  await migrateDatabase(`file:${file}`);
  return file;
}

/** A fresh migrated database (a copy of the template) at bench/.cache/<name>.db. */
export function freshDb(template: string, name: string): string {
  const file = join(CACHE_DIR, `${name}.db`);
  removeDb(file);
  copyFileSync(template, file);
  return file;
}

export function open(file: string): Promise<Stores> {
  return openStores({ databaseUrl: `file:${file}`, databaseProvider: "sqlite" }, hash);
}

/** Run `fn` on a direct better-sqlite3 connection to `file`. */
function withDb<T>(file: string, fn: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export interface ChainDb {
  file: string;
  records: number;
  /** True when the cached file was reused. */
  cached: boolean;
  /** Build time (ms) when built in this run. */
  buildMs?: number;
  sizeBytes: number;
}

/**
 * The cached chain of `records` traces; built (with progress on stdout) when missing.
 * Built into a temporary name and renamed when complete, so an interrupted build is never reused.
 */
export async function chainDb(records: number, log: (line: string) => void): Promise<ChainDb> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const key = createHash("sha256")
    .update(`${migrationsHash()}|v${DATASET_VERSION}|${records}|${CHAIN_SEED}|${BENCH_SECRET}`)
    .digest("hex")
    .slice(0, 16);
  const file = join(CACHE_DIR, `chain-${records}-${key}.db`);
  if (existsSync(file)) {
    log(`using cached ${records.toLocaleString("en-US")}-trace chain ${relative(ROOT, file)}`);
    return { file, records, cached: true, sizeBytes: statSync(file).size };
  }
  // Drop stale chains of the same size (older migrations or generator) and partial builds.
  for (const name of readdirSync(CACHE_DIR)) {
    if (name.startsWith(`chain-${records}-`)) rmSync(join(CACHE_DIR, name), { force: true });
  }
  const building = `${file}.building`;
  removeDb(building);
  await migrateDatabase(`file:${building}`);
  const stores = await open(building);
  const gen = new TraceGenerator(CHAIN_SEED);
  const batch = 2_000;
  const step = Math.max(batch, Math.floor(records / 20 / batch) * batch);
  log(`building ${records.toLocaleString("en-US")}-trace chain (cached afterwards) in ${relative(ROOT, file)}`);
  const t0 = performance.now();
  let lastT = t0;
  let lastN = 0;
  for (let n = 0; n < records; n += batch) {
    const size = Math.min(batch, records - n);
    await stores.traces.append(gen.take(size).map(encodeTrace));
    const done = n + size;
    if (done % step === 0 || done === records) {
      const now = performance.now();
      const rate = ((done - lastN) / (now - lastT)) * 1000;
      const avg = (done / (now - t0)) * 1000;
      const eta = (records - done) / avg;
      log(
        `  ${String(Math.round((done / records) * 100)).padStart(3)}%  ${done.toLocaleString("en-US").padStart(9)} traces` +
          `  ${Math.round(rate).toLocaleString("en-US").padStart(6)}/s now, ${Math.round(avg).toLocaleString("en-US")}/s avg, ETA ${eta.toFixed(0)} s`,
      );
      lastT = now;
      lastN = done;
    }
  }
  const buildMs = performance.now() - t0;
  const head = await stores.traces.head();
  await stores.close();
  if (head.nextSeq !== records) throw new Error(`chain build ended at nextSeq ${head.nextSeq}, expected ${records}`);
  withDb(building, (db) => db.pragma("wal_checkpoint(TRUNCATE)"));
  renameSync(building, file);
  for (const suffix of ["-wal", "-shm"]) rmSync(building + suffix, { force: true });
  log(`  built in ${(buildMs / 1000).toFixed(1)} s (${Math.round((records / buildMs) * 1000).toLocaleString("en-US")} traces/s)`);
  return { file, records, cached: false, buildMs, sizeBytes: statSync(file).size };
}

/** `EXPLAIN QUERY PLAN` of a statement on a database file (read-only connection). */
export function queryPlan(file: string, sqlText: string, params: unknown[]): string[] {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare(`EXPLAIN QUERY PLAN ${sqlText}`).all(...params) as { detail: string }[];
    return rows.map((r) => r.detail);
  } finally {
    db.close();
  }
}

/** SQLite library version as linked into better-sqlite3. */
export function sqliteVersion(): string {
  const db = new Database(":memory:");
  try {
    return (db.prepare("select sqlite_version() as v").get() as { v: string }).v;
  } finally {
    db.close();
  }
}

/** The [min, max] invokedAtUs of a chain database. */
export function timeSpan(file: string): { startUs: number; endUs: number } {
  const db = new Database(file, { readonly: true });
  try {
    db.defaultSafeIntegers(false);
    const row = db.prepare(`SELECT MIN("invokedAtUs") AS s, MAX("invokedAtUs") AS e FROM "Trace"`).get() as { s: number; e: number };
    return { startUs: row.s, endUs: row.e };
  } finally {
    db.close();
  }
}

/** The principal with the most traces, and the (invokedAtUs, seq) keyset at each offset of its newest-first order. */
export function hottestPrincipal(
  file: string,
  offsets: readonly number[],
): { principalId: string; count: number; keysets: Map<number, { seq: number; invokedAtUs: number }> } {
  const db = new Database(file, { readonly: true });
  try {
    const top = db
      .prepare(`SELECT "principalId" AS p, COUNT(*) AS n FROM "Trace" GROUP BY "principalId" ORDER BY n DESC LIMIT 1`)
      .get() as { p: string; n: number };
    const at = db.prepare(
      `SELECT "seq" AS seq, "invokedAtUs" AS invokedAtUs FROM "Trace" WHERE "principalId" = ? ORDER BY "invokedAtUs" DESC, "seq" DESC LIMIT 1 OFFSET ?`,
    );
    const keysets = new Map<number, { seq: number; invokedAtUs: number }>();
    for (const offset of offsets) {
      const row = at.get(top.p, offset) as { seq: number; invokedAtUs: number } | undefined;
      if (row) keysets.set(offset, { seq: Number(row.seq), invokedAtUs: Number(row.invokedAtUs) });
    }
    return { principalId: top.p, count: top.n, keysets };
  } finally {
    db.close();
  }
}

/**
 * Applying the committed migrations with Prisma's own CLI (`prisma migrate deploy`), so the
 * `_prisma_migrations` bookkeeping is exactly Prisma's and `prisma migrate status` agrees.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { pgPoolConfig, providerOf, redactUrl, sqliteFilePath } from "../../config.js";

/** The project root: where prisma.config.ts and prisma/ live. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** A failed migration; carries what the Prisma CLI printed. */
export class MigrationError extends Error {
  override name = "MigrationError";
}

/** The Prisma CLI config file for a database URL's provider. */
export function prismaConfigFor(databaseUrl: string): string {
  return resolve(PROJECT_ROOT, providerOf(databaseUrl) === "sqlite" ? "prisma.config.ts" : "prisma.pg.config.ts");
}

/** Run `prisma migrate deploy` against `databaseUrl`; creates the SQLite directory first. */
export async function migrateDatabase(databaseUrl: string): Promise<void> {
  if (providerOf(databaseUrl) === "sqlite") mkdirSync(dirname(sqliteFilePath(databaseUrl)), { recursive: true });
  const prismaCli = createRequire(import.meta.url).resolve("prisma/build/index.js");
  const args = [prismaCli, "migrate", "deploy", "--config", prismaConfigFor(databaseUrl)];
  const output: Buffer[] = [];
  const code = await new Promise<number | null>((done, fail) => {
    const child = spawn(process.execPath, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", (b: Buffer) => output.push(b));
    child.stderr.on("data", (b: Buffer) => output.push(b));
    child.on("error", fail);
    child.on("exit", done);
  });
  if (code !== 0) {
    const printed = Buffer.concat(output).toString("utf8").replaceAll(databaseUrl, redactUrl(databaseUrl));
    throw new MigrationError(`prisma migrate deploy failed (exit ${code}) on ${redactUrl(databaseUrl)}:\n${printed}`);
  }
}

const APPLIED_SQL = `SELECT "migration_name" FROM "_prisma_migrations" WHERE "finished_at" IS NOT NULL AND "rolled_back_at" IS NULL`;

/** Migrations applied to the database, read from Prisma's own bookkeeping table. */
async function appliedMigrations(databaseUrl: string): Promise<string[]> {
  if (providerOf(databaseUrl) === "sqlite") {
    const file = sqliteFilePath(databaseUrl);
    if (!existsSync(file)) return [];
    // Drivers are imported when used: a SQLite command never loads pg, nor the reverse.
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare(APPLIED_SQL).all() as { migration_name: string }[]).map((r) => r.migration_name);
    } finally {
      db.close();
    }
  }
  const { default: pg } = await import("pg");
  const client = new pg.Client({ ...pgPoolConfig(databaseUrl), connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return (await client.query<{ migration_name: string }>(APPLIED_SQL)).rows.map((r) => r.migration_name);
  } finally {
    await client.end();
  }
}

/** Committed migrations that the database has not applied yet (all of them when it is new). */
export async function pendingMigrations(databaseUrl: string): Promise<string[]> {
  const folder = resolve(PROJECT_ROOT, "prisma", providerOf(databaseUrl) === "sqlite" ? "sqlite" : "pg", "migrations");
  const committed = readdirSync(folder, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  let applied: Set<string>;
  try {
    applied = new Set(await appliedMigrations(databaseUrl));
  } catch (e) {
    // No bookkeeping table yet: a new database.
    if (/_prisma_migrations|no such table|does not exist/i.test((e as Error).message)) return committed;
    throw e;
  }
  return committed.filter((name) => !applied.has(name));
}

/**
 * Run `prisma migrate deploy` only when a committed migration is pending. Starting an
 * up-to-date gateway then skips the CLI (1.5 s on SQLite, ~12 s on PostgreSQL:
 * docs/toolchain.md#postgresql-cli-exit-delay).
 * Returns the migrations that were pending.
 */
export async function ensureMigrated(databaseUrl: string): Promise<string[]> {
  const pending = await pendingMigrations(databaseUrl);
  if (pending.length > 0) await migrateDatabase(databaseUrl);
  return pending;
}

/**
 * Applying the committed migrations with Prisma's own CLI (`prisma migrate deploy`), so the
 * `_prisma_migrations` bookkeeping is exactly Prisma's and `prisma migrate status` agrees.
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { providerOf, redactUrl, sqliteFilePath } from "../../config.js";

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

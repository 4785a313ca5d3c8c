/**
 * `tracegate migrate`: apply the committed migrations that the database (DATABASE_URL, or the
 * SQLite file in TRACEGATE_DATA_DIR) has not applied, then exit. An up-to-date database is
 * only read, so running it beside live gateways is safe; applying a migration to a SQLite
 * file needs its write lock, which a busy gateway may hold: that fails as DATABASE_LOCKED
 * (main.ts) rather than as the Prisma CLI's timeout.
 */
import type { Command } from "commander";
import { loadConfig } from "../config.js";
import { ensureMigrated, MigrationError } from "../stores/prisma/migrate.js";

/** Add `migrate` to the program. */
export function registerMigrateCommand(program: Command): void {
  program
    .command("migrate")
    .description("apply pending database migrations and exit; an up-to-date database is only read (safe beside running gateways), applying one to SQLite needs them stopped")
    .action(async () => {
      const config = loadConfig();
      let applied: string[];
      try {
        applied = await ensureMigrated(config.databaseUrl);
      } catch (e) {
        // The Prisma CLI reports SQLite's busy lock as a schema-engine timeout.
        if (e instanceof MigrationError && /SocketTimeout|database is locked|SQLITE_BUSY/i.test(e.message)) {
          throw Object.assign(
            new Error(`cannot apply migrations: the ${config.databaseProvider} database is locked by a running gateway or command; stop the gateways, then run tracegate migrate again`),
            { code: "DATABASE_LOCKED" },
          );
        }
        throw e;
      }
      process.stdout.write(
        applied.length === 0
          ? `The ${config.databaseProvider} database is up to date; no migration to apply.\n`
          : `Migrated ${config.databaseProvider} database: applied ${applied.join(", ")}.\n`,
      );
    });
}

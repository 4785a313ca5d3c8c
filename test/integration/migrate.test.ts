/**
 * Start-up migration: `serve` runs `prisma migrate deploy` only when a committed migration
 * is missing from the database's `_prisma_migrations`, on both backends.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pendingMigrations } from "../../src/stores/prisma/migrate.js";
import { BACKENDS } from "../support/backends.js";
import { ROOT } from "../support/process.js";

describe.each(BACKENDS)("$name: pending migrations", (backend) => {
  const folder = join(ROOT, "prisma", backend.name === "sqlite" ? "sqlite" : "pg", "migrations");
  const committed = readdirSync(folder, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

  it("are none on a migrated database", async () => {
    expect(committed.length).toBeGreaterThan(0);
    expect(await pendingMigrations(await backend.freshDatabaseUrl())).toEqual([]);
  });

  it("are all committed ones on an empty database, and the one a database lacks", async () => {
    const url = await backend.freshDatabaseUrl();
    const db = backend.rawDb(url);
    try {
      await db.run(`DELETE FROM "_prisma_migrations" WHERE "migration_name" = ?`, committed.at(-1));
      expect(await pendingMigrations(url)).toEqual([committed.at(-1)]);
      await db.run(`DROP TABLE "_prisma_migrations"`);
      expect(await pendingMigrations(url)).toEqual(committed);
    } finally {
      await db.close();
    }
  });
});

/**
 * Prisma CLI configuration for the embedded SQLite database (the default).
 * Used by `prisma generate` and `prisma migrate ...`; the gateway itself builds its own
 * client in src/stores/prisma/. The database URL comes from the same resolver as the
 * runtime config, so the CLI and the gateway always agree on which file they touch.
 */
import { defineConfig } from "prisma/config";
import { resolveDatabaseUrl, sqliteFilePath } from "./src/config.js";
import { PrismaBetterSQLite3ForMigrate } from "./prisma/sqlite/shadow-adapter.js";

const url = resolveDatabaseUrl(process.env);

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/sqlite/schema.prisma",
  migrations: { path: "prisma/sqlite/migrations" },
  adapter: async () => new PrismaBetterSQLite3ForMigrate({ url: `file:${sqliteFilePath(url)}` }),
});

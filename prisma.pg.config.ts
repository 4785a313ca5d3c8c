/**
 * Prisma CLI configuration for PostgreSQL (`--config prisma.pg.config.ts`), used when
 * DATABASE_URL is postgres:// or postgresql://. Carries the CLI-only fixes of
 * docs/toolchain.md#prisma-cli-workarounds; the gateway's own client needs none of them.
 */
import "./prisma/pg/pg-name-type-workaround.js";
import { defineConfig } from "prisma/config";
import { pgPoolConfig, resolveDatabaseUrl } from "./src/config.js";
import { PrismaPgForMigrate } from "./prisma/pg/shadow-adapter.js";

const url = resolveDatabaseUrl(process.env);

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/pg/schema.prisma",
  migrations: { path: "prisma/pg/migrations" },
  // A short idle timeout lets the CLI exit as soon as it is done
  // (docs/toolchain.md#postgresql-cli-exit-delay).
  adapter: async () =>
    new PrismaPgForMigrate({
      ...pgPoolConfig(url.startsWith("postgres") ? url : "postgresql://placeholder@localhost/placeholder"),
      allowExitOnIdle: true,
      idleTimeoutMillis: 50,
    }),
});

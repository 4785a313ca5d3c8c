/**
 * Runs once per `vitest run`: compiles src/ to dist/ (build.ts), so the processes the e2e tests
 * start (`bin/tracegate.js`, which runs dist/) run the code under test; migrates one template database per backend with the real
 * `prisma migrate deploy`; every test copies it (docs/toolchain.md#test-databases): a SQLite
 * file copy, or PostgreSQL's `CREATE DATABASE ... TEMPLATE`, each in milliseconds.
 *
 * PostgreSQL is found at TRACEGATE_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
 * When it is unreachable the PostgreSQL tests are skipped with a notice, except under
 * CI=true, where a missing service fails the run.
 *
 * Redis (for the cross-replica stream tests) is found at TRACEGATE_TEST_REDIS_URL (default
 * redis://127.0.0.1:6379) and treated the same way: skipped with a notice, fatal under CI=true.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { buildServer } from "../../build.js";
import { migrateDatabase } from "../../src/stores/prisma/migrate.js";
import { PG_ADMIN_URL, pgDatabaseUrl } from "./pg.js";
import { redisProblem, redisUrl } from "./redis.js";

declare module "vitest" {
  export interface ProvidedContext {
    sqliteTemplate: string;
    tmpRoot: string;
    /** Name of the migrated PostgreSQL template database; "" when PostgreSQL is unavailable. */
    pgTemplate: string;
    runId: string;
    /** The Redis URL the tests may use; "" when Redis is unavailable. */
    redisUrl: string;
  }
}

async function pgReachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (e) {
    return (e as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await buildServer();
  const runId = `${process.pid}_${Date.now().toString(36)}`;
  const tmpRoot = mkdtempSync(join(tmpdir(), "tracegate-test-"));
  const template = join(tmpRoot, "template.db");
  const pgProblem = await pgReachable();
  if (pgProblem && process.env.CI === "true") {
    throw new Error(`PostgreSQL is required when CI=true but ${PG_ADMIN_URL} is unreachable: ${pgProblem}`);
  }
  if (pgProblem) process.stderr.write(`\n!! PostgreSQL unreachable (${pgProblem}): PostgreSQL tests are SKIPPED.\n\n`);
  const redis = await redisProblem();
  if (redis && process.env.CI === "true") {
    throw new Error(`Redis is required when CI=true but ${redisUrl()} does not answer: ${redis}`);
  }
  if (redis) process.stderr.write(`\n!! Redis unreachable at ${redisUrl()} (${redis}): Redis tests are SKIPPED.\n\n`);
  const pgTemplate = pgProblem ? "" : `tracegate_tpl_${runId}`;
  await Promise.all([
    migrateDatabase(`file:${template}`),
    pgTemplate
      ? admin((c) => c.query(`CREATE DATABASE "${pgTemplate}"`)).then(() => migrateDatabase(pgDatabaseUrl(pgTemplate)))
      : Promise.resolve(),
  ]);
  project.provide("sqliteTemplate", template);
  project.provide("tmpRoot", tmpRoot);
  project.provide("pgTemplate", pgTemplate);
  project.provide("runId", runId);
  project.provide("redisUrl", redis ? "" : redisUrl());
  return async () => {
    rmSync(tmpRoot, { recursive: true, force: true });
    if (!pgTemplate) return;
    await admin(async (c) => {
      const { rows } = await c.query<{ datname: string }>(
        "SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2",
        [`tracegate_t_${runId}_%`, pgTemplate],
      );
      for (const { datname } of rows) await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    });
  };
}

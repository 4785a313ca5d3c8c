/**
 * Runs once per `vitest run`: migrates one template SQLite database with the real
 * `prisma migrate deploy`; every test file copies it (STYLE.md 11), so each file gets its own
 * freshly migrated database in milliseconds.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { migrateDatabase } from "../../src/stores/prisma/migrate.js";

declare module "vitest" {
  export interface ProvidedContext {
    sqliteTemplate: string;
    tmpRoot: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const tmpRoot = mkdtempSync(join(tmpdir(), "tracegate-test-"));
  const template = join(tmpRoot, "template.db");
  await migrateDatabase(`file:${template}`);
  project.provide("sqliteTemplate", template);
  project.provide("tmpRoot", tmpRoot);
  return () => rmSync(tmpRoot, { recursive: true, force: true });
}

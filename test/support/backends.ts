/**
 * The database backends every store-facing test runs against (describe.each(BACKENDS)):
 * SQLite always, PostgreSQL when the global setup found a server. Each hands out fresh
 * migrated databases and a raw SQL handle for tests that play the attacker.
 */
import { randomUUID } from "node:crypto";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { inject } from "vitest";
import type { DatabaseProvider } from "../../src/config.js";
import { PG_ADMIN_URL, pgDatabaseUrl } from "./pg.js";

/** Raw SQL on a test database, with `?` placeholders on both backends. */
export interface RawDb {
  run(statement: string, ...params: unknown[]): Promise<void>;
  all<T = Record<string, unknown>>(statement: string, ...params: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export interface Backend {
  name: DatabaseProvider;
  /** The column holding invokedAt ("invokedAtUs" integer micros, or "invokedAt" timestamptz). */
  timeColumn: string;
  /** SQL expression adding one microsecond to the time column. */
  timePlusOneMicro: string;
  /** A fresh, migrated, empty database. */
  freshDatabaseUrl(): Promise<string>;
  rawDb(databaseUrl: string): RawDb;
}

const sqlite: Backend = {
  name: "sqlite",
  timeColumn: "invokedAtUs",
  timePlusOneMicro: `"invokedAtUs" + 1`,
  async freshDatabaseUrl() {
    const file = join(inject("tmpRoot"), `${randomUUID()}.db`);
    copyFileSync(inject("sqliteTemplate"), file);
    return `file:${file}`;
  },
  rawDb(databaseUrl) {
    const db = new Database(databaseUrl.slice("file:".length));
    return {
      run: async (statement, ...params) => void db.prepare(statement).run(...params),
      all: async <T>(statement: string, ...params: unknown[]) => db.prepare(statement).all(...params) as T[],
      close: async () => void db.close(),
    };
  },
};

const toDollar = (statement: string) => {
  let n = 0;
  return statement.replace(/\?/g, () => `$${++n}`);
};

const postgres: Backend = {
  name: "postgresql",
  timeColumn: "invokedAt",
  timePlusOneMicro: `"invokedAt" + interval '1 microsecond'`,
  async freshDatabaseUrl() {
    const name = `tracegate_t_${inject("runId")}_${randomUUID().replace(/-/g, "").slice(0, 12)}`;
    const client = new pg.Client({ connectionString: PG_ADMIN_URL });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name}" TEMPLATE "${inject("pgTemplate")}"`);
    } finally {
      await client.end();
    }
    return pgDatabaseUrl(name);
  },
  rawDb(databaseUrl) {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    return {
      run: async (statement, ...params) => void (await pool.query(toDollar(statement), params)),
      all: async <T>(statement: string, ...params: unknown[]) => (await pool.query(toDollar(statement), params)).rows as T[],
      close: () => pool.end(),
    };
  },
};

/** The backends available in this run. */
export const BACKENDS: Backend[] = inject("pgTemplate") ? [sqlite, postgres] : [sqlite];
export const SQLITE = sqlite;

/** Configuration from the environment: defaults, providers, production rules, redaction. */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, pgPoolConfig, redactUrl, resolveHmacSecret } from "../../src/config.js";

const dir = mkdtempSync(join(tmpdir(), "tracegate-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("loadConfig", () => {
  it("defaults to the embedded SQLite file in ./data on 127.0.0.1:4000", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ env: "development", port: 4000, host: "127.0.0.1", databaseProvider: "sqlite", logLevel: "info" });
    expect(c.databaseUrl).toBe(`file:${resolve("data", "tracegate.db")}`);
  });

  it("selects PostgreSQL by URL scheme and refuses unknown schemes without leaking passwords", () => {
    expect(loadConfig({ DATABASE_URL: "postgresql://u:p@h/db" }).databaseProvider).toBe("postgresql");
    expect(loadConfig({ DATABASE_URL: "postgres://u@h/db" }).databaseProvider).toBe("postgresql");
    expect(() => loadConfig({ DATABASE_URL: "mysql://u:hunter2@h/db" })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_URL: "mysql://u:hunter2@h/db" })).toThrow(/mysql:\/\/u:\*\*\*@h\/db/);
    try {
      loadConfig({ DATABASE_URL: "mysql://u:hunter2@h/db" });
    } catch (e) {
      expect((e as Error).message).not.toContain("hunter2");
    }
  });

  it("treats empty variables as unset and lists every invalid one", () => {
    expect(loadConfig({ PORT: "", DATABASE_URL: "" }).port).toBe(4000);
    expect(() => loadConfig({ PORT: "http", LOG_LEVEL: "loud" })).toThrow(/PORT[\s\S]*LOG_LEVEL/);
  });

  it("requires a long enough secret in production", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/TRACEGATE_HMAC_SECRET is required/);
    expect(() => loadConfig({ NODE_ENV: "production", TRACEGATE_HMAC_SECRET: "short" })).toThrow(/at least 32/);
    expect(loadConfig({ NODE_ENV: "production", TRACEGATE_HMAC_SECRET: "x".repeat(32) }).hmacSecret).toBe("x".repeat(32));
  });
});

describe("resolveHmacSecret", () => {
  it("generates a development secret once (mode 0600) and reuses it", () => {
    const config = loadConfig({ TRACEGATE_DATA_DIR: join(dir, "d1") });
    const events: boolean[] = [];
    const first = resolveHmacSecret(config, (_path, created) => events.push(created));
    const second = resolveHmacSecret(config, (_path, created) => events.push(created));
    const file = join(dir, "d1", "hmac-secret");
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(second).toBe(first);
    expect(events).toEqual([true, false]);
    expect(readFileSync(file, "utf8").trim()).toBe(first);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("uses the configured secret and writes nothing", () => {
    const config = loadConfig({ TRACEGATE_DATA_DIR: join(dir, "d2"), TRACEGATE_HMAC_SECRET: "configured" });
    expect(resolveHmacSecret(config, () => undefined)).toBe("configured");
    expect(existsSync(join(dir, "d2"))).toBe(false);
  });
});

describe("PostgreSQL URLs", () => {
  it("become discrete pool fields (a connectionString would override the database name)", () => {
    expect(pgPoolConfig("postgresql://app:s%40cret@db.internal:6543/audit")).toEqual({
      host: "db.internal", port: 6543, user: "app", password: "s@cret", database: "audit",
    });
  });

  it("are redacted for logs", () => {
    expect(redactUrl("postgresql://app:s3cret@db/audit")).toBe("postgresql://app:***@db/audit");
    expect(redactUrl("file:/data/tracegate.db")).toBe("file:/data/tracegate.db");
  });
});

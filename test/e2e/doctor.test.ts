/**
 * `tracegate doctor` as an operator runs it: a fresh data directory (warnings, exit 0), a
 * migrated one with a key (all ok), production without a secret and an unreachable Redis
 * (errors, exit 1), and `--json`. Secret material never appears in the output.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../support/process.js";

const dirs: string[] = [];
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), "tracegate-doctor-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const SECRET = "doctor-test-secret-0123456789abcdefghij";
const env = (dataDir: string, extra: Record<string, string> = {}) => ({
  TRACEGATE_DATA_DIR: dataDir,
  DATABASE_URL: "",
  TRACEGATE_HMAC_SECRET: "",
  TRACEGATE_BOOTSTRAP_ADMIN_KEY: "",
  REDIS_URL: "",
  NODE_ENV: "development",
  ...extra,
});
type Check = { name: string; status: string; detail: string };
const json = (stdout: string) => JSON.parse(stdout) as Check[];

describe("tracegate doctor", () => {
  it("passes a fresh development directory with warnings only, and checks the reference vector", async () => {
    const run = await runCli(["doctor"], env(freshDir()));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/✓ hmac_vector\s+record hash matches the reference's test vector/);
    expect(run.stdout).toMatch(/✓ audit_chain/);
    expect(run.stdout).toMatch(/! secret/);
    expect(run.stdout).toMatch(/! database\s+.*does not exist yet/);
  });

  it("reports a migrated database with a key as all ok, in JSON", async () => {
    const dir = freshDir();
    const e = env(dir, { TRACEGATE_HMAC_SECRET: SECRET });
    expect((await runCli(["keys", "create", "--name", "ops", "--scope", "admin"], e)).code).toBe(0);
    const run = await runCli(["doctor", "--json"], e);
    expect(run.code, run.stderr).toBe(0);
    const checks = json(run.stdout);
    expect(checks.map((c) => c.name)).toEqual(
      expect.arrayContaining(["node", "config", "secret", "hmac_vector", "audit_chain", "signing_key", "database", "migrations", "chain", "api_keys"]),
    );
    for (const name of ["secret", "database", "migrations", "chain", "api_keys"]) {
      expect(checks.find((c) => c.name === name)?.status, name).toBe("ok");
    }
    expect(run.stdout).not.toContain(SECRET);
  });

  it("fails (exit 1) in production without a secret, and on an unreachable Redis", async () => {
    const prod = await runCli(["doctor"], env(freshDir(), { NODE_ENV: "production" }));
    expect(prod.code).toBe(1);
    expect(prod.stdout).toMatch(/✗ config\s+.*TRACEGATE_HMAC_SECRET/);
    const redis = await runCli(["doctor", "--json"], env(freshDir(), { REDIS_URL: "redis://127.0.0.1:1" }));
    expect(redis.code).toBe(1);
    expect(json(redis.stdout).find((c) => c.name === "redis")?.status).toBe("error");
  });
});

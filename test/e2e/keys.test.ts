/**
 * API key administration as an operator does it: real `tracegate keys` processes against
 * the data directory of a real running gateway, the development admin key a fresh gateway
 * creates, and production's refusal to start without any key.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type GatewayProcess, postGraphQL, PROCESS_ADMIN_KEY, runCli, startGatewayProcess, type CliRun } from "../support/process.js";

const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "tracegate-keys-"));
  dirs.push(dir);
  return dir;
};
const gateways: GatewayProcess[] = [];
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.kill()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const BASE_ENV = { DATABASE_URL: "", TRACEGATE_HMAC_SECRET: "", TRACEGATE_BOOTSTRAP_ADMIN_KEY: "" };
const PRODUCTION_SECRET = "production-secret-0123456789abcdefghijklmnop";
const KEY = /tgk_[A-Za-z0-9_-]{20,}/;


/** `tracegate keys <args>` on `dataDir`, to completion. */
function keys(dataDir: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(["keys", ...args], { ...BASE_ENV, TRACEGATE_DATA_DIR: dataDir, ...env });
}

/** Like `keys`, but the command must succeed. */
async function keysOk(dataDir: string, args: string[]): Promise<string> {
  const run = await keys(dataDir, args);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return run.stdout;
}

async function start(env: Record<string, string>): Promise<GatewayProcess> {
  const gateway = await startGatewayProcess(env);
  gateways.push(gateway);
  return gateway;
}

const RECORD = `mutation { recordTraces(input: [{ actionId: "k-1", capabilityId: "c", principalId: "team-a/bot",
  invokedAt: "2026-11-22T10:00:00Z", responseMode: SUMMARY }]) { seq } }`;

describe("tracegate keys against a running gateway", () => {
  const dataDir = freshDir();
  let gateway: GatewayProcess;
  let key: string;
  let keyId: string;

  it("creates a scoped key that the gateway accepts with exactly those scopes", async () => {
    // Before the gateway ever started: the database is created, and the command says so.
    const first = await keys(dataDir, ["create", "--name", "reader", "--scope", "traces:read", "--principal", "team-a/*"]);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/^tracegate: note: no database was at .*tracegate\.db: created it for this key\./);
    const out = first.stdout;
    expect(out).toMatch(/not be shown again/);
    key = KEY.exec(out)![0];
    keyId = /key_[0-9a-f]{16}/.exec(out)![0];

    gateway = await start({ TRACEGATE_DATA_DIR: dataDir });
    const viewer = await postGraphQL(gateway.url, "{ viewer { keyId scopes principals } }", undefined, key);
    expect(viewer.errors).toBeUndefined();
    expect(viewer.data.viewer).toEqual({ keyId, scopes: ["TRACES_READ"], principals: ["team-a/*"] });

    const write = await postGraphQL(gateway.url, RECORD, undefined, key);
    expect(write.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(write.data?.recordTraces ?? null).toBeNull();
    // The admin key still writes: the refusal was about the reader's scopes.
    expect((await postGraphQL(gateway.url, RECORD)).data.recordTraces).toEqual([{ seq: 0 }]);
  });

  it("lists keys without key material, and a revocation reaches the running gateway within 3 s", async () => {
    const listed = await keysOk(dataDir, ["list", "--json"]);
    expect(listed).not.toContain(key);
    expect(listed).not.toContain(PROCESS_ADMIN_KEY);
    expect(listed).not.toMatch(/[0-9a-f]{64}/);
    const records = JSON.parse(listed) as Record<string, unknown>[];
    expect(records.map((r) => r.id).sort()).toEqual(["bootstrap", keyId].sort());
    expect(records.find((r) => r.id === keyId)).toMatchObject({
      name: "reader",
      scopes: ["traces:read"],
      principals: ["team-a/*"],
      createdBy: "cli",
      revokedAt: null,
    });
    for (const r of records) expect(Object.keys(r)).not.toContain("keyHash");

    expect(await keysOk(dataDir, ["revoke", keyId])).toBe(`revoked ${keyId}\n`);
    const revokedAt = Date.now();
    let res = await postGraphQL(gateway.url, "{ viewer { keyId } }", undefined, key);
    while (res.status !== 401 && Date.now() - revokedAt < 3_000) {
      await new Promise((r) => setTimeout(r, 100));
      res = await postGraphQL(gateway.url, "{ viewer { keyId } }", undefined, key);
    }
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(Date.now() - revokedAt).toBeLessThan(3_000);

    const active = await keysOk(dataDir, ["list"]);
    expect(active).toMatch(/^ID\s+NAME\s+SCOPES\s+PRINCIPALS\s+CREATED\s+REVOKED$/m);
    expect(active).toMatch(/^bootstrap\s.*\sadmin\s+\*all\*\s/m);
    expect(active).not.toContain(keyId);

    const all = await keysOk(dataDir, ["list", "--all"]);
    const row = all.split("\n").find((line) => line.startsWith(keyId));
    expect(row).toMatch(/\steam-a\/\*\s+\S+Z\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const firstRevocation = row!.split(/\s+/).at(-1);

    // Idempotent: a second revoke succeeds and keeps the first revocation time.
    expect(await keysOk(dataDir, ["revoke", keyId])).toBe(`revoked ${keyId}\n`);
    const again = JSON.parse(await keysOk(dataDir, ["list", "--all", "--json"])) as { id: string; revokedAt: string }[];
    expect(again.find((r) => r.id === keyId)!.revokedAt).toBe(firstRevocation);
    expect(await gateway.stop()).toBe(0);
  });

  it("rejects bad input with an error line and exit 1", async () => {
    const [badScope, unknownId] = await Promise.all([
      keys(dataDir, ["create", "--name", "x", "--scope", "nope"]),
      keys(dataDir, ["revoke", "key_doesnotexist"]),
    ]);
    expect(badScope.code).toBe(1);
    expect(badScope.stderr).toMatch(/^error: .*nope/);
    expect(badScope.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(badScope.stdout).not.toMatch(KEY);
    expect(unknownId.code).toBe(1);
    expect(unknownId.stderr).toMatch(/^error: .*key_doesnotexist/);
    expect(unknownId.stderr).not.toMatch(/\n\s+at /);
    const listed = JSON.parse(await keysOk(dataDir, ["list", "--all", "--json"])) as unknown[];
    expect(listed).toHaveLength(2); // nothing was created
  });
});

describe("admin access at start-up", () => {
  it("creates one development admin key, kept in the data directory, and reuses it", async () => {
    const dataDir = freshDir();
    const first = await start({ TRACEGATE_DATA_DIR: dataDir, TRACEGATE_BOOTSTRAP_ADMIN_KEY: "" });
    const printed = KEY.exec(first.stdout())?.[0];
    expect(printed).toBeDefined();
    const file = join(dataDir, "admin-key");
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const kept = readFileSync(file, "utf8");
    expect(kept.trim()).toBe(printed);
    const viewer = await postGraphQL(first.url, "{ viewer { scopes } }", undefined, printed!);
    expect(viewer.errors).toBeUndefined();
    expect(viewer.data.viewer.scopes).toEqual(["ADMIN"]);
    expect(await first.stop()).toBe(0);

    const second = await start({ TRACEGATE_DATA_DIR: dataDir, TRACEGATE_BOOTSTRAP_ADMIN_KEY: "" });
    expect(second.stdout()).not.toMatch(KEY);
    expect(readFileSync(file, "utf8")).toBe(kept);
    expect((await postGraphQL(second.url, "{ viewer { scopes } }", undefined, printed!)).data.viewer.scopes).toEqual(["ADMIN"]);
    expect(await second.stop()).toBe(0);
  });

  it("refuses to start in production without any key, and hides the schema once it has one", async () => {
    const dataDir = freshDir();
    const production = { TRACEGATE_DATA_DIR: dataDir, NODE_ENV: "production", TRACEGATE_HMAC_SECRET: PRODUCTION_SECRET };
    await expect(start({ ...production, TRACEGATE_BOOTSTRAP_ADMIN_KEY: "" })).rejects.toThrow(
      /exited 1[\s\S]*error: [^\n]*TRACEGATE_BOOTSTRAP_ADMIN_KEY/,
    );
    expect(existsSync(join(dataDir, "admin-key"))).toBe(false);

    const gateway = await start({ ...production, TRACEGATE_BOOTSTRAP_ADMIN_KEY: PROCESS_ADMIN_KEY });
    expect(gateway.stdout()).not.toMatch(KEY);
    const introspection = await postGraphQL(gateway.url, "{ __schema { types { name } } }");
    expect(introspection.data?.__schema).toBeUndefined();
    expect(introspection.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    const viewer = await postGraphQL(gateway.url, "{ viewer { keyId scopes } }");
    expect(viewer.errors).toBeUndefined();
    expect(viewer.data.viewer).toEqual({ keyId: "bootstrap", scopes: ["ADMIN"] });
    expect(await gateway.stop()).toBe(0);
  });
});

/**
 * `tracegate doctor [--json]`: is this installation sound? Configuration, database and
 * migrations, secrets, API keys, the HMAC recipe against the reference's test vector, a chain
 * self-test (build, verify, tamper, expect failure), the signing key and Redis. Output and exit
 * codes follow the reference's doctor (docs/reference-compatibility.md#operator-cli): one line
 * per check, `--json` for a list of {name, status, detail}, exit 1 if any check is an error.
 * Secret material is never printed.
 */
import { existsSync, readFileSync } from "node:fs";
import type { Command } from "commander";
import { Redis } from "ioredis";
import { createRecordHasher, GENESIS_HASH } from "../chain/hash.js";
import { canonicalJson } from "../chain/json.js";
import { ChainVerifier } from "../chain/verify.js";
import { type Config, devSecretPath, loadConfig, redactUrl, sqliteFilePath } from "../config.js";
import { devSigningKeyPath } from "../app/signing-key.js";
import { openStores, type Stores } from "../stores/index.js";
import { pendingMigrations } from "../stores/prisma/migrate.js";
import { readOnlyChain } from "./stores.js";

export type CheckStatus = "ok" | "warn" | "error";
export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
}

/** The reference's own chain test vector (docs/reference-compatibility.md#test-vector). */
const VECTOR = {
  secret: "chain-test-secret",
  trace: '{"action_id":"a0","n":0}',
  hash: "57958f5c03db91330b38848806f17af98a9550e433ed70cebda0f886152a8402",
};

const MIN_NODE = [20, 19] as const;

function nodeCheck(): Check {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return { name: "node", status: ok ? "ok" : "error", detail: `${process.version}${ok ? "" : ` (needs ${MIN_NODE.join(".")} or newer)`}` };
}

function secretCheck(config: Config): Check {
  if (config.hmacSecret) return { name: "secret", status: "ok", detail: "TRACEGATE_HMAC_SECRET is set" };
  if (config.env === "production") return { name: "secret", status: "error", detail: "TRACEGATE_HMAC_SECRET is required in production" };
  const path = devSecretPath(config);
  return { name: "secret", status: "warn", detail: existsSync(path) ? `development secret in ${path}` : "not set: serve will generate a development secret" };
}

function vectorCheck(): Check {
  const got = createRecordHasher(VECTOR.secret)(0, GENESIS_HASH, VECTOR.trace);
  return got === VECTOR.hash
    ? { name: "hmac_vector", status: "ok", detail: "record hash matches the reference's test vector" }
    : { name: "hmac_vector", status: "error", detail: `record hash ${got} differs from the reference's ${VECTOR.hash}` };
}

function chainSelfTest(): Check {
  const hash = createRecordHasher("tracegate-doctor-self-test");
  const payload = canonicalJson({ action_id: "doctor", n: 1n });
  const record = { seq: 0, prevHash: GENESIS_HASH, recordHash: hash(0, GENESIS_HASH, payload), payload };
  const verify = (r: typeof record) => {
    const v = new ChainVerifier({ hash, expectedPrevHash: GENESIS_HASH, expectedFirstSeq: 0 });
    v.check(r);
    return v.result();
  };
  const good = verify(record);
  const tampered = verify({ ...record, payload: payload.replace('"n":1', '"n":2') });
  const ok = good.ok && !tampered.ok && tampered.kind === "MUTATED";
  return { name: "audit_chain", status: ok ? "ok" : "error", detail: ok ? "built, verified and tamper-detected a one-record chain" : "chain self-test failed" };
}

function signingCheck(config: Config): Check {
  if (config.signingKeyPem) return { name: "signing_key", status: "ok", detail: "TRACEGATE_SIGNING_KEY is set" };
  if (config.env === "production") return { name: "signing_key", status: "warn", detail: "not set: signed checkpoints are unavailable" };
  const path = devSigningKeyPath(config);
  return { name: "signing_key", status: "warn", detail: existsSync(path) ? `development key in ${path}` : "not set: serve will generate a development key" };
}

/** The secret serve would use, without generating one: TRACEGATE_HMAC_SECRET or the development secret file. */
function configuredSecret(config: Config): string | undefined {
  if (config.hmacSecret) return config.hmacSecret;
  const path = devSecretPath(config);
  if (config.env === "production" || !existsSync(path)) return undefined;
  return readFileSync(path, "utf8").trim() || undefined;
}

/** Is the configured secret the chain's? A mismatch is the refusal serve would meet. */
async function chainKeyCheck(config: Config, stores: Stores): Promise<Check> {
  const secret = configuredSecret(config);
  if (secret === undefined) return { name: "chain_key", status: "warn", detail: "no secret configured yet: nothing to check against the chain" };
  const verdict = await stores.traces.checkChainKey(createRecordHasher(secret));
  switch (verdict.kind) {
    case "match":
      return { name: "chain_key", status: "ok", detail: `the secret's key id ${verdict.keyId} is the chain's` };
    case "unrecorded":
      return {
        name: "chain_key",
        status: "ok",
        detail:
          verdict.verifiedSeq === null
            ? `key id ${verdict.keyId}; the empty chain records it when serve first opens it`
            : `key id ${verdict.keyId} verifies the newest record (seq ${verdict.verifiedSeq}); serve records it on start`,
      };
    case "mismatch":
      return { name: "chain_key", status: "error", detail: verdict.error.message };
  }
}

async function databaseChecks(config: Config): Promise<Check[]> {
  const where = config.databaseProvider === "sqlite" ? config.databaseUrl : redactUrl(config.databaseUrl);
  if (config.databaseProvider === "sqlite" && !existsSync(sqliteFilePath(config.databaseUrl))) {
    return [{ name: "database", status: "warn", detail: `${where} does not exist yet: serve or migrate creates it` }];
  }
  let pending: string[];
  try {
    pending = await pendingMigrations(config.databaseUrl);
  } catch (e) {
    return [{ name: "database", status: "error", detail: `${where}: ${(e as Error).message}` }];
  }
  const checks: Check[] = [{ name: "database", status: "ok", detail: `${config.databaseProvider} at ${where}` }];
  checks.push(
    pending.length === 0
      ? { name: "migrations", status: "ok", detail: "all applied" }
      : { name: "migrations", status: "warn", detail: `${pending.length} pending (serve or migrate applies them): ${pending.join(", ")}` },
  );
  if (pending.length > 0) return checks;
  const stores = await openStores(config, readOnlyChain("tracegate doctor"));
  try {
    const [head, keys] = await Promise.all([stores.traces.head(), stores.keys.countActive()]);
    checks.push({ name: "chain", status: "ok", detail: `next seq ${head.nextSeq}, chain ${head.chainId}, key id ${head.keyId ?? "not recorded yet"}` });
    checks.push(await chainKeyCheck(config, stores));
    const noKeys: CheckStatus = config.env === "production" && !config.bootstrapAdminKey ? "error" : "warn";
    checks.push(
      keys > 0 || config.bootstrapAdminKey
        ? { name: "api_keys", status: "ok", detail: `${keys} active${config.bootstrapAdminKey ? " + TRACEGATE_BOOTSTRAP_ADMIN_KEY" : ""}` }
        : { name: "api_keys", status: noKeys, detail: "no API keys: create one with `tracegate keys create`" },
    );
  } finally {
    await stores.close();
  }
  return checks;
}

async function redisCheck(config: Config): Promise<Check | null> {
  if (!config.redisUrl) return null;
  const client = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2_000, retryStrategy: () => null });
  try {
    await client.connect();
    await client.ping();
    return { name: "redis", status: "ok", detail: redactUrl(config.redisUrl) };
  } catch (e) {
    return { name: "redis", status: "error", detail: `${redactUrl(config.redisUrl)}: ${(e as Error).message}` };
  } finally {
    client.disconnect();
  }
}

/** Run every check. */
export async function runDoctor(env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const checks: Check[] = [nodeCheck()];
  let config: Config;
  try {
    config = loadConfig(env);
    checks.push({ name: "config", status: "ok", detail: `${config.env}, ${config.databaseProvider}` });
  } catch (e) {
    checks.push({ name: "config", status: "error", detail: (e as Error).message.replace(/\s+/g, " ") });
    return [...checks, vectorCheck(), chainSelfTest()];
  }
  checks.push(secretCheck(config), vectorCheck(), chainSelfTest(), signingCheck(config), ...(await databaseChecks(config)));
  const redis = await redisCheck(config);
  if (redis) checks.push(redis);
  return checks;
}

const MARK: Record<CheckStatus, string> = { ok: "✓", warn: "!", error: "✗" };

export function registerDoctorCommand(program: Command): void {
  program
    .command("doctor")
    .description("check configuration, database, secrets, keys and the chain recipe; exit 1 on any error")
    .option("--json", "print a JSON list of {name, status, detail}")
    .action(async (options: { json?: boolean }) => {
      const checks = await runDoctor();
      if (options.json) process.stdout.write(`${JSON.stringify(checks)}\n`);
      else for (const c of checks) process.stdout.write(`  ${MARK[c.status]} ${c.name.padEnd(16)} ${c.detail}\n`);
      process.exitCode = checks.some((c) => c.status === "error") ? 1 : 0;
    });
}

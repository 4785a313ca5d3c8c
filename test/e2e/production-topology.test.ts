/**
 * The production topology of deploy/compose.yaml, as real processes (Docker cannot run on the
 * test machines): a new, empty PostgreSQL database, a Redis server, and the two gateway
 * replicas, each started through deploy/entrypoint.sh at the same moment, so both run their
 * migrations concurrently. Their environment is the compose file's gateway environment, with
 * only what a container gets from compose replaced by local equivalents:
 *
 * - `/run/secrets/<name>` -> the file compose mounts there (`secrets.<name>.file`), created
 *   by deploy/init-secrets.sh in a temporary directory; the `database_url` secret then
 *   names the local test database instead of the `postgres` service;
 * - REDIS_URL -> a private redis-server; HOST -> 127.0.0.1; PORT -> 0 (ephemeral).
 *
 * End to end: an ingest-only key and a reader key made with `tracegate keys create` (through
 * the entrypoint, as the README says for compose); traces recorded on replica A reach a
 * graphql-ws subscriber on replica B through Redis; the reader pages them on B; `tracegate
 * audit verify` accepts the chain; SIGTERM stops both replicas with exit 0 (the entrypoint
 * exec'd the gateway, so the signal reached it).
 *
 * Also the start-up refusals of the entrypoint in production, and the parts of the compose
 * file and Dockerfile the topology depends on (secret files, health ordering, user, ports).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { type Client, createClient } from "graphql-ws";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";
import { parse as parseYaml } from "yaml";
import { BACKENDS } from "../support/backends.js";
import { PG_ADMIN_URL, pgDatabaseUrl } from "../support/pg.js";
import { type PrivateRedis, privateRedis, privateRedisProblem } from "../support/private-redis.js";
import { postGraphQL, ROOT, runProcess } from "../support/process.js";
import { deny, invoke } from "../support/traces.js";
import { sleep, waitFor } from "../support/wait.js";

const SUITE = "production topology";
const DEPLOY = join(ROOT, "deploy");
const ENTRYPOINT = join(DEPLOY, "entrypoint.sh");

interface ComposeService {
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  secrets?: string[];
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
  image?: string;
  build?: { context: string; dockerfile: string };
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
}

const compose = parseYaml(readFileSync(join(DEPLOY, "compose.yaml"), "utf8"), { merge: true }) as ComposeFile;
const GATEWAYS = ["gateway-a", "gateway-b"] as const;

/**
 * The environment compose gives a gateway, made local: secrets from `secretDir`, Redis at
 * `redisUrl`, an ephemeral port on the loopback interface. PATH and HOME only from this
 * process, so nothing else of the test's environment leaks in.
 */
function localGatewayEnv(service: string, secretDir: string, redisUrl: string): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? tmpdir() };
  for (const [name, value] of Object.entries(compose.services[service]!.environment ?? {})) {
    const secret = /^\/run\/secrets\/(.+)$/.exec(String(value));
    if (secret) env[name] = join(secretDir, basename(compose.secrets[secret[1]!]!.file));
    else if (name === "REDIS_URL") env[name] = redisUrl;
    else if (name === "HOST") env[name] = "127.0.0.1";
    else if (name === "PORT") env[name] = "0";
    else env[name] = String(value);
  }
  return env;
}

interface Replica {
  url: string;
  port: number;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

const started = new Set<ChildProcess>();
afterAll(() => {
  for (const c of started) c.kill("SIGKILL");
});

/** `deploy/entrypoint.sh [args]`; resolves once the gateway prints its listen line. */
function startReplica(env: Record<string, string>, cwd: string): Promise<Replica> {
  const child = spawn(ENTRYPOINT, [], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  started.add(child);
  let out = "";
  let err = "";
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => {
    started.delete(child);
    resolve(code);
  }));
  return new Promise((resolve, reject) => {
    // Generous: two migrations (each Prisma CLI run ~15 s on PostgreSQL, G8 in docs/toolchain.md)
    // and two gateway starts on a busy 2-core machine.
    const timer = setTimeout(() => reject(new Error(`no listen line within 240 s; stdout:\n${out}\nstderr:\n${err}`)), 240_000);
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /serving GraphQL at (http:\/\/[^\s]+:(\d+)\/graphql)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({ url: m[1]!, port: Number(m[2]), child, stdout: () => out, stderr: () => err, exited });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`entrypoint exited ${code}; stdout:\n${out}\nstderr:\n${err}`));
    });
  });
}

/** A command through the entrypoint to completion (the compose docs' `docker compose run`). */
function runEntrypoint(args: string[], env: Record<string, string>, cwd: string, limitMs = 180_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runProcess(ENTRYPOINT, args, { cwd, env, label: `entrypoint ${args.join(" ")}`, limitMs });
}

async function pgAdmin<T>(fn: (c: pg.Client) => Promise<T>, url = PG_ADMIN_URL): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe("the compose file and the Dockerfile", () => {
  it("runs two gateway replicas after PostgreSQL and Redis are healthy, with secrets only as files", () => {
    for (const name of GATEWAYS) {
      const gateway = compose.services[name]!;
      expect(gateway.depends_on).toEqual({ postgres: { condition: "service_healthy" }, redis: { condition: "service_healthy" } });
      expect(gateway.environment?.NODE_ENV).toBe("production");
      expect(gateway.environment?.REDIS_URL).toMatch(/^redis:\/\/redis:/);
      expect(gateway.healthcheck?.test).toEqual(["CMD", "node", "/app/deploy/healthcheck.mjs"]);
      expect(gateway.build).toEqual({ context: "..", dockerfile: "deploy/Dockerfile" });
    }
    expect(compose.services["gateway-a"]!.ports).not.toEqual(compose.services["gateway-b"]!.ports);
    expect(compose.services.postgres!.volumes).toEqual(["postgres-data:/var/lib/postgresql/data"]);
    expect(Object.keys(compose.volumes)).toContain("postgres-data");
    expect(compose.services.postgres!.healthcheck).toBeDefined();
    expect(compose.services.redis!.healthcheck).toBeDefined();
    // No secret value in the file: every secret-bearing variable names a mounted file, and
    // every mounted file lives in the git-ignored deploy/secrets/.
    for (const service of Object.values(compose.services)) {
      for (const [name, value] of Object.entries(service.environment ?? {})) {
        if (/SECRET|PASSWORD|_KEY$|DATABASE_URL/.test(name)) {
          expect(name, `${name} must come from a file`).toMatch(/_FILE$/);
          expect(String(value)).toMatch(/^\/run\/secrets\//);
        }
      }
    }
    for (const { file } of Object.values(compose.secrets)) expect(file).toMatch(/^\.\/secrets\/[\w.]+$/);
    const ignored = spawnSync("git", ["check-ignore", "-q", "deploy/secrets/hmac_secret"], { cwd: ROOT });
    expect(ignored.status, "deploy/secrets/ must be git-ignored").toBe(0);
  });

  it("builds a non-root image whose entrypoint, health check and port match the compose file", () => {
    const dockerfile = readFileSync(join(DEPLOY, "Dockerfile"), "utf8");
    const stages = dockerfile.split(/^FROM /m).slice(1);
    expect(stages).toHaveLength(2); // build, runtime
    const runtime = stages[1]!;
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toContain('ENTRYPOINT ["/app/deploy/entrypoint.sh"]');
    expect(runtime).toContain('CMD ["node", "/app/deploy/healthcheck.mjs"]');
    expect(runtime).toMatch(new RegExp(`^EXPOSE ${compose.services["gateway-a"]!.environment!.PORT}$`, "m"));
    expect(stages[0]).toMatch(/npm ci --ignore-scripts/);
    accessSync(ENTRYPOINT, constants.X_OK);
    accessSync(join(DEPLOY, "init-secrets.sh"), constants.R_OK);
    const dockerignore = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n");
    for (const entry of ["node_modules", "data", "deploy/secrets", ".git"]) expect(dockerignore).toContain(entry);
  });
});

describe("deploy/entrypoint.sh refuses to start in production without its settings", () => {
  let secretDir: string;
  beforeAll(() => {
    secretDir = mkdtempSync(join(tmpdir(), "tracegate-secrets-"));
    const init = spawnSync("sh", [join(DEPLOY, "init-secrets.sh"), secretDir], { encoding: "utf8" });
    expect(init.status, init.stderr).toBe(0);
  });
  afterAll(() => rmSync(secretDir, { recursive: true, force: true }));

  const refusal = async (env: Record<string, string>) => {
    const run = await runEntrypoint([], env, secretDir, 60_000);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    return lines[0]!;
  };

  it("names the missing HMAC secret", async () => {
    const { TRACEGATE_HMAC_SECRET_FILE: _, ...env } = localGatewayEnv("gateway-a", secretDir, "redis://127.0.0.1:1");
    expect(await refusal(env)).toBe(
      "error: TRACEGATE_HMAC_SECRET (or TRACEGATE_HMAC_SECRET_FILE) is required when NODE_ENV=production: the chain's HMAC key, the same on every replica. [CONFIG]",
    );
  });

  it("names an unreadable secret file, a short secret, and a secret given twice", async () => {
    const env = localGatewayEnv("gateway-a", secretDir, "redis://127.0.0.1:1");
    const missing = join(secretDir, "nope");
    expect(await refusal({ ...env, TRACEGATE_HMAC_SECRET_FILE: missing })).toMatch(
      new RegExp(`^error: TRACEGATE_HMAC_SECRET_FILE: cannot read ${missing} \\(missing, or not readable by uid \\d+\\)\\. \\[CONFIG\\]$`),
    );
    const short = join(secretDir, "short");
    writeFileSync(short, "too-short\n");
    expect(await refusal({ ...env, TRACEGATE_HMAC_SECRET_FILE: short })).toBe(
      "error: TRACEGATE_HMAC_SECRET must be at least 32 characters in production. [CONFIG]",
    );
    expect(await refusal({ ...env, TRACEGATE_HMAC_SECRET: "x".repeat(40) })).toBe(
      "error: both TRACEGATE_HMAC_SECRET and TRACEGATE_HMAC_SECRET_FILE are set: set only one. [CONFIG]",
    );
    expect(await refusal({ ...env, TRACEGATE_SIGNING_KEY_FILE: missing })).toMatch(/^error: TRACEGATE_SIGNING_KEY_FILE: cannot read /);
  });

  it("retries a failed migration TRACEGATE_MIGRATE_ATTEMPTS times, then gives up without serving", async () => {
    const env = localGatewayEnv("gateway-a", secretDir, "redis://127.0.0.1:1");
    const unreachable = join(secretDir, "unreachable_database_url");
    writeFileSync(unreachable, "postgresql://tracegate@127.0.0.1:1/tracegate\n");
    const run = await runEntrypoint([], { ...env, DATABASE_URL_FILE: unreachable, TRACEGATE_MIGRATE_ATTEMPTS: "2" }, secretDir);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain("serving GraphQL");
    expect(run.stderr.match(/^error: /gm), run.stderr).toHaveLength(3); // each attempt's, then the entrypoint's
    expect(run.stderr).toContain("tracegate: migration attempt 1 of 2 failed; retrying in 3 s.\n");
    expect(run.stderr.trimEnd().split("\n").at(-1)).toBe("error: tracegate migrate failed 2 time(s); not starting the gateway. [MIGRATION_FAILED]");
  });
});

const postgres = BACKENDS.find((b) => b.name === "postgresql");
const redisProblem = privateRedisProblem();
if (!postgres) process.stderr.write(`\n!! PostgreSQL unavailable: "${SUITE}" is SKIPPED.\n\n`);
if (redisProblem) process.stderr.write(`\n!! ${redisProblem}: "${SUITE}" is SKIPPED.\n\n`);

const SUBSCRIPTION = `subscription { traceRecorded { trace { seq actionId principalId } gap { fromSeq toSeq } } }`;
const RECORD = "mutation($input: [TraceInput!]!) { recordTraces(input: $input) { seq actionId } }";
const PAGE = `query($after: String) { traces(first: 7, after: $after) {
  totalCount edges { node { seq actionId } } pageInfo { hasNextPage endCursor } } }`;

describe.skipIf(!postgres || redisProblem !== null)(SUITE, { timeout: 600_000 }, () => {
  let work: string;
  let secretDir: string;
  let redis: PrivateRedis;
  let databaseUrl: string;
  let env: { a: Record<string, string>; b: Record<string, string> };
  let a: Replica;
  let b: Replica;
  let ingestKey: string;
  let readerKey: string;
  let adminKey: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "tracegate-topology-"));
    secretDir = join(work, "secrets");
    const init = spawnSync("sh", [join(DEPLOY, "init-secrets.sh"), secretDir], { encoding: "utf8" });
    expect(init.status, init.stderr).toBe(0);
    // An empty database: the replicas' own migrations create every table.
    const database = `tracegate_t_${inject("runId")}_topology`;
    await pgAdmin((c) => c.query(`CREATE DATABASE "${database}"`));
    databaseUrl = pgDatabaseUrl(database);
    writeFileSync(join(secretDir, basename(compose.secrets.database_url!.file)), `${databaseUrl}\n`);
    adminKey = readFileSync(join(secretDir, basename(compose.secrets.bootstrap_admin_key!.file)), "utf8").trim();
    redis = await privateRedis();
    env = { a: localGatewayEnv("gateway-a", secretDir, redis.url), b: localGatewayEnv("gateway-b", secretDir, redis.url) };
    [a, b] = await Promise.all([startReplica(env.a, work), startReplica(env.b, work)]);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("both replicas migrated the empty database at once: each migration applied exactly once, no retry needed", async () => {
    // Each replica either applied the pending migrations (both may find them pending and
    // run Prisma at once: its advisory lock serializes them) or found them applied.
    const outcomes = [a, b].map((r) => {
      expect(r.stderr()).not.toContain("migration attempt");
      const line = /^(Migrated postgresql database: applied .+\.|The postgresql database is up to date; no migration to apply\.)$/m.exec(r.stdout());
      expect(line, r.stdout()).not.toBeNull();
      return line![1]!;
    });
    expect(outcomes.some((o) => o.startsWith("Migrated"))).toBe(true);
    const rows = await pgAdmin(
      (c) => c.query<{ migration_name: string; ok: boolean }>(
        `SELECT migration_name, finished_at IS NOT NULL AND rolled_back_at IS NULL AS ok FROM "_prisma_migrations" ORDER BY migration_name`,
      ),
      databaseUrl,
    );
    const committed = spawnSync("ls", [join(ROOT, "prisma/pg/migrations")], { encoding: "utf8" }).stdout.split("\n").filter((n) => /^\d+_/.test(n));
    expect(rows.rows).toEqual(committed.map((migration_name) => ({ migration_name, ok: true })));
  });

  it("is healthy and ready with Redis on both replicas (the image's health check)", async () => {
    for (const r of [a, b]) {
      const ready = await fetch(new URL("/readyz", r.url));
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: "ready", checks: { database: "up", writes: "up", redis: "up" } });
      const probe = spawnSync(process.execPath, [join(DEPLOY, "healthcheck.mjs")], { env: { PATH: process.env.PATH, PORT: String(r.port) }, encoding: "utf8" });
      expect(probe.status, probe.stderr).toBe(0);
    }
    // Signed checkpoints are available: the signing key came from its secret file.
    const key = await fetch(new URL("/.well-known/tracegate/checkpoint-key", a.url));
    expect(key.status).toBe(200);
  });

  it("makes an ingest-only and a read-only key with `tracegate keys create` through the entrypoint", async () => {
    const create = async (name: string, scope: string) => {
      const run = await runEntrypoint(["keys", "create", "--name", name, "--scope", scope, "--json"], env.a, work);
      expect(run.code, run.stderr).toBe(0);
      const created = JSON.parse(run.stdout) as { key: string; scopes: string[] };
      expect(created.scopes).toEqual([scope]);
      return created.key;
    };
    ingestKey = await create("kernel", "traces:write");
    readerKey = await create("auditor", "traces:read");
    // Least privilege holds on the other replica too: the ingest key cannot read.
    const denied = await postGraphQL(b.url, "{ traces(first: 1) { totalCount } }", undefined, ingestKey);
    expect(denied.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("fans traces recorded on replica A out to a graphql-ws subscriber on replica B, and B pages them", async () => {
    const events: { seq: number; actionId: string }[] = [];
    let failure: unknown;
    const client: Client = createClient({
      url: b.url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${readerKey}` },
    });
    client.subscribe(
      { query: SUBSCRIPTION },
      {
        next: (r) => {
          if (r.errors) failure ??= r.errors;
          const e = (r.data as { traceRecorded?: { trace: { seq: number; actionId: string } | null } } | null)?.traceRecorded;
          if (e?.trace) events.push({ seq: e.trace.seq, actionId: e.trace.actionId });
        },
        error: (e) => void (failure ??= e),
        complete: () => void (failure ??= "completed"),
      },
    );
    const record = async (traces: ReturnType<typeof invoke>[]) => {
      const res = await postGraphQL<{ recordTraces: { seq: number; actionId: string }[] }>(a.url, RECORD, { input: traces }, ingestKey);
      expect(res.errors).toBeUndefined();
      return res.data!.recordTraces;
    };
    try {
      // B's subscriber only ever hears A's traces through Redis (a replica reads the store
      // only for a hole its bus shows it), so the first probe it hears proves the fan-out.
      let probes = 0;
      while (events.length === 0) {
        expect(probes, "the subscriber on B never heard a trace recorded on A").toBeLessThan(120);
        await record([invoke(`probe-${probes++}`, { principalId: "kernel-probe" })]);
        await waitFor(() => events.length > 0, () => "", 500).catch(() => undefined);
      }
      const recorded: { seq: number; actionId: string }[] = [];
      for (let batch = 0; batch < 4; batch++) {
        recorded.push(
          ...(await record(
            Array.from({ length: 5 }, (_, i) => (i % 2 ? deny(`topo-${batch}-${i}`, "missing_role") : invoke(`topo-${batch}-${i}`))),
          )),
        );
      }
      await waitFor(() => events.some((e) => e.seq === recorded.at(-1)!.seq), () => `seq ${recorded.at(-1)!.seq} on B; heard ${JSON.stringify(events.map((e) => e.seq))}`, 120_000);
      await sleep(300);
      expect(failure).toBeUndefined();
      const heard = events.filter((e) => e.seq >= recorded[0]!.seq);
      expect(heard).toEqual(recorded);
      const seqs = events.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(new Set(seqs).size).toBe(seqs.length);

      // The reader pages everything on B, 7 at a time, in chain order.
      const paged: { seq: number; actionId: string }[] = [];
      let after: string | null = null;
      let total = -1;
      for (;;) {
        const res: Awaited<ReturnType<typeof postGraphQL>> = await postGraphQL(b.url, PAGE, { after }, readerKey);
        expect(res.errors).toBeUndefined();
        const page = (res.data as { traces: { totalCount: number; edges: { node: { seq: number; actionId: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }).traces;
        total = page.totalCount;
        paged.push(...page.edges.map((e) => e.node));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(paged).toHaveLength(total);
      expect(paged.slice(-recorded.length)).toEqual(recorded);
      expect(paged.map((t) => t.seq)).toEqual(paged.map((_, i) => i));
    } finally {
      await client.dispose();
    }
    // Replica A counted what it appended (README "Running in production": what to monitor).
    const metrics = await (await fetch(new URL("/metrics", a.url))).text();
    expect(Number(/^tracegate_traces_appended_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(20);
  });

  it("verifies the chain with `tracegate audit verify` and with verifyChain on either replica", async () => {
    const run = await runEntrypoint(["audit", "verify"], env.b, work);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^OK: Verified \d+ record\(s\)\.\n$/);
    for (const r of [a, b]) {
      const res = await postGraphQL<{ verifyChain: { ok: boolean } }>(r.url, "{ verifyChain { ok checked } }", undefined, adminKey);
      expect(res.errors).toBeUndefined();
      expect(res.data!.verifyChain.ok).toBe(true);
    }
  });

  it("stops both replicas on SIGTERM with exit 0", async () => {
    a.child.kill("SIGTERM");
    b.child.kill("SIGTERM");
    expect(await Promise.all([a.exited, b.exited])).toEqual([0, 0]);
    await redis.kill();
  });
});

/**
 * Environment -> validated configuration, in one place
 * (docs/architecture.md#configuration-in-one-place).
 *
 * Everything the gateway reads from the environment is parsed here with zod; the rest of
 * the code receives a typed `Config` and never touches `process.env`.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { MAX_API_KEY_LENGTH, MIN_API_KEY_LENGTH } from "./access/api-key.js";

/** Default and largest page size of every connection field. */
export const PAGE_SIZE = { default: 20, max: 500 } as const;

/** Smallest secret accepted in production: 32 bytes of key material for HMAC-SHA256. */
export const MIN_PRODUCTION_SECRET_LENGTH = 32;

const DEFAULT_DATA_DIR = "data";

const flag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
/** A duration: `90d`, `12h`, `30m`, `45s` or milliseconds; parsed to milliseconds. */
export function parseDurationMs(text: string): number | null {
  const m = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) return null;
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? "ms") as "ms"];
  const ms = Number(m[1]) * unit;
  return Number.isSafeInteger(ms) && ms > 0 ? ms : null;
}
const duration = z.string().transform((v, ctx) => {
  const ms = parseDurationMs(v);
  if (ms === null) {
    ctx.addIssue({ code: "custom", message: "must be a positive duration such as 90d, 12h, 30m, 45s" });
    return z.NEVER;
  }
  return ms;
});
const count = (fallback: number, max = 1_000_000_000) => z.coerce.number().int().min(0).max(max).default(fallback);

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATABASE_URL: z.string().min(1).optional(),
  TRACEGATE_DATA_DIR: z.string().min(1).default(DEFAULT_DATA_DIR),
  TRACEGATE_HMAC_SECRET: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  TRACEGATE_BOOTSTRAP_ADMIN_KEY: z.string().min(MIN_API_KEY_LENGTH).max(MAX_API_KEY_LENGTH).regex(/^\S+$/, "must not contain whitespace").optional(),
  TRACEGATE_SECRETS_IN_TRACES: z.enum(["redact", "reject"]).default("redact"),
  TRACEGATE_INTROSPECTION: flag.optional(),
  TRACEGATE_RATE_LIMIT_PER_MINUTE: count(6_000),
  TRACEGATE_MAX_BODY_BYTES: count(16 * 1024 * 1024).pipe(z.number().min(1024)),
  TRACEGATE_MAX_DEPTH: count(12, 1_000),
  TRACEGATE_MAX_COST: count(20_000),
  TRACEGATE_MAX_ALIASES: count(30, 10_000),
  TRACEGATE_MAX_TOKENS: count(5_000),
  TRACEGATE_MAX_DIRECTIVES: count(20, 10_000),
  TRACEGATE_MAX_WALKS_PER_REQUEST: count(1, 1_000),
  TRACEGATE_WALKS_PER_KEY: count(2, 10_000),
  TRACEGATE_WALKS_TOTAL: count(8, 10_000),
  TRACEGATE_WALK_TIMEOUT_MS: count(120_000, 86_400_000),
  TRACEGATE_WS_MAX_CONNECTIONS: count(1_000),
  TRACEGATE_WS_INIT_TIMEOUT_MS: count(5_000, 600_000).pipe(z.number().min(100)),
  TRACEGATE_WS_MAX_PENDING_PER_ADDRESS: count(8, 100_000),
  TRACEGATE_SUBSCRIBER_MAX_BUFFER_BYTES: count(4 * 1024 * 1024).pipe(z.number().min(64 * 1024)),
  TRACEGATE_SUBSCRIBER_STALL_MS: count(30_000, 3_600_000).pipe(z.number().min(100)),
  TRACEGATE_SIGNING_KEY: z.string().includes("PRIVATE KEY", { message: "must be a PEM private key" }).optional(),
  TRACEGATE_SIGNING_KEY_FILE: z.string().min(1).optional(),
  TRACEGATE_RETENTION: duration.optional(),
  TRACEGATE_RETENTION_INTERVAL: duration.default(3_600_000),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL").optional(),
  TRACEGATE_STREAM_QUEUE: count(1_000, 1_000_000).pipe(z.number().min(1)),
  TRACEGATE_SHUTDOWN_GRACE_MS: count(10_000, 3_600_000),
});

/** Which database engine a DATABASE_URL selects. */
export type DatabaseProvider = "sqlite" | "postgresql";

/** The validated configuration of one gateway process. */
export interface Config {
  env: "development" | "production" | "test";
  port: number;
  host: string;
  /** Absolute path of the data directory (SQLite file, generated dev secret). */
  dataDir: string;
  databaseUrl: string;
  databaseProvider: DatabaseProvider;
  /** HMAC key of the chain; undefined until `resolveHmacSecret` has run. */
  hmacSecret: string | undefined;
  logLevel: z.infer<typeof EnvSchema>["LOG_LEVEL"];
  /** An externally chosen key made the admin key "bootstrap" at start (automation, tests). */
  bootstrapAdminKey: string | undefined;
  /** What ingest does with trace values that look like credentials. */
  secretsInTraces: "redact" | "reject";
  limits: Limits;
  /** Ed25519 private key (PEM) for signed checkpoints, from TRACEGATE_SIGNING_KEY(_FILE). */
  signingKeyPem: string | undefined;
  /** Delete traces older than this (ms) on a schedule; undefined = keep everything. */
  retentionMs: number | undefined;
  /** How often the retention sweep runs (ms). */
  retentionIntervalMs: number;
  /** How long SIGTERM/SIGINT lets in-flight requests finish before cutting them. */
  shutdownGraceMs: number;
  /** Redis for fanning live traces out to every replica; undefined = one process. */
  redisUrl: string | undefined;
  /** Live traces held per subscriber before it catches up from the database instead. */
  streamQueueLimit: number;
}

/** Request limits (docs/security-model.md#limits). 0 disables a count limit. */
export interface Limits {
  /** Whether __schema / __type queries are answered (default: everywhere but production). */
  introspection: boolean;
  /** Requests per minute and API key; 0 = unlimited. */
  ratePerMinute: number;
  maxBodyBytes: number;
  maxDepth: number;
  maxCost: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  /**
   * Expensive work (src/http/budget.ts): chain walks (verifyChain, traceStats) one
   * operation may hold, walks running at once per API key and in the whole process
   * (beyond: RATE_LIMITED), and how long a walking operation may run (then TIMEOUT).
   * 0 disables each.
   */
  maxWalksPerRequest: number;
  walksPerKey: number;
  walksTotal: number;
  walkTimeoutMs: number;
  /** Authenticated WebSocket connections at most (0 = unlimited). */
  wsMaxConnections: number;
  /** How long a WebSocket may stay without a valid connection_init (then 4408). */
  wsInitTimeoutMs: number;
  /**
   * WebSocket connections one client address may hold before connection_init has
   * authenticated them (0 = unlimited). Such connections never count against
   * wsMaxConnections, so sockets that never authenticate cannot lock real clients out.
   */
  wsMaxPendingPerAddress: number;
  /**
   * Bytes a subscriber (graphql-ws socket or SSE stream) may leave unread in the server's
   * outgoing buffer; beyond that, or when its buffer has not drained for subscriberStallMs,
   * it is closed with a resumable code (graphql-ws 4503, SSE: the stream ends) and resumes
   * with afterSeq.
   */
  subscriberMaxBufferBytes: number;
  subscriberStallMs: number;
}

/** A configuration problem the operator must fix; the CLI prints it and exits 1. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * The database URL the environment selects: DATABASE_URL, or the embedded SQLite file
 * `<TRACEGATE_DATA_DIR>/tracegate.db`. Side-effect free, so prisma.config.ts can share it.
 */
export function resolveDatabaseUrl(env: NodeJS.ProcessEnv): string {
  if (env.DATABASE_URL) return env.DATABASE_URL;
  const dataDir = resolve(env.TRACEGATE_DATA_DIR || DEFAULT_DATA_DIR);
  return `file:${join(dataDir, "tracegate.db")}`;
}

/** The absolute file path of a `file:` SQLite URL (relative paths resolve against cwd). */
export function sqliteFilePath(url: string): string {
  if (!url.startsWith("file:")) throw new ConfigError(`Not a SQLite file URL: ${url}`);
  const path = url.slice("file:".length).replace(/\?.*$/, "");
  if (path === "") throw new ConfigError("DATABASE_URL 'file:' names no file.");
  return isAbsolute(path) ? path : resolve(path);
}

/** The database engine a URL selects. */
export function providerOf(url: string): DatabaseProvider {
  if (url.startsWith("file:")) return "sqlite";
  if (/^postgres(ql)?:\/\//.test(url)) return "postgresql";
  throw new ConfigError(
    `Unsupported DATABASE_URL scheme in '${redactUrl(url)}': use file:<path> (SQLite) or postgresql://... (PostgreSQL).`,
  );
}

/** A URL with its password replaced, safe for logs and error messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@]*@/, "//$1:***@");
}

/**
 * Discrete node-postgres pool fields from a postgres:// URL. Discrete fields rather than
 * `connectionString`, because pg lets a connectionString override `database`, which breaks
 * anything that points the same config at another database
 * (docs/toolchain.md#postgresql-shadow-database).
 */
export function pgPoolConfig(url: string): { host: string; port: number; user: string; password?: string; database: string } {
  const u = new URL(url);
  const host = decodeURIComponent(u.hostname || u.searchParams.get("host") || "localhost");
  return {
    host,
    port: u.port ? Number(u.port) : 5432,
    user: decodeURIComponent(u.username || process.env.USER || "postgres"),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    database: decodeURIComponent(u.pathname.replace(/^\//, "")) || "postgres",
  };
}

/** Parse and validate the environment. Throws ConfigError with every problem listed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (`FOO= cmd`) means unset, as in most tools.
  env = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join("\n  ")}`);
  }
  const e = parsed.data;
  const databaseUrl = resolveDatabaseUrl(env);
  const config: Config = {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    dataDir: resolve(e.TRACEGATE_DATA_DIR),
    databaseUrl,
    databaseProvider: providerOf(databaseUrl),
    hmacSecret: e.TRACEGATE_HMAC_SECRET,
    logLevel: e.LOG_LEVEL,
    bootstrapAdminKey: e.TRACEGATE_BOOTSTRAP_ADMIN_KEY,
    secretsInTraces: e.TRACEGATE_SECRETS_IN_TRACES,
    signingKeyPem: e.TRACEGATE_SIGNING_KEY ?? (e.TRACEGATE_SIGNING_KEY_FILE ? readSigningKeyFile(e.TRACEGATE_SIGNING_KEY_FILE) : undefined),
    retentionMs: e.TRACEGATE_RETENTION,
    retentionIntervalMs: e.TRACEGATE_RETENTION_INTERVAL,
    shutdownGraceMs: e.TRACEGATE_SHUTDOWN_GRACE_MS,
    redisUrl: e.REDIS_URL,
    streamQueueLimit: e.TRACEGATE_STREAM_QUEUE,
    limits: {
      introspection: e.TRACEGATE_INTROSPECTION ?? e.NODE_ENV !== "production",
      ratePerMinute: e.TRACEGATE_RATE_LIMIT_PER_MINUTE,
      maxBodyBytes: e.TRACEGATE_MAX_BODY_BYTES,
      maxDepth: e.TRACEGATE_MAX_DEPTH,
      maxCost: e.TRACEGATE_MAX_COST,
      maxAliases: e.TRACEGATE_MAX_ALIASES,
      maxTokens: e.TRACEGATE_MAX_TOKENS,
      maxDirectives: e.TRACEGATE_MAX_DIRECTIVES,
      maxWalksPerRequest: e.TRACEGATE_MAX_WALKS_PER_REQUEST,
      walksPerKey: e.TRACEGATE_WALKS_PER_KEY,
      walksTotal: e.TRACEGATE_WALKS_TOTAL,
      walkTimeoutMs: e.TRACEGATE_WALK_TIMEOUT_MS,
      wsMaxConnections: e.TRACEGATE_WS_MAX_CONNECTIONS,
      wsInitTimeoutMs: e.TRACEGATE_WS_INIT_TIMEOUT_MS,
      wsMaxPendingPerAddress: e.TRACEGATE_WS_MAX_PENDING_PER_ADDRESS,
      subscriberMaxBufferBytes: e.TRACEGATE_SUBSCRIBER_MAX_BUFFER_BYTES,
      subscriberStallMs: e.TRACEGATE_SUBSCRIBER_STALL_MS,
    },
  };
  if (config.env === "production") {
    if (!config.hmacSecret) {
      throw new ConfigError("TRACEGATE_HMAC_SECRET is required when NODE_ENV=production.");
    }
    if (config.hmacSecret.length < MIN_PRODUCTION_SECRET_LENGTH) {
      throw new ConfigError(
        `TRACEGATE_HMAC_SECRET must be at least ${MIN_PRODUCTION_SECRET_LENGTH} characters in production.`,
      );
    }
  }
  return config;
}

function readSigningKeyFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(`TRACEGATE_SIGNING_KEY_FILE: cannot read ${path}: ${(e as Error).message}`);
  }
}

/** Request limits with every default, for tests and embedders. */
export function defaultLimits(overrides: Partial<Limits> = {}): Limits {
  return { ...loadConfig({}).limits, ...overrides };
}

/** Where the development admin key is kept when `serve` had to create one. */
export function devAdminKeyPath(config: Pick<Config, "dataDir">): string {
  return join(config.dataDir, "admin-key");
}

/** Where the development secret is kept when TRACEGATE_HMAC_SECRET is not set. */
export function devSecretPath(config: Pick<Config, "dataDir">): string {
  return join(config.dataDir, "hmac-secret");
}

/**
 * The chain's HMAC secret. Outside production, when none is configured, a random one is
 * generated once and kept (mode 0600) in the data directory so that restarts keep
 * verifying; `onGenerated` is called so the caller can warn loudly.
 */
export function resolveHmacSecret(
  config: Config,
  onGenerated: (path: string, created: boolean) => void,
): string {
  if (config.hmacSecret) return config.hmacSecret;
  if (config.env === "production") {
    throw new ConfigError("TRACEGATE_HMAC_SECRET is required when NODE_ENV=production.");
  }
  const path = devSecretPath(config);
  if (existsSync(path)) {
    const secret = readFileSync(path, "utf8").trim();
    if (secret === "") throw new ConfigError(`The development secret file ${path} is empty.`);
    onGenerated(path, false);
    return secret;
  }
  mkdirSync(dirname(path), { recursive: true });
  const secret = randomBytes(32).toString("hex");
  writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
  onGenerated(path, true);
  return secret;
}

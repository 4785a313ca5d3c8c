/**
 * The gateway process's composition root (what `tracegate serve` runs): validate the
 * configuration, migrate the database, open the stores, the trace bus (Redis or in process)
 * and the HTTP app, and serve until stopped. Stopping drains: no new connections, SSE
 * streams end, WebSockets close with 1001, in-flight requests finish within
 * TRACEGATE_SHUTDOWN_GRACE_MS.
 */
import { createCheckpointMac } from "../chain/checkpoint.js";
import { createRecordHasher } from "../chain/hash.js";
import { type Config, ConfigError, redactUrl, resolveHmacSecret } from "../config.js";
import { memoryBus, redisBus, type TraceBus } from "../streams/bus.js";
import { type SoftRedis, softRedis } from "../streams/redis.js";
import { buildApp } from "./app.js";
import { scheduleRetention } from "./retention-schedule.js";
import { createLogger } from "../logger.js";
import { resolveSigningKey } from "../app/signing-key.js";
import { openStores } from "../stores/index.js";
import { ensureMigrated } from "../stores/prisma/migrate.js";
import { ensureAdminAccess } from "../app/bootstrap-keys.js";

/**
 * Start the gateway; resolves once it listens. Returns a function that stops it. `onListening`
 * runs before the listen line is printed (src/cli/serve.ts installs its signal handlers there, so a
 * SIGTERM sent by whoever waited for that line is always a graceful stop).
 */
export async function startGateway(config: Config, onListening?: (stop: () => Promise<void>) => void): Promise<() => Promise<void>> {
  const logger = createLogger(config.logLevel);
  const secret = resolveHmacSecret(config, (path, created) => {
    const message = created
      ? `TRACEGATE_HMAC_SECRET is not set: generated a development secret and kept it in ${path}. ` +
        "Anyone who can read that file can forge the chain; set TRACEGATE_HMAC_SECRET in production."
      : `TRACEGATE_HMAC_SECRET is not set: using the development secret kept in ${path}.`;
    logger.warn(message);
    process.stderr.write(`tracegate: WARNING: ${message}\n`);
  });
  const signer = resolveSigningKey(config, (path, created) => {
    const message = created
      ? `TRACEGATE_SIGNING_KEY is not set: generated a development checkpoint signing key and kept it in ${path}. ` +
        "Anyone who can read that file can forge checkpoints; set TRACEGATE_SIGNING_KEY(_FILE) in production."
      : `TRACEGATE_SIGNING_KEY is not set: using the development checkpoint signing key kept in ${path}.`;
    logger.warn(message);
    process.stderr.write(`tracegate: WARNING: ${message}\n`);
  });
  if (!signer) logger.warn("TRACEGATE_SIGNING_KEY is not set: signed checkpoints are unavailable (createCheckpoint answers NOT_CONFIGURED).");
  const applied = await ensureMigrated(config.databaseUrl);
  if (applied.length > 0) logger.info({ migrations: applied }, "applied database migrations");
  const hash = createRecordHasher(secret);
  const stores = await openStores(config, hash);
  try {
    // Before anything else: a secret that is not the chain's would fork it (ChainKeyMismatchError).
    const keyId = await stores.traces.claimChainKey();
    logger.info({ keyId }, "chain key id checked");
    const access = await ensureAdminAccess(config, stores.keys);
    if (access.kind === "created-dev-key") {
      process.stdout.write(
        `tracegate: no API keys existed, so an admin key was created for development:\n\n    ${access.key}\n\n` +
          `  It is kept in ${access.path} (mode 0600). Send it as 'Authorization: Bearer <key>'\n` +
          "  (in GraphiQL: the Headers tab). Create narrower keys with `tracegate keys create`.\n",
      );
      logger.warn({ path: access.path }, "created a development admin key");
    }
  } catch (e) {
    await stores.close();
    throw e;
  }
  const checkpointMac = createCheckpointMac(secret);
  let bus: TraceBus;
  let rateLimitRedis: SoftRedis | undefined;
  try {
    // Redis must answer at start (a wrong REDIS_URL is a configuration error); once running,
    // losing it degrades the gateway but never stops it (src/streams/redis.ts).
    if (config.redisUrl) {
      const traces = stores.traces;
      bus = await redisBus(config.redisUrl, (await traces.head()).chainId, {
        logger,
        latest: async () => {
          const head = await traces.head();
          return head.nextSeq > 0 ? traces.findBySeqs([head.nextSeq - 1]) : [];
        },
      });
      rateLimitRedis = softRedis(config.redisUrl, "rate-limit", { logger });
      await rateLimitRedis.client.connect().catch(async (e: unknown) => {
        await bus.close();
        throw e;
      });
    } else {
      bus = memoryBus();
    }
  } catch (e) {
    await stores.close();
    throw new ConfigError(`REDIS_URL ${redactUrl(config.redisUrl ?? "")}: cannot connect (${(e as Error).message}).`);
  }
  const redisUp = () => (bus.connected?.() ?? true) && (rateLimitRedis?.up() ?? true);
  const app = buildApp({
    bus,
    ...(rateLimitRedis ? { rateLimitRedis: rateLimitRedis.client, dependencies: [{ name: "redis", up: redisUp }] } : {}),
    streamQueueLimit: config.streamQueueLimit,
    stores,
    hash,
    checkpointMac,
    signer,
    logger,
    graphiql: config.env !== "production",
    limits: config.limits,
    secretsInTraces: config.secretsInTraces,
  });
  const address = await app.start(config.port, config.host);
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let retention: { stop(): Promise<void> } | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      const started = performance.now();
      logger.info({ graceMs: config.shutdownGraceMs }, "shutting down: draining connections");
      await retention?.stop();
      const { destroyed } = await app.stop(config.shutdownGraceMs);
      if (destroyed > 0) logger.warn({ destroyed, graceMs: config.shutdownGraceMs }, "shutdown deadline passed: cut the connections still open");
      await bus.close();
      rateLimitRedis?.client.disconnect();
      await stores.close();
      logger.info({ durationMs: Math.round(performance.now() - started) }, "stopped");
      logger.flush();
    })());
  onListening?.(stop);
  process.stdout.write(`tracegate: serving GraphQL at http://${host}:${address.port}/graphql (${config.databaseProvider})\n`);
  retention =
    config.retentionMs === undefined
      ? undefined
      : scheduleRetention({
          traces: stores.traces,
          mac: checkpointMac,
          signer,
          retentionMs: config.retentionMs,
          intervalMs: config.retentionIntervalMs,
          logger,
        });
  return stop;
}


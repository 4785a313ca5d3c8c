/**
 * A real gateway process for the end-to-end benchmarks (ship, export, forward): `bin/tracegate.js
 * serve` on a copy of a SQLite database, on an ephemeral port, with a bootstrap admin key.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BENCH_SECRET, ROOT } from "./db.js";

const BIN = join(ROOT, "bin/tracegate.js");

/** This environment without anything that would point a gateway or a client elsewhere. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith("TRACEGATE_") || k === "DATABASE_URL" || k === "REDIS_URL" || k === "WEAVER_KERNEL_SECRET" || k === "NODE_OPTIONS") delete env[k];
  }
  return { ...env, ...extra };
}

export interface GatewayProcess {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:41234/graphql. */
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Start a gateway on a copy of `database` (a migrated SQLite file) in a fresh `dataDir`, under
 * BENCH_SECRET, with `adminKey` bootstrapped. Resolves once it logs its listen line (60 s bound).
 */
export function startGateway(database: string, dataDir: string, adminKey: string): Promise<GatewayProcess> {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  copyFileSync(database, join(dataDir, "tracegate.db"));
  const child = spawn(process.execPath, [BIN, "serve"], {
    cwd: ROOT,
    env: cleanEnv({
      PORT: "0",
      LOG_LEVEL: "warn",
      TRACEGATE_DATA_DIR: dataDir,
      TRACEGATE_HMAC_SECRET: BENCH_SECRET,
      TRACEGATE_BOOTSTRAP_ADMIN_KEY: adminKey,
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`gateway: no listen line within 60 s; stderr:\n${err}`));
    }, 60_000);
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /serving GraphQL at (http:\/\/\S+\/graphql)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: m[1]!,
        child,
        stop: async () => {
          if (child.exitCode === null) child.kill("SIGTERM");
          const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
          await exited;
          clearTimeout(t);
        },
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited ${code}; stderr:\n${err}`));
    });
  });
}

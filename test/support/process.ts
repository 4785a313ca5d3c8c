/**
 * Real gateway processes for end-to-end tests: `bin/tracegate.js serve` on an ephemeral
 * port, killed at the end of the file even when a test fails.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll } from "vitest";

export const ROOT = join(import.meta.dirname, "../..");

/** The admin key every test process is started with (TRACEGATE_BOOTSTRAP_ADMIN_KEY). */
export const PROCESS_ADMIN_KEY = "tgk_e2e-admin-key-0123456789abcdefghijklmnopq";

export interface GatewayProcess {
  url: string;
  child: ChildProcess;
  /** Everything printed on stdout so far. */
  stdout(): string;
  stderr(): string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (a crash) and wait until the process is gone. */
  kill(): Promise<void>;
}

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
});

/** Start `tracegate serve` with `env` and resolve once it prints its listen line. */
export function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [join(ROOT, "bin/tracegate.js"), "serve"], {
    cwd: ROOT,
    env: { ...process.env, PORT: "0", LOG_LEVEL: "warn", TRACEGATE_HMAC_SECRET: "", DATABASE_URL: "", TRACEGATE_BOOTSTRAP_ADMIN_KEY: PROCESS_ADMIN_KEY, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let out = "";
  let err = "";
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listen line within 60 s; stderr:\n${err}`)), 60_000);
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /serving GraphQL at (http:\/\/\S+\/graphql)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: m[1]!,
        child,
        stdout: () => out,
        stderr: () => err,
        stop: () => {
          child.kill("SIGTERM");
          return exited;
        },
        kill: async () => {
          child.kill("SIGKILL");
          await exited;
        },
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code}; stderr:\n${err}`));
    });
  });
}

/** POST a GraphQL operation to a gateway over real HTTP, with an API key (default: the admin key). */
export async function postGraphQL<T = any>(
  url: string,
  query: string,
  variables?: unknown,
  key: string | null = PROCESS_ADMIN_KEY,
): Promise<{ status: number; data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const res = await fetch(url, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  return { status: res.status, ...((await res.json()) as object) };
}

/** A finished CLI run. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `tracegate <args>` to completion with `env` over this process's environment. The limit
 * only catches a hang: a CLI process starts in about a second when idle, but takes several
 * on a loaded 2-core machine.
 */
const CLI_LIMIT_MS = 120_000;

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runProcess(process.execPath, [join(ROOT, "bin/tracegate.js"), ...args], { cwd: ROOT, env: { ...process.env, ...env }, label: `tracegate ${args.join(" ")}` });
}

/**
 * Run `command args` to completion, collecting its output; killed and rejected after
 * `limitMs` (default CLI_LIMIT_MS), a bound that only catches hangs.
 */
export function runProcess(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; label: string; limitMs?: number },
): Promise<CliRun> {
  const limitMs = options.limitMs ?? CLI_LIMIT_MS;
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${options.label} did not exit within ${limitMs / 1000} s; stderr:\n${stderr}`));
    }, limitMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

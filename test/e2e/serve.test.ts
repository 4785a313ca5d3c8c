/**
 * The gateway as a user starts it: a real `tracegate serve` process on an empty data
 * directory (creates, migrates, generates the dev secret), real HTTP on an ephemeral port,
 * GraphiQL, the README's first mutation and query, and a restart that continues the chain.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const dataDir = mkdtempSync(join(tmpdir(), "tracegate-e2e-"));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

/** Start `tracegate serve` and resolve with its GraphQL URL once it listens. */
function startGateway(env: Record<string, string> = {}): Promise<{ url: string; child: ChildProcess; stderr: () => string }> {
  const child = spawn(process.execPath, [join(root, "bin/tracegate.js"), "serve"], {
    cwd: root,
    env: { ...process.env, PORT: "0", TRACEGATE_DATA_DIR: dataDir, LOG_LEVEL: "warn", TRACEGATE_HMAC_SECRET: "", DATABASE_URL: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  let err = "";
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listen line within 30 s; stderr:\n${err}`)), 30_000);
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /serving GraphQL at (http:\/\/\S+\/graphql)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, child, stderr: () => err });
      }
    });
    child.once("exit", (code) => reject(new Error(`exited ${code}; stderr:\n${err}`)));
  });
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  return exited;
}

async function gql(url: string, query: string): Promise<{ data?: any; errors?: any[] }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query }) });
  return (await res.json()) as { data?: any; errors?: any[] };
}

const README = readFileSync(join(root, "README.md"), "utf8");
const readmeBlocks = [...README.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe("tracegate serve", () => {
  it("starts on an empty data directory, serves GraphiQL and runs the README examples", async () => {
    const { url, child, stderr } = await startGateway();
    expect(stderr()).toContain("generated a development secret");
    const secretFile = join(dataDir, "hmac-secret");
    expect(existsSync(secretFile)).toBe(true);
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dataDir, "tracegate.db"))).toBe(true);

    const page = await fetch(url, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/graphiql/i);

    expect(readmeBlocks).toHaveLength(2);
    const mutation = await gql(url, readmeBlocks[0]!);
    expect(mutation.errors).toBeUndefined();
    expect(mutation.data.recordTraces.map((t: { seq: number }) => t.seq)).toEqual([0, 1]);
    const query = await gql(url, readmeBlocks[1]!);
    expect(query.errors).toBeUndefined();
    expect(query.data.traces.totalCount).toBe(1);
    expect(query.data.traces.edges[0].node).toMatchObject({ actionId: "a-2", reasonCode: "missing_role" });
    expect(query.data.verifyChain).toMatchObject({ ok: true, checked: 2 });
    expect(await stop(child)).toBe(0);
  });

  it("continues the same chain after a restart, with the kept secret", async () => {
    const { url, child } = await startGateway();
    const res = await gql(url, `mutation { recordTraces(input: [{ actionId: "after-restart", capabilityId: "c", principalId: "p",
      invokedAt: "2026-11-22T10:00:00Z", responseMode: SUMMARY }]) { seq } } `);
    expect(res.data.recordTraces[0].seq).toBe(2);
    expect((await gql(url, "{ verifyChain { ok checked } }")).data.verifyChain).toEqual({ ok: true, checked: 3 });
    expect(await stop(child)).toBe(0);
  });

  it("refuses to start in production without a secret, with an error line and exit 1", async () => {
    await expect(startGateway({ NODE_ENV: "production" })).rejects.toThrow(/exited 1[\s\S]*error: TRACEGATE_HMAC_SECRET is required/);
  });
});

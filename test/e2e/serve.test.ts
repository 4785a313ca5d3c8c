/**
 * The gateway as a user starts it: a real `tracegate serve` process on an empty data
 * directory (creates, migrates, generates the dev secret), real HTTP on an ephemeral port,
 * GraphiQL, the README's first mutation and query, and a restart that continues the chain.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { postGraphQL, ROOT, startGatewayProcess } from "../support/process.js";

const dataDir = mkdtempSync(join(tmpdir(), "tracegate-e2e-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const startGateway = (env: Record<string, string> = {}) => startGatewayProcess({ TRACEGATE_DATA_DIR: dataDir, ...env });
const gql = (url: string, query: string) => postGraphQL(url, query);
const stop = (g: { stop(): Promise<number | null> }) => g.stop();

const README = readFileSync(join(ROOT, "README.md"), "utf8");
const readmeBlocks = [...README.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe("tracegate serve", () => {
  it("starts on an empty data directory, serves GraphiQL and runs the README examples", async () => {
    const gateway = await startGateway();
    const { url, stderr } = gateway;
    expect(stderr()).toContain("generated a development secret");
    const secretFile = join(dataDir, "hmac-secret");
    expect(existsSync(secretFile)).toBe(true);
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dataDir, "tracegate.db"))).toBe(true);

    const page = await fetch(url, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/graphiql/i);
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdn\./); // served from the package: works offline

    expect(readmeBlocks).toHaveLength(4);
    const mutation = await gql(url, readmeBlocks[0]!);
    expect(mutation.errors).toBeUndefined();
    expect(mutation.data.recordTraces.map((t: { seq: number }) => t.seq)).toEqual([0, 1]);
    const query = await gql(url, readmeBlocks[1]!);
    expect(query.errors).toBeUndefined();
    expect(query.data.traces.totalCount).toBe(1);
    expect(query.data.traces.edges[0].node).toMatchObject({ actionId: "a-2", reasonCode: "missing_role" });
    expect(query.data.verifyChain).toMatchObject({ ok: true, checked: 2 });
    const revocation = await gql(url, readmeBlocks[2]!);
    expect(revocation.errors).toBeUndefined();
    expect(revocation.data).toEqual({
      trackToken: { revocation: { tokenId: "tok-1" } },
      revokeToken: { newlyRevoked: true },
      revokePrincipal: { newlyRevoked: 0 },
      sweepExpiredRevocations: { swept: 0 },
    });
    const stats = await gql(url, readmeBlocks[3]!);
    expect(stats.errors).toBeUndefined();
    expect(stats.data.traceStats).toEqual({
      total: 1,
      groups: [{ reasonCode: "missing_role", principalId: "mallory", bucketStart: "2026-11-22T09:00:00+00:00", count: 1 }],
    });
    expect(await stop(gateway)).toBe(0);
  });

  it("continues the same chain after a restart, with the kept secret", async () => {
    const gateway = await startGateway();
    const { url } = gateway;
    const res = await gql(url, `mutation { recordTraces(input: [{ actionId: "after-restart", capabilityId: "c", principalId: "p",
      invokedAt: "2026-11-22T10:00:00Z", responseMode: SUMMARY }]) { seq } } `);
    // Two README traces, then one audit trace for each of the four revocation mutations.
    expect(res.data.recordTraces[0].seq).toBe(6);
    expect((await gql(url, "{ verifyChain { ok checked } }")).data.verifyChain).toEqual({ ok: true, checked: 7 });
    expect(await stop(gateway)).toBe(0);
  });

  it("refuses to start in production without a secret, with an error line and exit 1", async () => {
    await expect(startGateway({ NODE_ENV: "production" })).rejects.toThrow(/exited 1[\s\S]*error: TRACEGATE_HMAC_SECRET is required/);
  });
});

/**
 * SQLite disk full (issue 14, case 3), on a real small filesystem: a `tracegate serve`
 * process keeps its database on a 3 MiB tmpfs. Ingest until the first batch fails; then the
 * failure is a coded UNAVAILABLE (HTTP 503), nothing of it is stored, the chain verifies,
 * /readyz is 503 and every further write fails fast instead of hanging. Once space returns,
 * the next write succeeds and /readyz is 200 again, without a restart.
 *
 * Needs root (mount); skipped with a notice otherwise, except under CI=true, where it fails.
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_SECRET } from "../support/harness.js";
import { type GatewayProcess, postGraphQL, startGatewayProcess } from "../support/process.js";
import { invoke } from "../support/traces.js";
import { sleep } from "../support/wait.js";

const SUITE = "SQLite disk full";
const dir = mkdtempSync(join(tmpdir(), "tracegate-diskfull-"));
const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", dir], { encoding: "utf8" });
const problem = mounted.status === 0 ? null : `cannot mount a tmpfs (${(mounted.stderr || mounted.error?.message || "").trim()})`;
if (problem && process.env.CI === "true") throw new Error(`${SUITE}: ${problem}; a small filesystem is required when CI=true`);
if (problem) process.stderr.write(`\n!! ${problem}: "${SUITE}" is SKIPPED.\n\n`);

const RECORD = "mutation($input: [TraceInput!]!) { recordTraces(input: $input) { seq } }";

/** Fill what is left of the filesystem with one file (written until ENOSPC). */
function fillUp(path: string): void {
  const fd = openSync(path, "w");
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(problem !== null)(SUITE, { timeout: 120_000 }, () => {
  let g: GatewayProcess;
  let n = 0;
  const record = async (size: number, pad = 2_000) => {
    const input = Array.from({ length: size }, () => invoke(`df-${n++}`, { args: { pad: "x".repeat(pad) } }));
    const started = Date.now();
    const out = await postGraphQL<{ recordTraces: { seq: number }[] }>(g.url, RECORD, { input });
    return { ...out, ms: Date.now() - started };
  };
  const readyz = async () => {
    const res = await fetch(g.url.replace(/\/graphql$/, "/readyz"));
    return { status: res.status, body: (await res.json()) as { status: string; reason?: string; checks?: Record<string, string> } };
  };

  beforeAll(async () => {
    g = await startGatewayProcess({ DATABASE_URL: `file:${join(dir, "tracegate.db")}`, TRACEGATE_HMAC_SECRET: TEST_SECRET, TRACEGATE_DATA_DIR: dir });
  });
  afterAll(async () => {
    await g?.stop();
    spawnSync("umount", ["-l", dir]);
    rmdirSync(dir);
  });

  it("fails writes with UNAVAILABLE while the disk is full, reports not ready, and writes again once space returns", async () => {
    let acknowledged = 0;
    let failure: Awaited<ReturnType<typeof record>> | undefined;
    for (let i = 0; i < 200 && !failure; i++) {
      const r = await record(50);
      if (r.errors) failure = r;
      else acknowledged += r.data!.recordTraces.length;
    }
    expect(failure, "the filesystem never filled up").toBeDefined();
    expect(failure!.status).toBe(503);
    expect(failure!.errors![0]!.extensions).toMatchObject({ code: "UNAVAILABLE", retryAfterSeconds: 5 });
    // Whatever space the failed batch's rollback left, take it too: the disk is now really full.
    fillUp(join(dir, "filler"));

    // Not ready while writes cannot commit; writes fail fast, never hang.
    const notReady = await readyz();
    expect(notReady.status).toBe(503);
    expect(notReady.body).toMatchObject({ status: "unavailable", checks: { database: "up", writes: "down" } });
    expect(notReady.body.reason).toMatch(/full/i);
    for (let i = 0; i < 3; i++) {
      const r = await record(1);
      expect(r.errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
      expect(r.ms).toBeLessThan(10_000);
    }
    // Nothing half-stored: the chain holds exactly the acknowledged traces and verifies.
    const during = await postGraphQL<{ verifyChain: { ok: boolean; checked: number }; chainHead: { nextSeq: number } }>(
      g.url,
      "{ verifyChain { ok checked } chainHead { nextSeq } }",
    );
    expect(during.data).toEqual({ verifyChain: { ok: true, checked: acknowledged }, chainHead: { nextSeq: acknowledged } });

    // Space returns: delete the filler and grow the filesystem.
    rmSync(join(dir, "filler"));
    expect(spawnSync("mount", ["-o", "remount,size=64m", dir]).status).toBe(0);
    const deadline = Date.now() + 15_000;
    let ready = await readyz();
    while (ready.status !== 200 && Date.now() < deadline) {
      await sleep(200);
      ready = await readyz();
    }
    expect(ready.body).toMatchObject({ status: "ready", checks: { database: "up", writes: "up" } });
    const next = await record(50);
    expect(next.errors).toBeUndefined();
    expect(next.ms).toBeLessThan(10_000);
    expect(next.data!.recordTraces[0]!.seq).toBe(acknowledged);
    const after = await postGraphQL<{ verifyChain: { ok: boolean; checked: number } }>(g.url, "{ verifyChain { ok checked } }");
    expect(after.data!.verifyChain).toEqual({ ok: true, checked: acknowledged + 50 });
    expect(g.child.exitCode).toBeNull();
  });
});

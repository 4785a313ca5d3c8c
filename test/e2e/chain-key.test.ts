/**
 * The secret is checked before the first write (docs/chain-format.md): a real `tracegate
 * serve` started on an existing chain with another TRACEGATE_HMAC_SECRET refuses to start,
 * naming both key ids, and appends nothing; `doctor` fails the same way; the right secret
 * starts. A chain from before key ids (column null) is checked against its newest record,
 * an empty one records the key id on first open. Both backends.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { chainKeyId } from "../../src/chain/hash.js";
import { BACKENDS, type RawDb } from "../support/backends.js";
import { postGraphQL, runCli, startGatewayProcess } from "../support/process.js";

const SECRET_A = "chain-key-test-secret-a-0123456789abcdef";
const SECRET_B = "chain-key-test-secret-b-0123456789abcdef";
const ID_A = chainKeyId(SECRET_A);
const ID_B = chainKeyId(SECRET_B);

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Check = { name: string; status: string; detail: string };

describe.each(BACKENDS)("$name: the chain's key id", (backend) => {
  const dbs: RawDb[] = [];
  afterAll(async () => {
    for (const db of dbs) await db.close();
  });

  /** A fresh database and a data directory for its processes. */
  async function fresh() {
    const databaseUrl = await backend.freshDatabaseUrl();
    const dataDir = mkdtempSync(join(tmpdir(), "tracegate-chain-key-"));
    dirs.push(dataDir);
    const db = backend.rawDb(databaseUrl);
    dbs.push(db);
    const env = (secret: string) => ({ DATABASE_URL: databaseUrl, TRACEGATE_DATA_DIR: dataDir, TRACEGATE_HMAC_SECRET: secret, REDIS_URL: "" });
    const state = async () => {
      const [head] = await db.all<{ nextSeq: unknown; keyId: string | null }>(`SELECT "nextSeq", "keyId" FROM "ChainHead"`);
      const [{ n }] = (await db.all<{ n: unknown }>(`SELECT COUNT(*) AS "n" FROM "Trace"`)) as [{ n: unknown }];
      const epochs = await db.all<{ keyId: string; fromSeq: unknown }>(`SELECT "keyId", "fromSeq" FROM "ChainKey" ORDER BY "fromSeq"`);
      return {
        nextSeq: Number(head!.nextSeq),
        keyId: head!.keyId,
        records: Number(n),
        epochs: epochs.map((e) => ({ keyId: e.keyId, fromSeq: Number(e.fromSeq) })),
      };
    };
    const doctor = async (secret: string) => {
      const run = await runCli(["doctor", "--json"], { ...env(secret), NODE_ENV: "development", TRACEGATE_BOOTSTRAP_ADMIN_KEY: "" });
      return { code: run.code, check: (JSON.parse(run.stdout) as Check[]).find((c) => c.name === "chain_key"), stdout: run.stdout };
    };
    return { databaseUrl, db, env, state, doctor };
  }

  /** Start with `secret`, append `actionIds`, check the chain, stop. */
  async function appendWith(env: Record<string, string>, actionIds: string[]) {
    const gw = await startGatewayProcess(env);
    try {
      const input = actionIds.map((actionId) => ({ actionId, capabilityId: "c", principalId: "p", invokedAt: "2026-11-22T10:00:00Z", responseMode: "SUMMARY" }));
      const res = await postGraphQL(gw.url, "mutation($input: [TraceInput!]!) { recordTraces(input: $input) { seq } }", { input });
      expect(res.errors).toBeUndefined();
      const head = await postGraphQL(gw.url, "{ chainHead { keyId } verifyChain { ok } }");
      expect(head.data).toEqual({ chainHead: { keyId: ID_A }, verifyChain: { ok: true } });
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  }

  /** Starting with `secret` fails: exit 1 and one error line naming the configured key id (and the stored one). */
  async function refusedStart(env: Record<string, string>, stored: string | null) {
    const failure = await startGatewayProcess(env).then(
      () => new Error("the gateway started"),
      (e: Error) => e,
    );
    const message = failure.message;
    expect(message).toMatch(/^exited 1;/);
    const errorLines = message.split("\n").filter((l) => l.startsWith("error: "));
    expect(errorLines).toHaveLength(1);
    const line = errorLines[0]!;
    expect(line).toContain(`key id ${ID_B}`);
    expect(line).toContain(stored === null ? "stored key id: none" : `stored key id ${stored}`);
    expect(line).not.toContain(SECRET_B);
  }

  it("refuses another secret on a chain with a key id: serve exits 1 naming both ids, doctor fails, nothing appended", async () => {
    const { env, state, doctor } = await fresh();
    await appendWith(env(SECRET_A), ["a-0", "a-1"]);
    expect(await state()).toEqual({ nextSeq: 2, keyId: ID_A, records: 2, epochs: [{ keyId: ID_A, fromSeq: 0 }] });

    await refusedStart(env(SECRET_B), ID_A);
    expect(await state()).toEqual({ nextSeq: 2, keyId: ID_A, records: 2, epochs: [{ keyId: ID_A, fromSeq: 0 }] });

    const bad = await doctor(SECRET_B);
    expect(bad.code).toBe(1);
    expect(bad.check?.status).toBe("error");
    expect(bad.check?.detail).toContain(`key id ${ID_B}`);
    expect(bad.check?.detail).toContain(`stored key id ${ID_A}`);
    expect(bad.stdout).not.toContain(SECRET_B);

    const good = await doctor(SECRET_A);
    expect(good.check).toEqual({ name: "chain_key", status: "ok", detail: `the secret's key id ${ID_A} is the chain's` });
    expect(good.stdout).toContain(`key id ${ID_A}`);

    await appendWith(env(SECRET_A), ["a-2"]);
    expect(await state()).toMatchObject({ nextSeq: 3, keyId: ID_A, records: 3 });
  });

  it("checks a chain from before key ids against its newest record, then records the key id", async () => {
    const { db, env, state, doctor } = await fresh();
    await appendWith(env(SECRET_A), ["l-0", "l-1", "l-2"]);
    // As a database migrated from the previous version looks: a chain with no key id.
    await db.run(`UPDATE "ChainHead" SET "keyId" = NULL`);
    await db.run(`DELETE FROM "ChainKey"`);

    await refusedStart(env(SECRET_B), null);
    expect(await state()).toEqual({ nextSeq: 3, keyId: null, records: 3, epochs: [] });
    const bad = await doctor(SECRET_B);
    expect(bad.code).toBe(1);
    expect(bad.check?.status).toBe("error");
    expect(bad.check?.detail).toContain(`key id ${ID_B}`);
    expect(bad.check?.detail).toContain("does not verify the newest record (seq 2)");

    const good = await doctor(SECRET_A);
    expect(good.check).toMatchObject({ status: "ok", detail: expect.stringContaining(`key id ${ID_A} verifies the newest record (seq 2)`) });
    expect(await state()).toMatchObject({ keyId: null }); // doctor writes nothing

    await appendWith(env(SECRET_A), ["l-3"]);
    expect(await state()).toEqual({ nextSeq: 4, keyId: ID_A, records: 4, epochs: [{ keyId: ID_A, fromSeq: 0 }] });
    await refusedStart(env(SECRET_B), ID_A);
  });

  it("records the key id of an empty chain on first open, and then holds to it", async () => {
    const { env, state, doctor } = await fresh();
    expect(await state()).toEqual({ nextSeq: 0, keyId: null, records: 0, epochs: [] });
    expect((await doctor(SECRET_B)).check).toMatchObject({ status: "ok", detail: expect.stringContaining(`key id ${ID_B}; the empty chain records it`) });

    const gw = await startGatewayProcess(env(SECRET_A));
    expect((await postGraphQL(gw.url, "{ chainHead { nextSeq keyId } }")).data).toEqual({ chainHead: { nextSeq: 0, keyId: ID_A } });
    expect(await gw.stop()).toBe(0);
    expect(await state()).toEqual({ nextSeq: 0, keyId: ID_A, records: 0, epochs: [{ keyId: ID_A, fromSeq: 0 }] });
    await refusedStart(env(SECRET_B), ID_A);
  });
});

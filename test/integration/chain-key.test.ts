/**
 * The key check inside every append (src/stores/prisma/chain-key.ts): whatever opened the
 * stores (serve, import, a test), a secret that is not the chain's is refused in the append
 * transaction before anything is written, on both backends. The start-up refusal itself is
 * tested on real processes in test/e2e/chain-key.test.ts.
 */
import { afterAll, describe, expect, it } from "vitest";
import { chainKeyId } from "../../src/chain/hash.js";
import { encodeTrace } from "../../src/chain/trace.js";
import { ChainKeyMismatchError } from "../../src/stores/trace-store.js";
import { BACKENDS } from "../support/backends.js";
import { createTestGateway, dataOf, TEST_SECRET, type TestGateway } from "../support/harness.js";

const trace = (actionId: string) =>
  encodeTrace({
    actionId, capabilityId: "c", principalId: "p", tokenId: "", invokedAtUs: 1_767_225_600_000_000,
    responseMode: "summary", driverId: "", handleId: null, sensitivity: "NONE", eventType: "invoke",
    reasonCode: null, error: null, args: {}, resultSummary: null,
  });

describe.each(BACKENDS)("$name: the key check of an append", (backend) => {
  const gateways: TestGateway[] = [];
  afterAll(async () => {
    for (const g of gateways) await g.close();
  });
  const open = async (options: { databaseUrl?: string; secret?: string } = {}) => {
    const g = await createTestGateway({ backend, ...options });
    gateways.push(g);
    return g;
  };

  it("records the key id with the first append, and refuses another secret's append, writing nothing", async () => {
    const gw = await open();
    expect((await gw.stores.traces.head()).keyId).toBeNull();
    await gw.stores.traces.append([trace("k-0")]);
    expect(await gw.stores.traces.head()).toMatchObject({ nextSeq: 1, keyId: chainKeyId(TEST_SECRET) });

    const other = await open({ databaseUrl: gw.databaseUrl, secret: "another-secret" });
    const refused = await other.stores.traces.append([trace("k-1")]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ChainKeyMismatchError);
    expect(refused).toMatchObject({ storedKeyId: chainKeyId(TEST_SECRET), configuredKeyId: chainKeyId("another-secret") });
    await expect(other.stores.traces.claimChainKey()).rejects.toBeInstanceOf(ChainKeyMismatchError);
    expect(await gw.stores.traces.head()).toMatchObject({ nextSeq: 1, keyId: chainKeyId(TEST_SECRET) });
    expect(dataOf(await gw.raw("{ verifyChain { ok checked } chainHead { keyId } }"))).toEqual({
      verifyChain: { ok: true, checked: 1 },
      chainHead: { keyId: chainKeyId(TEST_SECRET) },
    });
  });

  it("on a chain without a key id, lets the secret of its newest record append and refuses any other", async () => {
    const gw = await open();
    await gw.stores.traces.append([trace("l-0"), trace("l-1")]);
    await gw.db().run(`UPDATE "ChainHead" SET "keyId" = NULL`);
    await gw.db().run(`DELETE FROM "ChainKey"`);

    const other = await open({ databaseUrl: gw.databaseUrl, secret: "another-secret" });
    await expect(other.stores.traces.append([trace("l-2")])).rejects.toThrow(/does not verify the newest record \(seq 1\).*stored key id: none/);
    expect(await other.stores.traces.checkChainKey(other.hash)).toMatchObject({ kind: "mismatch" });
    expect(await gw.stores.traces.checkChainKey(gw.hash)).toEqual({ kind: "unrecorded", keyId: chainKeyId(TEST_SECRET), verifiedSeq: 1 });

    await gw.stores.traces.append([trace("l-2")]);
    expect(await gw.stores.traces.head()).toMatchObject({ nextSeq: 3, keyId: chainKeyId(TEST_SECRET) });
    expect(await gw.db().all(`SELECT "keyId", "fromSeq" FROM "ChainKey"`)).toEqual([{ keyId: chainKeyId(TEST_SECRET), fromSeq: backend.name === "sqlite" ? 0 : "0" }]);
  });

  it("names a secret by a stable 16-hex key id", () => {
    // CPython: hmac.new(b"chain-test-secret", b"tracegate chain key id v1", hashlib.sha256).hexdigest()[:16]
    expect(chainKeyId("chain-test-secret")).toBe("e00096a4e16d1ae1");
    expect(chainKeyId(TEST_SECRET)).toMatch(/^[0-9a-f]{16}$/);
    expect(chainKeyId(TEST_SECRET)).toBe(chainKeyId(TEST_SECRET));
    expect(chainKeyId("another-secret")).not.toBe(chainKeyId(TEST_SECRET));
  });
});

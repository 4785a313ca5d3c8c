/**
 * Signed checkpoints end to end in process: createCheckpoint over GraphQL, the public-key
 * document at /.well-known/tracegate/checkpoint-key (no API key), and checkSignedCheckpoint
 * against a chain an attacker with database access has cut, rewound or rewritten.
 */
import { createPublicKey } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifyCheckpointSignature } from "../../src/chain/checkpoint.js";
import { parseTimestamp } from "../../src/chain/time.js";
import { checkSignedCheckpoint, type CheckpointContext, type SignedCheckpointInputShape } from "../../src/app/checkpoints.js";
import { CHECKPOINT_KEY_PATH } from "../../src/app/signing-key.js";
import {
  ChainHeadDocument,
  CheckpointPublicKeyDocument,
  type CreateCheckpointMutation,
  CreateCheckpointDocument,
  RecordTracesDocument,
} from "../gql/graphql.js";
import { BACKENDS } from "../support/backends.js";
import { codesOf, createTestGateway, dataOf, generateTestSigner, type TestGateway } from "../support/harness.js";
import { at, invoke } from "../support/traces.js";

const seed = Array.from({ length: 6 }, (_, i) => invoke(`t-${i}`, { invokedAt: at(i) }));

type Returned = CreateCheckpointMutation["createCheckpoint"];

/** The checkpoint as a client sends it back (GraphQL input SignedCheckpointInput, parsed). */
const asInput = (cp: Returned): SignedCheckpointInputShape => ({
  chainId: cp.chainId,
  seq: cp.seq,
  headHash: cp.headHash,
  createdAt: parseTimestamp(cp.createdAt),
  keyId: cp.keyId,
  signature: cp.signature,
});

const flip = (text: string, index: number) => text.slice(0, index) + (text[index] === "A" ? "B" : "A") + text.slice(index + 1);

describe.each(BACKENDS)("signed checkpoints ($name)", (backend) => {
  let gw: TestGateway;
  let ctx: CheckpointContext;

  beforeEach(async () => {
    gw = await createTestGateway({ backend });
    dataOf(await gw.exec(RecordTracesDocument, { input: seed }));
    ctx = { stores: gw.stores, signer: gw.signer };
  });
  afterEach(() => gw.close());

  const checkpoint = async () => dataOf(await gw.exec(CreateCheckpointDocument)).createCheckpoint;
  const sql = (statement: string, ...params: unknown[]) => gw.db().run(statement, ...params);
  const recordHashAt = async (seq: number) =>
    (await gw.db().all<{ recordHash: string }>(`SELECT "recordHash" FROM "Trace" WHERE "seq" = ?`, seq))[0]!.recordHash;

  it("createCheckpoint signs the current head", async () => {
    const before = Date.now();
    const cp = await checkpoint();
    const head = dataOf(await gw.exec(ChainHeadDocument)).chainHead;
    const stored = await gw.stores.traces.head();
    expect(cp).toMatchObject({ seq: 5, headHash: head.headHash, chainId: stored.chainId, keyId: gw.signer!.keyId, algorithm: "Ed25519" });
    expect(stored.chainId).not.toBe("");
    expect(cp.headHash).toBe(await recordHashAt(5));
    const createdMs = parseTimestamp(cp.createdAt) / 1000;
    expect(createdMs).toBeGreaterThanOrEqual(before - 1);
    expect(createdMs).toBeLessThanOrEqual(Date.now() + 1);
    expect(verifyCheckpointSignature({ ...asInput(cp), createdAtUs: parseTimestamp(cp.createdAt) }, gw.signer!.publicKey)).toBe(true);
  });

  it("serves the public key at the well-known path without an API key, matching checkpointPublicKey", async () => {
    const res = await gw.app.yoga.fetch(`http://tracegate.test${CHECKPOINT_KEY_PATH}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const doc = (await res.json()) as { keyId: string; algorithm: string; publicKeyPem: string };
    const reader = await gw.issueKey(["traces:read"]);
    expect(dataOf(await gw.as(reader).exec(CheckpointPublicKeyDocument)).checkpointPublicKey).toEqual(doc);
    expect(doc).toMatchObject({ keyId: gw.signer!.keyId, algorithm: "Ed25519" });
    expect(doc.publicKeyPem).toContain("BEGIN PUBLIC KEY");
    expect(doc.publicKeyPem).not.toContain("PRIVATE");
    // The document alone verifies a checkpoint.
    const cp = await checkpoint();
    const signed = { ...asInput(cp), createdAtUs: parseTimestamp(cp.createdAt) };
    expect(verifyCheckpointSignature(signed, createPublicKey(doc.publicKeyPem))).toBe(true);
    expect(verifyCheckpointSignature({ ...signed, seq: 4 }, createPublicKey(doc.publicKeyPem))).toBe(false);
    const post = await gw.app.yoga.fetch(`http://tracegate.test${CHECKPOINT_KEY_PATH}`, { method: "POST" });
    expect(post.status).toBe(405);
  });

  it("is consistent with an untouched chain, and still after more appends", async () => {
    const cp = asInput(await checkpoint());
    expect(await checkSignedCheckpoint(ctx, cp)).toBeNull();
    dataOf(await gw.exec(RecordTracesDocument, { input: [invoke("t-6"), invoke("t-7")] }));
    expect(await checkSignedCheckpoint(ctx, cp)).toBeNull();
  });

  it("TRUNCATED: the newest rows deleted and the head rewound", async () => {
    const cp = asInput(await checkpoint());
    const newHead = await recordHashAt(2);
    await sql(`DELETE FROM "Trace" WHERE "seq" >= 3`);
    await sql(`UPDATE "ChainHead" SET "nextSeq" = ?, "headHash" = ? WHERE "id" = 1`, 3, newHead);
    const result = await checkSignedCheckpoint(ctx, cp);
    expect(result).toMatchObject({ ok: false, kind: "TRUNCATED", firstBadSeq: 3 });
    expect(result!.detail).toContain("through seq 5");
  });

  it("MUTATED: the tail cut, the head rewound and the chain regrown with other records", async () => {
    const cp = asInput(await checkpoint());
    await sql(`DELETE FROM "Trace" WHERE "seq" >= 3`);
    await sql(`UPDATE "ChainHead" SET "nextSeq" = ?, "headHash" = ? WHERE "id" = 1`, 3, await recordHashAt(2));
    dataOf(await gw.exec(RecordTracesDocument, { input: [invoke("r-3"), invoke("r-4"), invoke("r-5"), invoke("r-6")] }));
    // The chain itself is now whole again; only the checkpoint shows seq 5 was replaced.
    expect(await checkSignedCheckpoint(ctx, cp)).toMatchObject({ ok: false, kind: "MUTATED", firstBadSeq: 5 });
  });

  it("TRUNCATED: the record the checkpoint vouches for is missing", async () => {
    const cp = asInput(await checkpoint());
    await sql(`DELETE FROM "Trace" WHERE "seq" = 5`);
    expect(await checkSignedCheckpoint(ctx, cp)).toMatchObject({ ok: false, kind: "TRUNCATED", firstBadSeq: 5 });
  });

  it("no failure when a seq prefix through the checkpoint was pruned", async () => {
    const cp = asInput(await checkpoint());
    dataOf(await gw.exec(RecordTracesDocument, { input: [invoke("t-6"), invoke("t-7")] }));
    await sql(`DELETE FROM "Trace" WHERE "seq" <= 5`);
    expect(await checkSignedCheckpoint(ctx, cp)).toBeNull();
  });

  it("MUTATED: the record hash at the checkpoint's seq rewritten", async () => {
    const cp = asInput(await checkpoint());
    await sql(`UPDATE "Trace" SET "recordHash" = ? WHERE "seq" = 5`, "a".repeat(64));
    expect(await checkSignedCheckpoint(ctx, cp)).toMatchObject({ ok: false, kind: "MUTATED", firstBadSeq: 5 });
  });

  it("CHECKPOINT_INVALID: an altered signature or field, another chain, an unknown key", async () => {
    const cp = asInput(await checkpoint());
    const invalid = { ok: false, kind: "CHECKPOINT_INVALID", firstBadSeq: null };
    expect(await checkSignedCheckpoint(ctx, { ...cp, signature: flip(cp.signature, 10) })).toMatchObject(invalid);
    expect(await checkSignedCheckpoint(ctx, { ...cp, signature: cp.signature.slice(0, -2) })).toMatchObject(invalid);
    expect(await checkSignedCheckpoint(ctx, { ...cp, chainId: "another-chain" })).toMatchObject(invalid);
    expect(await checkSignedCheckpoint(ctx, { ...cp, seq: 4 })).toMatchObject(invalid);
    expect(await checkSignedCheckpoint(ctx, { ...cp, createdAt: cp.createdAt + 1 })).toMatchObject(invalid);
    // Genuinely signed by this server's key, but for another chain.
    const foreign = gw.signer!.sign({ chainId: "another-chain", seq: cp.seq, headHash: cp.headHash, createdAtUs: cp.createdAt });
    const result = await checkSignedCheckpoint(ctx, { ...foreign, createdAt: foreign.createdAtUs });
    expect(result).toMatchObject(invalid);
    expect(result!.detail).toContain("another-chain");
    // Signed by a key this server does not hold.
    const stranger = generateTestSigner().sign({ chainId: cp.chainId, seq: cp.seq, headHash: cp.headHash, createdAtUs: cp.createdAt });
    const unknown = await checkSignedCheckpoint(ctx, { ...stranger, createdAt: stranger.createdAtUs });
    expect(unknown).toMatchObject(invalid);
    expect(unknown!.detail).toContain("unknown key");
  });

  it("FORBIDDEN: createCheckpoint needs an admin key; the public key only a key", async () => {
    const writer = await gw.issueKey(["traces:read", "traces:write"]);
    expect(codesOf(await gw.as(writer).exec(CreateCheckpointDocument))).toEqual(["FORBIDDEN"]);
    expect(dataOf(await gw.as(writer).exec(CheckpointPublicKeyDocument)).checkpointPublicKey?.keyId).toBe(gw.signer!.keyId);
    const res = await gw.as(null).exec(CheckpointPublicKeyDocument);
    expect(codesOf(res)).toEqual(["UNAUTHENTICATED"]);
  });
});

describe("checkpoint edge cases", () => {
  it("BAD_USER_INPUT on an empty chain", async () => {
    const gw = await createTestGateway();
    try {
      const res = await gw.exec(CreateCheckpointDocument);
      expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
      expect(res.errors![0]!.message).toMatch(/nothing to checkpoint/);
    } finally {
      await gw.close();
    }
  });

  it("without a signing key: NOT_CONFIGURED, a null public key and a 404 document", async () => {
    const gw = await createTestGateway({ signer: null });
    try {
      dataOf(await gw.exec(RecordTracesDocument, { input: seed }));
      expect(codesOf(await gw.exec(CreateCheckpointDocument))).toEqual(["NOT_CONFIGURED"]);
      expect(dataOf(await gw.exec(CheckpointPublicKeyDocument)).checkpointPublicKey).toBeNull();
      const res = await gw.app.yoga.fetch(`http://tracegate.test${CHECKPOINT_KEY_PATH}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: expect.stringContaining("no checkpoint signing key") });
      const signed = generateTestSigner().sign({ chainId: "c", seq: 0, headHash: "0".repeat(64), createdAtUs: 0 });
      await expect(checkSignedCheckpoint({ stores: gw.stores }, { ...signed, createdAt: 0 })).rejects.toMatchObject({
        extensions: { code: "NOT_CONFIGURED" },
      });
    } finally {
      await gw.close();
    }
  });
});

/**
 * The chain items of the reference's tamper checklist
 * (docs/reference-compatibility.md#tamper-checklist, from weaver-kernel
 * tests/test_audit_chain.py), with the same secret and record shape, run against tracegate's
 * hash and streaming verifier.
 */
import { describe, expect, it } from "vitest";
import { createRecordHasher, GENESIS_HASH } from "../../../src/chain/hash.js";
import { canonicalJson } from "../../../src/chain/json.js";
import { type ChainRecord, verifyRecords } from "../../../src/chain/verify.js";

const SECRET = "chain-test-secret";
const hash = createRecordHasher(SECRET);

/** A chain of n records with trace {"action_id": "a<i>", "n": i}, as the reference's tests build it. */
function buildChain(n: number, start = 0, prev = GENESIS_HASH): ChainRecord[] {
  const records: ChainRecord[] = [];
  for (let i = start; i < start + n; i++) {
    const payload = canonicalJson({ action_id: `a${i}`, n: BigInt(i) });
    const recordHash = hash(i, prev, payload);
    records.push({ seq: i, prevHash: prev, recordHash, payload });
    prev = recordHash;
  }
  return records;
}

const verify = (records: ChainRecord[], secret = SECRET, expectedPrevHash = GENESIS_HASH) =>
  verifyRecords(records, { hash: createRecordHasher(secret), expectedPrevHash });

describe("reference chain checklist", () => {
  it("reproduces the reference's test vector", () => {
    expect(hash(0, GENESIS_HASH, '{"action_id":"a0","n":0}')).toBe(
      "57958f5c03db91330b38848806f17af98a9550e433ed70cebda0f886152a8402",
    );
  });

  it("verifies an empty chain with 0 checked", async () => {
    expect(await verify([])).toEqual({ ok: true, checked: 0, firstBadSeq: null, kind: null, detail: "Verified 0 record(s)." });
  });

  it("verifies a valid chain of 5", async () => {
    const result = await verify(buildChain(5));
    expect(result).toMatchObject({ ok: true, checked: 5, firstBadSeq: null, detail: "Verified 5 record(s)." });
  });

  it("starts at genesis", () => {
    expect(buildChain(1)[0]?.prevHash).toBe("0".repeat(64));
  });

  it("hashes deterministically", () => {
    expect(buildChain(3)).toEqual(buildChain(3));
  });

  it("detects a mutation at its seq", async () => {
    const chain = buildChain(4);
    chain[2] = { ...chain[2]!, payload: canonicalJson({ action_id: "a2", n: 999n }) };
    const result = await verify(chain);
    expect(result).toMatchObject({ ok: false, firstBadSeq: 2, kind: "MUTATED", checked: 3 });
    expect(result.detail).toContain("Tampered");
  });

  it("detects a deletion as non-contiguous at the next seq", async () => {
    const chain = buildChain(4);
    chain.splice(2, 1);
    expect(await verify(chain)).toMatchObject({ ok: false, firstBadSeq: 3, kind: "NON_CONTIGUOUS" });
  });

  it("detects a correctly HMAC'd forged insertion", async () => {
    const chain = buildChain(4);
    const payload = canonicalJson({ action_id: "forged", n: 1n });
    const forged = { seq: 1, prevHash: chain[0]!.recordHash, recordHash: hash(1, chain[0]!.recordHash, payload), payload };
    chain.splice(1, 0, forged);
    const result = await verify(chain);
    expect(result.ok).toBe(false);
    expect(result.firstBadSeq).toBe(1);
  });

  it("detects a reorder at the first swapped seq", async () => {
    const chain = buildChain(4);
    [chain[1], chain[2]] = [chain[2]!, chain[1]!];
    expect(await verify(chain)).toMatchObject({ ok: false, firstBadSeq: 2, kind: "NON_CONTIGUOUS" });
  });

  it("fails at seq 0 with the wrong secret", async () => {
    expect(await verify(buildChain(3), "another-secret")).toMatchObject({ ok: false, firstBadSeq: 0, kind: "MUTATED" });
  });

  it("verifies a pruned suffix only from its checkpoint hash", async () => {
    const chain = buildChain(5);
    const suffix = chain.slice(2);
    expect((await verify(suffix)).ok).toBe(false);
    expect(await verify(suffix, SECRET, chain[1]!.recordHash)).toMatchObject({ ok: true, checked: 3 });
  });

  it("detects a broken link when seqs are intact", async () => {
    const chain = buildChain(3);
    chain[2] = { ...chain[2]!, prevHash: "f".repeat(64) };
    expect(await verify(chain)).toMatchObject({ ok: false, firstBadSeq: 2, kind: "BROKEN_LINK" });
  });
});

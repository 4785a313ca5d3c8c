/**
 * The record-hash pool (src/chain/hash-pool.ts) against the record hasher on this thread: the
 * same records are judged the same way, whichever record is the first bad one and however
 * it is bad, across several workers and concurrent batches.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createRecordHasher, GENESIS_HASH } from "../../../src/chain/hash.js";
import { RecordHashPool } from "../../../src/chain/hash-pool.js";
import type { ChainRecord } from "../../../src/chain/verify.js";

const hash = createRecordHasher("hash-pool-test-secret");
const pool = new RecordHashPool(hash, 2);
afterAll(() => pool.close());

function chain(n: number, from = 0): ChainRecord[] {
  const out: ChainRecord[] = [];
  let prevHash = GENESIS_HASH;
  for (let i = 0; i < n; i++) {
    const seq = from + i;
    // Non-ASCII, an escaped lone surrogate and a big number: the bytes hashed must be UTF-8.
    const payload = `{"action_id":"a-${seq}","args":{"n":12345678901234567890,"s":"é✓😀\\ud83d"},"principal_id":"p"}`;
    const recordHash = hash(seq, prevHash, payload);
    out.push({ seq, prevHash, recordHash, payload });
    prevHash = recordHash;
  }
  return out;
}

/** The first index the hasher on this thread rejects, or -1. */
function inline(records: readonly ChainRecord[]): number {
  return records.findIndex((r) => {
    try {
      return hash(r.seq, r.prevHash, r.payload) !== r.recordHash;
    } catch {
      return true;
    }
  });
}

describe("RecordHashPool", () => {
  it("finds no mismatch in a genuine chain, in batches on several workers at once", async () => {
    const records = chain(3_000);
    const batches = [records.slice(0, 1_000), records.slice(1_000, 2_000), records.slice(2_000)];
    expect(await Promise.all(batches.map((b) => pool.firstMismatch(b)))).toEqual([-1, -1, -1]);
  });

  const cases: [string, (r: ChainRecord) => ChainRecord][] = [
    ["an edited payload", (r) => ({ ...r, payload: r.payload.replace("a-", "b-") })],
    ["one character changed in the stored hash", (r) => ({ ...r, recordHash: `${r.recordHash.slice(0, 63)}${r.recordHash.endsWith("0") ? "1" : "0"}` })],
    ["an uppercase stored hash", (r) => ({ ...r, recordHash: r.recordHash.toUpperCase() })],
    ["a short stored hash", (r) => ({ ...r, recordHash: r.recordHash.slice(0, 62) })],
    ["a stored hash that is not hex", (r) => ({ ...r, recordHash: `zz${r.recordHash.slice(2)}` })],
    ["a malformed prev_hash", (r) => ({ ...r, prevHash: "not-a-hash" })],
    ["another seq", (r) => ({ ...r, seq: r.seq + 1 })],
    ["a negative seq", (r) => ({ ...r, seq: -1 })],
  ];
  it.each(cases)("points at the first record with %s, as the hasher on this thread does", async (_, tamper) => {
    const records = chain(500, 7);
    for (const at of [0, 123, 499]) {
      const batch = records.map((r, i) => (i === at || i === at + 3 ? tamper(r) : r));
      expect(inline(batch)).toBe(at);
      expect(await pool.firstMismatch(batch)).toBe(at);
    }
  });

  it("refuses a hasher without a key", () => {
    const bare = Object.assign((seq: number, prevHash: string, payload: string) => hash(seq, prevHash, payload), { keyId: hash.keyId });
    expect(() => new RecordHashPool(bare)).toThrow(/no key/);
  });

  it("keeps the secret's key out of enumeration", () => {
    expect(Object.keys(hash)).not.toContain("key");
    expect(JSON.stringify({ ...hash })).not.toContain("secret");
  });
});

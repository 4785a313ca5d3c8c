/**
 * Retention (issue 5): pruneTraces deletes a seq prefix and leaves an authenticated
 * checkpoint. The reference's two flaws are shown fixed — a time-based prune under skewed
 * clocks keeps the chain verifiable, and a checkpoint forged or edited in the database is
 * reported as CHECKPOINT_INVALID — plus the prune items of
 * docs/reference-compatibility.md#tamper-checklist and the scheduled sweep. Both backends.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RecordTracesDocument } from "../gql/graphql.js";
import { createCheckpointMac } from "../../src/chain/checkpoint.js";
import { createLogger } from "../../src/logger.js";
import { scheduleRetention } from "../../src/http/retention-schedule.js";
import { BACKENDS } from "../support/backends.js";
import { codesOf, createTestGateway, dataOf, TEST_SECRET, type TestGateway } from "../support/harness.js";
import { at, invoke } from "../support/traces.js";

type Verification = { ok: boolean; checked: number; firstBadSeq: number | null; kind: string | null; detail: string };
type Prune = { pruned: number; checkpoint: { seq: number; recordHash: string } | null; auditTrace: { seq: number; principalId: string; capabilityId: string } };

const PRUNE = `mutation($beforeSeq: SafeInt, $before: DateTime) {
  pruneTraces(beforeSeq: $beforeSeq, before: $before) {
    pruned checkpoint { seq recordHash } auditTrace { seq principalId capabilityId } } }`;

describe.each(BACKENDS)("$name: retention", (backend) => {
  let gw: TestGateway;
  beforeEach(async () => {
    gw = await createTestGateway({ backend });
  });
  afterEach(() => gw.close());

  const record = async (minutes: number[]) =>
    dataOf(await gw.exec(RecordTracesDocument, { input: minutes.map((m, i) => invoke(`r-${i}`, { invokedAt: at(m) })) }));
  const prune = async (variables: { beforeSeq?: number; before?: string }) => (dataOf(await gw.raw(PRUNE, variables)) as { pruneTraces: Prune }).pruneTraces;
  const verify = async (args = "") => (dataOf(await gw.raw(`{ verifyChain${args} { ok checked firstBadSeq kind detail } }`)) as { verifyChain: Verification }).verifyChain;
  const seqs = async () =>
    ((dataOf(await gw.raw("{ traces(first: 500) { edges { node { seq actionId } } } }")) as { traces: { edges: { node: { seq: number; actionId: string } }[] } }).traces.edges.map(
      (e) => e.node,
    ));

  it("prunes a seq prefix, leaves a checkpoint, logs itself, and the rest verifies", async () => {
    const written = await record([0, 1, 2, 3, 4]);
    const result = await prune({ beforeSeq: 2 });
    expect(result.pruned).toBe(2);
    expect(result.checkpoint).toEqual({ seq: 1, recordHash: written.recordTraces[1]!.recordHash });
    expect(result.auditTrace).toMatchObject({ seq: 5, principalId: expect.stringMatching(/^key_/), capabilityId: "tracegate.pruneTraces" });
    expect((await seqs()).map((n) => n.seq)).toEqual([2, 3, 4, 5]);
    expect(await verify()).toMatchObject({ ok: true, checked: 4 });
    // Appending continues the numbering and links on.
    dataOf(await gw.exec(RecordTracesDocument, { input: [invoke("after-prune")] }));
    expect(await verify()).toMatchObject({ ok: true, checked: 5 });
    // A range starting inside the pruned prefix starts at the checkpoint.
    expect(await verify("(fromSeq: 0, toSeq: 3)")).toMatchObject({ ok: true, checked: 2 });
  });

  it("prunes by time only up to the first record that is not older, so skewed clocks keep the chain whole", async () => {
    // The reference's failing case: times d0, d2, d1, d3 in seq order, prune before d2. It
    // deleted seq 0 and 2 and then reported a broken link.
    await record([0, 2, 1, 3]);
    const result = await prune({ before: at(2) });
    expect(result.pruned).toBe(1);
    expect((await seqs()).map((n) => n.actionId)).toEqual(["r-1", "r-2", "r-3", expect.stringMatching(/^tracegate-/)]);
    expect(await verify()).toMatchObject({ ok: true, kind: null });
  });

  it("matches the reference on daily records: prune before day 2 removes 2 and verifies", async () => {
    const DAY = 24 * 60;
    await record([0, DAY, 2 * DAY, 3 * DAY, 4 * DAY]);
    expect((await prune({ before: at(2 * DAY) })).pruned).toBe(2);
    expect((await seqs()).slice(0, 3).map((n) => n.actionId)).toEqual(["r-2", "r-3", "r-4"]);
    expect(await verify()).toMatchObject({ ok: true });
    // A prune that matches nothing returns 0 and leaves the checkpoint as it was.
    const none = await prune({ before: at(0) });
    expect(none.pruned).toBe(0);
    expect(none.checkpoint?.seq).toBe(1);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it("refuses bad arguments with BAD_USER_INPUT and non-admin keys with FORBIDDEN, writing nothing", async () => {
    await record([0, 1]);
    // A cut beyond the chain or in the future is a typo that would delete everything.
    const future = new Date(Date.now() + 86_400_000).toISOString();
    for (const variables of [{}, { beforeSeq: 1, before: at(1) }, { beforeSeq: -1 }, { beforeSeq: 3 }, { before: future }]) {
      expect(codesOf(await gw.raw(PRUNE, variables))).toEqual(["BAD_USER_INPUT"]);
    }
    const reader = await gw.issueKey(["traces:read", "traces:write", "revocations:write"]);
    expect(codesOf(await gw.as(reader).raw(PRUNE, { beforeSeq: 1 }))).toEqual(["FORBIDDEN"]);
    expect((await seqs()).map((n) => n.seq)).toEqual([0, 1]);
  });

  describe("tampering with the checkpoint", () => {
    it("reports a checkpoint forged by someone who can write the database as CHECKPOINT_INVALID", async () => {
      // The reference's forgery: delete a prefix and point the checkpoint at the (public)
      // hash of the last deleted record. Without the chain secret the MAC cannot be made.
      const written = await record([0, 1, 2, 3]);
      const db = gw.db();
      await db.run(`DELETE FROM "Trace" WHERE "seq" < 2`);
      await db.run(
        `INSERT INTO "PruneCheckpoint" ("id", "seq", "recordHash", "createdAtUs", "mac") VALUES (1, 1, ?, 0, ?)`,
        written.recordTraces[1]!.recordHash,
        "0".repeat(64),
      );
      expect(await verify()).toMatchObject({ ok: false, kind: "CHECKPOINT_INVALID", firstBadSeq: 2 });
    });

    it("reports an edited genuine checkpoint as CHECKPOINT_INVALID", async () => {
      await record([0, 1, 2, 3, 4]);
      await prune({ beforeSeq: 2 });
      // Pretend more was pruned: move the checkpoint forward to hide deleted records.
      await gw.db().run(`DELETE FROM "Trace" WHERE "seq" < 4`);
      const [{ recordHash }] = (await gw.db().all<{ recordHash: string }>(`SELECT "recordHash" FROM "Trace" WHERE "seq" = 4`)) as [{ recordHash: string }];
      await gw.db().run(`UPDATE "PruneCheckpoint" SET "seq" = 3, "recordHash" = ?`, recordHash);
      expect(await verify()).toMatchObject({ ok: false, kind: "CHECKPOINT_INVALID" });
    });

    it("reports a prefix deleted without a checkpoint, or behind an older one, as NON_CONTIGUOUS", async () => {
      await record([0, 1, 2, 3, 4, 5]);
      await prune({ beforeSeq: 1 });
      // Replaying the genuine older checkpoint does not cover records deleted later.
      await gw.db().run(`DELETE FROM "Trace" WHERE "seq" < 3`);
      expect(await verify()).toMatchObject({ ok: false, kind: "NON_CONTIGUOUS", firstBadSeq: 3 });
      await gw.db().run(`DELETE FROM "PruneCheckpoint"`);
      expect(await verify()).toMatchObject({ ok: false, kind: "NON_CONTIGUOUS" });
    });

    it("fails a checkpoint made under another chain secret", async () => {
      await record([0, 1, 2]);
      await prune({ beforeSeq: 1 });
      const other = await createTestGateway({ backend, databaseUrl: gw.databaseUrl, secret: "another-secret" });
      try {
        const res = dataOf(await other.raw("{ verifyChain { ok kind } }")) as { verifyChain: { ok: boolean; kind: string } };
        expect(res.verifyChain).toEqual({ ok: false, kind: "CHECKPOINT_INVALID" });
      } finally {
        await other.close();
      }
    });
  });

  it("runs the scheduled sweep: records older than the retention period go, the chain verifies", async () => {
    await record([0, 1, 2, 3]);
    // "Now" is 2 minutes after at(3); retention 2.5 minutes keeps at(1) and later.
    const now = Date.parse(at(5)) ;
    const schedule = scheduleRetention({
      traces: gw.stores.traces,
      mac: createCheckpointMac(TEST_SECRET),
      retentionMs: 4.5 * 60_000,
      intervalMs: 60_000,
      logger: createLogger("silent"),
      now: () => now,
    });
    const result = await schedule.runOnce();
    await schedule.stop();
    expect(result.pruned).toBe(1);
    expect(result.auditTrace.principalId).toBe("retention");
    expect((await seqs())[0]!.actionId).toBe("r-1");
    expect(await verify()).toMatchObject({ ok: true });
  });

  it("exposes the checkpoint to unscoped readers only", async () => {
    await record([0, 1, 2]);
    await prune({ beforeSeq: 2 });
    const scoped = await gw.issueKey(["traces:read"], ["alice"]);
    expect(codesOf(await gw.as(scoped).raw("{ pruneCheckpoint { seq } }"))).toEqual(["FORBIDDEN"]);
    expect(dataOf(await gw.raw("{ pruneCheckpoint { seq signed keyId } }"))).toEqual({
      pruneCheckpoint: { seq: 1, signed: true, keyId: gw.signer!.keyId },
    });
  });

  it("reports a prune checkpoint whose signature was altered as CHECKPOINT_INVALID", async () => {
    await record([0, 1, 2]);
    await prune({ beforeSeq: 1 });
    const [{ signature }] = (await gw.db().all<{ signature: string }>(`SELECT "signature" FROM "PruneCheckpoint"`)) as [{ signature: string }];
    const flipped = (signature[0] === "A" ? "B" : "A") + signature.slice(1);
    await gw.db().run(`UPDATE "PruneCheckpoint" SET "signature" = ?`, flipped);
    expect(await verify()).toMatchObject({ ok: false, kind: "CHECKPOINT_INVALID" });
  });

  describe("verifyChain against a signed checkpoint", () => {
    const CREATE = "mutation { createCheckpoint { chainId seq headHash createdAt keyId signature } }";
    const VERIFY = `query($cp: SignedCheckpointInput) { verifyChain(checkpoint: $cp) { ok kind firstBadSeq detail } }`;
    const verifyWith = async (cp: unknown) => (dataOf(await gw.raw(VERIFY, { cp })) as { verifyChain: Verification }).verifyChain;

    it("detects a cut tail with a rewound head, which the bare chain cannot", async () => {
      await record([0, 1, 2, 3, 4]);
      const cp = (dataOf(await gw.raw(CREATE)) as { createCheckpoint: Record<string, unknown> & { seq: number } }).createCheckpoint;
      expect(cp.seq).toBe(4);
      expect(await verifyWith(cp)).toMatchObject({ ok: true });
      // An attacker with database access (but not the secret) cuts the last two records and
      // rewinds the head to the new last record: the chain on its own still verifies.
      const db = gw.db();
      await db.run(`DELETE FROM "Trace" WHERE "seq" >= 3`);
      const [{ recordHash }] = (await db.all<{ recordHash: string }>(`SELECT "recordHash" FROM "Trace" WHERE "seq" = 2`)) as [{ recordHash: string }];
      await db.run(`UPDATE "ChainHead" SET "nextSeq" = 3, "headHash" = ?`, recordHash);
      expect(await verify()).toMatchObject({ ok: true });
      expect(await verifyWith(cp)).toMatchObject({ ok: false, kind: "TRUNCATED", firstBadSeq: 3 });
    });

    it("refuses a checkpoint with an altered field as CHECKPOINT_INVALID", async () => {
      await record([0, 1]);
      const cp = (dataOf(await gw.raw(CREATE)) as { createCheckpoint: Record<string, unknown> }).createCheckpoint;
      expect(await verifyWith({ ...cp, seq: 0 })).toMatchObject({ ok: false, kind: "CHECKPOINT_INVALID" });
    });
  });
});

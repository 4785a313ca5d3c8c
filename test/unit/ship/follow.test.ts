/**
 * Reading a followed store (src/ship/follow.ts): complete lines only, the file's identity and
 * the saved position checked before anything new is read, and verification stopping at the
 * first bad record with the verified ones handed out before it.
 */
import { appendFileSync, renameSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRecordHasher } from "../../../src/chain/hash.js";
import { StoreFile, type VerifiedRecord } from "../../../src/ship/follow.js";
import { initialState, type ShipState } from "../../../src/ship/state.js";
import { hash, scratch, shipErrorOf, stateAfter, storeLines } from "./store.js";

let dir: string;
let cleanup: () => void;
let path: string;
let paths: { path: string; statePath: string };
beforeEach(() => {
  ({ dir, cleanup } = scratch());
  path = join(dir, "store.jsonl");
  paths = { path, statePath: `${path}.tracegate-ship.json` };
});
afterEach(() => cleanup());

/** Open the store for `state` and read what it verifies; the file is closed again. */
async function poll(state: ShipState, over: { hasher?: typeof hash; signal?: AbortSignal } = {}) {
  const file = (await StoreFile.open(paths, state, false))!;
  try {
    await file.checkSavedPosition(state);
    const records: VerifiedRecord[] = [];
    for await (const r of file.records(state, over.hasher ?? hash, over.signal)) records.push(r);
    return { records, failure: file.failure, interrupted: file.interrupted, identity: file.identity, partial: await file.partialBytes(records.at(-1)?.line.end ?? state.offset) };
  } finally {
    await file.close();
  }
}

describe("following a store", () => {
  it("reads complete lines only: a partial last line is left for the next poll", async () => {
    const { lines } = storeLines(4);
    const half = lines[3]!.slice(0, 40);
    writeFileSync(path, lines.slice(0, 3).join("") + "\n" + half); // a blank line, then a line being written
    const first = await poll(initialState(path));
    expect(first.records.map((r) => [r.seq, r.actionId, r.lineNo])).toEqual([[0, "t-0", 1], [1, "t-1", 2], [2, "t-2", 3]]);
    expect(first.records[1]!.line).toEqual({ start: Buffer.byteLength(lines[0]!), end: Buffer.byteLength(lines[0]! + lines[1]!), text: lines[1]!.trimEnd() });
    expect(first.records[0]!.text).toBe('{"action_id":"t-0","args":{"n":0},"capability_id":"db.query"}');
    expect(first.failure).toBeNull();
    expect(first.partial).toBe(half.length); // only the line without a newline yet
    expect((await poll(initialState(path))).records).toHaveLength(3); // nothing consumed it: read again

    // The writer finishes the line; the next poll, from the saved position, reads exactly it.
    appendFileSync(path, lines[3]!.slice(40));
    const state = stateAfter(path, lines, 3, first.identity);
    const next = await poll(state);
    expect(next.records.map((r) => [r.seq, r.lineNo])).toEqual([[3, 5]]);
    expect(next.partial).toBe(0);
  });

  it("detects truncation, rotation and a file that is gone (ROTATED) before reading anything new", async () => {
    const { lines } = storeLines(6);
    writeFileSync(path, lines.slice(0, 4).join(""));
    const { identity } = await poll(initialState(path));
    const state = stateAfter(path, lines, 4, identity);

    // Truncated below the offset.
    truncateSync(path, Buffer.byteLength(lines[0]!));
    let error = await shipErrorOf(() => StoreFile.open(paths, state, false));
    expect(error.code).toBe("ROTATED");
    expect(error.message).toMatch(/truncated or rotated \(size \d+ is below the saved offset \d+\); nothing from the new file was sent\. Shipping stopped after seq 3; to ship the new file from its start, move .*store\.jsonl\.tracegate-ship\.json away\./);

    // Regrown past the offset with other records (same inode): the last shipped line moved.
    const other = storeLines(6, 0, undefined, "other").lines;
    writeFileSync(path, other.join(""));
    error = await shipErrorOf(() => poll(state));
    expect(error.code).toBe("ROTATED");
    expect(error.message).toMatch(/the line at byte \d+ is no longer seq 3 with record_hash [0-9a-f]{12}\.\.\./);

    // Appended records that do not continue the saved chain (another store's).
    writeFileSync(path, lines.slice(0, 4).join("") + other.slice(4).join(""));
    error = await shipErrorOf(() => poll(state));
    expect(error.code).toBe("ROTATED");
    expect(error.message).toMatch(/the record after the saved offset is seq 4, which does not continue seq 3/);

    // Rotated: another file renamed over the path.
    writeFileSync(join(dir, "new.jsonl"), lines.join(""));
    renameSync(join(dir, "new.jsonl"), path);
    error = await shipErrorOf(() => StoreFile.open(paths, state, false));
    expect(error.code).toBe("ROTATED");
    expect(error.message).toMatch(/\(inode changed from \d+ to \d+\)/);

    // Gone.
    unlinkSync(path);
    error = await shipErrorOf(() => StoreFile.open(paths, state, true));
    expect(error.code).toBe("ROTATED");
    expect(error.message).toMatch(/\(the file is gone\)/);
  });

  it("a store that does not exist: USAGE once, or awaited when following from the start", async () => {
    const error = await shipErrorOf(() => StoreFile.open(paths, initialState(path), false));
    expect(error.code).toBe("USAGE");
    expect(error.message).toBe(`Trace store '${path}' does not exist.`);
    expect(await StoreFile.open(paths, initialState(path), true)).toBeNull();
    expect((await shipErrorOf(() => StoreFile.open({ ...paths, path: dir }, initialState(dir), false))).message).toMatch(/is not a file\./);
  });

  it("stops at a tampered record with TAMPERED, after handing out the verified records before it", async () => {
    const { lines } = storeLines(6);
    const cases: [string, string[], RegExp, number][] = [
      ["mutation", lines.map((l, i) => (i === 3 ? l.replace('"n":3', '"n":33') : l)), /^TAMPERED at seq 3: Tampered record at seq 3: content does not match its stored hash/, 3],
      ["deletion", lines.filter((_, i) => i !== 2), /^TAMPERED at seq 3: Non-contiguous sequence at position 3: expected seq 2, found 3/, 2],
      ["garbage", [...lines.slice(0, 2), "not json\n", ...lines.slice(2)], /^TAMPERED at seq 2: line 3 is not a trace record \(/, 2],
      ["no trace", [...lines.slice(0, 1), '{"seq": 1, "prev_hash": "x", "record_hash": "y"}\n'], /^TAMPERED at seq 1: line 2 is not a trace record \(missing 'trace'\)\.$/, 1],
    ];
    for (const [name, content, message, verified] of cases) {
      writeFileSync(path, content.join(""));
      const { records, failure } = await poll(initialState(path));
      expect(records.map((r) => r.seq), name).toEqual(Array.from({ length: verified }, (_, i) => i));
      expect(failure?.code, name).toBe("TAMPERED");
      expect(failure!.message, name).toMatch(message);
    }
    // The wrong secret fails at the first record.
    writeFileSync(path, lines.join(""));
    const wrong = await poll(initialState(path), { hasher: createRecordHasher("not-the-secret") });
    expect([wrong.records.length, wrong.failure?.seq]).toEqual([0, 0]);
  });

  it("ends before the next line once the signal is aborted", async () => {
    writeFileSync(path, storeLines(3).lines.join(""));
    const stop = new AbortController();
    stop.abort();
    const { records, interrupted, failure } = await poll(initialState(path), { signal: stop.signal });
    expect([records.length, interrupted, failure]).toEqual([0, true, null]);
  });
});

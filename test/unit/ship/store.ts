/**
 * Small JSONL trace stores (and a ShipError catcher) for the shipper's unit tests, chained with a known secret the way
 * weaver-kernel's JsonlTraceStore writes them (one `{"seq", "prev_hash", "record_hash",
 * "trace"}` line per record; the e2e tests in test/e2e/ship.test.ts use the CPython writer).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRecordHasher, GENESIS_HASH } from "../../../src/chain/hash.js";
import { canonicalJson, parseJsonLossless } from "../../../src/chain/json.js";
import { expect } from "vitest";
import { ShipError } from "../../../src/ship/errors.js";
import { initialState, type ShipState } from "../../../src/ship/state.js";

export const SECRET = "ship-unit-secret-0123456789abcdef";
export const hash = createRecordHasher(SECRET);

/** `n` chained lines (each ending in "\n") continuing after `prev` at `from`. */
export function storeLines(n: number, from = 0, prev = GENESIS_HASH, prefix = "t"): { lines: string[]; lastHash: string } {
  const lines: string[] = [];
  for (let seq = from; seq < from + n; seq++) {
    const trace = { action_id: `${prefix}-${seq}`, args: { n: seq }, capability_id: "db.query" };
    const recordHash = hash(seq, prev, canonicalJson(parseJsonLossless(JSON.stringify(trace))));
    lines.push(`${JSON.stringify({ seq, prev_hash: prev, record_hash: recordHash, trace })}\n`);
    prev = recordHash;
  }
  return { lines, lastHash: prev };
}

/** A scratch directory removed by the returned cleanup. */
export function scratch(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "tracegate-ship-unit-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The state after shipping the first `k` of `lines` from a file with this identity. */
export function stateAfter(path: string, lines: readonly string[], k: number, identity: { dev: string; ino: string }): ShipState {
  const start = Buffer.byteLength(lines.slice(0, k - 1).join(""));
  const last = JSON.parse(lines[k - 1]!) as { seq: number; record_hash: string };
  return {
    ...initialState(path),
    ...identity,
    offset: start + Buffer.byteLength(lines[k - 1]!),
    line: k,
    lastLineStart: start,
    lastSeq: last.seq,
    lastHash: last.record_hash,
    shipped: k,
  };
}

/** The ShipError `run` throws or rejects with (failing the test when it does not). */
export async function shipErrorOf(run: () => unknown): Promise<ShipError> {
  try {
    await run();
  } catch (e) {
    expect(e).toBeInstanceOf(ShipError);
    return e as ShipError;
  }
  throw new Error("expected a ShipError");
}

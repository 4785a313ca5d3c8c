/** The shipper's state file (src/ship/state.ts): round trip, coded refusals, atomic replace. */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GENESIS_HASH } from "../../../src/chain/hash.js";
import { acknowledge, defaultStatePath, initialState, loadState, parseState, saveState, type ShipState } from "../../../src/ship/state.js";
import { scratch, shipErrorOf } from "./store.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = scratch()));
afterEach(() => cleanup());

const STORE = "/var/lib/kernel/traces.jsonl";

function shipped(): ShipState {
  return acknowledge(initialState(STORE), { dev: "2049", ino: "18446744073709551557" }, { line: { start: 100, end: 250 }, lineNo: 3, seq: 2, recordHash: "ab".repeat(32) }, 3);
}

describe("ship state", () => {
  it("round-trips through the file, inode numbers beyond 2^53 included", async () => {
    const path = join(dir, "s.json");
    const state = shipped();
    expect(state).toMatchObject({ offset: 250, line: 3, lastLineStart: 100, lastSeq: 2, shipped: 3, ino: "18446744073709551557" });
    await saveState(path, state);
    expect(await loadState(path, STORE)).toEqual(state);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await loadState(join(dir, "missing.json"), STORE)).toBeNull();
    expect(defaultStatePath(STORE)).toBe(`${STORE}.tracegate-ship.json`);
    expect(initialState(STORE)).toMatchObject({ offset: 0, lastSeq: null, lastHash: GENESIS_HASH, ino: "" });
  });

  it("refuses a corrupt or foreign state file with code STATE, saying why", async () => {
    const good = JSON.stringify(shipped());
    const cases: [string, string, RegExp][] = [
      ["not JSON", "{offset: 1", /not a tracegate ship state \(not JSON\); move it away/],
      ["null", "null", /\(unknown version\)/],
      ["version 2", good.replace('"version":1', '"version":2'), /\(unknown version\)/],
      ["negative offset", good.replace('"offset":250', '"offset":-1'), /\(bad offset\)/],
      ["fractional line", good.replace('"line":3', '"line":2.5'), /\(bad offset\)/],
      ["half a last record", good.replace('"lastLineStart":100', '"lastLineStart":null'), /\(inconsistent last record\)/],
      ["short hash", good.replace("ab".repeat(32), "ab"), /\(bad last hash\)/],
      ["no identity", good.replace('"dev":"2049",', ""), /\(path or file identity missing\)/],
      ["another store", good.replace(STORE, "/elsewhere.jsonl"), /belongs to \/elsewhere\.jsonl, not \/var\/lib\/kernel\/traces\.jsonl; pass another --state/],
    ];
    for (const [name, text, message] of cases) {
      const error = await shipErrorOf(() => parseState(text, "s.json", STORE));
      expect(error.code, name).toBe("STATE");
      expect(error.message, name).toMatch(message);
    }
    // Through the file too, and a state file that cannot be read at all.
    const path = join(dir, "corrupt.json");
    writeFileSync(path, "\0\0\0");
    expect((await shipErrorOf(() => loadState(path, STORE))).code).toBe("STATE");
    mkdirSync(join(dir, "a-directory.json"));
    const unreadable = await shipErrorOf(() => loadState(join(dir, "a-directory.json"), STORE));
    expect(unreadable.code).toBe("STATE");
    expect(unreadable.message).toMatch(/cannot read the state file .*: EISDIR/);
  });

  it("replaces the file atomically: the old state or the new one, never a temp file left over", async () => {
    const path = join(dir, "s.json");
    const first = shipped();
    await saveState(path, first);
    const second = acknowledge(first, { dev: first.dev, ino: first.ino }, { line: { start: 250, end: 400 }, lineNo: 4, seq: 3, recordHash: "cd".repeat(32) }, 1);
    await saveState(path, second);
    expect(await loadState(path, STORE)).toEqual(second);
    expect(readdirSync(dir)).toEqual(["s.json"]);

    // A failed write (here: the directory is read-only) leaves the old state as it was.
    if (process.getuid?.() !== 0) {
      chmodSync(dir, 0o500);
      try {
        const error = await shipErrorOf(() => saveState(path, first));
        expect(error.code).toBe("STATE");
        expect(error.message).toMatch(/cannot write the state file .*: EACCES/);
      } finally {
        chmodSync(dir, 0o700);
      }
    }
    // A state path whose directory is gone: coded, and no temp file anywhere.
    const nowhere = await shipErrorOf(() => saveState(join(dir, "gone", "s.json"), first));
    expect(nowhere.code).toBe("STATE");
    expect(nowhere.message).toMatch(/: ENOENT$/);
    // A rename onto a directory fails after the temp file was written: it is removed.
    mkdirSync(join(dir, "taken.json"));
    expect((await shipErrorOf(() => saveState(join(dir, "taken.json"), first))).code).toBe("STATE");
    expect(readdirSync(dir).sort()).toEqual(["s.json", "taken.json"]);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual(second);
    expect(existsSync(join(dir, "gone"))).toBe(false);
  });
});

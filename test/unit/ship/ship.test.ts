/**
 * The poll loop (src/ship/ship.ts) against a gateway stand-in on a real local socket: what is
 * shipped before a stop, what the saved position says afterwards, and how a batch over the
 * body limit is split. The real gateway and CPython-written stores are in test/e2e/ship.test.ts.
 */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ship, type ShipOptions } from "../../../src/ship/ship.js";
import type { ShipState } from "../../../src/ship/state.js";
import { acknowledgeAll, refusal, type StandIn, standIn } from "./gateway.js";
import { hash, scratch, shipErrorOf, storeLines } from "./store.js";

let dir: string;
let cleanup: () => void;
let path: string;
let gateway: StandIn;
beforeEach(async () => {
  ({ dir, cleanup } = scratch());
  path = join(dir, "store.jsonl");
  gateway = await standIn();
});
afterEach(async () => {
  await gateway.close();
  cleanup();
});

const statePath = () => `${path}.tracegate-ship.json`;
const savedState = (): ShipState => JSON.parse(readFileSync(statePath(), "utf8")) as ShipState;
/** The action ids the stand-in received, request by request. */
const batches = () => gateway.requests.map((r) => r.records.map((t) => (JSON.parse(t) as { action_id: string }).action_id));

function run(over: Partial<ShipOptions> = {}) {
  const log: string[] = [];
  const options: ShipOptions = { path, statePath: statePath(), url: gateway.url, apiKey: "tgk_test", hash, follow: false, batch: 10, pollMs: 10, retryBaseMs: 1, log: (l) => log.push(l), ...over };
  return { log, done: ship(options) };
}

describe("the shipper's loop", () => {
  it("ships in batches, saves the position after each, and resumes from it", async () => {
    const { lines } = storeLines(5);
    writeFileSync(path, lines.join(""));
    const first = run({ batch: 2 });
    expect(await first.done).toMatchObject({ shipped: 5, ended: "done", partialBytes: 0, state: { lastSeq: 4, offset: Buffer.byteLength(lines.join("")) } });
    expect(first.log).toEqual(["shipped seq 0..1 (2 record(s))", "shipped seq 2..3 (2 record(s))", "shipped seq 4..4 (1 record(s))"]);
    expect(savedState()).toMatchObject({ lastSeq: 4, shipped: 5, line: 5 });

    const more = storeLines(2, 5, savedState().lastHash);
    appendFileSync(path, more.lines.join(""));
    expect(await run().done).toMatchObject({ shipped: 2, state: { lastSeq: 6, shipped: 7 } });
    expect(batches()).toEqual([["t-0", "t-1"], ["t-2", "t-3"], ["t-4"], ["t-5", "t-6"]]);
  });

  it("a tampered record: the verified records before it are shipped and saved, then TAMPERED", async () => {
    const { lines } = storeLines(6);
    writeFileSync(path, lines.map((l, i) => (i === 3 ? l.replace('"n":3', '"n":4') : l)).join(""));
    const error = await shipErrorOf(() => run().done);
    expect(error.code).toBe("TAMPERED");
    expect(error.seq).toBe(3);
    expect(error.message).toMatch(/^TAMPERED at seq 3: Tampered record at seq 3: .* Stopped: shipped up to seq 2; nothing from seq 3 on was sent\.$/);
    expect(batches()).toEqual([["t-0", "t-1", "t-2"]]);
    expect(savedState()).toMatchObject({ lastSeq: 2, offset: Buffer.byteLength(lines.slice(0, 3).join("")) });
  });

  it("a record the gateway refuses: the records before it are shipped, then GATEWAY names its line", async () => {
    writeFileSync(path, storeLines(4).lines.join(""));
    gateway.reply = (req, n) => (n === 1 ? refusal(200, "BAD_USER_INPUT", "records[2]: unknown key 'extra'.", { field: "records[2]" }) : acknowledgeAll(req, n));
    const error = await shipErrorOf(() => run().done);
    expect(error.code).toBe("GATEWAY");
    expect(error.seq).toBe(2);
    expect(error.message).toBe(`the gateway refused seq 2 (${path}:3): BAD_USER_INPUT: records[2]: unknown key 'extra'. Stopped: shipped up to seq 1.`);
    expect(batches()).toEqual([["t-0", "t-1", "t-2", "t-3"], ["t-0", "t-1"]]);
    expect(savedState().lastSeq).toBe(1);
  });

  it("splits a batch over the gateway's body limit in halves; a single record over it stops", async () => {
    writeFileSync(path, storeLines(5).lines.join(""));
    gateway.reply = (req, n) => (req.records.length > 2 ? refusal(413, "PAYLOAD_TOO_LARGE", "Request body too large.") : acknowledgeAll(req, n));
    expect(await run().done).toMatchObject({ shipped: 5 });
    expect(batches()).toEqual([["t-0", "t-1", "t-2", "t-3", "t-4"], ["t-0", "t-1"], ["t-2", "t-3", "t-4"], ["t-2"], ["t-3", "t-4"]]);

    const other = join(dir, "other.jsonl");
    writeFileSync(other, storeLines(1).lines.join(""));
    gateway.reply = () => ({ status: 413, body: "too large" });
    const error = await shipErrorOf(() => run({ path: other, statePath: `${other}.state` }).done);
    expect(error.code).toBe("GATEWAY");
    expect(error.message).toMatch(/^the gateway refused seq 0: alone, its request exceeds the gateway's body size limit .* Stopped: nothing was shipped\.$/);
  });

  it("an acknowledgement for other records stops with GATEWAY before the position moves", async () => {
    writeFileSync(path, storeLines(2).lines.join(""));
    gateway.reply = (req) => ({ status: 200, body: { data: { recordTraceRecords: req.records.map((_, i) => ({ seq: i, actionId: `x-${i}` })) } } });
    const error = await shipErrorOf(() => run().done);
    expect([error.code, error.message]).toEqual(["GATEWAY", "the gateway acknowledged seq 0 as action_id x-0, not t-0. Stopped: nothing was shipped."]);
  });

  it("follows the file: a line completed later is shipped on a later poll; a stop ends the run cleanly", async () => {
    const { lines } = storeLines(3);
    writeFileSync(path, lines[0]! + lines[1]!.slice(0, 30));
    const stop = new AbortController();
    const following = run({ follow: true, signal: stop.signal });
    await waitFor(() => batches().length === 1);
    appendFileSync(path, lines[1]!.slice(30) + lines[2]!);
    await waitFor(() => batches().length === 2);
    stop.abort();
    expect(await following.done).toMatchObject({ ended: "stopped", shipped: 3, state: { lastSeq: 2 } });
    expect(batches()).toEqual([["t-0"], ["t-1", "t-2"]]);
  });

  it("a state file that cannot be written stops with STATE", async () => {
    writeFileSync(path, storeLines(1).lines.join(""));
    const error = await shipErrorOf(() => run({ statePath: join(dir, "no-such-dir", "state.json") }).done);
    expect(error.code).toBe("STATE");
    expect(error.message).toMatch(/^cannot write the state file .*state\.json: ENOENT$/);
  });
});

async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

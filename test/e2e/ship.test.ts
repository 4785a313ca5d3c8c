/**
 * `tracegate ship` as an operator runs it: real shipper processes, a real gateway, and JSONL
 * stores written (and appended to, while the shipper follows) by CPython with the independent
 * writer test/support/reference-writer.py (docs/reference-compatibility.md#jsonl-store).
 * Shipped payloads must be the bytes CPython canonicalises, crashes must resume without loss
 * or duplicates, and tampering, truncation and rotation must stop shipping before anything
 * wrong reaches the gateway.
 * Secondary cases call the shipper in this process (a process costs ~2 s of CPU).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createRecordHasher } from "../../src/chain/hash.js";
import type { ShipError } from "../../src/ship/errors.js";
import { ship, type ShipOptions } from "../../src/ship/ship.js";
import type { ShipState } from "../../src/ship/state.js";
import { type GatewayProcess, PROCESS_ADMIN_KEY, postGraphQL, ROOT, runCli, startGatewayProcess } from "../support/process.js";

const WRITER = join(ROOT, "test/support/reference-writer.py");
const SECRET = "weaver-ship-secret-0123456789abcdef";

const work = mkdtempSync(join(tmpdir(), "tracegate-ship-"));
const children = new Set<ChildProcess>();
let gateway: GatewayProcess;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(work, "data-"));
  copyFileSync(inject("sqliteTemplate"), join(dataDir, "tracegate.db"));
  gateway = await startGatewayProcess({ TRACEGATE_DATA_DIR: dataDir, TRACEGATE_HMAC_SECRET: SECRET });
});

afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await gateway?.kill();
  rmSync(work, { recursive: true, force: true });
});

let counter = 0;
const file = (name: string) => join(work, `${++counter}-${name}`);

// ---------------------------------------------------------------------------
// Traces as the reference exports them, as JSON text (so 100.0 stays a float lexeme).
// ---------------------------------------------------------------------------

function traceText(id: string, i: number, overrides: Record<string, unknown> = {}, args?: string): string {
  const at = `2026-03-${String((i % 28) + 1).padStart(2, "0")}T10:00:${String(i % 60).padStart(2, "0")}${i % 2 ? ".000042" : ""}+00:00`;
  // A mix of floats with and without fraction and ints beyond 2^53.
  const dflt = i % 4 === 0 ? `{"amount": 100.0, "n": ${i}}` : i % 4 === 2 ? `{"big": ${2n ** 60n + BigInt(i)}, "n": ${i}}` : `{"amount": 12.5, "n": ${i}}`;
  return referenceTraceText(id, i, at, overrides, args ?? dflt);
}

const corpusOf = (prefix: string, n: number, from = 0) => `[${Array.from({ length: n }, (_, k) => traceText(`${prefix}-${from + k}`, from + k)).join(",\n")}]`;

/** Tricky values, a failure (error ""), a deny, an expand, lone surrogates in ids. */
function trickyCorpus(prefix: string): string {
  return `[${[
    traceText(`${prefix}-0`, 0, {}, TRICKY_ARGS),
    traceText(`${prefix}-1`, 1, { error: "", status: "failed", response_mode: "table" }),
    traceText(`${prefix}-2`, 2, { event_type: "deny", reason_code: "missing_role", result_summary: null }, "{}"),
    traceText(`${prefix}-3`, 3, { event_type: "expand", response_mode: "handle_only", handle_id: "h-\ud83d\ude80" }, String.raw`{"q": "\"\\/", "ctl": "\u0001\t\n", "ints": [1, 2, 3]}`),
    traceText(`${prefix}-4`, 4, {}, String.raw`{"x": 1.2345678901234568e+20, "y": 0.0001, "z": 12.5, "nested": {"\u00e9t\u00e9": "only strings here"}}`),
    traceText(`${prefix}-5`, 5, { error: "boom \u00e9", status: "failed", response_mode: "raw" }, String.raw`{"\u00e9": 1, "n-2": [2.5, "x"]}`),
  ].join(",\n")}]`;
}

function python(args: string[], input: string): string {
  const run = spawnSync("python3", args, { input, encoding: "utf8", env: { ...process.env, PYTHONIOENCODING: "utf-8" } });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`python3 ${args.join(" ")} failed: ${run.stderr}`);
  return run.stdout;
}

/** A JSONL store written by the reference writer. */
function writeStore(traces: string, path = file("store.jsonl")): string {
  python([WRITER, "jsonl", path, SECRET], traces);
  return path;
}

/** What CPython's json.dumps(sort_keys, compact, ensure_ascii) makes of each trace. */
const canonical = (traces: string) => python([WRITER, "canonical"], traces).trimEnd().split("\n");

/**
 * Appends like JsonlTraceStore: resume the head from the file, then one append-mode open per
 * record, hashing with the reference writer's own record_hash. Sleeps `delay` s after every
 * `group` records; every `split`-th line is written in two flushes with a pause between (a
 * line still being written when the shipper polls).
 */
const APPENDER = `
import importlib.util, json, sys, time
spec = importlib.util.spec_from_file_location("refwriter", sys.argv[1])
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)
path, secret, group, delay, split = sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
seq, prev = 0, ref.GENESIS_HASH
try:
    with open(path, encoding="utf-8") as fh:
        for raw in fh:
            raw = raw.strip()
            if raw:
                rec = json.loads(raw)
                seq, prev = rec["seq"] + 1, rec["record_hash"]
except FileNotFoundError:
    pass
for i, trace in enumerate(json.loads(sys.stdin.read())):
    digest = ref.record_hash(secret, seq, prev, trace)
    line = json.dumps({"seq": seq, "prev_hash": prev, "record_hash": digest, "trace": trace}) + "\\n"
    with open(path, "a", encoding="utf-8") as fh:
        if split and i % split == split - 1:
            fh.write(line[: len(line) // 2])
            fh.flush()
            time.sleep(delay / 2)
            fh.write(line[len(line) // 2 :])
        else:
            fh.write(line)
    seq, prev = seq + 1, digest
    if (i + 1) % group == 0:
        time.sleep(delay)
`;
import { HEADER_ARGS, MIXED_ARGS, referenceTraceText, TRICKY_ARGS } from "../support/reference-traces.js";

function append(path: string, traces: string, opts: { group?: number; delay?: number; split?: number } = {}): Promise<void> {
  const child = spawn("python3", ["-c", APPENDER, WRITER, path, SECRET, String(opts.group ?? 1_000_000), String(opts.delay ?? 0), String(opts.split ?? 0)], {
    stdio: ["pipe", "ignore", "pipe"],
  });
  children.add(child);
  let err = "";
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  child.stdin!.end(traces);
  return new Promise((resolve, reject) =>
    child.once("close", (code) => {
      children.delete(child);
      if (code === 0) resolve();
      else reject(new Error(`appender exited ${code}: ${err}`));
    }),
  );
}

// ---------------------------------------------------------------------------
// The shipper and the gateway
// ---------------------------------------------------------------------------

const SHIP_ENV = { WEAVER_KERNEL_SECRET: SECRET, TRACEGATE_API_KEY: "" };
const shipArgs = (path: string, ...more: string[]) => ["ship", path, "--url", gateway.url, "--key", PROCESS_ADMIN_KEY, ...more];

interface Shipper {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/** A long-running `tracegate ship` process. */
function startShipper(args: string[]): Shipper {
  const child = spawn(process.execPath, [join(ROOT, "bin/tracegate.js"), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...SHIP_ENV },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** The shipper in this process, for the secondary cases. */
async function shipInProcess(path: string, over: Partial<ShipOptions> = {}): Promise<{ error: ShipError | null; warnings: string[] }> {
  const warnings: string[] = [];
  try {
    await ship({
      path,
      statePath: `${path}.tracegate-ship.json`,
      url: gateway.url,
      apiKey: PROCESS_ADMIN_KEY,
      hash: createRecordHasher(SECRET),
      follow: false,
      batch: 500,
      pollMs: 50,
      warn: (w) => warnings.push(w),
      ...over,
    });
    return { error: null, warnings };
  } catch (e) {
    if ((e as Error).name !== "ShipError") throw e;
    return { error: e as ShipError, warnings };
  }
}

const stateOf = (path: string): ShipState => JSON.parse(readFileSync(`${path}.tracegate-ship.json`, "utf8")) as ShipState;

interface Stored {
  seq: number;
  actionId: string;
  prevHash: string;
  recordHash: string;
  payload: string;
}

/** Every trace in the gateway, in seq order. */
async function allStored(): Promise<Stored[]> {
  const rows: Stored[] = [];
  let after: string | null = null;
  for (;;) {
    type Page = { traces: { edges: { node: Stored }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const res: { data?: Page; errors?: unknown[] } = await postGraphQL<Page>(
      gateway.url,
      "query($after: String) { traces(first: 500, after: $after) { edges { node { seq actionId prevHash recordHash payload } } pageInfo { hasNextPage endCursor } } }",
      { after },
    );
    expect(res.errors).toBeUndefined();
    const page = res.data!.traces;
    rows.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) return rows;
    after = page.pageInfo.endCursor;
  }
}

const storedWith = async (prefix: string) => (await allStored()).filter((r) => r.actionId.startsWith(`${prefix}-`));

async function verifyChain(): Promise<{ ok: boolean; checked: number; detail: string }> {
  const res = await postGraphQL(gateway.url, "{ verifyChain { ok checked detail } }");
  expect(res.errors).toBeUndefined();
  return res.data.verifyChain;
}

function envelopes(path: string): { seq: number; prevHash: string; recordHash: string }[] {
  return readFileSync(path, "utf8")
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as { seq: number; prev_hash: string; record_hash: string })
    .map((r) => ({ seq: r.seq, prevHash: r.prev_hash, recordHash: r.record_hash }));
}

/** Poll `check` until true; the bound only catches a hang (a shipper process starts slowly on a loaded machine). */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

// ---------------------------------------------------------------------------

describe("tracegate ship", () => {
  it("(a) ships a CPython-written store byte-exactly with --once; the gateway's chain is the store's", async () => {
    // First test on a fresh gateway: its chain starts at seq 0 from genesis, like the store's.
    expect(await allStored()).toEqual([]);
    const traces = trickyCorpus("a");
    const store = writeStore(traces);

    const run = await runCli(shipArgs(store, "--once"), SHIP_ENV);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("shipped seq 0..5 (6 record(s))");

    const stored = await storedWith("a");
    // Byte for byte what CPython canonicalises: 100.0, 2**64+1, -0.0, 1e+22, U+2028, NUL,
    // lone surrogates, keys that are not GraphQL names, ints next to floats...
    expect(stored.map((r) => r.payload)).toEqual(canonical(traces));
    expect(stored[0]!.payload).toContain('"f":100.0');
    expect(stored[0]!.payload).toContain('"big":18446744073709551617');
    expect(stored[0]!.payload).toContain(String.raw`"lone":"\ud800"`);
    // Same secret, same position: the gateway computed exactly the hashes CPython wrote.
    expect(stored.map(({ seq, prevHash, recordHash }) => ({ seq, prevHash, recordHash }))).toEqual(envelopes(store));
    expect(await verifyChain()).toMatchObject({ ok: true, checked: 6 });

    const state = stateOf(store);
    expect(state).toMatchObject({ lastSeq: 5, lastHash: envelopes(store)[5]!.recordHash, offset: readFileSync(store).length, shipped: 6 });

    // Nothing new: nothing sent.
    const again = await runCli(shipArgs(store), SHIP_ENV);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("Done: 0 record(s) shipped");
    expect(await storedWith("a")).toHaveLength(6);
  }, 300_000);

  it("(b) --follow ships what another process appends, in order, and stops cleanly on SIGTERM", async () => {
    const store = writeStore(corpusOf("b", 20));
    const shipper = startShipper(shipArgs(store, "--follow", "--poll-ms", "40", "--batch", "7"));
    await until("the first records", () => shipper.stdout().includes("shipped seq 14..19"));

    // CPython appends 60 more, 3 every 100 ms, every 5th line written in two flushes.
    await append(store, corpusOf("b", 60, 20), { group: 3, delay: 0.1, split: 5 });
    await until("all 80 records in the gateway", async () => (await storedWith("b")).length === 80);

    shipper.child.kill("SIGTERM");
    expect(await shipper.exited).toBe(0);
    expect(shipper.stderr()).toBe("");
    expect(shipper.stdout()).toMatch(/Stopped: 80 record\(s\) shipped/);

    const stored = await storedWith("b");
    expect(stored.map((r) => r.actionId)).toEqual(Array.from({ length: 80 }, (_, i) => `b-${i}`));
    expect(stored.map((r) => r.payload)).toEqual(canonical(corpusOf("b", 80)));
    expect(stateOf(store)).toMatchObject({ lastSeq: 79, offset: readFileSync(store).length });
    expect(await verifyChain()).toMatchObject({ ok: true });
  }, 300_000);

  it("(c) resumes exactly after kill -9; re-sent batches are acknowledged, never duplicated", async () => {
    const N = 1_200;
    const store = writeStore(corpusOf("c", N));
    const shipper = startShipper(shipArgs(store, "--once", "--batch", "20"));
    const statePath = `${store}.tracegate-ship.json`;
    await until("a saved position", () => existsSync(statePath) && stateOf(store).lastSeq! >= 40);
    const early = readFileSync(statePath, "utf8");
    shipper.child.kill("SIGKILL");
    await shipper.exited;
    const atKill = stateOf(store);
    expect(atKill.lastSeq).toBeLessThan(N - 1);

    const restart = await runCli(shipArgs(store, "--batch", "20"), SHIP_ENV);
    expect(restart.stderr).toBe("");
    expect(restart.code).toBe(0);
    // It starts exactly after the saved seq.
    expect(restart.stdout.split("\n")[0]).toMatch(new RegExp(`^shipped seq ${atKill.lastSeq! + 1}\\.\\.`));
    let stored = await storedWith("c");
    expect(stored.map((r) => r.actionId)).toEqual(Array.from({ length: N }, (_, i) => `c-${i}`));

    // A stale position (as if the state write had been lost): everything after it is sent
    // again, the gateway acknowledges it, and nothing is stored twice.
    writeFileSync(statePath, early);
    const replay = await runCli(shipArgs(store, "--batch", "500"), SHIP_ENV);
    expect(replay.stderr).toBe("");
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain(`Done: ${N - 1 - (JSON.parse(early) as ShipState).lastSeq!} record(s) shipped`);
    stored = await storedWith("c");
    expect(stored).toHaveLength(N);
    expect(stateOf(store)).toMatchObject({ lastSeq: N - 1, offset: readFileSync(store).length });
    expect(await verifyChain()).toMatchObject({ ok: true });
  }, 300_000);

  it("(d) a tampered line stops shipping at its seq; the verified records before it are shipped, nothing after", async () => {
    const store = writeStore(corpusOf("d", 10));
    const lines = readFileSync(store, "utf8").split("\n");
    lines[5] = lines[5]!.replace('"row_count": 2', '"row_count": 3');
    writeFileSync(store, lines.join("\n"));

    const run = await runCli(shipArgs(store, "--batch", "3"), SHIP_ENV);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error: TAMPERED at seq 5: Tampered record at seq 5: content does not match its stored hash \(mutation, or wrong secret\)\. Stopped: shipped up to seq 4; nothing from seq 5 on was sent\. \[[A-Z_]+\]\n$/,
    );
    // seq 3 and 4 were verified in the batch that reached the tampered line: shipped first.
    expect((await storedWith("d")).map((r) => r.actionId)).toEqual(["d-0", "d-1", "d-2", "d-3", "d-4"]);
    expect(stateOf(store).lastSeq).toBe(4);

    // Deleted, reordered and garbage lines, and the wrong secret, in this process.
    const variants: [string, (l: string[]) => string[], RegExp, Partial<ShipOptions>][] = [
      ["deletion", (l) => l.filter((_, i) => i !== 3), /^TAMPERED at seq 4: Non-contiguous sequence at position 4: expected seq 3, found 4/, {}],
      ["reorder", (l) => [l[0]!, l[2]!, l[1]!, ...l.slice(3)], /^TAMPERED at seq 2: /, {}],
      ["garbage", (l) => [l[0]!, l[1]!, "not json", ...l.slice(2)], /^TAMPERED at seq 2: line 3 is not a trace record \(Invalid JSON/, {}],
      ["wrong secret", (l) => l, /^TAMPERED at seq 0: Tampered record at seq 0: .*wrong secret/, { hash: createRecordHasher("not-the-secret") }],
    ];
    for (const [name, edit, pattern, over] of variants) {
      const prefix = `d${name.replace(/\W/g, "")}`;
      const source = writeStore(corpusOf(prefix, 6));
      writeFileSync(source, edit(readFileSync(source, "utf8").trimEnd().split("\n")).join("\n") + "\n");
      const { error } = await shipInProcess(source, over);
      expect(error?.code, name).toBe("TAMPERED");
      expect(error!.message, name).toMatch(pattern);
      const firstBad = error!.seq!;
      const shippedIds = (await storedWith(prefix)).map((r) => r.actionId);
      expect(shippedIds.every((id) => Number(id.split("-")[1]) < firstBad), name).toBe(true);
    }
  }, 300_000);

  it("(e) truncation and rotation stop shipping before anything from the new file is sent", async () => {
    // Rotation: a new file (new inode) renamed over the path, through the real CLI.
    const rotatedStore = writeStore(corpusOf("e1", 4));
    expect((await runCli(shipArgs(rotatedStore), SHIP_ENV)).code).toBe(0);
    const fresh = writeStore(corpusOf("e1new", 8));
    renameSync(fresh, rotatedStore);
    const run = await runCli(shipArgs(rotatedStore), SHIP_ENV);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: .*-store\.jsonl was truncated or rotated \(inode changed from \d+ to \d+\); nothing from the new file was sent\./);
    expect(await storedWith("e1new")).toEqual([]);

    // Truncation below the saved offset (same inode), then regrowth past it with other records.
    const truncated = writeStore(corpusOf("e2", 6));
    expect((await shipInProcess(truncated)).error).toBeNull();
    const keep = readFileSync(truncated, "utf8").split("\n").slice(0, 3).join("\n") + "\n";
    writeFileSync(truncated, keep);
    let result = await shipInProcess(truncated);
    expect(result.error?.code).toBe("ROTATED");
    expect(result.error!.message).toMatch(/truncated or rotated \(size \d+ is below the saved offset \d+\)/);
    await append(truncated, corpusOf("e2new", 6));
    result = await shipInProcess(truncated);
    expect(result.error?.code).toBe("ROTATED");
    expect(result.error!.message).toMatch(/the line at byte \d+ is no longer seq 5/);
    expect(await storedWith("e2new")).toEqual([]);

    // Appended lines that do not continue the saved chain (another store's records).
    const spliced = writeStore(corpusOf("e3", 3));
    expect((await shipInProcess(spliced)).error).toBeNull();
    const other = writeStore(corpusOf("e3new", 2));
    writeFileSync(spliced, readFileSync(spliced, "utf8") + readFileSync(other, "utf8"));
    result = await shipInProcess(spliced);
    expect(result.error?.code).toBe("ROTATED");
    expect(result.error!.message).toMatch(/the record after the saved offset is seq 0, which does not continue seq 2/);
    expect(await storedWith("e3new")).toEqual([]);
    expect(stateOf(spliced).lastSeq).toBe(2);
  }, 300_000);

  /** Records the GraphQL-literal shipper could not carry: every one must arrive as CPython canonicalises it. */
  const issueCorpus = (prefix: string) =>
    `[${[
      traceText(`${prefix}-0`, 0, {}, HEADER_ARGS),
      traceText(`${prefix}-1`, 1, {}, MIXED_ARGS),
      traceText(`${prefix}-2`, 2, { invoked_at: "2026-03-03T10:00:02Z", error: "cut \ud83d", status: "failed" }, String.raw`{"\u00e9": 100.0, "n": 1e+16}`),
      traceText(`${prefix}-3`, 3, { event_type: "deny", reason_code: "missing_role", result_summary: null }, "{}"),
      // Python's json.dumps writes float("nan") and float("inf") as bare words.
      traceText(`${prefix}-4`, 4, {}, `{"ratio": NaN, "limit": Infinity, "floor": -Infinity}`),
    ].join(",\n")}]`;

  it("(f) ships records with non-name keys, floats, big ints, lone surrogates and NaN byte-exactly", async () => {
    const traces = issueCorpus("f");
    const store = writeStore(traces);
    const run = await runCli(shipArgs(store), SHIP_ENV);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const stored = await storedWith("f");
    expect(stored.map((r) => r.payload)).toEqual(canonical(traces));
    expect(stored[0]!.payload).toContain('"args":{"content-type":"application/json","timeout":30.0}');
    expect(stored[2]!.payload).toContain('"invoked_at":"2026-03-03T10:00:02Z"');
    expect(await verifyChain()).toMatchObject({ ok: true });
  }, 300_000);

  // The key README tells kernels to use: it may read only the acknowledgement (seq, actionId).
  it("(g) ships a CPython store byte-exactly with a key created with only the traces:write scope", async () => {
    const created = await runCli(["keys", "create", "--name", "ship-writer", "--scope", "traces:write"], {
      TRACEGATE_DATA_DIR: dataDir,
      DATABASE_URL: "",
      TRACEGATE_HMAC_SECRET: SECRET,
      TRACEGATE_BOOTSTRAP_ADMIN_KEY: "",
    });
    expect(created.code).toBe(0);
    const writeOnly = /tgk_[A-Za-z0-9_-]{20,}/.exec(created.stdout)![0];
    const traces = issueCorpus("w");
    const store = writeStore(traces);
    const run = await runCli(["ship", store, "--url", gateway.url, "--key", writeOnly], SHIP_ENV);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("shipped seq 0..4 (5 record(s))");
    expect((await storedWith("w")).map((r) => r.payload)).toEqual(canonical(traces));
    expect(stateOf(store)).toMatchObject({ lastSeq: 4, offset: readFileSync(store).length });
    expect(await verifyChain()).toMatchObject({ ok: true });
  }, 300_000);

  it("retries network errors, 5xx and 429, and stops on the gateway's refusals", async () => {
    // A proxy that fails the first requests, then forwards to the gateway.
    const replies = [503, 429, 502];
    const seen: number[] = [];
    const proxy: Server = createServer((req, res) => {
      let body = "";
      req.on("data", (b: Buffer) => (body += b.toString()));
      req.on("end", () => {
        const status = replies.shift();
        if (status !== undefined) {
          seen.push(status);
          res.writeHead(status, status === 429 ? { "retry-after": "0" } : {}).end("unavailable");
          return;
        }
        void fetch(gateway.url, { method: "POST", headers: { "content-type": "application/json", authorization: req.headers.authorization! }, body })
          .then(async (r) => res.writeHead(r.status, { "content-type": "application/json" }).end(await r.text()));
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const port = (proxy.address() as { port: number }).port;
    try {
      const store = writeStore(`[${Array.from({ length: 150 }, (_, i) => traceText(`g-${i}`, i, {}, `{"amount": 100.0, "i": ${i}}`)).join(",")}]`);
      const { error, warnings } = await shipInProcess(store, { url: `http://127.0.0.1:${port}/graphql`, retryBaseMs: 5 });
      expect(error).toBeNull();
      expect(seen).toEqual([503, 429, 502]);
      expect(warnings.filter((w) => /gateway unavailable for seq 0\.\.149 \(HTTP (503|429|502)\)/.test(w))).toHaveLength(3);
      expect((await storedWith("g")).map((r) => r.actionId)).toEqual(Array.from({ length: 150 }, (_, i) => `g-${i}`));
    } finally {
      proxy.close();
    }

    // Connection refused: retried until stopped; nothing saved, exit without error.
    const unreachable = writeStore(corpusOf("h", 2));
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 300);
    const down = await shipInProcess(unreachable, { url: `http://127.0.0.1:${port}/graphql`, retryBaseMs: 20, signal: stop.signal });
    expect(down.error).toBeNull();
    expect(down.warnings[0]).toMatch(/gateway unavailable for seq 0\.\.1 \(network: ECONNREFUSED\)/);
    expect(existsSync(`${unreachable}.tracegate-ship.json`)).toBe(false);

    // A one-shot run gives up (exit 1, coded), so a cron job or CI step never hangs on an outage.
    const oneShot = await runCli(["ship", unreachable, "--once", "--retries", "2", "--url", `http://127.0.0.1:${port}/graphql`, "--key", "tgk_any-key-0123456789abcdefghijklmnop"], SHIP_ENV);
    expect(oneShot.code).toBe(1);
    expect(oneShot.stderr).toMatch(/^tracegate ship: gateway unavailable for seq 0\.\.1 \(network: ECONNREFUSED\); retry 1 in \d+ ms\n/);
    expect(oneShot.stderr).toMatch(/\nerror: the gateway did not take seq 0\.\.1 after 2 attempts \(last: network: ECONNREFUSED\)\. Stopped: [^\n]* \[GATEWAY\]\n$/);
    expect(existsSync(`${unreachable}.tracegate-ship.json`)).toBe(false);

    // Refusals stop with the code named.
    const badKey = await shipInProcess(unreachable, { apiKey: "tgk_not-a-key-0123456789abcdefghijklmnop" });
    expect(badKey.error?.code).toBe("GATEWAY");
    expect(badKey.error!.message).toMatch(/^the gateway refused seq 0\.\.1: UNAUTHENTICATED: /);
    const clash = writeStore(`[${traceText("h-0", 0, { capability_id: "other.capability" })}]`);
    expect((await shipInProcess(unreachable)).error).toBeNull();
    const dup = await shipInProcess(clash);
    // The refusal names the record (extensions.field = records[0].action_id), so the message names its line.
    expect(dup.error!.message).toMatch(/^the gateway refused seq 0 \(.*-store\.jsonl:1\): DUPLICATE_ACTION_ID: actionId already recorded with different content: h-0/);

    // A record the gateway refuses (here an unknown key, which the chain's hash covers): the
    // records before it in the batch are shipped, then the run stops at its seq.
    const odd = writeStore(`[${traceText("i-0", 0)}, ${traceText("i-1", 1, { extra: 1 })}, ${traceText("i-2", 2)}]`);
    const refused = await shipInProcess(odd);
    expect(refused.error?.code).toBe("GATEWAY");
    expect(refused.error!.seq).toBe(1);
    expect(refused.error!.message).toMatch(
      /^the gateway refused seq 1 \(.*-store\.jsonl:2\): BAD_USER_INPUT: records\[1\]: unknown key 'extra' .*\. Stopped: shipped up to seq 0\.$/,
    );
    expect((await storedWith("i")).map((r) => r.actionId)).toEqual(["i-0"]);
    expect(stateOf(odd).lastSeq).toBe(0);
  }, 300_000);
});

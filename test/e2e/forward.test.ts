/**
 * `tracegate forward` as an operator runs it: real forwarder processes (bin/tracegate.js), a
 * real gateway process, and a real HTTP collector (node:http in this process) that can refuse
 * connections, answer 503 or 4xx, and records every request. The forwarder reads with API
 * keys that hold only traces:read (one confined to team-a/*), as a deployment gives it.
 *
 * The done-criterion of issue 18: every trace of a 10k-trace ingest reaches a collector that
 * is down for part of the run (refused connections, then 503, then up), with repeats only of
 * the same seq and none missing, also across a kill -9 of the forwarder and a restart from
 * its cursor. On both backends: the cursor is /export's afterSeq, a query of the gateway's store.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TraceInput } from "../gql/graphql.js";
import { type Backend, BACKENDS } from "../support/backends.js";
import { type GatewayProcess, PROCESS_ADMIN_KEY, postGraphQL, ROOT, startGatewayProcess } from "../support/process.js";
import { at, deny, invoke } from "../support/traces.js";
import { sleep, waitFor } from "../support/wait.js";

const work = mkdtempSync(join(tmpdir(), "tracegate-forward-"));
let gateway: GatewayProcess;
/** Key files, as a deployment mounts them: a reader (traces:read), a team-a reader, a writer (traces:write). */
const keyFiles: Record<"reader" | "teamA" | "writer", string> = { reader: "", teamA: "", writer: "" };

let counter = 0;
const file = (name: string) => join(work, `${++counter}-${name}`);

async function createKey(name: string, scopes: string[], principals?: string[], url = gateway.url): Promise<string> {
  const res = await postGraphQL<{ createApiKey: { key: string } }>(
    url,
    "mutation Create($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }",
    { input: { name, scopes, ...(principals ? { principals } : {}) } },
  );
  expect(res.errors).toBeUndefined();
  const path = file(`${name}.key`);
  writeFileSync(path, `${res.data!.createApiKey.key}\n`, { mode: 0o600 });
  return path;
}

/** A gateway process on a fresh database of `backend`, with the forwarders' keys. */
async function startGateway(backend: Backend): Promise<void> {
  gateway = await startGatewayProcess({ DATABASE_URL: await backend.freshDatabaseUrl(), TRACEGATE_HMAC_SECRET: "forward-e2e-secret-0123456789abcdef" });
  keyFiles.reader = await createKey("siem-forwarder", ["TRACES_READ"]);
  keyFiles.teamA = await createKey("team-a-forwarder", ["TRACES_READ"], ["team-a/*"]);
  keyFiles.writer = await createKey("ingest", ["TRACES_WRITE"]);
}

afterAll(async () => {
  for (const f of forwarders) f.child.kill("SIGKILL");
  for (const c of collectors) await c.close();
  await gateway?.kill();
  rmSync(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------
// Traces: three principals, denials with reason codes, failures.
// ---------------------------------------------------------------------------

const PRINCIPALS = ["team-a/alice", "team-b/bob", "team-a/carol"];

function traceOf(prefix: string, i: number): TraceInput {
  const principalId = PRINCIPALS[i % 3]!;
  const invokedAt = at(Math.floor(i / 60), i % 1_000_000);
  if (i % 7 === 0) return deny(`${prefix}-${i}`, i % 2 ? "missing_role" : "rate_limited", { principalId, invokedAt });
  if (i % 11 === 0) return invoke(`${prefix}-${i}`, { principalId, invokedAt, error: "driver failed", capabilityId: "billing.refund", args: { amount: 100.5, n: i } });
  return invoke(`${prefix}-${i}`, { principalId, invokedAt, args: { n: i, big: 2 ** 53 - 1 } });
}

const RECORD = "mutation Record($input: [TraceInput!]!) { recordTraces(input: $input) { seq } }";

/** Ingest traces `from`..`from+n-1` of `prefix` in batches (JSON variables), returning their seqs. */
async function ingest(prefix: string, from: number, n: number, batch = 500, url = gateway.url): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = from; i < from + n; i += batch) {
    const input = Array.from({ length: Math.min(batch, from + n - i) }, (_, k) => traceOf(prefix, i + k));
    const res = await postGraphQL<{ recordTraces: { seq: number }[] }>(url, RECORD, { input });
    expect(res.errors).toBeUndefined();
    seqs.push(...res.data!.recordTraces.map((r) => r.seq));
  }
  return seqs;
}

/** GET /export with the admin key, as `seq -> line` (withSeq frames cut off). */
async function exported(query: string, key = PROCESS_ADMIN_KEY): Promise<Map<number, string>> {
  const res = await fetch(new URL(`/export?withSeq=true&${query}`, gateway.url), { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  const out = new Map<number, string>();
  for (const line of (await res.text()).split("\n")) {
    if (line === "") continue;
    const m = /^\{"seq": (\d+), "data": (.*)\}$/.exec(line)!;
    out.set(Number(m[1]), m[2]!);
  }
  return out;
}

// ---------------------------------------------------------------------------
// The collector: a real HTTP server that can be down, answer 503 or 4xx, and records all.
// ---------------------------------------------------------------------------

type Mode = { kind: "ok" } | { kind: "status"; status: number; retryAfter?: string; times?: number };

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const collectors = new Set<HttpCollector>();

class HttpCollector {
  readonly server: Server;
  port = 0;
  mode: Mode = { kind: "ok" };
  /** Every request that got a 2xx, in arrival order. */
  readonly accepted: Received[] = [];
  /** Every request, whatever it got. */
  requests = 0;
  /** The status of every request, in order. */
  readonly statuses: number[] = [];
  /** When each request arrived (Date.now ms), in order. */
  readonly arrivedAt: number[] = [];
  /** Bodies over this many bytes get 413, as a collector's body limit answers. */
  maxBodyBytes = Number.POSITIVE_INFINITY;
  /** Event text by seq, and how often each seq arrived. */
  readonly events = new Map<number, string>();
  readonly arrivals = new Map<number, number>();
  /** A delivered seq arrived again with other content (must never happen). */
  readonly conflicts: number[] = [];

  constructor(readonly seqOf: (event: string) => number) {
    this.server = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (body += chunk));
      req.on("end", () => {
        this.requests++;
        this.arrivedAt.push(Date.now());
        const mode = this.mode;
        if (mode.kind === "status") {
          if (mode.times !== undefined && --mode.times <= 0) this.mode = { kind: "ok" };
          this.statuses.push(mode.status);
          res.writeHead(mode.status, { "content-type": "application/json", ...(mode.retryAfter ? { "retry-after": mode.retryAfter } : {}) });
          res.end(JSON.stringify({ text: "Server is busy", code: 9 }));
          return;
        }
        if (Buffer.byteLength(body) > this.maxBodyBytes) {
          this.statuses.push(413);
          res.writeHead(413, { "content-type": "application/json" }).end('{"text":"Content length too large","code":27}');
          return;
        }
        this.statuses.push(200);
        this.accepted.push({ path: req.url ?? "", headers: req.headers, body });
        for (const line of body.split("\n")) {
          if (line === "") continue;
          const seq = this.seqOf(line);
          const seen = this.events.get(seq);
          if (seen !== undefined && seen !== line) this.conflicts.push(seq);
          this.events.set(seq, line);
          this.arrivals.set(seq, (this.arrivals.get(seq) ?? 0) + 1);
        }
        res.writeHead(200, { "content-type": "application/json" }).end('{"text":"Success","code":0}');
      });
    });
    collectors.add(this);
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.port, "127.0.0.1", () => resolve()));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Stop listening and drop kept-alive connections: new connections are refused. */
  async down(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  url(path = "/ingest"): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async close(): Promise<void> {
    if (this.server.listening) await this.down();
  }
}

const jsonlSeq = (line: string) => (JSON.parse(line) as { seq: number }).seq;

// ---------------------------------------------------------------------------
// Forwarder processes.
// ---------------------------------------------------------------------------

interface Forwarder {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
  /** The metrics URL it printed (with --metrics-listen). */
  metricsUrl(): Promise<string>;
}

const forwarders = new Set<Forwarder>();

/** Fast retries and flushes, so the outage phases take seconds, not minutes. */
const FAST = ["--flush-ms", "100", "--poll-ms", "100", "--retry-base-ms", "20", "--retry-max-ms", "300", "--timeout-ms", "10000"];

function startForwarder(args: string[], env: Record<string, string> = {}): Forwarder {
  const child = spawn(process.execPath, [join(ROOT, "bin/tracegate.js"), "forward", "--url", gateway.url, ...args], {
    cwd: ROOT,
    env: { ...process.env, TRACEGATE_API_KEY: "", TRACEGATE_URL: "", TRACEGATE_FORWARD_TOKEN: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const f: Forwarder = {
    child,
    stderr: () => err,
    exited,
    metricsUrl: async () => {
      await waitFor(() => /metrics at (http:\S+)/.test(err), () => `the metrics line; stderr:\n${err}`, 30_000);
      return /metrics at (http:\S+)/.exec(err)![1]!;
    },
  };
  forwarders.add(f);
  void exited.then(() => forwarders.delete(f));
  return f;
}

/** Run a forwarder to its exit (a bound against hangs only). */
async function runForwarder(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const f = startForwarder(args, env);
  const code = await Promise.race([f.exited, sleep(60_000).then(() => "hang" as const)]);
  if (code === "hang") {
    f.child.kill("SIGKILL");
    throw new Error(`forwarder did not exit within 60 s; stderr:\n${f.stderr()}`);
  }
  return { code, stderr: f.stderr() };
}

/** One metric's value from Prometheus text. */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  if (line === undefined) throw new Error(`no ${name} in:\n${text}`);
  return Number(line.slice(line.lastIndexOf(" ") + 1));
}

const cursorOf = (statePath: string) =>
  (JSON.parse(readFileSync(statePath, "utf8")) as { ackedSeq: number | null; delivered: number; to: string; chainId?: string | null });

/** The progress line (src/forward/forward.ts): the count since the previous line, then the run's total. */
const PROGRESS = /delivered \+(\d+) event\(s\) since the last line, (\d+) in this run; acknowledged up to seq \d+; lag \d+ seq\(s\)/;

describe.each(BACKENDS)("tracegate forward ($name)", (backend) => {
  beforeAll(() => startGateway(backend));
  afterAll(async () => {
    for (const f of forwarders) f.child.kill("SIGKILL");
    await gateway.kill();
  });

  it(
    "delivers every trace of a 10k ingest through refused connections, 503s and a kill -9, repeats only by seq, none missing; lag goes to 0",
    async () => {
      const collector = new HttpCollector(jsonlSeq);
      await collector.listen();
      await collector.down(); // refusing connections from the start
      const state = file("cursor.json");
      const args = ["--to", collector.url(), "--state", state, "--key-file", keyFiles.reader, "--batch", "500", "--metrics-listen", "127.0.0.1:0", ...FAST];

      const first = startForwarder(args);
      const metricsUrl = await first.metricsUrl();
      const ingesting = ingest("big", 0, 10_000);

      // Phase 1: connections refused; the forwarder retries (and counts the failures).
      await waitFor(() => /ECONNREFUSED/.test(first.stderr()), () => `a refused connection; stderr:\n${first.stderr()}`, 30_000);
      expect(await metric(metricsUrl, 'tracegate_forward_failed_attempts_total{target="collector"}')).toBeGreaterThan(0);
      expect(existsSync(state)).toBe(false); // nothing acknowledged, nothing saved

      // Phase 2: up, but answering 503 (with Retry-After: 0) to the next 6 requests.
      collector.mode = { kind: "status", status: 503, retryAfter: "0", times: 6 };
      await collector.listen();
      await waitFor(() => collector.requests >= 7, () => `six 503s and a success (got ${collector.requests})`, 30_000);
      expect(collector.statuses.slice(0, 7)).toEqual([503, 503, 503, 503, 503, 503, 200]);

      // Phase 3: recovered. Mid-run, kill -9 the forwarder, then restart it from its cursor.
      await waitFor(() => collector.events.size >= 3_000, () => `3000 events (got ${collector.events.size})`, 30_000);
      first.child.kill("SIGKILL");
      await first.exited;
      const cursor = cursorOf(state).ackedSeq!;
      expect(cursor).toBeGreaterThanOrEqual(0);
      // Everything up to the cursor was acknowledged, hence received.
      const seqs = await ingesting;
      expect(seqs).toHaveLength(10_000);
      expect(cursor).toBeLessThan(Math.max(...seqs)); // killed mid-run
      for (const seq of seqs.filter((s) => s <= cursor)) expect(collector.arrivals.has(seq)).toBe(true);

      const second = startForwarder(args);
      const metricsUrl2 = await second.metricsUrl();
      await waitFor(() => seqs.every((s) => collector.arrivals.has(s)), () => `all 10000 seqs (got ${collector.events.size})`, 45_000);
      await waitFor(() => cursorOf(state).ackedSeq === Math.max(...seqs), () => `the cursor at the last seq (at ${cursorOf(state).ackedSeq})`, 15_000);
      // The lag metric reads and reaches 0 once the collector has everything.
      let lag = Number.NaN;
      for (let i = 0; i < 150 && lag !== 0; i++) {
        lag = await metric(metricsUrl2, "tracegate_forward_lag_seqs");
        if (lag !== 0) await sleep(100);
      }
      expect(lag).toBe(0);
      expect(await metric(metricsUrl2, "tracegate_forward_acked_seq")).toBe(Math.max(...seqs));
      expect(await metric(metricsUrl2, "tracegate_forward_delivered_events_total")).toBeGreaterThan(0);
      expect(await metric(metricsUrl2, "tracegate_forward_last_success_timestamp_seconds")).toBeGreaterThan(Date.now() / 1000 - 120);

      // SIGTERM: a clean exit, the cursor kept.
      second.child.kill("SIGTERM");
      expect(await second.exited).toBe(0);
      const resumed = /stopped: (\d+) event\(s\) delivered in this run; acknowledged up to seq (\d+)/.exec(second.stderr());
      expect(Number(resumed?.[1])).toBeGreaterThan(0);
      expect(Number(resumed?.[2])).toBe(Math.max(...seqs));
      // It resumed after the cursor the killed process had saved.
      expect(second.stderr()).toContain(`after seq ${cursor} (cursor ${state})`);

      // None missing, no other content under a seq, every event the gateway's export object beside its seq.
      expect(collector.conflicts).toEqual([]);
      const all = await exported("format=jsonl");
      const delivered = [...collector.events.keys()].sort((a, b) => a - b);
      expect(delivered).toEqual([...all.keys()].sort((a, b) => a - b));
      for (const [seq, line] of all) expect(collector.events.get(seq)).toBe(`{"seq": ${seq}, "trace": ${line}}`);
      // Repeats are bounded: at most what was in flight or read ahead when the process died.
      const repeats = [...collector.arrivals.values()].filter((n) => n > 1).length;
      expect(repeats).toBeLessThanOrEqual(500);
      // Batches respected the size limit.
      for (const r of collector.accepted) expect(r.body.split("\n").filter((l) => l !== "").length).toBeLessThanOrEqual(500);
      expect(first.stderr()).toMatch(/503/);
      expect(collector.accepted[0]!.headers["content-type"]).toBe("application/x-ndjson");
    },
    120_000,
  );

  it("respects the filters, and a principal-scoped key only ever gets its principals (jsonl and ocsf, --once)", async () => {
    await ingest("filters", 0, 300);
    const teamADenials = await exported("eventType=deny&format=jsonl", readFileSync(keyFiles.teamA, "utf8").trim());
    expect(teamADenials.size).toBeGreaterThan(0);

    const jsonl = new HttpCollector(jsonlSeq);
    await jsonl.listen();
    const run = await runForwarder(["--once", "--to", jsonl.url(), "--state", file("deny.json"), "--event-type", "deny", ...FAST], {
      TRACEGATE_API_KEY_FILE: keyFiles.teamA,
    });
    expect(run.stderr).toMatch(/done: \d+ event\(s\) delivered/);
    expect(run.code).toBe(0);
    expect([...jsonl.events.keys()].sort((a, b) => a - b)).toEqual([...teamADenials.keys()]);
    for (const line of jsonl.events.values()) {
      const { trace } = JSON.parse(line) as { trace: { principal_id: string; event_type: string } };
      expect(trace.principal_id).toMatch(/^team-a\//);
      expect(trace.event_type).toBe("deny");
    }

    // Another principal, asked for by name: nothing reaches the collector.
    const none = new HttpCollector(jsonlSeq);
    await none.listen();
    const empty = await runForwarder(["--once", "--to", none.url(), "--state", file("bob.json"), "--principal", "team-b/bob", "--key-file", keyFiles.teamA, ...FAST]);
    expect(empty.code).toBe(0);
    expect(none.requests).toBe(0);

    // ocsf, several filters AND-ed: the gateway's OCSF event, which carries metadata.sequence = seq.
    const expected = await exported("format=ocsf&outcome=failed&capabilityId=billing.refund&principalId=team-a/alice");
    expect(expected.size).toBeGreaterThan(0);
    const ocsf = new HttpCollector((line) => (JSON.parse(line) as { metadata: { sequence: number } }).metadata.sequence);
    await ocsf.listen();
    const run2 = await runForwarder(
      ["--once", "--format", "ocsf", "--to", ocsf.url(), "--state", file("ocsf.json"), "--outcome", "failed", "--capability", "billing.refund", "--principal", "team-a/alice", "--key-file", keyFiles.reader, "--batch", "7", ...FAST],
    );
    expect(run2.code).toBe(0);
    expect([...ocsf.events.keys()]).toEqual([...expected.keys()]);
    for (const [seq, line] of expected) {
      expect(ocsf.events.get(seq)).toBe(line);
      expect((JSON.parse(line) as { metadata: { sequence: number }; unmapped: { seq: number } })).toMatchObject({ metadata: { sequence: seq }, unmapped: { seq } });
    }
    expect(ocsf.accepted.length).toBe(Math.ceil(expected.size / 7));
    // The progress line tells which count is which: the last one's run total is everything delivered.
    const lines = [...run2.stderr.matchAll(new RegExp(PROGRESS, "g"))];
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.reduce((sum, m) => sum + Number(m[1]), 0)).toBe(expected.size);
    expect(Number(lines.at(-1)![2])).toBe(expected.size);
  });

  it("repeated --principal/--capability are any-of, --principal-prefix/--capability-prefix match the start, also through a scoped key", async () => {
    await ingest("lists", 0, 120);
    // The expectation from the admin's whole export, filtered here on the export objects' fields.
    const all = await exported("format=jsonl");
    const seqsWhere = (keep: (t: { principal_id: string; capability_id: string }) => boolean) =>
      [...all].filter(([, line]) => keep(JSON.parse(line) as { principal_id: string; capability_id: string })).map(([seq]) => seq);

    // The team-a key asks for alice or bob: bob lies outside its principals, so only alice's, and only billing.* (all of them here).
    const scoped = new HttpCollector(jsonlSeq);
    await scoped.listen();
    const run = await runForwarder(
      ["--once", "--to", scoped.url(), "--state", file("lists.json"), "--principal", "team-a/alice", "--principal", "team-b/bob", "--capability-prefix", "billing.", "--batch", "300", ...FAST],
      { TRACEGATE_API_KEY_FILE: keyFiles.teamA },
    );
    expect(run.code).toBe(0);
    const alice = seqsWhere((t) => t.principal_id === "team-a/alice" && t.capability_id.startsWith("billing."));
    expect(alice.length).toBeGreaterThan(0);
    expect([...scoped.events.keys()].sort((a, b) => a - b)).toEqual(alice);

    // The reader key (all principals): bob by prefix, either of two capabilities by name.
    const reader = new HttpCollector(jsonlSeq);
    await reader.listen();
    const run2 = await runForwarder(
      ["--once", "--to", reader.url(), "--state", file("prefix.json"), "--principal-prefix", "team-b/", "--capability", "billing.refund", "--capability", "c", "--key-file", keyFiles.reader, "--batch", "300", ...FAST],
    );
    expect(run2.code).toBe(0);
    const bobs = seqsWhere((t) => t.principal_id.startsWith("team-b/") && (t.capability_id === "billing.refund" || t.capability_id === "c"));
    expect(bobs.length).toBeGreaterThan(0);
    expect([...reader.events.keys()].sort((a, b) => a - b)).toEqual(bobs);

    // The scoped key with a prefix outside its principals: nothing.
    const none = new HttpCollector(jsonlSeq);
    await none.listen();
    const run3 = await runForwarder(["--once", "--to", none.url(), "--state", file("prefix-b.json"), "--principal-prefix", "team-b/", ...FAST], { TRACEGATE_API_KEY_FILE: keyFiles.teamA });
    expect(run3.code).toBe(0);
    expect(none.requests).toBe(0);
  });

  it("a cursor names its gateway's chain: another chain is refused (STATE), a restored database (newest seq below the cursor) stops --once (CURSOR_AHEAD) and sets a gauge in --follow", async () => {
    // Gateway A (this describe's) has thousands of records; a cursor made against it.
    const collector = new HttpCollector(jsonlSeq);
    await collector.listen();
    const stateA = file("chain-a.json");
    const ok = await runForwarder(["--once", "--to", collector.url(), "--state", stateA, "--principal-prefix", "team-", "--key-file", keyFiles.reader, "--batch", "2000", ...FAST]);
    expect(ok.code).toBe(0);
    const cursorA = cursorOf(stateA);
    expect(cursorA.chainId).toMatch(/^[0-9a-f]+$/);
    expect(cursorA.ackedSeq).toBeGreaterThan(100);

    // Gateway B: a database of the same template (hence, like a restored backup, the same chain id) with a short chain.
    const urlB = await backend.freshDatabaseUrl();
    let gatewayB = await startGatewayProcess({ DATABASE_URL: urlB, TRACEGATE_HMAC_SECRET: "forward-e2e-secret-0123456789abcdef" });
    try {
      const readerB = await createKey("reader-b", ["TRACES_READ"], undefined, gatewayB.url);
      const teamAB = await createKey("team-a-b", ["TRACES_READ"], ["team-a/*"], gatewayB.url);
      const seqsB = await ingest("b", 0, 28, 500, gatewayB.url);
      const copied = file("copied.json");
      writeFileSync(copied, readFileSync(stateA));
      const copy = readFileSync(copied, "utf8");

      // --once: exit 1 with a code, nothing delivered, the cursor untouched.
      const requests = collector.requests;
      const ahead = await runForwarder(["--once", "--url", gatewayB.url, "--to", collector.url(), "--state", copied, "--key-file", teamAB, ...FAST]);
      expect(ahead.code).toBe(1);
      expect(ahead.stderr).toMatch(new RegExp(`^error: the gateway's newest matching seq \\d+ is below the cursor ${cursorA.ackedSeq} of the same chain .*\\[CURSOR_AHEAD\\]$`, "m"));
      expect(collector.requests).toBe(requests);
      expect(readFileSync(copied, "utf8")).toBe(copy);

      // --follow: a warning and the gauge at 1, while it keeps going.
      const follower = startForwarder(["--url", gatewayB.url, "--to", collector.url(), "--state", copied, "--key-file", readerB, "--metrics-listen", "127.0.0.1:0", ...FAST]);
      const metricsUrl = await follower.metricsUrl();
      let gauge = Number.NaN;
      for (let i = 0; i < 300 && gauge !== 1; i++) {
        gauge = await metric(metricsUrl, "tracegate_forward_cursor_ahead");
        if (gauge !== 1) await sleep(100);
      }
      expect(gauge, `the gauge at 1; stderr:\n${follower.stderr()}`).toBe(1);
      expect(follower.stderr()).toMatch(/is below the cursor \d+ of the same chain .*tracegate_forward_cursor_ahead is 1/);
      follower.child.kill("SIGTERM");
      expect(await follower.exited).toBe(0);
      expect(Math.max(...seqsB)).toBeLessThan(cursorA.ackedSeq!);

      // Gateway B as another installation: its own chain id (what its migration would have drawn).
      await gatewayB.stop();
      const raw = backend.rawDb(urlB);
      await raw.run(`UPDATE "ChainHead" SET "chainId" = 'b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0'`);
      await raw.close();
      gatewayB = await startGatewayProcess({ DATABASE_URL: urlB, TRACEGATE_HMAC_SECRET: "forward-e2e-secret-0123456789abcdef" });
      const other = await runForwarder(["--once", "--url", gatewayB.url, "--to", collector.url(), "--state", copied, "--key-file", teamAB, ...FAST]);
      expect(other.code).toBe(1);
      expect(other.stderr).toMatch(
        new RegExp(`^error: the cursor file .* counts seqs of the gateway chain ${cursorA.chainId}, but http://127\\.0\\.0\\.1:\\d+/export serves the chain b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0 .*\\[STATE\\]$`, "m"),
      );
      expect(collector.requests).toBe(requests);
      expect(readFileSync(copied, "utf8")).toBe(copy);

      // A cursor from before the chain id adopts the chain of its first read, then holds to it.
      const old = file("old.json");
      const { chainId: _dropped, ...withoutChain } = cursorA;
      writeFileSync(old, JSON.stringify(withoutChain));
      const adopt = await runForwarder(["--once", "--to", collector.url(), "--state", old, "--principal-prefix", "team-", "--key-file", keyFiles.reader, ...FAST]);
      expect(adopt.code).toBe(0);
      expect(adopt.stderr).toMatch(/had no gateway chain; it now names [0-9a-f]+/);
      expect(cursorOf(old).chainId).toBe(cursorA.chainId);
      const refused = await runForwarder(["--once", "--url", gatewayB.url, "--to", collector.url(), "--state", old, "--key-file", readerB, ...FAST]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/\[STATE\]$/m);
    } finally {
      await gatewayB.kill();
    }
  });

  it("splunk-hec: events POSTed to /services/collector/event with Authorization: Splunk <token>, time in epoch seconds, fields.seq", async () => {
    const hec = new HttpCollector((line) => Number((JSON.parse(line) as { fields: { seq: string } }).fields.seq));
    await hec.listen();
    const tokenFile = file("hec.token");
    writeFileSync(tokenFile, "11111111-2222-3333-4444-555555555555\n", { mode: 0o600 });
    // Numbers only an exact road keeps: a float with a zero fraction, an integer past 2^53 (a GraphQL literal keeps both).
    const exact = await postGraphQL(
      gateway.url,
      `mutation { recordTraces(input: [{ actionId: "hec-exact", capabilityId: "c", principalId: "team-b/bob", invokedAt: "2026-11-22T09:00:00.123456Z",
        responseMode: SUMMARY, eventType: DENY, reasonCode: "missing_role", error: "Denied", args: { f: 100.0, big: 1152921504606846976 } }]) { seq } }`,
    );
    expect(exact.errors).toBeUndefined();
    const expected = await exported("format=jsonl&principalId=team-b/bob&reasonCode=missing_role");
    expect(expected.size).toBeGreaterThan(0);
    const run = await runForwarder([
      "--once", "--format", "splunk-hec", "--to", `http://127.0.0.1:${hec.port}`, "--token-file", tokenFile, "--state", file("hec.json"),
      "--principal", "team-b/bob", "--reason-code", "missing_role", "--key-file", keyFiles.reader,
      "--hec-host", "gw-1", "--hec-index", "audit", ...FAST,
    ]);
    expect(run.code).toBe(0);
    expect(hec.accepted.length).toBeGreaterThan(0);
    for (const r of hec.accepted) {
      expect(r.path).toBe("/services/collector/event");
      expect(r.headers.authorization).toBe("Splunk 11111111-2222-3333-4444-555555555555");
      expect(r.headers["content-type"]).toBe("application/json");
    }
    expect([...hec.events.keys()]).toEqual([...expected.keys()]);
    const exactSeq = (exact.data as { recordTraces: { seq: number }[] }).recordTraces[0]!.seq;
    expect(hec.events.get(exactSeq)).toMatch(/^\{"time": 1795338000\.123456, .*"args": \{"big": 1152921504606846976, "f": 100\.0\}/);
    for (const [seq, line] of expected) {
      const event = JSON.parse(hec.events.get(seq)!) as Record<string, unknown>;
      expect(Object.keys(event)).toEqual(["time", "host", "source", "sourcetype", "index", "event", "fields"]);
      const trace = JSON.parse(line) as { invoked_at: string };
      // HEC's time: epoch seconds, the microseconds of invoked_at as the fraction.
      const seconds = Date.parse(trace.invoked_at.replace(/\.\d+/, "")) / 1000;
      const fraction = /\.(\d{6})/.exec(trace.invoked_at)?.[1] ?? "000000";
      const text = hec.events.get(seq)!;
      expect(text.startsWith(`{"time": ${seconds}.${fraction}, "host": "gw-1", `)).toBe(true);
      expect(event).toEqual({ time: Number(`${seconds}.${fraction}`), host: "gw-1", source: "tracegate", sourcetype: "tracegate:trace", index: "audit", event: trace, fields: { seq: String(seq) } });
      // The event is the export object as the gateway wrote it.
      expect(text).toContain(`"event": ${line}, "fields"`);
    }
  });

  it("stops with a coded error on a 4xx of the collector or a refusal of the gateway, and keeps the cursor", async () => {
    const collector = new HttpCollector(jsonlSeq);
    await collector.listen();
    const state = file("refused.json");
    // First a good run, so there is a cursor to keep.
    const ok = await runForwarder(["--once", "--to", collector.url(), "--state", state, "--principal", "team-a/carol", "--key-file", keyFiles.reader, ...FAST]);
    expect(ok.code).toBe(0);
    const before = readFileSync(state, "utf8");
    await ingest("after-refusal", 0, 30);

    collector.mode = { kind: "status", status: 403 };
    const requests = collector.requests;
    const refused = await runForwarder(["--to", collector.url(), "--state", state, "--principal", "team-a/carol", "--key-file", keyFiles.reader, ...FAST]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: the collector http:\/\/127\.0\.0\.1:\d+\/ingest refused the batch \(HTTP 403: .*\); .* \[COLLECTOR_REFUSED\]$/m);
    expect(collector.requests).toBe(requests + 1); // not retried
    expect(readFileSync(state, "utf8")).toBe(before);

    // A key without traces:read: the gateway's 403, not retried.
    const gatewayRefused = await runForwarder(["--to", collector.url(), "--state", file("writer.json"), "--key-file", keyFiles.writer, ...FAST]);
    expect(gatewayRefused.code).toBe(1);
    expect(gatewayRefused.stderr).toMatch(/^error: the gateway refused the export \(HTTP 403, FORBIDDEN: .*traces:read.*\) \[GATEWAY_REFUSED\]$/m);

    // The cursor belongs to its collector.
    const other = await runForwarder(["--to", "http://127.0.0.1:9/other", "--state", state, "--key-file", keyFiles.reader, ...FAST]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/counts for the collector .*\/ingest, not http:\/\/127\.0\.0\.1:9\/other; pass another --state\. \[STATE\]/);

    // Usage errors.
    const noState = await runForwarder(["--to", collector.url(), "--key-file", keyFiles.reader]);
    expect(noState.code).toBe(1);
    expect(noState.stderr).toMatch(/--state is required.*\[USAGE\]/);
    const noKey = await runForwarder(["--to", collector.url(), "--state", file("nokey.json")]);
    expect(noKey.stderr).toMatch(/no API key.*\[USAGE\]/);
    const hecNoToken = await runForwarder(["--format", "splunk-hec", "--to", collector.url(), "--state", file("n.json"), "--key-file", keyFiles.reader]);
    expect(hecNoToken.stderr).toMatch(/HEC token.*\[USAGE\]/);
  });

  it("honours Retry-After, and halves a batch over the collector's body limit (413); a single event over it stops", async () => {
    const collector = new HttpCollector(jsonlSeq);
    await collector.listen();
    const expected = await exported("format=jsonl&principalId=team-a/alice&eventType=deny");
    expect(expected.size).toBeGreaterThan(40);
    // Room for about 10 events per body; the forwarder reads batches of 40.
    const sizes = [...expected].map(([seq, line]) => Buffer.byteLength(`{"seq": ${seq}, "trace": ${line}}\n`));
    collector.maxBodyBytes = Math.max(...sizes) * 10;
    collector.mode = { kind: "status", status: 503, retryAfter: "1", times: 1 };
    const run = await runForwarder(["--once", "--batch", "40", "--to", collector.url(), "--state", file("split.json"), "--principal", "team-a/alice", "--event-type", "deny", "--key-file", keyFiles.reader, ...FAST]);
    expect(run.code).toBe(0);
    // The 503 asked for a second; the retry came no sooner (our own backoff is at most 300 ms).
    expect(collector.statuses[0]).toBe(503);
    expect(collector.arrivedAt[1]! - collector.arrivedAt[0]!).toBeGreaterThanOrEqual(990);
    expect(collector.statuses).toContain(413);
    expect(run.stderr).toMatch(/too large \(HTTP 413\); sending them in halves/);
    expect([...collector.events.keys()]).toEqual([...expected.keys()]);
    // The limit is remembered: the first batch's halving finds it (a 413 per halving step, up to 40 -> 10 events), later
    // batches are cut below it, and the split is logged once.
    expect(expected.size).toBeGreaterThan(120);
    expect(collector.statuses.filter((st) => st === 413).length).toBeLessThanOrEqual(3);
    expect(run.stderr.match(/too large \(HTTP 413\)/g)).toHaveLength(1);
    for (const r of collector.accepted) expect(Buffer.byteLength(r.body)).toBeLessThanOrEqual(collector.maxBodyBytes);

    const tiny = new HttpCollector(jsonlSeq);
    await tiny.listen();
    tiny.maxBodyBytes = 10;
    const state = file("tiny.json");
    const refused = await runForwarder(["--once", "--to", tiny.url(), "--state", state, "--principal", "team-a/alice", "--key-file", keyFiles.reader, ...FAST]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: the collector refused the event of seq \d+ as too large \(HTTP 413, \d+ bytes\) \[COLLECTOR_REFUSED\]$/m);
    expect(existsSync(state)).toBe(false);
  });

  it("--once gives up on a gateway that stays away after --retries attempts (GATEWAY_UNAVAILABLE)", async () => {
    const collector = new HttpCollector(jsonlSeq);
    await collector.listen();
    const port = collector.port; // a port nothing listens on once the collector is down
    await collector.down();
    const run = await runForwarder(["--once", "--retries", "2", "--url", `http://127.0.0.1:${port}/graphql`, "--to", "http://127.0.0.1:9/x", "--state", file("nogw.json"), "--key-file", keyFiles.reader, ...FAST]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/gateway http:\/\/127\.0\.0\.1:\d+\/export unavailable \(network: ECONNREFUSED\); retry 1/);
    expect(run.stderr).toMatch(/^error: the gateway stayed unavailable for 2 attempt\(s\) \(network: ECONNREFUSED\); delivered up to seq \(none\), which a rerun resumes after \[GATEWAY_UNAVAILABLE\]$/m);
  });

  it("--once gives up on a collector that stays away after --retries attempts, exit 1, nothing saved", async () => {
    const collector = new HttpCollector(jsonlSeq);
    await collector.listen();
    collector.mode = { kind: "status", status: 503 };
    const state = file("away.json");
    const run = await runForwarder(["--once", "--retries", "3", "--to", collector.url(), "--state", state, "--key-file", keyFiles.reader, "--principal", "team-b/bob", ...FAST]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the collector .* stayed unavailable for 3 attempt\(s\) \(HTTP 503.*\[COLLECTOR_UNAVAILABLE\]/);
    expect(collector.requests).toBe(3);
    expect(existsSync(state)).toBe(false);
  });
});

/**
 * `tracegate audit list|show|verify|export` as an operator runs it: real CLI processes on a
 * database a gateway wrote, checked against the reference CLI's outputs and exit codes
 * (docs/reference-compatibility.md#operator-cli and the CLI items of
 * docs/reference-compatibility.md#tamper-checklist) and against CPython itself: `show` must
 * print exactly `json.dumps(obj, indent=2)`, `export` exactly `json.dumps(obj)` per line, and a
 * `chained` export must pass an independent verifier written the way weaver-kernel's JSONL
 * store reads and verifies its file (docs/reference-compatibility.md#verification and
 * #jsonl-store). One run uses a real gateway process and its data directory's development
 * secret, as a fresh install would.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordTracesDocument } from "../gql/graphql.js";
import { SQLITE } from "../support/backends.js";
import { createTestGateway, dataOf, TEST_SECRET } from "../support/harness.js";
import { type CliRun, postGraphQL, runCli, startGatewayProcess } from "../support/process.js";
import { at, deny, invoke } from "../support/traces.js";

const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "tracegate-audit-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * At most three CLI processes at a time: tests start several at once, but runCli gives each
 * 20 s, which a machine busy with a dozen Node startups could exceed.
 */
let running = 0;
const waiting: (() => void)[] = [];
async function cli(args: string[], env: Record<string, string>): Promise<CliRun> {
  if (running >= 3) await new Promise<void>((resume) => waiting.push(resume));
  running++;
  try {
    return await runCli(args, env);
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** A clean environment: nothing of the caller's configuration leaks into the CLI. */
const CLEAN = { DATABASE_URL: "", TRACEGATE_DATA_DIR: "", TRACEGATE_HMAC_SECRET: "", NODE_ENV: "" };

const EXPORT_KEYS = [
  "action_id", "capability_id", "principal_id", "token_id", "invoked_at", "response_mode", "driver_id", "handle_id",
  "sensitivity", "status", "event_type", "reason_code", "error", "args", "result_summary", "correction",
];

/** CPython's own rendering of stored payloads: the export object rebuilt in the reference's key order. */
const PYTHON_RENDER = String.raw`
import json, sqlite3, sys
db, mode = sys.argv[1], sys.argv[2]
KEYS = json.loads(sys.argv[3])
con = sqlite3.connect(db)
def export(payload):
    trace = json.loads(payload)
    return {k: trace[k] for k in KEYS}
if mode == "show":
    (payload,) = con.execute('SELECT payload FROM "Trace" WHERE actionId = ?', (sys.argv[4],)).fetchone()
    print(json.dumps(export(payload), indent=2))
else:
    for (payload,) in con.execute('SELECT payload FROM "Trace" ORDER BY seq'):
        print(json.dumps(export(payload)))
`;

/**
 * weaver-kernel's JSONL store, reading and verifying a file
 * (docs/reference-compatibility.md#verification and #jsonl-store), in CPython's json and hmac:
 * blank lines skipped, the record keys and their order, each line exactly what the reference
 * writer would write, seq contiguous from the first record's own, links from GENESIS, and the
 * HMAC over the sorted compact JSON.
 */
const PYTHON_JSONL_VERIFIER = String.raw`
import hashlib, hmac, json, sys
path, secret, keys = sys.argv[1], sys.argv[2].encode("utf-8"), json.loads(sys.argv[3])
prev, expected, n = "0" * 64, None, 0
with open(path, encoding="utf-8") as f:
    for lineno, raw in enumerate(f, 1):
        line = raw.strip()
        if not line:
            continue
        rec = json.loads(line)
        assert list(rec) == ["seq", "prev_hash", "record_hash", "trace"], f"line {lineno}: keys {list(rec)}"
        assert list(rec["trace"]) == keys, f"line {lineno}: trace keys {list(rec['trace'])}"
        assert json.dumps(rec) == line, f"line {lineno} differs from the reference writer's bytes"
        seq = rec["seq"]
        expected = seq if expected is None else expected
        assert seq == expected, f"Non-contiguous sequence at position {n + 1}"
        assert hmac.compare_digest(rec["prev_hash"], prev), f"Broken link at seq {seq}"
        message = json.dumps({"seq": seq, "prev_hash": rec["prev_hash"], "trace": rec["trace"]}, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        digest = hmac.new(secret, message.encode("utf-8"), hashlib.sha256).hexdigest()
        assert hmac.compare_digest(digest, rec["record_hash"]), f"Tampered record at seq {seq}"
        prev, expected, n = rec["record_hash"], seq + 1, n + 1
print(f"OK: Verified {n} record(s).")
`;

function python(script: string, ...args: string[]): string {
  const run = spawnSync("python3", ["-c", script, ...args], { encoding: "utf8" });
  expect(run.error).toBeUndefined();
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  return run.stdout;
}

/** Chain order differs from time order on purpose (seq 1 is the earliest). */
const SEED = [
  deny("a-1", "missing_role", { principalId: "bob", invokedAt: at(0) }),
  invoke("a-2", { principalId: "alice", invokedAt: at(1), error: "driver failed", driverId: "", handleId: null, resultSummary: null }),
  invoke("a-3", { principalId: "carol", capabilityId: "memory.read", invokedAt: at(3), eventType: "EXPAND", tokenId: "", driverId: "" }),
  deny("a-4", "rate_limited", { principalId: "bob", invokedAt: at(4, 250) }),
];
/** seq 0: numbers and text only a lossless, Python-faithful writer gets right. */
const TRICKY = `mutation { recordTraces(input: [{ actionId: "a-0", capabilityId: "billing.list_invoices", principalId: "alice",
  invokedAt: "${at(2)}", responseMode: TABLE, driverId: "billing-api", handleId: "h-0", sensitivity: PII,
  args: { f: 100.0, g: 1e-7, h: 1e16, big: 1152921504606846976, neg: -0.0, Alpha: 1, alpha: 2, nested: { z: [1, 2.5, null, true], a: {} },
          ctl: "a\\u0001\\u007fb", accent: "\\u00e9l\\u00e8ve", rocket: "\\u{1F680}", q: "\\"/\\\\" },
  resultSummary: { fact_count: 1, row_count: 10, warning_count: 0, has_handle: true } }]) { seq } }`;
const CHAIN = ["a-0", "a-1", "a-2", "a-3", "a-4"];

/** Each CLI run starts Node, tsx and Prisma (about 2 s, far more on a loaded machine). */
const SLOW = { timeout: 180_000 };

describe("tracegate audit on a store a gateway wrote", SLOW, () => {
  const dir = freshDir();
  const db = join(dir, "tracegate.db");
  const env = { ...CLEAN, DATABASE_URL: `file:${db}`, TRACEGATE_HMAC_SECRET: TEST_SECRET };
  const audit = (args: string[], extra: Record<string, string> = {}) => cli(["audit", ...args], { ...env, ...extra });
  /** The command must succeed with nothing on stderr; returns stdout. */
  const ok = async (args: string[]) => {
    const run = await audit(args);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    return run.stdout;
  };
  const tableIds = (out: string) => out.split("\n").slice(2).filter((l) => l !== "").map((l) => l.split(" ")[0]);

  beforeAll(async () => {
    const url = await SQLITE.freshDatabaseUrl();
    copyFileSync(url.slice("file:".length), db);
    const gw = await createTestGateway({ backend: SQLITE, databaseUrl: `file:${db}` });
    dataOf(await gw.raw(TRICKY));
    dataOf(await gw.exec(RecordTracesDocument, { input: SEED }));
    await gw.close();
  });

  describe("verify", () => {
    it("prints OK and exits 0 on a good store; --json adds the failure kind", async () => {
      const [text, json] = await Promise.all([ok(["verify"]), ok(["verify", "--json"])]);
      expect(text).toBe("OK: Verified 5 record(s).\n");
      expect(json).toBe(
        '{"ok": true, "records_checked": 5, "first_bad_seq": null, "detail": "Verified 5 record(s).", "kind": null}\n',
      );
    });

    it("prints TAMPER DETECTED and exits 1 after a payload was edited in SQL", async () => {
      const tampered = freshDir();
      const copy = join(tampered, "tracegate.db");
      copyFileSync(db, copy);
      const sql = new Database(copy);
      sql.prepare(`UPDATE "Trace" SET "payload" = replace("payload", '"row_count":10', '"row_count":11') WHERE "seq" = 0`).run();
      sql.close();
      const [run, json] = await Promise.all([audit(["verify"], { DATABASE_URL: `file:${copy}` }), audit(["verify", "--json"], { DATABASE_URL: `file:${copy}` })]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("TAMPER DETECTED: Tampered record at seq 0: content does not match its stored hash (mutation, or wrong secret).\n");
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toEqual({
        ok: false,
        records_checked: 1,
        first_bad_seq: 0,
        detail: "Tampered record at seq 0: content does not match its stored hash (mutation, or wrong secret).",
        kind: "MUTATED",
      });
    });

    it("names a wrong secret as such (the chain records its key id), and refuses to guess a secret it does not have", async () => {
      const [wrong, none] = await Promise.all([
        audit(["verify"], { TRACEGATE_HMAC_SECRET: "another-secret" }),
        audit(["verify"], { TRACEGATE_HMAC_SECRET: "", TRACEGATE_DATA_DIR: freshDir() }),
      ]);
      // Not "TAMPER DETECTED": the chain's recorded key id shows the secret is another one.
      expect(wrong.code).toBe(1);
      expect(wrong.stdout).toBe("");
      expect(wrong.stderr).toMatch(/^error: wrong secret: its key id [0-9a-f]{16} is not the chain's \([0-9a-f]{16}\); nothing was verified\./);
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/^error: No chain secret/);
    });

    it("exits 1 with 'does not exist' for a missing store, and does not create it", async () => {
      const missing = join(freshDir(), "nope.db");
      const runs = await Promise.all([["verify"], ["show", "a-0"]].map((command) => audit(command, { DATABASE_URL: `file:${missing}` })));
      for (const run of runs) {
        expect(run.code).toBe(1);
        expect(run.stderr).toBe(
          `error: Trace store '${missing}' does not exist. Check DATABASE_URL / TRACEGATE_DATA_DIR (the audit commands read an existing store; they do not create one).\n`,
        );
      }
      expect(existsSync(missing)).toBe(false);
    });
  });

  describe("list", () => {
    it("prints the reference's table in chain order", async () => {
      const out = await ok(["list"]);
      const header = `${"ACTION_ID".padEnd(38)} ${"CAPABILITY".padEnd(28)} ${"PRINCIPAL".padEnd(18)} ${"STATUS".padEnd(9)} INVOKED_AT`;
      const row = (id: string, cap: string, who: string, status: string, time: string) =>
        `${id.padEnd(38)} ${cap.padEnd(28)} ${who.padEnd(18)} ${status.padEnd(9)} ${time}`;
      expect(out).toBe(
        [
          header,
          "-".repeat(header.length),
          row("a-0", "billing.list_invoices", "alice", "succeeded", "2026-01-01T00:02:00+00:00"),
          row("a-1", "billing.list_invoices", "bob", "failed", "2026-01-01T00:00:00+00:00"),
          row("a-2", "billing.list_invoices", "alice", "failed", "2026-01-01T00:01:00+00:00"),
          row("a-3", "memory.read", "carol", "succeeded", "2026-01-01T00:03:00+00:00"),
          row("a-4", "billing.list_invoices", "bob", "failed", "2026-01-01T00:04:00.000250+00:00"),
        ].join("\n") + "\n",
      );
    });

    it("filters by principal and by --status failed, as the reference does", async () => {
      const [alice, failed, capability, window, nobody, beforeAll] = await Promise.all([
        ok(["list", "--principal", "alice"]),
        ok(["list", "--status", "failed"]),
        ok(["list", "--capability", "memory.read"]),
        ok(["list", "--since", "2026-01-01T00:01:00", "--until", "2026-01-01T00:03:00Z"]),
        ok(["list", "--principal", "nobody"]),
        ok(["list", "--until", "2026-01-01"]),
      ]);
      expect(tableIds(alice)).toEqual(["a-0", "a-2"]);
      expect(tableIds(failed)).toEqual(["a-1", "a-2", "a-4"]);
      expect(tableIds(capability)).toEqual(["a-3"]);
      expect(tableIds(window)).toEqual(["a-0", "a-2"]);
      expect(nobody).toBe("No traces matched.\n");
      expect(beforeAll).toBe("No traces matched.\n");
    });

    it("adds the filters and orders the reference lacks: event type, reason code, time order", async () => {
      const [denials, rateLimited, byTime, latestFailures, firstTwo, none, memory, bAndC] = await Promise.all([
        ok(["list", "--event-type", "deny"]),
        ok(["list", "--event-type", "deny", "--reason-code", "rate_limited"]),
        ok(["list", "--order", "time"]),
        ok(["list", "--order", "time-desc", "--status", "failed", "--limit", "2"]),
        ok(["list", "--limit", "2"]),
        ok(["list", "--limit", "0"]),
        ok(["list", "--capability-prefix", "memory."]),
        ok(["list", "--principal-prefix", "b", "--capability-prefix", "billing."]),
      ]);
      expect(tableIds(memory)).toEqual(["a-3"]);
      expect(tableIds(bAndC)).toEqual(["a-1", "a-4"]);
      expect(tableIds(denials)).toEqual(["a-1", "a-4"]);
      expect(tableIds(rateLimited)).toEqual(["a-4"]);
      expect(tableIds(byTime)).toEqual(["a-1", "a-2", "a-0", "a-3", "a-4"]);
      expect(tableIds(latestFailures)).toEqual(["a-4", "a-2"]);
      expect(tableIds(firstTwo)).toEqual(["a-0", "a-1"]);
      expect(none).toBe("No traces matched.\n");
    });

    it("--json prints a 2-space-indented array of export objects, [] when empty", async () => {
      const [out, empty] = await Promise.all([ok(["list", "--json", "--principal", "alice"]), ok(["list", "--json", "--principal", "nobody"])]);
      const python = String.raw`
import json, sqlite3, sys
keys = json.loads(sys.argv[2])
rows = sqlite3.connect(sys.argv[1]).execute('SELECT payload FROM "Trace" WHERE principalId = ? ORDER BY seq', ("alice",))
print(json.dumps([{k: json.loads(p)[k] for k in keys} for (p,) in rows], indent=2))`;
      expect(out).toBe(spawnSync("python3", ["-c", python, db, JSON.stringify(EXPORT_KEYS)], { encoding: "utf8" }).stdout);
      expect((JSON.parse(out) as { action_id: string }[]).map((t) => t.action_id)).toEqual(["a-0", "a-2"]);
      expect(empty).toBe("[]\n");
    });

    it("usage errors exit 2 as argparse's do: a negative --limit, a time fromisoformat refuses, a store flag without --store", async () => {
      const [negative, badTime, ...usage]: CliRun[] = await Promise.all([
        audit(["list", "--limit", "-1"]),
        audit(["list", "--since", "yesterday"]),
        audit(["list", "--status", "maybe"]),
        audit(["list", "--limit", "ten"]),
        audit(["show"]),
        audit([]),
        audit(["verify", "--secret", "s"]),
        audit(["export", "--format", "sqlite"]),
      ]);
      expect(negative!.code).toBe(2);
      expect(negative!.stderr).toBe("error: --limit must be 0 or more, got -1.\n");
      for (const run of usage) {
        expect(run.code).toBe(2);
        expect(run.stderr).toMatch(/error: |Usage: /);
      }
      expect(usage.at(-2)!.stderr).toMatch(/^error: --secret reads a store file's chain secret and needs --store PATH/);
      expect(usage.at(-1)!.stderr).toMatch(/^error: without --store, --format is the output format: jsonl, envelope, chained, ocsf, ocsf-reference, csv or parquet, not 'sqlite'/);
      expect(badTime!.code).toBe(2);
      expect(badTime!.stderr).toMatch(/^error: --since: Invalid isoformat string: 'yesterday' \(expected an ISO 8601 date/);
    });
  });

  describe("show", () => {
    it("prints exactly Python's json.dumps(export object, indent=2)", async () => {
      const ids = ["a-0", "a-1", "a-3"];
      const outputs = await Promise.all(ids.map((id) => ok(["show", id])));
      ids.forEach((id, i) => expect(outputs[i]).toBe(python(PYTHON_RENDER, db, "show", JSON.stringify(EXPORT_KEYS), id)));
      const shown = outputs[0]!;
      expect(shown).toContain('"big": 1152921504606846976');
      expect(shown).toContain('"f": 100.0');
      expect(shown).toContain('"g": 1e-07');
      expect(shown).toContain('"rocket": "\\ud83d\\ude80"');
      expect(shown).toContain('"a": {}');
    });

    it("exits 1 with the unknown id on stderr", async () => {
      const run = await audit(["show", "no-such-action"]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toBe("error: No action trace found for action_id='no-such-action'.\n");
    });
  });

  describe("export", () => {
    it("--out writes one line per trace in chain order, byte-equal to Python's json.dumps", async () => {
      const out = join(freshDir(), "traces.jsonl");
      expect(await ok(["export", "--out", out])).toBe(`Wrote 5 trace(s) to ${out}\n`);
      const text = readFileSync(out, "utf8");
      expect(text).toBe(python(PYTHON_RENDER, db, "export", JSON.stringify(EXPORT_KEYS)));
      expect(text.split("\n").filter((l) => l !== "").map((l) => (JSON.parse(l) as { action_id: string }).action_id)).toEqual(CHAIN);
      // The same bytes on stdout.
      expect(await ok(["export"])).toBe(text);
    });

    it("filters and orders like list; an empty export writes an empty file, and prints one empty line as the reference does", async () => {
      const ids = (text: string) => text.split("\n").filter((l) => l !== "").map((l) => (JSON.parse(l) as { action_id: string }).action_id);
      const out = join(freshDir(), "none.jsonl");
      const [failed, wrote, stdout] = await Promise.all([
        ok(["export", "--status", "failed", "--order", "time-desc"]),
        ok(["export", "--principal", "nobody", "--out", out]),
        ok(["export", "--principal", "nobody"]),
      ]);
      expect(ids(failed)).toEqual(["a-4", "a-2", "a-1"]);
      expect(wrote).toBe(`Wrote 0 trace(s) to ${out}\n`);
      expect(readFileSync(out, "utf8")).toBe("");
      expect(stdout).toBe("\n");
    });

    it("--format chained writes a file weaver-kernel's JSONL store verifies", async () => {
      const out = join(freshDir(), "chain.jsonl");
      const [wrote, filtered] = await Promise.all([
        ok(["export", "--format", "chained", "--out", out]),
        audit(["export", "--format", "chained", "--principal", "alice"]),
      ]);
      expect(wrote).toBe(`Wrote 5 trace(s) to ${out}\n`);
      expect(python(PYTHON_JSONL_VERIFIER, out, TEST_SECRET, JSON.stringify(EXPORT_KEYS))).toBe("OK: Verified 5 record(s).\n");
      // Under another secret, the same verifier finds it tampered: the check has teeth.
      const wrong = spawnSync("python3", ["-c", PYTHON_JSONL_VERIFIER, out, "another-secret", JSON.stringify(EXPORT_KEYS)], { encoding: "utf8" });
      expect(wrong.status).not.toBe(0);
      expect(wrong.stderr).toContain("Tampered record at seq 0");
      // Filters would cut the chain: refused.
      expect(filtered.code).toBe(1);
      expect(filtered.stderr).toMatch(/^error: --format chained exports the chain itself/);
    });

    it("--format envelope writes the reference's export document; --format ocsf one event per line", async () => {
      const [envelope, ocsf] = await Promise.all([ok(["export", "--format", "envelope"]), ok(["export", "--format", "ocsf", "--event-type", "deny"])]);
      const check = String.raw`
import json, sys
text = sys.stdin.read()
doc = json.loads(text)
assert json.dumps(doc) + "\n" == text, "not json.dumps bytes"
print(doc["schema"], doc["version"], len(doc["traces"]), ",".join(t["action_id"] for t in doc["traces"]))`;
      const run = spawnSync("python3", ["-c", check], { input: envelope, encoding: "utf8" });
      expect(run.stderr).toBe("");
      expect(run.stdout).toBe(`weaver_kernel.action_trace_export 1 5 ${CHAIN.join(",")}\n`);
      const events = ocsf.trim().split("\n").map((l) => JSON.parse(l) as Record<string, any>);
      expect(events.map((e) => [e.unmapped.action_id, e.severity_id, e.time])).toEqual([
        ["a-1", 3, Date.UTC(2026, 0, 1)],
        ["a-4", 3, Date.UTC(2026, 0, 1, 0, 4)],
      ]);
    });
  });
});

describe("tracegate audit on a fresh install's data directory", SLOW, () => {
  it("verifies with the development secret the gateway generated there", async () => {
    const dataDir = freshDir();
    const gateway = await startGatewayProcess({ TRACEGATE_DATA_DIR: dataDir });
    try {
      const res = await postGraphQL(gateway.url, `mutation { recordTraces(input: [
        { actionId: "d-1", capabilityId: "c", principalId: "alice", invokedAt: "2026-11-22T10:00:00Z", responseMode: SUMMARY },
        { actionId: "d-2", capabilityId: "c", principalId: "bob", invokedAt: "2026-11-22T10:00:01Z", responseMode: SUMMARY, error: "boom" }
      ]) { seq } }`);
      expect(res.errors).toBeUndefined();
    } finally {
      await gateway.stop();
    }
    const env = { ...CLEAN, TRACEGATE_DATA_DIR: dataDir };
    const [verify, failed] = await Promise.all([cli(["audit", "verify"], env), cli(["audit", "list", "--status", "failed"], env)]);
    expect(verify.stderr).toBe("");
    expect(verify.code).toBe(0);
    expect(verify.stdout).toBe("OK: Verified 2 record(s).\n");
    expect(failed.code).toBe(0);
    expect(failed.stdout.split("\n")[2]).toMatch(/^d-2 +c +bob +failed +2026-11-22T10:00:01\+00:00$/);
  });
});

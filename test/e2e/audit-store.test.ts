/**
 * `tracegate audit list|show|verify|export --store PATH` as an auditor runs it on a
 * weaver-kernel store file (docs/reference-compatibility.md#operator-cli): real CLI processes
 * on SQLite, pruned SQLite and JSONL stores written by CPython (test/support/reference-writer.py).
 *
 * The expected output of every successful command comes from CPython too: ORACLE below does
 * what the reference CLI does with nothing but Python's json, datetime, hmac and sqlite3
 * (decode each stored trace with `datetime.fromisoformat`, re-export it with `isoformat()`,
 * filter in chain order, print with `json.dumps`, verify with the reference's verify_chain),
 * and tracegate's stdout must equal its stdout byte for byte, with the same exit status. The
 * error messages are the reference's own texts. Every store file must be left exactly as it
 * was: same bytes, same mtime, no file created beside it.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliRun, ROOT, runCli } from "../support/process.js";
import { HEADER_ARGS, MIXED_ARGS, referenceTraceText } from "../support/reference-traces.js";

const SECRET = "store-cli-secret \u00e9";
const WRITER = join(ROOT, "test/support/reference-writer.py");

const work = mkdtempSync(join(tmpdir(), "tracegate-audit-store-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The stores under test live alone in this directory, so that a created side file shows. */
const storeDir = join(work, "stores");
mkdirSync(storeDir);
const SQLITE_STORE = join(storeDir, "traces.db");
const PRUNED_STORE = join(storeDir, "pruned.db");
const JSONL_STORE = join(storeDir, "traces.jsonl");
/** The JSONL store under a name that does not end in .jsonl: needs --format jsonl. */
const JSONL_AS_LOG = join(storeDir, "traces.log");

/** Args whose keys include array indexes, nested, after other keys. */
const INDEX_KEY_ARGS = String.raw`{"content-type": "application/json", "10": 1, "2": {"b": 0, "1": [{"x": null, "0": true}]}, "timeout": 30.0}`;

/** Six traces: times with Z, a +05:30 offset and fractions, a denial, a failure, tricky args. */
const TRACES = `[${[
  referenceTraceText("a-0", 0, "2026-03-02T23:59:59.999999+00:00", { principal_id: "alice" }, MIXED_ARGS),
  referenceTraceText("a-1", 1, "2026-03-03T00:00:00+00:00", {
    principal_id: "bob", capability_id: "billing.refund", event_type: "deny", reason_code: "missing_role",
    error: "denied: missing role", status: "failed", driver_id: "", result_summary: null,
  }),
  referenceTraceText("a-2", 2, "2026-03-03T05:30:00.5+05:30", { principal_id: "alice" }),
  // Array-index keys, which a JavaScript object would list first: the reference keeps them in place.
  referenceTraceText("a-3", 3, "2026-03-03T10:00:00Z", { result_summary: { row_count: 2, "0": "zero" } }, INDEX_KEY_ARGS),
  referenceTraceText("a-4", 4, "2026-03-04T00:00:00+00:00", { principal_id: "alice", error: "boom", status: "failed" }),
  referenceTraceText("a-5", 5, "2026-03-05T12:00:00+00:00", { principal_id: "bob", handle_id: "h-5" }, HEADER_ARGS),
].join(",\n")}]`;

function python(args: string[], input: string, script?: string): string {
  const run = spawnSync("python3", script === undefined ? [WRITER, ...args] : ["-c", script, ...args], {
    input,
    encoding: "utf8",
    env: { ...process.env, PYTHONIOENCODING: "utf-8" },
  });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`python3 ${args[0]} failed: ${run.stderr}`);
  return run.stdout;
}

/**
 * The reference CLI's audit commands in CPython, stdlib only: reads the job (JSON) from stdin,
 * prints `{"code": exit status, "stdout": text}`.
 */
const ORACLE = String.raw`
import datetime, hashlib, hmac, json, sqlite3, sys
GENESIS = "0" * 64
job = json.loads(sys.stdin.read())
out = []
def emit(text): out.append(text + "\n")

def records():
    if job["format"] == "jsonl":
        recs = []
        with open(job["store"], encoding="utf-8") as fh:
            for raw in fh:
                line = raw.strip()
                if line:
                    obj = json.loads(line)
                    recs.append((int(obj["seq"]), obj["prev_hash"], obj["record_hash"], obj["trace"]))
        return recs, GENESIS
    con = sqlite3.connect("file:" + job["store"] + "?mode=ro", uri=True)
    rows = con.execute("SELECT seq, prev_hash, record_hash, payload FROM traces ORDER BY seq").fetchall()
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    con.close()
    return [(s, p, r, json.loads(t)) for s, p, r, t in rows], meta.get("checkpoint_hash", GENESIS)

def exported(t):
    at = datetime.datetime.fromisoformat(t["invoked_at"])
    error = t.get("error")
    return at, {
        "action_id": t["action_id"], "capability_id": t["capability_id"], "principal_id": t["principal_id"],
        "token_id": t["token_id"], "invoked_at": at.isoformat(), "response_mode": t["response_mode"],
        "driver_id": t["driver_id"], "handle_id": t.get("handle_id"), "sensitivity": t.get("sensitivity", "NONE"),
        "status": "failed" if error is not None else "succeeded", "event_type": t.get("event_type", "invoke"),
        "reason_code": t.get("reason_code"), "error": error, "args": t["args"],
        "result_summary": t.get("result_summary"), "correction": None,
    }

def bound(text):
    if not text: return None
    dt = datetime.datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=datetime.timezone.utc)

def selected():
    since, until = bound(job.get("since")), bound(job.get("until"))
    chosen = []
    for _, _, _, t in records()[0]:
        at, e = exported(t)
        if job.get("principal") is not None and e["principal_id"] != job["principal"]: continue
        if job.get("capability") is not None and e["capability_id"] != job["capability"]: continue
        if job.get("status") is not None and e["status"] != job["status"]: continue
        if since is not None and at < since: continue
        if until is not None and at >= until: continue
        chosen.append(e)
    return chosen if job.get("limit") is None else chosen[: job["limit"]]

def verify(recs, secret, genesis):
    prev, expected = genesis, None
    for k, (seq, p, r, t) in enumerate(recs, start=1):
        expected = seq if expected is None else expected
        bad = lambda detail: {"ok": False, "records_checked": k, "first_bad_seq": seq, "detail": detail}
        if seq != expected:
            return bad(f"Non-contiguous sequence at position {k}: expected seq {expected}, found {seq} (insertion, deletion, or reorder).")
        if not hmac.compare_digest(p, prev):
            return bad(f"Broken link at seq {seq}: prev_hash does not match the preceding record's hash (insertion, deletion, or reorder).")
        message = json.dumps({"seq": seq, "prev_hash": p, "trace": t}, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        if not hmac.compare_digest(hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest(), r):
            return bad(f"Tampered record at seq {seq}: content does not match its stored hash (mutation, or wrong secret).")
        prev, expected = r, seq + 1
    return {"ok": True, "records_checked": len(recs), "first_bad_seq": None, "detail": f"Verified {len(recs)} record(s)."}

code = 0
command = job["command"]
if command == "verify":
    recs, genesis = records()
    result = verify(recs, job["secret"], genesis)
    emit(json.dumps(result) if job.get("json") else ("OK: " if result["ok"] else "TAMPER DETECTED: ") + result["detail"])
    code = 0 if result["ok"] else 1
elif command == "show":
    e = next(exported(t)[1] for _, _, _, t in records()[0] if t.get("action_id") == job["id"])
    emit(json.dumps(e, indent=2))
elif command == "list":
    traces = selected()
    if job.get("json"):
        emit(json.dumps(traces, indent=2))
    elif not traces:
        emit("No traces matched.")
    else:
        header = f"{'ACTION_ID':<38} {'CAPABILITY':<28} {'PRINCIPAL':<18} {'STATUS':<9} INVOKED_AT"
        emit(header)
        emit("-" * len(header))
        for e in traces:
            emit(f"{e['action_id']:<38} {e['capability_id']:<28} {e['principal_id']:<18} {e['status']:<9} {e['invoked_at']}")
elif command == "export":
    emit("\n".join(json.dumps(e) for e in selected()))
elif command == "export-file":
    lines = "\n".join(json.dumps(e) for e in selected())
    out.append(lines + ("\n" if lines else ""))
sys.stdout.write(json.dumps({"code": code, "stdout": "".join(out)}))
`;

interface OracleJob {
  command: "verify" | "show" | "list" | "export" | "export-file";
  store: string;
  format: "sqlite" | "jsonl";
  secret?: string;
  json?: boolean;
  id?: string;
  principal?: string;
  capability?: string;
  status?: string;
  since?: string;
  until?: string;
  limit?: number;
}

function oracle(job: OracleJob): { code: number; stdout: string } {
  return JSON.parse(python([], JSON.stringify(job), ORACLE)) as { code: number; stdout: string };
}

/** At most three CLI processes at a time (each is a Node start). */
let running = 0;
const waiting: (() => void)[] = [];
async function audit(args: string[], env: Record<string, string> = { WEAVER_KERNEL_SECRET: SECRET }): Promise<CliRun> {
  if (running >= 3) await new Promise<void>((resume) => waiting.push(resume));
  running++;
  try {
    return await runCli(["audit", ...args], { WEAVER_KERNEL_SECRET: "", DATABASE_URL: "", TRACEGATE_DATA_DIR: "", ...env });
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** Run tracegate and the oracle on the same job; both outputs and statuses must agree. */
async function sameAsReference(args: string[], job: OracleJob, env?: Record<string, string>): Promise<string> {
  const [run, want] = [await audit(args, env), oracle(job)];
  expect(run.stderr).toBe("");
  expect(run.stdout).toBe(want.stdout);
  expect(run.code).toBe(want.code);
  return run.stdout;
}

/** Bytes, mtime and the directory listing of the stores, to prove nothing was written. */
function fingerprint(): string {
  const files = readdirSync(storeDir).sort();
  return JSON.stringify(
    files.map((f) => {
      const path = join(storeDir, f);
      return [f, createHash("sha256").update(readFileSync(path)).digest("hex"), statSync(path).mtimeMs];
    }),
  );
}

let before = "";

beforeAll(() => {
  python(["sqlite", SQLITE_STORE, SECRET], TRACES);
  // Prune as SQLiteTraceStore.prune does: a-0 and a-1 go, the checkpoint keeps a-1's hash.
  python(["sqlite", PRUNED_STORE, SECRET, "2026-03-03T00:00:00.1+00:00"], TRACES);
  python(["jsonl", JSONL_STORE, SECRET], TRACES);
  copyFileSync(JSONL_STORE, JSONL_AS_LOG);
  before = fingerprint();
});


/** A copy of a store, edited, in its own directory. */
function tampered(from: string, name: string, edit: (path: string) => void): string {
  const dir = mkdtempSync(join(work, "tampered-"));
  const path = join(dir, name);
  copyFileSync(from, path);
  edit(path);
  return path;
}

function sql(path: string, statement: string): void {
  const db = new Database(path);
  db.exec(statement);
  db.close();
}

function editLines(path: string, edit: (lines: string[]) => string[]): void {
  writeFileSync(path, edit(readFileSync(path, "utf8").trimEnd().split("\n")).join("\n") + "\n");
}

describe("audit verify --store", () => {
  it("verifies SQLite, pruned SQLite and JSONL stores: text and --json, the secret from the environment or --secret-file", async () => {
    const secretFile = join(work, "secret.txt");
    writeFileSync(secretFile, `  ${SECRET}  \nignored second line\n`);
    const fileOnly = { WEAVER_KERNEL_SECRET: "" };
    const [sqliteText, prunedJson, jsonlJson] = await Promise.all([
      sameAsReference(["verify", "--store", SQLITE_STORE], { command: "verify", store: SQLITE_STORE, format: "sqlite", secret: SECRET }),
      sameAsReference(["verify", "--store", PRUNED_STORE, "--json"], { command: "verify", store: PRUNED_STORE, format: "sqlite", secret: SECRET, json: true }),
      sameAsReference(["verify", "--store", JSONL_STORE, "--json", "--secret-file", secretFile], { command: "verify", store: JSONL_STORE, format: "jsonl", secret: SECRET, json: true }, fileOnly),
    ]);
    expect(sqliteText).toBe("OK: Verified 6 record(s).\n");
    // The pruned store verifies from its checkpoint: 4 records remain, seq 2..5.
    expect(prunedJson).toBe('{"ok": true, "records_checked": 4, "first_bad_seq": null, "detail": "Verified 4 record(s)."}\n');
    expect(jsonlJson).toBe('{"ok": true, "records_checked": 6, "first_bad_seq": null, "detail": "Verified 6 record(s)."}\n');
  });

  it("reports a tampered payload (SQLite and JSONL) with TAMPER DETECTED, first_bad_seq and exit 1", async () => {
    const sqliteCopy = tampered(SQLITE_STORE, "traces.db", (p) => sql(p, `UPDATE traces SET payload = replace(payload, '"denied', '"DENIED') WHERE seq = 1`));
    const jsonlCopy = tampered(JSONL_STORE, "traces.jsonl", (p) =>
      editLines(p, (lines) => lines.map((l, i) => (i === 2 ? l.replace('"principal_id": "alice"', '"principal_id": "mallory"') : l))),
    );
    const [sqliteJson, jsonlText] = await Promise.all([
      sameAsReference(["verify", "--store", sqliteCopy, "--json"], { command: "verify", store: sqliteCopy, format: "sqlite", secret: SECRET, json: true }),
      sameAsReference(["verify", "--store", jsonlCopy], { command: "verify", store: jsonlCopy, format: "jsonl", secret: SECRET }),
    ]);
    expect(JSON.parse(sqliteJson)).toEqual({
      ok: false,
      records_checked: 2,
      first_bad_seq: 1,
      detail: "Tampered record at seq 1: content does not match its stored hash (mutation, or wrong secret).",
    });
    expect(jsonlText).toBe("TAMPER DETECTED: Tampered record at seq 2: content does not match its stored hash (mutation, or wrong secret).\n");
  });

  it("the wrong secret fails at seq 0 (--secret warns that argv is visible); no secret at all is an error", async () => {
    const [wrong, none] = await Promise.all([
      audit(["verify", "--store", SQLITE_STORE, "--secret", "not-the-secret"], { WEAVER_KERNEL_SECRET: SECRET }),
      audit(["verify", "--store", JSONL_STORE], { WEAVER_KERNEL_SECRET: "" }),
    ]);
    expect(wrong.stdout).toBe("TAMPER DETECTED: Tampered record at seq 0: content does not match its stored hash (mutation, or wrong secret).\n");
    expect(wrong.code).toBe(1);
    // One warning line, and the secret itself never printed.
    expect(wrong.stderr).toMatch(/^tracegate: warning: --secret shows the chain secret .*process list.*WEAVER_KERNEL_SECRET or --secret-file\.\n$/);
    expect(wrong.stderr).not.toContain("not-the-secret");
    expect(none.stdout).toBe("");
    expect(none.stderr).toMatch(/^error: no chain secret: set WEAVER_KERNEL_SECRET, or pass --secret-file PATH/);
    expect(none.stderr.split("\n")).toHaveLength(2);
    expect(none.code).toBe(1);
  });

  it("a missing store, a file that is not SQLite and a corrupt JSONL line are errors (exit 1), never a verdict", async () => {
    const missing = join(work, "nope.db");
    const corrupt = tampered(JSONL_STORE, "traces.jsonl", (p) => editLines(p, (lines) => [...lines.slice(0, 3), "not json", ...lines.slice(3)]));
    const [gone, notSqlite, broken] = await Promise.all([
      audit(["verify", "--store", missing]),
      audit(["verify", "--store", JSONL_STORE, "--format", "sqlite"]),
      audit(["verify", "--store", corrupt, "--json"]),
    ]);
    expect(gone.stderr).toBe(
      `error: Trace store '${missing}' does not exist. Check the --store path (the audit commands read an existing store; they do not create one).\n`,
    );
    expect(notSqlite.stderr).toBe(
      `error: '${JSONL_STORE}' is not a valid SQLite trace store: file is not a database. If this is a JSONL store, pass --format jsonl.\n`,
    );
    expect(broken.stderr).toMatch(new RegExp(`^error: Corrupted trace record at ${corrupt.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:4: .+\\.\n$`));
    for (const run of [gone, notSqlite, broken]) {
      expect(run.stdout).toBe("");
      expect(run.code).toBe(1);
    }
    expect(() => statSync(missing)).toThrow();
  });

  it("shows progress on stderr past the delay (a summary line), nothing with --quiet; stdout stays the verdict", async () => {
    const now = { WEAVER_KERNEL_SECRET: SECRET, TRACEGATE_PROGRESS_AFTER_MS: "0" };
    const [shown, quiet] = await Promise.all([
      audit(["verify", "--store", JSONL_STORE], now),
      audit(["verify", "--store", SQLITE_STORE, "--quiet"], now),
    ]);
    for (const run of [shown, quiet]) {
      expect(run.stdout).toBe("OK: Verified 6 record(s).\n");
      expect(run.code).toBe(0);
    }
    expect(shown.stderr).toMatch(/(^|\n)verify: 6 records in \d+\.\d s \([\d,]+\/s\)\n$/);
    expect(quiet.stderr).toBe("");
  });

  it("refuses a WAL-mode store without its -wal/-shm files instead of creating them", async () => {
    const dir = mkdtempSync(join(work, "wal-"));
    const wal = join(dir, "wal.db");
    copyFileSync(SQLITE_STORE, wal);
    sql(wal, "PRAGMA journal_mode=WAL");
    expect(readdirSync(dir)).toEqual(["wal.db"]);
    const run = await audit(["verify", "--store", wal]);
    expect(run.stderr).toMatch(/^error: '.*wal\.db' is a SQLite database in WAL mode without its -wal and -shm files/);
    expect(run.code).toBe(1);
    expect(readdirSync(dir)).toEqual(["wal.db"]);
  });
});

describe("audit list --store", () => {
  it("prints the reference's table and --json, in chain order, with each filter", async () => {
    const table = await sameAsReference(["list", "--store", SQLITE_STORE], { command: "list", store: SQLITE_STORE, format: "sqlite" });
    // isoformat() of what was stored: Z and fractions re-written, the +05:30 offset kept.
    expect(table.split("\n")[2]).toMatch(/^a-0 +billing\.invoices\.write +alice +succeeded 2026-03-02T23:59:59\.999999\+00:00$/);
    expect(table).toContain(" 2026-03-03T05:30:00.500000+05:30\n");
    expect(table).toContain(" 2026-03-03T10:00:00+00:00\n");
    await Promise.all([
      sameAsReference(["list", "--store", JSONL_STORE, "--json", "--principal", "alice"], { command: "list", store: JSONL_STORE, format: "jsonl", json: true, principal: "alice" }),
      sameAsReference(["list", "--store", SQLITE_STORE, "--capability", "billing.refund", "--status", "failed"], {
        command: "list", store: SQLITE_STORE, format: "sqlite", capability: "billing.refund", status: "failed",
      }),
      // Minutes without seconds, an offset that moves a trace in, an exclusive until, a limit after filtering.
      sameAsReference(["list", "--store", JSONL_STORE, "--since", "2026-03-03T00:00", "--until", "2026-03-04T05:00+05:00", "--limit", "2", "--status", "succeeded"], {
        command: "list", store: JSONL_STORE, format: "jsonl", since: "2026-03-03T00:00", until: "2026-03-04T05:00+05:00", limit: 2, status: "succeeded",
      }),
      sameAsReference(["list", "--store", PRUNED_STORE, "--json"], { command: "list", store: PRUNED_STORE, format: "sqlite", json: true }),
    ]);
    const windowed = await sameAsReference(["list", "--store", SQLITE_STORE, "--since", "20260303", "--until", "2026-W10-3"], {
      command: "list", store: SQLITE_STORE, format: "sqlite", since: "20260303", until: "2026-W10-3",
    });
    expect(windowed.split("\n").slice(2).filter(Boolean).map((l) => l.split(" ")[0])).toEqual(["a-1", "a-2", "a-3"]);
  });

  it("empty results: No traces matched. and [] ; --format jsonl reads a JSONL store under any name", async () => {
    const [empty, emptyJson, log] = await Promise.all([
      sameAsReference(["list", "--store", SQLITE_STORE, "--principal", "nobody"], { command: "list", store: SQLITE_STORE, format: "sqlite", principal: "nobody" }),
      sameAsReference(["list", "--store", JSONL_STORE, "--json", "--limit", "0"], { command: "list", store: JSONL_STORE, format: "jsonl", json: true, limit: 0 }),
      sameAsReference(["list", "--store", JSONL_AS_LOG, "--format", "jsonl"], { command: "list", store: JSONL_AS_LOG, format: "jsonl" }),
    ]);
    expect(empty).toBe("No traces matched.\n");
    expect(emptyJson).toBe("[]\n");
    expect(log.split("\n")).toHaveLength(6 + 3);
  });

  it("usage errors exit 2: a negative --limit, a time fromisoformat refuses, a flag of the other mode", async () => {
    const runs = await Promise.all([
      audit(["list", "--store", SQLITE_STORE, "--limit", "-1"]),
      audit(["list", "--store", SQLITE_STORE, "--since", "2026-03-03T24:00"]),
      audit(["export", "--store", SQLITE_STORE, "--format", "ocsf"]),
      audit(["list", "--store", SQLITE_STORE, "--event-type", "deny"]),
      audit(["list", "--store", SQLITE_STORE, "--principal-prefix", "team-a/"]),
    ]);
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2, 2]);
    expect(runs.map((r) => r.stdout)).toEqual(["", "", "", "", ""]);
    expect(runs[0]!.stderr).toBe("error: --limit must be 0 or more, got -1.\n");
    expect(runs[1]!.stderr).toMatch(/^error: --since: hour must be in 0\.\.23 \(expected an ISO 8601 date/);
    expect(runs[2]!.stderr).toMatch(/^error: with --store, --format is the store's format: sqlite or jsonl, not 'ocsf'/);
    expect(runs[3]!.stderr).toMatch(/^error: --event-type is not available with --store/);
    expect(runs[4]!.stderr).toMatch(/^error: --principal-prefix is not available with --store/);
  });
});

describe("audit show --store", () => {
  it("prints json.dumps(export object, indent=2); an unknown id exits 1 naming it", async () => {
    const [jsonl, sqlite, unknown, ...indexKeys] = await Promise.all([
      sameAsReference(["show", "--store", JSONL_STORE, "a-0"], { command: "show", store: JSONL_STORE, format: "jsonl", id: "a-0" }),
      sameAsReference(["show", "--store", SQLITE_STORE, "a-2", "--json"], { command: "show", store: SQLITE_STORE, format: "sqlite", id: "a-2" }),
      audit(["show", "--store", PRUNED_STORE, "a-0"]),
      sameAsReference(["show", "--store", JSONL_STORE, "a-3"], { command: "show", store: JSONL_STORE, format: "jsonl", id: "a-3" }),
      sameAsReference(["show", "--store", SQLITE_STORE, "a-3"], { command: "show", store: SQLITE_STORE, format: "sqlite", id: "a-3" }),
    ]);
    // Array-index keys stay where the store has them.
    for (const text of indexKeys) expect(text).toContain('"content-type": "application/json",\n    "10": 1,');
    expect(jsonl).toContain('"f": 100.0');
    expect(jsonl).toContain('"big": 1152921504606846976');
    expect(sqlite).toContain('"invoked_at": "2026-03-03T05:30:00.500000+05:30"');
    // Pruned away: unknown.
    expect(unknown.stderr).toBe("error: No action trace found for action_id='a-0'.\n");
    expect(unknown.stdout).toBe("");
    expect(unknown.code).toBe(1);
  });
});

describe("audit export --store", () => {
  it("writes JSONL to stdout and with --out, in a time window, as CPython's json.dumps", async () => {
    const out = join(work, "window.jsonl");
    const emptyOut = join(work, "empty.jsonl");
    const window = ["--since", "2026-03-03", "--until", "2026-03-05T00:00:00.000001Z"];
    const [stdout, file, empty] = await Promise.all([
      sameAsReference(["export", "--store", SQLITE_STORE, ...window], { command: "export", store: SQLITE_STORE, format: "sqlite", since: window[1], until: window[3] }),
      audit(["export", "--store", JSONL_STORE, ...window, "--out", out]),
      audit(["export", "--store", JSONL_STORE, "--principal", "nobody", "--out", emptyOut]),
    ]);
    expect(stdout.trimEnd().split("\n").map((l) => (JSON.parse(l) as { action_id: string }).action_id)).toEqual(["a-1", "a-2", "a-3", "a-4"]);
    expect(file.stdout).toBe(`Wrote 4 trace(s) to ${out}\n`);
    expect(file.code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(oracle({ command: "export-file", store: JSONL_STORE, format: "jsonl", since: window[1], until: window[3] }).stdout);
    expect(readFileSync(out, "utf8")).toBe(stdout);
    expect(empty.stdout).toBe(`Wrote 0 trace(s) to ${emptyOut}\n`);
    expect(readFileSync(emptyOut, "utf8")).toBe("");
    // An empty export to stdout is one empty line, as the reference prints it.
    expect(await sameAsReference(["export", "--store", PRUNED_STORE, "--limit", "0"], { command: "export", store: PRUNED_STORE, format: "sqlite", limit: 0 })).toBe("\n");
  });

  it("a corrupt record anywhere fails the export with nothing printed or written", async () => {
    const corrupt = tampered(SQLITE_STORE, "traces.db", (p) => sql(p, "UPDATE traces SET payload = 'not json' WHERE seq = 5"));
    const out = join(work, "never.jsonl");
    const [stdout, file] = await Promise.all([
      audit(["export", "--store", corrupt, "--limit", "1"]),
      audit(["export", "--store", corrupt, "--out", out]),
    ]);
    for (const run of [stdout, file]) {
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(new RegExp(`^error: Corrupted trace payload at seq 5 in .*traces\\.db: .+\\.\n$`));
      expect(run.code).toBe(1);
    }
    expect(() => statSync(out)).toThrow();
  });
});

describe("the store files", () => {
  it("are exactly as CPython wrote them after every command above: same bytes, same mtime, nothing beside them", () => {
    expect(before).toContain("traces.db");
    expect(fingerprint()).toBe(before);
  });
});

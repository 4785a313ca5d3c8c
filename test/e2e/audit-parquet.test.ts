/**
 * `tracegate audit export --format parquet` as an operator runs it (real CLI processes on a
 * database a gateway wrote, both backends): the files are read back by DuckDB, a Parquet
 * reader independent of the writer, and every row must equal, field by field and with exact
 * integers, the event the `ocsf` line export gives for the same trace; the files lie in the
 * Amazon Security Lake partitions (ext/<source>/region=/accountId=/eventDay=) of their
 * events' UTC day, sorted by time, at most --rows-per-file rows each; the columns are
 * Parquet structs of the OCSF objects with OCSF's integer types. Plus the usage errors.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type JsonObject, type JsonValue, parseJsonLossless } from "../../src/chain/json.js";
import { RecordTracesDocument } from "../gql/graphql.js";
import { BACKENDS } from "../support/backends.js";
import { createTestGateway, dataOf, TEST_SECRET } from "../support/harness.js";
import { type CliRun, runCli } from "../support/process.js";
import { deny, invoke } from "../support/traces.js";

const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "tracegate-parquet-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const CLEAN = { DATABASE_URL: "", TRACEGATE_DATA_DIR: "", TRACEGATE_HMAC_SECRET: "", NODE_ENV: "" };
const SLOW = { timeout: 240_000 };

/** Traces on four UTC days (one just before midnight, one just after), in a chain order unlike time order. */
const day = (d: number, h: number, m = 0, s = 0, us = 0) => {
  const iso = new Date(Date.UTC(2026, 10, d, h, m, s)).toISOString().replace(/\.\d{3}Z$/, "");
  return `${iso}.${String(us).padStart(6, "0")}+00:00`;
};
const SEED = [
  invoke("p-0", { invokedAt: day(22, 23, 59, 59, 999_999), principalId: "team-a/alice" }),
  deny("p-1", "missing_role", { invokedAt: day(21, 8), principalId: "team-b/bob" }),
  invoke("p-2", { invokedAt: day(23, 0, 0, 0, 1), error: "driver exploded", driverId: "", handleId: null, resultSummary: null }),
  invoke("p-3", { invokedAt: day(22, 12), eventType: "EXPAND", principalId: "", tokenId: "", driverId: "", sensitivity: "NONE" }),
  invoke("p-4", { invokedAt: day(21, 9), principalId: "équipe/ßob", capabilityId: "日本.読む", driverId: "drv-€", error: "échec \u2028 😀 \ud800 lone" }),
  deny("p-5", "rate_limited", { invokedAt: day(21, 7), principalId: "team-b/bob" }),
  invoke("p-6", { invokedAt: day(25, 18), error: "", driverId: "" }),
];
/** Integers past 2^53 and a float only a GraphQL literal carries exactly. */
const BIG = `mutation { recordTraces(input: [{ actionId: "p-7", capabilityId: "c.big", principalId: "team-a/alice",
  invokedAt: "${day(22, 6)}", responseMode: TABLE, driverId: "big-api",
  args: { n: 1 }, resultSummary: { big: 123456789012345678901234567890, neg: -1180591620717411303424, f: 100.0 } }]) { seq } }`;
const TARGET = ["--source-name", "tracegate-audit", "--region", "eu-west-3", "--account-id", "123456789012"];
const PARTITION = join("ext", "tracegate-audit", "region=eu-west-3", "accountId=123456789012");

/** Every file under `dir`, relative to it, sorted. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(dir, path));
    }
  };
  walk(dir);
  return out.sort();
}

/** A DuckDB row (getRowObjectsJson: BIGINT as text, structs as objects) as the event it came from: nulls dropped, integers as bigints, unmapped parsed. */
function asEvent(value: unknown, bigints: ReadonlySet<string>, path = ""): JsonValue | undefined {
  if (value === null || value === undefined) return undefined;
  if (path === "unmapped") return parseJsonLossless(value as string);
  if (typeof value === "number") return BigInt(value); // INTEGER columns (integer_t)
  if (typeof value === "string") return bigints.has(path) ? BigInt(value) : value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const converted = asEvent(v, bigints, path === "" ? k : `${path}.${k}`);
    if (converted !== undefined) out[k] = converted;
  }
  return out;
}

/** At most three CLI processes at a time (each starts Node and Prisma; a loaded machine is slow). */
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

describe.each(BACKENDS)("tracegate audit export --format parquet ($name)", SLOW, (backend) => {
  let env: Record<string, string>;
  const audit = (args: string[]): Promise<CliRun> => cli(["audit", ...args], env);
  let ocsfByTime: JsonObject[];

  beforeAll(async () => {
    const url = await backend.freshDatabaseUrl();
    const gw = await createTestGateway({ backend, databaseUrl: url });
    dataOf(await gw.exec(RecordTracesDocument, { input: SEED }));
    dataOf(await gw.raw(BIG));
    await gw.close();
    env = { ...CLEAN, DATABASE_URL: url, TRACEGATE_HMAC_SECRET: TEST_SECRET };
    const lines = await audit(["export", "--format", "ocsf", "--order", "time"]);
    expect(lines.stderr).toBe("");
    ocsfByTime = lines.stdout.split("\n").filter(Boolean).map((l) => parseJsonLossless(l) as JsonObject);
    expect(ocsfByTime).toHaveLength(8);
  });

  it("writes the ocsf events, field by field, into per-day Security Lake partitions, sorted by time, bounded per file", async () => {
    const out = freshDir();
    const run = await audit(["export", "--format", "parquet", "--out", out, ...TARGET, "--rows-per-file", "2", "--quiet"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const files = filesUnder(out);
    // 21st: 3 events (2 + 1 files); 22nd: 3 (2 + 1); 23rd: 1; 25th: 1.
    const days = files.map((f) => f.split(sep).at(-2));
    expect(days).toEqual(["eventDay=20261121", "eventDay=20261121", "eventDay=20261122", "eventDay=20261122", "eventDay=20261123", "eventDay=20261125"]);
    for (const f of files) expect(f).toMatch(new RegExp(`^${PARTITION.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}${sep === "/" ? "/" : "\\\\"}eventDay=\\d{8}${sep === "/" ? "/" : "\\\\"}tracegate-\\d{8}T\\d{6}Z-[0-9a-f]{8}-\\d{4}\\.parquet$`));
    // The report: each file with its rows, then the total.
    expect(run.stdout.trim().split("\n")).toEqual([
      ...files.map((f, i) => `${join(out, f)}\t${[2, 1, 2, 1, 1, 1][i]}`),
      `Wrote 8 trace(s) to 6 Parquet file(s) under ${out}`,
    ]);

    const db = await DuckDBInstance.create(":memory:");
    const connection = await db.connect();
    try {
      // The file order (their part numbers) is time order, and the rows are exactly the ocsf events.
      const byPart = [...files].sort((a, b) => a.slice(-12).localeCompare(b.slice(-12)));
      const rows: JsonObject[] = [];
      for (const f of byPart) {
        const reader = await connection.runAndReadAll(`SELECT * FROM read_parquet('${join(out, f)}', hive_partitioning = false)`);
        const bigints = new Set(["type_uid", "time"]);
        const events = reader.getRowObjectsJson().map((r) => asEvent(r, bigints) as JsonObject);
        expect(events.length).toBeLessThanOrEqual(2);
        for (const e of events) {
          // Its folder is the UTC day of its time.
          expect(f.split(sep).at(-2)).toBe(`eventDay=${new Date(Number(e.time)).toISOString().slice(0, 10).replace(/-/g, "")}`);
        }
        rows.push(...events);
      }
      expect(rows).toEqual(ocsfByTime);
      // Spot checks of what the comparison covers: exact big integers, the mended error, seq.
      const big = rows.find((r) => (r.metadata as JsonObject).uid === "p-7")!;
      expect((big.unmapped as JsonObject).result_summary).toEqual({ big: 123456789012345678901234567890n, f: 100.0, neg: -1180591620717411303424n });
      const lone = rows.find((r) => (r.metadata as JsonObject).uid === "p-4")!;
      expect([lone.status_detail, (lone.unmapped as JsonObject).error]).toEqual(["échec \u2028 😀 \ufffd lone", "échec \u2028 😀 \ud800 lone"]);
      expect(rows.map((r) => (r.metadata as JsonObject).sequence)).toEqual([5n, 1n, 4n, 7n, 3n, 0n, 2n, 6n]);

      // The columns: OCSF objects as structs, integer_t as INTEGER, long_t as BIGINT.
      const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${join(out, files[0]!)}')`);
      const types = Object.fromEntries(described.getRowObjectsJson().map((r) => [r.column_name as string, r.column_type as string]));
      expect(types).toMatchObject({
        activity_id: "INTEGER",
        class_uid: "INTEGER",
        type_uid: "BIGINT",
        time: "BIGINT",
        status_detail: "VARCHAR",
        unmapped: "VARCHAR",
        metadata: 'STRUCT("version" VARCHAR, product STRUCT("name" VARCHAR, vendor_name VARCHAR), uid VARCHAR, "sequence" INTEGER, original_time VARCHAR, log_provider VARCHAR)',
        actor: "STRUCT(\"user\" STRUCT(uid VARCHAR), app_name VARCHAR)",
        api: "STRUCT(operation VARCHAR, service STRUCT(\"name\" VARCHAR))",
        src_endpoint: "STRUCT(svc_name VARCHAR)",
        dst_endpoint: "STRUCT(svc_name VARCHAR)",
      });
      // One OCSF class per file, as Security Lake requires.
      const classes = await connection.runAndReadAll(`SELECT DISTINCT class_uid FROM read_parquet('${out}/**/*.parquet')`);
      expect(classes.getRowObjectsJson()).toEqual([{ class_uid: 6003 }]);
    } finally {
      connection.closeSync();
    }
  });

  it("takes the usual filters and --limit, in time order; an empty selection writes no file", async () => {
    const [out, empty] = [freshDir(), freshDir()];
    const [run, none] = await Promise.all([
      audit(["export", "--format", "parquet", "--out", out, ...TARGET, "--principal", "team-b/bob", "--event-type", "deny", "--limit", "1", "--quiet"]),
      audit(["export", "--format", "parquet", "--out", empty, ...TARGET, "--since", "2027-01-01", "--quiet"]),
    ]);
    expect(run.stderr).toBe("");
    const files = filesUnder(out);
    expect(files).toHaveLength(1);
    const db = await DuckDBInstance.create(":memory:");
    const connection = await db.connect();
    try {
      const rows = (await connection.runAndReadAll(`SELECT metadata.uid AS uid FROM read_parquet('${join(out, files[0]!)}')`)).getRowObjectsJson();
      expect(rows).toEqual([{ uid: "p-5" }]); // bob's earliest deny
    } finally {
      connection.closeSync();
    }
    expect(none.code).toBe(0);
    expect(none.stdout).toBe(`Wrote 0 trace(s) to 0 Parquet file(s) under ${empty}\n`);
    expect(filesUnder(empty)).toEqual([]);
  });

  it("refuses, as usage errors (exit 2) that write nothing, what does not fit", async () => {
    const out = freshDir();
    const runs = await Promise.all([
      audit(["export", "--format", "parquet", ...TARGET]),
      audit(["export", "--format", "parquet", "--out", out, "--region", "eu-west-3", "--account-id", "123456789012"]),
      audit(["export", "--format", "parquet", "--out", out, ...TARGET.slice(0, 4), "--account-id", "12345"]),
      audit(["export", "--format", "parquet", "--out", out, ...TARGET, "--order", "seq"]),
      audit(["export", "--format", "ocsf", "--region", "eu-west-3"]),
      audit(["export", "--format", "parquet", "--out", out, ...TARGET, "--rows-per-file", "0"]),
      audit(["export", "--format", "parquet", "--out", out, "--source-name", "../x", "--region", "eu-west-3", "--account-id", "123456789012"]),
    ]);
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2, 2, 2, 2]);
    expect(runs[0]!.stderr).toMatch(/^error: --format parquet writes a folder tree: give --out DIR/);
    expect(runs[1]!.stderr).toMatch(/^error: --format parquet needs --source-name/);
    expect(runs[2]!.stderr).toMatch(/^error: --account-id must be a 12-digit AWS account id, got '12345'/);
    expect(runs[3]!.stderr).toMatch(/^error: --format parquet writes each day's events in time order/);
    expect(runs[4]!.stderr).toMatch(/^error: --region is an option of --format parquet/);
    expect(runs[5]!.stderr).toMatch(/--rows-per-file.*must be 1 or more/);
    expect(runs[6]!.stderr).toMatch(/^error: --source-name must be the custom source's name/);
    expect(filesUnder(out)).toEqual([]);
  });
});

/**
 * writeParquetExport (src/cli/audit-parquet.ts) in process on both backends, where the CLI
 * cannot reach: keyset pages that end mid-file and files that end mid-page, several row
 * groups per file (DuckDB's parquet_metadata), every row equal to the `ocsf` line of its
 * trace; and all or nothing: a read failing after some files were complete leaves no file.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type JsonObject, type JsonValue, parseJsonLossless } from "../../src/chain/json.js";
import { writeParquetExport } from "../../src/cli/audit-parquet.js";
import { ocsfLine, traceRowPages } from "../../src/export/formats.js";
import { RecordTracesDocument } from "../gql/graphql.js";
import { BACKENDS } from "../support/backends.js";
import { createTestGateway, dataOf, type TestGateway } from "../support/harness.js";
import { invoke } from "../support/traces.js";

const root = mkdtempSync(join(tmpdir(), "tracegate-parquet-int-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, String(n++));

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(dir, path));
    }
  };
  try {
    walk(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  return out.sort();
}

/** A DuckDB JSON row as its event: nulls dropped, integers as bigints, unmapped parsed. */
function asEvent(value: unknown, path = ""): JsonValue | undefined {
  if (value === null || value === undefined) return undefined;
  if (path === "unmapped") return parseJsonLossless(value as string);
  if (typeof value === "number") return BigInt(value);
  if (typeof value === "string") return path === "type_uid" || path === "time" ? BigInt(value) : value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const converted = asEvent(v, path === "" ? k : `${path}.${k}`);
    if (converted !== undefined) out[k] = converted;
  }
  return out;
}

const TARGET = { sourceName: "tg", region: "us-east-1", accountId: "000011112222" };
/** 41 traces over three days, chain order unlike time order. */
const SEED = Array.from({ length: 41 }, (_, i) =>
  invoke(`q-${i}`, {
    invokedAt: new Date(Date.UTC(2026, 10, 20 + (i % 3), 0, 0, 0) + ((i * 7919) % 86_400) * 1000).toISOString(),
    ...(i % 4 === 0 ? { error: `failed ${i}`, driverId: "" } : {}),
  }),
);

describe.each(BACKENDS)("writeParquetExport ($name)", (backend) => {
  let gw: TestGateway;
  let db: DuckDBInstance;
  let duck: DuckDBConnection;
  beforeAll(async () => {
    gw = await createTestGateway({ backend });
    dataOf(await gw.exec(RecordTracesDocument, { input: SEED }));
    db = await DuckDBInstance.create(":memory:");
    duck = await db.connect();
  });
  afterAll(async () => {
    duck.closeSync();
    await gw.close();
  });

  it("pages and files cut anywhere, several row groups per file: the rows are the ocsf lines in time order", async () => {
    const out = freshDir();
    const progress: number[] = [];
    const files = await writeParquetExport(gw.stores.traces, {}, { outDir: out, target: TARGET, pageSize: 7, rowGroupSize: 4, rowsPerFile: 9, onProgress: (k) => progress.push(k) });
    expect(progress.at(-1)).toBe(41);
    // 41 traces: 14 on the 20th and 21st each (9 + 5), 13 on the 22nd (9 + 4).
    expect(files.map((f) => [f.day, f.rows])).toEqual([["20261120", 9], ["20261120", 5], ["20261121", 9], ["20261121", 5], ["20261122", 9], ["20261122", 4]]);
    expect(filesUnder(out)).toEqual(files.map((f) => relative(out, f.path)).sort());
    const expected: JsonObject[] = [];
    for await (const rows of traceRowPages(gw.stores.traces, {}, "INVOKED_AT_ASC")) expected.push(...rows.map((r) => parseJsonLossless(ocsfLine(r)) as JsonObject));
    const got: JsonObject[] = [];
    for (const file of files) {
      expect(file.path).toContain(join(out, "ext/tg/region=us-east-1/accountId=000011112222", `eventDay=${file.day}`));
      got.push(...(await duck.runAndReadAll(`SELECT * FROM read_parquet('${file.path}', hive_partitioning = false)`)).getRowObjectsJson().map((r) => asEvent(r) as JsonObject));
      const groups = (await duck.runAndReadAll(`SELECT count(DISTINCT row_group_id)::INTEGER AS n FROM parquet_metadata('${file.path}')`)).getRowObjectsJson();
      expect(groups).toEqual([{ n: Math.ceil(file.rows / 4) }]);
    }
    expect(got).toEqual(expected);
  });

  it("all or nothing: a read failing after files were complete leaves no file behind", async () => {
    const out = freshDir();
    let pages = 0;
    const failing = {
      head: () => gw.stores.traces.head(),
      page: (query: Parameters<typeof gw.stores.traces.page>[0]) => {
        if (++pages === 4) return Promise.reject(new Error("connection lost"));
        return gw.stores.traces.page(query);
      },
    };
    await expect(writeParquetExport(failing, {}, { outDir: out, target: TARGET, pageSize: 7, rowsPerFile: 5 })).rejects.toThrow("connection lost");
    // Three pages (21 traces) made four complete files before the failure; none is left, nor a temporary file.
    expect(pages).toBe(4);
    expect(filesUnder(out)).toEqual([]);
  });
});

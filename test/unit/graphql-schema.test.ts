/**
 * The checked-in schema.graphql is the schema the server runs
 * (docs/code-style.md#schema-snapshot): a change to the GraphQL surface must come with a
 * regenerated file (`npm run generate:graphql`), and every operation the tests use validates
 * against the live schema.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { buildSchema, lexicographicSortSchema, parse, printSchema, validate } from "graphql";
import { describe, expect, it } from "vitest";
import { schema } from "../../src/graphql/index.js";

const root = join(import.meta.dirname, "../..");

describe("GraphQL surface", () => {
  it("matches the checked-in schema.graphql", () => {
    const checkedIn = buildSchema(readFileSync(join(root, "schema.graphql"), "utf8"));
    expect(printSchema(lexicographicSortSchema(schema))).toBe(printSchema(lexicographicSortSchema(checkedIn)));
  });

  it("validates every test operation against the live schema", () => {
    const dir = join(root, "test/ops");
    const files = readdirSync(dir).filter((f) => f.endsWith(".graphql"));
    expect(files.length).toBeGreaterThan(0);
    const document = parse(files.map((f) => readFileSync(join(dir, f), "utf8")).join("\n"));
    expect(validate(schema, document).map((e) => e.message)).toEqual([]);
  });

  it("demands auth scopes on every root field, so no operation is open to any key", () => {
    const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter((t) => t != null);
    const open: string[] = [];
    for (const root of roots) {
      for (const [name, field] of Object.entries(root.getFields())) {
        const scopes = (field.extensions as { pothosOptions?: { authScopes?: unknown } }).pothosOptions?.authScopes;
        if (!scopes || (typeof scopes === "object" && Object.keys(scopes).length === 0)) open.push(`${root.name}.${name}`);
      }
    }
    expect(open).toEqual([]);
    const trace = schema.getType("Trace")!.extensions as { pothosOptions?: { authScopes?: unknown } };
    expect(trace.pothosOptions?.authScopes).toEqual({ "traces:read": true });
  });
});

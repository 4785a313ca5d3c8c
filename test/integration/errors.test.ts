/**
 * Error masking: an unexpected failure reaches the client as INTERNAL_SERVER_ERROR with an
 * errorId and no internals, and the server log holds the original under the same errorId.
 */
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordTracesDocument, TraceByActionIdDocument } from "../gql/graphql.js";
import { createTestGateway, dataOf, type TestGateway } from "../support/harness.js";
import { invoke } from "../support/traces.js";

const logged: Record<string, unknown>[] = [];
let gw: TestGateway;

beforeAll(async () => {
  const logger = pino({ level: "info" }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
  gw = await createTestGateway({ logger });
  dataOf(await gw.exec(RecordTracesDocument, { input: [invoke("err-1")] }));
});
afterAll(() => gw.close());

describe("masked errors", () => {
  it("masks an internal failure with an errorId that is logged with the cause", async () => {
    await gw.db().run(`UPDATE "Trace" SET "payload" = 'not json' WHERE "actionId" = 'err-1'`);
    const res = await gw.exec(TraceByActionIdDocument, { actionId: "err-1" });
    expect(res.errors?.length).toBeGreaterThan(0);
    const error = res.errors![0]!;
    expect(error.message).toBe("Unexpected error.");
    expect(error.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
    const errorId = error.extensions?.errorId;
    expect(errorId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(res)).not.toContain("Corrupted");
    const entry = logged.find((l) => l.errorId === errorId);
    expect(entry).toBeDefined();
    expect(JSON.stringify(entry)).toContain("Corrupted trace payload");
  });

  it("answers malformed request bodies with a code and no internals", async () => {
    const post = (body: string) =>
      gw.app.yoga.fetch("http://tracegate.test/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${gw.adminKey}` },
        body,
      });
    for (const [body, code] of [
      // A body that is not JSON (or holds NaN, which JSON lacks) is bad input, status 400.
      ["{not json", "BAD_USER_INPUT"],
      ['{"query":"{ viewer { keyId } }","variables":{"x":NaN}}', "BAD_USER_INPUT"],
      // JSON that is not a GraphQL request.
      [JSON.stringify({ query: 5 }), "GRAPHQL_VALIDATION_FAILED"],
      [JSON.stringify({}), "GRAPHQL_VALIDATION_FAILED"],
    ] as const) {
      const response = await post(body);
      const res = (await response.json()) as { errors: { extensions: Record<string, unknown> }[] };
      expect(res.errors[0]!.extensions.code, body).toBe(code);
      if (code === "BAD_USER_INPUT") expect(response.status, body).toBe(400);
      expect(res.errors[0]!.extensions, body).not.toHaveProperty("originalError");
    }
  });

  it("does not log client mistakes as errors", async () => {
    const before = logged.filter((l) => (l.level as number) >= 40).length;
    await gw.exec(TraceByActionIdDocument, { actionId: "x".repeat(10) });
    await gw.raw("{ traces(first: 9999) { totalCount } }");
    expect(logged.filter((l) => (l.level as number) >= 40).length).toBe(before);
  });
});

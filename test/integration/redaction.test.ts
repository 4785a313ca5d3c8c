/**
 * Ingest hygiene (issue 4): credential-looking values are redacted before hashing (the
 * default) or the batch is rejected (when configured). Redacted traces verify, show where
 * the redaction happened, and no secret is stored or echoed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordTracesDocument } from "../gql/graphql.js";
import { codesOf, createTestGateway, dataOf, type TestGateway } from "../support/harness.js";
import { invoke } from "../support/traces.js";

const AWS = "AKIAIOSFODNN7EXAMPLE";
const GITHUB = `ghp_${"a1B2c3D4e5".repeat(4)}`;
const PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----";
const BEARER = "Bearer abcdefghijklmnop.qrstuvwx";
const SECRETS = [AWS, GITHUB, "MIIEpAIBAAKCAQEA7", "abcdefghijklmnop", "hunter2-correct-horse"];

const leaky = () =>
  invoke("leaky", {
    args: {
      query: `SELECT 1 -- key ${AWS}`,
      headers: { Authorization: BEARER, "X-Trace": "fine" },
      nested: [{ password: "hunter2-correct-horse" }, GITHUB],
      cert: PEM,
      count: 3,
    },
    resultSummary: { note: `token was ${GITHUB}` },
    error: `upstream said: ${BEARER}`,
  });

const READ = `{ trace(actionId: "leaky") { args resultSummary error payload redactions { path kind } } verifyChain { ok } }`;

describe("redact (default)", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await createTestGateway();
  });
  afterAll(() => gw.close());

  it("replaces each secret with a marker before hashing, and says where", async () => {
    const written = await gw.exec(RecordTracesDocument, { input: [leaky(), invoke("clean", { args: { q: "bearer of news", n: 1 } })] });
    expect(codesOf(written)).toEqual([]);
    for (const s of SECRETS) expect(JSON.stringify(written), s).not.toContain(s);

    const res = dataOf(await gw.raw(READ)) as {
      trace: { args: Record<string, unknown>; resultSummary: unknown; error: string; payload: string; redactions: { path: string; kind: string }[] };
      verifyChain: { ok: boolean };
    };
    expect(res.verifyChain.ok).toBe(true);
    expect(res.trace.args).toEqual({
      query: "SELECT 1 -- key [REDACTED:aws-access-key-id]",
      headers: { Authorization: "[REDACTED:sensitive-key]", "X-Trace": "fine" },
      nested: [{ password: "[REDACTED:sensitive-key]" }, "[REDACTED:github-token]"],
      cert: "[REDACTED:private-key]",
      count: 3,
    });
    expect(res.trace.error).toBe("upstream said: [REDACTED:bearer-token]");
    expect(res.trace.redactions).toEqual(
      expect.arrayContaining([
        { path: "args.query", kind: "aws-access-key-id" },
        { path: "args.headers.Authorization", kind: "sensitive-key" },
        { path: "args.nested[0].password", kind: "sensitive-key" },
        { path: "args.nested[1]", kind: "github-token" },
        { path: "args.cert", kind: "private-key" },
        { path: "resultSummary.note", kind: "github-token" },
        { path: "error", kind: "bearer-token" },
      ]),
    );
    for (const s of SECRETS) expect(res.trace.payload, s).not.toContain(s);
    const stored = await gw.db().all<{ payload: string }>(`SELECT "payload" FROM "Trace"`);
    for (const s of SECRETS) expect(JSON.stringify(stored), s).not.toContain(s);
  });

  it("leaves clean traces byte for byte alone and reports no redactions", async () => {
    const res = dataOf(await gw.raw(`{ trace(actionId: "clean") { args redactions { path } } }`));
    expect(res).toEqual({ trace: { args: { q: "bearer of news", n: 1 }, redactions: [] } });
  });
});

describe("reject (TRACEGATE_SECRETS_IN_TRACES=reject)", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await createTestGateway({ secretsInTraces: "reject" });
  });
  afterAll(() => gw.close());

  it("refuses the whole batch, naming the path and kind but not the value", async () => {
    const res = await gw.exec(RecordTracesDocument, { input: [invoke("ok-1"), leaky()] });
    expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.errors![0]!.extensions?.field).toBe("input[1].args.query");
    expect(res.errors![0]!.message).toContain("aws-access-key-id");
    for (const s of SECRETS) expect(JSON.stringify(res), s).not.toContain(s);
    expect(dataOf(await gw.raw("{ traces { totalCount } }"))).toEqual({ traces: { totalCount: 0 } });
  });
});

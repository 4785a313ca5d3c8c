/**
 * Ingest hygiene (issue 4): credential-looking values are redacted before hashing (the
 * default) or the batch is rejected (when configured). Redacted traces verify, show where
 * the redaction happened, and no secret is stored or echoed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordTracesDocument } from "../gql/graphql.js";
import { MAX_SCANNED_CHARS } from "../../src/ingest/secrets.js";
import { BACKENDS } from "../support/backends.js";
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

describe.each(BACKENDS)("$name: hostile and missed shapes (issue 14, cases 2, 9 and 10)", (backend) => {
  let gw: TestGateway;
  let rejecting: TestGateway;
  beforeAll(async () => {
    gw = await createTestGateway({ backend });
    rejecting = await createTestGateway({ backend, secretsInTraces: "reject" });
  });
  afterAll(async () => {
    await gw.close();
    await rejecting.close();
  });

  const total = async (g: TestGateway) => ((dataOf(await g.raw("{ traces { totalCount } }")) as { traces: { totalCount: number } }).traces.totalCount);

  it("case 9: redacts secret-ish key names, numeric passwords, URL passwords and Basic credentials", async () => {
    const input = [
      invoke("case9", {
        args: {
          db_password: "pg-pass-1",
          secret_key: "sk-value-2",
          AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
          password: 123456,
          dsn: "postgres://app:pass-3@db.internal:5432/audit",
          header: "Authorization: Basic dXNlcjpwYXNzLTQ=",
          note: "basic features stay",
        },
      }),
    ];
    expect(codesOf(await gw.exec(RecordTracesDocument, { input }))).toEqual([]);
    const res = dataOf(await gw.raw(`{ trace(actionId: "case9") { args payload redactions { path kind } } verifyChain { ok } }`)) as {
      trace: { args: unknown; payload: string; redactions: unknown[] };
      verifyChain: { ok: boolean };
    };
    expect(res.verifyChain.ok).toBe(true);
    expect(res.trace.args).toEqual({
      db_password: "[REDACTED:sensitive-key]",
      secret_key: "[REDACTED:sensitive-key]",
      AWS_SECRET_ACCESS_KEY: "[REDACTED:sensitive-key]",
      password: "[REDACTED:sensitive-key]",
      dsn: "postgres://app:[REDACTED:url-password]@db.internal:5432/audit",
      header: "Authorization: [REDACTED:basic-auth]",
      note: "basic features stay",
    });
    for (const leaked of ["pg-pass-1", "sk-value-2", "wJalrXUtnFEMI", "123456", "pass-3", "dXNlcjpwYXNzLTQ"]) {
      expect(res.trace.payload, leaked).not.toContain(leaked);
    }
    expect(res.trace.redactions).toEqual(
      expect.arrayContaining([
        { path: "args.password", kind: "sensitive-key" },
        { path: "args.dsn", kind: "url-password" },
        { path: "args.header", kind: "basic-auth" },
      ]),
    );
  });

  it("case 2: the issue's 624 KB Google-key blob is stored, with the one real key shape redacted", async () => {
    const unit = "AIza" + "SyA1234567890abcdefghijklmnopqrst" + "u-";
    const blob = unit.repeat(16_000);
    expect(codesOf(await gw.exec(RecordTracesDocument, { input: [invoke("blob", { args: { blob } })] }))).toEqual([]);
    const res = dataOf(await gw.raw(`{ trace(actionId: "blob") { redactions { path kind } } }`)) as { trace: { redactions: unknown[] } };
    expect(res.trace.redactions).toEqual([{ path: "args.blob", kind: "google-api-key" }]);
  });

  it("case 2: a trace with more text than the scan cap is refused, naming it, and nothing is stored", async () => {
    const before = await total(gw);
    const big = "x".repeat(MAX_SCANNED_CHARS / 2 + 1);
    const res = await gw.exec(RecordTracesDocument, { input: [invoke("small-ok"), invoke("too-big", { args: { a: big }, resultSummary: { b: big } })] });
    expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.errors![0]!.extensions?.field).toBe("input[1].args");
    expect(await total(gw)).toBe(before);
  });

  it("case 2: the scope check comes before scanning: a scoped key's foreign batch is refused for scope, not for its secrets", async () => {
    const alice = await rejecting.issueKey(["traces:write"], ["alice"]);
    const res = await rejecting.as(alice).exec(RecordTracesDocument, {
      input: [invoke("leaks", { args: { q: "AKIAIOSFODNN7EXAMPLE" } }), invoke("foreign", { principalId: "bob" })],
    });
    expect(codesOf(res)).toEqual(["FORBIDDEN"]);
    expect(res.errors![0]!.extensions?.field).toBe("input[1].principalId");
  });

  it("case 10: a scoped writer colliding with another tenant's actionId gets a scope refusal without the id", async () => {
    const id = "bob-private-action-7";
    expect(codesOf(await gw.exec(RecordTracesDocument, { input: [invoke(id, { principalId: "bob" }), invoke("alice-own", { principalId: "alice" })] }))).toEqual([]);
    const alice = await gw.issueKey(["traces:write", "traces:read"], ["alice"]);
    const before = await total(gw);

    const collide = await gw.as(alice).exec(RecordTracesDocument, { input: [invoke("alice-new-1"), invoke(id, { principalId: "alice" })] });
    const foreign = await gw.as(alice).exec(RecordTracesDocument, { input: [invoke("alice-new-1"), invoke("alice-new-2", { principalId: "bob" })] });
    expect(codesOf(collide)).toEqual(["FORBIDDEN"]);
    expect(codesOf(foreign)).toEqual(["FORBIDDEN"]);
    expect(JSON.stringify(collide)).not.toContain(id);
    expect(collide.errors![0]!.extensions).toEqual({ code: "FORBIDDEN", field: "input[1].actionId" });
    // The same wording as any scope refusal, naming only the writer's own field.
    expect(collide.errors![0]!.message.replace("actionId", "X")).toBe(foreign.errors![0]!.message.replace("principalId", "X"));
    expect(await total(gw)).toBe(before);

    // An unknown id is accepted; a collision inside the writer's own scope still says which id.
    expect(codesOf(await gw.as(alice).exec(RecordTracesDocument, { input: [invoke("alice-new-1")] }))).toEqual([]);
    const own = await gw.as(alice).exec(RecordTracesDocument, { input: [invoke("alice-own", { driverId: "changed" })] });
    expect(codesOf(own)).toEqual(["DUPLICATE_ACTION_ID"]);
    expect(own.errors![0]!.message).toContain("alice-own");
    expect(own.errors![0]!.extensions?.field).toBe("input[0].actionId");
    // An unscoped writer still learns the id (it can read every trace anyway).
    const admin = await gw.exec(RecordTracesDocument, { input: [invoke(id, { principalId: "alice" })] });
    expect(codesOf(admin)).toEqual(["DUPLICATE_ACTION_ID"]);
    expect(admin.errors![0]!.message).toContain(id);
  });
});

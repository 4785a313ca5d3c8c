/**
 * Exact on every road: the value a client sends as JSON is the value that is hashed,
 * stored and returned, whether it arrives as a GraphQL literal, as JSON variables over
 * HTTP, or as JSON variables in a graphql-ws message; and what ingest accepts never makes a
 * later read or verification fail; and the same for raw records (recordTraceRecords). CPython's json module is the oracle throughout
 * (test/support/python-json.ts), on both backends.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeTrace } from "../../src/chain/trace.js";
import { BACKENDS } from "../support/backends.js";
import { codesOf, createTestGateway, dataOf, TEST_SECRET, type TestGateway } from "../support/harness.js";
import { runCli } from "../support/process.js";
import { pythonCanonical } from "../support/python-json.js";
import { referenceTraceText } from "../support/reference-traces.js";
import { wsRawOperation } from "../support/ws.js";

const RECORD = `mutation Record($input: [TraceInput!]!) {
  recordTraces(input: $input) { seq args resultSummary payload }
}`;

/** A TraceInput as JSON text, with `args` and `resultSummary` spliced in verbatim. */
function inputText(actionId: string, argsText: string, summaryText = "null"): string {
  const base = JSON.stringify({
    actionId,
    capabilityId: "billing.refund",
    principalId: "alice",
    invokedAt: "2026-11-22T09:00:00.123456Z",
    responseMode: "SUMMARY",
    args: "__ARGS__",
    resultSummary: "__SUMMARY__",
  });
  return base.replace('"__ARGS__"', argsText).replace('"__SUMMARY__"', summaryText);
}

/** A whole request body: the mutation with one trace whose args (and result summary) are `argsText`. */
function bodyText(actionId: string, argsText: string): string {
  return `{"query":${JSON.stringify(RECORD)},"variables":{"input":[${inputText(actionId, argsText, argsText)}]}}`;
}

/** POST a body written as text (JSON.stringify could not write 100.0) and return the raw response text. */
async function postText(gw: TestGateway, key: string, body: string): Promise<string> {
  const res = await gw.app.yoga.fetch("http://tracegate.test/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body,
  });
  return res.text();
}

// ---------------------------------------------------------------------------
// Generated JSON texts: the lexemes that break naive JSON handling.
// ---------------------------------------------------------------------------

const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: min, maxLength: max });
const intLexeme = fc.oneof(
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String),
  fc.constantFrom("0", "-0", "9007199254740993", "18446744073709551617", String(2n ** 60n)),
);
const floatLexeme = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Number.isInteger(d) ? d.toFixed(1) : String(d))),
  fc.tuple(fc.integer({ min: -999, max: 999 }), digits(1, 5)).map(([i, f]) => `${i}.${f}`),
  fc.tuple(fc.integer({ min: -9, max: 9 }), fc.constantFrom("e", "E", "e+", "e-", "E-"), fc.integer({ min: 0, max: 320 })).map(
    ([m, e, x]) => `${m}${e}${x}`,
  ),
  fc.constantFrom("100.0", "-0.0", "0.0", "1e+22", "1e+16", "1e-07", "1E400", "-1e400", "2.5e-324", "1.7976931348623157e308", "1234567.99999999999", "123456789.9999999999"),
);
/** Any code point, lone surrogates included; JSON.stringify escapes those as \udXXX. */
const text = fc.string({ unit: "binary", maxLength: 12 });
const scalarText = fc.oneof(intLexeme, floatLexeme, text.map((s) => JSON.stringify(s)), fc.constantFrom("true", "false", "null"));
const { value: valueText } = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalarText,
    fc.array(tie("value"), { maxLength: 4 }).map((xs) => `[${xs.join(",")}]`),
    fc.dictionary(text, tie("value"), { maxKeys: 4 }).map((o) => `{${Object.entries(o).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`),
  ),
}));
/** A JSON object text (args must be an object), sometimes with a refused value in it. */
const argsText = fc
  .tuple(fc.dictionary(text, valueText, { maxKeys: 5 }), fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom("1e400", "9".repeat(4301)) }))
  .map(([o, refused]) => {
    const members = Object.entries(o).map(([k, v]) => `${JSON.stringify(k)}:${v}`);
    if (refused) members.push(`"refused":${refused}`);
    return `{${members.join(",")}}`;
  });

/**
 * Each property run spawns CPython and makes a real request: tens of runs take seconds when
 * idle and can take minutes on a loaded 2-core machine. A bound that only catches a hang.
 */
const PROPERTY_TIMEOUT_MS = 300_000;

describe.each(BACKENDS)("exact JSON on every road ($name)", (backend) => {
  let gw: TestGateway;
  let url: string;
  let writer: string;
  let reader: string;

  beforeAll(async () => {
    gw = await createTestGateway({ backend });
    const { port } = await gw.app.start(0);
    url = `http://127.0.0.1:${port}/graphql`;
    // Kernels hold write-only keys; reads use a read-only key.
    writer = await gw.issueKey(["traces:write", "traces:read"]);
    reader = await gw.issueKey(["traces:read"]);
  });
  afterAll(async () => {
    await gw.app.stop();
    await gw.close();
  });

  const count = async () => dataOf(await gw.as(reader).raw("{ traces { totalCount } }")) as { traces: { totalCount: number } };

  let seq = 0;
  /** Record one generated args text through `send`, then hold the stored payload and the response against CPython. */
  async function checkOne(args: string, send: (id: string, body: string) => Promise<string>): Promise<void> {
    const id = `prop-${backend.name}-${seq++}`;
    const before = (await count()).traces.totalCount;
    const response = await send(id, args);
    const [expected, returnedArgs, returnedSummary] = await pythonCanonical([
      { text: args },
      { text: response, path: ["data", "recordTraces", 0, "args"] },
      { text: response, path: ["data", "recordTraces", 0, "resultSummary"] },
    ]);
    if (!expected!.ok) {
      // CPython could not hash it (an infinite float, an over-long int): refused, nothing written.
      const parsed = JSON.parse(response) as { errors?: { extensions?: { code?: string } }[]; data?: unknown };
      expect(parsed.errors?.length, response).toBeGreaterThan(0);
      expect(new Set(parsed.errors?.map((e) => e.extensions?.code)), response).toEqual(new Set(["BAD_USER_INPUT"]));
      expect((await count()).traces.totalCount).toBe(before);
      return;
    }
    const { recordTraces } = JSON.parse(response).data as { recordTraces: { payload: string }[] };
    // Canonical keys sort "args" right before "capability_id", "result_summary" before "sensitivity".
    expect(recordTraces[0]!.payload).toContain(`"args":${expected!.canonical},"capability_id":`);
    expect(recordTraces[0]!.payload).toContain(`"result_summary":${expected!.canonical},"sensitivity":`);
    expect(returnedArgs).toEqual(expected);
    expect(returnedSummary).toEqual(expected);
  }

  it("JSON variables over HTTP: stored payload and response equal CPython's canonical dumps", async () => {
    await fc.assert(
      fc.asyncProperty(argsText, (args) => checkOne(args, (id, a) => postText(gw, writer, bodyText(id, a)))),
      { numRuns: 60 },
    );
  }, PROPERTY_TIMEOUT_MS);

  it("JSON variables over graphql-ws: the same, on a real socket", async () => {
    await fc.assert(
      fc.asyncProperty(argsText, (args) =>
        checkOne(args, async (id, a) => {
          const [message] = await wsRawOperation(url, `Bearer ${writer}`, `{"query":${JSON.stringify(RECORD)},"variables":{"input":[${inputText(id, a, a)}]}}`);
          // The payload of a next message, or the errors of an error message, as a response body.
          const parsed = JSON.parse(message!) as { type: string };
          return parsed.type === "next" ? message!.slice(message!.indexOf('"payload":') + 10, -1) : JSON.stringify({ errors: (parsed as unknown as { payload: unknown }).payload });
        }),
      ),
      { numRuns: 40 },
    );
  }, PROPERTY_TIMEOUT_MS);

  it("raw records (recordTraceRecords): the stored payload equals CPython's canonical dumps of the record", async () => {
    await fc.assert(
      fc.asyncProperty(argsText, async (args) => {
        const id = `raw-${backend.name}-${seq++}`;
        const record = referenceTraceText(id, 1, "2026-11-22T09:00:00.123456+00:00", {}, args);
        const before = (await count()).traces.totalCount;
        const body = `{"query":"mutation($r: [String!]!) { recordTraceRecords(records: $r) { payload } }","variables":{"r":[${JSON.stringify(record)}]}}`;
        const response = await postText(gw, writer, body);
        const [expected] = await pythonCanonical([{ text: record }]);
        if (!expected!.ok) {
          const parsed = JSON.parse(response) as { errors?: { extensions?: { code?: string } }[] };
          expect(parsed.errors?.map((e) => e.extensions?.code), response).toEqual(["BAD_USER_INPUT"]);
          expect((await count()).traces.totalCount).toBe(before);
          return;
        }
        const { recordTraceRecords } = (JSON.parse(response) as { data: { recordTraceRecords: { payload: string }[] } }).data;
        expect(recordTraceRecords[0]!.payload).toBe(expected!.canonical);
      }),
      { numRuns: 40 },
    );
  }, PROPERTY_TIMEOUT_MS);

  it("verifies whatever the generated traffic stored", async () => {
    const res = dataOf(await gw.raw("{ verifyChain { ok checked kind detail } }")) as { verifyChain: { ok: boolean; checked: number } };
    expect(res.verifyChain).toMatchObject({ ok: true });
    expect(res.verifyChain.checked).toBeGreaterThan(50);
  });

  // -------------------------------------------------------------------------
  // The reported cases, with their right values.
  // -------------------------------------------------------------------------

  it("keeps 100.0 and -0.0 floats from JSON variables, and takes 1e+22 and 1e+16 as floats", async () => {
    const response = await postText(gw, writer, bodyText("case1-a", `{"ratio":100.0,"neg":-0.0}`));
    const row = (JSON.parse(response).data as { recordTraces: { payload: string }[] }).recordTraces[0]!;
    expect(row.payload).toContain(`"args":{"neg":-0.0,"ratio":100.0}`);
    expect(response).toContain(`"args":{"neg":-0.0,"ratio":100.0}`); // as hashed: canonical key order
    for (const [id, args, canonical] of [
      ["case1-b", `{"big":1e+22}`, `{"big":1e+22}`],
      ["case1-c", `{"f":1e+16}`, `{"f":1e+16}`],
      // A long fraction that rounds to an integral double is still a float for Python.
      ["case1-d", `{"f":1234567.99999999999}`, `{"f":1234568.0}`],
    ] as const) {
      const r = JSON.parse(await postText(gw, writer, bodyText(id, args))) as { data: { recordTraces: { payload: string }[] } };
      expect(r.data.recordTraces[0]!.payload).toContain(`"args":${canonical}`);
    }
  });

  it("variables inside JSONObject literals: JSON variables keep their floats, Float variables and bare words are refused", async () => {
    const mutation = (args: string, decl: string) => `mutation${decl ? `(${decl})` : ""} { recordTraces(input: [{ actionId: "lit-${seq++}", capabilityId: "c",
      principalId: "alice", invokedAt: "2026-11-22T09:00:00Z", responseMode: SUMMARY, args: ${args} }]) { payload } }`;
    const nested = await postText(gw, writer, `{"query":${JSON.stringify(mutation("{ inner: $j, n: $n }", "$j: JSONObject, $n: Int"))},"variables":{"j":{"neg":-0.0,"big":1e+22,"f":100.0},"n":7}}`);
    const nestedPayload = (JSON.parse(nested) as { data: { recordTraces: { payload: string }[] } }).data.recordTraces[0]!.payload;
    expect(nestedPayload).toContain(`"args":{"inner":{"big":1e+22,"f":100.0,"neg":-0.0},"n":7}`);
    const float = await gw.as(writer).raw(mutation("{ ratio: $f }", "$f: Float"), { f: 100 });
    expect(codesOf(float)).toEqual(["BAD_USER_INPUT"]);
    expect(float.errors![0]!.message).toMatch(/Variable "\$f" of type Float is used inside a JSONObject literal/);
    const bare = await gw.as(writer).raw(mutation("{ mode: FAST }", ""));
    expect(codesOf(bare)).toEqual(["BAD_USER_INPUT"]);
    expect(bare.errors![0]!.message).toMatch(/bare word FAST is not JSON/);
  });

  it("serves OCSF for every invoked_at form raw ingest accepts (naive, space-separated), also from GET /export", async () => {
    const records = ["2026-11-22T09:00:07", "2026-11-22 09:00:07.5+00:00"].map((at, i) =>
      referenceTraceText(`ocsf-form-${backend.name}-${i}`, 1, at, {}, "{}"),
    );
    dataOf(await gw.as(writer).raw(`mutation($r: [String!]!) { recordTraceRecords(records: $r) { seq } }`, { r: records }));
    const read = dataOf(await gw.as(reader).raw(`{ a: trace(actionId: "ocsf-form-${backend.name}-0") { ocsf } b: trace(actionId: "ocsf-form-${backend.name}-1") { ocsf } }`)) as {
      a: { ocsf: { time: number } };
      b: { ocsf: { time: number } };
    };
    expect(read.a.ocsf.time).toBe(Date.parse("2026-11-22T09:00:07Z"));
    expect(read.b.ocsf.time).toBe(Date.parse("2026-11-22T09:00:07.5Z"));
    const res = await fetch(`${url.replace("/graphql", "")}/export?format=ocsf`, { headers: { authorization: `Bearer ${reader}` } });
    expect(res.status).toBe(200);
    expect((await res.text()).split("\n").filter(Boolean).length).toBeGreaterThan(2);
    expect((await fetch(`${url.replace("/graphql", "")}/healthz`)).status).toBe(200);
  });

  it("returns big integers exactly in args and resultSummary (literals and variables)", async () => {
    const literal = `mutation { recordTraces(input: [{ actionId: "case2-a", capabilityId: "crm.read", principalId: "alice",
      invokedAt: "2026-11-22T09:00:00Z", responseMode: SUMMARY, args: { accountId: 750727362669608961 },
      resultSummary: { n: 9007199254740993 } }]) { seq } }`;
    dataOf(await gw.as(writer).raw(literal));
    const read = await postText(gw, reader, JSON.stringify({ query: `{ trace(actionId: "case2-a") { args resultSummary payload } }` }));
    expect(read).toContain(`"args":{"accountId":750727362669608961}`);
    expect(read).toContain(`"resultSummary":{"n":9007199254740993}`);
    expect(read).toContain(`\\"accountId\\":750727362669608961`);
    // The same over graphql-ws.
    const [message] = await wsRawOperation(url, `Bearer ${reader}`, JSON.stringify({ query: `{ trace(actionId: "case2-a") { args resultSummary } }` }));
    expect(message).toContain(`"args":{"accountId":750727362669608961}`);
    expect(message).toContain(`"resultSummary":{"n":9007199254740993}`);
    // And from JSON variables.
    const viaVariables = await postText(gw, writer, bodyText("case2-b", `{"accountId":750727362669608961}`));
    expect(viaVariables).toContain(`"args":{"accountId":750727362669608961}`);
  });

  it("accepts lone surrogates and long integers in args, and verification stays ok (not INTERNAL_SERVER_ERROR)", async () => {
    const lone = "launch 🚀 ok".slice(0, 8); // "launch \ud83d": a string cut inside an emoji
    const res = await gw.as(writer).raw(
      `mutation($a: JSONObject, $e: String) { recordTraces(input: [{ actionId: "case3-a", capabilityId: "c", principalId: "alice",
        invokedAt: "2026-11-22T09:00:00Z", responseMode: SUMMARY, args: $a, error: $e }]) { payload } }`,
      { a: { note: lone }, e: `cut ${lone} here` },
    );
    expect((dataOf(res) as { recordTraces: { payload: string }[] }).recordTraces[0]!.payload).toContain(`"note":"launch \\ud83d"`);
    const long = "7".repeat(400);
    dataOf(
      await gw.as(writer).raw(`mutation { recordTraces(input: [{ actionId: "case3-b", capabilityId: "c", principalId: "alice",
        invokedAt: "2026-11-22T09:00:00Z", responseMode: SUMMARY, args: { n: ${long}, m: -${long} } }]) { seq } }`),
    );
    const verify = dataOf(await gw.raw("{ verifyChain { ok kind detail } }")) as { verifyChain: { ok: boolean } };
    expect(verify.verifyChain).toMatchObject({ ok: true, kind: null });
    const read = await postText(gw, reader, JSON.stringify({ query: `{ trace(actionId: "case3-b") { args } }` }));
    expect(read).toContain(`"n":${long}`);
  });

  it("serves and verifies a stored payload holding NaN and Infinity (as imports from reference stores may)", async () => {
    const trace = { actionId: "case3-nan", capabilityId: "c", principalId: "alice", tokenId: "", invokedAtUs: 1_790_000_000_000_000,
      responseMode: "summary", driverId: "", handleId: null, sensitivity: "NONE", eventType: "invoke", reasonCode: null, error: null,
      args: { x: Number.NaN, y: Number.POSITIVE_INFINITY, z: 100 }, resultSummary: null } as const;
    await gw.stores.traces.append([encodeTrace({ ...trace, args: { ...trace.args } })]);
    const verify = dataOf(await gw.raw("{ verifyChain { ok kind detail } }")) as { verifyChain: { ok: boolean } };
    expect(verify.verifyChain).toMatchObject({ ok: true, kind: null });
    const read = await postText(gw, reader, JSON.stringify({ query: `{ trace(actionId: "case3-nan") { args tokenId ocsf } }` }));
    expect(read).toContain(`"args":{"x":"NaN","y":"Infinity","z":100.0}`);
  });

  it("tracegate audit verify (a real process) reports the chain holding such values, on this backend", async () => {
    const run = await runCli(["audit", "verify", "--json"], {
      DATABASE_URL: gw.databaseUrl,
      TRACEGATE_DATA_DIR: "",
      TRACEGATE_HMAC_SECRET: TEST_SECRET,
      NODE_ENV: "",
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, first_bad_seq: null });
  }, 60_000);

  it("refuses lone surrogates and NUL in identifiers, and 1e400, with BAD_USER_INPUT, writing nothing", async () => {
    const before = (await count()).traces.totalCount;
    const cases: [string, Record<string, unknown>][] = [
      ["principalId", { principalId: "alice \ud83d" }],
      ["capabilityId", { capabilityId: "\udc00cap" }],
      ["actionId", { actionId: "a\u0000b" }],
      ["reasonCode", { reasonCode: "no\u0000pe", eventType: "DENY" }],
      ["driverId", { driverId: "d\ud800" }],
      ["tokenId", { tokenId: "t\u0000" }],
      ["handleId", { handleId: "h\udfff" }],
    ];
    for (const [field, override] of cases) {
      const input = { actionId: `case3-${field}`, capabilityId: "c", principalId: "alice", invokedAt: "2026-11-22T09:00:00Z", responseMode: "SUMMARY", ...override };
      const res = await gw.as(writer).raw(`mutation($input: [TraceInput!]!) { recordTraces(input: $input) { seq } }`, { input: [input] });
      expect(codesOf(res), field).toEqual(["BAD_USER_INPUT"]);
      expect(res.errors?.[0]?.message).toContain(field);
    }
    const overflow = await gw.as(writer).raw(`mutation { recordTraces(input: [{ actionId: "case3-inf", capabilityId: "c", principalId: "alice",
      invokedAt: "2026-11-22T09:00:00Z", responseMode: SUMMARY, args: { x: 1e400 } }]) { seq } }`);
    expect(codesOf(overflow)).toEqual(["BAD_USER_INPUT"]);
    const viaVariables = JSON.parse(await postText(gw, writer, bodyText("case3-inf2", `{"x":1e400}`))) as { errors: { extensions: { code: string } }[] };
    expect(new Set(viaVariables.errors.map((e) => e.extensions.code))).toEqual(new Set(["BAD_USER_INPUT"]));
    expect((await count()).traces.totalCount).toBe(before);
    // Filters and lookups with such strings are refused the same way, never INTERNAL_SERVER_ERROR.
    for (const [query, variables] of [
      [`query($p: String) { traces(filter: { principalId: $p }) { totalCount } }`, { p: "a\u0000" }],
      [`query($r: String) { traces(filter: { reasonCode: $r }) { totalCount } }`, { r: "\ud83d" }],
      [`query($r: String) { traceStats(filter: { capabilityId: $r }) { total } }`, { r: "c\udc00" }],
      [`query($a: String!) { trace(actionId: $a) { seq } }`, { a: "x\u0000" }],
      [`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: "k\ud83d" }],
    ] as const) {
      const as = query.startsWith("mutation") ? gw : gw.as(reader); // revokeApiKey is the admin's
      expect(codesOf(await as.raw(query, variables)), query).toEqual(["BAD_USER_INPUT"]);
    }
    const verify = dataOf(await gw.raw("{ verifyChain { ok } }")) as { verifyChain: { ok: boolean } };
    expect(verify.verifyChain.ok).toBe(true);
  });

  it("takes identifiers of up to 1,024 UTF-8 bytes and refuses longer ones with BAD_USER_INPUT (an index entry PostgreSQL cannot hold)", async () => {
    const cjk = (n: number, tag: string) => `${tag}${"審".repeat(n)}`; // 3 bytes a character
    const fits = (tag: string) => cjk((1_024 - tag.length) / 3, tag); // exactly 1,024 bytes
    const before = (await count()).traces.totalCount;
    const record = (override: Record<string, unknown>) =>
      gw.as(writer).raw(`mutation($input: [TraceInput!]!) { recordTraces(input: $input) { seq } }`, {
        input: [{ actionId: `bytes-${Object.keys(override).join()}`, capabilityId: "c", principalId: "alice", invokedAt: "2026-11-22T09:00:00Z", responseMode: "SUMMARY", ...override }],
      });
    // 1,000 characters are within the character limit, but take 3,000 bytes.
    for (const field of ["actionId", "principalId", "capabilityId", "reasonCode"]) {
      const res = await record({ [field]: cjk(1_000, "x"), ...(field === "reasonCode" ? { eventType: "DENY" } : {}) });
      expect(codesOf(res), field).toEqual(["BAD_USER_INPUT"]);
      expect(res.errors?.[0]?.message).toMatch(/bytes in UTF-8/);
    }
    expect((await count()).traces.totalCount).toBe(before);
    // Exactly 1,024 bytes in every indexed identifier of one trace is stored and served.
    const actionId = fits("a");
    const stored = await gw.as(writer).raw(`mutation($input: [TraceInput!]!) { recordTraces(input: $input) { seq } }`, {
      input: [{ actionId, capabilityId: fits("c"), principalId: fits("p"), reasonCode: fits("r"), eventType: "DENY", invokedAt: "2026-11-22T09:00:00Z", responseMode: "SUMMARY" }],
    });
    expect(codesOf(stored)).toEqual([]);
    const found = dataOf(await gw.raw(`query($a: String!) { trace(actionId: $a) { principalId } }`, { a: actionId })) as { trace: { principalId: string } };
    expect(found.trace.principalId).toBe(fits("p"));
    // Revocation ids: a token bound to a principal holds two identifiers in one index entry.
    const track = `mutation($t: String!, $p: String!) { trackToken(tokenId: $t, principalId: $p, expiresAt: "2030-01-01T00:00:00Z") { revocation { tokenId } } }`;
    expect(codesOf(await gw.raw(track, { t: fits("t"), p: fits("p") }))).toEqual([]);
    expect(codesOf(await gw.raw(track, { t: cjk(1_000, "t"), p: "alice" }))).toEqual(["BAD_USER_INPUT"]);
    expect(codesOf(await gw.raw(`mutation($t: String!) { revokeToken(tokenId: $t) { newlyRevoked } }`, { t: cjk(1_000, "u") }))).toEqual(["BAD_USER_INPUT"]);
    const verify = dataOf(await gw.raw("{ verifyChain { ok } }")) as { verifyChain: { ok: boolean } };
    expect(verify.verifyChain.ok).toBe(true);
  });
});

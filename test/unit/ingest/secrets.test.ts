/** Secret redaction before hashing: patterns, JSON paths, sensitive keys, idempotence, linear time. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { JsonObject, JsonValue } from "../../../src/chain/json.js";
import {
  SECRET_PATTERNS,
  findRedactionMarkers,
  redactJson,
  isSensitiveKey,
  MAX_PASSES,
  redactText,
  redactionMarker,
  textSize,
} from "../../../src/ingest/secrets.js";

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
const PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn\n-----END RSA PRIVATE KEY-----";

/** One or more real-looking secrets per kind, each of which must be redacted whole. */
const POSITIVE: Record<string, string[]> = {
  "aws-access-key-id": ["AKIAIOSFODNN7EXAMPLE", "ASIAY34FZKBOKMUTVV7A", "ABIA0123456789ABCDEF", "ACCA0123456789ABCDEF"],
  "bearer-token": ["Bearer abcDEF123456.xyz", "bearer   0123456789abcdef==", "BEARER a-b_c.d~e+f/g"],
  // user:pass, aladdin:opensesame, and a UTF-8 password with a colon in it.
  "basic-auth": ["Basic dXNlcjpwYXNz", "basic YWxhZGRpbjpvcGVuc2VzYW1l", `BASIC ${Buffer.from("jörg:pa:ss").toString("base64")}`],
  "private-key": [PEM, "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkq\n-----END ENCRYPTED PRIVATE KEY-----"],
  "github-token": ["ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "ghs_" + "a1".repeat(20), "github_pat_11ABCDEFG0123456789_abcdefghijklmnop"],
  "slack-token": ["xoxb-1234567890-abcdefghij", "xoxp-0000000000"],
  "anthropic-api-key": ["sk-ant-api03-abcdefghijklmnopqrstuvwxyz_0123"],
  "openai-api-key": ["sk-abcdefghijklmnopqrstuvwxyz", "sk-proj-abcdefghijklmnopqrstuvwxyz012345"],
  "stripe-key": ["sk_live_abcdefghijklmnop1234", "rk_test_0123456789ABCDEF"],
  "google-api-key": ["AIza" + "SyD-abc_123".padEnd(35, "x")],
  jwt: [JWT],
  "tracegate-api-key": ["tgk_" + "Ab0-_".repeat(8) + "xyz"],
};

/** Lookalikes that must be left alone: the secret prefix inside a word, too short, too long, wrong shape. */
const NEGATIVE: Record<string, string[]> = {
  "aws-access-key-id": ["TAKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPL", "AKIAIOSFODNN7EXAMPLEX", "AKIAiosfodnn7example", "the AKIA prefix"],
  "bearer-token": ["the bearer of bad news", "Bearer", "Bearer short", "forbearer abcdefghijk", "Bearer [REDACTED]"],
  // Prose, a token without user:password inside, a binary one, too short, inside a word.
  "basic-auth": ["Basic features", "basic authentication", "Basic dXNlcnBhc3M=", "Basic AAECAwQFBgc6", "Basic dTpw", "xBasic dXNlcjpwYXNz"],
  "private-key": ["-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----", "BEGIN RSA PRIVATE KEY", "-----BEGIN CERTIFICATE-----"],
  "github-token": ["ghp_short", "xghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "github_pat_tooshort"],
  "slack-token": ["xoxb-123", "xoxz-1234567890abc", "foxoxb-1234567890abc"],
  "anthropic-api-key": ["sk-ant-short"],
  "openai-api-key": ["sk-abc", "task-abcdefghijklmnopqrstuvwxyz", "risk-assessment", "desk-lamp"],
  "stripe-key": ["sk_live_short", "pk_live_abcdefghijklmnop1234", "ask_live_abcdefghijklmnop1234"],
  "google-api-key": ["AIza" + "x".repeat(34), "AIza" + "x".repeat(36), "xAIza" + "x".repeat(35)],
  jwt: ["eyJhbGciOiJIUzI1NiJ9.payload.signature123", "eyJabc.eyJabc.abcdefghijkl", "1.2.3", "xeyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVm"],
  "tracegate-api-key": ["tgk_" + "a".repeat(42), "tgk_" + "a".repeat(44), "xtgk_" + "a".repeat(43)],
};

const marker = redactionMarker;

// ---------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------

describe("SECRET_PATTERNS", () => {
  it("has unique kebab-case kinds, a description each, and flag-free, group-free regexes", () => {
    const kinds = SECRET_PATTERNS.map((p) => p.kind);
    expect(new Set(kinds).size).toBe(kinds.length);
    // url-password replaces only the password inside a URL, so it has tests of its own below.
    expect(kinds.sort()).toEqual([...Object.keys(POSITIVE), "url-password"].sort());
    for (const p of SECRET_PATTERNS) {
      expect(p.kind).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
      expect(p.description.length).toBeGreaterThan(0);
      expect(p.regex.flags).toBe("");
      // A pattern with capturing groups would shift the combined scanner's group numbers.
      expect(new RegExp(`|${p.regex.source}`).exec("")?.length, p.kind).toBe(1);
    }
  });
});

describe("redactText", () => {
  for (const [kind, samples] of Object.entries(POSITIVE)) {
    it(`redacts ${kind}`, () => {
      for (const secret of samples) {
        expect(redactText(`before ${secret} after`), secret).toEqual({ text: `before ${marker(kind)} after`, kinds: [kind] });
        expect(redactText(`key=${secret}`).kinds, secret).toEqual([kind]);
      }
    });
  }

  for (const [kind, samples] of Object.entries(NEGATIVE)) {
    it(`leaves ${kind} lookalikes alone`, () => {
      for (const text of samples) expect(redactText(text), text).toEqual({ text, kinds: [] });
    });
  }

  it("redacts the word Bearer together with its token", () => {
    expect(redactText("Authorization: Bearer abcDEF123456.xyz").text).toBe(`Authorization: ${marker("bearer-token")}`);
  });

  it("prefers anthropic over openai for sk-ant- and keeps surrounding text", () => {
    const anthropic = POSITIVE["anthropic-api-key"]![0]!;
    const openai = POSITIVE["openai-api-key"]![1]!;
    expect(redactText(`a=${anthropic}, b=${openai}.`)).toEqual({
      text: `a=${marker("anthropic-api-key")}, b=${marker("openai-api-key")}.`,
      kinds: ["anthropic-api-key", "openai-api-key"],
    });
  });

  it("redacts an unterminated private key block to the end and stops at the END line otherwise", () => {
    expect(redactText("key:\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI...").text).toBe(`key:\n${marker("private-key")}`);
    expect(redactText(`${PEM}\nnext line`).text).toBe(`${marker("private-key")}\nnext line`);
    expect(redactText(`${PEM} and ${PEM}`).kinds).toEqual(["private-key", "private-key"]);
  });

  it("reports repeated kinds in order", () => {
    const aws = POSITIVE["aws-access-key-id"]![0]!;
    expect(redactText(`${aws} ${JWT} ${aws}`).kinds).toEqual(["aws-access-key-id", "jwt", "aws-access-key-id"]);
  });

  it("leaves existing markers alone, including the reference's bare [REDACTED]", () => {
    const text = `x=[REDACTED] y=${marker("jwt")} z=[REDACTED:sensitive-key]`;
    expect(redactText(text)).toEqual({ text, kinds: [] });
  });

  it("catches a secret that only becomes separable once its neighbour is redacted", () => {
    const once = redactText(`${PEM}${JWT}`);
    expect(once).toEqual({ text: marker("private-key") + marker("jwt"), kinds: ["private-key", "jwt"] });
    expect(redactText(once.text).kinds).toEqual([]);
  });

  it("redacts HTTP Basic credentials only when they decode to user:password", () => {
    expect(redactText("Authorization: Basic dXNlcjpwYXNz").text).toBe(`Authorization: ${marker("basic-auth")}`);
    // Prose after "basic" is kept, but still scanned for other shapes.
    expect(redactText("basic AKIAIOSFODNN7EXAMPLE here")).toEqual({ text: `basic ${marker("aws-access-key-id")} here`, kinds: ["aws-access-key-id"] });
  });

  it("redacts the password of a URL's userinfo, keeping scheme, user and host", () => {
    const url = (s: string) => redactText(s);
    const pw = marker("url-password");
    expect(url("postgres://user:pass@host/db")).toEqual({ text: `postgres://user:${pw}@host/db`, kinds: ["url-password"] });
    expect(url("DATABASE_URL=postgresql://app:s3cr%40t-x@db.internal:5432/audit?sslmode=require").text).toBe(
      `DATABASE_URL=postgresql://app:${pw}@db.internal:5432/audit?sslmode=require`,
    );
    expect(url("redis://:hunter2@cache:6379/0").text).toBe(`redis://:${pw}@cache:6379/0`);
    expect(url("see ftp://u:p@h and https://x:y@z").kinds).toEqual(["url-password", "url-password"]);
    for (const clean of ["http://host:8080/path", "https://example.com/a:b@c", "mailto:user@example.com", "user:pass@host", "://:@", "1http://u:p@h"]) {
      expect(url(clean), clean).toEqual({ text: clean, kinds: [] });
    }
    // Idempotent: the marker sits where the password was and is never rescanned.
    expect(url(`postgres://user:${pw}@host/db`).kinds).toEqual([]);
  });

  it("redacts glued Google-key shapes without a pass per key (issue 14, case 2)", () => {
    const unit = "AIza" + "SyA1234567890abcdefghijklmnopqrst" + "u-";
    expect(unit.length).toBe(39);
    const once = redactText(unit.repeat(50));
    // Only the last one is a key by its boundaries (the others run into the next "AIza");
    // redacting it does not make the previous one end, so a second redaction finds nothing.
    expect(once).toEqual({ text: unit.repeat(49) + marker("google-api-key"), kinds: ["google-api-key"] });
    expect(redactText(once.text).kinds).toEqual([]);
    expect(MAX_PASSES).toBe(3);
  });

  it("finishes hostile 100 kB inputs (linear-time patterns)", () => {
    const n = 100_000;
    const hostile = [
      "eyJ_".repeat(n / 4),
      "eyJa.".repeat(n / 5),
      "Bearer" + " ".repeat(n),
      "[REDACTED:" + "a".repeat(n),
      "-----BEGIN RSA ".repeat(n / 15),
      "AIza".repeat(n / 4),
      "tgk_".repeat(n / 4),
      "a://" + "u".repeat(200) + ":" + "p".repeat(n),
      ("x://" + "u:").repeat(n / 6),
      "Basic " + "QUJD".repeat(n / 4),
    ];
    for (const text of hostile) expect(redactText(text), text.slice(0, 20)).toEqual({ text, kinds: [] });
    const open = "-----BEGIN PRIVATE KEY-----" + "-----END ".repeat(n / 9);
    expect(redactText(open)).toEqual({ text: marker("private-key"), kinds: ["private-key"] });
  });
});

describe("redactionMarker", () => {
  it("formats kebab-case kinds and refuses anything the marker scanner could not read back", () => {
    expect(redactionMarker("aws-access-key-id")).toBe("[REDACTED:aws-access-key-id]");
    expect(() => redactionMarker("Not Kebab")).toThrow(RangeError);
    expect(() => redactionMarker("")).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

/** Freezes every container so any write by the code under test throws (ESM is strict mode). */
function deepFreeze<T extends JsonValue>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe("redactJson", () => {
  const aws = POSITIVE["aws-access-key-id"]![0]!;

  it("redacts matching substrings with JSON paths for nested objects, arrays and odd keys", () => {
    const input = deepFreeze<JsonValue>({
      a: { b: `id ${aws}` },
      list: [JWT, "plain", { deep: [1n, `token ${JWT} and ${aws}`] }],
      "weird key": aws,
      'q"uote': aws,
      "0": aws,
    });
    const { value, redactions } = redactJson(input, "args");
    expect(value).toEqual({
      a: { b: `id ${marker("aws-access-key-id")}` },
      list: [marker("jwt"), "plain", { deep: [1n, `token ${marker("jwt")} and ${marker("aws-access-key-id")}`] }],
      "weird key": marker("aws-access-key-id"),
      'q"uote': marker("aws-access-key-id"),
      "0": marker("aws-access-key-id"),
    });
    expect(redactions).toEqual([
      { path: 'args["0"]', kind: "aws-access-key-id" },
      { path: "args.a.b", kind: "aws-access-key-id" },
      { path: "args.list[0]", kind: "jwt" },
      { path: "args.list[2].deep[1]", kind: "jwt" },
      { path: "args.list[2].deep[1]", kind: "aws-access-key-id" },
      { path: 'args["weird key"]', kind: "aws-access-key-id" },
      { path: 'args["q\\"uote"]', kind: "aws-access-key-id" },
    ]);
  });

  it("uses basePath as is for a top-level string and omits the dot for an empty base", () => {
    expect(redactJson(`boom: ${aws}`, "error").redactions).toEqual([{ path: "error", kind: "aws-access-key-id" }]);
    expect(redactJson({ x: [aws] }, "").redactions).toEqual([{ path: "x[0]", kind: "aws-access-key-id" }]);
  });

  it("replaces whole non-empty strings under sensitive keys, whatever their spelling", () => {
    const input = deepFreeze<JsonValue>({
      headers: { Authorization: "Basic dXNlcjpwYXNz", "Set-Cookie": "sid=1", "X-Request-Id": "r-1" },
      password: "hunter2",
      CLIENT_SECRET: "x",
      api_key: "",
      accessToken: null,
      refresh_token: 42,
      session_token: false,
      private_key: { pem: "abc", n: 3.5, parts: ["p", ""] },
      passwordHint: "not sensitive",
    });
    const { value, redactions } = redactJson(input, "args");
    const m = marker("sensitive-key");
    expect(value).toEqual({
      headers: { Authorization: m, "Set-Cookie": m, "X-Request-Id": "r-1" },
      password: m,
      CLIENT_SECRET: m,
      api_key: "",
      accessToken: null,
      refresh_token: m,
      session_token: false,
      private_key: { pem: m, n: m, parts: [m, ""] },
      passwordHint: "not sensitive",
    });
    expect(redactions).toEqual(
      [
        "args.headers.Authorization",
        'args.headers["Set-Cookie"]',
        "args.password",
        "args.CLIENT_SECRET",
        "args.refresh_token",
        "args.private_key.pem",
        "args.private_key.n",
        "args.private_key.parts[0]",
      ].map(
        (path) => ({ path, kind: "sensitive-key" }),
      ),
    );
  });

  it("redacts the credential key shapes of issue 14, case 9, numbers included", () => {
    const input = deepFreeze<JsonValue>({
      db_password: "pg-pass",
      secret_key: "s3",
      AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      password: 123456,
      pin: { password: 12345678901234567890n },
      csrfToken: "c",
      "X-Api-Key": "k",
      AWS_ACCESS_KEY_ID: "id-is-public",
      token_count: 3,
      max_tokens: 100,
      tokenId: "t-1",
      secret_name: "prod/db",
      ok: true,
    });
    const m = marker("sensitive-key");
    expect(redactJson(input, "args").value).toEqual({
      db_password: m,
      secret_key: m,
      AWS_SECRET_ACCESS_KEY: m,
      password: m,
      pin: { password: m },
      csrfToken: m,
      "X-Api-Key": m,
      AWS_ACCESS_KEY_ID: "id-is-public",
      token_count: 3,
      max_tokens: 100,
      tokenId: "t-1",
      secret_name: "prod/db",
      ok: true,
    });
  });

  it("classifies key names by their last word", () => {
    for (const k of ["db_password", "DB_PASS", "userPassword", "secret_key", "AWS_SECRET_ACCESS_KEY", "apiKey", "x-api-key", "signing.key", "client-secret", "refreshToken", "Cookie", "passphrase", "git_credentials"]) {
      expect(isSensitiveKey(k), k).toBe(true);
    }
    for (const k of ["passwordHint", "password_policy", "secret_name", "secretArn", "token_count", "max_tokens", "tokenId", "access_key_id", "key", "primary_key", "sort-key", "monkey", "passenger", ""]) {
      expect(isSensitiveKey(k), k).toBe(false);
    }
  });

  it("counts the text a scan would cover, stopping past a limit", () => {
    expect(textSize({ ab: "cde", list: ["f", 1, { g: "hi" }] })).toBe(2 + 3 + 4 + 1 + 1 + 2);
    expect(textSize("x".repeat(100), 10)).toBeGreaterThan(10);
    expect(textSize(Array.from({ length: 200_000 }, () => "ab"))).toBe(400_000);
  });

  it("keeps a marker already sitting under a sensitive key", () => {
    const input = { password: "[REDACTED]", cookie: marker("sensitive-key"), secret: `${marker("jwt")} extra` };
    expect(redactJson(input, "args")).toEqual({
      value: { ...input, secret: marker("sensitive-key") },
      redactions: [{ path: "args.secret", kind: "sensitive-key" }],
    });
  });

  it("leaves numbers, bigints, booleans and null untouched and shares unchanged values", () => {
    const clean: JsonObject = { big: 123456789012345678901234567890n, f: 1.5, nan: NaN, neg: -0, t: true, z: null, s: "ok", l: [1n] };
    expect(redactJson(clean, "args")).toEqual({ value: clean, redactions: [] });
    expect(redactJson(clean, "args").value).toBe(clean);
    const input = { clean, dirty: aws };
    const out = redactJson(input, "args").value as JsonObject;
    expect(out).not.toBe(input);
    expect(out.clean).toBe(clean);
    expect(Object.is((out.clean as JsonObject).neg, -0)).toBe(true);
  });

  it("keeps a __proto__ key as data", () => {
    const input = JSON.parse(`{"__proto__": {"password": "p"}, "k": "v"}`) as JsonObject;
    const out = redactJson(input, "args");
    expect(Object.getPrototypeOf(out.value)).toBe(Object.prototype);
    expect(Object.keys(out.value as JsonObject)).toEqual(["__proto__", "k"]);
    expect(out.redactions).toEqual([{ path: "args.__proto__.password", kind: "sensitive-key" }]);
  });
});

describe("findRedactionMarkers", () => {
  it("reports markers with their paths and the bare reference marker as unknown", () => {
    const value = { a: [`x ${marker("jwt")} y [REDACTED]`], "b c": { d: marker("sensitive-key") }, n: 1n };
    expect(findRedactionMarkers(value, "args")).toEqual([
      { path: "args.a[0]", kind: "jwt" },
      { path: "args.a[0]", kind: "unknown" },
      { path: 'args["b c"].d', kind: "sensitive-key" },
    ]);
  });
});

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

const SECRETS = Object.values(POSITIVE).flat();
const KEYS = ["note", "password", "Authorization", "api-key", "weird key", "items", "0"];

/** Strings that are plain, or carry an existing marker or a secret between spaces. */
const text = (markers: boolean) =>
  fc.oneof(
    fc.string(),
    fc
      .tuple(fc.string(), fc.constantFrom(...SECRETS, ...(markers ? ["[REDACTED]", marker("jwt")] : [])), fc.string())
      .map(([a, s, b]) => `${a} ${s} ${b}`),
  );

const json = (markers: boolean): fc.Arbitrary<JsonValue> =>
  fc.letrec<{ value: JsonValue }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      text(markers),
      fc.bigInt(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string()), tie("value"), { maxKeys: 4 }),
    ),
  })).value;

describe("properties", () => {
  it("redaction is idempotent and never mutates its input", () => {
    fc.assert(
      fc.property(json(true), (input) => {
        const before = structuredClone(input);
        const once = redactJson(input, "args");
        expect(input).toEqual(before);
        const twice = redactJson(once.value, "args");
        expect(twice.redactions).toEqual([]);
        expect(twice.value).toBe(once.value);
      }),
      { numRuns: 500 },
    );
  });

  it("leaves no injected secret behind, and the markers found are the redactions made", () => {
    const strings = (v: JsonValue): string[] =>
      typeof v === "string" ? [v] : v !== null && typeof v === "object" ? Object.values(v).flatMap(strings) : [];
    const key = (r: { path: string; kind: string }) => `${r.path}\u0000${r.kind}`;
    fc.assert(
      fc.property(json(false), (input) => {
        const { value, redactions } = redactJson(input, "args");
        for (const s of strings(value)) for (const secret of SECRETS) expect(s).not.toContain(secret);
        expect(findRedactionMarkers(value, "args").map(key).sort()).toEqual(redactions.map(key).sort());
      }),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------
// Linear time (issue 14, case 2)
// ---------------------------------------------------------------------------

/** Fastest of a few runs, in ms: the minimum is the least disturbed by other processes. */
/**
 * Best CPU time of `runs` calls, in ms. CPU time of this process (vitest runs each file in its
 * own fork), not wall time: a busy machine preempts a long call more often than a short one,
 * which inflates wall-time ratios, but it does not change the work a call does.
 */
function timeOf(fn: () => void, runs = 3): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t = process.cpuUsage();
    fn();
    const used = process.cpuUsage(t);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

/** Units that stress one pattern each (runs, glued keys, unterminated shapes), and random text over the patterns' alphabet. */
const HOSTILE_UNITS = [
  "AIza" + "SyA1234567890abcdefghijklmnopqrst" + "u-",
  "AKIA" + "A".repeat(16) + "-",
  "tgk_" + "a".repeat(43) + "-",
  "eyJ_",
  "eyJa.",
  "eyJabcdefgh.eyJabcdefgh.",
  "Bearer ",
  "Basic QUJD",
  "[REDACTED:",
  "-----BEGIN RSA ",
  "-----END PRIVATE KEY-----eyJ",
  "x://u:",
  "a://" + "u".repeat(40) + ":",
  "sk-ant-",
  "xoxb-",
  "ghp_",
];
const hostileUnit = fc.oneof(
  fc.constantFrom(...HOSTILE_UNITS),
  fc.array(fc.constantFrom(...HOSTILE_UNITS), { minLength: 2, maxLength: 4 }).map((parts) => parts.join("")),
  fc.stringMatching(/^[A-Za-z0-9_\-.:/@=[\] ]{1,60}$/),
);

describe("linear time", () => {
  it("redaction time grows linearly with the input: time(16n) / time(n) stays far below quadratic's 256", () => {
    const SMALL = 24_000;
    fc.assert(
      fc.property(hostileUnit, (unit) => {
        const small = unit.repeat(Math.ceil(SMALL / unit.length));
        const large = unit.repeat(Math.ceil((16 * SMALL) / unit.length));
        redactJson({ blob: small }, "args"); // warm up
        // Interleaved, best of 7 each: a busy spell slows both sizes alike instead of one.
        let tSmall = Number.POSITIVE_INFINITY;
        let tLarge = Number.POSITIVE_INFINITY;
        for (let round = 0; round < 7; round++) {
          tSmall = Math.min(tSmall, timeOf(() => redactJson({ blob: small }, "args"), 1));
          tLarge = Math.min(tLarge, timeOf(() => redactJson({ blob: large }, "args"), 1));
        }
        tSmall = Math.max(tSmall, 0.5);
        // Linear is about 16 and quadratic about 256: the bound of 80 tells them apart with
        // room for GC pauses and a core shared with other work (a ratio, never a duration).
        expect(tLarge / tSmall, JSON.stringify(unit)).toBeLessThan(80);
      }),
      { numRuns: 40 },
    );
  });

  it("the issue's 39-character Google-key shape: 624 KB costs about 5x 117 KB, not 28x", () => {
    const unit = HOSTILE_UNITS[0]!;
    const at = (bytes: number) => unit.repeat(Math.ceil(bytes / unit.length));
    const small = at(117_000);
    const large = at(624_000);
    redactJson({ blob: small }, "args");
    expect(timeOf(() => redactJson({ blob: large }, "args")) / timeOf(() => redactJson({ blob: small }, "args"))).toBeLessThan(12);
  });
});

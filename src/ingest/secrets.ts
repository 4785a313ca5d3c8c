/**
 * Secret redaction for audit traces, applied before a trace is hashed into the chain: once a
 * value is chained it can never be removed without breaking verification, so a leaked key
 * must be caught here or it is stored forever.
 *
 * Linear time, whatever the input (issue 14, case 2). The scanner is V8's backtracking
 * engine, so every pattern is written to be linear on its own:
 * - no nested quantifiers; every unbounded run is either followed by nothing that can fail
 *   (`{20,}` then the end of the pattern) or gated by a start lookbehind covering its whole
 *   character class (JWT), so each run of such characters is scanned from one start only;
 * - every lookbehind has a bounded length (the URL password's `scheme://user:` is at most
 *   ~290 characters), so evaluating it costs a constant per position;
 * - fixed-length bodies end in a lookahead of one character.
 * A pass of the joint scanner is therefore linear in the text. Redaction repeats passes
 * while a pass finds something new (a marker can turn a neighbour into a word boundary: a
 * JWT glued to a PEM END line's dashes only starts a token once the PEM is a marker), but at
 * most MAX_PASSES times: the earlier version looped until nothing changed, and a chain of
 * Google-key shapes glued by `-` needed one pass per key (624 KB took 104 s). Two things
 * make the cap harmless: a marker counts, for the fixed-length patterns' lookaheads, as the
 * secret it replaced (`(?!…|\[REDACTED)`), so redacting a key never makes the key before it
 * "end" and no chain of passes can start from the right; and with the patterns below a new
 * match after pass 1 can only start right after a private-key block's END dashes (the only
 * match ending in a character that blocks a start and followed by something a pattern can
 * start with), which pass 2 finds and pass 3 confirms. The idempotence property test
 * (test/unit/ingest/secrets.test.ts) checks that a second redaction finds nothing.
 *
 * Bounded input: a trace carries at most MAX_SCANNED_CHARS characters of text to scan (see
 * textSize; src/app/ingest.ts refuses a larger trace rather than store unscanned
 * text in a chain that can never forget it).
 *
 * Most starts use a letter/digit lookbehind so that `AKIA`, `sk-` etc. do not fire inside
 * ordinary words, while `_`, `-`, `=`, `:` count as separators.
 *
 * Bearer tokens: the word "Bearer" is redacted together with the token
 * (`Authorization: [REDACTED:bearer-token]`), so every redaction is one whole match replaced
 * by one marker. Any word of 8+ token characters after "bearer" counts, so prose such as
 * "bearer instruments" is over-redacted; that is the cheaper mistake. "Basic" is a common
 * word, so a Basic credential is only redacted when its base64 decodes to `user:password`.
 *
 * Rule sources (issue 14, case 9): the token shapes follow gitleaks' default rules
 * (config/gitleaks.toml: aws-access-token, github-pat, slack tokens, gcp-api-key, jwt,
 * private-key, ...); URL userinfo passwords follow detect-secrets' BasicAuthDetector
 * (`://user:password@`); sensitive key names follow detect-secrets' KeywordDetector deny
 * list (password, passwd, pwd, secret, api_key, auth_key, private_key, ...) and gitleaks'
 * generic-api-key keywords (key, api, token, secret, client, password, auth), narrowed to
 * the key's last word so that `passwordHint` or `token_count` stay readable.
 *
 * Paths: `base.key` for identifier-like keys, `base["any key"]` (JSON string) otherwise,
 * `base[3]` for array items; with an empty base the first key has no leading dot.
 */
import { isJsonObject, type JsonValue } from "../chain/json.js";

/** One kind of secret the scanner knows. `regex` has no flags and no capturing groups, so all patterns can be joined into one scanner. */
export interface SecretPattern {
  kind: string;
  regex: RegExp;
  description: string;
}

/** Not preceded by a letter or digit: keeps `AKIA` in "TAKIAN..." and `sk-` in "task-..." from firing. */
const START = "(?<![A-Za-z0-9])";
/** After a fixed-length body: a marker right after it stands for the secret it replaced (see the header). */
const MARKER_AHEAD = "|\\[REDACTED";
/** Base64 characters of a Basic credential. */
const B64 = "[A-Za-z0-9+/]";

/** In priority order: at one position the earlier pattern wins (so `sk-ant-` is Anthropic, not OpenAI). */
export const SECRET_PATTERNS: readonly SecretPattern[] = [
  // An unterminated block runs to the end of the text: a truncated key is still a key.
  {
    kind: "private-key",
    description: "PEM private key block, through its END line or to the end of the text",
    regex: /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----|[\s\S]*)/,
  },
  { kind: "aws-access-key-id", description: "AWS access key id", regex: new RegExp(`${START}(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![A-Za-z0-9]${MARKER_AHEAD})`) },
  // "bearer" is spelled out case-insensitively: the joint scanner is one regex and cannot take the `i` flag.
  { kind: "bearer-token", description: "Bearer credential", regex: new RegExp(`${START}[Bb][Ee][Aa][Rr][Ee][Rr][ \\t]+[A-Za-z0-9\\-._~+/]{8,}=*`) },
  // RFC 7617: base64 of "user:password", padded to a multiple of 4. Whether it decodes to
  // user:password is checked in code (isBasicCredential): "Basic features" is prose.
  {
    kind: "basic-auth",
    description: "HTTP Basic credential (base64 of user:password)",
    regex: new RegExp(`${START}[Bb][Aa][Ss][Ii][Cc][ \\t]+(?:${B64}{4}){2,}(?:${B64}{2}==|${B64}{3}=)?(?![A-Za-z0-9+/=])`),
  },
  { kind: "github-token", description: "GitHub token", regex: new RegExp(`${START}(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})`) },
  { kind: "slack-token", description: "Slack token", regex: new RegExp(`${START}xox[bpaosr]-[A-Za-z0-9-]{10,}`) },
  { kind: "anthropic-api-key", description: "Anthropic API key", regex: new RegExp(`${START}sk-ant-[A-Za-z0-9_-]{20,}`) },
  { kind: "openai-api-key", description: "OpenAI API key", regex: new RegExp(`${START}sk-(?:proj-)?[A-Za-z0-9_-]{20,}`) },
  { kind: "stripe-key", description: "Stripe secret or restricted key", regex: new RegExp(`${START}[rs]k_(?:live|test)_[A-Za-z0-9]{16,}`) },
  { kind: "google-api-key", description: "Google API key", regex: new RegExp(`${START}AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-]${MARKER_AHEAD})`) },
  // The wider lookbehind keeps "eyJ_eyJ_eyJ_..." linear: the first segment may scan a whole run
  // before failing on the missing dot, so only the run's first character may start a match.
  { kind: "jwt", description: "JSON Web Token", regex: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{7,}\.eyJ[A-Za-z0-9_-]{7,}\.[A-Za-z0-9_-]{10,}/ },
  { kind: "tracegate-api-key", description: "tracegate API key", regex: new RegExp(`${START}tgk_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-]${MARKER_AHEAD})`) },
  // Only the password is replaced: `postgres://app:[REDACTED:url-password]@db/x` still says
  // which user and host. Bounded lookbehind (scheme <= 32, user <= 256 characters), so it
  // costs a constant per position; the password runs to the `@` (at most 256 characters).
  {
    kind: "url-password",
    description: "password in a URL's userinfo (scheme://user:password@host)",
    regex: /(?<=(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/[^\s/?#@:[\]]{0,256}:)[^\s/?#@[\]]{1,256}(?=@)/,
  },
];

/** Kind recorded for values redacted because of their key name rather than their content. */
const SENSITIVE_KEY_KIND = "sensitive-key";

/** Kind reported by `findRedactionMarkers` for the reference implementation's bare `[REDACTED]`. */
const UNKNOWN_KIND = "unknown";

/** Whole key names (lowercase, separators removed) that are sensitive whatever their words. */
const SENSITIVE_KEYS = new Set([
  "password", "passwd", "secret", "clientsecret", "apikey", "accesstoken", "refreshtoken",
  "authorization", "privatekey", "sessiontoken", "cookie", "setcookie", "xapikey", "proxyauthorization",
]);

/** A key whose last word is one of these holds a credential: `db_password`, `CLIENT_SECRET`, `csrf-token`. */
const SECRET_LAST_WORDS = new Set([
  "password", "passwd", "pwd", "passphrase", "secret", "token", "credential", "credentials",
  "apikey", "privatekey", "cookie", "authorization", "pass",
]);

/** A key ending in `key`/`value` holds a credential when an earlier word is one of these: `secret_key`, `AWS_SECRET_ACCESS_KEY`, `x-api-key`. */
const SECRET_QUALIFIERS = new Set(["secret", "password", "passwd", "private", "api", "auth", "signing", "encryption", "master", "session"]);

/** Longest key name looked at word by word; longer keys are still checked against SENSITIVE_KEYS. */
const MAX_KEY_WORDS_LENGTH = 256;

const MARKER = /\[REDACTED(?::[a-z0-9-]+)?\]/;
const WHOLE_MARKER = new RegExp(`^${MARKER.source}$`);
const MARKERS_WITH_KIND = /\[REDACTED(?::([a-z0-9-]+))?\]/g;
const KIND = /^[a-z0-9-]+$/;

/** Markers come first so existing ones are consumed whole and never rescanned; group i+1 is SECRET_PATTERNS[i]. */
const SCANNER = new RegExp([MARKER.source, ...SECRET_PATTERNS.map((p) => `(${p.regex.source})`)].join("|"), "g");

/** Most passes of the scanner over one text (see the header for why 3 is enough). */
export const MAX_PASSES = 3;

/**
 * Most characters of text (string values and object keys of args and resultSummary, plus
 * error) scanned for one trace: 1 MiB of UTF-16 code units, far above real tool arguments
 * and still a few milliseconds of scanning. Enforced by the caller (scrubSecrets in
 * src/app/ingest.ts), which refuses a larger trace.
 */
export const MAX_SCANNED_CHARS = 1024 * 1024;

/** The marker text for a kind, e.g. `[REDACTED:aws-access-key-id]`. Kinds are kebab-case so markers stay recognisable when read back. */
export function redactionMarker(kind: string): string {
  if (!KIND.test(kind)) throw new RangeError(`Invalid redaction kind: ${JSON.stringify(kind)}`);
  return `[REDACTED:${kind}]`;
}

const BASIC_PREFIX = /^[A-Za-z]+[ \t]+/;
/** Printable `user:password` (UTF-8 allowed), as a Basic credential decodes. */
const USER_PASSWORD = /^[^\x00-\x1f\x7f:]*:[^\x00-\x1f\x7f]*$/;

/** Whether a basic-auth match ("Basic <base64>") decodes to user:password. */
function isBasicCredential(match: string): boolean {
  const token = match.replace(BASIC_PREFIX, "");
  return USER_PASSWORD.test(Buffer.from(token, "base64").toString("utf8"));
}

function redactOnce(text: string, kinds: string[]): string {
  return text.replace(SCANNER, (match: string, ...groups: unknown[]) => {
    const index = groups.findIndex((g, i) => i < SECRET_PATTERNS.length && g !== undefined);
    if (index < 0) return match; // an existing marker
    const kind = (SECRET_PATTERNS[index] as SecretPattern).kind;
    if (kind === "basic-auth" && !isBasicCredential(match)) {
      // Prose ("Basic features"): keep the word, but scan its token for other shapes (an AWS
      // key is base64 characters too). The token starts after a space, as it did here.
      const prefix = BASIC_PREFIX.exec(match)![0];
      return prefix + redactOnce(match.slice(prefix.length), kinds);
    }
    kinds.push(kind);
    return redactionMarker(kind);
  });
}

/**
 * Replace every secret-looking substring of `text` with `[REDACTED:<kind>]`; returns the new
 * text and the kinds found (in order, possibly repeated). Linear in the text's length:
 * at most MAX_PASSES linear passes (see the header).
 */
export function redactText(text: string): { text: string; kinds: string[] } {
  const kinds: string[] = [];
  let out = text;
  for (let pass = 0, found = -1; pass < MAX_PASSES && found !== kinds.length; pass++) {
    found = kinds.length;
    out = redactOnce(out, kinds);
  }
  return { text: out, kinds };
}

/** One redaction: where (a JSON path like `args.headers.Authorization` or `args.items[2]` or `error`) and what kind. */
export interface Redaction {
  path: string;
  kind: string;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function keyPath(base: string, key: string): string {
  if (!IDENTIFIER.test(key)) return `${base}[${JSON.stringify(key)}]`;
  return base === "" ? key : `${base}.${key}`;
}

/**
 * Whether values under this key name are credentials, whatever they look like: the whole
 * name is a known one (`x-api-key`), its last word is a secret noun (`db_password`,
 * `CLIENT_SECRET`, `csrfToken`), or it ends in key/value after a secret qualifier
 * (`secret_key`, `AWS_SECRET_ACCESS_KEY`). Words split at `_`, `-`, `.`, spaces, digits and
 * lower-to-upper case changes.
 */
export function isSensitiveKey(key: string): boolean {
  if (SENSITIVE_KEYS.has(key.toLowerCase().replace(/[-_]/g, ""))) return true;
  if (key.length > MAX_KEY_WORDS_LENGTH) return false;
  const words = key
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter((w) => w.length > 0);
  const last = words.at(-1);
  if (last === undefined) return false;
  if (SECRET_LAST_WORDS.has(last)) return true;
  if (words.length > 1 && SECRET_LAST_WORDS.has(words.slice(-2).join(""))) return true;
  return (last === "key" || last === "value") && words.slice(0, -1).some((w) => SECRET_QUALIFIERS.has(w));
}

/** A JSON path built only when a redaction needs it, so a deep tree costs no path strings. */
type LazyPath = () => string;

/** Copy-on-write map over a JSON tree's leaves: containers are rebuilt only when a child changed. */
function mapLeaves(
  value: JsonValue,
  path: LazyPath,
  sensitive: boolean,
  onLeaf: (v: string | number | bigint, path: LazyPath, sensitive: boolean) => JsonValue,
): JsonValue {
  if (typeof value === "string" || typeof value === "number" || typeof value === "bigint") return onLeaf(value, path, sensitive);
  if (Array.isArray(value)) {
    const items = value.map((item, i) => mapLeaves(item, () => `${path()}[${i}]`, sensitive, onLeaf));
    return items.every((item, i) => Object.is(item, value[i])) ? value : items;
  }
  if (!isJsonObject(value)) return value;
  const entries = Object.entries(value);
  const mapped = entries.map(([k, v]): [string, JsonValue] => [k, mapLeaves(v, () => keyPath(path(), k), sensitive || isSensitiveKey(k), onLeaf)]);
  // fromEntries defines own properties, so a "__proto__" key stays data instead of becoming the prototype.
  return mapped.every(([, v], i) => Object.is(v, entries[i]?.[1])) ? value : Object.fromEntries(mapped);
}

/**
 * Walk a JSON value: redact strings (matching substrings only) and whole values under sensitive
 * key names; returns a new value (input never mutated; unchanged subtrees may be shared) and the
 * list of redactions with paths. `basePath` prefixes paths.
 *
 * Under a sensitive key every non-empty string and every number becomes one `sensitive-key`
 * marker, whatever it contains (`password: 123456` is a password); booleans and null stay. A
 * leaf that is already exactly a marker is kept, so a second pass finds nothing.
 */
export function redactJson(value: JsonValue, basePath: string): { value: JsonValue; redactions: Redaction[] } {
  const redactions: Redaction[] = [];
  const out = mapLeaves(value, () => basePath, false, (v, path, sensitive) => {
    if (sensitive) {
      if (v === "" || (typeof v === "string" && WHOLE_MARKER.test(v))) return v;
      redactions.push({ path: path(), kind: SENSITIVE_KEY_KIND });
      return redactionMarker(SENSITIVE_KEY_KIND);
    }
    if (typeof v !== "string") return v;
    const { text, kinds } = redactText(v);
    if (kinds.length > 0) {
      const at = path();
      for (const kind of kinds) redactions.push({ path: at, kind });
    }
    return text;
  });
  return { value: out, redactions };
}

/**
 * How many characters redaction would scan in a JSON value: string values and object keys.
 * Stops counting once past `limit` (returns a number above it), so it is cheap on huge input.
 */
export function textSize(value: JsonValue, limit: number = Number.POSITIVE_INFINITY): number {
  let total = 0;
  const stack: JsonValue[] = [value];
  while (stack.length > 0 && total <= limit) {
    const v = stack.pop()!;
    if (typeof v === "string") total += v.length;
    else if (Array.isArray(v)) for (const item of v) stack.push(item);
    else if (v !== null && typeof v === "object") {
      for (const [k, child] of Object.entries(v)) {
        total += k.length;
        stack.push(child);
      }
    }
  }
  return total;
}

/**
 * Find redaction markers already present in a JSON value, to show which paths were redacted when
 * reading a stored trace. The reference implementation's bare `[REDACTED]` is reported as kind `unknown`.
 */
export function findRedactionMarkers(value: JsonValue, basePath: string): Redaction[] {
  const found: Redaction[] = [];
  mapLeaves(value, () => basePath, false, (s, path) => {
    if (typeof s === "string") for (const m of s.matchAll(MARKERS_WITH_KIND)) found.push({ path: path(), kind: m[1] ?? UNKNOWN_KIND });
    return s;
  });
  return found;
}

/**
 * Secret redaction for audit traces, applied before a trace is hashed into the chain: once a
 * value is chained it can never be removed without breaking verification, so a leaked key
 * must be caught here or it is stored forever.
 *
 * Every pattern is linear-time on hostile input: no nested quantifiers, fixed-length bodies
 * end in a lookahead, and every pattern that can fail after a long scan (JWT) has a start
 * lookbehind covering its whole character class, so each run of such characters is scanned
 * from one start only. Most starts use a letter/digit lookbehind so that `AKIA`, `sk-` etc.
 * do not fire inside ordinary words, while `_`, `-`, `=`, `:` count as separators.
 *
 * Bearer tokens: the word "Bearer" is redacted together with the token
 * (`Authorization: [REDACTED:bearer-token]`), so every redaction is one whole match replaced
 * by one marker. Any word of 8+ token characters after "bearer" counts, so prose such as
 * "bearer instruments" is over-redacted; that is the cheaper mistake.
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

/** In priority order: at one position the earlier pattern wins (so `sk-ant-` is Anthropic, not OpenAI). */
export const SECRET_PATTERNS: readonly SecretPattern[] = [
  // An unterminated block runs to the end of the text: a truncated key is still a key.
  {
    kind: "private-key",
    description: "PEM private key block, through its END line or to the end of the text",
    regex: /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----|[\s\S]*)/,
  },
  { kind: "aws-access-key-id", description: "AWS access key id", regex: new RegExp(`${START}(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![A-Za-z0-9])`) },
  // "bearer" is spelled out case-insensitively: the joint scanner is one regex and cannot take the `i` flag.
  { kind: "bearer-token", description: "Bearer credential", regex: new RegExp(`${START}[Bb][Ee][Aa][Rr][Ee][Rr][ \\t]+[A-Za-z0-9\\-._~+/]{8,}=*`) },
  { kind: "github-token", description: "GitHub token", regex: new RegExp(`${START}(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})`) },
  { kind: "slack-token", description: "Slack token", regex: new RegExp(`${START}xox[bpaosr]-[A-Za-z0-9-]{10,}`) },
  { kind: "anthropic-api-key", description: "Anthropic API key", regex: new RegExp(`${START}sk-ant-[A-Za-z0-9_-]{20,}`) },
  { kind: "openai-api-key", description: "OpenAI API key", regex: new RegExp(`${START}sk-(?:proj-)?[A-Za-z0-9_-]{20,}`) },
  { kind: "stripe-key", description: "Stripe secret or restricted key", regex: new RegExp(`${START}[rs]k_(?:live|test)_[A-Za-z0-9]{16,}`) },
  { kind: "google-api-key", description: "Google API key", regex: new RegExp(`${START}AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])`) },
  // The wider lookbehind keeps "eyJ_eyJ_eyJ_..." linear: the first segment may scan a whole run
  // before failing on the missing dot, so only the run's first character may start a match.
  { kind: "jwt", description: "JSON Web Token", regex: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{7,}\.eyJ[A-Za-z0-9_-]{7,}\.[A-Za-z0-9_-]{10,}/ },
  { kind: "tracegate-api-key", description: "tracegate API key", regex: new RegExp(`${START}tgk_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])`) },
];

/** Kind recorded for values redacted because of their key name rather than their content. */
const SENSITIVE_KEY_KIND = "sensitive-key";

/** Kind reported by `findRedactionMarkers` for the reference implementation's bare `[REDACTED]`. */
const UNKNOWN_KIND = "unknown";

const SENSITIVE_KEYS = new Set([
  "password", "passwd", "secret", "clientsecret", "apikey", "accesstoken", "refreshtoken",
  "authorization", "privatekey", "sessiontoken", "cookie", "setcookie", "xapikey", "proxyauthorization",
]);

const MARKER = /\[REDACTED(?::[a-z0-9-]+)?\]/;
const WHOLE_MARKER = new RegExp(`^${MARKER.source}$`);
const MARKERS_WITH_KIND = /\[REDACTED(?::([a-z0-9-]+))?\]/g;
const KIND = /^[a-z0-9-]+$/;

/** Markers come first so existing ones are consumed whole and never rescanned; group i+1 is SECRET_PATTERNS[i]. */
const SCANNER = new RegExp([MARKER.source, ...SECRET_PATTERNS.map((p) => `(${p.regex.source})`)].join("|"), "g");

/** The marker text for a kind, e.g. `[REDACTED:aws-access-key-id]`. Kinds are kebab-case so markers stay recognisable when read back. */
export function redactionMarker(kind: string): string {
  if (!KIND.test(kind)) throw new RangeError(`Invalid redaction kind: ${JSON.stringify(kind)}`);
  return `[REDACTED:${kind}]`;
}

function redactOnce(text: string, kinds: string[]): string {
  return text.replace(SCANNER, (match: string, ...groups: unknown[]) => {
    const index = groups.findIndex((g, i) => i < SECRET_PATTERNS.length && g !== undefined);
    if (index < 0) return match; // an existing marker
    const kind = (SECRET_PATTERNS[index] as SecretPattern).kind;
    kinds.push(kind);
    return redactionMarker(kind);
  });
}

/**
 * Replace every secret-looking substring of `text` with `[REDACTED:<kind>]`; returns the new
 * text and the kinds found (in order, possibly repeated).
 *
 * Rescans until nothing new is found: a marker can turn a neighbour into a word boundary (a JWT
 * glued to a PEM END line's dashes only starts a token once the PEM is a marker). Each pass
 * turns plain text into markers, so this ends, and it is what makes redaction idempotent.
 */
export function redactText(text: string): { text: string; kinds: string[] } {
  const kinds: string[] = [];
  let out = text;
  for (let found = -1; found !== kinds.length; ) {
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

function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEYS.has(key.toLowerCase().replace(/[-_]/g, ""));
}

/** Copy-on-write map over a JSON tree's strings: containers are rebuilt only when a child changed. */
function mapStrings(
  value: JsonValue,
  path: string,
  sensitive: boolean,
  onString: (s: string, path: string, sensitive: boolean) => string,
): JsonValue {
  if (typeof value === "string") return onString(value, path, sensitive);
  if (Array.isArray(value)) {
    const items = value.map((item, i) => mapStrings(item, `${path}[${i}]`, sensitive, onString));
    return items.every((item, i) => Object.is(item, value[i])) ? value : items;
  }
  if (!isJsonObject(value)) return value;
  const entries = Object.entries(value);
  const mapped = entries.map(([k, v]): [string, JsonValue] => [k, mapStrings(v, keyPath(path, k), sensitive || isSensitiveKey(k), onString)]);
  // fromEntries defines own properties, so a "__proto__" key stays data instead of becoming the prototype.
  return mapped.every(([, v], i) => Object.is(v, entries[i]?.[1])) ? value : Object.fromEntries(mapped);
}

/**
 * Walk a JSON value: redact strings (matching substrings only) and whole values under sensitive
 * key names; returns a new value (input never mutated; unchanged subtrees may be shared) and the
 * list of redactions with paths. `basePath` prefixes paths.
 *
 * Under a sensitive key every non-empty string leaf becomes one `sensitive-key` marker, whatever
 * it contains; a leaf that is already exactly a marker is kept, so a second pass finds nothing.
 */
export function redactJson(value: JsonValue, basePath: string): { value: JsonValue; redactions: Redaction[] } {
  const redactions: Redaction[] = [];
  const out = mapStrings(value, basePath, false, (s, path, sensitive) => {
    if (sensitive) {
      if (s === "" || WHOLE_MARKER.test(s)) return s;
      redactions.push({ path, kind: SENSITIVE_KEY_KIND });
      return redactionMarker(SENSITIVE_KEY_KIND);
    }
    const { text, kinds } = redactText(s);
    for (const kind of kinds) redactions.push({ path, kind });
    return text;
  });
  return { value: out, redactions };
}

/**
 * Find redaction markers already present in a JSON value, to show which paths were redacted when
 * reading a stored trace. The reference implementation's bare `[REDACTED]` is reported as kind `unknown`.
 */
export function findRedactionMarkers(value: JsonValue, basePath: string): Redaction[] {
  const found: Redaction[] = [];
  mapStrings(value, basePath, false, (s, path) => {
    for (const m of s.matchAll(MARKERS_WITH_KIND)) found.push({ path, kind: m[1] ?? UNKNOWN_KIND });
    return s;
  });
  return found;
}

/**
 * What an identifier stored in an indexed text column may hold (action, principal,
 * capability, token, driver, handle ids, reason codes, revocation reasons, key names).
 *
 * PostgreSQL text cannot hold NUL, and a lone UTF-16 surrogate (half of an astral
 * character: a string cut inside an emoji) is not Unicode text: PostgreSQL refuses it and
 * SQLite stores it as invalid UTF-8 that its equality filters then cannot read. So
 * identifiers must be well-formed Unicode without NUL, on both backends alike. Inside
 * args, resultSummary and error both are fine: the payload escapes them as `\udXXX` and
 * `\u0000`, exactly as Python's json.dumps does (docs/exactness.md).
 */
const UNSTORABLE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|\u0000/;

/**
 * Most UTF-8 bytes an identifier may take. PostgreSQL's btree indexes hold at most 2,704
 * bytes per entry, and one index ("TokenPrincipal": principal and token id) holds two
 * identifiers: two of 1,024 bytes fit with room to spare, while 1,000 CJK characters
 * (3,000 bytes) failed the insert. SQLite has no such bound; the rule is the same on both,
 * so a chain moves between backends. ASCII identifiers keep the 1,024-character limit.
 */
export const MAX_IDENTIFIER_BYTES = 1_024;

/** Why `value` cannot be an identifier, or null when it can. */
export function identifierProblem(value: string): string | null {
  if (UNSTORABLE.test(value)) return "holds a NUL character or a lone UTF-16 surrogate; identifiers must be well-formed Unicode text";
  // UTF-8 takes at least one byte per UTF-16 unit: short strings need no count.
  if (value.length > MAX_IDENTIFIER_BYTES / 3 && Buffer.byteLength(value, "utf8") > MAX_IDENTIFIER_BYTES) {
    return `takes more than ${MAX_IDENTIFIER_BYTES.toLocaleString("en-US")} bytes in UTF-8; identifiers are stored in indexed columns`;
  }
  return null;
}

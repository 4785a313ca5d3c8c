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

/** Why `value` cannot be an identifier, or null when it can. */
export function identifierProblem(value: string): string | null {
  return UNSTORABLE.test(value) ? "holds a NUL character or a lone UTF-16 surrogate; identifiers must be well-formed Unicode text" : null;
}

/**
 * What an API key may do (scopes) and whose traces it may see (principal scope). Pure: the
 * server checks scopes per operation, the stores turn a PrincipalScope into SQL.
 */

/** Every scope, least to most powerful. `admin` implies all the others. */
export const SCOPES = ["traces:read", "traces:write", "revocations:write", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/** Longest principal pattern; principal ids themselves are capped at 1,024 characters. */
export const MAX_PRINCIPAL_PATTERN_LENGTH = 1_024;
/** Most patterns on one key: each becomes a term of every query's WHERE clause. */
export const MAX_PRINCIPAL_PATTERNS = 100;

/**
 * The principals a key is confined to: exact ids, and prefixes (written `team-a/*`). A key
 * without a PrincipalScope sees every principal.
 */
export interface PrincipalScope {
  exact: readonly string[];
  prefixes: readonly string[];
}

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** Whether a key holding `held` may act with `needed` (admin holds every scope). */
export function grants(held: ReadonlySet<Scope>, needed: Scope): boolean {
  return held.has(needed) || held.has("admin");
}

/**
 * Parse principal patterns: `alice` matches exactly, `team-a/*` matches every principal
 * starting with `team-a/`. A lone `*` is refused: an unrestricted key simply has no patterns.
 * @throws RangeError naming the offending pattern.
 */
export function parsePrincipalPatterns(patterns: readonly string[]): PrincipalScope {
  if (patterns.length === 0) throw new RangeError("a principal scope needs at least one pattern");
  if (patterns.length > MAX_PRINCIPAL_PATTERNS) {
    throw new RangeError(`at most ${MAX_PRINCIPAL_PATTERNS} principal patterns per key, got ${patterns.length}`);
  }
  const exact = new Set<string>();
  const prefixes = new Set<string>();
  for (const p of patterns) {
    if (p.length === 0 || p.length > MAX_PRINCIPAL_PATTERN_LENGTH) {
      throw new RangeError(`principal pattern must be 1 to ${MAX_PRINCIPAL_PATTERN_LENGTH} characters: ${JSON.stringify(p.slice(0, 40))}`);
    }
    const star = p.indexOf("*");
    if (star === -1) exact.add(p);
    else if (star === p.length - 1 && star > 0) prefixes.add(p.slice(0, -1));
    else throw new RangeError(`'*' may only end a principal pattern, after a prefix: ${JSON.stringify(p.slice(0, 40))}`);
  }
  return { exact: [...exact], prefixes: [...prefixes] };
}

/** The patterns of a scope as written (`alice`, `team-a/*`), for display and storage. */
export function formatPrincipalPatterns(scope: PrincipalScope): string[] {
  return [...scope.exact, ...scope.prefixes.map((p) => `${p}*`)];
}

/** Whether a principal id falls inside a scope (no scope: every principal). */
export function principalInScope(scope: PrincipalScope | null, principalId: string): boolean {
  if (!scope) return true;
  return scope.exact.includes(principalId) || scope.prefixes.some((p) => principalId.startsWith(p));
}

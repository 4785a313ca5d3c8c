/**
 * API key administration: issue, list and revoke keys. Shared by the admin mutations, the
 * `tracegate keys` CLI and the start-up bootstrap, so every path validates the same way.
 */
import { generateApiKey, generateKeyId, hashApiKey } from "../access/api-key.js";
import { formatPrincipalPatterns, parsePrincipalPatterns, type Scope } from "../access/scopes.js";
import { badUserInput, storableIdentifier, TracegateError } from "../errors.js";
import type { Caller } from "./caller.js";
import type { ApiKeyRecord, KeyStore } from "../stores/key-store.js";
import { adminTrace } from "./admin-trace.js";

/** Longest key name. */
export const MAX_KEY_NAME_LENGTH = 200;

export interface IssueKeyInput {
  name: string;
  scopes: readonly Scope[];
  /** Principal patterns (`alice`, `team-a/*`); null or absent = every principal. */
  principals?: readonly string[] | null;
}

/** A new key: the key itself (shown once, never stored) and its stored record. */
export interface IssuedKey {
  key: string;
  apiKey: ApiKeyRecord;
}

/** Validate and create a key. @throws TracegateError BAD_USER_INPUT naming the bad field. */
export async function issueApiKey(keys: KeyStore, input: IssueKeyInput, createdBy: string): Promise<IssuedKey> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > MAX_KEY_NAME_LENGTH) {
    throw badUserInput(`name must be 1 to ${MAX_KEY_NAME_LENGTH} characters.`, "name");
  }
  storableIdentifier(name, "name");
  for (const [i, p] of (input.principals ?? []).entries()) storableIdentifier(p, `principals[${i}]`);
  const scopes = [...new Set(input.scopes)];
  if (scopes.length === 0) throw badUserInput("A key needs at least one scope.", "scopes");
  let principals = null;
  if (input.principals != null) {
    try {
      principals = parsePrincipalPatterns(input.principals);
    } catch (e) {
      throw badUserInput(`principals: ${(e as Error).message}.`, "principals");
    }
  }
  if (principals && scopes.includes("admin")) {
    // An admin key can mint itself an unrestricted key, so confining it would be a fiction.
    throw badUserInput("An admin key cannot have a principal scope.", "principals");
  }
  const key = generateApiKey();
  const apiKey = await keys.create({ id: generateKeyId(), name, keyHash: hashApiKey(key), scopes, principals, createdBy });
  return { key, apiKey };
}

/**
 * Make an externally chosen key the admin key "bootstrap" (replacing an earlier one), at every
 * start. Revocation is one-way (issue 14, case 8): a key that was revoked stays revoked when
 * the same TRACEGATE_BOOTSTRAP_ADMIN_KEY is set again, and is returned as it is. A new value
 * installs a new key; a revoked key it replaces is kept, revoked, under a fresh id, so that
 * setting the old value back later still finds it revoked.
 */
export async function bootstrapAdminKey(keys: KeyStore, key: string): Promise<ApiKeyRecord> {
  const keyHash = hashApiKey(key);
  const existing = await keys.findByHash(keyHash);
  if (existing?.revokedAt) return existing;
  const current = await keys.findById("bootstrap");
  const installed = await keys.upsert({
    id: "bootstrap",
    name: "bootstrap admin key (TRACEGATE_BOOTSTRAP_ADMIN_KEY)",
    keyHash,
    scopes: ["admin"],
    principals: null,
    createdBy: "bootstrap",
  });
  if (current?.revokedAt && current.keyHash !== keyHash) {
    const kept = await keys.create({ ...current, id: generateKeyId(), name: `${current.name}, rotated out` });
    await keys.revoke(kept.id, current.revokedAt);
  }
  return installed;
}

/** createApiKey: an admin issues a key; the chain records who created which key, never the key. */
export async function createApiKey(input: IssueKeyInput, ctx: Caller): Promise<IssuedKey> {
  const issued = await issueApiKey(ctx.stores.keys, input, ctx.viewer.keyId);
  const { apiKey } = issued;
  await ctx.stores.traces.append([
    adminTrace(
      { keyId: ctx.viewer.keyId },
      "createApiKey",
      { name: apiKey.name, scopes: apiKey.scopes, principals: apiKey.principals ? formatPrincipalPatterns(apiKey.principals) : null },
      { id: apiKey.id },
    ),
  ]);
  return issued;
}

/** revokeApiKey: revoke by id; takes effect at once in this process, within 2 s elsewhere. */
export async function revokeApiKey(id: string, ctx: Caller): Promise<ApiKeyRecord> {
  storableIdentifier(id, "id");
  const before = await ctx.stores.keys.findById(id);
  const revoked = await ctx.stores.keys.revoke(id, new Date());
  if (!before || !revoked) throw new TracegateError("NOT_FOUND", `No API key has id '${id}'.`);
  ctx.keys.forgetAll();
  await ctx.stores.traces.append([adminTrace({ keyId: ctx.viewer.keyId }, "revokeApiKey", { id }, { newlyRevoked: before.revokedAt === null })]);
  return revoked;
}

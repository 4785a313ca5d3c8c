/**
 * API keys: the caller's own key (`viewer`) and, for admins, `apiKeys`, `createApiKey` and
 * `revokeApiKey`. The key itself appears once, in createApiKey's result; only its hash is kept.
 */
import { SCOPES, formatPrincipalPatterns, type Scope } from "../../access/scopes.js";
import { createApiKey, type IssuedKey, revokeApiKey } from "../../app/keys.js";
import type { Viewer } from "../../access/authenticator.js";
import type { ApiKeyRecord } from "../../stores/key-store.js";
import { builder } from "../builder.js";

const toMicros = (d: Date) => d.getTime() * 1000;

export const ApiKeyScopeEnum = builder.enumType("ApiKeyScope", {
  description: "What a key may do. ADMIN implies every other scope.",
  values: Object.fromEntries(SCOPES.map((s) => [s.replace(":", "_").toUpperCase(), { value: s }])) as Record<
    string,
    { value: Scope }
  >,
});

const ApiKeyRef = builder.objectRef<ApiKeyRecord>("ApiKey").implement({
  description: "An API key's record. The key itself is never stored or shown again.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "Public id, safe to log." }),
    name: t.exposeString("name"),
    scopes: t.field({ type: [ApiKeyScopeEnum], resolve: (k) => k.scopes }),
    principals: t.stringList({
      nullable: true,
      description: "Principal patterns the key is confined to (`alice`, `team-a/*`); null = every principal.",
      resolve: (k) => (k.principals ? formatPrincipalPatterns(k.principals) : null),
    }),
    createdAt: t.field({ type: "DateTime", resolve: (k) => toMicros(k.createdAt) }),
    createdBy: t.exposeString("createdBy", { description: "The creating key's id, `cli` or `bootstrap`." }),
    revokedAt: t.field({ type: "DateTime", nullable: true, resolve: (k) => (k.revokedAt ? toMicros(k.revokedAt) : null) }),
  }),
});

const ViewerRef = builder.objectRef<Viewer>("Viewer").implement({
  description: "The API key this request is made with.",
  fields: (t) => ({
    keyId: t.exposeID("keyId"),
    name: t.exposeString("name"),
    scopes: t.field({ type: [ApiKeyScopeEnum], resolve: (v) => [...v.scopes] }),
    principals: t.stringList({ nullable: true, resolve: (v) => (v.principals ? formatPrincipalPatterns(v.principals) : null) }),
  }),
});

const CreatedApiKeyRef = builder.objectRef<IssuedKey>("CreatedApiKey").implement({
  fields: (t) => ({
    key: t.exposeString("key", { description: "The key. Shown only here: store it now." }),
    apiKey: t.field({ type: ApiKeyRef, resolve: (k) => k.apiKey }),
  }),
});

const CreateApiKeyInput = builder.inputType("CreateApiKeyInput", {
  fields: (t) => ({
    name: t.string({ required: true }),
    scopes: t.field({ type: [ApiKeyScopeEnum], required: true }),
    principals: t.stringList({ description: "Confine the key to these principals (`alice`, `team-a/*`). Omit for all." }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({ type: ViewerRef, authScopes: { authenticated: true }, resolve: (_root, _args, ctx) => ctx.viewer }),
  apiKeys: t.field({
    type: [ApiKeyRef],
    description: "Every API key, oldest first.",
    args: { includeRevoked: t.arg.boolean({ defaultValue: false }) },
    authScopes: { admin: true },
    resolve: (_root, args, ctx) => ctx.stores.keys.list({ includeRevoked: args.includeRevoked ?? false }),
  }),
}));

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreatedApiKeyRef,
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    authScopes: { admin: true },
    resolve: (_root, args, ctx) => createApiKey(args.input, ctx),
  }),
  revokeApiKey: t.field({
    type: ApiKeyRef,
    description: "Revoke a key. Idempotent: a revoked key keeps its first revocation time.",
    args: { id: t.arg.id({ required: true }) },
    authScopes: { admin: true },
    resolve: (_root, args, ctx) => revokeApiKey(String(args.id), ctx),
  }),
}));

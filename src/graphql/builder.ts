/**
 * The one SchemaBuilder: plugins, context, scalar typings and defaults. No types here;
 * they live in src/graphql/types/, one per file
 * (docs/code-style.md#one-builder-one-type-per-file).
 */
import SchemaBuilder from "@pothos/core";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import { SCOPES, type Scope } from "../access/scopes.js";
import type { JsonObject, JsonValue } from "../chain/json.js";
import type { EpochMicros } from "../chain/time.js";
import { PAGE_SIZE } from "../config.js";
import { badUserInput, TracegateError } from "../errors.js";
import { viewerCan } from "../access/authenticator.js";
import type { GraphQLContext } from "./context.js";

/** Types that are Relay nodes; a global id naming any other type is NOT_FOUND. */
const NODE_TYPES = new Set(["Trace"]);
const GLOBAL_ID = /^([A-Za-z][A-Za-z0-9_]*):([^\s]{1,64})$/;

/** Decode a Relay global id (base64 of "Type:id"), refusing garbage with a coded error. */
function decodeGlobalID(globalID: string): { typename: string; id: string } {
  const match = globalID.length <= 200 ? GLOBAL_ID.exec(Buffer.from(globalID, "base64").toString("utf8")) : null;
  if (!match) throw badUserInput("Not a valid node id.", "id");
  const [, typename, id] = match as unknown as [string, string, string];
  if (!NODE_TYPES.has(typename)) throw new TracegateError("NOT_FOUND", `No node of type '${typename}' exists.`);
  return { typename, id };
}

/**
 * The auth scopes a field can demand: each API key scope, plus `allPrincipals` for data
 * that spans every principal (chain verification, the head) and so is closed to a key
 * confined to some principals.
 */
type AuthScopes = Record<Scope, boolean> & { allPrincipals: boolean; authenticated: boolean };

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  AuthScopes: AuthScopes;
  DefaultFieldNullability: false;
  DefaultEdgesNullability: { list: false; items: false };
  DefaultNodeNullability: false;
  Scalars: {
    DateTime: { Input: EpochMicros; Output: EpochMicros };
    JSONObject: { Input: JsonObject; Output: JsonValue };
    SafeInt: { Input: number; Output: number };
  };
}>({
  // Scope auth first: its checks wrap every other plugin's resolvers.
  plugins: [ScopeAuthPlugin, RelayPlugin],
  scopeAuth: {
    authScopes: (ctx) => ({
      ...(Object.fromEntries(SCOPES.map((s) => [s, viewerCan(ctx.viewer, s)])) as Record<Scope, boolean>),
      allPrincipals: ctx.viewer.principals === null,
      authenticated: true,
    }),
    unauthorizedError: (_parent, ctx, info) =>
      new TracegateError("FORBIDDEN", `API key '${ctx.viewer.keyId}' may not use '${info.parentType.name}.${info.fieldName}'.`),
    authorizeOnSubscribe: true,
  },
  defaultFieldNullability: false,
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    edgesFieldOptions: { nullable: { list: false, items: false } },
    nodeFieldOptions: { nullable: false },
    nodeQueryOptions: { authScopes: { "traces:read": true } },
    nodesQueryOptions: {
      authScopes: { "traces:read": true },
      description: `The nodes with these ids, in order (null where none is visible): at most ${PAGE_SIZE.max} ids, like any page.`,
      // The page cap applies here too (the cost limit counts the ids: src/http/limits.ts).
      resolve: (_root, args, _ctx, _info, resolveNodes) => {
        if (args.ids.length > PAGE_SIZE.max) throw badUserInput(`nodes takes at most ${PAGE_SIZE.max} ids, got ${args.ids.length}.`, "ids");
        return resolveNodes(args.ids);
      },
    },
    decodeGlobalID,
  },
});

builder.queryType({ description: "Read the audit trail." });
builder.mutationType({ description: "Append to the audit trail and administer access." });

/**
 * The one SchemaBuilder: plugins, context, scalar typings and defaults. No types here;
 * they live in src/schema/types/, one per file (STYLE.md 1-2).
 */
import SchemaBuilder from "@pothos/core";
import RelayPlugin from "@pothos/plugin-relay";
import type { JsonObject } from "../chain/json.js";
import type { EpochMicros } from "../chain/time.js";
import type { GatewayContext } from "../server/context.js";

export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  DefaultFieldNullability: false;
  DefaultEdgesNullability: { list: false; items: false };
  DefaultNodeNullability: false;
  Scalars: {
    DateTime: { Input: EpochMicros; Output: EpochMicros };
    JSONObject: { Input: JsonObject; Output: unknown };
    SafeInt: { Input: number; Output: number };
  };
}>({
  plugins: [RelayPlugin],
  defaultFieldNullability: false,
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    edgesFieldOptions: { nullable: { list: false, items: false } },
    nodeFieldOptions: { nullable: false },
  },
});

builder.queryType({ description: "Read the audit trail." });
builder.mutationType({ description: "Append to the audit trail." });

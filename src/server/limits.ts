/**
 * Query limits (DESIGN.md §5) as envelop plugins: graphql-armor for tokens, depth, cost,
 * aliases and directives; yoga's plugin for introspection; armor's suggestion blocker so a
 * production schema is not leaked one "Did you mean" at a time. Page size and batch size are
 * checked by their resolvers; the body size by yoga itself (app.ts).
 */
import { blockFieldSuggestionsPlugin } from "@escape.tech/graphql-armor-block-field-suggestions";
import { costLimitPlugin } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesPlugin } from "@escape.tech/graphql-armor-max-directives";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import { useDisableIntrospection } from "@graphql-yoga/plugin-disable-introspection";
import type { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Limits } from "../config.js";
import { TracegateError } from "../errors.js";

/**
 * armor reports a limit as a "Syntax Error: ..." GraphQLError without a code; throwing our
 * own error from its reject hook replaces it, so clients get QUERY_TOO_COMPLEX.
 */
function rejectAs(limit: string) {
  return {
    exposeLimits: true,
    onReject: [
      (_ctx: unknown, error: GraphQLError) => {
        throw new TracegateError("QUERY_TOO_COMPLEX", error.message.replace(/^Syntax Error: /, ""), { limit });
      },
    ],
  };
}

/** The limit plugins for a configuration (a limit of 0 is off). */
// Plugin<any>: yoga plugins are generic over the context, and these use none of it.
export function limitPlugins(limits: Limits): Plugin<any>[] {
  const plugins: Plugin<any>[] = [];
  if (limits.maxTokens > 0) plugins.push(maxTokensPlugin({ n: limits.maxTokens, ...rejectAs("tokens") }));
  if (limits.maxDepth > 0) plugins.push(maxDepthPlugin({ n: limits.maxDepth, ...rejectAs("depth") }));
  if (limits.maxCost > 0) plugins.push(costLimitPlugin({ maxCost: limits.maxCost, ...rejectAs("cost") }));
  if (limits.maxAliases > 0) plugins.push(maxAliasesPlugin({ n: limits.maxAliases, ...rejectAs("aliases") }));
  if (limits.maxDirectives > 0) plugins.push(maxDirectivesPlugin({ n: limits.maxDirectives, ...rejectAs("directives") }));
  if (!limits.introspection) plugins.push(useDisableIntrospection(), blockFieldSuggestionsPlugin());
  return plugins;
}

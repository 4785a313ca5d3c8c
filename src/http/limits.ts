/**
 * The GraphQL rule set (docs/security-model.md#limits): every check a document passes before
 * it runs, as envelop plugins, defined here once and installed once in yoga (app.ts), whose
 * envelop HTTP, SSE and graphql-ws (ws.ts, through getEnveloped) all run. graphql-armor for
 * tokens, depth, cost, aliases and directives; the `nodes` cost below; the introspection
 * policy and armor's suggestion blocker, so a production schema is not leaked one "Did you
 * mean" at a time; the Float-variable-in-JSON-literal rule (exact-json.ts). Page size and
 * batch size are checked by their resolvers; the body size where HTTP bodies are read (exact-json.ts) and by
 * the socket's message limit (ws.ts).
 *
 * Every rule here hooks onParse, onValidate, onExecute or onSubscribe only, never
 * onRequest/onRequestParse or the `request`: graphql-ws operations have no HTTP request, and
 * a rule keyed on one (yoga's useDisableIntrospection is) silently skips them.
 */
import { blockFieldSuggestionsPlugin } from "@escape.tech/graphql-armor-block-field-suggestions";
import { costLimitPlugin } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesPlugin } from "@escape.tech/graphql-armor-max-directives";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import {
  type ASTNode,
  type ExecutionArgs,
  type FragmentDefinitionNode,
  type GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type ValidationRule,
} from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Limits } from "../config.js";
import { TracegateError } from "../errors.js";
import { walkBudgetPlugin } from "./budget.js";
import { floatVariableInJsonLiteralRule } from "./exact-json.js";

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

/** The GraphQL rule set for a configuration (a limit of 0 is off), for every transport. */
// Plugin<any>: yoga plugins are generic over the context, and these use none of it.
export function limitPlugins(limits: Limits): Plugin<any>[] {
  const plugins: Plugin<any>[] = [validationRules(limits)];
  if (limits.maxTokens > 0) plugins.push(maxTokensPlugin({ n: limits.maxTokens, ...rejectAs("tokens") }));
  if (limits.maxDepth > 0) plugins.push(maxDepthPlugin({ n: limits.maxDepth, ...rejectAs("depth") }));
  if (limits.maxCost > 0) plugins.push(costLimitPlugin({ maxCost: limits.maxCost, ...rejectAs("cost") }), listCostPlugin(limits.maxCost));
  if (limits.maxAliases > 0) plugins.push(maxAliasesPlugin({ n: limits.maxAliases, ...rejectAs("aliases") }));
  if (limits.maxDirectives > 0) plugins.push(maxDirectivesPlugin({ n: limits.maxDirectives, ...rejectAs("directives") }));
  plugins.push(walkBudgetPlugin(limits));
  if (!limits.introspection) plugins.push(blockFieldSuggestionsPlugin());
  return plugins;
}

/**
 * tracegate's own validation rules, added to every validation whatever the transport:
 * exact JSON's Float rule and, with introspection off, graphql-js's no-introspection rule.
 */
function validationRules(limits: Limits): Plugin<any> {
  const rules: ValidationRule[] = [floatVariableInJsonLiteralRule];
  if (!limits.introspection) rules.push(NoSchemaIntrospectionCustomRule);
  return {
    onValidate({ addValidationRule }) {
      for (const rule of rules) addValidationRule(rule);
    },
  };
}

/** armor's cost weights (its defaults, which limitPlugins uses). */
const OBJECT_COST = 2;
const SCALAR_COST = 1;
const DEPTH_COST_FACTOR = 1.5;

/**
 * armor's cost counts a literal `first`/`last` as a multiplier but no list argument at all:
 * `nodes(ids: $ids)` with 30,000 ids costs as much as one node. This plugin computes armor's
 * cost again with the number of ids given to `nodes` as its multiplier. It runs before
 * execution, not as a validation rule: yoga caches validation per document, and the
 * variables differ from request to request.
 */
function listCostPlugin(maxCost: number): Plugin<any> {
  /** The refusal for a document over the limit with these variables, if it is. */
  const refusal = (args: ExecutionArgs) => {
    const variables = (args.variableValues ?? {}) as Record<string, unknown>;
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of args.document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    for (const d of args.document.definitions) {
      if (d.kind !== Kind.OPERATION_DEFINITION) continue;
      if (args.operationName != null && d.name?.value !== args.operationName) continue;
      const cost = documentCost(fragments, d, variables);
      if (cost > maxCost) {
        return { errors: [new TracegateError("QUERY_TOO_COMPLEX", `Query Cost limit of ${maxCost} exceeded, found ${cost}.`, { limit: "cost" })] };
      }
    }
    return undefined;
  };
  // Queries and mutations run through onExecute, subscriptions through onSubscribe.
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const refused = refusal(args);
      if (refused) setResultAndStopExecution(refused);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const refused = refusal(args);
      if (refused) setResultAndStopExecution(refused);
    },
  };
}

/**
 * How many rows a field asks for: armor's literal `first`/`last`, or the number of ids given
 * to `nodes` (a literal list or a variable). `first`/`last` from variables stay uncounted,
 * as armor has them: the page cap (500) bounds those, and counting them would refuse
 * documents that clients send today.
 */
function multiplierOf(node: ASTNode, variables: Record<string, unknown>): number {
  if (node.kind !== Kind.FIELD) return 1;
  let multiplier = 1;
  for (const arg of node.arguments ?? []) {
    const value = arg.value;
    if ((arg.name.value === "first" || arg.name.value === "last") && value.kind === Kind.INT) {
      multiplier = Math.max(multiplier, Number(value.value));
    } else if (arg.name.value === "ids" && node.name.value === "nodes") {
      const n = value.kind === Kind.VARIABLE ? listLength(variables[value.name.value]) : value.kind === Kind.LIST ? value.values.length : 1;
      multiplier = Math.max(multiplier, n);
    }
  }
  return multiplier;
}

const listLength = (value: unknown): number => (Array.isArray(value) ? value.length : 1);

function documentCost(fragments: ReadonlyMap<string, FragmentDefinitionNode>, root: ASTNode, variables: Record<string, unknown>): number {
  const visiting = new Set<string>();
  const cost = (node: ASTNode): number => {
    if (node.kind === Kind.FIELD && node.name.value === "__schema") return 0;
    if (node.kind === Kind.OPERATION_DEFINITION) return node.selectionSet.selections.reduce((sum, child) => sum + cost(child), 0);
    if (node.kind === Kind.FRAGMENT_SPREAD) {
      const name = node.name.value;
      const fragment = fragments.get(name);
      if (!fragment || visiting.has(name)) return SCALAR_COST;
      visiting.add(name);
      const inner = cost(fragment);
      visiting.delete(name);
      return SCALAR_COST + DEPTH_COST_FACTOR * inner;
    }
    if ("selectionSet" in node && node.selectionSet) {
      let total = OBJECT_COST;
      for (const child of node.selectionSet.selections) total += DEPTH_COST_FACTOR * cost(child);
      return total * multiplierOf(node, variables);
    }
    return SCALAR_COST;
  };
  return cost(root);
}

/**
 * Compiled execution of repeated queries: graphql-jit turns a query document into one
 * JavaScript function, so a page of rows no longer pays graphql-js's per-field, per-row type
 * dispatch (isNonNullType, isListType, ... on every value). Resolvers, Pothos' scope checks,
 * scalars (exact JSON, DateTime) and error masking run as before: only the walk over the
 * result tree is compiled.
 *
 * Only queries, and only a document executed `compileAfter` times before (yoga's parse cache
 * hands back the same document object for the same text): compiling costs a few
 * milliseconds, so a client sending a new document every time (hostile, or a one-off) runs
 * it through the plain executor rather than making the server compile per request. A
 * document graphql-jit cannot compile stays on the plain executor too. Mutations and
 * subscriptions keep the plain executor (ingest and live fan-out are other paths), and so do
 * documents that walk the chain (verifyChain, traceStats: their cost is the walk).
 *
 * Errors: graphql-jit words and shapes some error results differently from graphql-js
 * (variable errors come with `data: null`, so HTTP 200 instead of 400; key order). A compiled
 * run that ends with any error is therefore answered by the plain executor instead, run
 * again: clients see graphql-js's errors exactly, and the error path (a refused field, a bad
 * cursor or variable) is cheap. Only an answer without errors is the compiled one.
 */
import { type DocumentNode, type ExecutionResult, getOperationAST, Kind, type OperationDefinitionNode } from "graphql";
import type { Plugin } from "graphql-yoga";
import { type CompiledQuery, compileQuery, isCompiledQuery } from "graphql-jit";
import { WALK_FIELDS } from "./budget.js";

/** Plain executions of a document before it is compiled: its third run is compiled. */
const COMPILE_AFTER = 2;

/** Per document (and operation name): runs so far, then its compiled form or null when it cannot be compiled. */
type Entry = { runs: number; compiled?: CompiledQuery | null };

/** The compiled-execution plugin; installed once in yoga (app.ts), so HTTP, SSE and graphql-ws share it. */
// Plugin<any>: yoga plugins are generic over the context, and this one uses none of it.
export function compiledQueriesPlugin(compileAfter = COMPILE_AFTER): Plugin<any> {
  const entries = new WeakMap<DocumentNode, Map<string, Entry>>();
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const name = args.operationName ?? "";
      let byName = entries.get(args.document);
      if (!byName) entries.set(args.document, (byName = new Map()));
      let entry = byName.get(name);
      if (!entry) byName.set(name, (entry = { runs: 0 }));
      if (entry.compiled === undefined) {
        if (++entry.runs <= compileAfter) return;
        const operation = getOperationAST(args.document, args.operationName ?? undefined);
        const compiled = operation && compilable(operation) ? compileQuery(args.schema, args.document, args.operationName ?? undefined) : null;
        entry.compiled = compiled && isCompiledQuery(compiled) ? compiled : null;
      }
      const compiled = entry.compiled;
      if (!compiled) return;
      const plain = executeFn;
      const answer = (a: Parameters<typeof plain>[0], result: ExecutionResult) => (result.errors?.length ? plain(a) : result);
      setExecuteFn((a) => {
        const result = compiled.query(a.rootValue, a.contextValue, a.variableValues) as ExecutionResult | Promise<ExecutionResult>;
        return result instanceof Promise ? result.then((r) => answer(a, r)) : answer(a, result);
      });
    },
  };
}

/** A query whose root selections are plain fields, none of them a walk (a root fragment stays plain too). */
function compilable(operation: OperationDefinitionNode): boolean {
  if (operation.operation !== "query") return false;
  return operation.selectionSet.selections.every((s) => s.kind === Kind.FIELD && !WALK_FIELDS.has(s.name.value));
}

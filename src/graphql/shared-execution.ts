/**
 * Shared execution of live events (Hasura's multiplexing, for push): subscriptions that ask
 * for the same selection with the same authorization execute each shared event once, and
 * every member of the group gets the same ExecutionResult object (so a transport can
 * serialize it once as well: src/http/ws.ts).
 *
 * The sharing is by the event object's identity. The streams layer hands the members of a
 * live group (same filter, same principal scope: src/streams/live-group.ts) the same event
 * object for each row; replayed and caught-up traces are each subscriber's own objects, so
 * a member's catch-up always executes alone. Two subscriptions reuse a result only when the
 * event is the same object AND their execution key is equal: the document, the operation
 * name, every variable except those only used as a root field's `afterSeq` (the resume
 * position, which does not change what an event looks like), and what authorization depends
 * on: the viewer's scopes and principal scope. Different scopes never share, because their
 * events are different objects and their keys differ too.
 *
 * A result with errors is never shared: the next member executes on its own.
 *
 * Direct frames: a transport that can write a pre-serialized result to the subscriber's
 * connection passes a writer under LIVE_FRAMES in the subscribe arguments (graphql-ws:
 * src/http/ws.ts). Live events then skip the per-subscriber iterator chain (envelop, the
 * protocol loop, promises per layer): the stream hands each one to the writer synchronously
 * (src/streams/trace-stream.ts `writeLiveTo`) with the group's result serialized once
 * (`serializedResult`). An event whose result is not ready or has errors, or that the writer
 * declines (a backed-up socket), takes the ordinary path.
 */
import { buildExecutionContext, execute } from "@graphql-tools/executor";
import {
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  print,
  visit,
} from "graphql";
import type { Plugin } from "graphql-yoga";
import { restoreExactNumbers } from "../chain/wire-json.js";
import type { GraphQLContext } from "./context.js";

/**
 * Where a transport puts its frame writer in the subscribe arguments: `(text) => boolean`
 * writes a `next` message whose payload is `text` (a serialized result) to this operation's
 * subscriber, or returns false when it cannot now.
 */
export const LIVE_FRAMES = Symbol("tracegate.liveFrames");
export type FrameWriter = (payloadText: string) => boolean;

/** Each result's JSON text with exact numbers (src/chain/wire-json.ts), made once per result object. */
const serialized = new WeakMap<object, string>();
export function serializedResult(result: ExecutionResult): string {
  let text = serialized.get(result);
  if (text === undefined) {
    liveExecutionCounters.serialized++;
    serialized.set(result, (text = restoreExactNumbers(JSON.stringify(result))));
  }
  return text;
}

/**
 * Counters of live-event work in this process (tests): `executed` runs of the selection on an
 * event, `reused` deliveries that took another member's result instead, `direct` frames written
 * straight to a socket, `serialized` results serialized (by serializedResult: graphql-ws and SSE).
 */
export const liveExecutionCounters = { executed: 0, reused: 0, direct: 0, serialized: 0 };

/** Execution results by event object, then by execution key. Weak: gone with the event. */
const results = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();

interface DocumentFacts {
  text: string;
  /** Variables used only as the `afterSeq` argument of root fields: left out of the key. */
  resumeVariables: ReadonlySet<string>;
  /** @defer / @stream make results incremental: such documents are never shared. */
  incremental: boolean;
}
const documentFacts = new WeakMap<DocumentNode, DocumentFacts>();

function factsOf(document: DocumentNode, operation: OperationDefinitionNode): DocumentFacts {
  let facts = documentFacts.get(document);
  if (facts) return facts;
  const uses = new Map<string, number>();
  let incremental = false;
  visit(document, {
    VariableDefinition: () => false,
    Variable: (node) => {
      uses.set(node.name.value, (uses.get(node.name.value) ?? 0) + 1);
    },
    Directive: (node) => {
      if (node.name.value === "defer" || node.name.value === "stream") incremental = true;
    },
  });
  const resumeUses = new Map<string, number>();
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) continue;
    for (const arg of selection.arguments ?? []) {
      if (arg.name.value === "afterSeq" && arg.value.kind === Kind.VARIABLE) {
        resumeUses.set(arg.value.name.value, (resumeUses.get(arg.value.name.value) ?? 0) + 1);
      }
    }
  }
  const resumeVariables = new Set([...resumeUses].filter(([name, n]) => uses.get(name) === n).map(([name]) => name));
  facts = { text: print(document), resumeVariables, incremental };
  documentFacts.set(document, facts);
  return facts;
}

/** JSON with object keys sorted, so the same values give the same text whatever their order. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * The execution key of a subscription, or null when it must not share (no recognizable
 * viewer, incremental delivery, variables that do not serialize).
 */
export function executionKeyOf(args: ExecutionArgs, operation: OperationDefinitionNode): string | null {
  const ctx = args.contextValue as Partial<GraphQLContext> | undefined;
  const viewer = ctx?.viewer;
  const store = ctx?.stores?.traces;
  if (!viewer || !store) return null;
  const facts = factsOf(args.document, operation);
  if (facts.incremental) return null;
  try {
    const variables = Object.entries(args.variableValues ?? {}).filter(([name]) => !facts.resumeVariables.has(name));
    const authorization = stableJson({ scopes: [...viewer.scopes].sort(), principals: viewer.principals, store: store.principals });
    return [facts.text, args.operationName ?? "", stableJson(Object.fromEntries(variables)), authorization].join("\u0000");
  } catch {
    return null;
  }
}

/** One execution of `args` on `event` (counted). No signal: a shared execution must not end when the member that happened to run it leaves. */
function run(args: ExecutionArgs, event: unknown): ExecutionResult | Promise<ExecutionResult> {
  liveExecutionCounters.executed++;
  return execute({ ...args, rootValue: event, signal: undefined }) as ExecutionResult | Promise<ExecutionResult>;
}

/** The result of executing `args` on `event`: the group's when a member with the same key already ran it. */
function executeEvent(args: ExecutionArgs, key: string, event: unknown): ExecutionResult | Promise<ExecutionResult> {
  if (event === null || typeof event !== "object") return run(args, event);
  let byKey = results.get(event);
  if (!byKey) results.set(event, (byKey = new Map()));
  const known = byKey.get(key);
  if (known) {
    liveExecutionCounters.reused++;
    return known;
  }
  const result = run(args, event);
  if (result instanceof Promise) {
    const results = byKey;
    const shared = result.then((r) => {
      // A result with errors is not shared: the next member executes on its own.
      if (r.errors) results.delete(key);
      return r;
    });
    byKey.set(key, shared);
    return shared;
  }
  if (!result.errors) byKey.set(key, result);
  return result;
}

/** graphql-tools' wrapping of an error the source stream throws (kept, so clients see the same errors). */
function wrapError(error: unknown, operation: OperationDefinitionNode): GraphQLError {
  const e = error instanceof Error ? error : new Error(String(error));
  return new GraphQLError(e.message, { originalError: e, nodes: [operation] });
}

/** The source stream mapped to execution results, each from executeEvent. */
function mapEvents(source: AsyncIterator<unknown>, args: ExecutionArgs, key: string, operation: OperationDefinitionNode): AsyncIterableIterator<ExecutionResult> {
  return {
    async next() {
      let step: IteratorResult<unknown>;
      try {
        step = await source.next();
      } catch (e) {
        throw wrapError(e, operation);
      }
      if (step.done) return { done: true, value: undefined };
      return { done: false, value: await executeEvent(args, key, step.value) };
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(e: unknown) {
      await source.return?.();
      throw e;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

type SubscribeFn = (args: ExecutionArgs) => unknown;

/**
 * Subscribe with shared event execution; anything that cannot share (errors at the start,
 * no key) takes `original`, yoga's subscribe, unchanged.
 */
async function sharedSubscribe(args: ExecutionArgs, original: SubscribeFn): Promise<unknown> {
  const context = buildExecutionContext(args as Parameters<typeof buildExecutionContext>[0]);
  if (!("operation" in context)) return original(args);
  const key = executionKeyOf(args, context.operation);
  if (key === null) return original(args);
  const source = await createSourceEventStream({ ...args, signal: undefined } as ExecutionArgs);
  if (!(Symbol.asyncIterator in source)) return source;
  const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  // As yoga's executor does: the operation's signal ends the source stream.
  const signal = (args as { signal?: AbortSignal }).signal;
  if (signal) {
    if (signal.aborted) void iterator.return?.();
    else signal.addEventListener("abort", () => void iterator.return?.(), { once: true });
  }
  const writer = (args as { [LIVE_FRAMES]?: FrameWriter })[LIVE_FRAMES];
  const live = iterator as { writeLiveTo?: (sink: (event: object) => boolean) => void };
  if (writer && typeof live.writeLiveTo === "function") {
    live.writeLiveTo((event) => {
      const result = executeEvent(args, key, event);
      if (result instanceof Promise || result.errors || !writer(serializedResult(result))) return false;
      liveExecutionCounters.direct++;
      return true;
    });
  }
  return mapEvents(iterator, args, key, context.operation);
}

/** The yoga plugin: every subscription goes through sharedSubscribe (over graphql-ws and SSE alike). */
export function sharedExecutionPlugin(): Plugin {
  return {
    onSubscribe({ subscribeFn, setSubscribeFn }) {
      const original = subscribeFn as SubscribeFn;
      setSubscribeFn(((args: ExecutionArgs) => sharedSubscribe(args, original)) as never);
    },
  };
}

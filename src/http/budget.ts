/**
 * A budget for expensive work (issue 15): the fields that walk the chain or aggregate it
 * (verifyChain, traceStats) cost the server orders of magnitude more than a page, and the
 * document cost limit cannot see that. Before execution this plugin
 *
 * - refuses an operation with more than `maxWalksPerRequest` walk fields, aliases and
 *   fragments included (QUERY_TOO_COMPLEX, limit "walks"), and more than one `totalCount`
 *   (limit "counts"), so `{ a1: verifyChain { ok } ... a30: verifyChain { ok } }` is
 *   answered at once without walking anything;
 * - holds one walk slot per operation that walks: at most `walksPerKey` at a time per API
 *   key and `walksTotal` across the process; an operation finding none free is refused with
 *   RATE_LIMITED (HTTP 429, Retry-After) rather than queued, so the client decides and no
 *   queue of requests builds up behind a slow walk;
 * - gives the walk a deadline: after `walkTimeoutMs` the operation's signal is aborted with
 *   TIMEOUT, which the walks notice between pages (stillWanted, src/app/cancellation.ts).
 *
 * A cheap query takes no slot and is never held behind the walks.
 */
import { type FragmentDefinitionNode, Kind, type OperationDefinitionNode, type SelectionSetNode } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Limits } from "../config.js";
import { TracegateError } from "../errors.js";
import type { Viewer } from "../access/authenticator.js";

/** Root fields that walk or aggregate the whole chain (or a filtered part of it). */
export const WALK_FIELDS: ReadonlySet<string> = new Set(["verifyChain", "traceStats"]);
/** Fields that count every matching row. */
const COUNT_FIELDS: ReadonlySet<string> = new Set(["totalCount"]);
/** totalCount selections one operation may hold. */
const MAX_COUNTS_PER_REQUEST = 1;

export type WalkBudget = Pick<Limits, "maxWalksPerRequest" | "walksPerKey" | "walksTotal" | "walkTimeoutMs">;

/** Concurrent walk slots per key and in all (0 = no limit). */
export class WalkSlots {
  private readonly perKey = new Map<string, number>();
  private total = 0;
  constructor(private readonly budget: Pick<WalkBudget, "walksPerKey" | "walksTotal">) {}

  /** Take a slot for a key; returns its release, or which limit is full. */
  tryAcquire(keyId: string): (() => void) | "key" | "total" {
    const held = this.perKey.get(keyId) ?? 0;
    if (this.budget.walksPerKey > 0 && held >= this.budget.walksPerKey) return "key";
    if (this.budget.walksTotal > 0 && this.total >= this.budget.walksTotal) return "total";
    this.perKey.set(keyId, held + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perKey.get(keyId) ?? 1) - 1;
      if (left > 0) this.perKey.set(keyId, left);
      else this.perKey.delete(keyId);
    };
  }

  /** Walks running now (tests, metrics). */
  get running(): number {
    return this.total;
  }
}

/** The TIMEOUT error a walk's signal is aborted with. */
export function walkTimedOut(ms: number): TracegateError {
  return new TracegateError("TIMEOUT", `The operation ran past its ${ms} ms limit for expensive work and was stopped.`, { timeoutMs: ms });
}

function walkSlotsBusy(full: "key" | "total", budget: WalkBudget): TracegateError {
  const retryAfterSeconds = 1;
  const what = full === "key" ? `${budget.walksPerKey} per API key` : `${budget.walksTotal} on this server`;
  return new TracegateError("RATE_LIMITED", `Too many chain walks (verifyChain, traceStats) at once: at most ${what}; retry in ${retryAfterSeconds} s.`, {
    limit: "walks",
    retryAfterSeconds,
  });
}

/** How many walk and count fields an operation selects, through fragments and aliases. */
export function expensiveFields(
  operation: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): { walks: number; counts: number } {
  const found = { walks: 0, counts: 0 };
  const visiting = new Set<string>();
  const visit = (set: SelectionSetNode, root: boolean): void => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        if (root && WALK_FIELDS.has(s.name.value)) found.walks++;
        if (COUNT_FIELDS.has(s.name.value)) found.counts++;
        if (s.selectionSet) visit(s.selectionSet, false);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        visit(s.selectionSet, root);
      } else {
        const fragment = fragments.get(s.name.value);
        if (!fragment || visiting.has(s.name.value)) continue;
        visiting.add(s.name.value);
        visit(fragment.selectionSet, root);
        visiting.delete(s.name.value);
      }
    }
  };
  visit(operation.selectionSet, true);
  return found;
}

/** The budget plugin; one WalkSlots per gateway. */
export function walkBudgetPlugin(budget: WalkBudget, slots = new WalkSlots(budget)): Plugin<any> {
  // yoga takes the status from extensions.http of an execution error, not its headers.
  const retryAfter = new WeakMap<Request, string>();
  return {
    onResponse({ request, response }) {
      const seconds = retryAfter.get(request);
      if (seconds !== undefined) response.headers.set("Retry-After", seconds);
    },
    async onExecute({ args, setResultAndStopExecution }) {
      const fragments = new Map<string, FragmentDefinitionNode>();
      let operation: OperationDefinitionNode | undefined;
      for (const d of args.document.definitions) {
        if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
        else if (d.kind === Kind.OPERATION_DEFINITION && (args.operationName == null || d.name?.value === args.operationName)) operation ??= d;
      }
      if (!operation || operation.operation !== "query") return;
      const { walks, counts } = expensiveFields(operation, fragments);
      const refuse = (error: TracegateError) => setResultAndStopExecution({ errors: [error] });
      if (budget.maxWalksPerRequest > 0 && walks > budget.maxWalksPerRequest) {
        const message = `At most ${budget.maxWalksPerRequest} chain walk(s) (verifyChain, traceStats) per request; this one asks for ${walks}.`;
        return refuse(new TracegateError("QUERY_TOO_COMPLEX", message, { limit: "walks" }));
      }
      if (counts > MAX_COUNTS_PER_REQUEST) {
        const message = `At most ${MAX_COUNTS_PER_REQUEST} totalCount per request; this one asks for ${counts}.`;
        return refuse(new TracegateError("QUERY_TOO_COMPLEX", message, { limit: "counts" }));
      }
      if (walks === 0) return;
      // Let other requests have a turn before a walk starts: SQLite answers synchronously, and
      // back-to-back traceStats from in-process callers would otherwise chain microtasks forever.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const ctx = args.contextValue as { viewer?: Viewer; signal?: AbortSignal; request?: Request };
      const keyId = ctx.viewer?.keyId ?? "anonymous";
      const release = slots.tryAcquire(keyId);
      if (typeof release === "string") {
        const error = walkSlotsBusy(release, budget);
        if (ctx.request) retryAfter.set(ctx.request, String(error.extensions.retryAfterSeconds));
        return refuse(error);
      }
      let timer: NodeJS.Timeout | undefined;
      if (budget.walkTimeoutMs > 0) {
        const deadline = new AbortController();
        timer = setTimeout(() => deadline.abort(walkTimedOut(budget.walkTimeoutMs)), budget.walkTimeoutMs);
        ctx.signal = ctx.signal ? AbortSignal.any([ctx.signal, deadline.signal]) : deadline.signal;
      }
      return {
        onExecuteDone() {
          clearTimeout(timer);
          release();
        },
      };
    },
  };
}

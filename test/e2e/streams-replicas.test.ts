/**
 * Live streams across replicas (docs/architecture.md#live-streams): two `tracegate serve`
 * processes on one PostgreSQL database, fanning appended traces out through Redis (REDIS_URL).
 * A subscriber on either replica receives the traces ingested through the other one, in seq
 * order, each exactly once, also while both ingest at the same time.
 *
 * The subscribers never ingest themselves: a replica only reads the store when its bus
 * shows it a hole, so without Redis they would never hear of the other replica's traces.
 * Needs PostgreSQL and Redis; skipped with a notice without them, except under CI=true,
 * where the global setup fails the run instead.
 */
import { type Client, createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { BACKENDS } from "../support/backends.js";
import { TEST_SECRET } from "../support/harness.js";
import { type GatewayProcess, postGraphQL, PROCESS_ADMIN_KEY, startGatewayProcess } from "../support/process.js";
import { testRedisUrl } from "../support/redis.js";
import { sseSubscribe } from "../support/sse.js";
import { deny, invoke } from "../support/traces.js";
import { sleep, waitFor } from "../support/wait.js";

const SUITE = "streams across replicas";
const postgres = BACKENDS.find((b) => b.name === "postgresql");
if (!postgres) process.stderr.write(`\n!! PostgreSQL unavailable: "${SUITE}" is SKIPPED.\n\n`);
const redisUrl = testRedisUrl(SUITE);

const SUB = `subscription($filter: TraceFilter, $afterSeq: SafeInt) { traceRecorded(filter: $filter, afterSeq: $afterSeq) {
  trace { seq principalId eventType } gap { fromSeq toSeq } } }`;
const RECORD = "mutation($input: [TraceInput!]!) { recordTraces(input: $input) { seq } }";

type Event = { trace: { seq: number; principalId: string; eventType: string } | null; gap: unknown };


/** A subscription collecting its events; `failure` holds whatever ended it early. */
interface Collector {
  events: Event[];
  seqs(): number[];
  failure(): unknown;
  close(): Promise<void>;
}

function wsCollect(url: string, variables: Record<string, unknown> = {}): Collector {
  const client: Client = createClient({
    url: url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: { authorization: `Bearer ${PROCESS_ADMIN_KEY}` },
  });
  const events: Event[] = [];
  let failure: unknown;
  client.subscribe(
    { query: SUB, variables },
    {
      next: (r) => {
        if (r.errors) failure ??= r.errors;
        const e = (r.data as { traceRecorded?: Event } | null)?.traceRecorded;
        if (e) events.push(e);
      },
      error: (e) => void (failure ??= e),
      complete: () => void (failure ??= "completed"),
    },
  );
  return {
    events,
    seqs: () => events.flatMap((e) => (e.trace ? [e.trace.seq] : [])),
    failure: () => failure,
    close: () => client.dispose() as Promise<void>,
  };
}

async function sseCollect(url: string, variables: Record<string, unknown> = {}): Promise<Collector> {
  const sse = await sseSubscribe(url, SUB, { key: PROCESS_ADMIN_KEY, variables });
  const events: Event[] = [];
  let failure: unknown;
  const done = (async () => {
    try {
      for (;;) {
        const r = await sse.next(120_000);
        if (!r) return void (failure ??= "completed");
        if (r.errors) failure ??= r.errors;
        const e = (r.data as { traceRecorded?: Event } | null)?.traceRecorded;
        if (e) events.push(e);
      }
    } catch (e) {
      failure ??= e;
    }
  })();
  return {
    events,
    seqs: () => events.flatMap((e) => (e.trace ? [e.trace.seq] : [])),
    failure: () => failure,
    close: async () => {
      sse.abort();
      await done;
    },
  };
}

// Two gateway processes plus ingest on a 2-core machine that runs the rest of the suite in
// parallel: generous time limits, so only a real loss (asserted below) fails it.
describe.skipIf(!postgres || !redisUrl)(SUITE, { timeout: 120_000 }, () => {
  let a: GatewayProcess;
  let b: GatewayProcess;
  let n = 0;
  const open: Collector[] = [];

  const record = async (g: GatewayProcess, traces: ReturnType<typeof invoke>[]): Promise<number[]> => {
    const res = await postGraphQL<{ recordTraces: { seq: number }[] }>(g.url, RECORD, { input: traces });
    expect(res.errors).toBeUndefined();
    return res.data!.recordTraces.map((t) => t.seq);
  };
  const batch = (g: GatewayProcess, size: number, principalId: string) =>
    record(
      g,
      Array.from({ length: size }, () => {
        const id = `rep-${n++}`;
        return n % 3 === 0 ? deny(id, "missing_role", { principalId }) : invoke(id, { principalId });
      }),
    );
  /** Every stored trace after `afterSeq`, read through `g`. */
  const storedAfter = async (g: GatewayProcess, afterSeq: number) => {
    const res = await postGraphQL<{ traces: { edges: { node: { seq: number; principalId: string; eventType: string } }[] } }>(
      g.url,
      "query($f: TraceFilter) { traces(first: 500, filter: $f) { edges { node { seq principalId eventType } } } }",
    );
    return res.data!.traces.edges.map((e) => e.node).filter((t) => t.seq > afterSeq);
  };
  /**
   * Ingest probes through `via` until `subscriber` hears one: from then on its stream is
   * live. Returns the seq of the first trace it heard. Hearing anything proves the bus.
   */
  const goLive = async (subscriber: Collector, via: GatewayProcess, principalId: string) => {
    for (let i = 0; i < 100 && subscriber.seqs().length === 0; i++) {
      await batch(via, 1, principalId);
      await waitFor(() => subscriber.seqs().length > 0, () => "", 200).catch(() => undefined);
    }
    expect(subscriber.seqs().length, "the subscriber never heard a probe").toBeGreaterThan(0);
    return subscriber.seqs()[0]!;
  };

  beforeAll(async () => {
    const env = { DATABASE_URL: await postgres!.freshDatabaseUrl(), TRACEGATE_HMAC_SECRET: TEST_SECRET, REDIS_URL: redisUrl };
    [a, b] = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close().catch(() => undefined)));
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it.each([
    ["B", "A"],
    ["A", "B"],
  ] as const)("a graphql-ws subscriber on replica %s receives every trace ingested through replica %s, once, in order", async (on, via) => {
    const [subscriberGateway, ingestGateway] = on === "B" ? [b, a] : [a, b];
    const sub = wsCollect(subscriberGateway.url);
    open.push(sub);
    const first = await goLive(sub, ingestGateway, `probe-${on}`);
    for (const size of [1, 10, 25, 3]) await batch(ingestGateway, size, `via-${via}`);
    const want = (await storedAfter(ingestGateway, first - 1)).map((t) => t.seq);
    await waitFor(() => sub.seqs().length >= want.length, () => `${sub.seqs().length}/${want.length}`);
    await sleep(300);
    expect(sub.seqs()).toEqual(want);
    expect(sub.events.every((e) => e.gap === null)).toBe(true);
    expect(sub.failure()).toBeUndefined();
    await sub.close();
  });

  it("subscribers on both replicas (graphql-ws and SSE) receive everything while both replicas ingest at once", async () => {
    const head = await postGraphQL<{ chainHead: { nextSeq: number } }>(a.url, "{ chainHead { nextSeq } }");
    const boundary = head.data!.chainHead.nextSeq - 1;
    const variables = { afterSeq: boundary };
    const denies = { afterSeq: boundary, filter: { eventType: "DENY" } };
    const subs = [
      { sub: wsCollect(a.url, variables), denyOnly: false },
      { sub: wsCollect(b.url, variables), denyOnly: false },
      { sub: await sseCollect(b.url, variables), denyOnly: false },
      { sub: wsCollect(a.url, denies), denyOnly: true },
      { sub: await sseCollect(b.url, denies), denyOnly: true },
    ];
    open.push(...subs.map((s) => s.sub));
    await Promise.all(
      [a, b].flatMap((g, gi) =>
        Array.from({ length: 2 }, async (_, c) => {
          for (let r = 0; r < 5; r++) await batch(g, 10 + r * 3, `both-${gi}-${c}`);
        }),
      ),
    );
    const all = await storedAfter(a, boundary);
    expect(all).toHaveLength(2 * 2 * (10 + 13 + 16 + 19 + 22));
    for (const { sub, denyOnly } of subs) {
      const want = all.filter((t) => !denyOnly || t.eventType === "DENY").map((t) => t.seq);
      await waitFor(() => sub.seqs().length >= want.length, () => `${sub.seqs().length}/${want.length}`);
      await sleep(200);
      expect(sub.seqs()).toEqual(want);
      expect(sub.failure()).toBeUndefined();
    }
    await Promise.all(subs.map((s) => s.sub.close()));
  });
});

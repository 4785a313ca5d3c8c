/**
 * Shared live fan-out (src/streams/live-group.ts, src/graphql/shared-execution.ts), over real
 * graphql-ws and SSE connections on both backends. Sharing is counted, not timed: the
 * process's live-execution counters say how many times a live event's selection ran.
 *
 * - Subscribers with the same document, the same variables but for afterSeq and the same
 *   scope execute each live event once, whatever transport they use.
 * - Different principal scopes, filters (variables) or documents never share, and each still
 *   gets exactly its own traces.
 * - A member joining mid-stream with afterSeq gets exactly its catch-up, then live events,
 *   without gap or duplicate, and its live events are then shared.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { pausableWsClient } from "../support/ws.js";
import { liveExecutionCounters } from "../../src/graphql/shared-execution.js";
import type { TraceInput } from "../gql/graphql.js";
import { BACKENDS } from "../support/backends.js";
import { createTestGateway, dataOf, type TestGateway } from "../support/harness.js";
import { type SseResult, sseSubscribe } from "../support/sse.js";
import { invoke } from "../support/traces.js";
import { sleep, waitFor } from "../support/wait.js";

const SELECTION = "trace { seq actionId principalId args } gap { fromSeq toSeq }";
const DOC = `subscription($filter: TraceFilter, $afterSeq: SafeInt) { traceRecorded(filter: $filter, afterSeq: $afterSeq) { ${SELECTION} } }`;
/** Another document (one more field): never shares with DOC. */
const OTHER_DOC = `subscription($filter: TraceFilter, $afterSeq: SafeInt) { traceRecorded(filter: $filter, afterSeq: $afterSeq) { ${SELECTION} trace { capabilityId } } }`;
const RECORD = `mutation($input: [TraceInput!]!) { recordTraces(input: $input) { seq } }`;

interface Trace {
  seq: number;
  actionId: string;
  principalId: string;
  args: unknown;
}
interface Sub {
  label: string;
  traces: Trace[];
  gaps: number;
  errors: unknown[];
  close(): Promise<void>;
}

describe.each(BACKENDS)("$name: shared live fan-out", (backend) => {
  let gw: TestGateway;
  let url: string;
  const open: Sub[] = [];
  let n = 0;

  const collect = (label: string, data: Record<string, unknown> | null | undefined, sub: Sub) => {
    const event = data?.traceRecorded as { trace: Trace | null; gap: unknown } | undefined;
    if (event?.trace) sub.traces.push(event.trace);
    if (event?.gap) sub.gaps++;
    void label;
  };

  const wsSub = (key: string, variables: Record<string, unknown>, query = DOC): Sub & { sockets: WebSocket[] } => {
    const { client, sockets } = pausableWsClient(url, `Bearer ${key}`);
    const sub = {
      label: `ws ${JSON.stringify(variables)}`,
      traces: [] as Trace[],
      gaps: 0,
      errors: [] as unknown[],
      sockets,
      close: async () => {
        sockets.forEach((s) => s.resume());
        await client.dispose();
      },
    };
    client.subscribe(
      { query, variables },
      {
        next: (r) => {
          if (r.errors) sub.errors.push(...r.errors);
          collect(sub.label, r.data as Record<string, unknown>, sub);
        },
        error: (e) => sub.errors.push(e),
        complete: () => undefined,
      },
    );
    open.push(sub);
    return sub;
  };

  const sseSub = async (key: string, variables: Record<string, unknown>, query = DOC): Promise<Sub> => {
    const sse = await sseSubscribe(url, query, { key, variables });
    let stopped = false;
    const sub: Sub = {
      label: `sse ${JSON.stringify(variables)}`,
      traces: [],
      gaps: 0,
      errors: [],
      close: async () => {
        stopped = true;
        sse.abort();
      },
    };
    void (async () => {
      try {
        for (;;) {
          const r: SseResult | undefined = await sse.next(120_000);
          if (!r || stopped) return;
          if (r.errors) sub.errors.push(...r.errors);
          collect(sub.label, r.data, sub);
        }
      } catch (e) {
        if (!stopped) sub.errors.push(String(e));
      }
    })();
    open.push(sub);
    return sub;
  };

  const record = async (input: TraceInput[]): Promise<number[]> =>
    (dataOf(await gw.raw(RECORD, { input })) as { recordTraces: { seq: number }[] }).recordTraces.map((t) => t.seq);
  const lastSeq = async () => (dataOf(await gw.raw("{ chainHead { nextSeq } }")) as { chainHead: { nextSeq: number } }).chainHead.nextSeq - 1;

  /** Record a warm-up trace (principal `principalId`) until every sub got one: they are all live. */
  const untilLive = async (subs: readonly Sub[], principalId = "team-a/warm") => {
    const deadline = Date.now() + 60_000;
    const seen = subs.map((s) => s.traces.length);
    while (subs.some((s, i) => s.traces.length === seen[i])) {
      if (Date.now() > deadline) throw new Error("subscriptions never went live");
      await record([invoke(`warm-${n++}`, { principalId })]);
      await sleep(50);
    }
    // Let every stream drain what the warm-up left (queues empty, nothing in flight).
    await sleep(200);
  };
  const settle = async (subs: readonly Sub[], want: (s: Sub) => number) => {
    for (const s of subs) await waitFor(() => s.traces.length >= want(s), () => `${s.label}: ${s.traces.length}/${want(s)}`, 30_000);
    await sleep(200); // nothing more arrives
  };
  const after = (s: Sub, seq: number) => s.traces.filter((t) => t.seq > seq).map((t) => t.seq);
  const counters = () => ({ ...liveExecutionCounters });
  /** Close subscriptions and give the server the time to end them (the counters are process-wide). */
  const closeAll = async (subs: readonly Sub[]) => {
    await Promise.all(subs.map((s) => s.close()));
    await sleep(500);
  };

  beforeAll(async () => {
    gw = await createTestGateway({ backend, limits: { ratePerMinute: 100_000 } });
    url = `http://127.0.0.1:${(await gw.app.start(0)).port}/graphql`;
  });
  afterAll(async () => {
    await Promise.all(open.map((s) => s.close().catch(() => undefined)));
    await gw.app.stop();
    await gw.close();
  });

  it("executes each live event once for subscribers with the same document, variables (but afterSeq) and scope, over graphql-ws and SSE", async () => {
    const boundary = await lastSeq();
    const subs = [
      wsSub(gw.adminKey, { afterSeq: boundary }),
      wsSub(gw.adminKey, { afterSeq: boundary }),
      wsSub(gw.adminKey, {}),
      await sseSub(gw.adminKey, {}),
      await sseSub(gw.adminKey, { afterSeq: boundary }),
    ];
    await untilLive(subs);
    const start = await lastSeq();
    const before = counters();
    const seqs = await record(Array.from({ length: 6 }, (_, i) => invoke(`shared-${n++}`, { principalId: "team-a/x", args: { i, ratio: 1.5, big: 2 ** 60 } })));
    await settle(subs, (s) => s.traces.filter((t) => t.seq <= start).length + seqs.length);
    const now = counters();
    // One execution per event for the whole group; every other delivery reused it.
    expect(now.executed - before.executed).toBe(seqs.length);
    expect(now.reused - before.reused).toBe(seqs.length * (subs.length - 1));
    // Serialized once per event for all of them, graphql-ws and SSE alike.
    expect(now.serialized - before.serialized).toBe(seqs.length);
    // Live graphql-ws subscribers idle on an empty queue get the shared frame written directly.
    expect(now.direct - before.direct).toBe(seqs.length * subs.filter((s) => s.label.startsWith("ws")).length);
    for (const s of subs) {
      expect(after(s, start), s.label).toEqual(seqs);
      expect(s.errors, s.label).toEqual([]);
      expect(s.gaps, s.label).toBe(0);
    }
    // The shared, once-serialized payload is each subscriber's exact trace.
    const wsArgs = subs[0]!.traces.filter((t) => t.seq > start).map((t) => t.args);
    expect(wsArgs).toEqual(subs[3]!.traces.filter((t) => t.seq > start).map((t) => t.args));
    expect(wsArgs[2]).toEqual({ i: 2, ratio: 1.5, big: 2 ** 60 });
    await closeAll(subs);
  });

  it("never shares across principal scopes, filters or documents, and each gets exactly its traces", async () => {
    const teamA = await gw.issueKey(["traces:read"], ["team-a/*"]);
    const teamA2 = await gw.issueKey(["traces:read"], ["team-a/*"]);
    const teamB = await gw.issueKey(["traces:read"], ["team-b/*"]);
    const boundary = await lastSeq();
    const v = { afterSeq: boundary };
    const groups = {
      // Two keys with the same scope: one execution key, one group.
      teamA: [wsSub(teamA, v), wsSub(teamA2, v), await sseSub(teamA, {})],
      teamB: [wsSub(teamB, v), await sseSub(teamB, {})],
      all: [wsSub(gw.adminKey, v), await sseSub(gw.adminKey, {})],
      filtered: [wsSub(gw.adminKey, { ...v, filter: { principalId: "team-b/y" } }), await sseSub(gw.adminKey, { filter: { principalId: "team-b/y" } })],
      otherDoc: [wsSub(gw.adminKey, v, OTHER_DOC), await sseSub(gw.adminKey, {}, OTHER_DOC)],
    };
    const everyone = Object.values(groups).flat();
    // Warm-up traces every group sees (team-b/y passes every filter and scope but team-a's).
    await untilLive([...groups.teamB, ...groups.all, ...groups.filtered, ...groups.otherDoc], "team-b/y");
    await untilLive(groups.teamA, "team-a/warm");
    const start = await lastSeq();
    const before = counters();
    const inputs = Array.from({ length: 8 }, (_, i) => invoke(`scoped-${n++}`, { principalId: ["team-a/x", "team-b/y", "team-c/z", "team-a/w"][i % 4]! }));
    const seqs = await record(inputs);
    const principalOf = new Map(seqs.map((seq, i) => [seq, inputs[i]!.principalId]));
    const want: Record<keyof typeof groups, number[]> = {
      teamA: seqs.filter((s) => principalOf.get(s)!.startsWith("team-a/")),
      teamB: seqs.filter((s) => principalOf.get(s)!.startsWith("team-b/")),
      all: seqs,
      filtered: seqs.filter((s) => principalOf.get(s) === "team-b/y"),
      otherDoc: seqs,
    };
    for (const [name, subs] of Object.entries(groups)) {
      await settle(subs, (s) => s.traces.filter((t) => t.seq <= start).length + want[name as keyof typeof groups].length);
    }
    const now = counters();
    // One execution per event per group: never one group's result for another's member.
    const perGroup = Object.values(want).reduce((sum, w) => sum + w.length, 0);
    expect(now.executed - before.executed).toBe(perGroup);
    expect(now.reused - before.reused).toBe(Object.entries(groups).reduce((sum, [name, subs]) => sum + want[name as keyof typeof groups].length * (subs.length - 1), 0));
    for (const [name, subs] of Object.entries(groups)) {
      for (const s of subs) {
        expect(after(s, start), `${name} ${s.label}`).toEqual(want[name as keyof typeof groups]);
        expect(s.errors, `${name} ${s.label}`).toEqual([]);
      }
    }
    expect(groups.teamA.flatMap((s) => s.traces).every((t) => t.principalId.startsWith("team-a/"))).toBe(true);
    expect(groups.teamB.flatMap((s) => s.traces).every((t) => t.principalId.startsWith("team-b/"))).toBe(true);
    await closeAll(everyone);
  });

  it("a member whose socket backs up falls back to its own queue and catch-up; the rest of its group stays live", async () => {
    const boundary = await lastSeq();
    const paused = wsSub(gw.adminKey, { afterSeq: boundary });
    const live = [wsSub(gw.adminKey, { afterSeq: boundary }), await sseSub(gw.adminKey, {})];
    await untilLive([paused, ...live]);
    const start = await lastSeq();
    paused.sockets.forEach((s) => s.pause());
    const before = counters();
    // ~8 MB of frames: more than the loopback socket buffers take while nobody reads.
    const pad = "p".repeat(20_000);
    const seqs: number[] = [];
    for (let b = 0; b < 10; b++) seqs.push(...(await record(Array.from({ length: 40 }, (_, i) => invoke(`backed-${n++}`, { args: { pad, i } })))));
    // The others got everything while one member did not read.
    await settle(live, (s) => s.traces.filter((t) => t.seq <= start).length + seqs.length);
    for (const s of live) expect(after(s, start), s.label).toEqual(seqs);
    expect(paused.traces.filter((t) => t.seq > start).length).toBeLessThan(seqs.length);
    paused.sockets.forEach((s) => s.resume());
    await settle([paused], (s) => s.traces.filter((t) => t.seq <= start).length + seqs.length);
    expect(after(paused, start)).toEqual(seqs);
    expect(paused.gaps).toBe(0);
    expect(paused.errors).toEqual([]);
    // Some of its events were declined by the direct path (the socket was full) and went the queue's way.
    expect(counters().direct - before.direct).toBeLessThan(2 * seqs.length);
    await closeAll([paused, ...live]);
  });

  for (const transport of ["ws", "sse"] as const) {
    it(`${transport}: a member joining mid-stream gets exactly its catch-up, then live events shared with the group`, async () => {
      const boundary = await lastSeq();
      const live = [wsSub(gw.adminKey, { afterSeq: boundary }), await sseSub(gw.adminKey, {})];
      await untilLive(live);
      const first = await record(Array.from({ length: 5 }, () => invoke(`mid-${n++}`)));
      const resumeAt = first[1]!;
      // Ingest keeps going while the new member replays and joins.
      let stop = false;
      const written: number[] = [...first];
      const writer = (async () => {
        while (!stop) {
          written.push(...(await record([invoke(`mid-${n++}`), invoke(`mid-${n++}`)])));
          await sleep(15);
        }
      })();
      await sleep(100);
      const joiner = transport === "ws" ? wsSub(gw.adminKey, { afterSeq: resumeAt }) : await sseSub(gw.adminKey, { afterSeq: resumeAt });
      await sleep(400);
      stop = true;
      await writer;
      const members = [...live, joiner];
      await settle([joiner], () => written.filter((s) => s > resumeAt).length);
      // Exactly everything after resumeAt, in order, once (other traces are the warm-ups, none after resumeAt).
      const expected = (await lastSeq()) - resumeAt;
      expect(after(joiner, resumeAt)).toEqual(Array.from({ length: expected }, (_, i) => resumeAt + 1 + i));
      expect(joiner.traces.every((t) => t.seq > resumeAt)).toBe(true);
      expect(joiner.gaps).toBe(0);
      // Now live: the next events execute once for the three of them.
      const start = await lastSeq();
      const before = counters();
      const seqs = await record(Array.from({ length: 4 }, () => invoke(`mid-${n++}`)));
      await settle(members, (s) => s.traces.filter((t) => t.seq <= start).length + seqs.length);
      const now = counters();
      expect(now.executed - before.executed).toBe(seqs.length);
      expect(now.reused - before.reused).toBe(seqs.length * (members.length - 1));
      for (const s of members) {
        expect(after(s, start), s.label).toEqual(seqs);
        expect(s.errors, s.label).toEqual([]);
      }
      await closeAll(members);
    });
  }
});

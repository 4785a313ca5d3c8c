/**
 * `npm run bench:profile -- <page|verify|ingest>`: a CPU profile of one hot path, in process,
 * summarised as the top self-time entries (function, file) of the main thread, for the
 * "profile summary" lines of BENCHMARKS.md. Worker threads (the verify hash pool) are not in
 * the main thread's profile; their share shows as idle time there.
 *
 * page: 3,000 GraphQL `traces(first: 50)` pages (principal + time window, newest first) on
 *       the cached 1M-trace chain; verify: one verifyChain over it; ingest: 20 store appends
 *       of 1,000 traces on a fresh database; fanout [subscribers] [events/s] [seconds]: one
 *       point of benchmark 5 (default 1,000 graphql-ws subscribers at 100 events/s for 5 s;
 *       the subscribers are other processes, so the profile is the gateway's alone).
 */
import { Session } from "node:inspector/promises";
import { TraceGenerator } from "./data.js";
import { chainDb, createTemplate, freshDb, open, removeDb, timeSpan } from "./db.js";
import { app, dataOf, gc, post } from "./gql.js";
import { encodeTrace } from "../src/chain/trace.js";
import { formatIsoMicros } from "../src/chain/time.js";
import { makeQueries } from "./pages.js";
import { ingestBaseline, streamPoint } from "./streams.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const PAGE = `query Page($filter: TraceFilter) { traces(filter: $filter, orderBy: INVOKED_AT_DESC, first: 50) {
  edges { cursor node { seq actionId invokedAt } } pageInfo { hasNextPage endCursor } } }`;

/**
 * The top `n` self-time entries of a profile as "share  ms  function  file:line" lines, the
 * share taken of the busy samples (idle time is reported on a first line of its own).
 */
export function topSelfTime(profile: Profile, n: number): string[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const where = frame.url ? `${frame.url.replace(/^.*\/node_modules\//, "").replace(/^.*\/(src|bench)\//, "$1/")}:${frame.lineNumber + 1}` : "";
    const key = `${frame.functionName || "(anonymous)"} ${where}`.trim();
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  const idle = self.get("(idle)") ?? 0;
  self.delete("(idle)");
  const busy = total - idle;
  return [
    `busy ${(busy / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms; shares of busy time:`,
    ...[...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, us]) => `${((us / busy) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`),
  ];
}

async function profiled(work: () => Promise<void>): Promise<Profile> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 200 });
  await session.post("Profiler.start");
  await work();
  const { profile } = await session.post("Profiler.stop");
  session.disconnect();
  return profile as unknown as Profile;
}

const which = process.argv[2];
if (which === "ingest") {
  const template = await createTemplate();
  const traces = new TraceGenerator(11).take(20_000);
  const file = freshDb(template, "profile-ingest");
  const stores = await open(file);
  gc();
  const profile = await profiled(async () => {
    for (let i = 0; i < traces.length; i += 1_000) await stores.traces.append(traces.slice(i, i + 1_000).map(encodeTrace));
  });
  await stores.close();
  removeDb(file);
  console.log(topSelfTime(profile, 15).join("\n"));
} else if (which === "page" || which === "verify") {
  const chain = await chainDb(1_000_000, () => undefined);
  const stores = await open(chain.file);
  const gateway = await app(stores);
  const span = timeSpan(chain.file);
  const queries = makeQueries(3_000, 21, span.startUs, span.endUs);
  const page = async (q: (typeof queries)[number]) =>
    dataOf(await post(gateway, JSON.stringify({ query: PAGE, variables: { filter: { principalId: q.principalId, since: formatIsoMicros(q.sinceUs), until: formatIsoMicros(q.untilUs) } } })));
  for (const q of queries.slice(0, 300)) await page(q); // warm up
  gc();
  const profile = await profiled(async () => {
    if (which === "page") for (const q of queries) await page(q);
    else dataOf(await post(gateway, JSON.stringify({ query: "{ verifyChain { ok checked } }" })));
  });
  await stores.close();
  console.log(topSelfTime(profile, 15).join("\n"));
} else if (which === "fanout") {
  const [subscribers = 1_000, eventsPerSec = 100, seconds = 5] = process.argv.slice(3).map(Number);
  const template = await createTemplate();
  try {
    const baseline = await ingestBaseline(template, eventsPerSec, seconds, console.log);
    const profile = await profiled(async () => {
      await streamPoint(template, { subscribers, eventsPerSec, denyEvery: 0, seconds }, 0, baseline, console.log);
    });
    console.log(topSelfTime(profile, 15).join("\n"));
  } finally {
    removeDb(template);
  }
} else {
  console.error("usage: bench/profile.ts page|verify|ingest|fanout [subscribers events/s seconds]");
  process.exit(2);
}
process.exit(0);

/**
 * Benchmark 2 over real sockets: the page query served by tracegate's HTTP server against
 * the stack's ceiling, a bare graphql-yoga server answering the same response bytes from
 * memory (bench/page-server.ts), and, on PostgreSQL, against PostGraphile v4 on the same
 * table. Each server runs in its own process with NODE_ENV=production (as deployed: graphql-js
 * skips its development checks), one load generator process (bench/page-load.ts) keeps
 * CONNECTIONS keep-alive connections busy, and the server's CPU time is read from
 * /proc/<pid>/stat around each timed run. Runs alternate between the servers (A B A B ...),
 * so a change in machine load hits both; the ratios are taken per round, then the median.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import pg from "pg";
import { formatIsoMicros } from "../src/chain/time.js";
import { BENCH_DIR, CACHE_DIR, ROOT } from "./db.js";
import { HEADERS } from "./gql.js";
import { PAGE_QUERY, pageKey, type WindowQuery } from "./pages.js";
import { median } from "./stats.js";

/** One server's figures over the rounds. */
export interface HttpServerRuns {
  label: string;
  /** Requests per second, one per round. */
  rates: number[];
  /** Server CPU (user + system) per request in ms, one per round. */
  cpuMs: number[];
  /** Mean response body bytes. */
  bytesPerResponse: number;
}

export interface PageHttpResult {
  connections: number;
  seconds: number;
  rounds: number;
  distinctQueries: number;
  /** tracegate and bare yoga on SQLite; plus tracegate and PostGraphile on PostgreSQL when available. */
  servers: HttpServerRuns[];
  /** Per-round ratios (median): tracegate req/s over bare yoga's; tracegate (PostgreSQL) over PostGraphile's. */
  ofBare: number;
  ofBareCpu: number;
  overPostgraphile?: number;
  /** Why PostGraphile was not measured, when it was not. */
  postgraphileSkipped?: string;
}

/** The PostGraphile query of the same page: a connection over pg4.traces_page(principal, since, until). */
const PG4_QUERY = `query Page($principal: String!, $since: Datetime!, $until: Datetime!) {
  tracesPage(principal: $principal, since: $since, until: $until, first: 50) {
    edges { cursor node { seq actionId invokedAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/**
 * The function PostGraphile serves: the same rows, order and index as tracegate's page
 * (Trace_principalId_invokedAt_seq_idx), in a schema of its own beside Prisma's tables.
 */
const PG4_FUNCTION = `
  CREATE SCHEMA IF NOT EXISTS pg4;
  CREATE OR REPLACE FUNCTION pg4.traces_page(principal text, since timestamptz, until timestamptz)
  RETURNS SETOF public."Trace" LANGUAGE sql STABLE AS $$
    SELECT * FROM public."Trace"
    WHERE "principalId" = principal AND "invokedAt" >= since AND "invokedAt" < until
    ORDER BY "invokedAt" DESC, "seq" DESC
  $$;`;

interface Server {
  child: ChildProcess;
  port: number;
}

const CHILD_ENV = { ...process.env, NODE_ENV: "production" };

/** Start bench/page-server.ts KIND SOURCE and wait for its port. */
async function startServer(kind: string, source: string): Promise<Server> {
  const child = spawn(process.execPath, ["--max-semi-space-size=64", "--import", "tsx", "bench/page-server.ts", kind, source], {
    cwd: ROOT,
    env: CHILD_ENV,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${kind} server exited with ${code} before it was ready`)));
    lines.on("line", (line) => {
      const m = /^READY (\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
    });
  });
  return { child, port };
}

async function stopServer(s: Server): Promise<void> {
  const exited = new Promise((resolve) => s.child.once("exit", resolve));
  s.child.kill("SIGTERM");
  await exited;
}

/** CPU seconds (user + system) of a process so far, from /proc/<pid>/stat (Linux; clock ticks of 1/100 s). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** One timed load against a server: req/s and the server's CPU ms per request. */
async function load(server: Server, bodiesFile: string, seconds: number, connections: number, authorization?: string) {
  const cpu0 = processCpuSeconds(server.child.pid!);
  const child = spawn(process.execPath, ["--import", "tsx", "bench/page-load.ts", String(server.port), String(seconds), String(connections), bodiesFile, ...(authorization ? [authorization] : [])], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const cpu = processCpuSeconds(server.child.pid!) - cpu0;
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  const r = JSON.parse(out.trim().split("\n").pop() ?? "{}") as { requests: number; failed: number; bytes: number; seconds: number };
  if (r.failed > 0 || r.requests === 0) throw new Error(`load: ${r.failed} failed requests of ${r.requests + r.failed}`);
  return { rate: r.requests / r.seconds, cpuMs: (cpu * 1000) / r.requests, bytesPerResponse: r.bytes / r.requests };
}

async function postText(port: number, body: string, headers: Record<string, string>): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  return res.text();
}

/** Run `servers` in alternating order for `rounds` rounds after one warm-up each. */
async function alternate(
  servers: { label: string; server: Server; bodies: string; authorization?: string }[],
  o: { seconds: number; connections: number; rounds: number; log: (line: string) => void },
): Promise<HttpServerRuns[]> {
  for (const s of servers) await load(s.server, s.bodies, Math.min(2, o.seconds), o.connections, s.authorization);
  const runs = servers.map((s) => ({ label: s.label, rates: [] as number[], cpuMs: [] as number[], bytes: [] as number[] }));
  for (let round = 0; round < o.rounds; round++) {
    const order = servers.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const i of order) {
      const s = servers[i]!;
      const r = await load(s.server, s.bodies, o.seconds, o.connections, s.authorization);
      runs[i]!.rates.push(r.rate);
      runs[i]!.cpuMs.push(r.cpuMs);
      runs[i]!.bytes.push(r.bytesPerResponse);
    }
    o.log(`  HTTP round ${round + 1}/${o.rounds}: ${runs.map((r) => `${r.label} ${Math.round(r.rates.at(-1)!)} req/s, ${r.cpuMs.at(-1)!.toFixed(3)} ms CPU/req`).join("; ")}`);
  }
  return runs.map((r) => ({ label: r.label, rates: r.rates, cpuMs: r.cpuMs, bytesPerResponse: median(r.bytes) }));
}

const ratio = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]!));

/**
 * tracegate over HTTP against bare yoga (same bytes) on `sqliteFile`, and, with `pgUrl`,
 * tracegate on PostgreSQL against PostGraphile v4 on the same table.
 * @throws Error when the bare server's responses are not byte for byte tracegate's.
 */
export async function pageHttpRun(o: {
  sqliteFile: string;
  pgUrl?: string | undefined;
  queries: readonly WindowQuery[];
  seconds: number;
  connections: number;
  rounds: number;
  log: (line: string) => void;
}): Promise<PageHttpResult> {
  const variables = o.queries.map((q) => ({
    filter: { principalId: q.principalId, since: formatIsoMicros(q.sinceUs), until: formatIsoMicros(q.untilUs) },
    after: null,
  }));
  const bodies = variables.map((v) => JSON.stringify({ query: PAGE_QUERY, variables: v }));
  const bodiesFile = join(CACHE_DIR, "page-http-bodies.json");
  writeFileSync(bodiesFile, JSON.stringify(bodies));
  const auth = HEADERS.authorization;
  const tracegate = await startServer("tracegate", o.sqliteFile);
  const started: Server[] = [tracegate];
  try {
    // The bare server answers from tracegate's own responses, so both send the same bytes.
    const texts: string[] = [];
    const pages: [string, unknown][] = [];
    for (const [i, body] of bodies.entries()) {
      const text = await postText(tracegate.port, body, { authorization: auth });
      texts.push(text);
      pages.push([pageKey(variables[i]!), (JSON.parse(text) as { data: { traces: unknown } }).data.traces]);
    }
    const pagesFile = join(CACHE_DIR, "page-http-pages.json");
    writeFileSync(pagesFile, JSON.stringify(pages));
    const bare = await startServer("bare", pagesFile);
    started.push(bare);
    for (const [i, body] of bodies.entries()) {
      if ((await postText(bare.port, body, {})) !== texts[i]) throw new Error(`bare yoga's response differs from tracegate's for ${body}`);
    }
    o.log(`  bare yoga answers the ${bodies.length} queries with tracegate's bytes`);
    const servers = await alternate(
      [
        { label: "tracegate (SQLite)", server: tracegate, bodies: bodiesFile, authorization: auth },
        { label: "bare graphql-yoga", server: bare, bodies: bodiesFile },
      ],
      o,
    );
    const [tg, by] = servers as [HttpServerRuns, HttpServerRuns];
    const result: PageHttpResult = {
      connections: o.connections,
      seconds: o.seconds,
      rounds: o.rounds,
      distinctQueries: bodies.length,
      servers,
      ofBare: ratio(tg.rates, by.rates),
      ofBareCpu: ratio(by.cpuMs, tg.cpuMs),
    };
    await stopServer(tracegate);
    await stopServer(bare);
    started.length = 0;
    if (!o.pgUrl) {
      result.postgraphileSkipped = "no PostgreSQL";
      return result;
    }
    if (!existsSync(join(BENCH_DIR, "postgraphile", "node_modules", "postgraphile", "package.json"))) {
      result.postgraphileSkipped = "PostGraphile v4 is not installed (npm ci --prefix bench/postgraphile)";
      return result;
    }
    const client = new pg.Client({ connectionString: o.pgUrl });
    await client.connect();
    try {
      await client.query(PG4_FUNCTION);
    } finally {
      await client.end();
    }
    const pgBodies = o.queries.map((q) =>
      JSON.stringify({ query: PG4_QUERY, variables: { principal: q.principalId, since: formatIsoMicros(q.sinceUs), until: formatIsoMicros(q.untilUs) } }),
    );
    const pgBodiesFile = join(CACHE_DIR, "page-http-pg4-bodies.json");
    writeFileSync(pgBodiesFile, JSON.stringify(pgBodies));
    const tracegatePg = await startServer("tracegate", o.pgUrl);
    started.push(tracegatePg);
    const pg4 = await startServer("postgraphile", o.pgUrl);
    started.push(pg4);
    // Same rows in the same order: compare the seqs of every page (PostGraphile writes bigint seq as a string).
    for (const [i, body] of bodies.entries()) {
      const ours = (JSON.parse(await postText(tracegatePg.port, body, { authorization: auth })) as { data: { traces: { edges: { node: { seq: number } }[] } } }).data.traces;
      const theirs = (JSON.parse(await postText(pg4.port, pgBodies[i]!, {})) as { data: { tracesPage: { edges: { node: { seq: string } }[] } } }).data.tracesPage;
      if (ours.edges.map((e) => String(e.node.seq)).join() !== theirs.edges.map((e) => e.node.seq).join()) {
        throw new Error(`PostGraphile's page differs from tracegate's for ${body}`);
      }
    }
    o.log(`  PostGraphile v4 returns the same rows for the ${bodies.length} queries`);
    const pgServers = await alternate(
      [
        { label: "tracegate (PostgreSQL)", server: tracegatePg, bodies: bodiesFile, authorization: auth },
        { label: "PostGraphile v4 (PostgreSQL)", server: pg4, bodies: pgBodiesFile },
      ],
      o,
    );
    result.servers.push(...pgServers);
    result.overPostgraphile = ratio(pgServers[0]!.rates, pgServers[1]!.rates);
    return result;
  } finally {
    for (const s of started) await stopServer(s);
  }
}

/**
 * One HTTP server of the page benchmark over real sockets (bench/page-http.ts), in its own
 * process so its CPU time is its own: `node --import tsx bench/page-server.ts KIND SOURCE`.
 *
 * - `tracegate SOURCE`: the gateway as `serve` builds it (bench/gql.ts: no rate limit) on a
 *   SQLite file or a PostgreSQL URL;
 * - `bare SOURCE`: a bare graphql-yoga server (yoga defaults, graphql-js schema, default
 *   resolvers) answering the same page query from memory: SOURCE is a JSON file of
 *   `[variablesJson, data.traces]` pairs taken from tracegate, so the response bytes are
 *   tracegate's; the stack's ceiling for this response;
 * - `postgraphile SOURCE`: PostGraphile v4 on the PostgreSQL copy of the chain, exposing the
 *   function `pg4.traces_page(principal, since, until)` (page-http.ts creates it) as
 *   `tracesPage`, a connection over the same rows, index and order.
 *
 * Prints `READY <port>` on stdout once listening on 127.0.0.1; ends on SIGTERM.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { createSchema, createYoga } from "graphql-yoga";
import { openStores, type Stores } from "../src/stores/index.js";
import { BENCH_DIR, hash, open } from "./db.js";
import { app } from "./gql.js";
import { pageKey } from "./pages.js";

/** SDL of the bare server: the shape of tracegate's page query, plain scalars. */
const BARE_SDL = /* GraphQL */ `
  enum TraceOrder { SEQ_ASC SEQ_DESC INVOKED_AT_ASC INVOKED_AT_DESC }
  input TraceFilter { principalId: String, since: String, until: String }
  type Trace { seq: Int! actionId: String! invokedAt: String! }
  type TraceEdge { cursor: String! node: Trace! }
  type PageInfo { hasNextPage: Boolean! endCursor: String }
  type TraceConnection { edges: [TraceEdge!]! pageInfo: PageInfo! }
  type Query { traces(filter: TraceFilter, orderBy: TraceOrder, first: Int, after: String): TraceConnection! }
`;

/** A listening server: its port and how to close it. */
interface Served {
  port: number;
  close(): Promise<void>;
}

/** Serve a plain node:http listener on an ephemeral loopback port. */
async function serve(handler: RequestListener, close: () => Promise<void>): Promise<Served> {
  const server = createServer({ keepAliveTimeout: 60_000 }, handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await close();
    },
  };
}

async function start(kind: string, source: string): Promise<Served> {
  if (kind === "tracegate") {
    const stores: Stores = source.startsWith("postgres")
      ? await openStores({ databaseUrl: source, databaseProvider: "postgresql" }, hash)
      : await open(source);
    const gateway = await app(stores);
    // The gateway's own listener (request ids, access log), as `serve` runs it.
    const { port } = await gateway.start(0);
    return {
      port,
      close: async () => {
        await gateway.stop();
        await stores.close();
      },
    };
  }
  if (kind === "bare") {
    const pages = new Map<string, unknown>(JSON.parse(readFileSync(source, "utf8")) as [string, unknown][]);
    const yoga = createYoga({
      schema: createSchema({
        typeDefs: BARE_SDL,
        resolvers: { Query: { traces: (_root: unknown, args: { filter?: unknown; after?: unknown }) => pages.get(pageKey(args)) } },
      }),
      graphiql: false,
      landingPage: false,
      logging: false,
    });
    return serve(yoga as unknown as RequestListener, async () => undefined);
  }
  if (kind === "postgraphile") {
    const { postgraphile } = loadPostgraphile();
    const middleware = postgraphile(source, ["pg4", "public"], {
      disableDefaultMutations: true,
      ignoreRBAC: true,
      setofFunctionsContainNulls: false,
      disableQueryLog: true,
      retryOnInitFail: false,
    });
    return serve(middleware, () => middleware.release());
  }
  throw new Error(`unknown server kind ${kind}`);
}

/**
 * PostGraphile v4 from its own install in bench/postgraphile (`npm ci --prefix bench/postgraphile`):
 * it needs graphql@15, and installed beside the project's graphql@16 npm gives its packages
 * two copies of graphql@15, which graphql refuses to mix.
 * @throws Error when it is not installed.
 */
function loadPostgraphile(): { postgraphile: PostgraphileFactory } {
  return createRequire(join(BENCH_DIR, "postgraphile", "package.json"))("postgraphile") as { postgraphile: PostgraphileFactory };
}

/** The part of PostGraphile's API used here (its types live in its own install). */
type PostgraphileFactory = (url: string, schemas: string[], options: Record<string, unknown>) => RequestListener & { release(): Promise<void> };

const [kind = "", source = ""] = process.argv.slice(2);
const served = await start(kind, source);
process.once("SIGTERM", () => {
  void served.close().finally(() => process.exit(0));
});
console.log(`READY ${served.port}`);

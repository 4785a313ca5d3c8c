/**
 * Test harness: a real gateway on a fresh copy of the migrated template database, driven
 * in process through yoga.fetch (STYLE.md 9) with the codegen-typed documents.
 */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { createRecordHasher, type RecordHasher } from "../../src/chain/hash.js";
import { buildApp, type App } from "../../src/server/app.js";
import { createLogger, type Logger } from "../../src/server/logger.js";
import { openStores, type Stores } from "../../src/stores/index.js";
import { type Backend, type RawDb, SQLITE } from "./backends.js";

export const TEST_SECRET = "tracegate-test-secret";

export interface GatewayOptions {
  backend?: Backend;
  /** An existing database (default: a fresh one from the backend). */
  databaseUrl?: string;
  secret?: string;
  /** Capture what the gateway logs (default: silent). */
  logger?: Logger;
}

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface TestGateway {
  app: App;
  stores: Stores;
  hash: RecordHasher;
  backend: Backend;
  databaseUrl: string;
  /** Raw SQL on the gateway's database (opened on first use, closed with the gateway). */
  db(): RawDb;
  /** Execute a typed document in process; returns the parsed response. */
  exec<R, V>(doc: TypedDocumentNode<R, V>, variables?: V): Promise<GraphQLResponse<R>>;
  /** Execute a raw query string (for malformed or hand-written documents). */
  raw(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<Record<string, unknown>>>;
  close(): Promise<void>;
}

/** Start a gateway in process on a fresh database of a backend (default SQLite). */
export async function createTestGateway(options: GatewayOptions = {}): Promise<TestGateway> {
  const backend = options.backend ?? SQLITE;
  const databaseUrl = options.databaseUrl ?? (await backend.freshDatabaseUrl());
  const hash = createRecordHasher(options.secret ?? TEST_SECRET);
  const stores = await openStores({ databaseUrl, databaseProvider: backend.name }, hash);
  const app = buildApp({ stores, hash, logger: options.logger ?? createLogger("silent") });
  let raw: RawDb | undefined;
  const post = async (body: unknown) => {
    const res = await app.yoga.fetch("http://tracegate.test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
      body: JSON.stringify(body),
    });
    return (await res.json()) as GraphQLResponse<never>;
  };
  return {
    app,
    stores,
    hash,
    backend,
    databaseUrl,
    db: () => (raw ??= backend.rawDb(databaseUrl)),
    exec: (doc, variables) => post({ query: print(doc), variables }),
    raw: (query, variables) => post({ query, variables }),
    close: async () => {
      await raw?.close();
      await stores.close();
    },
  };
}

/** The data of a response, failing the test with the errors when there are any. */
export function dataOf<T>(res: GraphQLResponse<T>): T {
  if (res.errors?.length || !res.data) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
  return res.data;
}

/** The extensions.code of each error of a response. */
export function codesOf(res: GraphQLResponse<unknown>): unknown[] {
  return (res.errors ?? []).map((e) => e.extensions?.code);
}

/**
 * Test harness: a real gateway on a fresh copy of the migrated template database, driven
 * in process through yoga.fetch (STYLE.md 9) with the codegen-typed documents.
 */
import { randomUUID } from "node:crypto";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { inject } from "vitest";
import { createRecordHasher, type RecordHasher } from "../../src/chain/hash.js";
import { buildApp, type App } from "../../src/server/app.js";
import { createLogger, type Logger } from "../../src/server/logger.js";
import { openStores, type Stores } from "../../src/stores/index.js";

export const TEST_SECRET = "tracegate-test-secret";

/** A fresh migrated SQLite file for this test; returns its path. */
export function freshSqliteFile(): string {
  const file = join(inject("tmpRoot"), `${randomUUID()}.db`);
  copyFileSync(inject("sqliteTemplate"), file);
  return file;
}

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface TestGateway {
  app: App;
  stores: Stores;
  hash: RecordHasher;
  file: string;
  /** Execute a typed document in process; returns the parsed response. */
  exec<R, V>(doc: TypedDocumentNode<R, V>, variables?: V): Promise<GraphQLResponse<R>>;
  /** Execute a raw query string (for malformed or hand-written documents). */
  raw(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<Record<string, unknown>>>;
  close(): Promise<void>;
}

/** Start a gateway on a fresh database; pass `logger` to capture what it logs. */
export async function createTestGateway(
  secret = TEST_SECRET,
  file = freshSqliteFile(),
  logger: Logger = createLogger("silent"),
): Promise<TestGateway> {
  const hash = createRecordHasher(secret);
  const stores = await openStores({ databaseUrl: `file:${file}`, databaseProvider: "sqlite" }, hash);
  const app = buildApp({ stores, hash, logger });
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
    file,
    exec: (doc, variables) => post({ query: print(doc), variables }),
    raw: (query, variables) => post({ query, variables }),
    close: () => stores.close(),
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

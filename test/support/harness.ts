/**
 * Test harness: a real gateway on a fresh copy of the migrated template database, driven in
 * process through yoga.fetch (docs/code-style.md#two-test-tiers) with the codegen-typed
 * documents.
 */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { generateKeyPairSync } from "node:crypto";
import { print } from "graphql";
import { createRecordHasher, type RecordHasher } from "../../src/chain/hash.js";
import type { Scope } from "../../src/access/scopes.js";
import { createCheckpointMac } from "../../src/chain/checkpoint.js";
import { defaultLimits, type Limits } from "../../src/config.js";
import { issueApiKey } from "../../src/app/keys.js";
import { buildApp, type App } from "../../src/http/app.js";
import type { TraceBus } from "../../src/streams/bus.js";
import type { Redis } from "ioredis";
import { createLogger, type Logger } from "../../src/logger.js";
import { type CheckpointSigner, loadSigner } from "../../src/app/signing-key.js";
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
  /** Request limits (default: the configuration defaults). */
  limits?: Partial<Limits>;
  secretsInTraces?: "redact" | "reject";
  keyCacheMs?: number;
  /** Checkpoint signer (default: a freshly generated Ed25519 key; null: none, as in production without a key). */
  signer?: CheckpointSigner | null;
  /** The trace bus (default: in-process). */
  bus?: TraceBus;
  /** Live traces held per subscriber. */
  streamQueueLimit?: number;
  /** Share rate-limit counters through Redis. */
  rateLimitRedis?: Redis;
}

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface TestGateway {
  app: App;
  stores: Stores;
  hash: RecordHasher;
  /** The checkpoint signer the gateway was built with, if any. */
  signer: CheckpointSigner | undefined;
  backend: Backend;
  databaseUrl: string;
  /** Raw SQL on the gateway's database (opened on first use, closed with the gateway). */
  db(): RawDb;
  /** The admin key the harness created; exec and raw send it. */
  adminKey: string;
  /** Execute a typed document in process with the admin key; returns the parsed response. */
  exec<R, V>(doc: TypedDocumentNode<R, V>, variables?: V): Promise<GraphQLResponse<R>>;
  /** Execute a raw query string (for malformed or hand-written documents). */
  raw(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<Record<string, unknown>>>;
  /** exec/raw with another key (null: no Authorization header at all). */
  as(key: string | null): Pick<TestGateway, "exec" | "raw">;
  /** Issue a key straight through the store. */
  issueKey(scopes: Scope[], principals?: string[]): Promise<string>;
  close(): Promise<void>;
}

/** Start a gateway in process on a fresh database of a backend (default SQLite). */
export async function createTestGateway(options: GatewayOptions = {}): Promise<TestGateway> {
  const backend = options.backend ?? SQLITE;
  const databaseUrl = options.databaseUrl ?? (await backend.freshDatabaseUrl());
  const hash = createRecordHasher(options.secret ?? TEST_SECRET);
  const stores = await openStores({ databaseUrl, databaseProvider: backend.name }, hash);
  const signer = options.signer === null ? undefined : (options.signer ?? generateTestSigner());
  const app = buildApp({
    stores,
    hash,
    checkpointMac: createCheckpointMac(options.secret ?? TEST_SECRET),
    signer,
    logger: options.logger ?? createLogger("silent"),
    limits: defaultLimits(options.limits),
    ...(options.secretsInTraces ? { secretsInTraces: options.secretsInTraces } : {}),
    ...(options.keyCacheMs === undefined ? {} : { keyCacheMs: options.keyCacheMs }),
    ...(options.bus ? { bus: options.bus } : {}),
    ...(options.rateLimitRedis ? { rateLimitRedis: options.rateLimitRedis } : {}),
    ...(options.streamQueueLimit === undefined ? {} : { streamQueueLimit: options.streamQueueLimit }),
  });
  const issueKey = async (scopes: Scope[], principals?: string[]) =>
    (await issueApiKey(stores.keys, { name: `test ${scopes.join(",")}`, scopes, principals: principals ?? null }, "cli")).key;
  const adminKey = await issueKey(["admin"]);
  let raw: RawDb | undefined;
  const client = (key: string | null) => {
    const post = async (body: unknown) => {
      const headers: Record<string, string> = { "content-type": "application/json", accept: "application/graphql-response+json" };
      if (key !== null) headers.authorization = `Bearer ${key}`;
      const res = await app.yoga.fetch("http://tracegate.test/graphql", { method: "POST", headers, body: JSON.stringify(body) });
      return (await res.json()) as GraphQLResponse<never>;
    };
    return {
      exec: <R, V>(doc: TypedDocumentNode<R, V>, variables?: V) => post({ query: print(doc), variables }) as Promise<GraphQLResponse<R>>,
      raw: (query: string, variables?: Record<string, unknown>) => post({ query, variables }),
    };
  };
  const admin = client(adminKey);
  return {
    app,
    stores,
    hash,
    signer,
    backend,
    databaseUrl,
    db: () => (raw ??= backend.rawDb(databaseUrl)),
    adminKey,
    exec: admin.exec,
    raw: admin.raw,
    as: client,
    issueKey,
    close: async () => {
      await raw?.close();
      await stores.close();
    },
  };
}

/** A signer over a fresh Ed25519 key. */
export function generateTestSigner(): CheckpointSigner {
  const { privateKey } = generateKeyPairSync("ed25519");
  return loadSigner(privateKey.export({ format: "pem", type: "pkcs8" }).toString());
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

/**
 * The ports every use case works with, and the caller they act for.
 *
 * A use case (src/app/*.ts) takes a `Caller`: the process's ports (stores, the chain's hasher
 * and MACs, the signer, the live bus, settings) plus who asks (the viewer) and until when
 * (the abort signal). It never sees a transport: GraphQL resolvers (src/graphql/), HTTP routes
 * (src/http/) and CLI commands (src/cli/) each make a Caller with `callerOf` and call in.
 *
 * `callerOf` is also the one principal-scope point: the caller's trace store is confined to
 * the viewer's principals there (src/stores/scoped-trace-store.ts), so no use case, field or
 * route can read another principal's traces by forgetting a filter.
 */
import type { Viewer } from "../access/authenticator.js";
import type { CheckpointMac } from "../chain/checkpoint.js";
import type { RecordHasher } from "../chain/hash.js";
import type { Config } from "../config.js";
import type { Stores } from "../stores/index.js";
import { confineTraces, type ScopedTraceStore } from "../stores/scoped-trace-store.js";
import type { TraceBus } from "../streams/bus.js";
import type { CheckpointSigner } from "./signing-key.js";

/**
 * Whether a key is still valid, for work that outlives one lookup (subscriptions, long
 * walks), and the cache to drop when a key is revoked. The gateway's is the Authenticator
 * (src/access/authenticator.ts); the CLI's operator holds no key (`OPERATOR_KEYS`).
 */
export interface KeyValidity {
  /** @throws TracegateError UNAUTHENTICATED once the viewer's key was revoked or deleted. */
  assertActive(viewer: Viewer): Promise<void>;
  /** Forget cached key lookups, so a revocation takes effect at once. */
  forgetAll(): void;
}

/** The process's ports: built once (buildApp in src/http/app.ts, or a CLI command). */
export interface Gateway {
  stores: Stores;
  /** The record hasher bound to the configured HMAC secret. */
  hash: RecordHasher;
  /** MAC of checkpoint messages under the chain secret (prune checkpoints). */
  checkpointMac: CheckpointMac;
  /** Ed25519 signer of checkpoints (docs/security-model.md#signed-checkpoints); undefined when none is configured. */
  signer?: CheckpointSigner | undefined;
  /** Where appended traces are announced to live subscribers (src/streams/bus.ts). */
  bus: TraceBus;
  /** Live traces held per subscriber before it catches up from the database. */
  streamQueueLimit: number;
  /** What ingest does with values that look like credentials. */
  secretsInTraces: Config["secretsInTraces"];
  keys: KeyValidity;
}

/** The stores as one caller sees them: traces confined to its principals. */
export interface CallerStores extends Omit<Stores, "traces" | "close"> {
  traces: ScopedTraceStore;
}

/** A Gateway acting for one viewer until `signal` aborts. */
export interface Caller extends Omit<Gateway, "stores"> {
  stores: CallerStores;
  /** The API key behind this request (the transport refuses requests without one). */
  viewer: Viewer;
  /**
   * Aborted when the client goes away: the HTTP request's signal, or, over graphql-ws, the
   * operation's. Long walks check it between pages (src/app/cancellation.ts).
   */
  signal: AbortSignal;
}

/** The caller acting for `viewer`, its trace store confined to the viewer's principals. */
export function callerOf(gateway: Gateway, viewer: Viewer, signal: AbortSignal): Caller {
  const { stores, ...ports } = gateway;
  return {
    ...ports,
    stores: { keys: stores.keys, revocations: stores.revocations, traces: confineTraces(stores.traces, viewer.principals) },
    viewer,
    signal,
  };
}

/** The local operator of a CLI command: an admin over every principal, holding no API key. */
export const OPERATOR: Viewer = { keyId: "cli", name: "operator", scopes: new Set(["admin"]), principals: null };

/** Key validity for the operator: no key to revoke, nothing cached. */
export const OPERATOR_KEYS: KeyValidity = {
  assertActive: async () => undefined,
  forgetAll: () => undefined,
};

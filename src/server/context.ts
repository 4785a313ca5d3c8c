/**
 * What every GraphQL operation receives: the stores and the chain's hasher. Built once per
 * process in buildApp and shared by HTTP and (later) WebSocket requests.
 */
import type { RecordHasher } from "../chain/hash.js";
import type { Stores } from "../stores/index.js";
import type { Authenticator, Viewer } from "./auth.js";

export interface GatewayContext {
  stores: Stores;
  /** The record hasher bound to the configured HMAC secret. */
  hash: RecordHasher;
  /** The API key behind this request (the transport refuses requests without one). */
  viewer: Viewer;
  authenticator: Authenticator;
  /** What ingest does with values that look like credentials. */
  secretsInTraces: "redact" | "reject";
}

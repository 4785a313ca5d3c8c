/**
 * What every GraphQL operation receives: the stores and the chain's hasher. Built once per
 * process in buildApp and shared by HTTP and (later) WebSocket requests.
 */
import type { RecordHasher } from "../chain/hash.js";
import type { Stores } from "../stores/index.js";

export interface GatewayContext {
  stores: Stores;
  /** The record hasher bound to the configured HMAC secret. */
  hash: RecordHasher;
}

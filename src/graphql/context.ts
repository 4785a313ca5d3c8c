/**
 * What every GraphQL operation receives: the stores, the chain's hasher and the caller's
 * Viewer. The shared part is built once in buildApp; the viewer is added per request by
 * the HTTP guard or per operation by the WebSocket transport.
 */
import type { CheckpointMac } from "../chain/checkpoint.js";
import type { RecordHasher } from "../chain/hash.js";
import type { Stores } from "../stores/index.js";
import type { TraceBus } from "../streams/bus.js";
import type { Authenticator, Viewer } from "../access/authenticator.js";
import type { CheckpointSigner } from "../app/signing-key.js";

export interface GatewayContext {
  stores: Stores;
  /** The record hasher bound to the configured HMAC secret. */
  hash: RecordHasher;
  /** MAC of checkpoint messages under the chain secret (prune checkpoints). */
  checkpointMac: CheckpointMac;
  /**
   * Ed25519 signer of checkpoints (docs/security-model.md#signed-checkpoints); undefined when
   * none is configured.
   */
  signer?: CheckpointSigner;
  /** The API key behind this request (the transport refuses requests without one). */
  viewer: Viewer;
  authenticator: Authenticator;
  /**
   * Aborted when the client goes away: the HTTP request's signal, or, over graphql-ws, the
   * operation's (completed by the client or its socket closed). Long walks check it between
   * pages (src/app/cancellation.ts).
   */
  signal: AbortSignal;
  /** Where appended traces are announced to live subscribers (src/streams/bus.ts). */
  bus: TraceBus;
  /** Live traces held per subscriber before it catches up from the database. */
  streamQueueLimit: number;
  /** What ingest does with values that look like credentials. */
  secretsInTraces: "redact" | "reject";
}

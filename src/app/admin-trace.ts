/**
 * The audit log audits its own administration: every revocation, sweep, prune and API key
 * change made through GraphQL is appended to the chain as an ordinary invoke trace —
 * revocations and prunes in the same transaction as the change, key changes right after it
 * (keys live behind Prisma's typed client, outside the chain transaction). The acting API key's id is the principal, the operation is the
 * capability (`tracegate.<operation>`), its arguments are `args` and what it did is
 * `result_summary`, so the usual filters find it: `traces(filter: { capabilityId:
 * "tracegate.revokeToken" })`.
 */
import { randomUUID } from "node:crypto";
import type { JsonObject } from "../chain/json.js";
import { encodeTrace, type EncodedTrace } from "../chain/trace.js";
import type { EpochMicros } from "../chain/time.js";

/** The driver id of every trace tracegate writes about itself. */
export const ADMIN_DRIVER_ID = "tracegate";
/** Capability ids of tracegate's own operations start with this. */
export const ADMIN_CAPABILITY_PREFIX = "tracegate.";

/** Who acted: an API key id, or `cli` / `retention` for operator and scheduled actions. */
export interface AdminActor {
  keyId: string;
}

/** The trace recording one administrative operation. */
export function adminTrace(
  actor: AdminActor,
  operation: string,
  args: JsonObject,
  result: JsonObject,
  at: EpochMicros = Date.now() * 1000,
): EncodedTrace {
  return encodeTrace({
    actionId: `tracegate-${randomUUID()}`,
    capabilityId: `${ADMIN_CAPABILITY_PREFIX}${operation}`,
    principalId: actor.keyId,
    tokenId: "",
    invokedAtUs: at,
    responseMode: "summary",
    driverId: ADMIN_DRIVER_ID,
    handleId: null,
    sensitivity: "NONE",
    eventType: "invoke",
    reasonCode: null,
    error: null,
    args,
    resultSummary: result,
  });
}

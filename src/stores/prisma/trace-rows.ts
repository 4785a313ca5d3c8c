/**
 * Rows as the raw SQL of the Prisma stores returns them, and their conversion to the port's
 * types: integers arrive as bigint or number depending on the driver (./sql-client.ts toNumber).
 */
import { sqltag as sql } from "@prisma/client/runtime/client";
import type { EventType, TraceStatus } from "../../chain/trace.js";
import type { ChainHead, TraceRow } from "../trace-store.js";
import { toNumber } from "./sql-client.js";

/** A trace row selected with dialect.selectColumns (./dialect.ts). */
export interface RawTraceRow {
  seq: unknown;
  actionId: string;
  principalId: string;
  capabilityId: string;
  eventType: string;
  status: string;
  reasonCode: string | null;
  invokedAtUs: unknown;
  prevHash: string;
  recordHash: string;
  payload: string;
}

/** The "ChainHead" row (there is one, id 1). */
export interface HeadRow {
  nextSeq: unknown;
  headHash: string;
  chainId: string;
  keyId: string | null;
}

/** The SELECT (or RETURNING) list of a HeadRow. */
export const HEAD_COLUMNS = sql`"nextSeq", "headHash", "chainId", "keyId"`;

/** The chain head a HeadRow holds. */
export function toHead(r: HeadRow): ChainHead {
  return { nextSeq: toNumber(r.nextSeq), headHash: r.headHash, chainId: r.chainId, keyId: r.keyId };
}

/** The TraceRow a RawTraceRow holds. */
export function toTraceRow(r: RawTraceRow): TraceRow {
  return {
    seq: toNumber(r.seq),
    actionId: r.actionId,
    principalId: r.principalId,
    capabilityId: r.capabilityId,
    eventType: r.eventType as EventType,
    status: r.status as TraceStatus,
    reasonCode: r.reasonCode,
    invokedAtUs: toNumber(r.invokedAtUs),
    prevHash: r.prevHash,
    recordHash: r.recordHash,
    payload: r.payload,
  };
}

/** What a head without its row means: the database was not set up by tracegate's migrations. */
export const MISSING_HEAD = "ChainHead row is missing: the database was not migrated by tracegate.";

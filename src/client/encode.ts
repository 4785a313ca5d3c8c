/**
 * What the emitter (./emitter.ts) does to a trace inside emit(), before it is buffered: the
 * cheap checks that keep a batch from being refused for a limit the gateway enforces anyway,
 * the allow-list, and the JSON taken at once (so a caller mutating the object afterwards
 * changes nothing, and a value JSON cannot carry is refused alone instead of poisoning a
 * batch later). Everything here runs on the caller's hot path: types, enums and
 * lengths are checked, not everything the gateway validates.
 *
 * Dependency-free, like the rest of src/client.
 */
import type { EmitTrace, TraceEmitterOptions } from "./api.js";

/** The gateway's own limits (src/app/ingest.ts), checked here so a batch is never refused for them. */
export const MAX_BATCH = 5_000;
const MAX_ID_LENGTH = 1_024;
/** Ids are also capped in UTF-8 bytes (src/chain/identifier.ts MAX_IDENTIFIER_BYTES). */
const MAX_ID_BYTES = 1_024;
const MAX_ERROR_LENGTH = 65_536;

const EVENT_TYPES: ReadonlySet<unknown> = new Set(["INVOKE", "EXPAND", "DENY"]);
const RESPONSE_MODES: ReadonlySet<unknown> = new Set(["HANDLE_ONLY", "RAW", "SUMMARY", "TABLE"]);
const SENSITIVITIES: ReadonlySet<unknown> = new Set(["MEMORY", "NONE", "PCI", "PII", "SECRETS"]);

/** Within both caps; UTF-8 takes at most 3 bytes per UTF-16 unit, so short ids need no count. */
const idFits = (v: string) => v.length <= MAX_ID_LENGTH && (v.length <= MAX_ID_BYTES / 3 || Buffer.byteLength(v, "utf8") <= MAX_ID_BYTES);
const optionalId = (v: unknown) => v == null || (typeof v === "string" && idFits(v));
const optionalObject = (v: unknown) => v == null || (typeof v === "object" && !Array.isArray(v));

/**
 * Where `v` holds a number JSON.stringify would not carry exactly, or null: NaN and ±Infinity
 * (written as null) and integers beyond 2^53 (written with digits of another integer:
 * 2**60 becomes 1152921504606847000). The gateway hashes the digits it receives, so such a
 * value is refused here instead of changed silently; bigints carry big integers exactly.
 */
function inexactNumber(v: unknown, path: string, depth = 0): string | null {
  if (typeof v === "number") return Number.isFinite(v) && (!Number.isInteger(v) || Number.isSafeInteger(v)) ? null : path;
  if (v === null || typeof v !== "object" || depth > 64) return null;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const found = inexactNumber(v[i], `${path}[${i}]`, depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
  for (const k in v) {
    const found = inexactNumber((v as Record<string, unknown>)[k], `${path}.${k}`, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/**
 * What is wrong with a trace, or undefined. Deliberately cheap: types, enums, the gateway's
 * length limits and numbers JSON would change; a malformed date is left to the gateway.
 */
export function problemOf(t: EmitTrace): string | undefined {
  const { actionId, capabilityId, invokedAt } = t;
  if (typeof actionId !== "string" || actionId.length === 0 || !idFits(actionId)) {
    return "actionId must be a non-empty string of at most 1,024 characters and 1,024 UTF-8 bytes";
  }
  if (typeof capabilityId !== "string" || capabilityId.length === 0 || !idFits(capabilityId)) {
    return "capabilityId must be a non-empty string of at most 1,024 characters and 1,024 UTF-8 bytes";
  }
  if (typeof t.principalId !== "string" || !idFits(t.principalId)) return "principalId must be a string of at most 1,024 characters and 1,024 UTF-8 bytes";
  if (typeof invokedAt === "string" ? invokedAt.length === 0 : !(invokedAt instanceof Date) || Number.isNaN(invokedAt.getTime())) {
    return "invokedAt must be an RFC 3339 string or a valid Date";
  }
  if (!RESPONSE_MODES.has(t.responseMode)) return "responseMode must be HANDLE_ONLY, RAW, SUMMARY or TABLE";
  if (t.eventType != null && !EVENT_TYPES.has(t.eventType)) return "eventType must be INVOKE, EXPAND or DENY";
  if (t.sensitivity != null && !SENSITIVITIES.has(t.sensitivity)) return "sensitivity must be MEMORY, NONE, PCI, PII or SECRETS";
  if (!optionalId(t.tokenId) || !optionalId(t.driverId) || !optionalId(t.handleId) || !optionalId(t.reasonCode)) {
    return "tokenId, driverId, handleId and reasonCode must be strings of at most 1,024 characters";
  }
  if (t.error != null && (typeof t.error !== "string" || t.error.length > MAX_ERROR_LENGTH)) return "error must be a string of at most 65,536 characters";
  if (!optionalObject(t.args) || !optionalObject(t.resultSummary)) return "args and resultSummary must be JSON objects";
  const inexact = inexactNumber(t.args, "args") ?? inexactNumber(t.resultSummary, "resultSummary");
  if (inexact !== null) return `${inexact} is NaN, Infinity or an integer beyond 2^53, which JSON would change; pass big integers as bigint`;
  return undefined;
}

/**
 * Stands in for a bigint's digits inside JSON.stringify's output. Random per process, so no
 * string in a caller's args (which may carry attacker-chosen text) can be mistaken for one.
 */
const BIGINT_MARK = `tracegate-bigint-${globalThis.crypto.randomUUID()}:`;
const BIGINT_MARKED = new RegExp(`"${BIGINT_MARK}(-?[0-9]+)"`, "g");

/**
 * The trace's JSON as sent, taken now: a caller mutating the object afterwards changes
 * nothing, and a value JSON cannot carry (cycles, functions) is refused here rather than
 * poisoning a whole batch later. Only TraceInput fields are copied, because GraphQL refuses
 * an input object with unknown fields; a fixed shape also keeps V8 on its fast path.
 *
 * Integers beyond 2^53 can be given as bigints (`accountId: 750727362669608961n`): they are
 * written with every digit, and the gateway hashes them exactly (its JSON variables keep
 * number lexemes). JSON.stringify refuses bigints, so only a trace holding one takes the
 * slower replacer path. (A JS number cannot say "float" for an integral value: 100.0 is
 * sent as 100; clients that need Python's float lexemes send raw records, see README.)
 */
export function encode(t: EmitTrace): string {
  try {
    return JSON.stringify(inputOf(t));
  } catch (e) {
    if (!(e instanceof TypeError) || !/BigInt/i.test(e.message)) throw e;
    const text = JSON.stringify(inputOf(t), (_key, value: unknown) => (typeof value === "bigint" ? BIGINT_MARK + value.toString() : value));
    return text.replace(BIGINT_MARKED, "$1");
  }
}

function inputOf(t: EmitTrace): Record<string, unknown> {
  return {
    actionId: t.actionId,
    capabilityId: t.capabilityId,
    principalId: t.principalId,
    invokedAt: typeof t.invokedAt === "string" ? t.invokedAt : t.invokedAt.toISOString(),
    responseMode: t.responseMode,
    eventType: t.eventType,
    tokenId: t.tokenId,
    driverId: t.driverId,
    handleId: t.handleId,
    sensitivity: t.sensitivity,
    reasonCode: t.reasonCode,
    error: t.error,
    args: t.args,
    resultSummary: t.resultSummary,
  };
}

/** The allow-list as a predicate, or undefined when everything is allowed. */
export function compileAllow(allow: TraceEmitterOptions["allow"]): ((t: EmitTrace) => boolean) | undefined {
  if (!allow || (allow.eventTypes === undefined && allow.capabilities === undefined)) return undefined;
  const types = allow.eventTypes === undefined ? undefined : new Set<unknown>(allow.eventTypes);
  const exact = new Set<unknown>();
  const patterns: RegExp[] = [];
  for (const c of allow.capabilities ?? []) {
    if (typeof c === "string") exact.add(c);
    // Without g/y, test() keeps no lastIndex state between calls.
    else patterns.push(new RegExp(c.source, c.flags.replace(/[gy]/g, "")));
  }
  const anyCapability = allow.capabilities === undefined;
  return (t) =>
    (types === undefined || types.has(t.eventType ?? "INVOKE")) &&
    (anyCapability || exact.has(t.capabilityId) || patterns.some((p) => p.test(t.capabilityId)));
}

/** Buffered JSON back as traces, for onDrop and onError. */
export function parseAll(jsons: readonly string[]): EmitTrace[] {
  return jsons.map((j) => JSON.parse(j) as EmitTrace);
}

/**
 * Why `tracegate ship` stopped. Every failure the shipper reports is a ShipError with a code,
 * so the CLI (src/cli/ship.ts) prints `error: <message>` and exits 1 for all of them, and
 * tests and callers tell the cases apart by `code` rather than by wording. Nothing in
 * src/ship throws a bare string or a plain Error for a condition it can name.
 */

/**
 * - USAGE: the command cannot run as given (no such store, not a file, a bad option).
 * - STATE: the state file cannot be read, parsed or written, or belongs to another store.
 * - ROTATED: the followed file was truncated or replaced; nothing from the new file is sent.
 * - TAMPERED: a record failed chain verification; the verified records before it were shipped.
 * - GATEWAY: the gateway refused a batch or a record, or acknowledged something else.
 */
export type ShipErrorCode = "USAGE" | "STATE" | "ROTATED" | "TAMPERED" | "GATEWAY";

/** Why shipping stopped; the message is meant for the operator (`error: <message>`). */
export class ShipError extends Error {
  override name = "ShipError";
  constructor(
    readonly code: ShipErrorCode,
    message: string,
    /** The seq of the record that stopped shipping, when one did. */
    readonly seq: number | null = null,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** The same error with `suffix` appended to its message (what was shipped before it stopped). */
  withSuffix(suffix: string): ShipError {
    return new ShipError(this.code, `${this.message} ${suffix}`, this.seq, this.cause === undefined ? undefined : { cause: this.cause });
  }
}

/** Where the shipper reads and saves, for messages. */
export interface ShipPaths {
  /** Absolute path of the followed store. */
  path: string;
  /** The state file holding the position. */
  statePath: string;
}

/**
 * The followed file is not the one the saved position belongs to any more (`why` says how
 * that was seen); nothing from it is sent. `lastSeq` is the last shipped seq, null for none.
 */
export function rotatedError(paths: ShipPaths, lastSeq: number | null, why: string): ShipError {
  return new ShipError(
    "ROTATED",
    `${paths.path} was truncated or rotated (${why}); nothing from the new file was sent. ` +
      `Shipping stopped after seq ${lastSeq ?? "(none)"}; to ship the new file from its start, move ${paths.statePath} away.`,
  );
}


/**
 * Why `tracegate forward` stopped. Every failure the forwarder reports is a ForwardError with
 * a code, so the CLI (src/cli/forward.ts) prints `error: <message> [CODE]` and exits 1, and
 * tests tell the cases apart by `code` rather than by wording.
 *
 * - USAGE: the command cannot run as given (no gateway URL or key, a bad collector URL...).
 * - STATE: the cursor file cannot be read, parsed or written, or belongs to another collector
 *   or another gateway chain.
 * - CURSOR_AHEAD: with --once, the gateway's newest matching seq is below the cursor on the
 *   same chain (a restored database): nothing can be delivered and new records up to the
 *   cursor would be skipped, so the operator has to decide.
 * - GATEWAY_REFUSED: the gateway refused the export for good (401 a bad key, 403 a key
 *   without traces:read, 400 a bad filter), or answered something that is not an export.
 * - GATEWAY_UNAVAILABLE: with --once, the gateway stayed away for every attempt.
 * - COLLECTOR_REFUSED: the collector answered a 4xx other than 408/429 (a bad token, a bad
 *   URL, an event it cannot parse): sending again cannot help, so nothing more is sent.
 * - COLLECTOR_UNAVAILABLE: with --once, the collector stayed away for every attempt.
 * In every case the cursor holds the last acknowledged seq: a restart resumes after it.
 */
export type ForwardErrorCode = "USAGE" | "STATE" | "CURSOR_AHEAD" | "GATEWAY_REFUSED" | "GATEWAY_UNAVAILABLE" | "COLLECTOR_REFUSED" | "COLLECTOR_UNAVAILABLE";

/** Why forwarding stopped; the message is meant for the operator (`error: <message>`). */
export class ForwardError extends Error {
  override name = "ForwardError";
  constructor(
    readonly code: ForwardErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

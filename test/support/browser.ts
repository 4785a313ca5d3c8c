/**
 * Debian's Chromium for the console's browser tests (test/e2e/console*.test.ts), driven by
 * playwright-core. Chromium comes from Debian (`apt-get install -y chromium`), never from a
 * download by the test tool. Without it those suites are skipped with a notice, except under
 * CI=true, where they fail.
 */
import { existsSync } from "node:fs";

export const CHROMIUM = process.env.TRACEGATE_CHROMIUM || "/usr/bin/chromium";

/** The flags the machine notes prove (no background traffic on a closed network). */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export const haveChromium = existsSync(CHROMIUM);

/** Whether a browser suite should be skipped (no Chromium, outside CI); says so on stderr. */
export function skipWithoutChromium(suite: string): boolean {
  const skip = !haveChromium && process.env.CI !== "true";
  if (skip) process.stderr.write(`\n!! Chromium not found at ${CHROMIUM}: "${suite}" is SKIPPED. Install it with: apt-get install -y chromium\n\n`);
  return skip;
}

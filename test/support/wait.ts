/** Waiting in tests: a plain sleep, and polling a condition with a deadline that names what it waited for. */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Poll `condition` until it holds; fail naming `what` after `ms`. */
export async function waitFor(condition: () => boolean, what: () => string, ms = 15_000, everyMs = 10): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await sleep(everyMs);
  }
}

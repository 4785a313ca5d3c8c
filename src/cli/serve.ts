/**
 * `tracegate serve`: start the gateway (src/http/gateway.ts, imported only when it runs, so
 * `tracegate serve --help` stays quick) and stop it on SIGINT/SIGTERM: the first signal
 * drains, a second one exits at once.
 */
import type { Command } from "commander";
import { loadConfig } from "../config.js";
import { ignoreClosedPipe } from "../logger.js";

/** Add `serve` (the default command) to the program; SIGINT/SIGTERM drain, a second one exits at once. */
export function registerServeCommand(program: Command): void {
  program
    .command("serve", { isDefault: true })
    .description("migrate the database and serve GraphQL (PORT, HOST, DATABASE_URL, TRACEGATE_HMAC_SECRET)")
    .action(async () => {
      // Output whose reader went away is dropped rather than fatal (see ignoreClosedPipe).
      process.stdout.on("error", ignoreClosedPipe);
      process.stderr.on("error", ignoreClosedPipe);
      // The handlers go in before the listen line is printed (serve's onListening), so a
      // SIGTERM sent right after it drains instead of killing the process.
      const config = loadConfig();
      const { startGateway } = await import("../http/gateway.js");
      await startGateway(config, (stop) => {
        let stopping = false;
        const shutdown = () => {
          if (stopping) process.exit(1);
          stopping = true;
          void stop().then(
            () => process.exit(0),
            (e: unknown) => {
              process.stderr.write(`error: stopping failed: ${(e as Error)?.message ?? e}\n`);
              process.exit(1);
            },
          );
        };
        process.on("SIGINT", shutdown);
        process.on("SIGTERM", shutdown);
      });
    });
}

/**
 * The `tracegate` command line: serve (default) and migrate here; keys, checkpoint, doctor,
 * import, audit and ship each in their own file beside this one, each parsing its flags,
 * calling the use cases in src/app/ (or the store for reads) and printing.
 *
 * Exit codes, one policy: 0 done; 1 an error (`error: <message>` on stderr, the reference
 * CLI's convention) or a check that failed (audit verify, doctor, checkpoint verify); 2 a
 * usage error of the reference-compatible `audit` command (argparse's code); 130 a second
 * interrupt while `ship` drains; 141 a closed output pipe (`audit list | head`).
 */
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { ConfigError, loadConfig } from "../config.js";
import { isTracegateError } from "../errors.js";
import { migrateDatabase, MigrationError } from "../stores/prisma/migrate.js";
import { registerAuditCommand } from "./audit.js";
import { registerCheckpointCommand } from "./checkpoint.js";
import { registerDoctorCommand } from "./doctor.js";
import { registerImportCommand } from "./import.js";
import { registerKeysCommand } from "./keys.js";
import { registerShipCommand } from "./ship.js";
import { serve } from "./serve.js";

/** One line on stderr, exit 1; an unexpected error's stack only with TRACEGATE_DEBUG=1. */
function fail(e: unknown): never {
  const expected = e instanceof ConfigError || e instanceof MigrationError || isTracegateError(e);
  const debug = process.env.TRACEGATE_DEBUG === "1";
  const message = expected || !debug ? String((e as Error)?.message ?? e) : String((e as Error)?.stack ?? e);
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

/** The package's version (package.json beside src/), for `tracegate --version`. */
const VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

const program = new Command()
  .name("tracegate")
  .description("GraphQL audit query gateway over a tamper-evident HMAC hash chain")
  .version(VERSION, "-V, --version", "print the version and exit");

program
  .command("serve", { isDefault: true })
  .description("migrate the database and serve GraphQL (PORT, HOST, DATABASE_URL, TRACEGATE_HMAC_SECRET)")
  .action(async () => {
    // The handlers go in before the listen line is printed (serve's onListening), so a
    // SIGTERM sent right after it drains instead of killing the process. A second signal
    // while draining exits at once.
    await serve(loadConfig(), (stop) => {
      let stopping = false;
      const shutdown = () => {
        if (stopping) process.exit(1);
        stopping = true;
        void stop().then(() => process.exit(0), fail);
      };
      process.on("SIGINT", shutdown);
      process.on("SIGTERM", shutdown);
    });
  });

program
  .command("migrate")
  .description("apply pending database migrations and exit")
  .action(async () => {
    const config = loadConfig();
    await migrateDatabase(config.databaseUrl);
    process.stdout.write(`Migrated ${config.databaseProvider} database.\n`);
  });

registerKeysCommand(program);
registerCheckpointCommand(program);
registerDoctorCommand(program);
registerImportCommand(program);
registerAuditCommand(program);
registerShipCommand(program);

await program.parseAsync(process.argv).catch(fail);

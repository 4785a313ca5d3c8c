/**
 * `tracegate keys create|list|revoke`: API key administration from the command line, on the
 * database the environment selects (the same one `serve` uses). A running gateway sees a
 * new key at once and a revocation within its key cache time (2 s).
 */
import type { Command } from "commander";
import { formatPrincipalPatterns, isScope, SCOPES, type Scope } from "../access/scopes.js";
import { loadConfig, sqliteFilePath } from "../config.js";
import { badUserInput, TracegateError } from "../errors.js";
import { issueApiKey } from "../app/keys.js";
import type { ApiKeyRecord } from "../stores/key-store.js";
import { assertDatabaseExists, databaseExists, readOnlyChain, withStores } from "./stores.js";

/** Key commands never touch the chain, so they never need the HMAC secret. */
const noChainHasher = readOnlyChain("tracegate keys");

/** `traces:read`, or the GraphQL enum spelling `TRACES_READ`. */
function parseScope(value: string): Scope {
  const scope = value.trim().toLowerCase().replace("_", ":");
  if (!isScope(scope)) {
    throw badUserInput(`unknown scope '${value}': use one of ${SCOPES.join(", ")}.`, "scopes");
  }
  return scope;
}

/** Control characters replaced, so a key's name cannot rewrite the operator's terminal. */
function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, "?");
}

function principalsOf(key: ApiKeyRecord): string[] | null {
  return key.principals ? formatPrincipalPatterns(key.principals) : null;
}

/** What `list --json` shows of a key: everything but its hash. */
function publicView(key: ApiKeyRecord) {
  return {
    id: key.id,
    name: key.name,
    scopes: key.scopes,
    principals: principalsOf(key),
    createdAt: key.createdAt.toISOString(),
    createdBy: key.createdBy,
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n") + "\n";
}

interface CreateOptions {
  name: string;
  scope: string[];
  principal?: string[];
  json?: boolean;
}

async function createKey(options: CreateOptions): Promise<void> {
  const scopes = options.scope.map(parseScope);
  const config = loadConfig();
  // Keys may be made before the gateway's first start, which creates the database; but a
  // mistyped DATABASE_URL would mint a key into a new, unused database: say so.
  const created = !databaseExists(config);
  const { key, apiKey } = await withStores(config, noChainHasher, (stores) =>
    issueApiKey(stores.keys, { name: options.name, scopes, principals: options.principal ?? null }, "cli"),
  );
  if (created) {
    process.stderr.write(
      `tracegate: note: no database was at ${sqliteFilePath(config.databaseUrl)}: created it for this key. ` +
        "If the gateway uses another one, check DATABASE_URL / TRACEGATE_DATA_DIR.\n",
    );
  }
  const principals = principalsOf(apiKey);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ key, id: apiKey.id, name: apiKey.name, scopes: apiKey.scopes, principals })}\n`);
    return;
  }
  process.stdout.write(
    `Created API key ${apiKey.id} '${printable(apiKey.name)}' (scopes: ${apiKey.scopes.join(", ")}; ` +
      `principals: ${principals ? principals.join(", ") : "all"}).\n` +
      `Store it now, it will not be shown again:\n\n    ${key}\n\n`,
  );
}

async function listKeys(options: { all?: boolean; json?: boolean }): Promise<void> {
  const config = loadConfig();
  assertDatabaseExists(config, "keys live in the gateway's database: start the gateway, or run tracegate migrate, first");
  const keys = await withStores(config, noChainHasher, (stores) => stores.keys.list({ includeRevoked: options.all === true }));
  if (options.json) {
    process.stdout.write(`${JSON.stringify(keys.map(publicView), null, 2)}\n`);
    return;
  }
  if (keys.length === 0) {
    process.stdout.write(options.all ? "No API keys.\n" : "No active API keys (--all includes revoked ones).\n");
    return;
  }
  const rows = keys.map((k) => [
    k.id,
    printable(k.name),
    k.scopes.join(","),
    principalsOf(k)?.map(printable).join(",") ?? "*all*",
    k.createdAt.toISOString(),
    k.revokedAt?.toISOString() ?? "-",
  ]);
  process.stdout.write(table([["ID", "NAME", "SCOPES", "PRINCIPALS", "CREATED", "REVOKED"], ...rows]));
}

async function revokeKey(id: string): Promise<void> {
  const config = loadConfig();
  assertDatabaseExists(config, "keys live in the gateway's database: start the gateway, or run tracegate migrate, first");
  const revoked = await withStores(config, noChainHasher, (stores) => stores.keys.revoke(id, new Date()));
  if (!revoked) throw new TracegateError("NOT_FOUND", `No API key has id '${printable(id)}'.`);
  process.stdout.write(`revoked ${revoked.id}\n`);
}

/** Add `keys create|list|revoke` to the program. */
export function registerKeysCommand(program: Command): void {
  const keys = program
    .command("keys")
    .description("create, list and revoke API keys (DATABASE_URL / TRACEGATE_DATA_DIR select the database)");

  keys
    .command("create")
    .description("create an API key and print it once")
    .requiredOption("--name <name>", "a name to recognise the key by")
    .requiredOption("--scope <scope...>", `what the key may do: ${SCOPES.join(", ")}`)
    .option("--principal <pattern...>", "confine the key to these principals ('alice', 'team-a/*'); default: all")
    .option("--json", "print {key, id, name, scopes, principals} as JSON")
    .action((options: CreateOptions) => createKey(options));

  keys
    .command("list")
    .description("list API keys (never their hashes)")
    .option("--all", "include revoked keys")
    .option("--json", "print JSON")
    .action((options: { all?: boolean; json?: boolean }) => listKeys(options));

  keys
    .command("revoke")
    .description("revoke an API key (idempotent); running gateways refuse it within 2 s")
    .argument("<id>", "the key's id (key_...)")
    .action((id: string) => revokeKey(id));
}

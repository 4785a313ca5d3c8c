/**
 * Offline checkpoint verification as a client does it: a real gateway process signs a
 * checkpoint, its public key is fetched from the well-known URL (and printed by
 * `tracegate checkpoint public-key`), and `tracegate checkpoint verify` checks the files
 * with nothing else: exit 0 for the genuine checkpoint, exit 1 for any tampering.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayProcess, postGraphQL, runCli, startGatewayProcess, type CliRun } from "../support/process.js";

const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "tracegate-checkpoint-"));
  dirs.push(dir);
  return dir;
};
let gateway: GatewayProcess | undefined;
afterAll(async () => {
  await gateway?.kill();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});


/** `tracegate checkpoint <args>` to completion, with a clean environment but `env`. */
function checkpointCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const clean = { DATABASE_URL: "", TRACEGATE_HMAC_SECRET: "", TRACEGATE_SIGNING_KEY: "", TRACEGATE_SIGNING_KEY_FILE: "" };
  return runCli(["checkpoint", ...args], { ...clean, ...env });
}

const RECORD = `mutation { recordTraces(input: [
  { actionId: "c-1", capabilityId: "c", principalId: "alice", invokedAt: "2026-11-22T10:00:00Z", responseMode: SUMMARY },
  { actionId: "c-2", capabilityId: "c", principalId: "alice", invokedAt: "2026-11-22T10:00:01Z", responseMode: SUMMARY }
]) { seq } }`;
const CREATE = "mutation { createCheckpoint { chainId seq headHash createdAt keyId signature algorithm } }";

describe("tracegate checkpoint verify", () => {
  const dataDir = freshDir();
  const work = freshDir();
  const keyFile = join(work, "checkpoint-key.pem");
  let checkpoint: Record<string, unknown>;
  let document: { keyId: string; algorithm: string; publicKeyPem: string };

  const write = (name: string, value: unknown) => {
    const path = join(work, name);
    writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value, null, 2));
    return path;
  };

  beforeAll(async () => {
    gateway = await startGatewayProcess({ TRACEGATE_DATA_DIR: dataDir });
    expect(gateway.stderr()).toMatch(/generated a development checkpoint signing key/);
    expect(statSync(join(dataDir, "signing-key.pem")).mode & 0o777).toBe(0o600);
    expect((await postGraphQL(gateway.url, RECORD)).data.recordTraces).toEqual([{ seq: 0 }, { seq: 1 }]);
    const created = await postGraphQL(gateway.url, CREATE);
    expect(created.errors).toBeUndefined();
    checkpoint = created.data.createCheckpoint;
    const res = await fetch(new URL("/.well-known/tracegate/checkpoint-key", gateway.url));
    expect(res.status).toBe(200);
    document = (await res.json()) as typeof document;
    writeFileSync(keyFile, document.publicKeyPem);
  });

  it("accepts the genuine checkpoint with only the public key", async () => {
    const run = await checkpointCli(["verify", "--public-key", keyFile, write("genuine.json", checkpoint)]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `OK checkpoint seq 1 of chain ${String(checkpoint.chainId)} signed by ${document.keyId} at ${String(checkpoint.createdAt)}\n`,
    );
    // A whole GraphQL response is accepted too.
    const wrapped = await checkpointCli(["verify", "--public-key", keyFile, write("wrapped.json", { data: { createCheckpoint: checkpoint } })]);
    expect(wrapped.code).toBe(0);
  });

  it("`checkpoint public-key` prints the same key from the data directory, without a database; none in production", async () => {
    const [run, json, production] = await Promise.all([
      checkpointCli(["public-key"], { TRACEGATE_DATA_DIR: dataDir, DATABASE_URL: "postgresql://nobody@127.0.0.1:1/none" }),
      checkpointCli(["public-key", "--json"], { TRACEGATE_DATA_DIR: dataDir }),
      // Production never generates a key: without one there is nothing to print.
      checkpointCli(["public-key"], { NODE_ENV: "production", TRACEGATE_DATA_DIR: freshDir(), TRACEGATE_HMAC_SECRET: "p".repeat(40) }),
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(document.publicKeyPem);
    expect(JSON.parse(json.stdout)).toEqual(document);
    expect(production).toMatchObject({ code: 1, stdout: "" });
    expect(production.stderr).toMatch(/^error: No checkpoint signing key/);
  });

  it("refuses every tampered checkpoint with exit 1", async () => {
    const cases: [string, (cp: Record<string, unknown>) => Record<string, unknown>, RegExp][] = [
      ["an altered seq", (cp) => ({ ...cp, seq: 0 }), /bad signature/],
      ["an altered head hash", (cp) => ({ ...cp, headHash: "0".repeat(64) }), /bad signature/],
      ["an altered time", (cp) => ({ ...cp, createdAt: "2020-01-01T00:00:00+00:00" }), /bad signature/],
      ["another chain id", (cp) => ({ ...cp, chainId: "another-chain" }), /bad signature/],
      ["a flipped signature character", (cp) => ({ ...cp, signature: flip(String(cp.signature)) }), /bad signature/],
      ["a missing field", ({ signature: _s, ...rest }) => rest, /'signature' must be/],
      ["a string seq", (cp) => ({ ...cp, seq: "1" }), /'seq' must be/],
      ["another algorithm", (cp) => ({ ...cp, algorithm: "RS256" }), /unsupported checkpoint algorithm/],
    ];
    const runs = await Promise.all(
      cases.map(([name, tamper]) => checkpointCli(["verify", "--public-key", keyFile, write(`${name.replace(/\W+/g, "-")}.json`, tamper(checkpoint))])),
    );
    runs.forEach((run, i) => {
      const [name, , message] = cases[i]!;
      expect(run.code, name).toBe(1);
      expect(run.stdout, name).toBe("");
      expect(run.stderr, name).toMatch(/^error: /);
      expect(run.stderr, name).toMatch(message);
    });
  });

  it("refuses a wrong key, a non-JSON file, and a file that is not a key", async () => {
    const other = generateKeyPairSync("ed25519").publicKey.export({ format: "pem", type: "spki" }).toString();
    const genuine = write("genuine-2.json", checkpoint);
    const [wrongKey, notJson, notKey, missing] = await Promise.all([
      checkpointCli(["verify", "--public-key", write("other.pem", other), genuine]),
      checkpointCli(["verify", "--public-key", keyFile, write("garbage.json", "{not json")]),
      checkpointCli(["verify", "--public-key", write("not-a-key.pem", "hello"), genuine]),
      checkpointCli(["verify", "--public-key", keyFile, join(work, "absent.json")]),
    ]);
    expect(wrongKey).toMatchObject({ code: 1, stdout: "" });
    expect(wrongKey.stderr).toMatch(/^error: wrong key/);
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/^error: the checkpoint file is not JSON/);
    expect(notKey.code).toBe(1);
    expect(notKey.stderr).toMatch(/^error: .* is not a PEM public key/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: cannot read checkpoint file/);
  });
});

function flip(text: string): string {
  const i = 20;
  return text.slice(0, i) + (text[i] === "A" ? "B" : "A") + text.slice(i + 1);
}

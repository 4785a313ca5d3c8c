/**
 * The checkpoint signing key: a configured Ed25519 PEM, a development key generated once
 * (mode 0600) and reused, none in production, and refusal of anything but Ed25519.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { verifyCheckpointSignature } from "../../src/chain/checkpoint.js";
import { ConfigError } from "../../src/config.js";
import { devSigningKeyPath, loadSigner, resolveSigningKey } from "../../src/app/signing-key.js";

const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "tracegate-signing-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const pemOf = (type: "ed25519" | "x25519") =>
  (type === "ed25519" ? generateKeyPairSync("ed25519") : generateKeyPairSync("x25519")).privateKey
    .export({ format: "pem", type: "pkcs8" })
    .toString();
const fields = { chainId: "c", seq: 3, headHash: "f".repeat(64), createdAtUs: 1_700_000_000_000_000 };

describe("loadSigner", () => {
  it("signs with an Ed25519 PEM and publishes only the public half", () => {
    const signer = loadSigner(pemOf("ed25519"));
    expect(signer.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(signer.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const cp = signer.sign(fields);
    expect(cp).toMatchObject({ ...fields, keyId: signer.keyId });
    expect(verifyCheckpointSignature(cp, signer.publicKey)).toBe(true);
  });

  it("refuses other keys and garbage with a ConfigError that repeats no key material", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    for (const pem of [rsa, pemOf("x25519"), "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"]) {
      let error: unknown;
      try {
        loadSigner(pem);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).not.toContain("MII");
    }
    expect(() => loadSigner(rsa)).toThrow(/Ed25519/);
  });
});

describe("resolveSigningKey", () => {
  it("uses the configured key without touching the data directory", () => {
    const dataDir = freshDir();
    const pem = pemOf("ed25519");
    const calls: unknown[] = [];
    const signer = resolveSigningKey({ env: "production", dataDir, signingKeyPem: pem }, (...a) => calls.push(a));
    expect(signer?.keyId).toBe(loadSigner(pem).keyId);
    expect(calls).toEqual([]);
    expect(() => statSync(devSigningKeyPath({ dataDir }))).toThrow();
  });

  it("outside production, generates a key once (mode 0600) and reuses it", () => {
    const dataDir = join(freshDir(), "nested");
    const calls: [string, boolean][] = [];
    const first = resolveSigningKey({ env: "development", dataDir, signingKeyPem: undefined }, (p, c) => calls.push([p, c]));
    const path = devSigningKeyPath({ dataDir });
    expect(path).toBe(join(dataDir, "signing-key.pem"));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, "utf8")).toContain("BEGIN PRIVATE KEY");
    const second = resolveSigningKey({ env: "development", dataDir, signingKeyPem: undefined }, (p, c) => calls.push([p, c]));
    expect(second?.keyId).toBe(first?.keyId);
    expect(calls).toEqual([
      [path, true],
      [path, false],
    ]);
  });

  it("in production without a key, there is no signer", () => {
    const dataDir = freshDir();
    expect(resolveSigningKey({ env: "production", dataDir, signingKeyPem: undefined }, () => undefined)).toBeUndefined();
    expect(() => statSync(devSigningKeyPath({ dataDir }))).toThrow();
  });
});

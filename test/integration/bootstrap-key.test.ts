/**
 * The bootstrap admin key and revocation (issue 14, case 8): a revoked
 * TRACEGATE_BOOTSTRAP_ADMIN_KEY stays revoked when the gateway starts again with the same
 * value, and rotating to a new value installs a new key (the old one still refused, even if
 * it is set again later). A start is ensureAdminAccess on the same database, as `serve` does.
 * Both backends.
 */
import { afterAll, describe, expect, it } from "vitest";
import { ensureAdminAccess } from "../../src/app/bootstrap-keys.js";
import { BACKENDS } from "../support/backends.js";
import { codesOf, createTestGateway, dataOf, type TestGateway } from "../support/harness.js";

const OLD = `tgk_${"o".repeat(43)}`;
const NEW = `tgk_${"n".repeat(43)}`;

describe.each(BACKENDS)("$name: bootstrap admin key", (backend) => {
  const gateways: TestGateway[] = [];
  afterAll(async () => {
    for (const g of gateways) await g.close();
  });

  /** A gateway process starting on `databaseUrl` with TRACEGATE_BOOTSTRAP_ADMIN_KEY = key. */
  const start = async (key: string, databaseUrl?: string) => {
    const gw = await createTestGateway({ backend, ...(databaseUrl ? { databaseUrl } : {}) });
    gateways.push(gw);
    await ensureAdminAccess({ env: "production", dataDir: "/nonexistent", bootstrapAdminKey: key }, gw.stores.keys);
    return gw;
  };
  const viewerAs = async (gw: TestGateway, key: string) => gw.as(key).raw("{ viewer { keyId } }");

  it("stays revoked across restarts; a new value installs a new key; the old value stays refused", async () => {
    const first = await start(OLD);
    expect(dataOf(await viewerAs(first, OLD))).toEqual({ viewer: { keyId: "bootstrap" } });
    expect(codesOf(await first.raw(`mutation { revokeApiKey(id: "bootstrap") { id } }`))).toEqual([]);
    expect(codesOf(await viewerAs(first, OLD))).toEqual(["UNAUTHENTICATED"]);

    const again = await start(OLD, first.databaseUrl);
    expect(codesOf(await viewerAs(again, OLD))).toEqual(["UNAUTHENTICATED"]);
    expect((await again.stores.keys.findById("bootstrap"))?.revokedAt).not.toBeNull();

    const rotated = await start(NEW, first.databaseUrl);
    expect(dataOf(await viewerAs(rotated, NEW))).toEqual({ viewer: { keyId: "bootstrap" } });
    expect(codesOf(await viewerAs(rotated, OLD))).toEqual(["UNAUTHENTICATED"]);
    const keys = await rotated.stores.keys.list({ includeRevoked: true });
    expect(keys.filter((k) => k.revokedAt !== null).map((k) => k.name)).toEqual(["bootstrap admin key (TRACEGATE_BOOTSTRAP_ADMIN_KEY), rotated out"]);

    // Setting the revoked value back does not bring it back.
    const back = await start(OLD, first.databaseUrl);
    expect(codesOf(await viewerAs(back, OLD))).toEqual(["UNAUTHENTICATED"]);
    expect(dataOf(await viewerAs(back, NEW))).toEqual({ viewer: { keyId: "bootstrap" } });
  });
});

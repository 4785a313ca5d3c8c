/**
 * The audit console (/console) in Debian's Chromium, driven by playwright-core, against a
 * real gateway on an ephemeral port. The browser reaches the gateway through a TCP proxy
 * that the test can cut, to play a network drop and a server that is down.
 *
 * Chromium: test/support/browser.ts. Screenshots of the main views go to
 * test-artifacts/console/. The explorer's URL state, histogram, export, integrity marks and
 * pivots are tested in console-explorer.test.ts.
 */
import { mkdirSync } from "node:fs";
import { createServer, type Server, type Socket, connect } from "node:net";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConsole } from "../../console/build.js";
import { RecordTracesDocument, type TraceInput } from "../gql/graphql.js";
import { CHROMIUM, CHROMIUM_ARGS, haveChromium, skipWithoutChromium } from "../support/browser.js";
import { createTestGateway, dataOf, type TestGateway } from "../support/harness.js";
import { ROOT } from "../support/process.js";
import { at, deny, invoke } from "../support/traces.js";

const SCREENSHOTS = join(ROOT, "test-artifacts", "console");
/** The feed must show a deny recorded elsewhere within this time. */
const LIVE_WITHIN_MS = 1_000;

const skip = skipWithoutChromium("audit console (browser)");

/** A TCP proxy in front of the gateway: cut() drops every connection and refuses new ones until restore(). */
interface Proxy {
  port: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

async function startProxy(targetPort: number): Promise<Proxy> {
  const open = new Set<Socket>();
  let refusing = false;
  const server: Server = createServer((client) => {
    if (refusing) return void client.destroy();
    const upstream = connect(targetPort, "127.0.0.1");
    open.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    for (const s of [client, upstream]) s.on("error", drop).on("close", drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    cut() {
      refusing = true;
      for (const s of open) s.destroy();
      open.clear();
    },
    restore() {
      refusing = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Seed: alice's 10 invokes (seq 0-9), alice's 25 denies (10-34), bob's 5 denies (35-39). */
const REASONS = ["missing_role", "expired_token", "missing_role", "scope_exceeded", "missing_role"];
const seed: TraceInput[] = [
  ...Array.from({ length: 10 }, (_, i) => invoke(`inv-${i}`, { invokedAt: at(i) })),
  ...Array.from({ length: 25 }, (_, i) => deny(`alice-deny-${i}`, REASONS[i % REASONS.length]!, { invokedAt: at(10 + i) })),
  ...Array.from({ length: 5 }, (_, i) => deny(`bob-deny-${i}`, "missing_role", { principalId: "bob", invokedAt: at(35 + i) })),
];

describe.skipIf(skip)("audit console (browser)", () => {
  let gw: TestGateway;
  let proxy: Proxy;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** The key the browser signs in with (revoked by the last test). */
  let consoleKey: string;
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];
  let liveCount = 0;

  /** Record one deny by "carol" through the API, as another client would; returns its seq. */
  const recordDeny = async (reason = "live_deny") => {
    const id = `live-${++liveCount}`;
    const [trace] = dataOf(await gw.exec(RecordTracesDocument, { input: [deny(id, reason, { principalId: "carol", invokedAt: at(100 + liveCount) })] })).recordTraces;
    return trace!.seq;
  };
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const feedSeqs = async () => (await page.locator("#feed-list li[data-seq]").evaluateAll((items) => items.map((li) => Number(li.getAttribute("data-seq")))));
  const feedState = (state: string) => page.locator(`#view-feed[data-state="${state}"]`).waitFor({ timeout: 10_000 });
  const rowSeqs = async () => (await page.locator("#explorer-rows tr").evaluateAll((rows) => rows.map((tr) => Number(tr.getAttribute("data-seq")))));
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const signIn = async (key: string) => {
    await page.locator("#signin-key").fill(key);
    await page.locator("#signin-key").press("Enter"); // the form submits from the keyboard
  };
  const signOut = async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.locator("#signin").waitFor();
  };

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`Chromium is required under CI=true but is not at ${CHROMIUM}: apt-get install -y chromium`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await buildConsole(); // dist/console, which consolePlugin() serves
    gw = await createTestGateway({ keyCacheMs: 0 });
    dataOf(await gw.exec(RecordTracesDocument, { input: seed }));
    const address = await gw.app.start(0);
    proxy = await startProxy(address.port);
    base = `http://127.0.0.1:${proxy.port}`;
    consoleKey = await gw.issueKey(["admin"]);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1366, height: 800 }, locale: "en-US", timezoneId: "Europe/Berlin" });
    page = await context.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await gw?.app.stop();
    await gw?.close();
  });

  it("serves the page without a key, with content types, caching and a strict CSP", async () => {
    for (const path of ["/console", "/console/"]) {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${proxy.port} wss://127.0.0.1:${proxy.port}`);
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:\/\//);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      const html = await res.text();
      expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdn\./);
      const script = /src="\/console\/(main-[A-Z0-9]+\.js)"/.exec(html)?.[1];
      expect(script).toBeDefined();
      const js = await fetch(`${base}/console/${script}`);
      expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    }
    expect((await fetch(`${base}/console/favicon.svg`)).headers.get("content-type")).toBe("image/svg+xml");
    expect((await fetch(`${base}/console/nope.js`)).status).toBe(404);
    expect((await fetch(`${base}/console/%2e%2e%2fpackage.json`)).status).toBe(404);
    expect((await fetch(`${base}/console/.hidden.js`)).status).toBe(404);
    expect((await fetch(`${base}/console`, { method: "POST" })).status).toBe(405);
  });

  it("tells a wrong key, a key without traces:read and a gateway that is down apart", async () => {
    await page.goto(`${base}/console/`);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("signin-key");
    await signIn("tgk_not-a-real-key");
    const error = page.locator("#signin-error");
    await error.and(page.locator('[data-kind="UNAUTHENTICATED"]')).waitFor();
    expect(await error.textContent()).toMatch(/UNAUTHENTICATED.*unknown, mistyped or revoked/);
    await shot("signin-refused");

    // A write-only key signs in, but reading is refused with FORBIDDEN, and said so.
    await signIn(await gw.issueKey(["traces:write"]));
    await page.locator("#viewer-name").waitFor();
    expect(await page.locator("#viewer-scopes").textContent()).toBe("TRACES_WRITE");
    expect(await page.locator(".viewer .note").textContent()).toContain("lacks the traces:read scope");
    await feedState("stopped");
    expect(await page.locator("#feed-status").textContent()).toMatch(/FORBIDDEN/);
    await signOut();

    // The gateway unreachable: "server down", and the key is not blamed.
    proxy.cut();
    try {
      await signIn(consoleKey);
      await error.and(page.locator('[data-kind="UNREACHABLE"]')).waitFor();
      expect(await error.textContent()).toMatch(/^Server down or unreachable: the gateway cannot be reached/);
    } finally {
      proxy.restore();
    }
  });

  it("signs in with a key kept in sessionStorage, showing the viewer, and survives a reload", async () => {
    await signIn(consoleKey);
    await page.locator("#viewer-name").waitFor();
    expect(await page.locator("#viewer-scopes").textContent()).toBe("ADMIN");
    expect(await page.evaluate(() => sessionStorage.getItem("tracegate.console.apiKey"))).toBe(consoleKey);
    await page.reload();
    await page.locator("#viewer-name").waitFor();
    await feedState("live");
    // The 20 newest denies, newest first (bob's 5, then alice's latest 15).
    expect(await feedSeqs()).toEqual(range(20, 39).reverse());
    // Times in the viewer's zone (Berlin, UTC+1 in January), exact UTC in the title.
    const first = page.locator('#feed-list li[data-seq="39"] time');
    expect(await first.getAttribute("title")).toBe("2026-01-01 00:39:00 UTC");
    expect(await first.textContent()).toContain("01:39:00");
  });

  it("shows a deny recorded by another client within a second", async () => {
    await feedState("live");
    const seq = await recordDeny();
    const recorded = Date.now();
    await page.locator(`#feed-list li[data-seq="${seq}"]`).waitFor({ timeout: LIVE_WITHIN_MS });
    expect(Date.now() - recorded).toBeLessThan(LIVE_WITHIN_MS);
    expect((await feedSeqs())[0]).toBe(seq);
    await shot("feed");
  });

  it("reconnects after a network drop from the last seq seen, with no gap and no duplicate", async () => {
    const before = await feedSeqs();
    proxy.cut();
    await feedState("reconnecting");
    expect(await page.locator("#feed-status").textContent()).toMatch(new RegExp(`^Connection lost: .*resumes after seq ${before[0]} with nothing missed`));
    const missed = [await recordDeny(), await recordDeny("other_reason")];
    await shot("feed-reconnecting");
    proxy.restore();
    // "Reconnect now" if it is still offered, else the backoff timer reconnects.
    await page.getByRole("button", { name: "Reconnect now" }).click({ timeout: 1_000 }).catch(() => undefined);
    for (const seq of missed) await page.locator(`#feed-list li[data-seq="${seq}"]`).waitFor({ timeout: 15_000 });
    await feedState("live");
    const after = await feedSeqs();
    expect(after).toEqual([...missed.reverse(), ...before]);
    // And live again on the new connection.
    const seq = await recordDeny();
    await page.locator(`#feed-list li[data-seq="${seq}"]`).waitFor({ timeout: LIVE_WITHIN_MS });
  });

  it("pauses and resumes the feed, catching up on what was recorded meanwhile", async () => {
    const toggle = page.locator("#feed-toggle");
    await toggle.click();
    await feedState("paused");
    expect(await toggle.textContent()).toBe("Resume");
    const seq = await recordDeny();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await feedSeqs()).not.toContain(seq);
    await toggle.click();
    await page.locator(`#feed-list li[data-seq="${seq}"]`).waitFor({ timeout: 5_000 });
    await feedState("live");
    const seqs = await feedSeqs();
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it("pages through a filtered list, next and previous", async () => {
    // Keyboard: the nav link, Enter, and focus lands on the view's heading.
    await page.getByRole("link", { name: "Explorer", exact: true }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("explorer-heading");
    await page.getByLabel("Principal").fill("alice");
    await page.locator("#f-event").selectOption("DENY");
    await page.getByLabel("Order").selectOption("SEQ_ASC");
    await page.getByLabel("Per page").selectOption("10");
    await page.getByRole("button", { name: "Search" }).click();
    const status = page.locator("#explorer-status");
    await page.getByText("25 matching traces; showing 1–10.").waitFor();
    expect(await rowSeqs()).toEqual(range(10, 19));
    const prev = page.getByRole("button", { name: "← Previous" });
    const next = page.getByRole("button", { name: "Next →" });
    expect(await prev.isDisabled()).toBe(true);
    await shot("explorer");

    await next.click();
    await page.getByText("showing 11–20.").waitFor();
    expect(await rowSeqs()).toEqual(range(20, 29));
    await next.click();
    await page.getByText("showing 21–25.").waitFor();
    expect(await rowSeqs()).toEqual(range(30, 34));
    expect(await next.isDisabled()).toBe(true);
    expect(await page.locator("#page-label").textContent()).toBe("Page 3 of 3");
    await prev.click();
    await page.getByText("showing 11–20.").waitFor();
    expect(await rowSeqs()).toEqual(range(20, 29));
    await prev.click();
    await page.getByText("showing 1–10.").waitFor();
    expect(await rowSeqs()).toEqual(range(10, 19));
    expect(await prev.isDisabled()).toBe(true);
    expect(await next.isDisabled()).toBe(false);

    // Reason code narrows it further: every fifth deny is scope_exceeded.
    await page.getByLabel("Reason code").fill("scope_exceeded");
    await page.getByRole("button", { name: "Search" }).click();
    await status.filter({ hasText: "5 matching traces" }).waitFor(); // the status line, not the histogram's summary
    expect(await rowSeqs()).toEqual([13, 18, 23, 28, 33]);
    expect(await status.textContent()).toContain("showing 1–5");
  });

  it("shows a trace's fields, hashes, args, payload and OCSF event", async () => {
    await page.getByRole("link", { name: "alice-deny-3" }).click();
    await page.getByRole("heading", { name: "Trace alice-deny-3" }).waitFor();
    const body = page.locator("#trace-body");
    await body.getByRole("heading", { name: "Hashes" }).waitFor();
    const stored = await gw.db().all<{ recordHash: string; payload: string }>(`SELECT "recordHash", "payload" FROM "Trace" WHERE "seq" = 13`);
    expect(await body.textContent()).toContain(stored[0]!.recordHash);
    expect(await body.getByRole("region", { name: "Payload (canonical JSON, as hashed)" }).locator("code").textContent()).toBe(stored[0]!.payload);
    const ocsf = JSON.parse((await body.getByRole("region", { name: "OCSF 1.3.0 API Activity" }).locator("code").textContent()) ?? "{}");
    expect(ocsf.class_uid).toBe(6003);
    expect(await body.getByRole("region", { name: "Args" }).locator("code").textContent()).toBe("{}");
    await shot("trace");
  });

  it("verifies an intact chain, then names the first bad seq of a tampered one", async () => {
    await page.getByRole("link", { name: "Verify chain" }).click();
    const result = page.locator("#verify-result");
    const run = page.getByRole("button", { name: "Verify chain" });
    await run.click();
    await page.locator('#verify-result[data-state="ok"]').waitFor();
    expect(await result.textContent()).toMatch(/Chain intact: \d+ record\(s\) verified\./);
    await shot("verify-ok");

    await gw.db().run(`UPDATE "Trace" SET "payload" = replace("payload", '"limit":10', '"limit":99') WHERE "seq" = 3`);
    await run.click();
    await page.locator('#verify-result[data-state="failed"]').waitFor();
    expect(await result.locator(".kind").textContent()).toBe("MUTATED");
    expect(await result.locator(".first-bad-seq").textContent()).toBe("3");
    await shot("verify-tampered");
  });

  it("charts denies by reason code", async () => {
    await page.getByRole("link", { name: "Stats" }).click();
    const chart = page.locator("#stats-result svg.chart");
    await chart.waitFor();
    expect(await page.locator("#stats-title").textContent()).toMatch(/^Deny events by reason code \(\d+ in all\)$/);
    const bars = await chart.locator("g.bar title").allTextContents();
    // 15 + 5 missing_role, 5 expired_token, 5 scope_exceeded, and the live denies.
    expect(bars[0]).toBe("missing_role: 20");
    expect(bars).toEqual(expect.arrayContaining(["expired_token: 5", "scope_exceeded: 5"]));
    await shot("stats");
  });

  it("ends the session when the key is revoked", async () => {
    const { viewer } = dataOf(await gw.as(consoleKey).raw("{ viewer { keyId } }")) as { viewer: { keyId: string } };
    dataOf(await gw.raw("mutation ($id: ID!) { revokeApiKey(id: $id) { revokedAt } }", { id: viewer.keyId }));
    // The next request is refused (or, within 5 s, the feed's subscription ends): signed out.
    await page.getByRole("link", { name: "Explorer", exact: true }).click({ timeout: 2_000 }).catch(() => undefined);
    await page.getByRole("button", { name: "Search" }).click({ timeout: 2_000 }).catch(() => undefined);
    await page.locator("#signin:not([hidden])").waitFor({ timeout: 10_000 });
    expect(await page.locator("#signin-error").textContent()).toMatch(/^Signed out: .*UNAUTHENTICATED/);
    expect(await page.locator("#signin-error").getAttribute("data-kind")).toBe("UNAUTHENTICATED");
    expect(await page.evaluate(() => sessionStorage.getItem("tracegate.console.apiKey"))).toBeNull();
    await shot("signed-out");
  });

  it("raised no script error and no CSP violation", () => {
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });
});

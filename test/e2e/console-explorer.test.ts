/**
 * The audit console's explorer as an auditor uses it, in Debian's Chromium (test/support/
 * browser.ts) against a real gateway: filters and time range in the URL (shareable, reload,
 * back/forward), relative presets, the histogram and its brush, export of exactly the
 * filter shown, integrity marks after a real SQL edit of a record, pivots and copy buttons,
 * and chart labels that are never cut. The keys hold what auditors hold: traces:read, and
 * traces:read confined to team-a/*; never admin.
 *
 * The traces are placed relative to now (minutes to days ago), so the presets ("last hour")
 * select known sets; each lies minutes away from any preset's edge, far more than the suite
 * takes. Screenshots go to test-artifacts/console/explorer-*.png.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConsole } from "../../console/build.js";
import { RecordTracesDocument, type TraceInput } from "../gql/graphql.js";
import { CHROMIUM, CHROMIUM_ARGS, haveChromium, skipWithoutChromium } from "../support/browser.js";
import { createTestGateway, dataOf, type TestGateway } from "../support/harness.js";
import { ROOT } from "../support/process.js";
import { deny, invoke } from "../support/traces.js";

const SCREENSHOTS = join(ROOT, "test-artifacts", "console");
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NOW = Date.now();
/** An instant `ms` before the suite started, as the gateway takes it. */
const ago = (ms: number) => `${new Date(NOW - ms).toISOString().replace(/\.\d{3}Z$/, "")}+00:00`;

/** A reason code of 28 characters, and a longer one (41), for the chart's labels. */
const CODE_28 = "change_freeze_window_applies";
const CODE_41 = "denied_by_org_policy_change_freeze_window";

const DEPLOYER = "team-a/deployer";
const BUILDER = "team-a/builder";
const OPS = "team-b/ops";

/**
 * Seq 0-9: the deployer's invokes, 2 to 47 min ago (every 5 min). 10-24: the deployer's denies,
 * 5 min to 4 h 45 ago (every 20 min). 25-29: team-b's denies, 2 h to 26 h ago. 30-34: the
 * builder's denies, 1 to 5 days ago. 35-37: the deployer's denies 10 to 12 days ago. 38: a
 * deployer deny with CODE_28, 40 min ago. 39: a team-b deny with CODE_41, 50 min ago.
 */
const seed: TraceInput[] = [
  ...Array.from({ length: 10 }, (_, i) => invoke(`inv-${i}`, { principalId: DEPLOYER, invokedAt: ago((i * 5 + 2) * MINUTE) })),
  ...Array.from({ length: 15 }, (_, i) =>
    deny(`deployer-deny-${i}`, i % 2 ? "expired_token" : "missing_role", { principalId: DEPLOYER, invokedAt: ago((i * 20 + 5) * MINUTE) }),
  ),
  ...Array.from({ length: 5 }, (_, i) => deny(`ops-deny-${i}`, "missing_role", { principalId: OPS, invokedAt: ago(i * 6 * HOUR + 2 * HOUR) })),
  ...Array.from({ length: 5 }, (_, i) => deny(`builder-deny-${i}`, "scope_exceeded", { principalId: BUILDER, invokedAt: ago((i + 1) * DAY + HOUR) })),
  ...Array.from({ length: 3 }, (_, i) => deny(`old-deny-${i}`, "missing_role", { principalId: DEPLOYER, invokedAt: ago((i + 10) * DAY) })),
  deny("freeze-deny", CODE_28, { principalId: DEPLOYER, invokedAt: ago(40 * MINUTE) }),
  deny("org-deny", CODE_41, { principalId: OPS, invokedAt: ago(50 * MINUTE) }),
];

/** The seqs of the seed (chain order from 0) matching a predicate. */
const seqsWhere = (match: (t: TraceInput) => boolean) => seed.flatMap((t, seq) => (match(t) ? [seq] : []));
const within = (ms: number) => (t: TraceInput) => Date.parse(t.invokedAt) >= NOW - ms;
const deployerDenies = (t: TraceInput) => t.principalId === DEPLOYER && t.eventType === "DENY";

const skip = skipWithoutChromium("audit console explorer (browser)");

describe.skipIf(skip)("audit console explorer (browser)", () => {
  let gw: TestGateway;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** An auditor: traces:read over every principal. */
  let auditorKey: string;
  /** A team lead: traces:read confined to team-a/*. */
  let teamKey: string;
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];

  const watch = (p: Page) => {
    p.on("pageerror", (e) => pageErrors.push(e.message));
    p.on("console", (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
    });
  };
  const newContext = () =>
    browser.newContext({ viewport: { width: 1366, height: 900 }, locale: "en-US", timezoneId: "Europe/Berlin", acceptDownloads: true });
  const shot = (name: string, p = page) => p.screenshot({ path: join(SCREENSHOTS, `explorer-${name}.png`), fullPage: true });
  const filters = (p = page) => p.getByRole("form", { name: "Trace filter" });
  const rowSeqs = (p = page) => p.locator("#explorer-rows tr").evaluateAll((rows) => rows.map((tr) => Number(tr.getAttribute("data-seq"))));
  const hashParams = (p = page) => new URLSearchParams(new URL(p.url()).hash.replace(/^#explorer\??/, ""));
  /** Wait until the table shows the search in the URL (the explorer marks it data-loaded). */
  const settled = (p = page) =>
    p.waitForFunction(() => {
      const hash = location.hash;
      return hash.startsWith("#explorer") && document.getElementById("explorer-table")?.getAttribute("data-loaded") === (hash.split("?")[1] ?? "");
    });
  const histogramDrawn = (p = page) => p.locator("#histogram-body svg.histogram").waitFor();
  const signIn = async (p: Page, key: string) => {
    await p.locator("#signin-key").fill(key);
    await p.locator("#signin-key").press("Enter");
    await p.locator("#viewer-name").waitFor();
  };
  const search = async (p = page) => {
    await p.getByRole("button", { name: "Search" }).click();
    await settled(p);
  };
  const bars = () =>
    page.locator("#histogram-body .hbar").evaluateAll((gs) =>
      gs.map((g) => ({ start: g.getAttribute("data-start")!, end: g.getAttribute("data-end")!, count: Number(g.getAttribute("data-count")) })),
    );

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`Chromium is required under CI=true but is not at ${CHROMIUM}: apt-get install -y chromium`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await buildConsole();
    gw = await createTestGateway({ keyCacheMs: 0 });
    dataOf(await gw.exec(RecordTracesDocument, { input: seed }));
    const address = await gw.app.start(0);
    base = `http://127.0.0.1:${address.port}`;
    auditorKey = await gw.issueKey(["traces:read"]);
    teamKey = await gw.issueKey(["traces:read"], ["team-a/*"]);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    context = await newContext();
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    page = await context.newPage();
    watch(page);
    await page.goto(`${base}/console/#explorer`);
    await signIn(page, auditorKey);
    await settled();
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.app.stop();
    await gw?.close();
  });

  it("keeps filters and range in the URL: shareable, kept on reload, back and forward step through searches", async () => {
    await filters().getByLabel("Principal").fill(DEPLOYER);
    await filters().getByLabel("Event type").selectOption("DENY");
    await filters().getByLabel("Time range").selectOption("24h");
    await filters().getByLabel("Order").selectOption("SEQ_ASC");
    await filters().getByLabel("Per page").selectOption("50");
    await search();
    const last24h = seqsWhere((t) => deployerDenies(t) && within(DAY)(t));
    expect(await rowSeqs()).toEqual(last24h);
    // A preset stays relative: the link says "the last 24 hours", not two instants.
    expect(Object.fromEntries(hashParams())).toEqual({ principalId: DEPLOYER, eventType: "DENY", range: "24h", order: "SEQ_ASC", size: "50" });
    expect(page.url()).not.toContain(auditorKey);
    const link24h = page.url();
    await shot("url");

    await filters().getByLabel("Time range").selectOption("7d");
    await search();
    expect(hashParams().get("range")).toBe("7d");
    expect(await rowSeqs()).toEqual(seqsWhere((t) => deployerDenies(t) && within(7 * DAY)(t)));

    // A custom range is absolute: since and until as UTC instants.
    await filters().getByLabel("Time range").selectOption("custom");
    await filters().getByLabel(/^Since/).fill("2020-01-01T00:00:00");
    await filters().getByLabel(/^Until/).fill("2020-01-02T00:00:00");
    await search();
    expect(hashParams().get("range")).toBeNull();
    expect(hashParams().get("since")).toBe("2019-12-31T23:00:00.000Z"); // Berlin is UTC+1 in January
    expect(hashParams().get("until")).toBe("2020-01-01T23:00:00.000Z");
    expect(await page.locator("#explorer-status").textContent()).toBe("No trace matches this filter.");

    // Back, back: the 7-day search, then the 24-hour one, form and rows included; forward again.
    await page.goBack();
    await expect.poll(() => hashParams().get("range")).toBe("7d");
    await expect.poll(() => rowSeqs()).toEqual(seqsWhere((t) => deployerDenies(t) && within(7 * DAY)(t)));
    expect(await filters().getByLabel("Time range").inputValue()).toBe("7d");
    await page.goBack();
    await expect.poll(() => rowSeqs()).toEqual(last24h);
    expect(await filters().getByLabel("Time range").inputValue()).toBe("24h");
    expect(await filters().getByLabel("Principal").inputValue()).toBe(DEPLOYER);
    await page.goForward();
    await expect.poll(() => rowSeqs()).toEqual(seqsWhere((t) => deployerDenies(t) && within(7 * DAY)(t)));

    // A reload keeps the search (and the key, in this tab's session storage).
    await page.reload();
    await settled();
    expect(hashParams().get("range")).toBe("7d");
    expect(await filters().getByLabel("Principal").inputValue()).toBe(DEPLOYER);
    expect(await rowSeqs()).toEqual(seqsWhere((t) => deployerDenies(t) && within(7 * DAY)(t)));

    // "Copy link" copies exactly this URL.
    await page.getByRole("button", { name: "Copy link" }).click();
    await page.getByText("Link copied").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(page.url());

    // A colleague opens the 24-hour link in their own browser: sign-in first (the link has no
    // key), with their own key (team-a/* only), then the same search.
    const colleague = await (await newContext()).newPage();
    watch(colleague);
    await colleague.goto(link24h);
    await colleague.locator("#signin-key").waitFor();
    await signIn(colleague, teamKey);
    await settled(colleague);
    expect(await filters(colleague).getByLabel("Principal").inputValue()).toBe(DEPLOYER);
    expect(await filters(colleague).getByLabel("Time range").inputValue()).toBe("24h");
    expect(await rowSeqs(colleague)).toEqual(last24h);
    await shot("shared-link", colleague);
    await colleague.context().close();
  });

  it("applies the presets relative to now: last 15 minutes, hour, 24 hours, 7 days", async () => {
    await page.goto(`${base}/console/#explorer?order=SEQ_ASC&size=100`);
    await settled();
    for (const [preset, ms] of [["15m", 15 * MINUTE], ["1h", HOUR], ["24h", DAY], ["7d", 7 * DAY]] as const) {
      await filters().getByLabel("Time range").selectOption(preset);
      await search();
      expect(hashParams().get("range")).toBe(preset);
      expect(hashParams().get("since")).toBeNull();
      expect(await rowSeqs(), preset).toEqual(seqsWhere(within(ms)));
      // The fields show the preset's bounds as of now (to the second, in Berlin time).
      const since = Date.parse(`${await filters().getByLabel(/^Since/).inputValue()}+01:00`);
      expect(Math.abs(since - (Date.now() - ms))).toBeLessThan(MINUTE);
    }
    await filters().getByLabel("Time range").selectOption("all");
    await search();
    expect((await rowSeqs()).length).toBe(seed.length);
  });

  it("charts the filter over time in 20 to 100 bars, without holding up the table", async () => {
    // The histogram's request held back 3 s: the table is there long before it.
    await page.route("**/graphql", async (route) => {
      if (route.request().postData()?.includes("ConsoleHistogram")) await new Promise((resolve) => setTimeout(resolve, 3_000));
      await route.continue();
    });
    try {
      await page.goto(`${base}/console/#explorer?eventType=DENY&range=24h&order=SEQ_ASC&size=100`);
      await settled();
      expect(await page.locator("#histogram-body").getAttribute("aria-busy")).toBe("true");
      expect((await rowSeqs()).length).toBeGreaterThan(0);
      await histogramDrawn();
    } finally {
      await page.unroute("**/graphql");
    }
    const drawn = await bars();
    expect(drawn.length).toBeGreaterThanOrEqual(20);
    expect(drawn.length).toBeLessThanOrEqual(100);
    // Hour bars over the day, adjacent, and their counts add up to the table's.
    expect(Date.parse(drawn[0]!.end) - Date.parse(drawn[0]!.start)).toBe(HOUR);
    for (let i = 1; i < drawn.length; i++) expect(drawn[i]!.start).toBe(drawn[i - 1]!.end);
    const expected = seqsWhere((t) => t.eventType === "DENY" && within(DAY)(t));
    expect(drawn.reduce((sum, b) => sum + b.count, 0)).toBe(expected.length);
    expect(await rowSeqs()).toEqual(expected);
    // Each bar counts exactly the traces in its hour.
    for (const bar of drawn) {
      const inside = seed.filter((t) => t.eventType === "DENY" && within(DAY)(t) && Date.parse(t.invokedAt) >= Date.parse(bar.start) && Date.parse(t.invokedAt) < Date.parse(bar.end));
      expect(bar.count, bar.start).toBe(inside.length);
    }
    await shot("histogram");

    // On a narrow screen it is redrawn for the width, its text at full size, fewer labels.
    await page.setViewportSize({ width: 420, height: 900 });
    await expect
      .poll(() => page.locator("#histogram-body svg.histogram").evaluate((svg) => Math.round(svg.getBoundingClientRect().width)))
      .toBeLessThanOrEqual(400);
    const ticks = page.locator("#histogram-body text.xtick");
    expect(await ticks.count()).toBeGreaterThanOrEqual(2);
    for (const box of await ticks.evaluateAll((texts) => texts.map((t) => t.getBoundingClientRect()).map((r) => ({ left: r.left, right: r.right, height: r.height })))) {
      expect(box.height).toBeGreaterThanOrEqual(12);
      expect(box.left).toBeGreaterThanOrEqual(0);
      expect(box.right).toBeLessThanOrEqual(420);
    }
    expect((await bars()).length).toBe(drawn.length);
    await shot("histogram-narrow");
    await page.setViewportSize({ width: 1366, height: 900 });
    await expect.poll(() => page.locator("#histogram-body svg.histogram").evaluate((svg) => Math.round(svg.getBoundingClientRect().width))).toBeGreaterThan(1000);
  });

  it("narrows the range by dragging across the histogram, by clicking a bar and from the keyboard", async () => {
    const drawn = await bars();
    // The last five hours: the deployer's denies every 20 minutes, and a few of team-b's.
    const last = drawn.length - 1 - [...drawn].reverse().findIndex((b) => b.count > 0);
    const first = Math.max(0, last - 4);
    const hits = page.locator("#histogram-body .hbar .hit");
    const centre = async (i: number) => {
      const box = (await hits.nth(i).boundingBox())!;
      return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    };
    // Drag from the first bar with traces to the last one.
    const from = await centre(first);
    const to = await centre(last);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move((from.x + to.x) / 2, from.y, { steps: 4 });
    await page.locator("#histogram-body .brush:not([hidden])").waitFor();
    await shot("brushing");
    await page.mouse.move(to.x, to.y, { steps: 4 });
    await page.mouse.up();
    await expect.poll(() => hashParams().get("since")).toBe(new Date(drawn[first]!.start).toISOString());
    expect(hashParams().get("until")).toBe(new Date(drawn[last]!.end).toISOString());
    expect(hashParams().get("range")).toBeNull();
    expect(hashParams().get("eventType")).toBe("DENY"); // the filter stays
    await settled();
    const brushed = seed.flatMap((t, seq) => {
      const ms = Date.parse(t.invokedAt);
      return t.eventType === "DENY" && ms >= Date.parse(drawn[first]!.start) && ms < Date.parse(drawn[last]!.end) ? [seq] : [];
    });
    await expect.poll(() => rowSeqs()).toEqual(brushed);
    // The narrower range gets finer bars.
    await histogramDrawn();
    await expect.poll(async () => (await bars())[0]?.start).toBe(new Date(drawn[first]!.start).toISOString());
    const fine = await bars();
    expect(fine.length).toBeGreaterThanOrEqual(20);
    expect(fine.length).toBeLessThanOrEqual(100);
    expect(Date.parse(fine[0]!.end) - Date.parse(fine[0]!.start)).toBeLessThan(HOUR);
    await shot("brushed");

    // A click on one bar: exactly its interval.
    const target = fine.findIndex((b) => b.count > 0);
    const point = await centre(target);
    await page.mouse.click(point.x, point.y);
    await expect.poll(() => `${hashParams().get("since")} ${hashParams().get("until")}`).toBe(`${fine[target]!.start} ${fine[target]!.end}`);
    await settled();
    await expect.poll(async () => (await rowSeqs()).length).toBe(fine[target]!.count);

    // Back to the brushed range, then the keyboard: Tab reaches a bar, arrows move, Enter zooms.
    await page.goBack();
    await histogramDrawn();
    await expect.poll(async () => (await bars()).length).toBe(fine.length);
    const active = page.locator('#histogram-body .hbar[tabindex="0"]');
    await active.focus();
    const focusedStart = () => page.evaluate(() => document.activeElement?.getAttribute("data-start"));
    const startIndex = fine.findIndex((b) => b.count > 0);
    expect(await focusedStart()).toBe(fine[startIndex]!.start);
    await page.keyboard.press("ArrowRight");
    expect(await focusedStart()).toBe(fine[startIndex + 1]!.start);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toMatch(/: \d+ traces?\. Enter zooms in\.$/);
    await page.keyboard.press("Enter");
    await expect.poll(() => hashParams().get("since")).toBe(fine[startIndex + 1]!.start);
    // Focus stays in the histogram, on the redrawn one's bar.
    await histogramDrawn();
    await expect.poll(() => page.evaluate(() => document.activeElement?.closest("#histogram-body") !== null && document.activeElement?.classList.contains("hbar"))).toBe(true);

    // Zoom out widens the range around it.
    await settled();
    await page.getByRole("button", { name: "Zoom out" }).click();
    await expect.poll(() => Date.parse(hashParams().get("until")!) - Date.parse(hashParams().get("since")!)).toBeGreaterThan(
      Date.parse(fine[startIndex + 1]!.end) - Date.parse(fine[startIndex + 1]!.start),
    );

    // The overview README.md shows (docs/console-explorer.png is copied from it).
    await page.goto(`${base}/console/#explorer?eventType=DENY&range=7d&size=10`);
    await settled();
    await histogramDrawn();
    await page.screenshot({ path: join(SCREENSHOTS, "explorer-overview.png") });
  });

  it("exports exactly the explorer's filter as CSV, JSONL and OCSF", async () => {
    // "Denies of team-a/* in the last 7 days": a prefix, as a key's principal scope is written.
    await page.goto(`${base}/console/#explorer?principalId=team-a%2F*&eventType=DENY&range=7d&order=SEQ_ASC&size=100`);
    await settled();
    const shown = await rowSeqs();
    const teamA = (t: TraceInput) => t.principalId.startsWith("team-a/");
    expect(shown).toEqual(seqsWhere((t) => teamA(t) && t.eventType === "DENY" && within(7 * DAY)(t)));
    expect(new Set(shown.map((seq) => seed[seq]!.principalId))).toEqual(new Set([DEPLOYER, BUILDER]));
    const format = page.getByLabel("Export as");
    const exportButton = page.getByRole("button", { name: "Export", exact: true });

    // CSV, where the File System Access API is missing: a Blob download.
    await page.evaluate(() => Object.defineProperty(window, "showSaveFilePicker", { value: undefined, configurable: true }));
    await format.selectOption("csv");
    const [request, download] = await Promise.all([page.waitForRequest(/\/export\?/), page.waitForEvent("download"), exportButton.click()]);
    const url = new URL(request.url());
    // The explorer's filter, by the same names; the preset resolved to the instant it was searched with.
    expect([...url.searchParams.keys()].sort()).toEqual(["eventType", "format", "order", "principalIdPrefix", "since"]);
    expect(url.searchParams.get("principalIdPrefix")).toBe("team-a/");
    expect(url.searchParams.get("eventType")).toBe("DENY");
    expect(Math.abs(Date.parse(url.searchParams.get("since")!) - (Date.now() - 7 * DAY))).toBeLessThan(MINUTE);
    expect((await request.allHeaders()).authorization).toBe(`Bearer ${auditorKey}`);
    expect(request.url()).not.toContain(auditorKey);
    expect(download.suggestedFilename()).toMatch(/^tracegate-traces-\d{8}T\d{6}Z\.csv$/);
    const csv = parseCsv(readFileSync((await download.path())!, "utf8"), { columns: true }) as Record<string, string>[];
    expect(csv.map((r) => Number(r.seq))).toEqual(shown);
    expect(new Set(csv.map((r) => r.principal_id))).toEqual(new Set([DEPLOYER, BUILDER]));
    await page.getByText(/^Exported [\d,]+ bytes to tracegate-traces-.*\.csv\.$/).waitFor();
    await shot("export");

    // JSONL through the File System Access API: streamed into a file the "picker" returns (a
    // real file of the origin's private file system stands in for the user's choice).
    await page.evaluate(() => {
      Object.defineProperty(window, "showSaveFilePicker", {
        configurable: true,
        value: async (options: { suggestedName: string }) => {
          (window as unknown as { savedAs: string }).savedAs = options.suggestedName;
          return (await navigator.storage.getDirectory()).getFileHandle(options.suggestedName, { create: true });
        },
      });
    });
    await format.selectOption("jsonl");
    await exportButton.click();
    await page.getByText(/^Exported [\d,]+ bytes to tracegate-traces-.*\.jsonl\.$/).waitFor();
    const jsonl = await page.evaluate(async () => {
      const name = (window as unknown as { savedAs: string }).savedAs;
      return (await (await (await navigator.storage.getDirectory()).getFileHandle(name)).getFile()).text();
    });
    const lines = jsonl.trimEnd().split("\n").map((line) => JSON.parse(line) as { action_id: string; principal_id: string; event_type: string });
    expect(lines.map((l) => l.action_id)).toEqual(shown.map((seq) => seed[seq]!.actionId));
    expect(lines.every((l) => l.principal_id.startsWith("team-a/") && l.event_type === "deny")).toBe(true);

    // OCSF, as a download again.
    await page.evaluate(() => Object.defineProperty(window, "showSaveFilePicker", { value: undefined, configurable: true }));
    await format.selectOption("ocsf");
    const [ocsfDownload] = await Promise.all([page.waitForEvent("download"), exportButton.click()]);
    expect(ocsfDownload.suggestedFilename()).toMatch(/\.ocsf\.jsonl$/);
    const events = readFileSync((await ocsfDownload.path())!, "utf8").trimEnd().split("\n").map((line) => JSON.parse(line) as { class_uid: number });
    expect(events).toHaveLength(shown.length);
    expect(events.every((e) => e.class_uid === 6003)).toBe(true);
  });

  it("confines an export to the key's principals; a key without traces:read is told why, and offered no export", async () => {
    const team = await (await newContext()).newPage();
    watch(team);
    await team.goto(`${base}/console/#explorer?eventType=DENY&order=SEQ_ASC&size=100`);
    await signIn(team, teamKey);
    await settled(team);
    const shown = await rowSeqs(team);
    expect(shown).toEqual(seqsWhere((t) => t.eventType === "DENY" && t.principalId.startsWith("team-a/")));
    await team.evaluate(() => Object.defineProperty(window, "showSaveFilePicker", { value: undefined, configurable: true }));
    await team.getByLabel("Export as").selectOption("csv");
    const [download] = await Promise.all([team.waitForEvent("download"), team.getByRole("button", { name: "Export", exact: true }).click()]);
    const csv = parseCsv(readFileSync((await download.path())!, "utf8"), { columns: true }) as Record<string, string>[];
    expect(csv.map((r) => Number(r.seq))).toEqual(shown);

    // A key confined to team-a/* verifies its own traces in their detail (verifyTrace).
    await team.getByRole("link", { name: "builder-deny-0" }).click();
    await team.locator('#trace-integrity[data-state="ok"]').waitFor();
    expect(await team.locator("#trace-integrity .verdict").textContent()).toBe("✔ Record intact: its HMAC recomputes and its links hold.");
    await shot("trace-scoped-key", team);
    await team.goBack();
    await settled(team);

    // A write-only key is refused with FORBIDDEN, said where the rows would be; with no
    // search shown there is nothing to export (an export then would not be of a filter shown).
    const writer = await gw.issueKey(["traces:write"]);
    await team.evaluate((key) => sessionStorage.setItem("tracegate.console.apiKey", key), writer);
    await team.reload();
    await team.locator("#viewer-name").waitFor();
    await team.locator('#explorer-table[data-loaded="failed"]').waitFor();
    expect(await team.locator("#explorer-status").textContent()).toMatch(/^This API key is not allowed to do that \(FORBIDDEN\): .*Query\.traces/);
    expect(await rowSeqs(team)).toEqual([]);
    expect(await team.getByRole("button", { name: "Export", exact: true }).isDisabled()).toBe(true);
    await team.context().close();
  });

  it("pivots from a trace to the explorer on its principal, capability or reason code, and copies hashes and ids", async () => {
    const seq = seed.findIndex((t) => t.actionId === "builder-deny-2");
    await page.goto(`${base}/console/#explorer?principalId=${encodeURIComponent(BUILDER)}&order=SEQ_ASC`);
    await settled();
    await page.getByRole("link", { name: "builder-deny-2" }).click();
    await page.getByRole("heading", { name: "Trace builder-deny-2" }).waitFor();
    const body = page.locator("#trace-body");

    const [stored] = await gw.db().all<{ recordHash: string; prevHash: string }>(`SELECT "recordHash", "prevHash" FROM "Trace" WHERE "seq" = ${seq}`);
    await body.getByRole("button", { name: "Copy recordHash" }).click();
    await body.getByRole("button", { name: "Copied recordHash" }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(stored!.recordHash);
    await body.getByRole("button", { name: "Copy prevHash" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(stored!.prevHash);
    await body.getByRole("button", { name: "Copy action id" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe("builder-deny-2");
    await shot("trace-tools");

    // The back link returns to the search the trace was opened from.
    expect(await page.getByRole("link", { name: "← Back to the explorer" }).getAttribute("href")).toBe(`#explorer?principalId=${encodeURIComponent(BUILDER)}&order=SEQ_ASC`);

    // One click: the explorer on this reason code (the URL says so).
    await body.getByRole("button", { name: "Filter on this reason code: scope_exceeded" }).click();
    await settled();
    expect(Object.fromEntries(hashParams())).toEqual({ reasonCode: "scope_exceeded" });
    expect(await filters().getByLabel("Reason code").inputValue()).toBe("scope_exceeded");
    expect((await rowSeqs()).sort((a, b) => a - b)).toEqual(seqsWhere((t) => t.reasonCode === "scope_exceeded"));

    // From the keyboard: back to the trace, Enter on the principal's pivot.
    await page.goBack();
    await page.getByRole("heading", { name: "Trace builder-deny-2" }).waitFor();
    await body.getByRole("button", { name: `Filter on this principal: ${BUILDER}` }).focus();
    await page.keyboard.press("Enter");
    await settled();
    expect(Object.fromEntries(hashParams())).toEqual({ principalId: BUILDER });
    expect((await rowSeqs()).sort((a, b) => a - b)).toEqual(seqsWhere((t) => t.principalId === BUILDER));

    await page.goBack();
    await page.getByRole("heading", { name: "Trace builder-deny-2" }).waitFor();
    await body.getByRole("button", { name: "Filter on this capability: billing.list_invoices" }).click();
    await settled();
    expect(Object.fromEntries(hashParams())).toEqual({ capabilityId: "billing.list_invoices" });
  });

  it("never cuts a chart label: 28- and 41-character reason codes stay inside the chart", async () => {
    for (const width of [1366, 420]) {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`${base}/console/#stats`);
      await page.getByLabel("Group by").selectOption("REASON_CODE");
      await page.getByRole("button", { name: "Show" }).click();
      const chart = page.locator("#stats-result svg.chart");
      await chart.waitFor();
      const labels = await chart.locator("g.bar").evaluateAll((groups) =>
        groups.map((g) => {
          const text = g.querySelector("text.label")!;
          const box = text.getBoundingClientRect();
          const frame = g.closest("svg")!.getBoundingClientRect();
          return {
            title: g.querySelector("title")!.textContent!,
            text: [...text.querySelectorAll("tspan")].map((t) => t.textContent).join(""),
            inside: box.left >= frame.left - 0.5 && box.right <= frame.right + 0.5 && box.top >= frame.top - 0.5 && box.bottom <= frame.bottom + 0.5,
            inViewport: box.left >= 0 && box.right <= window.innerWidth,
            lines: text.querySelectorAll("tspan").length,
          };
        }),
      );
      for (const code of [CODE_28, CODE_41]) {
        const label = labels.find((l) => l.title.startsWith(`${code}:`));
        expect(label, code).toBeDefined();
        expect(label!.text).toBe(code); // whole, no ellipsis
        expect(label!.inside, `${code} at ${width}px`).toBe(true);
        expect(label!.inViewport, `${code} at ${width}px`).toBe(true);
      }
      // The 41-character code wraps (two lines, three on a narrow screen) rather than widening the chart for one label.
      expect(labels.find((l) => l.title.startsWith(`${CODE_41}:`))!.lines).toBe(width > 600 ? 2 : 3);
      // Drawn at its real size: the labels' text is not scaled down on a narrow screen.
      expect(await chart.locator("text.label").first().evaluate((t) => Math.round(t.getBoundingClientRect().height))).toBeGreaterThanOrEqual(13);
      await shot(`stats-labels-${width}`);
    }
    await page.setViewportSize({ width: 1366, height: 900 });
  });

  it("marks the record an SQL edit forged, and the records after it as unverified, in the explorer and its detail", async () => {
    // An intact chain first: every row verified.
    await page.goto(`${base}/console/#verify`);
    await page.getByRole("button", { name: "Verify chain" }).click();
    await page.locator('#verify-result[data-state="ok"]').waitFor();
    await page.goto(`${base}/console/#explorer?order=SEQ_ASC&size=100`);
    await settled();
    expect(new Set(await page.locator("#explorer-rows tr").evaluateAll((rows) => rows.map((tr) => tr.getAttribute("data-integrity"))))).toEqual(
      new Set(["verified"]),
    );

    // Someone with database access makes seq 17 (a deployer deny) look like team-b's: the
    // principal column and the hashed payload both edited, so no filter reveals it.
    const seq = 17;
    expect(seed[seq]!.principalId).toBe(DEPLOYER);
    await gw.db().run(
      `UPDATE "Trace" SET "principalId" = '${OPS}', "payload" = replace("payload", '"principal_id":"${DEPLOYER}"', '"principal_id":"${OPS}"') WHERE "seq" = ${seq}`,
    );
    const [edited] = await gw.db().all<{ payload: string }>(`SELECT "payload" FROM "Trace" WHERE "seq" = ${seq}`);
    expect(edited!.payload).toContain(`"principal_id":"${OPS}"`);

    await page.getByRole("link", { name: "Verify chain" }).click();
    await page.getByRole("button", { name: "Verify chain" }).click();
    await page.locator('#verify-result[data-state="failed"]').waitFor();
    expect(await page.locator("#verify-result .first-bad-seq").textContent()).toBe(String(seq));

    // Searched again: the table shows the records as they are now.
    await page.getByRole("link", { name: "Explorer", exact: true }).click();
    await settled();
    await search();
    const marks = await page.locator("#explorer-rows tr").evaluateAll((rows) =>
      rows.map((tr) => ({ seq: Number(tr.getAttribute("data-seq")), integrity: tr.getAttribute("data-integrity"), text: tr.lastElementChild!.textContent })),
    );
    for (const mark of marks) {
      if (mark.seq < seq) expect(mark.integrity, `seq ${mark.seq}`).toBe("verified");
      else if (mark.seq === seq) {
        expect(mark.integrity).toBe("bad");
        expect(mark.text).toBe("✘ MUTATED");
      } else {
        expect(mark.integrity, `seq ${mark.seq}`).toBe("unverified");
        expect(mark.text).toBe(`⚠ unverified (after seq ${seq})`);
      }
    }
    const row = page.locator(`#explorer-rows tr[data-seq="${seq}"]`);
    expect(await row.locator("td").nth(5).textContent()).toBe(OPS); // the forged principal, flagged
    await row.scrollIntoViewIfNeeded();
    await shot("integrity");

    // Its detail verifies it on opening and says what is wrong, plainly.
    await row.getByRole("link").click();
    const box = page.locator("#trace-integrity");
    await page.locator('#trace-integrity[data-state="failed"]').waitFor();
    expect(await box.locator(".kind").textContent()).toBe("MUTATED");
    expect(await box.locator(".verdict").textContent()).toContain("at this record");
    expect(await box.locator(".ok-value").textContent()).toBe("failed");
    await shot("trace-tampered");

    // The record before it is intact: seq 17's stored prevHash still names it.
    await page.goto(`${base}/console/#trace/${seed[seq - 1]!.actionId}`);
    await page.locator('#trace-integrity[data-state="ok"]').waitFor();

    // An untouched record verifies, with its links.
    await page.goto(`${base}/console/#trace/inv-3`);
    await page.locator('#trace-integrity[data-state="ok"]').waitFor();
    expect(await box.locator(".verdict").textContent()).toBe("✔ Record intact: its HMAC recomputes and its links hold.");
    await shot("trace-intact");
  });

  it("deletes a record: its predecessor's detail says the next record is missing, not that it does not link", async () => {
    // After the test before, seq 17 is forged; deleting it outright leaves seq 16 without its successor.
    const seq = 17;
    await gw.db().run(`DELETE FROM "Trace" WHERE "seq" = ${seq}`);
    await page.goto(`${base}/console/#trace/${seed[seq - 1]!.actionId}`);
    const box = page.locator("#trace-integrity");
    await page.locator('#trace-integrity[data-state="failed"]').waitFor();
    expect(await box.locator(".kind").textContent()).toBe("NON_CONTIGUOUS");
    const verdict = await box.locator(".verdict").textContent();
    expect(verdict).toContain(`the next record (seq ${seq}): it is missing (deleted)`);
    expect(verdict).not.toContain("does not link");
    await shot("trace-next-deleted");
    // And the record after the gap: its previous record is missing, so it cannot be vouched for.
    await page.goto(`${base}/console/#trace/${seed[seq + 1]!.actionId}`);
    await page.locator('#trace-integrity[data-state="failed"]').waitFor();
    expect(await box.locator(".verdict").textContent()).toContain(`the previous record (seq ${seq}): it is missing (deleted), so this one cannot be vouched for`);
  });

  it("reads /export's spellings of enums and presets, and refuses a link it cannot read instead of listing everything", async () => {
    // Lowercase, as /export and the CLI accept: applied, and the URL says it in the canonical spelling.
    await page.goto(`${base}/console/#explorer?eventType=deny&outcome=failed&range=24H&order=seq_asc&size=100`);
    await settled();
    expect(Object.fromEntries(hashParams())).toEqual({ eventType: "DENY", outcome: "FAILED", range: "24h", order: "SEQ_ASC", size: "100" });
    const denies24h = (await rowSeqs());
    expect(denies24h).toEqual(seqsWhere((t) => t.eventType === "DENY" && within(DAY)(t)).filter((seq) => seq !== 17)); // 17 was deleted above
    expect(await filters().getByLabel("Event type").inputValue()).toBe("DENY");

    const notice = page.locator("#explorer-notice");
    for (const [link, named] of [
      ["eventType=NOPE", "eventType=NOPE"],
      ["principalId=team-b%2Fops&outcome=lost", "outcome=lost"],
      ["since=garbage", "since=garbage"],
      ["first=100000", "first=100000"],
      ["range=2h", "range=2h"],
      ["size=7", "size=7"],
      ["principalId=*", "principalId=*"],
      ["capabilityId=*&eventType=DENY", "capabilityId=*"],
    ] as const) {
      // From a search with rows: none of them may stay listed under the refused link.
      await page.goto(`${base}/console/#explorer?principalId=team-b%2Fops`);
      await settled();
      await histogramDrawn();
      expect((await rowSeqs()).length).toBeGreaterThan(0);
      await page.goto(`${base}/console/#explorer?${link}`);
      await page.locator('#explorer-table[data-loaded="invalid"]').waitFor();
      expect(await notice.isVisible(), link).toBe(true);
      expect(await notice.getAttribute("role")).toBe("alert");
      expect(await notice.textContent(), link).toContain(named);
      expect(await rowSeqs(), link).toEqual([]);
      expect(await page.locator("#histogram-body svg").count(), link).toBe(0);
      expect(await page.locator("#explorer-status").textContent(), link).toMatch(/^Not searched/);
      expect(await page.locator("#page-label").textContent()).toBe("");
      expect(await page.getByRole("button", { name: "Export", exact: true }).isDisabled()).toBe(true);
      expect(new URL(page.url()).hash, "the link is left as given").toBe(`#explorer?${link}`);
      // The Explorer tab returns to the link as given, not to the part of it that could be read.
      expect(await page.locator('nav a[data-view="explorer"]').getAttribute("href")).toBe(`#explorer?${link}`);
      if (link === "eventType=NOPE") await shot("invalid-link");
    }
    // Searching from the form afterwards runs and hides the notice.
    await filters().getByLabel("Principal").fill(OPS);
    await search();
    expect(await notice.isVisible()).toBe(false);
    expect((await rowSeqs()).length).toBeGreaterThan(0);
  });

  it("clears the rows, the count and the histogram when the gateway refuses a search", async () => {
    for (const link of [
      "principalId=mallory&since=2026-12-01T05:00:00Z&until=2026-12-01T04:00:00Z",
      "principalId=a%00b",
    ]) {
      await page.goto(`${base}/console/#explorer?principalId=team-b%2Fops`);
      await settled();
      await histogramDrawn();
      expect((await rowSeqs()).length).toBeGreaterThan(0);
      await page.goto(`${base}/console/#explorer?${link}`);
      await page.locator('#explorer-table[data-loaded="failed"]').waitFor();
      expect(await page.locator("#explorer-status").textContent(), link).toMatch(/^The gateway refused the input: /);
      expect(await rowSeqs(), link).toEqual([]);
      expect(await page.locator("#histogram-body svg").count(), link).toBe(0);
      expect(await page.locator("#page-label").textContent()).toBe("");
      expect(await page.getByRole("button", { name: "Export", exact: true }).isDisabled()).toBe(true);
    }
    await shot("refused-search");
  });

  it("fits the viewport: a 300-character reason code wraps at 1280 px, and nothing overflows at 360 px", async () => {
    const long = `denied_${"policy_window_".repeat(21)}`.slice(0, 300);
    expect(long).toHaveLength(300);
    dataOf(await gw.exec(RecordTracesDocument, { input: [deny("long-reason", long, { principalId: OPS, invokedAt: ago(3 * MINUTE) })] }));
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${base}/console/#explorer?reasonCode=${long}`);
    await settled();
    expect(await rowSeqs()).toHaveLength(1);
    const fit = await page.evaluate(() => {
      const table = document.getElementById("explorer-table")!.getBoundingClientRect();
      const integrity = document.querySelector("#explorer-rows td.integrity")!.getBoundingClientRect();
      return { table: table.right, integrity: integrity.right, page: document.documentElement.scrollWidth, scroller: document.querySelector(".table-scroll")!.scrollWidth, width: window.innerWidth };
    });
    expect(fit.integrity).toBeLessThanOrEqual(fit.width);
    expect(fit.table).toBeLessThanOrEqual(fit.width);
    expect(fit.page).toBeLessThanOrEqual(fit.width);
    expect(fit.scroller).toBeLessThanOrEqual(fit.width);
    // The long value wraps over many lines; the seq, the event badge and the outcome stay whole.
    await shot("long-reason-1280");
    const lines = await page.locator("#explorer-rows tr td").evaluateAll((cells) =>
      cells.map((td) => {
        // The lines its text is laid out on: the distinct tops of its text nodes' line boxes.
        const tops = new Set<number>();
        const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const range = document.createRange();
          range.selectNodeContents(node);
          for (const rect of range.getClientRects()) tops.add(Math.round(rect.top));
        }
        return tops.size;
      }),
    );
    expect([0, 3, 4].map((i) => lines[i])).toEqual([1, 1, 1]);
    expect(lines[7]).toBeGreaterThan(3);

    await page.setViewportSize({ width: 360, height: 800 });
    for (const view of ["#explorer?eventType=DENY", "#stats", "#verify", "#feed", "#trace/long-reason"]) {
      await page.goto(`${base}/console/${view}`);
      await page.waitForLoadState("networkidle");
      const sizes = await page.evaluate(() => {
        const stats = [...document.querySelectorAll("nav.views a")].find((a) => a.textContent?.trim() === "Stats")!.getBoundingClientRect();
        return { page: document.documentElement.scrollWidth, body: document.body.scrollWidth, statsRight: stats.right, statsLeft: stats.left };
      });
      expect(sizes.page, view).toBeLessThanOrEqual(360);
      expect(sizes.body, view).toBeLessThanOrEqual(360);
      expect(sizes.statsLeft, view).toBeGreaterThanOrEqual(0);
      expect(sizes.statsRight, view).toBeLessThanOrEqual(360);
      await shot(`narrow-360-${view.replace(/[#?=/]/g, "-")}`);
    }
    await page.setViewportSize({ width: 1366, height: 900 });
  });

  it("raised no script error and no CSP violation", () => {
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });
});

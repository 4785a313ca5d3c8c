/**
 * The trace explorer: TraceFilter fields and a time range kept in the URL (./query.ts), a
 * histogram of the filter over time that narrows the range (./histogram.ts), Relay pages
 * (first/after forward, last/before back) of a table whose action ids link to the detail
 * view, each row marked with what the last chain verification found (./integrity.ts), and
 * an export of exactly the filter shown (./export.ts).
 *
 * Searching, zooming and resetting change the URL; the hash change then loads the page, so
 * back and forward replay earlier searches and a reload or a shared link shows the same one.
 */
import {
  ConsoleTracesDocument,
  type ConsoleTracesQuery,
  type ConsoleTracesQueryVariables,
  type EventType,
  type Outcome,
  type TraceFilter,
  type TraceOrder,
} from "../gql/graphql.js";
import { type ApiError, describeFailure, request } from "./api.js";
import { byId, fill, h } from "./dom.js";
import { type ConsoleExportFormat, EXPORT_FORMATS, runExport } from "./export.js";
import { Histogram } from "./histogram.js";
import { integrityOf, onVerification } from "./integrity.js";
import { DEFAULT_ORDER, DEFAULT_SIZE, type ExplorerQuery, explorerHash, formatQuery, type Preset, PRESETS, parseQuery, type QueryProblem, readQuery, resolveRange, toFilter } from "./query.js";
import { isoToLocalInput, localInputToIso, timeElement } from "./time.js";

type Page = ConsoleTracesQuery["traces"];
type Row = Page["edges"][number]["node"];
type Direction = Pick<ConsoleTracesQueryVariables, "first" | "after" | "last" | "before">;

const input = (id: string) => byId(id, HTMLInputElement);
const select = (id: string) => byId(id, HTMLSelectElement);
const text = (id: string) => input(id).value.trim() || undefined;

/** The query in the form; throws RangeError for an unreadable date. */
function readForm(): ExplorerQuery {
  const query: ExplorerQuery = {
    range: { kind: "all" },
    order: (select("f-order").value || DEFAULT_ORDER) as TraceOrder,
    size: Number(select("f-size").value) || DEFAULT_SIZE,
  };
  const principalId = text("f-principal");
  const capabilityId = text("f-capability");
  const reasonCode = text("f-reason");
  const eventType = select("f-event").value as EventType | "";
  const outcome = select("f-outcome").value as Outcome | "";
  if (principalId) query.principalId = principalId;
  if (capabilityId) query.capabilityId = capabilityId;
  if (reasonCode) query.reasonCode = reasonCode;
  if (eventType) query.eventType = eventType;
  if (outcome) query.outcome = outcome;
  const range = select("f-range").value;
  if (Object.hasOwn(PRESETS, range)) query.range = { kind: "relative", preset: range as Preset };
  else if (range === "custom") {
    const since = localInputToIso(input("f-since").value);
    const until = localInputToIso(input("f-until").value);
    if (since && until && since >= until) throw new RangeError("The range is empty: “Since” must be earlier than “Until”.");
    if (since || until) query.range = { kind: "absolute", ...(since ? { since } : {}), ...(until ? { until } : {}) };
  }
  return query;
}

/** Show the range's bounds in the since/until fields (for a preset: as of now). */
function showRange(query: ExplorerQuery, now: number): void {
  const { since, until } = resolveRange(query.range, now);
  input("f-since").value = since === undefined ? "" : isoToLocalInput(since);
  input("f-until").value = until === undefined ? "" : isoToLocalInput(until);
}

function writeForm(query: ExplorerQuery): void {
  input("f-principal").value = query.principalId ?? "";
  input("f-capability").value = query.capabilityId ?? "";
  input("f-reason").value = query.reasonCode ?? "";
  select("f-event").value = query.eventType ?? "";
  select("f-outcome").value = query.outcome ?? "";
  select("f-order").value = query.order;
  select("f-size").value = String(query.size);
  select("f-range").value = query.range.kind === "relative" ? query.range.preset : query.range.kind === "absolute" ? "custom" : "all";
  showRange(query, Date.now());
}

/** The integrity cell of a row: text and a symbol, never colour alone. */
function integrityCell(row: Row): HTMLTableCellElement {
  const standing = integrityOf(row.seq);
  switch (standing.state) {
    case "verified":
      return h("td", { class: "integrity ok", title: "The last chain verification recomputed this record's HMAC and links." }, "✔ verified");
    case "bad":
      return h("td", { class: "integrity bad", title: standing.detail }, "✘ ", h("strong", {}, standing.kind ?? "FAILED"));
    case "unverified":
      return h(
        "td",
        { class: "integrity unverified", title: `The chain is broken at seq ${standing.firstBadSeq}: nothing after it can be vouched for.` },
        `⚠ unverified (after seq ${standing.firstBadSeq})`,
      );
    case "unchecked":
      return h("td", { class: "integrity muted", title: "Not covered by a chain verification in this session (Verify chain tab)." }, "not checked");
  }
}

export class Explorer {
  private query: ExplorerQuery = parseQuery("");
  /** The query string of a link refused (see refuse()) while it is the one shown. */
  private refused: string | null = null;
  /** The query string of the search shown, or null before the first. */
  private shown: string | null = null;
  /** The filter the table, the histogram and an export use (a preset resolved when searched). */
  private filter: TraceFilter = {};
  /** 0-based index of the page shown. */
  private page = 0;
  /** Increases with every page load (see load()). */
  private loads = 0;
  private current: Page | undefined;
  private hasPrevious = false;
  private hasNext = false;
  private readonly form = byId("explorer-form", HTMLFormElement);
  private readonly status = byId("explorer-status", HTMLElement);
  private readonly rows = byId("explorer-rows", HTMLTableSectionElement);
  private readonly prev = byId("page-prev", HTMLButtonElement);
  private readonly next = byId("page-next", HTMLButtonElement);
  private readonly pageLabel = byId("page-label", HTMLElement);
  private readonly notice = byId("explorer-notice", HTMLElement);
  private readonly zoomOutButton = byId("zoom-out", HTMLButtonElement);
  private readonly exportButton = byId("export-run", HTMLButtonElement);
  private readonly exportStatus = byId("export-status", HTMLElement);
  private readonly histogram: Histogram;

  constructor(
    private readonly key: () => string,
    private readonly onUnauthenticated: (error: ApiError) => void,
  ) {
    this.histogram = new Histogram({
      container: byId("histogram-body", HTMLElement),
      key,
      onUnauthenticated,
      onZoom: (since, until) => this.navigate({ ...this.query, range: { kind: "absolute", since: new Date(since).toISOString(), until: new Date(until).toISOString() } }),
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      try {
        this.navigate(readForm());
      } catch (e) {
        this.status.textContent = (e as Error).message;
      }
    });
    // A reset clears the fields (after this event), then lists everything again.
    this.form.addEventListener("reset", (event) => {
      event.preventDefault();
      this.navigate(parseQuery(""));
    });
    // Picking a preset shows its bounds; editing a bound makes the range custom.
    select("f-range").addEventListener("change", () => {
      const range = select("f-range").value;
      if (Object.hasOwn(PRESETS, range)) showRange({ ...this.query, range: { kind: "relative", preset: range as Preset } }, Date.now());
      if (range === "all") showRange({ ...this.query, range: { kind: "all" } }, Date.now());
    });
    for (const id of ["f-since", "f-until"]) input(id).addEventListener("input", () => (select("f-range").value = "custom"));
    this.zoomOutButton.addEventListener("click", () => this.zoomOut());
    this.prev.addEventListener("click", () => void this.load({ last: this.query.size, before: this.current?.pageInfo.startCursor }, -1));
    this.next.addEventListener("click", () => void this.load({ first: this.query.size, after: this.current?.pageInfo.endCursor }, +1));
    const formats = select("export-format");
    for (const [value, spec] of Object.entries(EXPORT_FORMATS)) formats.append(h("option", { value }, spec.label));
    this.exportButton.addEventListener("click", () => void this.export(formats.value as ConsoleExportFormat));
    byId("copy-link", HTMLButtonElement).addEventListener("click", () => void this.copyLink());
    onVerification(() => this.current && this.render(this.current));
  }

  /** The hash of the search shown (the nav link and the detail's back link return to it). */
  get hash(): string {
    // A refused link is returned to as it was, notice and all, not as the part of it read.
    return this.refused === null ? explorerHash(this.query) : `#explorer?${this.refused}`;
  }

  /**
   * Show the search in the hash's query string (after `?`). The same search as the one shown
   * is not run again, so coming back from a trace keeps the page the user was on.
   */
  show(search: string): void {
    const { query, problems } = readQuery(search);
    if (problems.length > 0) {
      if (search !== this.shown) this.refuse(search, query, problems);
      return;
    }
    const canonical = formatQuery(query);
    if (canonical === this.shown) return;
    if (canonical !== search) history.replaceState(null, "", explorerHash(query));
    void this.search(query);
  }

  /**
   * A link that cannot be read as asked: say which parameters and why, and show no rows. A
   * search without them would list more than the link means under what looks like its
   * filter. The form shows what could be read, so the user can correct it and search.
   */
  private refuse(search: string, query: ExplorerQuery, problems: QueryProblem[]): void {
    ++this.loads; // a search still answering draws nothing
    this.query = query;
    this.shown = this.refused = search;
    writeForm(query);
    this.clearResults();
    this.status.textContent = "Not searched: this link has parameters the explorer cannot apply.";
    fill(
      this.notice,
      h("strong", {}, "This link's filter could not be read, so nothing is shown (showing every trace instead could be mistaken for the filtered result):"),
      h("ul", {}, ...problems.map((p) => h("li", {}, h("code", {}, `${p.name}=${p.value}`), ` ${p.reason}.`))),
    );
    this.notice.hidden = false;
    this.rows.closest("table")?.setAttribute("data-loaded", "invalid");
  }

  /** No rows, no count, no histogram, no export: after a refused link or a failed search. */
  private clearResults(): void {
    this.current = undefined;
    this.filter = {};
    this.hasPrevious = this.hasNext = false;
    this.prev.disabled = this.next.disabled = true;
    this.exportButton.disabled = this.zoomOutButton.disabled = true;
    this.pageLabel.textContent = "";
    fill(this.rows);
    this.histogram.clear();
  }

  /** Put a query in the URL; the hash change shows it (the same URL: search again). */
  navigate(query: ExplorerQuery): void {
    const hash = explorerHash(query);
    if (location.hash === hash) void this.search(query);
    else location.hash = hash;
  }

  /** Show the first page of `query`, then its histogram. */
  async search(query: ExplorerQuery): Promise<void> {
    const now = Date.now();
    this.query = query;
    this.refused = null;
    this.shown = formatQuery(query);
    this.filter = toFilter(query, now);
    writeForm(query);
    this.notice.hidden = true;
    fill(this.notice);
    this.page = 0;
    this.histogram.clear();
    // A refused search (the gateway's BAD_USER_INPUT) charts nothing either.
    if (!(await this.load({ first: query.size }, 0))) return;
    // After the page: the histogram's counting never delays the table.
    const { since, until } = resolveRange(query.range, now);
    void this.histogram.load(this.filter, since, until);
  }

  private zoomOut(): void {
    const { since, until } = resolveRange(this.query.range, Date.now());
    if (since === undefined || until === undefined) {
      this.navigate({ ...this.query, range: { kind: "all" } });
      return;
    }
    const span = until - since;
    const later = Math.min(Date.now(), until + span / 2);
    this.navigate({ ...this.query, range: { kind: "absolute", since: new Date(later - 2 * span).toISOString(), until: new Date(later).toISOString() } });
  }

  /** Load a page; false when it failed (the results are cleared) or a later load superseded it. */
  private async load(direction: Direction, step: -1 | 0 | 1): Promise<boolean> {
    // A quick back-and-forth starts loads that may answer out of order: only the last draws.
    const generation = ++this.loads;
    this.prev.disabled = this.next.disabled = true;
    this.status.textContent = "Loading…";
    const table = this.rows.closest("table");
    table?.setAttribute("aria-busy", "true");
    // data-loaded: which search the table shows (for tests and tools waiting on a search).
    table?.removeAttribute("data-loaded");
    try {
      const data = await request(ConsoleTracesDocument, { filter: this.filter, orderBy: this.query.order, ...direction }, this.key());
      if (generation !== this.loads) return false;
      this.current = data.traces;
      this.page = Math.max(0, this.page + step);
      const { pageInfo } = data.traces;
      if (step < 0) {
        // Back from a later page: there is a next one; the gateway says if there is a previous.
        this.hasPrevious = pageInfo.hasPreviousPage;
        if (!this.hasPrevious) this.page = 0;
        this.hasNext = true;
      } else {
        this.hasNext = pageInfo.hasNextPage;
        this.hasPrevious = this.page > 0;
      }
      this.render(data.traces);
      this.exportButton.disabled = this.zoomOutButton.disabled = false;
      table?.setAttribute("data-loaded", this.shown ?? "");
      return true;
    } catch (e) {
      if ((e as ApiError).kind === "UNAUTHENTICATED") this.onUnauthenticated(e as ApiError);
      if (generation !== this.loads) return false;
      // The rows of the search before must not stand under this one's error as if they were its.
      this.clearResults();
      this.status.textContent = describeFailure(e);
      table?.setAttribute("data-loaded", "failed");
      return false;
    } finally {
      if (generation === this.loads) table?.removeAttribute("aria-busy");
    }
  }

  private render(page: Page): void {
    const count = page.edges.length;
    const pages = Math.max(1, Math.ceil(page.totalCount / this.query.size));
    const first = this.page * this.query.size + 1;
    this.status.textContent =
      page.totalCount === 0
        ? "No trace matches this filter."
        : `${page.totalCount} matching trace${page.totalCount === 1 ? "" : "s"}; showing ${first}–${first + count - 1}.`;
    this.pageLabel.textContent = `Page ${this.page + 1} of ${pages}`;
    this.prev.disabled = !this.hasPrevious;
    this.next.disabled = !this.hasNext;
    fill(
      this.rows,
      ...page.edges.map(({ node }) => {
        const standing = integrityOf(node.seq).state;
        const classes = [node.eventType === "DENY" ? "deny" : "", standing === "bad" ? "tampered" : "", standing === "unverified" ? "unverified" : ""].filter(Boolean);
        return h(
          "tr",
          { "data-seq": node.seq, "data-integrity": standing, class: classes.length ? classes.join(" ") : undefined },
          h("td", { class: "num" }, node.seq),
          h("td", {}, timeElement(node.invokedAt)),
          // Ids and reason codes may be hundreds of characters without a space: .wrap (console.css).
          h("td", {}, h("a", { class: "wrap", href: `#trace/${encodeURIComponent(node.actionId)}` }, node.actionId)),
          h("td", {}, h("span", { class: `badge event-${node.eventType.toLowerCase()}` }, node.eventType)),
          h("td", {}, node.outcome),
          h("td", {}, h("span", { class: "wrap" }, node.principalId)),
          h("td", {}, h("code", { class: "wrap" }, node.capabilityId)),
          h("td", {}, node.reasonCode ? h("span", { class: "wrap" }, node.reasonCode) : ""),
          integrityCell(node),
        );
      }),
    );
  }

  private async export(format: ConsoleExportFormat): Promise<void> {
    this.exportButton.disabled = true;
    this.exportStatus.dataset.state = "running";
    this.exportStatus.textContent = "Exporting…";
    try {
      const outcome = await runExport(format, this.filter, this.query.order, this.key(), (bytes) => {
        this.exportStatus.textContent = `Exporting… ${bytes.toLocaleString()} bytes`;
      });
      this.exportStatus.dataset.state = outcome.saved === "cancelled" ? "cancelled" : "done";
      this.exportStatus.textContent =
        outcome.saved === "cancelled" ? "Export cancelled." : `Exported ${outcome.bytes.toLocaleString()} bytes to ${outcome.name}.`;
    } catch (e) {
      this.exportStatus.dataset.state = "failed";
      this.exportStatus.textContent = `Export failed: ${describeFailure(e)}`;
      if ((e as ApiError).kind === "UNAUTHENTICATED") this.onUnauthenticated(e as ApiError);
    } finally {
      // Still nothing to export when the search failed meanwhile.
      this.exportButton.disabled = this.current === undefined;
    }
  }

  private async copyLink(): Promise<void> {
    const note = byId("copy-link-status", HTMLElement);
    try {
      await navigator.clipboard.writeText(location.href);
      note.textContent = "Link copied (it holds the filter and range, never the key).";
      setTimeout(() => (note.textContent = ""), 5_000);
    } catch (e) {
      note.textContent = `Could not copy: ${(e as Error).message}`;
    }
  }
}

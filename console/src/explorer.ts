/**
 * The trace explorer: TraceFilter fields, an order, and Relay pages (first/after forward,
 * last/before back) of a table whose action ids link to the detail view.
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
import { localInputToIso, timeElement } from "./time.js";

type Page = ConsoleTracesQuery["traces"];
type Direction = Pick<ConsoleTracesQueryVariables, "first" | "after" | "last" | "before">;

const text = (id: string) => byId(id, HTMLInputElement).value.trim() || undefined;
const choice = <T extends string>(id: string) => (byId(id, HTMLSelectElement).value || undefined) as T | undefined;

/** The filter in the form; throws RangeError for an unreadable date. */
function readFilter(): TraceFilter {
  const filter: TraceFilter = {
    principalId: text("f-principal"),
    capabilityId: text("f-capability"),
    eventType: choice<EventType>("f-event"),
    outcome: choice<Outcome>("f-outcome"),
    reasonCode: text("f-reason"),
    since: localInputToIso(byId("f-since", HTMLInputElement).value),
    until: localInputToIso(byId("f-until", HTMLInputElement).value),
  };
  return Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)) as TraceFilter;
}

export class Explorer {
  private filter: TraceFilter = {};
  private orderBy: TraceOrder = "SEQ_DESC";
  private size = 20;
  /** 0-based index of the page shown. */
  private page = 0;
  private current: Page | undefined;
  private hasPrevious = false;
  private hasNext = false;
  private loaded = false;
  private readonly form = byId("explorer-form", HTMLFormElement);
  private readonly status = byId("explorer-status", HTMLElement);
  private readonly rows = byId("explorer-rows", HTMLTableSectionElement);
  private readonly prev = byId("page-prev", HTMLButtonElement);
  private readonly next = byId("page-next", HTMLButtonElement);
  private readonly pageLabel = byId("page-label", HTMLElement);

  constructor(
    private readonly key: () => string,
    private readonly onUnauthenticated: (error: ApiError) => void,
  ) {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.search();
    });
    // A reset clears the fields (after this event), then lists everything again.
    this.form.addEventListener("reset", () => setTimeout(() => void this.search()));
    this.prev.addEventListener("click", () => void this.load({ last: this.size, before: this.current?.pageInfo.startCursor }, -1));
    this.next.addEventListener("click", () => void this.load({ first: this.size, after: this.current?.pageInfo.endCursor }, +1));
  }

  /** Load the first page the first time the explorer is shown. */
  show(): void {
    if (!this.loaded) void this.search();
  }

  /** Read the form and show the first page. */
  async search(): Promise<void> {
    try {
      this.filter = readFilter();
    } catch (e) {
      this.status.textContent = (e as Error).message;
      return;
    }
    this.orderBy = (byId("f-order", HTMLSelectElement).value || "SEQ_DESC") as TraceOrder;
    this.size = Number(byId("f-size", HTMLSelectElement).value) || 20;
    this.page = 0;
    await this.load({ first: this.size }, 0);
  }

  private async load(direction: Direction, step: -1 | 0 | 1): Promise<void> {
    this.loaded = true;
    this.prev.disabled = this.next.disabled = true;
    this.status.textContent = "Loading…";
    this.rows.closest("table")?.setAttribute("aria-busy", "true");
    try {
      const data = await request(ConsoleTracesDocument, { filter: this.filter, orderBy: this.orderBy, ...direction }, this.key());
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
    } catch (e) {
      this.status.textContent = describeFailure(e);
      if ((e as ApiError).kind === "UNAUTHENTICATED") this.onUnauthenticated(e as ApiError);
      this.prev.disabled = !this.hasPrevious;
      this.next.disabled = !this.hasNext;
    } finally {
      this.rows.closest("table")?.removeAttribute("aria-busy");
    }
  }

  private render(page: Page): void {
    const count = page.edges.length;
    const pages = Math.max(1, Math.ceil(page.totalCount / this.size));
    const first = this.page * this.size + 1;
    this.status.textContent =
      page.totalCount === 0
        ? "No trace matches this filter."
        : `${page.totalCount} matching trace${page.totalCount === 1 ? "" : "s"}; showing ${first}–${first + count - 1}.`;
    this.pageLabel.textContent = `Page ${this.page + 1} of ${pages}`;
    this.prev.disabled = !this.hasPrevious;
    this.next.disabled = !this.hasNext;
    fill(
      this.rows,
      ...page.edges.map(({ node }) =>
        h(
          "tr",
          { "data-seq": node.seq, class: node.eventType === "DENY" ? "deny" : undefined },
          h("td", { class: "num" }, node.seq),
          h("td", {}, timeElement(node.invokedAt)),
          h("td", {}, h("a", { href: `#trace/${encodeURIComponent(node.actionId)}` }, node.actionId)),
          h("td", {}, h("span", { class: `badge event-${node.eventType.toLowerCase()}` }, node.eventType)),
          h("td", {}, node.outcome),
          h("td", {}, node.principalId),
          h("td", {}, h("code", {}, node.capabilityId)),
          h("td", {}, node.reasonCode ?? ""),
        ),
      ),
    );
  }
}

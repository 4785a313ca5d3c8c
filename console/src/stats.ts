/**
 * traceStats as a horizontal bar chart in plain SVG (attributes only: the CSP forbids inline
 * styles), with the same numbers in a table for screen readers and copying.
 */
import {
  ConsoleTraceStatsDocument,
  type ConsoleTraceStatsQuery,
  type EventType,
  type TraceFilter,
  type TraceStatsDimension,
} from "../gql/graphql.js";
import { type ApiError, describeFailure, request } from "./api.js";
import { byId, fill, h, svg } from "./dom.js";
import { localInputToIso } from "./time.js";

type Group = ConsoleTraceStatsQuery["traceStats"]["groups"][number];

/** Groups shown at most. */
const LIMIT = 25;
const BAR_HEIGHT = 22;
const GAP = 6;
const LABEL_WIDTH = 220;
const BAR_WIDTH = 480;
const COUNT_WIDTH = 70;

const DIMENSION_FIELD: Record<TraceStatsDimension, keyof Group> = {
  REASON_CODE: "reasonCode",
  PRINCIPAL: "principalId",
  CAPABILITY: "capabilityId",
  EVENT_TYPE: "eventType",
  OUTCOME: "outcome",
};

const DIMENSION_NAME: Record<TraceStatsDimension, string> = {
  REASON_CODE: "reason code",
  PRINCIPAL: "principal",
  CAPABILITY: "capability",
  EVENT_TYPE: "event type",
  OUTCOME: "outcome",
};

/** Cut a label to fit its column (the full text stays in the SVG <title> and the table). */
const clip = (label: string) => (label.length > 30 ? `${label.slice(0, 29)}…` : label);

function chart(title: string, groups: { label: string; count: number }[]): SVGSVGElement {
  const max = Math.max(1, ...groups.map((g) => g.count));
  const height = groups.length * (BAR_HEIGHT + GAP) + GAP;
  const width = LABEL_WIDTH + BAR_WIDTH + COUNT_WIDTH;
  return svg(
    "svg",
    { class: "chart", viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": title },
    svg("title", {}, title),
    ...groups.map((g, i) => {
      const y = GAP + i * (BAR_HEIGHT + GAP);
      const w = Math.max(2, Math.round((g.count / max) * BAR_WIDTH));
      return svg(
        "g",
        { class: "bar" },
        svg("title", {}, `${g.label}: ${g.count}`),
        svg("text", { x: LABEL_WIDTH - 8, y: y + BAR_HEIGHT / 2, "text-anchor": "end", "dominant-baseline": "middle", class: "label" }, clip(g.label)),
        svg("rect", { x: LABEL_WIDTH, y, width: w, height: BAR_HEIGHT, rx: 3 }),
        svg("text", { x: LABEL_WIDTH + w + 6, y: y + BAR_HEIGHT / 2, "dominant-baseline": "middle", class: "count" }, g.count),
      );
    }),
  );
}

export class Stats {
  private loaded = false;
  private readonly form = byId("stats-form", HTMLFormElement);
  private readonly out = byId("stats-result", HTMLElement);

  constructor(
    private readonly key: () => string,
    private readonly onUnauthenticated: (error: ApiError) => void,
  ) {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.load();
    });
  }

  show(): void {
    if (!this.loaded) void this.load();
  }

  async load(): Promise<void> {
    this.loaded = true;
    const dimension = byId("s-group", HTMLSelectElement).value as TraceStatsDimension;
    const eventType = (byId("s-event", HTMLSelectElement).value || undefined) as EventType | undefined;
    let filter: TraceFilter;
    try {
      filter = {
        ...(eventType ? { eventType } : {}),
        since: localInputToIso(byId("s-since", HTMLInputElement).value),
        until: localInputToIso(byId("s-until", HTMLInputElement).value),
      };
    } catch (e) {
      fill(this.out, h("p", { class: "error", role: "alert" }, (e as Error).message));
      return;
    }
    fill(this.out, h("p", {}, "Counting…"));
    try {
      const { traceStats } = await request(ConsoleTraceStatsDocument, { filter, groupBy: [dimension], limit: LIMIT }, this.key());
      const what = eventType ? `${eventType.toLowerCase()} events` : "traces";
      const title = `${what[0]!.toUpperCase()}${what.slice(1)} by ${DIMENSION_NAME[dimension]} (${traceStats.total} in all)`;
      const groups = traceStats.groups.map((g) => ({ label: String(g[DIMENSION_FIELD[dimension]] ?? "(none)"), count: g.count }));
      if (groups.length === 0) {
        fill(this.out, h("h3", {}, title), h("p", {}, "Nothing to count for this filter."));
        return;
      }
      fill(
        this.out,
        h("h3", { id: "stats-title" }, title),
        h("div", { class: "chart-scroll" }, chart(title, groups)),
        h(
          "details",
          {},
          h("summary", {}, "Show as a table"),
          h(
            "table",
            {},
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, DIMENSION_NAME[dimension]), h("th", { scope: "col", class: "num" }, "Count"))),
            h("tbody", {}, ...groups.map((g) => h("tr", {}, h("td", {}, g.label), h("td", { class: "num" }, g.count)))),
          ),
        ),
      );
    } catch (e) {
      fill(this.out, h("p", { class: "error", role: "alert" }, describeFailure(e)));
      if ((e as ApiError).kind === "UNAUTHENTICATED") this.onUnauthenticated(e as ApiError);
    }
  }
}

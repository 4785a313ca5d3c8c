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
/** The label column is at least this wide, and wider when a label needs it. */
const LABEL_MIN_WIDTH = 120;
/** The longest bar, at most (wide screens) and at least (narrow ones: the chart then scrolls sideways). */
const BAR_WIDTH = 480;
const MIN_BAR_WIDTH = 120;
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

/** Longest label line, in characters (on a narrow screen, NARROW_WRAP_CHARS); longer labels wrap onto more lines, never cut. */
const WRAP_CHARS = 32;
const NARROW_WRAP_CHARS = 18;
/** Below this many pixels for the chart, labels wrap at NARROW_WRAP_CHARS. */
const NARROW = 600;
const LINE_HEIGHT = 16;
const LABEL_PAD = 12;
/** The labels' font, as console.css sets it on .chart .label (for measuring them). */
const LABEL_FONT = "13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace";

/**
 * Split a label into lines of at most `maxChars` characters, after a separator (_ . / - :)
 * where one is near the end of a line, so `agent/team-a/deploy_prod` breaks between words.
 */
export function wrapLabel(label: string, maxChars = WRAP_CHARS): string[] {
  const lines: string[] = [];
  let rest = label;
  while (rest.length > maxChars) {
    const window = rest.slice(0, maxChars);
    const cut = Math.max(...["_", ".", "/", "-", ":", " "].map((sep) => window.lastIndexOf(sep)));
    const at = cut >= maxChars / 2 ? cut + 1 : maxChars;
    lines.push(rest.slice(0, at));
    rest = rest.slice(at);
  }
  lines.push(rest);
  return lines;
}

/** The width the labels' lines need, measured in the chart's font (estimated where canvas is unavailable). */
function labelWidth(lines: string[]): number {
  const context = document.createElement("canvas").getContext("2d");
  if (context) context.font = LABEL_FONT;
  const widths = lines.map((line) => (context ? context.measureText(line).width : line.length * 8.5));
  return Math.ceil(Math.max(LABEL_MIN_WIDTH, ...widths.map((w) => w + LABEL_PAD)));
}

/**
 * The chart, drawn at its real size for `available` pixels: on a narrow screen the bars get
 * shorter rather than the whole chart (and its text) being scaled down.
 */
function chart(title: string, groups: { label: string; count: number }[], available: number): SVGSVGElement {
  const max = Math.max(1, ...groups.map((g) => g.count));
  const wrapped = groups.map((g) => wrapLabel(g.label, available < NARROW ? NARROW_WRAP_CHARS : WRAP_CHARS));
  // The label column is as wide as the widest line: nothing is cut at the chart's left edge.
  const LABEL_WIDTH = labelWidth(wrapped.flat());
  const rowHeights = wrapped.map((lines) => Math.max(BAR_HEIGHT, lines.length * LINE_HEIGHT + 6));
  const tops = rowHeights.map((_, i) => GAP + rowHeights.slice(0, i).reduce((sum, r) => sum + r + GAP, 0));
  const height = rowHeights.reduce((sum, r) => sum + r + GAP, GAP);
  const barWidth = Math.max(MIN_BAR_WIDTH, Math.min(BAR_WIDTH, Math.floor(available) - LABEL_WIDTH - COUNT_WIDTH));
  const width = LABEL_WIDTH + barWidth + COUNT_WIDTH;
  return svg(
    "svg",
    { class: "chart", viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": title },
    svg("title", {}, title),
    ...groups.map((g, i) => {
      const lines = wrapped[i]!;
      const top = tops[i]!;
      const middle = top + rowHeights[i]! / 2;
      const y = middle - BAR_HEIGHT / 2;
      const w = Math.max(2, Math.round((g.count / max) * barWidth));
      const firstLine = middle - ((lines.length - 1) * LINE_HEIGHT) / 2;
      return svg(
        "g",
        { class: "bar" },
        svg("title", {}, `${g.label}: ${g.count}`),
        svg(
          "text",
          { x: LABEL_WIDTH - LABEL_PAD / 2, y: firstLine, "text-anchor": "end", "dominant-baseline": "middle", class: "label" },
          ...lines.map((line, n) => svg("tspan", { x: LABEL_WIDTH - LABEL_PAD / 2, y: firstLine + n * LINE_HEIGHT }, line)),
        ),
        svg("rect", { x: LABEL_WIDTH, y, width: w, height: BAR_HEIGHT, rx: 3 }),
        svg("text", { x: LABEL_WIDTH + w + 6, y: middle, "dominant-baseline": "middle", class: "count" }, g.count),
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
        h("div", { class: "chart-scroll" }, chart(title, groups, this.out.clientWidth || LABEL_MIN_WIDTH + BAR_WIDTH + COUNT_WIDTH)),
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

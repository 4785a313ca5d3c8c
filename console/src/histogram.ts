/**
 * The explorer's histogram: how many traces match the current filter over time, as ~20 to
 * 100 bars, from traceStats(bucket: SECOND | MINUTE | HOUR | DAY). Dragging across it (a brush) or
 * clicking a bar narrows the range to exactly those bars; from the keyboard, the arrow keys
 * move between bars and Enter zooms into one. It loads after the explorer's page, never
 * before: the table does not wait for it.
 */
import { ConsoleHistogramDocument, ConsoleTraceBoundsDocument, type TimeBucket, type TraceFilter } from "../gql/graphql.js";
import { type ApiError, describeFailure, request } from "./api.js";
import { fill, h, svg } from "./dom.js";
import { parseInstant } from "./time.js";

const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Most bars drawn; the width chosen is the smallest that keeps the range within this. */
export const MAX_BARS = 100;

/**
 * Bar widths and the server bucket each is summed from. A width must be a multiple of its
 * bucket, and the range it covers at MAX_BARS must need at most 1,000 buckets (traceStats'
 * limit): 10 seconds of SECOND buckets cover 1,000 seconds, 10 minutes of MINUTE 1,000
 * minutes, 6 hours of HOUR 600 hours. Bars are aligned to the Unix epoch in UTC, as the
 * buckets are.
 */
const WIDTHS: readonly (readonly [number, TimeBucket])[] = [
  [SECOND, "SECOND"],
  [2 * SECOND, "SECOND"],
  [5 * SECOND, "SECOND"],
  [10 * SECOND, "SECOND"],
  [MINUTE, "MINUTE"],
  [2 * MINUTE, "MINUTE"],
  [5 * MINUTE, "MINUTE"],
  [10 * MINUTE, "MINUTE"],
  [HOUR, "HOUR"],
  [2 * HOUR, "HOUR"],
  [3 * HOUR, "HOUR"],
  [6 * HOUR, "HOUR"],
  [DAY, "DAY"],
  [2 * DAY, "DAY"],
  [7 * DAY, "DAY"],
  [14 * DAY, "DAY"],
  [30 * DAY, "DAY"],
  [91 * DAY, "DAY"],
  [365 * DAY, "DAY"],
];

/** The bar width (ms) and server bucket for a range of `spanMs`: the finest giving at most MAX_BARS bars. */
export function chooseWidth(spanMs: number): { widthMs: number; bucket: TimeBucket } {
  const found = WIDTHS.find(([width]) => Math.ceil(spanMs / width) <= MAX_BARS) ?? WIDTHS[WIDTHS.length - 1]!;
  return { widthMs: found[0], bucket: found[1] };
}

/** One bar: [start, end) in ms since the epoch, and its count. */
export interface Bar {
  start: number;
  end: number;
  count: number;
}

// The drawing, in pixels: as wide as the panel when drawn (at least MIN_W), so its text is
// never scaled down on a narrow screen.
const DEFAULT_W = 1000;
const MIN_W = 300;
const H = 150;
const LEFT = 48;
const RIGHT = 8;
const TOP = 8;
const BOTTOM = 118;

const sameYear = (a: Date, b: Date) => a.getFullYear() === b.getFullYear();

/** An axis label in the viewer's zone, as fine as the interval between labels needs. */
function label(ms: number, everyMs: number, spanMs: number): string {
  const date = new Date(ms);
  const options: Intl.DateTimeFormatOptions =
    everyMs >= DAY
      ? { year: sameYear(date, new Date()) ? undefined : "numeric", month: "short", day: "numeric" }
      : spanMs > DAY
        ? { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }
        : { hour: "2-digit", minute: "2-digit", second: everyMs < MINUTE ? "2-digit" : undefined };
  return new Intl.DateTimeFormat(undefined, options).format(date);
}

/** A bar's bound in full, to the second when bars are shorter than a minute. */
function fullLabel(ms: number, widthMs = MINUTE): string {
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: widthMs < MINUTE ? "medium" : "short" }).format(new Date(ms));
}

/** Intervals between axis labels, so they fall on round local times (whole hours, midnight). */
const TICK_INTERVALS = [10 * SECOND, 15 * SECOND, 30 * SECOND, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY, 91 * DAY, 365 * DAY];

/** ms since the epoch shifted by the viewer's UTC offset then, so local round times are multiples. */
const localMs = (ms: number) => ms - new Date(ms).getTimezoneOffset() * MINUTE;

/**
 * The instants to label on the axis: about half of `most` to `most` round local times (every 6 hours, every
 * midnight...) within [start, end), wherever they fall in a bar.
 */
export function ticks(start: number, end: number, most = 8): { at: number; every: number }[] {
  const every = TICK_INTERVALS.find((n) => (end - start) / n <= most) ?? TICK_INTERVALS[TICK_INTERVALS.length - 1]!;
  const out: { at: number; every: number }[] = [];
  // The first round local time at or after start (a DST change shifts later labels by an hour).
  let at = start + ((every - (localMs(start) % every)) % every);
  for (; at < end; at += every) out.push({ at, every });
  return out;
}

export interface HistogramOptions {
  /** The element the histogram is drawn in (its region, with a heading, is the caller's). */
  container: HTMLElement;
  key: () => string;
  /** The user picked [since, until) (ms since the epoch) by brush, click or keyboard. */
  onZoom: (since: number, until: number) => void;
  onUnauthenticated: (error: ApiError) => void;
}

export class Histogram {
  /** Increases with every load; a slower older load does not draw over a newer one. */
  private generation = 0;
  private bars: Bar[] = [];
  private active = 0;

  /** Focus the active bar once the next histogram is drawn (after a zoom from the keyboard). */
  private refocus = false;
  /** What was drawn last, to draw it again at a new width. */
  private drawn: { total: number; widthMs: number; width: number } | null = null;

  constructor(private readonly options: HistogramOptions) {
    // Drawn in pixels for the panel's width: a resized window redraws it to fit.
    new ResizeObserver(() => {
      const width = options.container.clientWidth;
      if (this.drawn && this.bars.length > 0 && width > 0 && Math.abs(width - this.drawn.width) > 16) this.draw(this.drawn.total, this.drawn.widthMs);
    }).observe(options.container);
  }

  /**
   * Count `filter` (whose since/until are replaced by the range) per bar over [since, until)
   * (ms; open sides are taken from the first and last matching trace).
   */
  async load(filter: TraceFilter, since: number | undefined, until: number | undefined): Promise<void> {
    const generation = ++this.generation;
    const { container } = this.options;
    container.setAttribute("aria-busy", "true");
    const base: TraceFilter = { ...filter };
    delete base.since;
    delete base.until;
    try {
      if (since === undefined || until === undefined) {
        const bounds = await request(ConsoleTraceBoundsDocument, { filter }, this.options.key());
        if (generation !== this.generation) return;
        const first = bounds.first.edges[0]?.node.invokedAt;
        const last = bounds.last.edges[0]?.node.invokedAt;
        if (!first || !last) {
          this.bars = [];
          this.refocus = false;
          fill(container, h("p", { class: "muted histogram-empty" }, "No trace matches this filter: nothing to chart."));
          return;
        }
        since ??= parseInstant(first).getTime();
        until ??= parseInstant(last).getTime() + 1;
      }
      const { widthMs, bucket } = chooseWidth(Math.max(1, until - since));
      const start = Math.floor(since / widthMs) * widthMs;
      const end = Math.max(start + widthMs, Math.ceil(until / widthMs) * widthMs);
      const bars: Bar[] = [];
      for (let t = start; t < end; t += widthMs) bars.push({ start: t, end: t + widthMs, count: 0 });
      const windowed: TraceFilter = { ...base, since: new Date(since).toISOString(), until: new Date(until).toISOString() };
      const { traceStats } = await request(ConsoleHistogramDocument, { filter: windowed, bucket }, this.options.key());
      if (generation !== this.generation) return;
      for (const group of traceStats.groups) {
        if (!group.bucketStart) continue;
        const bar = bars[Math.floor((parseInstant(group.bucketStart).getTime() - start) / widthMs)];
        if (bar) bar.count += group.count;
      }
      this.bars = bars;
      this.active = Math.max(0, bars.findIndex((b) => b.count > 0));
      this.draw(traceStats.total, widthMs);
    } catch (e) {
      if (generation !== this.generation) return;
      this.refocus = false;
      fill(container, h("p", { class: "error", role: "alert" }, `The histogram could not be loaded. ${describeFailure(e)}`));
      if ((e as ApiError).kind === "UNAUTHENTICATED") this.options.onUnauthenticated(e as ApiError);
    } finally {
      if (generation === this.generation) container.removeAttribute("aria-busy");
    }
  }

  private draw(total: number, widthMs: number): void {
    const { bars } = this;
    const first = bars[0]!;
    const last = bars[bars.length - 1]!;
    const spanMs = last.end - first.start;
    const max = Math.max(1, ...bars.map((b) => b.count));
    const W = Math.max(MIN_W, Math.floor(this.options.container.clientWidth) || DEFAULT_W);
    this.drawn = { total, widthMs, width: W };
    const step = (W - LEFT - RIGHT) / bars.length;
    const y = (count: number) => BOTTOM - ((BOTTOM - TOP) * count) / max;
    const widthText =
      widthMs >= DAY ? `${widthMs / DAY} day` : widthMs >= HOUR ? `${widthMs / HOUR} h` : widthMs >= MINUTE ? `${widthMs / MINUTE} min` : `${widthMs / SECOND} s`;
    const description = `${total} matching trace${total === 1 ? "" : "s"} from ${fullLabel(first.start, widthMs)} to ${fullLabel(last.end, widthMs)}, ${bars.length} bars of ${widthText}.`;
    const brush = svg("rect", { class: "brush", x: 0, y: TOP, width: 0, height: BOTTOM - TOP, hidden: true });
    const barEls = bars.map((bar, i) =>
      svg(
        "g",
        {
          class: bar.count > 0 ? "hbar" : "hbar empty",
          role: "button",
          tabindex: i === this.active ? 0 : -1,
          "data-start": new Date(bar.start).toISOString(),
          "data-end": new Date(bar.end).toISOString(),
          "data-count": bar.count,
          "aria-label": `${fullLabel(bar.start, widthMs)} to ${fullLabel(bar.end, widthMs)}: ${bar.count} trace${bar.count === 1 ? "" : "s"}. Enter zooms in.`,
        },
        svg("title", {}, `${fullLabel(bar.start, widthMs)} – ${fullLabel(bar.end, widthMs)}: ${bar.count}`),
        // A full-height hit area, so a low bar is as easy to click as a tall one.
        svg("rect", { class: "hit", x: LEFT + i * step, y: TOP, width: step, height: BOTTOM - TOP }),
        svg("rect", {
          class: "fill",
          x: LEFT + i * step + (step > 3 ? 1 : 0),
          y: y(bar.count),
          width: Math.max(1, step - (step > 3 ? 2 : 0)),
          height: BOTTOM - y(bar.count),
        }),
      ),
    );
    const chart = svg(
      "svg",
      { class: "histogram", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "group", "aria-label": `Matching traces over time. ${description} Drag across the bars or click one to narrow the range.` },
      svg("line", { class: "axis", x1: LEFT, x2: W - RIGHT, y1: BOTTOM, y2: BOTTOM }),
      svg("text", { class: "ytick", x: LEFT - 6, y: TOP + 4, "text-anchor": "end", "dominant-baseline": "hanging" }, max),
      svg("text", { class: "ytick", x: LEFT - 6, y: BOTTOM, "text-anchor": "end" }, 0),
      // About 90 px per label ("09:00 AM", "Nov 25"), at least 3 even on a phone.
      ...ticks(first.start, last.end, Math.max(3, Math.min(8, Math.floor((W - LEFT) / 90)))).flatMap(({ at, every }) => {
        // A label sits on its instant; near an edge it is anchored inside the drawing.
        const x = LEFT + ((at - first.start) / widthMs) * step;
        const anchor = x - LEFT < 40 ? "start" : W - RIGHT - x < 40 ? "end" : "middle";
        return [
          svg("line", { class: "tick", x1: x, x2: x, y1: BOTTOM, y2: BOTTOM + 5 }),
          svg("text", { class: "xtick", x, y: BOTTOM + 20, "text-anchor": anchor }, label(at, every, spanMs)),
        ];
      }),
      ...barEls,
      brush,
    );
    this.wire(chart, barEls, brush, step, W);
    fill(this.options.container, h("p", { class: "muted histogram-summary", id: "histogram-summary" }, description), chart);
    if (this.refocus) {
      this.refocus = false;
      barEls[this.active]?.focus();
    }
  }

  /** Brush, click and keys. Selections snap to whole bars, so the range counts what the bars show. */
  private wire(chart: SVGSVGElement, barEls: SVGGElement[], brush: SVGRectElement, step: number, W: number): void {
    const index = (clientX: number) => {
      const box = chart.getBoundingClientRect();
      const x = ((clientX - box.left) / box.width) * W;
      return Math.min(this.bars.length - 1, Math.max(0, Math.floor((x - LEFT) / step)));
    };
    let anchor: number | null = null;
    let moved = false;
    let startX = 0;
    const show = (a: number, b: number) => {
      const lo = Math.min(a, b);
      const hi = Math.max(a, b);
      brush.removeAttribute("hidden");
      brush.setAttribute("x", String(LEFT + lo * step));
      brush.setAttribute("width", String((hi - lo + 1) * step));
    };
    chart.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      anchor = index(event.clientX);
      startX = event.clientX;
      moved = false;
      chart.setPointerCapture(event.pointerId);
      event.preventDefault();
    });
    chart.addEventListener("pointermove", (event) => {
      if (anchor === null) return;
      if (Math.abs(event.clientX - startX) > 3) moved = true;
      if (moved) show(anchor, index(event.clientX));
    });
    const finish = (event: PointerEvent, cancelled: boolean) => {
      if (anchor === null) return;
      const from = anchor;
      anchor = null;
      brush.setAttribute("hidden", "");
      if (cancelled) return;
      const to = moved ? index(event.clientX) : from;
      this.zoom(Math.min(from, to), Math.max(from, to));
    };
    chart.addEventListener("pointerup", (event) => finish(event, false));
    chart.addEventListener("pointercancel", (event) => finish(event, true));
    chart.addEventListener("keydown", (event) => {
      const moves: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, Home: -Infinity, End: Infinity };
      if (event.key in moves) {
        const next = Math.min(barEls.length - 1, Math.max(0, this.active + moves[event.key]!));
        barEls[this.active]?.setAttribute("tabindex", "-1");
        barEls[next]?.setAttribute("tabindex", "0");
        barEls[next]?.focus();
        this.active = next;
        event.preventDefault();
      } else if (event.key === "Enter" || event.key === " ") {
        // The keyboard user lands on the redrawn histogram, not at the top of the page.
        this.refocus = true;
        this.zoom(this.active, this.active);
        event.preventDefault();
      }
    });
  }

  private zoom(from: number, to: number): void {
    const a = this.bars[from];
    const b = this.bars[to];
    if (a && b) this.options.onZoom(a.start, b.end);
  }

  /** Forget what is drawn (a newer load is on its way, or the view was reset). */
  clear(): void {
    this.generation++;
    this.bars = [];
    this.drawn = null;
    fill(this.options.container);
  }
}

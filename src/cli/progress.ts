/**
 * Progress of a long CLI job (import, export, verify, prune) on stderr, drawn by cli-progress:
 * on a terminal a bar redrawn in place; otherwise (a pipe, a log file, CI) one line every
 * two seconds, `verify: 120,000/500,000 records (24.0%), 61,204/s, ETA 6s`. Nothing is drawn
 * for a job that ends within a second (TRACEGATE_PROGRESS_AFTER_MS changes that delay), so
 * short runs print exactly what they printed before; a job that ran longer ends with one
 * summary line. `--quiet` silences both. stdout is never touched: it carries the command's
 * output (an export's lines, verify's verdict).
 */
import { SingleBar } from "cli-progress";
import { onInterrupt } from "./interrupt.js";

/** A job's progress handle. */
export interface JobProgress {
  /** `done` units so far; `total` when it becomes known or changes. */
  update(done: number, total?: number): void;
  /**
   * Stop drawing. When the job was drawn (it ran past the delay), print `summary` (one line,
   * without a newline) or the default `<label>: <done> <unit> in <s> s (<rate>/s)`.
   */
  finish(summary?: string): void;
  /** Stop drawing, without a summary: the job failed (its error is reported instead). */
  abort(): void;
}

export interface JobProgressOptions {
  /** Print nothing at all (`--quiet`). */
  quiet?: boolean;
  /** Units the job expects, when known up front. */
  total?: number;
  /** What is counted, plural (default "records"). */
  unit?: string;
  /** Default process.stderr. */
  stream?: NodeJS.WriteStream;
}

/** Lines, not redraws, when the stream is no terminal: one every this many milliseconds. */
const LINE_EVERY_MS = 2_000;
/** Redraws of the bar on a terminal, at most one every this many milliseconds. */
const REDRAW_EVERY_MS = 100;

/** Milliseconds a job runs before its progress is drawn (TRACEGATE_PROGRESS_AFTER_MS, default 1000). */
function showAfterMs(): number {
  const text = process.env.TRACEGATE_PROGRESS_AFTER_MS?.trim();
  const configured = text ? Number(text) : Number.NaN;
  return Number.isFinite(configured) && configured >= 0 ? configured : 1_000;
}

const count = (n: number) => Math.round(n).toLocaleString("en-US");

/** `1h02m`, `3m05s`, `42s`. */
function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/** The line for `done` of `total` (0 = unknown) after `seconds`, with a bar on a terminal. */
function progressLine(label: string, unit: string, done: number, total: number, seconds: number, bar: string | null): string {
  const rate = seconds > 0 ? done / seconds : 0;
  if (total <= 0 && done === 0) return `${label}: working, ${duration(seconds)}`;
  if (total <= 0) return `${label}: ${count(done)} ${unit}, ${count(rate)}/s, ${duration(seconds)}`;
  const fraction = Math.min(1, done / total);
  const eta = rate > 0 && done < total ? `, ETA ${duration((total - done) / rate)}` : "";
  return `${label}${bar === null ? ":" : ` ${bar}`} ${count(done)}/${count(total)} ${unit} (${(fraction * 100).toFixed(1)}%), ${count(rate)}/s${eta}`;
}

/** `job`'s result, finishing `progress` (with its summary) when it resolves and aborting it when it rejects. */
export async function tracked<T>(progress: JobProgress, job: Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await job;
  } catch (e) {
    progress.abort();
    throw e;
  }
  progress.finish();
  return result;
}

/** Start tracking a job named `label` (`import`, `export`, `verify`, `prune`). */
export function jobProgress(label: string, options: JobProgressOptions = {}): JobProgress {
  if (options.quiet) return { update() {}, finish() {}, abort() {} };
  const stream = options.stream ?? process.stderr;
  const unit = options.unit ?? "records";
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  let done = 0;
  let total = options.total ?? 0;
  let bar: SingleBar | undefined;
  let finished = false;
  let drawnAt = 0;
  let forget = () => {};
  const afterMs = showAfterMs();
  const drawEveryMs = stream.isTTY ? REDRAW_EVERY_MS : LINE_EVERY_MS;

  const show = () => {
    if (bar || finished) return;
    bar = new SingleBar({
      stream,
      noTTYOutput: true,
      notTTYSchedule: LINE_EVERY_MS,
      // Its own SIGINT/SIGTERM handlers would replace Node's default exit on a signal.
      gracefulExit: false,
      hideCursor: false,
      // The summary line replaces the bar (on a terminal) and follows the last line (otherwise).
      clearOnComplete: true,
      barsize: 24,
      format: (_options, params) => {
        drawnAt = performance.now();
        return progressLine(
          label,
          unit,
          params.value,
          params.total,
          seconds(),
          stream.isTTY ? `[${"#".repeat(Math.round(24 * Math.min(1, params.progress)))}${"-".repeat(24 - Math.round(24 * Math.min(1, params.progress)))}]` : null,
        );
      },
    });
    bar.start(total, done);
    // cli-progress turns line wrapping off while it draws; an interrupt must turn it back on.
    const drawn = bar;
    forget = onInterrupt(() => drawn.stop());
  };
  // The timers (this one and cli-progress's schedule) draw while the job waits on I/O; a job
  // that keeps the event loop busy (synchronous SQLite reads, writes to a pipe) never lets
  // them run, so update() draws too when they are late.
  const timer = setTimeout(show, afterMs);
  timer.unref();

  return {
    update(n, newTotal) {
      done = n;
      if (newTotal !== undefined && newTotal !== total) {
        total = newTotal;
        bar?.setTotal(newTotal);
      }
      const now = performance.now();
      if (!bar && now - started >= afterMs) show();
      bar?.update(n);
      if (bar && now - drawnAt >= drawEveryMs) bar.render();
    },
    abort() {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      forget();
      bar?.stop();
    },
    finish(summary) {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (!bar) return;
      forget();
      bar.update(done);
      bar.stop();
      const s = seconds();
      stream.write(`${summary ?? `${label}: ${count(done)} ${unit} in ${s.toFixed(1)} s (${count(s > 0 ? done / s : 0)}/s)`}\n`);
    },
  };
}

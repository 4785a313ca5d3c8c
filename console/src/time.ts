/**
 * Times as the viewer reads them: shown in the browser's time zone, with the exact UTC
 * instant (microseconds included, as the gateway stores it) in the title attribute.
 */
import { h } from "./dom.js";

const LOCAL = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  timeZoneName: "short",
});

/** The viewer's IANA time zone, e.g. Europe/Berlin. */
export const LOCAL_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

/**
 * A gateway DateTime (`2026-01-02T03:04:05.123456+00:00`) as a Date. Date only takes
 * milliseconds, so the fraction is cut to three digits first.
 */
export function parseInstant(iso: string): Date {
  return new Date(iso.replace(/(\.\d{3})\d+/, "$1"));
}

/** `2026-01-02 03:04:05.123456 UTC`: the stored instant, exactly. */
export function utcLabel(iso: string): string {
  return `${iso.replace("T", " ").replace(/(\+00:00|Z)$/, "")} UTC`;
}

/** A <time> showing local time, with UTC in its title. */
export function timeElement(iso: string): HTMLTimeElement {
  const date = parseInstant(iso);
  const label = Number.isNaN(date.getTime()) ? iso : LOCAL.format(date);
  return h("time", { datetime: iso, title: utcLabel(iso) }, label);
}

/** A datetime-local input's value (the viewer's zone) as an ISO instant; "" stays undefined. */
export function localInputToIso(value: string): string | undefined {
  if (value === "") return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new RangeError(`Not a date and time: ${value}`);
  return date.toISOString();
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** An instant (ms since the epoch) as a datetime-local value in the viewer's zone, to the second. */
export function isoToLocalInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

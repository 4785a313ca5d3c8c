/**
 * Python 3.11's `datetime.fromisoformat`, exactly: the one parser for the time bounds an
 * operator types (`audit list|export --since/--until`, in both modes, and the export route's
 * `since`/`until`), and for the `invoked_at` of the traces the reference CLI reads from a
 * weaver-kernel store (its decoder calls `fromisoformat` too).
 *
 * The grammar is CPython 3.11's C implementation (Modules/_datetimemodule.c), ported step by
 * step, quirks included, because an auditor's `--since` must select exactly the traces the
 * reference would select:
 *
 * * dates `YYYY-MM-DD`, `YYYYMMDD`, ISO week dates `YYYY-Www[-D]`, `YYYYWww[D]` (no ordinal
 *   dates); any single character as the date/time separator (non-ASCII and a lone surrogate
 *   too);
 * * times `HH`, `HH:MM`, `HH:MM:SS`, or without colons, with a fraction after `.` or `,` of
 *   any length (digits beyond the sixth are dropped, not rounded), also after `HH` or `HH:MM`;
 * * offsets `Z`, `±HH`, `±HHMM`, `±HH:MM`, `±HH:MM:SS[.ffffff]`, minutes and seconds not range
 *   checked (`+00:99` is 1 h 39 min), an offset of zero seconds is UTC whatever its fraction,
 *   and the total must be strictly within ±24 h;
 * * CPython's leniencies: after the last time field, one stray character and, after a
 *   fraction, anything but `Z`, `+`, `-` is ignored when an offset follows (`12:00x+05:00`).
 *
 * tracegate's ingest keeps its own narrower rules (src/chain/time.ts parseTimestamp: an
 * RFC 3339 date-time, never truncated), on purpose: what it stores is hashed as written.
 */
import { TimestampError } from "./time.js";

/** A parsed `datetime`: local fields as written, and the UTC offset (null when naive). */
export interface IsoDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  microsecond: number;
  /** The UTC offset in microseconds (east positive), or null for a naive datetime. */
  offsetUs: number | null;
}

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const DAYS_BEFORE_MONTH = [0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
const DI4Y = 1461;
const DI100Y = 36524;
const DI400Y = 146097;
const DAY_US = 86_400_000_000;

const isLeap = (y: number) => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
const daysInMonth = (y: number, m: number) => (m === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[m]!);
/** C integer division (truncating), as CPython's helpers compute. */
const cdiv = (a: number, b: number) => Math.trunc(a / b);

function daysBeforeYear(year: number): number {
  const y = year - 1;
  return y * 365 + cdiv(y, 4) - cdiv(y, 100) + cdiv(y, 400);
}

function ymdToOrd(y: number, m: number, d: number): number {
  return daysBeforeYear(y) + DAYS_BEFORE_MONTH[m]! + (m > 2 && isLeap(y) ? 1 : 0) + d;
}

function ordToYmd(ordinal: number): [number, number, number] {
  let n = ordinal - 1;
  const n400 = cdiv(n, DI400Y);
  n %= DI400Y;
  let year = n400 * 400 + 1;
  const n100 = cdiv(n, DI100Y);
  n %= DI100Y;
  const n4 = cdiv(n, DI4Y);
  n %= DI4Y;
  const n1 = cdiv(n, 365);
  n %= 365;
  year += n100 * 100 + n4 * 4 + n1;
  if (n1 === 4 || n100 === 4) return [year - 1, 12, 31];
  const leap = n1 === 3 && (n4 !== 24 || n100 === 3);
  let month = (n + 50) >> 5;
  let preceding = (DAYS_BEFORE_MONTH[month] ?? 0) + (month > 2 && leap ? 1 : 0);
  if (preceding > n) {
    month -= 1;
    preceding -= month === 2 && leap ? 29 : (DAYS_IN_MONTH[month] ?? 0);
  }
  return [year, month, n - preceding + 1];
}

function isoWeek1Monday(year: number): number {
  const firstDay = ymdToOrd(year, 1, 1);
  const firstWeekday = (firstDay + 6) % 7;
  let monday = firstDay - firstWeekday;
  if (firstWeekday > 3) monday += 7;
  return monday;
}

/** A failed parse: CPython's "Invalid isoformat string" family. */
class Invalid extends Error {}

/**
 * The bytes CPython parses: the string's UTF-8 with a NUL after it (the C code reads one past
 * the end in places), after CPython's sanitising step. null when CPython refuses outright.
 */
function bytesOf(text: string): Uint8Array | null {
  const points = [...text];
  if (points.length < 7) return null;
  // A lone surrogate is allowed as the separator only (positions 7, 8 or 10, the first found),
  // where CPython replaces it by "T"; anywhere else the UTF-8 encoding fails.
  for (const pos of [7, 8, 10]) {
    if (pos > points.length) break;
    const p = points[pos];
    if (p !== undefined && p.length === 1 && p.charCodeAt(0) >= 0xd800 && p.charCodeAt(0) <= 0xdfff) {
      points[pos] = "T";
      break;
    }
  }
  if (points.some((p) => p.length === 1 && p.charCodeAt(0) >= 0xd800 && p.charCodeAt(0) <= 0xdfff)) return null;
  const utf8 = Buffer.from(points.join(""), "utf8");
  const bytes = new Uint8Array(utf8.length + 1);
  bytes.set(utf8);
  return bytes;
}

const DASH = 0x2d;
const isDigit = (b: number | undefined) => b !== undefined && b >= 0x30 && b <= 0x39;

/** parse_digits: `n` digits at `at`, or null. */
function digits(s: Uint8Array, at: number, n: number): [number, number] | null {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const b = s[at + i];
    if (!isDigit(b)) return null;
    v = v * 10 + (b! - 0x30);
  }
  return [v, at + n];
}

/** _find_isoformat_datetime_separator. */
function separatorLocation(s: Uint8Array, len: number): number {
  if (len === 7) return 7;
  if (s[4] === DASH) {
    if (s[5] === 0x57 /* W */) {
      if (len < 8) return -1;
      if (len > 8 && s[8] === DASH) {
        if (len === 9) return -1;
        if (len > 10 && isDigit(s[10])) return 8;
        return 10;
      }
      return 8;
    }
    return 10;
  }
  if (s[4] === 0x57 /* W */) {
    let idx = 7;
    for (; idx < len; idx++) if (!isDigit(s[idx])) break;
    if (idx < 9) return idx;
    return idx % 2 === 0 ? 7 : 8;
  }
  return 8;
}

/** parse_isoformat_date: [year, month, day] (not yet range checked). */
function parseDate(s: Uint8Array, len: number): [number, number, number] {
  const y = digits(s, 0, 4);
  if (!y) throw new Invalid();
  const year = y[0];
  let p = y[1];
  const sep = s[p] === DASH;
  if (sep) p++;
  if (s[p] === 0x57 /* W */) {
    p++;
    const w = digits(s, p, 2);
    if (!w) throw new Invalid();
    let isoDay = 1;
    const isoWeek = w[0];
    p = w[1];
    // len is a size_t in C: a separator location of -1 compares as huge.
    if (len < 0 || p < len) {
      if (sep && s[p++] !== DASH) throw new Invalid();
      const d = digits(s, p, 1);
      if (!d) throw new Invalid();
      isoDay = d[0];
    }
    if (isoWeek <= 0 || isoWeek >= 53) {
      let outOfRange = true;
      if (isoWeek === 53) {
        const firstWeekday = (ymdToOrd(year, 1, 1) + 6) % 7;
        if (firstWeekday === 3 || (firstWeekday === 2 && isLeap(year))) outOfRange = false;
      }
      if (outOfRange) throw new Invalid();
    }
    if (isoDay <= 0 || isoDay >= 8) throw new Invalid();
    const ord = isoWeek1Monday(year) + (isoWeek - 1) * 7 + isoDay - 1;
    return ordToYmd(ord);
  }
  const m = digits(s, p, 2);
  if (!m) throw new Invalid();
  p = m[1];
  if (sep && s[p++] !== DASH) throw new Invalid();
  const d = digits(s, p, 2);
  if (!d) throw new Invalid();
  return [year, m[0], d[0]];
}

/** parse_hh_mm_ss_ff between `start` and `end`: fields, and 1 when not at the string's end. */
function parseHhMmSsFf(s: Uint8Array, start: number, end: number): { v: [number, number, number, number]; rv: number } {
  const v: [number, number, number, number] = [0, 0, 0, 0];
  let p = start;
  let hasSeparator = true;
  for (let i = 0; i < 3; i++) {
    const d = digits(s, p, 2);
    if (!d) throw new Invalid();
    v[i] = d[0];
    p = d[1];
    const c = s[p++] ?? 0;
    if (i === 0) hasSeparator = c === 0x3a; /* : */
    if (p >= end) return { v, rv: c !== 0 ? 1 : 0 };
    if (hasSeparator && c === 0x3a) continue;
    if (c === 0x2e /* . */ || c === 0x2c /* , */) break;
    if (!hasSeparator) p--;
    else throw new Invalid();
  }
  // Also reached after three fields with no fraction mark: CPython reads on as if one followed.
  const remains = end - p;
  const toParse = remains >= 6 ? 6 : remains;
  const f = digits(s, p, toParse);
  if (!f) throw new Invalid();
  let micro = f[0];
  p = f[1];
  if (toParse > 0 && toParse < 6) micro *= [100000, 10000, 1000, 100, 10][toParse - 1]!;
  while (isDigit(s[p])) p++;
  v[3] = micro;
  return { v, rv: (s[p] ?? 0) !== 0 ? 1 : 0 };
}

/** parse_isoformat_time: the time fields and the offset (null: none). */
function parseTime(s: Uint8Array, start: number, end: number): { v: [number, number, number, number]; offsetUs: number | null } {
  let tz = start;
  do {
    const b = s[tz];
    if (b === 0x5a /* Z */ || b === 0x2b /* + */ || b === DASH) break;
  } while (++tz < end);
  const time = parseHhMmSsFf(s, start, tz);
  if (tz === end) {
    if (time.rv === 1) throw new Invalid();
    return { v: time.v, offsetUs: null };
  }
  if (s[tz] === 0x5a) {
    if ((s[tz + 1] ?? 0) !== 0) throw new Invalid();
    return { v: time.v, offsetUs: 0 };
  }
  const sign = s[tz] === DASH ? -1 : 1;
  const off = parseHhMmSsFf(s, tz + 1, end);
  if (off.rv !== 0) throw new Invalid();
  const [h, m, sec, us] = off.v;
  const seconds = sign * (h * 3600 + m * 60 + sec);
  // An offset of zero seconds is UTC, its fraction ignored (tzinfo_from_isoformat_results).
  const offsetUs = seconds === 0 ? 0 : seconds * 1_000_000 + sign * us;
  if (offsetUs <= -DAY_US || offsetUs >= DAY_US) {
    throw new TimestampError("the UTC offset must be strictly between -24:00 and +24:00");
  }
  return { v: time.v, offsetUs };
}

/**
 * Parse like Python 3.11's `datetime.fromisoformat(text)`.
 * @throws TimestampError when CPython would raise ValueError; the message names the
 *   problem ("Invalid isoformat string: '…'", "month must be in 1..12", …).
 */
export function parseIsoformat(text: string): IsoDateTime {
  const invalid = () => new TimestampError(`Invalid isoformat string: '${shorten(text)}'`);
  const s = bytesOf(text);
  if (s === null) throw invalid();
  const len = s.length - 1;
  let year: number, month: number, day: number;
  let v: [number, number, number, number] = [0, 0, 0, 0];
  let offsetUs: number | null = null;
  try {
    const sep = separatorLocation(s, len);
    [year, month, day] = parseDate(s, sep < 0 ? -1 : sep);
    if (len > sep) {
      // The separator may be a multi-byte UTF-8 character: CPython skips it by its lead byte.
      const lead = s[sep] ?? 0;
      const start = sep + ((lead & 0x80) === 0 ? 1 : (lead & 0xf0) === 0xe0 ? 3 : (lead & 0xf0) === 0xf0 ? 4 : 2);
      ({ v, offsetUs } = parseTime(s, start, len));
    }
  } catch (e) {
    if (e instanceof Invalid) throw invalid();
    throw e;
  }
  const [hour, minute, second, microsecond] = v;
  if (year < 1 || year > 9999) throw new TimestampError(`year ${year} is out of range`);
  if (month < 1 || month > 12) throw new TimestampError("month must be in 1..12");
  if (day < 1 || day > daysInMonth(year, month)) throw new TimestampError("day is out of range for month");
  if (hour > 23) throw new TimestampError("hour must be in 0..23");
  if (minute > 59) throw new TimestampError("minute must be in 0..59");
  if (second > 59) throw new TimestampError("second must be in 0..59");
  return { year, month, day, hour, minute, second, microsecond, offsetUs };
}

/** The UTC instant of a parsed datetime in epoch microseconds, exact (naive = UTC). */
export function instantOf(dt: IsoDateTime): bigint {
  const days = ymdToOrd(dt.year, dt.month, dt.day) - ymdToOrd(1970, 1, 1);
  const seconds = days * 86_400 + dt.hour * 3600 + dt.minute * 60 + dt.second;
  return BigInt(seconds) * 1_000_000n + BigInt(dt.microsecond) - BigInt(dt.offsetUs ?? 0);
}

/** `fromisoformat(text)` as a UTC instant in epoch microseconds (naive = UTC). */
export function parseIsoInstant(text: string): bigint {
  return instantOf(parseIsoformat(text));
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/**
 * Python's `datetime.isoformat()` of a parsed datetime: `YYYY-MM-DDTHH:MM:SS[.ffffff]` and,
 * when aware, the offset as `±HH:MM[:SS[.ffffff]]` (`+00:00` for UTC, never `Z`).
 */
export function formatIsoformat(dt: IsoDateTime): string {
  let out = `${pad(dt.year, 4)}-${pad(dt.month, 2)}-${pad(dt.day, 2)}T${pad(dt.hour, 2)}:${pad(dt.minute, 2)}:${pad(dt.second, 2)}`;
  if (dt.microsecond !== 0) out += `.${pad(dt.microsecond, 6)}`;
  if (dt.offsetUs === null) return out;
  const sign = dt.offsetUs < 0 ? "-" : "+";
  const abs = Math.abs(dt.offsetUs);
  const us = abs % 1_000_000;
  const total = (abs - us) / 1_000_000;
  const hh = Math.floor(total / 3600);
  const mm = Math.floor(total / 60) % 60;
  const ss = total % 60;
  out += `${sign}${pad(hh, 2)}:${pad(mm, 2)}`;
  if (us !== 0) return `${out}:${pad(ss, 2)}.${pad(us, 6)}`;
  return ss !== 0 ? `${out}:${pad(ss, 2)}` : out;
}

function shorten(s: string): string {
  return s.length > 64 ? `${s.slice(0, 61)}...` : s;
}

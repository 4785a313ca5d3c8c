/**
 * Timestamps with microsecond precision, as the reference writes them.
 *
 * The reference's `invoked_at` is Python `datetime.isoformat()` of an aware UTC datetime:
 * `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`, microseconds only when non-zero. JS `Date` keeps
 * milliseconds, so tracegate carries instants as integer microseconds since the Unix epoch
 * (exact in a double from 1685 to 2255; instants outside are refused) and formats them itself.
 */

/** An instant as whole microseconds since 1970-01-01T00:00:00Z. */
export type EpochMicros = number;

const ISO_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?([Zz]|[+-]\d{2}:?\d{2})?$/;

/** Why an input could not be read as a timestamp; the message is safe to show to clients. */
export class TimestampError extends Error {
  override name = "TimestampError";
}

/**
 * Parse an RFC 3339 / ISO 8601 date-time into epoch microseconds: ingest's rule for a
 * trace's `invoked_at` (and the GraphQL DateTime scalar).
 * A missing offset means UTC (the reference treats naive datetimes as UTC). More than six
 * fractional digits are accepted only when the extra digits are zero: an audit timestamp is
 * never silently rounded. Deliberately narrower than Python's `datetime.fromisoformat`
 * (./isoformat.ts, which reads the time bounds operators type and what the reference CLI reads
 * from its stores): a stored time is hashed as written, so only full date-times are taken.
 */
export function parseTimestamp(input: string): EpochMicros {
  const m = ISO_PATTERN.exec(input);
  if (!m) {
    throw new TimestampError(
      `'${truncate(input)}' is not an ISO 8601 date-time (expected e.g. 2026-01-02T03:04:05.123456+00:00).`,
    );
  }
  const [, y, mo, d, h, mi, s, frac = "", offset = "Z"] = m as unknown as string[];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (frac.length > 6 && /[^0]/.test(frac.slice(6))) {
    throw new TimestampError(`'${truncate(input)}' has more than microsecond precision.`);
  }
  const micros = Number(frac.slice(0, 6).padEnd(6, "0"));
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  const check = new Date(0);
  check.setUTCFullYear(year, month - 1, day);
  check.setUTCHours(hour, minute, second, 0);
  const ms = check.getTime();
  if (
    year < 1 ||
    Number.isNaN(ms) ||
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    throw new TimestampError(`'${truncate(input)}' is not a valid calendar date-time.`);
  }
  let offsetMinutes = 0;
  if (offset !== "Z" && offset !== "z") {
    const sign = offset.startsWith("-") ? -1 : 1;
    const digits = offset.slice(1).replace(":", "");
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2, 4));
    if (oh > 23 || om > 59) throw new TimestampError(`'${truncate(input)}' has an invalid UTC offset.`);
    offsetMinutes = sign * (oh * 60 + om);
  }
  const epochMs = ms - offsetMinutes * 60_000;
  const us = epochMs * 1000 + micros;
  if (!Number.isSafeInteger(us)) {
    throw new TimestampError(`'${truncate(input)}' is outside the supported range (years 1685 to 2255).`);
  }
  return us;
}

/**
 * Format epoch microseconds the way Python's `datetime.isoformat()` formats an aware UTC
 * datetime: `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`.
 */
export function formatIsoMicros(us: EpochMicros): string {
  const ms = Math.floor(us / 1000);
  const micros = us - ms * 1000;
  const date = new Date(ms);
  const fracMicros = date.getUTCMilliseconds() * 1000 + micros;
  const base = date.toISOString().slice(0, 19);
  const frac = fracMicros === 0 ? "" : `.${String(fracMicros).padStart(6, "0")}`;
  return `${base}${frac}+00:00`;
}

/** Epoch microseconds of a JS Date (millisecond precision). */
export function dateToMicros(date: Date): EpochMicros {
  return date.getTime() * 1000;
}

function truncate(s: string): string {
  return s.length > 64 ? `${s.slice(0, 61)}...` : s;
}

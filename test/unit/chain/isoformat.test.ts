/**
 * src/chain/isoformat.ts against CPython itself: a corpus of date-time strings, built
 * systematically from the pieces of the grammar (dates, separators, times, fractions,
 * offsets, valid and not) plus seeded random edits of valid strings, goes to
 * `datetime.fromisoformat` in one python3 process. Each string must be accepted or refused
 * as CPython does, and when accepted give the same UTC instant (to the microsecond, naive =
 * UTC) and the same `isoformat()` text.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { formatIsoformat, parseIsoformat, parseIsoInstant } from "../../../src/chain/isoformat.js";
import { TimestampError } from "../../../src/chain/time.js";

const DATES = [
  "2026-03-03", "20260303", "2026-W09-2", "2026W092", "2026-W09", "2026W09", "2024-02-29", "2023-02-29",
  "2026-13-01", "2026-00-10", "2026-04-31", "2026-04-30", "0001-01-01", "9999-12-31", "0000-01-01", "2026-3-03",
  "2026-062", "2020-W53-7", "2021-W53-1", "2026-W53-1", "2026-W00-1", "2026-W10-8", "2026-W10-0", "0001-W01-1",
  "9999-W52-5", "9999-W52-7", "0000-W01-1", "2026-0303", "202603-03", "\uff12\uff10\uff12\uff16-03-03", "1970-01-01",
];
const SEPARATORS = ["T", " ", "t", "x", "\ud800", "\udc00", "\u00e9", "\u20ac", "\u{1f680}", "_", "7", "-"];
const TIMES = [
  "12", "12:30", "12:30:45", "1230", "123045", "12:30:45.1", "12:30:45.123456", "12:30:45.1234567",
  "12:30:45.123456789123", "12:30:45,5", "00:00", "23:59:59.999999", "24:00", "24:00:00", "23:59:60", "23:60",
  "12:3", "12:30:4", "12.5", "12:30.5", "1230.5", "12:30:45.", "12:3045", "1230:45", "12:30:45:5", "120000123",
  "1", "", "12:30:45.12a4", "12:30x", "12:30:45.123456789x", "12::30", "12:30:",
];
const OFFSETS = [
  "", "Z", "z", "+00:00", "-00:00", "+05", "+0530", "+05:30", "+05:30:15", "+05:30:15.5", "+05:30:15.123456789",
  "-23:59:59.999999", "+24:00", "-24:00", "+23:59:60", "+00:99", "+5:30", "+05:3", "Z+00:00", "+05:30Z",
  "+00:00:00.000001", "-00:00:00.5", "-00:00:01.5", "+053015", "-0530", "+05:30:15.", "Z ", "+",
];


function corpus(): string[] {
  const out = new Set<string>();
  const rnd = seededRandom(17);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  // Every date alone and with a plain time; every time and every offset on a plain date.
  for (const d of DATES) {
    out.add(d);
    out.add(`${d}T12:30`);
  }
  for (const t of TIMES) for (const o of OFFSETS) out.add(`2026-03-03T${t}${o}`);
  for (const s of SEPARATORS) for (const t of TIMES.slice(0, 8)) out.add(`2026-03-03${s}${t}`);
  // Random combinations of all four pieces.
  for (let i = 0; i < 600; i++) out.add(`${pick(DATES)}${pick(SEPARATORS)}${pick(TIMES)}${pick(OFFSETS)}`);
  // Random single-character edits of valid strings: deletions, insertions, replacements.
  const valid = ["2026-03-03T12:30:45.123456+05:30", "20260303T123045Z", "2026-W09-2T12-01", "2026-03-03 12:30"];
  const alphabet = "0123456789:-+.,TZWz x";
  for (let i = 0; i < 400; i++) {
    const v = pick(valid);
    const at = Math.floor(rnd() * (v.length + 1));
    const c = pick([...alphabet]);
    const kind = Math.floor(rnd() * 3);
    out.add(kind === 0 ? v.slice(0, at) + v.slice(at + 1) : kind === 1 ? v.slice(0, at) + c + v.slice(at) : v.slice(0, at) + c + v.slice(at + 1));
  }
  // Edge cases by hand: leap days, range ends, NUL, short strings.
  for (const s of [
    "2024-02-29T23:59:59.999999-23:59", "2100-02-29", "2000-02-29", "0001-01-01T00:00:00+00:00:01", "9999-12-31T23:59:59-01:00",
    "2026-03-03T12:00\u0000", "2026-03-03\u0000", "202603", "2026-03", "2026-W0", "2026W0", "2026-W09-", "2026-W0912",
    "2026W09123", "2026-03-03T", "2026-03-03TZ", "2026-03-03T-05:00", "", "2026", "2026-03-03T00:00", "2026-03-03T12:00:00.\ud800",
    "2026-w09-2", "2026-W09-2\ud800", "2026W092\ud80012", "2026-03-03T12:00+05:00\u0000", "2026-03-03T12:00Z\u0000", "\u00e92026-03-03",
    "2026-0\u00e9-03", "2026-03-03T12:00:00.123\u00e9+01:00", "2026-03-03T12:00:00+01:00:00.000001", "2026-03-03T12:00:00-23:59:59.999999",
  ]) out.add(s);
  return [...out];
}

const PYTHON = String.raw`
import json, sys
from datetime import datetime, timedelta
EPOCH = datetime(1970, 1, 1)
out = []
for s in json.loads(sys.stdin.read()):
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        out.append(None)
        continue
    off = dt.utcoffset() or timedelta(0)
    us = (dt.replace(tzinfo=None) - EPOCH) // timedelta(microseconds=1) - off // timedelta(microseconds=1)
    out.append([str(us), dt.isoformat()])
sys.stdout.write(json.dumps(out))
`;
import { seededRandom } from "../../support/random.js";

describe("parseIsoformat is CPython 3.11's datetime.fromisoformat", () => {
  it("accepts and refuses what CPython does, with the same instant and isoformat()", () => {
    const strings = corpus();
    expect(strings.length).toBeGreaterThan(1000);
    const run = spawnSync("python3", ["-c", PYTHON], { input: JSON.stringify(strings), encoding: "utf8", env: { ...process.env, PYTHONIOENCODING: "utf-8" } });
    expect(run.status, run.stderr).toBe(0);
    const python = JSON.parse(run.stdout) as ([string, string] | null)[];
    const mismatches: string[] = [];
    let accepted = 0;
    strings.forEach((s, i) => {
      const want = python[i];
      let got: [string, string] | null;
      try {
        const dt = parseIsoformat(s);
        got = [String(parseIsoInstant(s)), formatIsoformat(dt)];
      } catch (e) {
        if (!(e instanceof TimestampError)) throw e;
        got = null;
      }
      if (want) accepted++;
      if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`${JSON.stringify(s)}: python ${JSON.stringify(want)}, tracegate ${JSON.stringify(got)}`);
    });
    expect(mismatches).toEqual([]);
    // The corpus exercises both sides.
    expect(accepted).toBeGreaterThan(300);
    expect(strings.length - accepted).toBeGreaterThan(300);
  });

  it("names the problem in its message", () => {
    expect(() => parseIsoformat("yesterday")).toThrow("Invalid isoformat string: 'yesterday'");
    expect(() => parseIsoformat("2026-02-29")).toThrow("day is out of range for month");
    expect(() => parseIsoformat("2026-03-03T24:00")).toThrow("hour must be in 0..23");
    expect(() => parseIsoformat("2026-03-03T00:00+24:00")).toThrow("strictly between");
  });
});

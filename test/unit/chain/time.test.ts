import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { formatIsoMicros, parseTimestamp } from "../../../src/chain/time.js";

describe("timestamps with microseconds", () => {
  it("formats like Python's datetime.isoformat() for aware UTC datetimes", () => {
    expect(formatIsoMicros(parseTimestamp("2026-03-03T10:00:00Z"))).toBe("2026-03-03T10:00:00+00:00");
    expect(formatIsoMicros(parseTimestamp("2026-03-03T10:00:00.5Z"))).toBe("2026-03-03T10:00:00.500000+00:00");
    expect(formatIsoMicros(parseTimestamp("2026-03-03T10:00:00.000001+00:00"))).toBe("2026-03-03T10:00:00.000001+00:00");
    expect(formatIsoMicros(parseTimestamp("1969-12-31T23:59:59.999999Z"))).toBe("1969-12-31T23:59:59.999999+00:00");
  });

  it("converts offsets to UTC and treats a missing offset as UTC", () => {
    expect(parseTimestamp("2026-03-03T12:00:00+02:00")).toBe(parseTimestamp("2026-03-03T10:00:00Z"));
    expect(parseTimestamp("2026-03-03T10:00:00")).toBe(parseTimestamp("2026-03-03T10:00:00Z"));
  });

  it("refuses garbage, impossible dates and lost precision", () => {
    for (const bad of ["", "yesterday", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:00:00.1234567Z", "2026-01-01T00:00:00+25:00"]) {
      expect(() => parseTimestamp(bad), bad).toThrow();
    }
    expect(parseTimestamp("2026-01-01T00:00:00.123456000Z")).toBe(parseTimestamp("2026-01-01T00:00:00.123456Z"));
  });

  it("round-trips every instant it can represent exactly", () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (us) => parseTimestamp(formatIsoMicros(us)) === us),
      { numRuns: 2000 },
    );
  });

  it("refuses instants beyond exact microsecond range instead of rounding them", () => {
    expect(() => parseTimestamp("9999-12-31T23:59:59.999999Z")).toThrow(/outside the supported range/);
    expect(() => parseTimestamp("1600-01-01T00:00:00Z")).toThrow(/outside the supported range/);
    expect(formatIsoMicros(parseTimestamp("2255-06-05T23:47:34.740991Z"))).toBe("2255-06-05T23:47:34.740991+00:00");
  });
});

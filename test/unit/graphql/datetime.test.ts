/**
 * The DateTime scalar's serializer writes exactly what formatIsoMicros writes (the
 * reference's invoked_at text), including negative instants, whole seconds, day and year
 * boundaries and years outside 0000-9999, however the calls are interleaved.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatIsoMicros } from "../../../src/chain/time.js";
import { serializeDateTime } from "../../../src/graphql/types/scalars.js";

const DAY_US = 86_400_000_000;

describe("serializeDateTime", () => {
  it("equals formatIsoMicros on edge instants", () => {
    const edges = [
      0, -1, 1, 999_999, 1_000_000, -1_000_000, DAY_US - 1, DAY_US, -DAY_US, -DAY_US - 1,
      Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, // years 2255 and 1684
      -62_167_219_200_000_000, // 0000-01-01
      -62_167_219_200_000_001, // the last instant of year -1 (formatIsoMicros writes it its own way)
    ];
    for (const us of edges) expect(serializeDateTime(us), String(us)).toBe(formatIsoMicros(us));
  });

  it("equals formatIsoMicros on random instants, near each other or far apart", () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.array(fc.integer({ min: -2_000_000_000, max: 2_000_000_000 }), { maxLength: 60 }), (start, steps) => {
        let us = Math.max(Number.MIN_SAFE_INTEGER + 2 ** 40, Math.min(Number.MAX_SAFE_INTEGER - 2 ** 40, start));
        expect(serializeDateTime(us)).toBe(formatIsoMicros(us));
        for (const step of steps) {
          us += step * 37; // steps of up to ~20 hours: same second, same day, next day
          expect(serializeDateTime(us)).toBe(formatIsoMicros(us));
        }
      }),
      { numRuns: 500 },
    );
  });
});

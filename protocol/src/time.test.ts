import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anyRfc3339Parts, formatRfc3339, referenceInstant, validRfc3339 } from "../../test/support/protocol-arbitraries.js";
import { rfc3339FromTimestamp, rfc3339Problem, timestampFromRfc3339 } from "./time.js";

describe("rfc3339Problem", () => {
  it("accepts exactly the date-times that name a real instant", () => {
    fc.assert(
      fc.property(anyRfc3339Parts, (parts) => {
        const text = formatRfc3339(parts);
        expect(rfc3339Problem(text) === undefined, text).toBe(referenceInstant(parts) !== undefined);
      }),
      { numRuns: 5_000 },
    );
  });

  it.each([
    ["2026-02-30T00:00:00Z", "2026-02 has 28 days"],
    ["2026-04-31T00:00:00Z", "2026-04 has 30 days"],
    ["2025-02-29T00:00:00Z", "2025-02 has 28 days"],
    ["1900-02-29T00:00:00Z", "1900-02 has 28 days"],
    ["2026-13-01T00:00:00Z", "no month 13"],
    ["2026-00-10T00:00:00Z", "no month 0"],
    ["2026-01-00T00:00:00Z", "2026-01 has 31 days"],
    ["2026-01-01T24:00:00Z", "not a time of day"],
    ["2026-01-01T23:60:00Z", "not a time of day"],
    ["2026-12-31T23:59:60Z", "not a time of day"],
    ["2026-01-01T00:00:00+24:00", "impossible UTC offset"],
    ["2026-01-01T00:00:00+01:60", "impossible UTC offset"],
    ["2026-01-01T00:00:00.1234567890Z", "not an RFC 3339 date-time"],
    ["2026-01-01 00:00:00Z", "not an RFC 3339 date-time"],
    ["2026-01-01T00:00:00", "not an RFC 3339 date-time"],
    ["0000-01-01T00:00:00+01:00", "outside the years 0000 to 9999"],
    ["9999-12-31T23:59:59-00:01", "outside the years 0000 to 9999"],
  ])("refuses %s, saying %s", (text, why) => {
    expect(rfc3339Problem(text)).toContain(why);
    expect(rfc3339Problem(text)).toContain(text);
  });

  it.each(["2024-02-29T00:00:00Z", "2000-02-29T23:59:59.999999999Z", "2026-11-22t10:00:00z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59+00:01", "2026-01-01T00:00:00-00:00"])(
    "accepts %s",
    (text) => expect(rfc3339Problem(text)).toBeUndefined(),
  );

  it("never throws, whatever the text", () => {
    fc.assert(fc.property(fc.string({ unit: "binary" }), (text) => ["string", "undefined"].includes(typeof rfc3339Problem(text))));
  });
});

describe("Timestamps", () => {
  it("timestampFromRfc3339 gives the instant the text names, to the nanosecond, offsets included", () => {
    fc.assert(fc.property(validRfc3339, ({ text, instant }) => {
        expect(timestampFromRfc3339(text), text).toEqual(instant);
      }), { numRuns: 2_000 });
  });

  it("keeps all nine fraction digits and writes UTC with nine digits", () => {
    expect(timestampFromRfc3339("2026-11-22T11:00:00.123456789+01:00")).toEqual({ seconds: 1795341600n, nanos: 123456789 });
    expect(rfc3339FromTimestamp({ seconds: 1795341600n, nanos: 5 })).toBe("2026-11-22T10:00:00.000000005Z");
  });

  it("rfc3339FromTimestamp writes every instant of the years 0000 to 9999 as text that reads back the same, and nothing else", () => {
    const first = BigInt(Date.parse("0000-01-01T00:00:00Z") / 1000);
    const last = BigInt(Date.parse("9999-12-31T23:59:59Z") / 1000);
    const timestamp = fc.record({
      seconds: fc.oneof(fc.bigInt({ min: first - 10n, max: last + 10n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
      nanos: fc.oneof(fc.integer({ min: 0, max: 999_999_999 }), fc.integer()),
    });
    fc.assert(
      fc.property(timestamp, (ts) => {
        const written = rfc3339FromTimestamp(ts);
        const representable = ts.seconds >= first && ts.seconds <= last && ts.nanos >= 0 && ts.nanos <= 999_999_999;
        expect(written !== undefined, `${ts.seconds}s ${ts.nanos}ns -> ${written}`).toBe(representable);
        if (written === undefined) return;
        expect(rfc3339Problem(written)).toBeUndefined();
        expect(timestampFromRfc3339(written)).toEqual(ts);
      }),
      { numRuns: 2_000 },
    );
  });
});

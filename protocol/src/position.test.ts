import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anyPosition, asTextSince, sinceAsInstant, validReadSpec, type ReadSpecCase } from "../../test/support/protocol-arbitraries.js";
import { checkedPosition, InvalidPositionError, positionFromFields, positionFromQuery, resolvePosition, type Position } from "./position.js";
import { readSpecFromJson, readSpecFromProto, readSpecFromQuery, readSpecToJson, readSpecToProto, readSpecToQuery } from "./read-spec.js";

/** The query a URL carries once written out and read back, as fastify gives it to a route. */
function overTheWire(query: URLSearchParams): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(query.toString()));
}

/** What went wrong, or "accepted": a position is either checked or refused with InvalidPositionError. */
function outcome(parse: () => Position): Position | "refused" {
  try {
    return parse();
  } catch (err) {
    if (err instanceof InvalidPositionError) return "refused";
    throw err;
  }
}

describe("read specs survive every wire form unchanged", () => {
  it("query string: readSpecToQuery, then readSpecFromQuery", () => {
    fc.assert(
      fc.property(validReadSpec, ({ spec }) => {
        expect(readSpecFromQuery(overTheWire(readSpecToQuery(spec)))).toEqual(asTextSince(spec));
      }),
      { numRuns: 1_000 },
    );
  });

  it("JSON fields: readSpecToJson, then readSpecFromJson", () => {
    fc.assert(
      fc.property(validReadSpec, ({ spec }) => {
        const json = JSON.parse(JSON.stringify(readSpecToJson(spec)));
        expect(readSpecFromJson(json)).toEqual(asTextSince(spec));
      }),
      { numRuns: 1_000 },
    );
  });

  it("protobuf Subscribe: readSpecToProto, then readSpecFromProto (a since as the same instant, to the nanosecond)", () => {
    fc.assert(
      fc.property(validReadSpec, ({ spec, instant }: ReadSpecCase) => {
        const decoded = readSpecFromProto(readSpecToProto(spec));
        const expected = instant ? { ...spec, position: { since: instant } } : spec;
        expect(sinceAsInstant(decoded)).toEqual(expected);
      }),
      { numRuns: 1_000 },
    );
  });

  it("a since from the protobuf form is RFC 3339 in UTC with nine fraction digits", () => {
    const spec = readSpecFromProto(readSpecToProto({ position: { since: "2026-11-22T11:00:00.123456789+01:00" } }));
    expect(spec).toEqual({ position: { since: "2026-11-22T10:00:00.123456789Z" } });
  });
});

describe("any position is checked or refused with InvalidPositionError", () => {
  it("checkedPosition: accepted positions are given back as they are, and every wire form carries them", () => {
    fc.assert(
      fc.property(anyPosition, (position) => {
        const checked = outcome(() => checkedPosition(position));
        if (checked === "refused") return;
        expect(checked).toBe(position);
        expect(outcome(() => readSpecFromJson(readSpecToJson({ position })).position)).toEqual(asTextSince({ position }).position);
        expect(outcome(() => readSpecFromQuery(overTheWire(readSpecToQuery({ position }))).position)).toEqual(asTextSince({ position }).position);
        expect(outcome(() => readSpecFromProto(readSpecToProto({ position })).position)).not.toBe("refused");
      }),
      { numRuns: 3_000 },
    );
  });

  it("the proto form refuses, rather than re-reads, a position the gateway refuses", () => {
    fc.assert(
      fc.property(anyPosition, (position) => {
        if (outcome(() => checkedPosition(position)) !== "refused") return;
        expect(() => readSpecToProto({ position })).toThrow(InvalidPositionError);
      }),
      { numRuns: 3_000 },
    );
  });

  const queryValue = fc.option(
    fc.oneof(
      fc.string(),
      fc.string({ unit: "binary" }),
      fc.constantFrom("first", "now", "0", "-1", "1e3", "0x10", " 1", "1.0", "Infinity", "NaN", "10001", "9007199254740992", "9007199254740991"),
      fc.integer({ min: -10, max: Number.MAX_SAFE_INTEGER }).map(String),
      fc.double().map(String),
    ),
    { nil: undefined },
  );

  it("positionFromQuery: any from, since and last strings, none, one or all of them", () => {
    fc.assert(
      fc.property(fc.record({ from: queryValue, since: queryValue, last: queryValue }), (query) => {
        const result = outcome(() => positionFromQuery((name) => query[name]));
        if (result === "refused") return;
        // Accepted: checked, exactly one kind, and no NaN or Infinity got in as a number.
        expect(checkedPosition(result)).toBe(result);
        const given = Object.entries(query).filter(([, v]) => v !== undefined);
        expect(given.length).toBeLessThanOrEqual(1);
        for (const value of Object.values(result)) if (typeof value === "number") expect(Number.isSafeInteger(value)).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });

  it("positionFromFields: anything a JSON body or a caller gives", () => {
    const value = fc.option(fc.oneof(fc.anything(), fc.double(), fc.date({ noInvalidDate: false }), queryValue), { nil: undefined });
    fc.assert(
      fc.property(fc.record({ from: value, since: value, last: value }), (fields) => {
        const result = outcome(() => positionFromFields(fields));
        if (result !== "refused") expect(checkedPosition(result)).toBe(result);
      }),
      { numRuns: 3_000 },
    );
  });

  it.each([
    [{ from: "0" }, "from must be"],
    [{ from: "1.5" }, "from must be a whole number"],
    [{ from: "9007199254740992" }, "from must be"],
    [{ last: "0" }, "last must be an integer from 1 to 10000"],
    [{ last: "10001" }, "last must be an integer from 1 to 10000"],
    [{ last: "Infinity" }, "last must be a whole number"],
    [{ since: "2026-02-30T00:00:00Z" }, "2026-02 has 28 days"],
    [{ from: "first", last: "3" }, "give at most one of from, since and last, not from and last"],
  ])("refuses %o: %s", (query, why) => {
    const get = (name: string) => (query as Record<string, string>)[name];
    expect(() => positionFromQuery(get)).toThrow(InvalidPositionError);
    expect(() => positionFromQuery(get)).toThrow(why);
  });

  it("refuses Dates no wire form can write", () => {
    for (const since of [new Date(Number.NaN), new Date("+010000-01-01T00:00:00Z"), new Date("-000001-12-31T00:00:00Z")]) {
      expect(() => checkedPosition({ since })).toThrow(InvalidPositionError);
    }
  });
});

describe("resolvePosition", () => {
  const range = { name: "orders", firstOffset: 5, lastOffset: 9, epoch: "e1" };

  it("starts where the position says, within the stream's range", () => {
    expect(resolvePosition({ from: "first" }, range)).toEqual({ startOffset: 5 });
    expect(resolvePosition({ from: "now" }, range)).toEqual({ startOffset: 10 });
    expect(resolvePosition({ from: 7 }, range)).toEqual({ startOffset: 7 });
    expect(resolvePosition({ from: 10 }, range)).toEqual({ startOffset: 10 });
    expect(resolvePosition({ last: 2 }, range)).toEqual({ startOffset: 8 });
    expect(resolvePosition({ last: 100 }, range)).toEqual({ startOffset: 5 });
    expect(resolvePosition({ since: "2026-01-01T00:00:00Z" }, range)).toEqual({ since: "2026-01-01T00:00:00Z" });
  });

  it("gives a gap notice below the oldest offset or for another epoch", () => {
    const gap = (requested: number) => ({ startOffset: 5, gap: { stream: "orders", requested, first: 5, epoch: "e1" } });
    expect(resolvePosition({ from: 2 }, range)).toEqual(gap(2));
    expect(resolvePosition({ from: 7 }, range, "e0")).toEqual(gap(7));
    expect(resolvePosition({ last: 2 }, range, "e0")).toEqual(gap(5));
  });

  it("refuses from beyond the end with the stream's range in the message", () => {
    expect(() => resolvePosition({ from: 11 }, range)).toThrow(InvalidPositionError);
    expect(() => resolvePosition({ from: 11 }, range)).toThrow("from=11 is beyond the end of stream orders (first_offset 5, last_offset 9)");
  });
});

it("an empty epoch= in a query names no generation", () => {
  expect(readSpecFromQuery({ from: "3", epoch: "" })).toEqual({ position: { from: 3 } });
});

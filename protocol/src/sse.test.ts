import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anyEvent, text } from "../../test/support/protocol-arbitraries.js";
import { SseParser, sseFrames, sseItem, type SseMessage } from "./sse.js";

/** One message as a server may write it, with the lines a parser must ignore around it. */
interface WrittenMessage {
  event: string | undefined;
  data: string[];
  id: string | undefined;
  comments: string[];
  unknownFields: string[];
}

const EOLS = ["\n", "\r\n", "\r"] as const;
/** A field value: no line break, and (for id) no NUL, which makes the field ignored. */
const value = text({ maxLength: 20 }).filter((v) => !/[\r\n\0]/.test(v));

const writtenMessage: fc.Arbitrary<WrittenMessage> = fc.record({
  event: fc.option(value, { nil: undefined }),
  data: fc.array(value, { maxLength: 3 }),
  id: fc.option(value, { nil: undefined }),
  comments: fc.array(value.map((c) => `:${c}`), { maxLength: 2 }),
  unknownFields: fc.array(fc.constantFrom("retry: 100", "retry", "foo: bar", "Data: not data", "idx:9"), { maxLength: 2 }),
});

/** Writes a field as `name: value` or `name:value` (only when value has no leading space to lose), or bare `name` when empty. */
const fieldLine = (name: string, v: string, style: number) =>
  v === "" && style === 2 ? name : v.startsWith(" ") || style === 0 ? `${name}: ${v}` : `${name}:${v}`;

/** A stream of messages, each line ended by an arbitrary EOL, and what a parser must yield. */
const sseStream = fc
  .array(fc.tuple(writtenMessage, fc.array(fc.constantFrom(...EOLS), { minLength: 12, maxLength: 12 }), fc.nat(2)), { maxLength: 8 })
  .map((messages) => {
    let body = "";
    let lastId: string | undefined;
    const expected: SseMessage[] = [];
    for (const [m, eols, style] of messages) {
      const lines = [
        ...m.comments,
        ...(m.event !== undefined ? [fieldLine("event", m.event, style)] : []),
        ...m.data.map((d) => fieldLine("data", d, style)),
        ...(m.id !== undefined ? [fieldLine("id", m.id, style)] : []),
        ...m.unknownFields,
        "",
      ];
      lines.forEach((line, i) => {
        // A CR, then an empty line ended by LF, would be one CRLF: that is not what was meant.
        const eol = line === "" && body.endsWith("\r") && eols[i] === "\n" ? "\r\n" : eols[i];
        body += line + eol;
      });
      if (m.id !== undefined) lastId = m.id;
      // A message without data is not dispatched; its id still counts (WHATWG rules).
      if (m.data.length > 0) expected.push({ event: m.event || "message", data: m.data.join("\n"), id: lastId });
    }
    // The stream goes on (keep-alives do): a last lone CR may be half of a CRLF until then.
    return { body: `${body}: keep-alive\n`, expected };
  });

function parse(chunks: readonly string[]): SseMessage[] {
  const parser = new SseParser();
  return chunks.flatMap((chunk) => [...parser.push(chunk)]);
}

/** The text cut at the given indices. */
function cut(body: string, at: readonly number[]): string[] {
  const points = [...new Set(at.map((i) => i % (body.length + 1)))].sort((a, b) => a - b);
  return [...points, body.length].map((end, i) => body.slice(i === 0 ? 0 : points[i - 1], end));
}

describe("SseParser", () => {
  it("yields the same messages however the stream is cut into chunks", () => {
    fc.assert(
      fc.property(sseStream, fc.array(fc.nat(), { maxLength: 20 }), ({ body, expected }, at) => {
        expect(parse([body])).toEqual(expected);
        expect(parse(cut(body, at))).toEqual(expected);
      }),
      { numRuns: 2_000 },
    );
  });

  it("a CRLF cut between its CR and LF is one line end, not two", () => {
    const body = "data: a\r\n\r\nid: 7\r\ndata: b\r\ndata: c\r\n\r\n";
    const crs = [...body].flatMap((ch, i) => (ch === "\r" ? [i + 1] : []));
    const expected = [
      { event: "message", data: "a", id: undefined },
      { event: "message", data: "b\nc", id: "7" },
    ];
    expect(parse(cut(body, crs))).toEqual(expected);
    expect(parse([...body])).toEqual(expected);
  });

  it("a lone CR is a line end once the next character shows it is not a CRLF", () => {
    const parser = new SseParser();
    expect([...parser.push("data: a\r\r")]).toEqual([]);
    expect([...parser.push("d")]).toEqual([{ event: "message", data: "a", id: undefined }]);
  });
});

describe("sseFrames, read back", () => {
  it("are the lines PROTOCOL.md 5.1 shows", () => {
    const event = { offset: 42, json: '{"stream":"orders","offset":42}', proto: new Uint8Array() };
    expect(sseFrames.retry(3000)).toBe("retry: 3000\n\n");
    expect(sseFrames.event(event)).toBe('id: 42\ndata: {"stream":"orders","offset":42}\n\n');
    expect(sseFrames.gap({ stream: "orders", requested: 2, first: 5, epoch: "e1" })).toBe('event: gap\ndata: {"stream":"orders","requested":2,"first":5,"epoch":"e1"}\n\n');
    expect(sseFrames.keepAlive).toBe(": keep-alive\n\n");
  });

  it("give every event and gap notice back, in order, however the body is chunked", () => {
    const gap = fc.record({ stream: text({ maxLength: 20 }), requested: fc.nat(), first: fc.nat(), epoch: text({ maxLength: 20 }) });
    const item = fc.oneof(anyEvent.map((event) => ({ kind: "event" as const, event })), gap.map((g) => ({ kind: "gap" as const, gap: g })));
    fc.assert(
      fc.property(fc.array(item, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 20 }), (items, at) => {
        const body =
          sseFrames.retry(1000) + items.map((i) => (i.kind === "event" ? sseFrames.event(i.event.wire) : sseFrames.gap(i.gap)) + sseFrames.keepAlive).join("");
        const read = parse(cut(body, at)).map(sseItem);
        expect(read).toEqual(items.map((i) => (i.kind === "event" ? { kind: "event", event: i.event.json } : i)));
        // Each event's id is its offset; a notice has none, so the last event's id stays.
        const ids = parse([body]).map((m) => m.id);
        let lastId: string | undefined;
        expect(ids).toEqual(items.map((i) => (i.kind === "event" ? (lastId = String(i.event.wire.offset)) : lastId)));
      }),
      { numRuns: 500 },
    );
  });

  it("a named event other than gap is passed on as it is", () => {
    const [message] = parse(["event: hello\ndata: x\n\n"]);
    expect(sseItem(message!)).toEqual({ kind: "other", message: { event: "hello", data: "x", id: undefined } });
  });
});

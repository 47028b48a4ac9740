import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  anyEvent,
  asTextSince,
  frameId,
  offset,
  sinceAsInstant,
  text,
  validReadSpec,
  withoutUndefined,
  type EventCase,
} from "../../test/support/protocol-arbitraries.js";
import type { ClientMessage, ServerMessage, WireCodec } from "./codec.js";
import type { ReceivedEvent, WireEvent } from "./envelope.js";
import { jsonCodec } from "./json-codec.js";
import { protoCodec } from "./proto-codec.js";
import type { EventInput } from "./publish.js";
import type { ReadSpec } from "./read-spec.js";

const count = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const optionalText = fc.option(text({ minLength: 1, maxLength: 40 }), { nil: undefined });
const gapNotice = fc.record({ stream: text({ maxLength: 20 }), requested: count, first: count, epoch: text({ maxLength: 20 }) });

/** A server message, and what each codec must decode it to (events differ by form). */
interface ServerCase {
  message: ServerMessage<WireEvent>;
  decoded: (codec: WireCodec) => ServerMessage<ReceivedEvent>;
}

const same = (message: ServerMessage<never>): ServerCase => ({ message, decoded: () => message });
const received = (event: EventCase, codec: WireCodec) => (codec === jsonCodec ? event.json : event.proto);
/** A value as JSON gives it back (no -0, no undefined). */
const asJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const serverCase: fc.Arbitrary<ServerCase> = fc.oneof(
  fc
    .record({ sub: text(), stream: text(), first_offset: count, last_offset: count, epoch: text() })
    .map((m) => same({ op: "subscribed", ...m })),
  fc.record({ sub: text(), event: anyEvent }).map(({ sub, event }): ServerCase => ({
    message: { op: "event", sub, event: event.wire },
    decoded: (codec: WireCodec) => ({ op: "event", sub, event: received(event, codec) }),
  })),
  fc.record({ sub: text(), gap: gapNotice }).map((m) => same({ op: "gap", ...m })),
  fc.record({ sub: text(), reason: optionalText }).map((m) => same(withoutUndefined({ op: "unsubscribed", ...m }))),
  fc.record({ ref: text(), offset: count, id: text(), duplicate: fc.boolean() }).map((m) => same({ op: "published", ...m })),
  fc
    .record({ ref: optionalText, sub: optionalText, code: text({ maxLength: 30 }), message: text() })
    .map((m) => same(withoutUndefined({ op: "error", ...m }))),
  fc.record({ ref: text() }).map((m) => same({ op: "pong", ...m })),
);

/** A client message each codec can write, and the read its subscribe must give back. */
interface ClientCase {
  message: ClientMessage;
  read?: ReadSpec;
}

function clientCase(codec: WireCodec): fc.Arbitrary<ClientCase> {
  const eventData: fc.Arbitrary<EventInput["data"]> =
    codec === jsonCodec
      ? // A top-level "__proto__" is dropped by the zod record (HTTP refuses it in fastify's parser): not a field name a message can have.
        fc.dictionary(fc.string().filter((k) => k !== "__proto__"), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }).map(asJson)
      : fc.uint8Array({ maxLength: 64 });
  const eventId = fc.option(fc.stringMatching(/^[A-Za-z0-9_:-]{1,128}$/), { nil: undefined });
  return fc.oneof(
    fc.record({ sub: frameId, stream: text({ minLength: 1 }), read: validReadSpec }).map(({ sub, stream, read }): ClientCase => ({
      message: { op: "subscribe", sub, stream, read: read.spec },
      read: codec === jsonCodec ? asTextSince(read.spec) : read.spec,
    })),
    frameId.map((sub): ClientCase => ({ message: { op: "unsubscribe", sub } })),
    fc
      .record({ ref: frameId, stream: text({ minLength: 1 }), type: optionalText, data: eventData, key: fc.option(text(), { nil: undefined }), id: eventId })
      .map(({ ref, stream, ...event }): ClientCase => ({ message: { op: "publish", ref, stream, event: withoutUndefined(event) as EventInput } })),
    text({ maxLength: 128 })
      .filter((ref) => ref.length <= 128)
      .map((ref): ClientCase => ({ message: { op: "ping", ref } })),
  );
}

describe.each([
  ["json", jsonCodec],
  ["proto", protoCodec],
] as const)("%s: arbitrary messages round-trip", (_name, codec) => {
  it("server messages: encodeServer, then decodeServer", () => {
    fc.assert(
      fc.property(serverCase, ({ message, decoded }) => {
        expect(codec.decodeServer(codec.encodeServer(message))).toEqual(decoded(codec));
      }),
      { numRuns: 1_000 },
    );
  });

  it("client messages: encodeClient, then decodeClient", () => {
    fc.assert(
      fc.property(clientCase(codec), ({ message, read }) => {
        const decoded = codec.decodeClient(codec.encodeClient(message));
        if ("problem" in decoded) throw new Error(`${JSON.stringify(message)} decoded to a problem: ${decoded.problem}`);
        if (decoded.op !== "subscribe" || message.op !== "subscribe") return void expect(decoded).toEqual(message);
        const { read: _read, ...rest } = message;
        expect({ ...decoded, read: undefined }).toEqual({ ...rest, read: undefined });
        const compare = codec === protoCodec ? sinceAsInstant : (spec: ReadSpec) => spec;
        expect(compare(decoded.read())).toEqual(compare(read!));
      }),
      { numRuns: 1_000 },
    );
  });

  it("poll batches: encodeBatch, then decodeBatch", () => {
    const batch = fc.record({ events: fc.array(anyEvent, { maxLength: 5 }), next: offset, first_offset: count, last_offset: count, gap: fc.option(gapNotice, { nil: undefined }) });
    fc.assert(
      fc.property(batch, ({ events, gap, ...rest }) => {
        const wire = { ...rest, events: events.map((e) => e.wire), ...(gap && { gap }) };
        const expected = { ...rest, events: events.map((e) => received(e, codec)), ...(gap && { gap }) };
        expect(codec.decodeBatch(codec.encodeBatch(wire))).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it("decodeClient never throws, whatever the frame", () => {
    const frame = fc.oneof(fc.string({ unit: "binary" }), fc.json(), fc.uint8Array(), clientCase(jsonCodec).map((c) => jsonCodec.encodeClient(c.message)));
    fc.assert(
      fc.property(frame, (f) => {
        const decoded = codec.decodeClient(f);
        expect("problem" in decoded || typeof decoded.op === "string").toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });
});

/**
 * SharedEvents: every webhook of a stream has its own durable consumer, hence its own copy of
 * each message; the copies of one offset come to one event, made once. Against a real
 * nats-server, with each copy read through a consumer of its own.
 */
import type { JsMsg } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EncodedEvent } from "../fanout/encoded-event.js";
import { many, startFanoutBench, type FanoutBench } from "../../test/support/fanout.js";
import { SharedEvents } from "./shared-events.js";

let bench: FanoutBench;
beforeAll(async () => {
  bench = await startFanoutBench();
});
afterAll(async () => bench?.close());

/** The stream's first `count` messages, read through a new consumer: a copy no other read shares. */
async function copies(stream: string, count: number): Promise<JsMsg[]> {
  const consumer = await bench.js.consumers.get(stream);
  const out: JsMsg[] = [];
  for await (const msg of await consumer.fetch({ max_messages: count, expires: 10_000 })) out.push(msg);
  expect(out.map((m) => m.seq)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  return out;
}

describe("SharedEvents", () => {
  it("makes one event of the copies of an offset that two consumers took, and one payload per format", async () => {
    const stream = await bench.createStream();
    const other = await bench.createStream();
    await bench.publish(stream, many(2, { key: "a" }));
    await bench.publish(other, many(1, { key: "b" }));
    const events = new SharedEvents(bench.schemas);
    const [a1, a2] = await copies(stream, 2);
    const [b1, b2] = await copies(stream, 2);
    const [c1] = await copies(other, 1);

    const first = events.of(stream, a1!);
    expect(a1).not.toBe(b1);
    expect(events.of(stream, b1!)).toBe(first);
    expect(events.of(stream, b1!).payload("envelope")).toBe(first.payload("envelope"));
    expect(events.of(stream, a2!)).toBe(events.of(stream, b2!));
    expect(events.of(stream, a2!)).not.toBe(first);
    // The same offset of another stream is another event.
    const elsewhere = events.of(other, c1!);
    expect(elsewhere).not.toBe(first);
    expect([elsewhere.stored.stream, elsewhere.stored.offset, elsewhere.stored.key]).toEqual([other, 1, "b"]);
    expect([first.stored.stream, first.stored.offset, first.stored.key]).toEqual([stream, 1, "a"]);
  });

  it("tells a stream made again under the same name from the old one: its offsets start over with other events", async () => {
    const stream = await bench.createStream();
    await bench.publish(stream, many(1, { key: "before" }));
    const events = new SharedEvents(bench.schemas);
    const [old] = await copies(stream, 1);
    const before = events.of(stream, old!);
    expect(before.stored.key).toBe("before");

    await bench.jsm.streams.delete(stream);
    await bench.createStream(stream);
    await bench.publish(stream, many(1, { key: "after" }));
    const [fresh] = await copies(stream, 1);
    expect(fresh!.seq).toBe(old!.seq);
    const after = events.of(stream, fresh!);
    expect(after).not.toBe(before);
    expect(after.stored.key).toBe("after");
    expect(JSON.parse(after.payload("envelope").body as string)).toMatchObject({ offset: 1, key: "after" });
  });

  it("keeps no more than its memory budget, forgetting the events it saw first", async () => {
    const stream = await bench.createStream();
    await bench.publish(stream, many(5));
    const [sample] = await copies(stream, 1);
    const eventSize = new EncodedEvent({ stream, offset: 1, id: "i", type: "", key: undefined, time: new Date(), data: sample!.data }, bench.schemas).size;
    const events = new SharedEvents(bench.schemas, 3 * eventSize);
    const taken = (await copies(stream, 5)).map((msg) => events.of(stream, msg));
    const again = await copies(stream, 5);
    // The three seen last are still kept (newest first, so none of these lookups evicts another)...
    for (const i of [4, 3, 2]) expect(events.of(stream, again[i]!), `offset ${i + 1}`).toBe(taken[i]);
    // ...and the first two were forgotten: taken again, each is made anew.
    for (const i of [0, 1]) {
      const made = events.of(stream, again[i]!);
      expect(made, `offset ${i + 1}`).not.toBe(taken[i]);
      expect(made.stored.offset).toBe(i + 1);
    }
  });
});

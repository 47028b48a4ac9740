/**
 * POST /v1/streams/{stream}/events:batch stores its events pipelined (PROTOCOL.md section 4):
 * the results still come in the request's order, each naming the offset its event was stored
 * at, and a batch the backbone stops storing midway is 503 with Retry-After, which the same
 * batch sent again (same ids) completes without storing anything twice. Real nats-server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DiscardPolicy, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { expectUnavailable } from "../support/backbone-trouble.js";
import { T, tag } from "../support/events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import type { HttpResponse } from "../support/http.js";

interface Result {
  offset: number;
  id: string;
  duplicate: boolean;
}

let gw: TestGateway;
let nc: NatsConnection;
let jsm: JetStreamManager;
beforeAll(async () => {
  gw = await startTestGateway();
  nc = await connect({ servers: gw.nats.url });
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await nc?.close();
  await gw?.close();
});

function batch(events: unknown[]): Promise<HttpResponse> {
  // Past the store's 15 s of retries when the backbone refuses.
  return gw.api.send({ method: "POST", path: "/v1/streams/orders/events:batch", json: { events } }, 40_000);
}

function shipped(id: string, carrier = "ups") {
  return { type: T.shipped, id, data: { orderId: id, carrier } };
}

/** The id JetStream itself holds at this offset. */
async function storedId(seq: number): Promise<string> {
  const message = await jsm.streams.getMessage("orders", { seq });
  if (!message) throw new Error(`nothing stored at orders@${seq}`);
  return message.header.get("Nats-Msg-Id");
}

function storedIds(offsets: number[]): Promise<string[]> {
  return Promise.all(offsets.map(storedId));
}

async function storedEventsWithIds(ids: readonly string[]): Promise<number> {
  const wanted = new Set(ids);
  const { state } = await jsm.streams.info("orders");
  let count = 0;
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) if (wanted.has(await storedId(seq))) count++;
  return count;
}

describe("a pipelined batch", () => {
  it("answers in the request's order, each result the offset its own event was stored at, with other publishes interleaving", async () => {
    const ids = Array.from({ length: 300 }, () => tag("pipe"));
    const others = Array.from({ length: 40 }, () => tag("single"));
    const [res, ...singles] = await Promise.all([
      batch(ids.map((id, i) => (i % 3 === 2 ? { type: T.cancelled, id, key: `k-${i}`, data: { orderId: id } } : shipped(id)))),
      ...others.map((id) => gw.api.postJson("/v1/streams/orders/events", shipped(id))),
    ]);
    expect(res.status, res.text.slice(0, 300)).toBe(201);
    for (const single of singles) expect(single.status, single.text).toBe(201);
    const results = res.body.results as Result[];
    expect(results.map((r) => r.id)).toEqual(ids);
    expect(results.every((r) => !r.duplicate)).toBe(true);
    // Stored in the request's order, whatever else was stored in between.
    const offsets = results.map((r) => r.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(new Set(offsets).size).toBe(ids.length);
    expect(await storedIds(offsets)).toEqual(ids);
  });

  it("publishes an id given several times once, and answers its later copies as duplicates of the first", async () => {
    const [once, twice, fresh] = [tag("dup"), tag("dup"), tag("dup")];
    const res = await batch([shipped(twice, "first"), shipped(once), shipped(twice, "second"), shipped(fresh), shipped(twice, "third")]);
    expect(res.status, res.text).toBe(201);
    const [a, b, c, d, e] = res.body.results as Result[];
    expect([a, c, e]).toEqual([
      { offset: a!.offset, id: twice, duplicate: false },
      { offset: a!.offset, id: twice, duplicate: true },
      { offset: a!.offset, id: twice, duplicate: true },
    ]);
    expect([b, d]).toEqual([
      { offset: a!.offset + 1, id: once, duplicate: false },
      { offset: a!.offset + 2, id: fresh, duplicate: false },
    ]);
    expect(await storedEventsWithIds([twice])).toBe(1);
    const read = await gw.api.get(`/v1/streams/orders/poll?from=${a!.offset}&max=1&wait=0`);
    expect(read.body.events[0]).toMatchObject({ id: twice, data: { orderId: twice, carrier: "first" } });
  });

  it("that the stream stops taking midway is 503 with Retry-After, and sent again with the same ids stores each event once", async () => {
    const before = await jsm.streams.info("orders");
    const room = 5;
    // The stream takes `room` more events, then refuses new ones: a real mid-batch failure.
    await jsm.streams.update("orders", { discard: DiscardPolicy.New, max_msgs: before.state.messages + room });
    const events = Array.from({ length: 20 }, () => shipped(tag("full")));
    const ids = events.map((e) => e.id);
    let refused: HttpResponse;
    try {
      refused = await batch(events);
    } finally {
      await jsm.streams.update("orders", { discard: before.config.discard, max_msgs: before.config.max_msgs });
    }
    expectUnavailable(refused, "a batch the stream stopped taking after 5 events");
    expect(await storedEventsWithIds(ids)).toBe(room);

    const again = await batch(events);
    expect(again.status, again.text.slice(0, 300)).toBe(201);
    const results = again.body.results as Result[];
    expect(results.map((r) => r.id)).toEqual(ids);
    expect(results.map((r) => r.duplicate)).toEqual(ids.map((_, i) => i < room));
    expect(await storedIds(results.map((r) => r.offset))).toEqual(ids);
    expect(await storedEventsWithIds(ids)).toBe(ids.length);
  });
});

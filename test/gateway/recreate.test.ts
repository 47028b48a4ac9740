import { afterAll, beforeAll, expect, it } from "vitest";
import { orders } from "../../generated/streams/index.js";
import { applyStreams } from "../../src/backbone/provision.js";
import { createProducer } from "../../src/typed/producer.js";
import { createClient } from "../../clients/src/index.js";
import type { GapNotice } from "@streamgate/protocol/position";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { uid, WsClient, wsUrl } from "../support/ws-client.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

const publish = (n: number, prefix: string) => {
  const producer = createProducer(gw.gateway.session.backbone.js, orders);
  return Promise.all(
    Array.from({ length: n }, (_, i) => producer.publish({ type: "demo.orders.v1.OrderShipped", data: { orderId: `${prefix}-${i}` } })),
  );
};
const info = async () => (await (await fetch(`${gw.url}/v1/streams/orders`)).json()) as { epoch: string; last_offset: number };
const poll = async (query: string) =>
  (await (await fetch(`${gw.url}/v1/streams/orders/poll?${query}`)).json()) as {
    events: { offset: number; data: { orderId: string } }[];
    next: number;
    gap?: GapNotice;
  };

it("serves a stream re-created under it from its new generation, with a gap for old offsets", async () => {
  await publish(5, "old");
  // Readers now share the old generation's live feed.
  const oldEpoch = (await info()).epoch;
  expect((await poll("from=first&wait=0")).events).toHaveLength(5);
  const sse = (await fetch(`${gw.url}/v1/streams/orders/sse?from=first`)).body!.pipeThrough(new TextDecoderStream()).getReader();
  let sseText = "";
  while (!sseText.includes("id: 5\n")) sseText += (await sse.read()).value ?? "";

  const { jsm } = gw.gateway.session.backbone;
  await jsm.streams.delete("orders");
  await applyStreams(jsm, [orders]);
  await publish(3, "new");

  // The old generation's SSE response ends, so its client resumes (and learns the epoch).
  for (;;) {
    const chunk = await sse.read();
    if (chunk.done) break;
    expect(chunk.value).not.toMatch(/^id: /m);
  }
  const after = await info();
  expect(after.epoch).not.toBe(oldEpoch);

  // A reader from the start gets exactly the new generation: nothing skipped, nothing old.
  const first = await poll("from=first&wait=0");
  expect(first.events.map((e) => e.data.orderId)).toEqual(["new-0", "new-1", "new-2"]);
  await publish(2, "later");
  const live = await poll(`from=${first.next}&wait=5`);
  expect(live.events.map((e) => e.offset)).toEqual([4, 5]);

  // An old offset with the old epoch: a gap notice, then the oldest event of the new generation.
  const stale = await poll(`from=4&epoch=${oldEpoch}&wait=0`);
  expect(stale.gap).toEqual({ stream: "orders", requested: 4, first: 1, epoch: after.epoch });
  expect(stale.events[0]!.offset).toBe(1);
});

it("the typed client resumes in the new generation after a gap, without replaying it", async () => {
  const { epoch } = await info();
  const { jsm } = gw.gateway.session.backbone;
  await jsm.streams.delete("orders");
  await applyStreams(jsm, [orders]);
  await publish(3, "gen3");

  const gaps: GapNotice[] = [];
  const client = createClient({ baseUrl: gw.url });
  const offsets: number[] = [];
  for await (const event of client.subscribe(orders, {
    protocol: "poll",
    position: { from: 2 },
    epoch,
    onGap: (gap) => gaps.push(gap),
  })) {
    offsets.push(event.offset);
    if (offsets.length === 3) break;
  }
  expect(offsets).toEqual([1, 2, 3]);
  expect(gaps).toHaveLength(1);
});

it("ends a WebSocket subscription to the old generation with `unsubscribed`, telling it to subscribe again", async () => {
  await publish(2, "ws-old");
  const client = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "json");
  try {
    const sub = uid("recreated-");
    await client.subscribe({ sub, stream: "orders", from: "first" });
    await client.items(sub, 2);
    const { jsm } = gw.gateway.session.backbone;
    await jsm.streams.delete("orders");
    await applyStreams(jsm, [orders]);
    await publish(1, "ws-new");
    const ended = await client.nextOp("unsubscribed", { sub }, 20_000);
    expect(ended.reason).toMatch(/feed ended: subscribe again/);
  } finally {
    await client.close();
  }
});

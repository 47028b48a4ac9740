/**
 * WebSocket, subprotocol streamgate.v1.proto (PROTOCOL.md 5.3): the shared suite with
 * ClientFrame/ServerFrame binary frames (the test client refuses any text frame from the
 * server), then what only the binary form has.
 */
import { describe, expect, it } from "vitest";
import { Anchor, ClientFrame } from "../../protocol/generated/streamgate/v1/frames.js";
import { orders } from "../../generated/streams/index.js";
import { createProducer } from "../../src/typed/producer.js";
import { WsClient, uid, wsUrl } from "../support/ws-client.js";
import { suite } from "./suite.js";

const { gateway } = suite("proto");

describe("binary frames", () => {
  it("ANCHOR_UNSPECIFIED means now; every server frame is binary", async () => {
    const client = await WsClient.connect(wsUrl(gateway().url, "/v1/ws"), "proto");
    try {
      const sub = uid("anchor-");
      client.sendRaw(
        ClientFrame.encode({
          op: { $case: "subscribe", value: { sub, stream: "orders", position: { $case: "anchor", value: Anchor.ANCHOR_UNSPECIFIED }, epoch: "", types: [], key: undefined } },
        }).finish(),
      );
      await client.nextOp("subscribed", { sub });
      const producer = createProducer(gateway().gateway.session.backbone.js, orders);
      const { offset } = await producer.publish({ type: "demo.orders.v1.OrderShipped", data: { orderId: uid("anchor-") } });
      // Nothing stored before the subscription comes first.
      expect((await client.events(sub, 1))[0]!.offset).toBe(offset);
      expect(client.history.every((r) => r.binary)).toBe(true);
    } finally {
      await client.close();
    }
  });
});

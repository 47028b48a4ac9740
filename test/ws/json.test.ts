/**
 * WebSocket, subprotocol streamgate.v1.json (PROTOCOL.md 5.3): the shared suite (positions,
 * filters, publish acks, duplicates, round trips, multiplexing, the pre-subscribed route),
 * then what only the JSON form has: the exact field sets of each frame, and JSON as the default.
 */
import { describe, expect, it } from "vitest";
import { T } from "../support/events.js";
import { WsClient, uid, wsUrl } from "../support/ws-client.js";
import { examples, publishOp, suite } from "./suite.js";

const { gateway } = suite("json");

describe("JSON only", () => {
  it("every server frame is one text frame holding exactly the fields of section 5.3", async () => {
    const client = await WsClient.connect(wsUrl(gateway().url, "/v1/ws"), "json");
    try {
      const sub = uid("shape-");
      const subscribed = await client.subscribe({ sub, stream: "orders", from: "now" });
      expect(Object.keys(subscribed).sort()).toEqual(["epoch", "first_offset", "last_offset", "op", "stream", "sub"]);

      const [created] = examples(uid("shape-")).filter((e) => e.type === T.created);
      const op = publishOp("json", created!);
      client.send(op);
      const published = await client.nextOp("published", { ref: op.ref });
      expect(Object.keys(published).sort()).toEqual(["duplicate", "id", "offset", "op", "ref"]);

      const event = await client.nextOp("event", { sub });
      expect(Object.keys(event).sort()).toEqual(["event", "op", "sub"]);
      expect(Object.keys(event.event).sort()).toEqual(["data", "id", "key", "offset", "stream", "time", "type"]);
      expect(event.event).toMatchObject({ stream: "orders", offset: published.offset, id: published.id, type: T.created, key: created!.key });

      const stale = uid("shape-gap-");
      await client.subscribe({ sub: stale, stream: "orders", from: published.offset, epoch: "stale" });
      const gap = await client.nextOp("gap", { sub: stale });
      expect(Object.keys(gap).sort()).toEqual(["epoch", "first", "op", "requested", "stream", "sub"]);

      client.send({ op: "ping", ref: "shape-ping" });
      expect(await client.nextOp("pong", { ref: "shape-ping" })).toEqual({ op: "pong", ref: "shape-ping" });

      client.send({ op: "unsubscribe", sub });
      const unsubscribed = await client.nextOp("unsubscribed", { sub });
      expect(Object.keys(unsubscribed).filter((k) => k !== "reason").sort()).toEqual(["op", "sub"]);

      client.send({ op: "unsubscribe", sub: "never-was" });
      const error = await client.nextOp("error", { sub: "never-was" });
      expect(Object.keys(error).sort()).toEqual(["code", "message", "op", "sub"]);

      expect(client.history.every((r) => !r.binary && typeof r.raw === "string")).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('"types": [] is refused or means every type, never a subscription that silently delivers nothing', async () => {
    const client = await WsClient.connect(wsUrl(gateway().url, "/v1/ws"), "json");
    try {
      const sub = uid("empty-types-");
      client.send({ op: "subscribe", sub, stream: "metrics", types: [] });
      const answer = await client.next((m) => (m.op === "subscribed" || m.op === "error") && m.sub === sub);
      if (answer.op === "error") {
        expect(answer.code).toBe("invalid_argument");
        return;
      }
      const name = uid("empty-types-");
      const ref = uid("r");
      client.send({ op: "publish", ref, stream: "metrics", data: { name } });
      const ack = await client.nextOp("published", { ref });
      expect((await client.events(sub, 1, 3_000))[0]).toMatchObject({ offset: ack.offset, data: { name } });
    } finally {
      await client.close();
    }
  });

  it("is the subprotocol when the client asks for none", async () => {
    const client = await WsClient.connect(wsUrl(gateway().url, "/v1/ws"), "json", { protocols: [] });
    try {
      expect(client.protocol).toBe("");
      await client.ping();
      const sub = uid("default-");
      await client.subscribe({ sub, stream: "orders", last: 1 });
      await client.nextOp("event", { sub });
      expect(client.history.every((r) => !r.binary)).toBe(true);
    } finally {
      await client.close();
    }
  });
});

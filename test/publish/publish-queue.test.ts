/**
 * PublishQueue in front of a real JetStream: publishes keep the order they were asked in, and
 * no more than maxInFlight wait for their acks at once; the rest wait in the queue.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JetStreamPublishOptions, PubAck } from "@nats-io/jetstream";
import { connectBackbone, type Backbone } from "../../src/backbone/connection.js";
import { PublishQueue, type JetStreamPublish } from "../../src/backbone/publish-queue.js";
import { startTestNats, type TestNats } from "../support/nats.js";

let nats: TestNats;
let backbone: Backbone;
beforeAll(async () => {
  nats = await startTestNats();
  backbone = await connectBackbone(nats.url);
  await backbone.jsm.streams.add({ name: "queued", subjects: ["queued.>"] });
});
afterAll(async () => {
  await backbone?.close();
  await nats?.stop();
});

/** The real JetStream client, counting how many of its publishes are unanswered at once. */
function counting(js: JetStreamPublish) {
  const seen = { now: 0, most: 0 };
  const client: JetStreamPublish = {
    async publish(subject: string, data?: string | Uint8Array, options?: Partial<JetStreamPublishOptions>): Promise<PubAck> {
      seen.most = Math.max(seen.most, ++seen.now);
      try {
        return await js.publish(subject, data, options);
      } finally {
        seen.now--;
      }
    },
  };
  return { client, seen };
}

describe("PublishQueue", () => {
  it("stores publishes in the order asked, with at most maxInFlight unanswered", async () => {
    const { client, seen } = counting(backbone.js);
    const queue = new PublishQueue(client, 7);
    const count = 100;
    const acks = await Promise.all(
      Array.from({ length: count }, (_, i) => queue.publish(`queued.${i % 5}`, new TextEncoder().encode(String(i)), { msgID: `q-${i}` })),
    );
    expect(seen.most).toBe(7);
    const first = acks[0]!.seq;
    expect(acks.map((ack) => ack.seq)).toEqual(acks.map((_, i) => first + i));
    const stored = await backbone.jsm.streams.getMessage("queued", { seq: first + count - 1 });
    expect(stored?.string()).toBe(String(count - 1));
  });

  it("answers each publish with its own failure and keeps serving the others", async () => {
    const queue = new PublishQueue(backbone.js, 2);
    const answers = await Promise.allSettled([
      queue.publish("queued.ok", new Uint8Array([1])),
      queue.publish("nowhere.at.all", new Uint8Array([2]), { timeout: 2_000 }),
      queue.publish("queued.ok", new Uint8Array([3])),
    ]);
    expect(answers.map((a) => a.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StorageType } from "@nats-io/jetstream";
import { orders } from "../../generated/streams/index.js";
import { connectBackbone, type Backbone } from "../../src/backbone/connection.js";
import { applyStreams, ProvisionRefusedError } from "../../src/backbone/provision.js";
import { ReplicasRefusedError } from "../../src/backbone/replicas.js";
import { createProducer } from "../../src/typed/producer.js";
import { startTestNats, type TestNats } from "../support/nats.js";

let nats: TestNats;
let backbone: Backbone;
beforeAll(async () => {
  nats = await startTestNats();
  backbone = await connectBackbone(nats.url);
});
afterAll(async () => {
  await backbone?.nc.close();
  await nats?.stop();
});

describe("applyStreams", () => {
  it("creates, leaves alone, and updates in place what JetStream can change", async () => {
    expect(await applyStreams(backbone.jsm, [orders])).toEqual([{ stream: "orders", action: "created", replicas: 1 }]);
    expect(await applyStreams(backbone.jsm, [orders])).toEqual([{ stream: "orders", action: "unchanged", replicas: 1 }]);

    await createProducer(backbone.js, orders).publish({ type: "demo.orders.v1.OrderShipped", data: { orderId: "a" } });
    const longer = { ...orders, settings: { ...orders.settings, maxAgeMs: orders.settings.maxAgeMs * 2, maxEvents: 1_000 } };
    expect(await applyStreams(backbone.jsm, [longer])).toEqual([{ stream: "orders", action: "updated", replicas: 1 }]);
    const info = await backbone.jsm.streams.info("orders");
    expect(info.config.max_msgs).toBe(1_000);
    expect(info.config.subjects).toEqual(["streamgate.orders.>"]);
    expect(info.state.messages).toBe(1);
  });

  it("refuses a change JetStream cannot make in place, and keeps the data", async () => {
    await applyStreams(backbone.jsm, [orders]);
    const before = await backbone.jsm.streams.info("orders");
    const inMemory = { ...orders, settings: { ...orders.settings, storage: "memory" as const } };

    const refusal = applyStreams(backbone.jsm, [inMemory]);
    await expect(refusal).rejects.toBeInstanceOf(ProvisionRefusedError);
    await expect(refusal).rejects.toThrow(/stream "orders": storage is file in JetStream but memory in the schema/);
    await expect(refusal).rejects.toThrow(/never deletes a stream/);

    const after = await backbone.jsm.streams.info("orders");
    expect(after.config.storage).toBe(StorageType.File);
    expect(after.created).toBe(before.created);
    expect(after.state.messages).toBe(before.state.messages);
  });

  it("reports JetStream's reason when it refuses an update", async () => {
    const shipped = { ...orders, name: "shipping" };
    await backbone.jsm.streams.add({ name: "shipping", subjects: ["legacy.shipping.>"] });
    await backbone.jsm.streams.add({ name: "squatter", subjects: ["streamgate.shipping.>"] });
    await expect(applyStreams(backbone.jsm, [shipped])).rejects.toThrow(
      /stream "shipping": JetStream refused to change .*subjects.*overlap/,
    );
    expect((await backbone.jsm.streams.info("shipping")).config.subjects).toEqual(["legacy.shipping.>"]);
  });

  it("refuses replicas a single server cannot keep, new stream or existing, with the reason", async () => {
    const fresh = { ...orders, name: "fresh" };
    const created = applyStreams(backbone.jsm, [fresh], 3);
    await expect(created).rejects.toBeInstanceOf(ReplicasRefusedError);
    // JetStream's own words.
    await expect(created).rejects.toThrow(/stream "fresh": JetStream refused 3 replicas: replicas > 1 not supported in non-clustered mode/);

    await applyStreams(backbone.jsm, [orders]);
    const pinned = { ...orders, settings: { ...orders.settings, replicas: 3 } };
    // This server would take the update and keep one copy still: refused before it is asked.
    await expect(applyStreams(backbone.jsm, [pinned])).rejects.toThrow(/stream "orders": JetStream refused 3 replicas: .*not part of a cluster/);
    expect((await backbone.jsm.streams.info("orders")).config.num_replicas).toBe(1);
  });
});

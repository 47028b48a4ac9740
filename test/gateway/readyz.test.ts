/**
 * PROTOCOL.md section 7: /readyz is 200 only while JetStream itself answers for the gateway's
 * streams and its state, not merely while a NATS connection is up; else 503 with Retry-After
 * and a message naming what does not answer. (After a restart: test/backbone/cluster.test.ts,
 * where JetStream takes seconds longer than core NATS to answer again.)
 */
import { describe, expect, it } from "vitest";
import { Kvm } from "@nats-io/kv";
import { connectBackbone } from "../../src/backbone/connection.js";
import { gatewayForFile } from "../support/file-gateway.js";
import { expectUnavailable, whileFrozen } from "../support/backbone-trouble.js";

const REGISTRATIONS = "KV_streamgate_webhooks";

const gateway = gatewayForFile();

describe("/readyz", () => {
  it("is 200 while JetStream answers for every stream and the webhook state", async () => {
    const res = await gateway.api.get("/readyz");
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ status: "ready" });
  });

  it("is 503 with Retry-After, within its budget, while the backbone is frozen", async () => {
    const { res, tookMs } = await whileFrozen(gateway.nats.pid, async () => {
      const started = Date.now();
      const res = await gateway.api.get("/readyz");
      return { res, tookMs: Date.now() - started };
    });
    expectUnavailable(res, "/readyz while frozen");
    expect(tookMs).toBeLessThan(5_000);
    await expect.poll(async () => (await gateway.api.get("/readyz")).status, { timeout: 30_000 }).toBe(200);
  });

  it("is 503 naming the webhook registrations while only their bucket is gone, and 200 once it is back", async () => {
    const backbone = await connectBackbone(gateway.nats.url, "readyz-test");
    try {
      await backbone.jsm.streams.delete(REGISTRATIONS);
      const res = await gateway.api.get("/readyz");
      expectUnavailable(res, "/readyz without the registrations bucket");
      expect(res.body.error.message).toContain(REGISTRATIONS);
      expect(res.body.error.message).not.toContain("orders");
      // The streams still answer: only readiness reports the missing state.
      expect((await gateway.api.get("/v1/streams/orders")).status).toBe(200);

      await new Kvm(backbone.js).create("streamgate_webhooks", { history: 1 });
      const back = await gateway.api.get("/readyz");
      expect(back.status, back.text).toBe(200);
    } finally {
      await backbone.nc.close();
    }
  });
});

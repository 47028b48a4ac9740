/**
 * A declared stream JetStream does not have (a cluster recovering its streams after a restart
 * says so for a while) is backbone trouble: 503 with Retry-After on its routes, never a 500,
 * and served again once the stream is back.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { orders } from "../../generated/streams/index.js";
import { applyStreams } from "../../src/backbone/provision.js";
import { expectUnavailable } from "../support/backbone-trouble.js";
import { client } from "../support/http.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

it("is 503 with Retry-After while JetStream has no such stream, and 200 once it is there again", async () => {
  const http = client(gw.url);
  const { jsm } = gw.gateway.session.backbone;
  await jsm.streams.delete("orders");
  const routes = ["/v1/streams/orders", "/v1/streams/orders/poll?from=first&wait=0", "/v1/streams/orders/sse?from=first"];
  for (const path of routes) expectUnavailable(await http.get(path), path);
  await applyStreams(jsm, [orders]);
  expect((await http.get("/v1/streams/orders")).status).toBe(200);
});

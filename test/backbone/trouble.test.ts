/**
 * PROTOCOL.md section 4: a backbone that does not answer is 503 `unavailable` with Retry-After
 * on every route, never a 500, and the gateway serves again as soon as it answers again. The
 * nats-server is frozen with SIGSTOP: its sockets stay open, so nothing fails fast.
 */
import { describe, expect, it } from "vitest";
import { T, tag } from "../support/events.js";
import { gatewayForFile } from "../support/file-gateway.js";
import type { HttpRequest, HttpResponse } from "../support/http.js";
import { expectUnavailable, watchUnhandledRejections, whileFrozen } from "../support/backbone-trouble.js";

/** Longer than any answer may take: the store retries for 15 s, each try waits up to 5 s. */
const ANSWER_WITHIN_MS = 30_000;
const RECOVERY_MS = 30_000;

const gateway = gatewayForFile();

function shipped(id: string): HttpRequest {
  return {
    method: "POST",
    path: "/v1/streams/orders/events",
    json: { type: T.shipped, id, data: { orderId: id, carrier: "ups" } },
  };
}

/** Each route that needs the backbone, as a fresh request. */
function routes(id: string): Record<string, HttpRequest> {
  return {
    "GET /v1/streams": { path: "/v1/streams" },
    "GET /v1/streams/orders": { path: "/v1/streams/orders" },
    "short poll": { path: "/v1/streams/orders/poll?from=first&wait=0" },
    "long poll": { path: "/v1/streams/orders/poll?from=now&wait=3" },
    publish: shipped(id),
  };
}

async function sendAll(requests: Record<string, HttpRequest>): Promise<[string, HttpResponse][]> {
  return Promise.all(
    Object.entries(requests).map(async ([name, req]): Promise<[string, HttpResponse]> => [name, await gateway.api.send(req, ANSWER_WITHIN_MS)]),
  );
}

/** The answer once it is not 503 any more (the client may still be reconnecting), within RECOVERY_MS. */
async function whenServed(req: HttpRequest): Promise<HttpResponse> {
  const deadline = Date.now() + RECOVERY_MS;
  for (;;) {
    const res = await gateway.api.send(req, ANSWER_WITHIN_MS);
    if (res.status !== 503 || Date.now() > deadline) return res;
  }
}

describe("a frozen backbone", () => {
  it("is 503 with Retry-After on every route while frozen, and served again once it runs", async () => {
    const unhandled = watchUnhandledRejections();
    try {
      // The live feed of orders exists before the freeze, as on a gateway that has been serving.
      expect((await gateway.api.send(shipped(tag("before")))).status).toBe(201);
      expect((await gateway.api.get("/v1/streams/orders/poll?from=first&wait=0")).status).toBe(200);

      const answers = await whileFrozen(gateway.nats.pid, () => sendAll(routes(tag("frozen"))));
      for (const [name, res] of answers) expectUnavailable(res, `${name} while frozen`);

      for (const path of ["/v1/streams", "/v1/streams/orders", "/v1/streams/orders/poll?from=first&wait=0"]) {
        const res = await whenServed({ path });
        expect(res.status, `${path} after the thaw -> ${res.status} ${res.text.slice(0, 300)}`).toBe(200);
      }
      // A long poll waiting past the last offset gets the event published while it waits (its
      // key filters out the event published while frozen, which may be stored late).
      const after = tag("after");
      const next = (await gateway.api.get("/v1/streams/orders")).body.last_offset + 1;
      const longPoll = gateway.api.send({ path: `/v1/streams/orders/poll?from=${next}&key=${after}&wait=20` }, ANSWER_WITHIN_MS);
      const published = await whenServed(shipped(after));
      expect(published.status, published.text).toBe(201);
      const polled = await longPoll;
      expect(polled.status, polled.text).toBe(200);
      expect(polled.body.events.map((e: { id: string }) => e.id)).toEqual([after]);
      expect(unhandled.rejections).toEqual([]);
    } finally {
      unhandled.stop();
    }
  });
});

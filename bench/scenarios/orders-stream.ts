/** The demo `orders` stream on a bare nats-server, for the baselines that run without a gateway. */
import { orders } from "../../generated/streams/orders.js";
import { connectBackbone } from "../../src/backbone/connection.js";
import { applyStreams } from "../../src/backbone/provision.js";

/** Creates `orders` as the gateway would at start. */
export async function provisionOrders(natsUrl: string): Promise<void> {
  const backbone = await connectBackbone(natsUrl, "bench-provision");
  try {
    await applyStreams(backbone.jsm, [orders]);
  } finally {
    await backbone.close();
  }
}

/** How many events `orders` holds. */
export async function storedOrders(natsUrl: string): Promise<number> {
  const backbone = await connectBackbone(natsUrl, "bench-count");
  try {
    return (await backbone.jsm.streams.info(orders.name)).state.messages;
  } finally {
    await backbone.close();
  }
}

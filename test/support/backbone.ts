import { connectBackbone, type Backbone } from "../../src/backbone/connection.js";
import { applyStreams } from "../../src/backbone/provision.js";
import { streams } from "../../generated/streams/index.js";
import { startTestNats, type TestNats } from "./nats.js";

export interface TestBackbone extends Backbone {
  nats: TestNats;
  close(): Promise<void>;
}

/** A real nats-server with the example streams provisioned, and a connection to it. */
export async function startTestBackbone(): Promise<TestBackbone> {
  const nats = await startTestNats();
  const backbone = await connectBackbone(nats.url, "streamgate-test");
  await applyStreams(backbone.jsm, streams);
  return {
    ...backbone,
    nats,
    async close() {
      await backbone.nc.close();
      await nats.stop();
    },
  };
}

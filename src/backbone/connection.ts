import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";

export interface Backbone {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** Lets what is in flight finish, then closes the connection, so a script can end. */
  close(): Promise<void>;
}

/** Connects for the life of the process: reconnects forever, never gives up on a restart. */
export async function connectBackbone(url: string, name = "streamgate"): Promise<Backbone> {
  const nc = await connect({
    servers: url.split(","),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 5_000,
    // Async stack traces cost a captured Error per request: ~10% of CPU when delivering webhooks.
    noAsyncTraces: true,
  });
  const jsm = await jetstreamManager(nc);
  return { nc, jsm, js: jetstream(nc), close: () => nc.drain() };
}

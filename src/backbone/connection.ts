import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";

export interface Backbone {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /**
   * The same, for readers: their requests (stream info, consumer create) are given up on after
   * READ_API_TIMEOUT_MS and asked again (whileUnavailable) while the stream elects a leader.
   */
  reads: { js: JetStreamClient; jsm: JetStreamManager };
  /** Lets what is in flight finish, then closes the connection, so a script can end. */
  close(): Promise<void>;
}

/**
 * How long a reader's JetStream request waits. A burst of catch-ups making filtered consumers
 * is answered in seconds on a loaded machine; with 1–2 s, requests were asked again while the
 * first was still being made, and whole bursts of catch-ups timed out (ws-load many-subscribers).
 */
const READ_API_TIMEOUT_MS = 5_000;

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
  const reads = { js: jetstream(nc, { timeout: READ_API_TIMEOUT_MS }), jsm: await jetstreamManager(nc, { timeout: READ_API_TIMEOUT_MS, checkAPI: false }) };
  return { nc, jsm, js: jetstream(nc), reads, close: () => nc.drain() };
}

import type { JetStreamManager, StreamConfig, StreamInfo } from "@nats-io/jetstream";
import { StreamNotFoundError } from "./errors.js";

/**
 * Creates a stream the gateway keeps its own state in, with `replicas`. One that exists keeps
 * its data and settings, and only takes the replicas the configuration asks for now.
 */
export async function applyStateStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
  replicas: number,
): Promise<void> {
  const existing = await jsm.streams.info(config.name).catch((err: unknown) => {
    if (err instanceof StreamNotFoundError) return undefined;
    throw err;
  });
  if (existing) await scaleStateStream(jsm, existing, replicas);
  else await jsm.streams.add({ ...config, num_replicas: replicas });
}

/** Changes an existing stream's replicas in place; JetStream copies its data to new peers. */
export async function scaleStateStream(jsm: JetStreamManager, info: StreamInfo, replicas: number): Promise<void> {
  if (info.config.num_replicas !== replicas) await jsm.streams.update(info.config.name, { num_replicas: replicas });
}

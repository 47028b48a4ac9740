import type { JetStreamManager, StreamConfig } from "@nats-io/jetstream";
import type { KV, Kvm } from "@nats-io/kv";
import { StreamNotFoundError } from "./errors.js";
import { addStream, placing, scaleStream } from "./replicas.js";

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
  if (existing) await scaleStream(jsm, existing, replicas);
  else await addStream(jsm, config, replicas);
}

/**
 * A bucket of the gateway's state keeping one value per key, at `replicas`: created so, or an
 * existing one scaled (create() alone leaves an existing bucket as it was).
 */
export async function openStateBucket(kvm: Kvm, jsm: JetStreamManager, bucket: string, replicas: number): Promise<{ kv: KV; stream: string }> {
  const kv = await placing(`KV_${bucket}`, replicas, () => kvm.create(bucket, { history: 1, replicas }));
  const { streamInfo } = await kv.status();
  await scaleStream(jsm, streamInfo, replicas);
  return { kv, stream: streamInfo.config.name };
}

import { nanos } from "@nats-io/transport-node";
import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import type { StreamSettings } from "@streamgate/protocol/stream";
import { streamSubjects } from "./subjects.js";
import { isBackboneUnavailable, StreamNotFoundError } from "./errors.js";
import { addStream, scaleStream, streamReplicas } from "./replicas.js";

export interface StreamToProvision {
  name: string;
  description: string;
  settings: StreamSettings;
}

export interface ProvisionResult {
  stream: string;
  action: "created" | "updated" | "unchanged";
  /** The replicas it has now (see streamReplicas). */
  replicas: number;
}

/** A schema change JetStream cannot make to an existing stream without losing data. */
export class ProvisionRefusedError extends Error {
  constructor(stream: string, problem: string) {
    super(
      `stream "${stream}": ${problem}. streamgate never deletes a stream to apply a schema: ` +
        `revert the schema change, or declare a stream under a new name and move readers to it.`,
    );
    this.name = "ProvisionRefusedError";
  }
}

/**
 * Creates or updates one JetStream stream per declared stream, each scaled in place to the
 * replicas streamReplicas picks, `configuredReplicas` being the replicas setting.
 */
export async function applyStreams(
  jsm: JetStreamManager,
  streams: readonly StreamToProvision[],
  configuredReplicas?: number,
): Promise<ProvisionResult[]> {
  const results: ProvisionResult[] = [];
  for (const stream of streams) results.push(await applyStream(jsm, stream, configuredReplicas));
  return results;
}

async function applyStream(jsm: JetStreamManager, stream: StreamToProvision, configuredReplicas: number | undefined): Promise<ProvisionResult> {
  const wanted = streamConfig(stream);
  const existing = await jsm.streams.info(stream.name).catch((err: unknown) => {
    if (err instanceof StreamNotFoundError) return undefined;
    throw err;
  });
  const replicas = streamReplicas(stream.settings.replicas, configuredReplicas, existing?.config.num_replicas);
  if (!existing) {
    await addStream(jsm, wanted, replicas);
    return { stream: stream.name, action: "created", replicas };
  }
  const updated = await updateStream(jsm, existing, wanted);
  const scaled = await scaleStream(jsm, existing, replicas);
  return { stream: stream.name, action: updated || scaled ? "updated" : "unchanged", replicas };
}

/** Brings an existing stream's settings but its replicas to `wanted`; whether any changed. */
async function updateStream(jsm: JetStreamManager, existing: StreamInfo, wanted: StreamConfigWanted): Promise<boolean> {
  const stream = wanted.name;
  const current = existing.config;
  if (current.storage !== wanted.storage) {
    throw new ProvisionRefusedError(
      stream,
      `storage is ${current.storage} in JetStream but ${wanted.storage} in the schema, and JetStream cannot change storage in place`,
    );
  }
  if (current.retention !== wanted.retention) {
    throw new ProvisionRefusedError(stream, `it exists with ${current.retention} retention, not limits`);
  }
  const changed = (Object.keys(wanted) as (keyof StreamConfig)[]).filter(
    (field) => JSON.stringify(current[field]) !== JSON.stringify(wanted[field]),
  );
  if (changed.length === 0) return false;
  try {
    // Replicas are scaleStream's to change, with their own refusal.
    await jsm.streams.update(stream, { ...wanted, num_replicas: current.num_replicas });
  } catch (err) {
    if (isBackboneUnavailable(err)) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new ProvisionRefusedError(stream, `JetStream refused to change ${changed.join(", ")}: ${reason}`);
  }
  return true;
}

/** A declared stream's JetStream configuration, but its replicas. */
type StreamConfigWanted = Partial<StreamConfig> & { name: string };

function streamConfig({ name, description, settings }: StreamToProvision): StreamConfigWanted {
  return {
    name,
    description,
    subjects: [streamSubjects(name)],
    retention: RetentionPolicy.Limits,
    storage: settings.storage === "memory" ? StorageType.Memory : StorageType.File,
    max_age: nanos(settings.maxAgeMs),
    max_bytes: settings.maxBytes,
    max_msgs: settings.maxEvents,
    duplicate_window: nanos(settings.duplicateWindowMs),
    discard: DiscardPolicy.Old,
    allow_direct: true,
  };
}

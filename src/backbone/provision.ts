import { nanos } from "@nats-io/transport-node";
import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import type { StreamSettings } from "@streamgate/protocol/stream";
import { streamSubjects } from "./subjects.js";
import { isBackboneUnavailable, StreamNotFoundError } from "./errors.js";

export interface StreamToProvision {
  name: string;
  description: string;
  settings: StreamSettings;
}

export interface ProvisionResult {
  stream: string;
  action: "created" | "updated" | "unchanged";
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

/** Creates or updates one JetStream stream per declared stream. */
export async function applyStreams(
  jsm: JetStreamManager,
  streams: readonly StreamToProvision[],
): Promise<ProvisionResult[]> {
  const results: ProvisionResult[] = [];
  for (const stream of streams) results.push(await applyStream(jsm, stream));
  return results;
}

async function applyStream(jsm: JetStreamManager, stream: StreamToProvision): Promise<ProvisionResult> {
  const wanted = streamConfig(stream);
  const existing = await jsm.streams.info(stream.name).catch((err: unknown) => {
    if (err instanceof StreamNotFoundError) return undefined;
    throw err;
  });
  if (!existing) {
    await jsm.streams.add(wanted);
    return { stream: stream.name, action: "created" };
  }
  const current = existing.config;
  if (current.storage !== wanted.storage) {
    throw new ProvisionRefusedError(
      stream.name,
      `storage is ${current.storage} in JetStream but ${wanted.storage} in the schema, and JetStream cannot change storage in place`,
    );
  }
  if (current.retention !== wanted.retention) {
    throw new ProvisionRefusedError(stream.name, `it exists with ${current.retention} retention, not limits`);
  }
  const changed = (Object.keys(wanted) as (keyof StreamConfig)[]).filter(
    (field) => JSON.stringify(current[field]) !== JSON.stringify(wanted[field]),
  );
  if (changed.length === 0) return { stream: stream.name, action: "unchanged" };
  try {
    await jsm.streams.update(stream.name, wanted);
  } catch (err) {
    if (isBackboneUnavailable(err)) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new ProvisionRefusedError(stream.name, `JetStream refused to change ${changed.join(", ")}: ${reason}`);
  }
  return { stream: stream.name, action: "updated" };
}

function streamConfig({ name, description, settings }: StreamToProvision): Partial<StreamConfig> & { name: string } {
  return {
    name,
    description,
    subjects: [streamSubjects(name)],
    retention: RetentionPolicy.Limits,
    storage: settings.storage === "memory" ? StorageType.Memory : StorageType.File,
    num_replicas: settings.replicas,
    max_age: nanos(settings.maxAgeMs),
    max_bytes: settings.maxBytes,
    max_msgs: settings.maxEvents,
    duplicate_window: nanos(settings.duplicateWindowMs),
    discard: DiscardPolicy.Old,
    allow_direct: true,
  };
}

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";

/**
 * Gateway settings: defaults, overridden by the JSON file named in STREAMGATE_CONFIG,
 * overridden by the environment variables of PROTOCOL.md section 7.
 */
const configSchema = z
  .object({
    port: z.coerce.number().int().min(0).max(65_535).default(8080),
    host: z.string().min(1).default("127.0.0.1"),
    /** Unset: run an embedded nats-server with its data under dataDir. */
    natsUrl: z.string().min(1).optional(),
    dataDir: z.string().min(1).default("./.streamgate"),
    /** The descriptor set `npm run codegen` writes; read at start, so new types need no rebuild. */
    descriptorSet: z.string().min(1).optional(),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    /** Larger request bodies are refused with 413. */
    maxBodyBytes: z.coerce.number().int().min(1024).default(1024 * 1024),
    /** An idle SSE response gets a comment this often, so proxies keep it open. */
    sseKeepAliveMs: z.coerce.number().int().min(10).default(15_000),
    /** The reconnect delay SSE tells EventSource clients. */
    sseRetryMs: z.coerce.number().int().min(0).default(2_000),
    /** Origins allowed to read from browsers: "*" or a comma-separated list. */
    corsOrigins: z.string().default("*"),
    /** WebSocket frames larger than this close the connection with 1009. */
    wsMaxFrameBytes: z.coerce.number().int().min(1024).default(1024 * 1024),
    wsMaxSubscriptions: z.coerce.number().int().min(1).default(100),
    /** Client frames per second per connection (bursts of twice that); more get rate_limited. */
    wsFramesPerSecond: z.coerce.number().int().min(1).default(100),
    /** Unsent bytes a connection may hold before its subscriptions stop pulling. */
    wsHighWaterBytes: z.coerce.number().int().min(1024).default(1024 * 1024),
    wsSlowConsumerTimeoutMs: z.coerce.number().int().min(100).default(60_000),
    wsPingIntervalMs: z.coerce.number().int().min(50).default(15_000),
    /** CIDRs webhooks may reach although they are not public (comma-separated). */
    webhookAllowedNetworks: z.string().default(""),
    /** Replicas of the gateway's own state in JetStream; unset: see stateReplicasFor. */
    stateReplicas: z.coerce.number().int().min(1).max(5).optional(),
  })
  .strict();

export type GatewayConfig = z.infer<typeof configSchema>;

export class ConfigError extends Error {
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const file = env.STREAMGATE_CONFIG ? readConfigFile(env.STREAMGATE_CONFIG) : {};
  const fromEnv = Object.fromEntries(
    Object.entries({
      port: env.PORT,
      host: env.HOST,
      natsUrl: env.NATS_URL,
      dataDir: env.STREAMGATE_DATA_DIR,
      descriptorSet: env.STREAMGATE_DESCRIPTOR_SET,
      logLevel: env.STREAMGATE_LOG_LEVEL,
      maxBodyBytes: env.STREAMGATE_MAX_BODY_BYTES,
      sseKeepAliveMs: env.STREAMGATE_SSE_KEEPALIVE_MS,
      sseRetryMs: env.STREAMGATE_SSE_RETRY_MS,
      corsOrigins: env.STREAMGATE_CORS_ORIGINS,
      wsMaxFrameBytes: env.STREAMGATE_WS_MAX_FRAME_BYTES,
      wsMaxSubscriptions: env.STREAMGATE_WS_MAX_SUBSCRIPTIONS,
      wsFramesPerSecond: env.STREAMGATE_WS_FRAMES_PER_SECOND,
      wsHighWaterBytes: env.STREAMGATE_WS_HIGH_WATER_BYTES,
      wsSlowConsumerTimeoutMs: env.STREAMGATE_WS_SLOW_CONSUMER_TIMEOUT_MS,
      wsPingIntervalMs: env.STREAMGATE_WS_PING_INTERVAL_MS,
      webhookAllowedNetworks: env.STREAMGATE_WEBHOOK_ALLOWED_NETWORKS,
      stateReplicas: env.STREAMGATE_STATE_REPLICAS,
    }).filter(([, value]) => value !== undefined && value !== ""),
  );
  const parsed = configSchema.safeParse({ ...file, ...fromEnv });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  return parsed.data;
}

/**
 * The replicas the gateway's state takes: as configured, else as many as the most replicated
 * declared stream, so the state survives whatever the events survive.
 */
export function stateReplicasFor(config: Pick<GatewayConfig, "stateReplicas">, streams: Iterable<{ settings: { replicas: number } }>): number {
  return config.stateReplicas ?? Math.max(1, ...Array.from(streams, (stream) => stream.settings.replicas));
}

function readConfigFile(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(resolve(path), "utf8"));
  } catch (err) {
    throw new ConfigError(`STREAMGATE_CONFIG=${path}: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`STREAMGATE_CONFIG=${path}: must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

import { existsSync, readFileSync } from "node:fs";
import { closest, distance } from "fastest-levenshtein";
import { resolve } from "node:path";
import { z } from "zod";
import { grantSchema } from "../auth/grants-claim.js";

const grantsSchema = z.array(grantSchema);

/** PROTOCOL.md section 9; the names are issue 10's. */
const authSchema = z
  .object({
    /** Unset: required when any issuer or API key is configured, else off on loopback only (see authMode). */
    mode: z.enum(["required", "none"]).optional(),
    audience: z.string().min(1).default("streamgate"),
    grantsClaim: z.string().min(1).default("streamgate"),
    clockSkewSeconds: z.coerce.number().int().min(0).max(600).default(30),
    allowQueryToken: z.boolean().default(false),
    issuers: z
      .array(
        z
          .object({
            issuer: z.string().min(1),
            algorithms: z.array(z.string()).min(1),
            secret: z.string().min(1).optional(),
            jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).optional(),
            jwksFile: z.string().min(1).optional(),
            jwksUrl: z.string().url().optional(),
          })
          .strict(),
      )
      .default([]),
    apiKeys: z
      .array(z.object({ name: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/, "64 hex digits"), grants: grantsSchema }).strict())
      .default([]),
  })
  .strict();
export type AuthConfig = z.infer<typeof authSchema>;

/** PROTOCOL.md section 9.5; the names are issue 10's. Per credential means per client address with auth off. */
const limitsSchema = z
  .object({
    connectionsPerCredential: z.coerce.number().int().min(1).default(100),
    connectionsTotal: z.coerce.number().int().min(1).default(50_000),
    publishesPerSecond: z.coerce.number().int().min(1).default(1000),
    longPollsPerCredential: z.coerce.number().int().min(1).default(10),
    /** Bytes all connections together may hold written but unsent before the fullest ones wait (UnsentBudget). */
    unsentBytesTotal: z.coerce.number().int().min(1024 * 1024).default(128 * 1024 * 1024),
  })
  .strict();
const LIMITS_FROM_ENV = {
  connectionsPerCredential: "STREAMGATE_LIMIT_CONNECTIONS_PER_CREDENTIAL",
  connectionsTotal: "STREAMGATE_LIMIT_CONNECTIONS_TOTAL",
  publishesPerSecond: "STREAMGATE_LIMIT_PUBLISHES_PER_SECOND",
  longPollsPerCredential: "STREAMGATE_LIMIT_LONG_POLLS_PER_CREDENTIAL",
  unsentBytesTotal: "STREAMGATE_LIMIT_UNSENT_BYTES_TOTAL",
} as const satisfies Record<keyof z.infer<typeof limitsSchema>, string>;

const REPLICAS_RANGE = "must be a whole number of replicas from 1 to 5";

const origins = z.union([z.array(z.string().min(1)), z.string().transform((list) => list.split(",").map((o) => o.trim()).filter(Boolean))]);

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
    /** The embedded nats-server's port; unset: a free one. */
    natsPort: z.coerce.number().int().min(1).max(65_535).optional(),
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
    /** Unsent bytes an SSE response may hold before its read stops pulling (less while the gateway is over its budget). */
    sseHighWaterBytes: z.coerce.number().int().min(1024).default(1024 * 1024),
    /** Origins allowed to read from browsers and open WebSockets: exact origins, or "*" with auth off. */
    allowedOrigins: origins.optional(),
    /** The old name of allowedOrigins, still read (with a warning in the log). */
    corsOrigins: origins.optional(),
    /** Host names the gateway answers to besides localhost, 127.0.0.1 and [::1] while on loopback. */
    hostnames: z.array(z.string().min(1)).default([]),
    auth: authSchema.default({ audience: "streamgate", grantsClaim: "streamgate", clockSkewSeconds: 30, allowQueryToken: false, issuers: [], apiKeys: [] }),
    // Parsed, so each limit left out takes its own default.
    limits: limitsSchema.prefault({}),
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
    /**
     * JetStream replicas of every stream whose schema does not pin them, and of the gateway's
     * own state; unset: see streamReplicas and stateReplicas (src/backbone/replicas.ts).
     */
    replicas: z.coerce.number({ error: REPLICAS_RANGE }).int(REPLICAS_RANGE).min(1, REPLICAS_RANGE).max(5, REPLICAS_RANGE).optional(),
  })
  .strict();

export type GatewayConfig = z.infer<typeof configSchema>;

export class ConfigError extends Error {
}

/** The environment variables of PROTOCOL.md section 7, by the setting each overrides. */
const ENVIRONMENT = {
  port: "PORT",
  host: "HOST",
  natsUrl: "NATS_URL",
  natsPort: "STREAMGATE_NATS_PORT",
  dataDir: "STREAMGATE_DATA_DIR",
  descriptorSet: "STREAMGATE_DESCRIPTOR_SET",
  logLevel: "STREAMGATE_LOG_LEVEL",
  maxBodyBytes: "STREAMGATE_MAX_BODY_BYTES",
  sseKeepAliveMs: "STREAMGATE_SSE_KEEPALIVE_MS",
  sseRetryMs: "STREAMGATE_SSE_RETRY_MS",
  sseHighWaterBytes: "STREAMGATE_SSE_HIGH_WATER_BYTES",
  corsOrigins: "STREAMGATE_CORS_ORIGINS",
  allowedOrigins: "STREAMGATE_ALLOWED_ORIGINS",
  wsMaxFrameBytes: "STREAMGATE_WS_MAX_FRAME_BYTES",
  wsMaxSubscriptions: "STREAMGATE_WS_MAX_SUBSCRIPTIONS",
  wsFramesPerSecond: "STREAMGATE_WS_FRAMES_PER_SECOND",
  wsHighWaterBytes: "STREAMGATE_WS_HIGH_WATER_BYTES",
  wsSlowConsumerTimeoutMs: "STREAMGATE_WS_SLOW_CONSUMER_TIMEOUT_MS",
  wsPingIntervalMs: "STREAMGATE_WS_PING_INTERVAL_MS",
  webhookAllowedNetworks: "STREAMGATE_WEBHOOK_ALLOWED_NETWORKS",
  replicas: "STREAMGATE_REPLICAS",
} as const satisfies Partial<Record<keyof z.infer<typeof configSchema>, string>>;

/**
 * Every STREAMGATE_ variable we read. The last three are not the gateway's: the CLI's client
 * commands and the README's examples read them, so a shell that has them may still serve.
 */
const KNOWN_VARIABLES = new Set<string>([
  ...Object.values(ENVIRONMENT),
  ...Object.values(LIMITS_FROM_ENV),
  "STREAMGATE_CONFIG",
  "STREAMGATE_AUTH",
  "STREAMGATE_URL",
  "STREAMGATE_TOKEN",
  "STREAMGATE_API_KEY",
]);

/** The file `streamgate init` writes, read when STREAMGATE_CONFIG names none. */
export const DEFAULT_CONFIG_FILE = "streamgate.config.json";

export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  for (const name of Object.keys(env)) {
    if (name.startsWith("STREAMGATE_") && !KNOWN_VARIABLES.has(name)) {
      throw new ConfigError(`unknown environment variable ${name}${didYouMean(name, KNOWN_VARIABLES)}`);
    }
  }
  const configFile = env.STREAMGATE_CONFIG || (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const file = configFile ? readConfigFile(configFile) : {};
  const fromEnv = Object.fromEntries(
    Object.entries(ENVIRONMENT)
      .map(([setting, name]) => [setting, env[name]])
      .filter(([, value]) => value !== undefined && value !== ""),
  );
  const merged: Record<string, unknown> = { ...file, ...fromEnv };
  const limitsFromEnv = Object.entries(LIMITS_FROM_ENV).filter(([, name]) => env[name] !== undefined && env[name] !== "");
  if (limitsFromEnv.length > 0) merged.limits = { ...(file.limits as object | undefined), ...Object.fromEntries(limitsFromEnv.map(([key, name]) => [key, env[name]])) };
  if (env.STREAMGATE_AUTH) merged.auth = { ...(file.auth as object | undefined), mode: env.STREAMGATE_AUTH };
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}${suggestKeys(i)}`);
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  return parsed.data;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

/**
 * Whether credentials are required (PROTOCOL.md section 9): as set; else whenever issuers or
 * API keys are configured; else off, but only while listening on loopback. Anywhere else a
 * gateway without auth refuses to start unless "none" was chosen on purpose.
 */
export function authMode(config: Pick<GatewayConfig, "auth" | "host">): "required" | "none" {
  const { auth } = config;
  const mode = auth.mode ?? (auth.issuers.length + auth.apiKeys.length > 0 ? "required" : isLoopback(config.host) ? "none" : undefined);
  if (!mode) {
    throw new ConfigError(
      `HOST=${config.host} is not a loopback address and no auth is configured: anyone who can reach the port could publish and ` +
        `read everything. Configure "auth" (issuers or apiKeys) in the file named by STREAMGATE_CONFIG, or set STREAMGATE_AUTH=none ` +
        `(auth.mode "none") to run without it on purpose.`,
    );
  }
  if (mode === "required" && auth.issuers.length + auth.apiKeys.length === 0) {
    throw new ConfigError('auth.mode is "required" but no issuer or API key is configured: no credential could ever be accepted');
  }
  return mode;
}

/** allowedOrigins, or the deprecated corsOrigins; "*" (any origin) only with auth off. */
export function allowedOriginsOf(config: Pick<GatewayConfig, "allowedOrigins" | "corsOrigins">, mode: "required" | "none"): string[] {
  const origins = config.allowedOrigins ?? config.corsOrigins ?? (mode === "none" ? ["*"] : []);
  if (mode === "required" && origins.includes("*")) {
    throw new ConfigError('allowedOrigins "*" is only allowed with auth off: list the exact origins of your web pages');
  }
  return origins;
}

/** The settings an object of the configuration may have, by its path: for did-you-mean. */
const KEYS_AT: Record<string, readonly string[]> = {
  "": Object.keys(configSchema.shape),
  auth: Object.keys(authSchema.shape),
  limits: Object.keys(limitsSchema.shape),
};

function suggestKeys(issue: z.core.$ZodIssue): string {
  const known = KEYS_AT[issue.path.join(".")];
  if (issue.code !== "unrecognized_keys" || !known) return "";
  return issue.keys.map((key) => didYouMean(key, known)).join("");
}

function didYouMean(name: string, known: Iterable<string>): string {
  const candidates = [...known];
  const best = closest(name, candidates);
  // Only a near miss is a typo; otherwise list what there is.
  return best && similar(name, best) ? ` (did you mean ${best}?)` : ` (known: ${candidates.join(", ")})`;
}

const similar = (a: string, b: string) => distance(a.toLowerCase(), b.toLowerCase()) <= Math.max(2, Math.floor(b.length / 4));

function readConfigFile(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(resolve(path), "utf8"));
  } catch (err) {
    throw new ConfigError(`configuration ${path}: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`configuration ${path}: must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

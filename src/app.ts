import { unwatchFile, watchFile } from "node:fs";
import { join, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import { connectBackbone, type Backbone } from "./backbone/connection.js";
import { findNatsServer, startNatsServer, type RunningNatsServer } from "./backbone/nats-server.js";
import { applyStreams } from "./backbone/provision.js";
import { allowedOriginsOf, authMode, isLoopback, type GatewayConfig } from "./config/config.js";
import { stateReplicas } from "./backbone/replicas.js";
import { Authenticator, credentialOf } from "./auth/authenticator.js";
import type { Query } from "@streamgate/protocol/read-spec";
import { NetworkPolicy } from "./net/network-policy.js";
import { fetchJsonThroughPolicy } from "./net/policy-fetch.js";
import { DEFAULT_DESCRIPTOR_SET, loadSchemas, type Schemas } from "./schema/registry.js";
import { startWebhooks } from "./webhooks/webhooks.js";
import { createGateway } from "./gateway/server.js";
import { Deliveries } from "./delivery/delivery.js";
import { Limits } from "./delivery/limits.js";
import { Shutdown } from "./delivery/shutdown.js";
import { Hub } from "./fanout/hub.js";
import { createLogger } from "./log.js";
import { Metrics } from "./metrics/metrics.js";
import { Publisher } from "./publishing/publisher.js";

export interface BackboneSession {
  backbone: Backbone;
  schemas: Schemas;
  /** Present when NATS_URL was unset and we started nats-server ourselves. */
  embedded?: RunningNatsServer;
  close(): Promise<void>;
}

/**
 * Connects to NATS_URL, or starts an embedded nats-server (installing Debian's package when
 * it can) with its data under dataDir; loads the schemas and provisions their streams.
 */
export async function openBackbone(config: GatewayConfig, log: (line: string) => void): Promise<BackboneSession> {
  let embedded: RunningNatsServer | undefined;
  let url = config.natsUrl;
  if (!url) {
    const binary = await findNatsServer({ install: true, log });
    embedded = await startNatsServer({ binary, storeDir: join(resolve(config.dataDir), "nats"), ...(config.natsPort && { port: config.natsPort }) });
    url = embedded.url;
    log(`embedded nats-server (pid ${embedded.pid}) at ${url}, data in ${embedded.storeDir}`);
  }
  try {
    const backbone = await connectBackbone(url);
    const schemas = await loadSchemas(config.descriptorSet ?? undefined);
    return {
      backbone,
      schemas,
      ...(embedded && { embedded }),
      async close() {
        await backbone.nc.drain().catch(() => undefined);
        await embedded?.stop();
      },
    };
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
}

/** How often the descriptor set is looked at for a change. */
const DESCRIPTOR_WATCH_MS = 2_000;

export interface RunningGateway {
  app: FastifyInstance;
  session: BackboneSession;
  /** Stops accepting, finishes what is in flight, then releases the backbone. */
  stop(): Promise<void>;
}

export async function runGateway(config: GatewayConfig): Promise<RunningGateway> {
  // Refused before anything starts: a gateway open to the network without auth never runs by accident.
  const mode = authMode(config);
  const allowedOrigins = allowedOriginsOf(config, mode);
  const log = createLogger(config.logLevel);
  if (config.corsOrigins && !config.allowedOrigins) log.warn("corsOrigins (STREAMGATE_CORS_ORIGINS) is deprecated: use allowedOrigins (STREAMGATE_ALLOWED_ORIGINS)");
  const policy = new NetworkPolicy(config.webhookAllowedNetworks);
  const authenticator = mode === "required" ? await Authenticator.create(config.auth, { fetchJwks: fetchJsonThroughPolicy(policy) }) : undefined;
  const session = await openBackbone(config, (line) => console.error(`[streamgate] ${line}`));
  try {
    const results = await applyStreams(session.backbone.jsm, [...session.schemas.streams.values()], config.replicas);
    const metrics = new Metrics();
    metrics.backbone.observe(session.backbone.nc);
    const webhooks = await startWebhooks(session.backbone, session.schemas, {
      policy,
      log,
      stateReplicas: stateReplicas(config.replicas, results.map((r) => r.replicas)),
      metrics,
    });
    const { backbone, schemas } = session;
    const limits = new Limits(config.limits);
    const hub = new Hub(backbone, schemas, (stream, err) => log.error({ err, stream }, "live feed failed"));
    metrics.delivery.observeReaders(() => hub.readerCounts());
    const app = createGateway({
      auth: {
        mode,
        credentialOf: (request) => credentialOf({ headers: request.headers, query: request.query as Query }, config.auth.allowQueryToken),
        authenticate: async (credential) => {
          if (!authenticator) throw new Error("credentials are authenticated only with auth on");
          return authenticator.authenticate(credential);
        },
      },
      browsers: { allowedOrigins, loopback: isLoopback(config.host), hostnames: config.hostnames },
      backbone,
      schemas,
      deliveries: new Deliveries(backbone, schemas, hub),
      publisher: new Publisher(backbone, schemas.registry, metrics, limits),
      metrics,
      shutdown: new Shutdown(),
      limits,
      webhooks: webhooks.service,
      stateStreams: webhooks.stateStreams,
      config,
      logger: log,
    });
    app.addHook("onClose", async () => hub.close());
    const descriptorSet = config.descriptorSet ?? DEFAULT_DESCRIPTOR_SET;
    const changed = () => log.warn({ descriptorSet: String(descriptorSet) }, "the descriptor set changed (codegen ran): restart the gateway to serve the new schemas");
    watchFile(descriptorSet, { persistent: false, interval: DESCRIPTOR_WATCH_MS }, changed);
    app.addHook("onClose", async () => unwatchFile(descriptorSet, changed));
    for (const r of results) app.log.info({ stream: r.stream, action: r.action, replicas: r.replicas }, "stream provisioned");
    await app.listen({ port: config.port, host: config.host });
    let stopping: Promise<void> | undefined;
    return {
      app,
      session,
      stop: () =>
        (stopping ??= (async () => {
          // Webhook workers stop taking events at once, finishing the attempts under way, while
          // HTTP clients are told to go elsewhere.
          await Promise.all([app.close(), webhooks.close()]);
          await session.close();
        })()),
    };
  } catch (err) {
    await session.close();
    throw err;
  }
}
